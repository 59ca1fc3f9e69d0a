"""_widget: what every widget shares (assets, the message router, the error banner's rule), and
how the widget modules stand to each other."""

import ast
from pathlib import Path

import pytest

from micrograd_widgets import (
    MLP,
    DecisionBoundary,
    GradientHeatmap,
    GraphWidget,
    Trainer,
    Value,
    _widget,
    datasets,
)

PACKAGE = Path(_widget.__file__).parent
WIDGET_MODULES = {"graph", "boundary", "heatmap"}


def widgets():
    trainer = Trainer(MLP(2, [3, 1], seed=0), datasets.moons(8, seed=0))
    return [
        GraphWidget(Value(2.0, label="a") * Value(3.0, label="b")),
        DecisionBoundary(trainer, resolution=5),
        GradientHeatmap(trainer),
    ]


@pytest.mark.parametrize("index", range(3))
def test_a_failing_message_shows_in_the_banner_until_one_succeeds(index):
    widget = widgets()[index]
    route = widget._route_message
    route(widget, {"type": "nonsense"}, [])
    assert widget.error.startswith("unknown message from the view")
    route(widget, "not even a dict", [])
    assert widget.error.startswith("unknown message from the view")
    good, bad = [
        ({"type": "step"}, {"type": "select", "unit": 99}),  # GraphWidget
        ({"type": "pause"}, {"type": "set_lr", "value": "fast"}),  # DecisionBoundary
        ({"type": "set_mode", "mode": "weights"}, {"type": "set_mode"}),  # GradientHeatmap
    ][index]
    route(widget, good, [])
    assert widget.error == ""  # the action worked: the older failure no longer applies
    route(widget, bad, [])
    assert widget.error.startswith("ValueError: ")
    route(widget, {"type": "unknown"}, [])
    assert "unknown message" in widget.error
    route(widget, good, [])
    assert widget.error == ""


def test_handlers_do_not_clear_the_banner_themselves():
    boundary = widgets()[1]
    boundary.error = "ValueError: an earlier failure"
    boundary._on_set_lr({"type": "set_lr", "value": 0.1}, [])  # called directly, not routed
    assert boundary.trainer.lr == 0.1
    assert boundary.error == "ValueError: an earlier failure"


def test_a_missing_bundle_explains_itself_in_the_cell(monkeypatch, tmp_path):
    monkeypatch.setattr(_widget, "STATIC", tmp_path)
    assert _widget.asset("graph.css") == ""
    module = _widget.asset("graph.js")
    assert "front-end bundle graph.js is missing" in module and "npm run build" in module
    (tmp_path / "graph.js").write_text("export default {}")
    assert _widget.asset("graph.js") == tmp_path / "graph.js"


def imported_modules(path: Path) -> set[str]:
    """The package modules ``path`` imports (``from .x import`` / ``from . import x``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                names.add(node.module.split(".")[0])
            else:
                names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "micrograd_widgets."
        ):
            names.add(node.module.split(".")[1])
    return names


def test_no_widget_module_imports_another():
    for name in sorted(WIDGET_MODULES):
        others = imported_modules(PACKAGE / f"{name}.py") & (WIDGET_MODULES - {name})
        assert not others, f"{name}.py imports the widget module(s) {sorted(others)}"


def test_imports_point_one_way_engine_to_widgets():
    """engine <- nn/losses <- train <- widgets: no module imports one further down the line."""
    layers = [
        {"engine"},
        {"nn", "losses", "datasets", "stepper", "_throttle", "_picture_scale"},
        {"_graph_picture"},  # the static pictures sit below every widget: they read traits
        {"_pictures"},
        {"train", "_graph_summary", "_widget"},
        {"viz", "_trainer_widget", "graph", "export", "_playground_config"},
        {"_boundary_frames"},  # DecisionBoundary's frames: downsamples curves as _trainer_widget
        {"boundary", "heatmap"},
        {"playground"},  # composes the widgets above: the one module allowed to import them
    ]
    layer_of = {name: i for i, names in enumerate(layers) for name in names}
    widget_layers = {"_widget", "_trainer_widget", *WIDGET_MODULES}
    for path in PACKAGE.glob("*.py"):
        used = imported_modules(path)
        if path.stem not in layer_of:  # a module this test does not place: keep it off the widgets
            assert not used & widget_layers, f"{path.name} imports {sorted(used & widget_layers)}"
            continue
        for name in used & set(layer_of):
            assert layer_of[name] < layer_of[path.stem], f"{path.name} imports {name}"


def test_no_class_is_over_300_lines():
    """A room a newcomer can read: every class, docstrings included, fits in ~300 lines (issue 9);
    a class that grows past it splits its logic into a part it is composed of."""
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 300:
                too_long.append(f"{path.name}:{node.name} {node.end_lineno - node.lineno + 1}")
    assert not too_long, f"classes over 300 lines: {too_long}"


@pytest.mark.parametrize("index", range(3))
def test_the_text_repr_says_it_is_a_live_widget_and_how_to_keep_it(index):
    """text/plain is what GitHub, or JupyterLab without saved widget state, shows instead."""
    widget = widgets()[index]
    data, _metadata = widget._repr_mimebundle_()
    text = data["text/plain"]
    assert text.startswith(type(widget).__name__)
    assert "live widget: run the cell to see it" in text
    assert "Settings → Save Widget State Automatically" in text
    assert "application/vnd.jupyter.widget-view+json" in data  # the view itself is unchanged


def test_the_graph_widgets_text_repr_names_its_output():
    data, _ = widgets()[0]._repr_mimebundle_()
    assert data["text/plain"].startswith("GraphWidget of *·1, 3 nodes (live widget")
