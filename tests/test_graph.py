"""GraphWidget, Python side: what it sends, the step-through, grouping, messages, export."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest
import traitlets
from helpers import lecture_expression

from micrograd_widgets import MLP, GraphWidget, Neuron, Value


def numbers(w: GraphWidget) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_units, n_edges = len(w.topology["units"]), len(w.topology["edges"])
    flat = np.frombuffer(w.numbers, dtype="<f8")
    assert flat.size == 2 * n_units + n_edges
    return flat[:n_units], flat[n_units : 2 * n_units], flat[2 * n_units :]


def by_name(w: GraphWidget) -> dict[str, int]:
    return {u["name"]: i for i, u in enumerate(w.topology["units"]) if u["kind"] == "value"}


def send(w: GraphWidget, content: dict) -> None:
    """Deliver a message as the view would (through BaseWidget's router)."""
    w._route_message(w, content, [])


def test_topology_has_every_value_with_its_op_and_edges():
    L = lecture_expression()
    w = GraphWidget(L)
    topo = w.topology
    names = by_name(w)
    assert set(names) == {"a", "b", "c", "d", "e", "f", "L"}
    assert topo["units"][names["e"]]["op"] == "*"
    assert topo["units"][names["a"]]["op"] == ""
    assert topo["root"] == names["L"]
    edges = {(topo["units"][s]["name"], topo["units"][d]["name"]): f for s, d, f in topo["edges"]}
    assert edges == {
        ("a", "e"): "b.data",
        ("b", "e"): "a.data",
        ("e", "d"): "1",
        ("c", "d"): "1",
        ("d", "L"): "f.data",
        ("f", "L"): "d.data",
    }
    assert topo["boxes"] == [] and topo["note"] == ""


def test_numbers_buffer_holds_data_grads_and_local_derivatives():
    L = lecture_expression()
    L.backward()
    w = GraphWidget(L)
    data, grad, local = numbers(w)
    names = by_name(w)
    values = {v.label: v for v in L.topological_order()}
    for name, i in names.items():
        assert data[i] == values[name].data and grad[i] == values[name].grad
    for e, (src, dst, _) in enumerate(w.topology["edges"]):
        parent = values[w.topology["units"][dst]["name"]]
        child = values[w.topology["units"][src]["name"]]
        assert local[e] == parent._local_grads[parent._prev.index(child)]


def test_steps_follow_backward_order_and_end_at_backward_grads():
    L = lecture_expression()
    reference = lecture_expression()
    reference.backward()
    expected = {v.label: v.grad for v in reference.topological_order()}

    w = GraphWidget(L)
    assert w.step_state["total"] == 3 and not w.step_state["seeded"]
    order = []
    while not w.finished:
        w.step()
        active = w.step_state["active"]
        order.append(w.topology["units"][active]["name"])
        assert w.step_state["children"], "a step must highlight the inputs it pushed grad into"
    assert order == [v.label for v in L.backward_order() if v._prev] == ["L", "d", "e"]
    assert {v.label: v.grad for v in L.topological_order()} == expected
    _, grad, _ = numbers(w)
    assert grad[by_name(w)["a"]] == expected["a"]  # the view got the final grads


def test_step_text_shows_the_chain_rule_arithmetic():
    a = Value(2.0, label="a")
    b = Value(3.0, label="b")
    out = a * b
    out.label = "out"
    w = GraphWidget(out)
    lines = w.step()
    assert lines == [
        "out.grad = 1.0  (seed: ∂out/∂out = 1)",
        "a.grad += b.data × out.grad = 3.0 × 1.0 = 3.0",
        "b.grad += a.data × out.grad = 2.0 × 1.0 = 2.0",
    ]
    assert w.step_state["lines"] == lines and w.finished
    assert "complete" in w.step()[0]  # stepping past the end changes nothing
    assert (a.grad, b.grad) == (3.0, 2.0)


def test_accumulating_step_says_so():
    a = Value(2.0, label="a")
    y = a * a
    y.label = "y"
    w = GraphWidget(y)
    lines = w.step()
    assert "a.grad += a.data × y.grad = 2.0 × 1.0 = 2.0" in lines
    assert (
        "a.grad += a.data × y.grad = 2.0 × 1.0 = 2.0  →  "
        "a.grad = 0 + 2.0 (from y) + 2.0 (from y) = 4.0"
    ) in lines  # a reused node: each += as it lands
    assert a.grad == 4.0
    w.reset_grads()
    y.backward()
    assert any("grads were not zero" in line for line in w.step())


@pytest.mark.parametrize(
    ("build", "formulas"),
    [
        (lambda a, b: a / b, ["1/b.data", "-out.data/b.data"]),
        (lambda a, b: a - b, ["1", "-1"]),
        (lambda a, b: (a**3).tanh(), None),
        (lambda a, b: (a.exp() + b.sigmoid()).log().relu() + (-a), None),
    ],
)
def test_formulas_match_local_derivatives(build, formulas):
    a = Value(0.7, label="a")
    b = Value(1.3, label="b")
    out = build(a, b)
    out.label = "out"
    w = GraphWidget(out)
    if formulas is not None:
        assert [f for *_, f in w.topology["edges"]] == formulas
    w.run()
    reference_a, reference_b = Value(0.7, label="a"), Value(1.3, label="b")
    ref = build(reference_a, reference_b)
    ref.backward()
    assert a.grad == pytest.approx(reference_a.grad) and b.grad == pytest.approx(reference_b.grad)
    assert all("∂" not in f for *_, f in w.topology["edges"])  # every op has a formula


def test_reset_zeroes_every_grad_and_run_redoes_backward():
    L = lecture_expression()
    w = GraphWidget(L)
    w.run()
    assert w.finished and any(v.grad for v in L.topological_order())
    w.reset_grads()
    assert all(v.grad == 0.0 for v in L.topological_order())
    assert not w.finished and w.step_state["done"] == 0
    _, grad, _ = numbers(w)
    assert not grad.any()
    w.run()
    assert L.grad == 1.0 and w.finished


def test_refresh_sends_numbers_but_keeps_the_layout():
    L = lecture_expression()
    w = GraphWidget(L)
    version = w.topology["version"]
    sent = []
    w.observe(lambda change: sent.append(change["name"]), names=["topology", "numbers"])
    a = next(v for v in L.topological_order() if v.label == "a")
    a.data = 5.0
    L.backward()
    w.refresh()
    assert sent == ["numbers"]
    data, grad, _ = numbers(w)
    assert data[by_name(w)["a"]] == 5.0 and grad[by_name(w)["a"]] == a.grad
    assert w.topology["version"] == version
    w.root = a * 2.0  # a new root: new topology
    assert w.topology["version"] == version + 1 and w.topology["total"] == 3


def test_view_messages_drive_the_same_methods():
    L = lecture_expression()
    w = GraphWidget(L)
    send(w, {"type": "step"})
    assert w.step_state["done"] == 1
    send(w, {"type": "run"})
    assert w.finished
    send(w, {"type": "select", "unit": by_name(w)["e"]})
    assert w.selected_value.label == "e"
    send(w, {"type": "reset"})
    assert L.grad == 0.0
    assert w.error == ""
    send(w, {"type": "select", "unit": 99})
    assert "expected a node index" in w.error
    send(w, {"type": "nonsense"})
    assert "unknown message" in w.error


def test_bad_arguments_are_explained():
    L = lecture_expression()
    with pytest.raises(TypeError, match="expects a Value"):
        GraphWidget(3.0)
    with pytest.raises(ValueError, match="rankdir"):
        GraphWidget(L, rankdir="diagonal")
    with pytest.raises(ValueError, match="max_nodes"):
        GraphWidget(L, max_nodes=2)
    with pytest.raises(TypeError, match="model must be a Module"):
        GraphWidget(L, model="mlp")
    with pytest.raises(KeyError, match="no module scope"):
        GraphWidget(L).expand("layers.9")


@pytest.mark.parametrize("n", [0, -3, 1.5, "2", True, None])
def test_step_needs_a_whole_number_of_steps_and_does_nothing_otherwise(n):
    L = lecture_expression()
    w = GraphWidget(L)
    state = dict(w.step_state)
    with pytest.raises(
        ValueError, match=r"step\(n\): n is how many chain-rule steps.*whole number >= 1"
    ):
        w.step(n)
    assert w.step_state == state and L.grad == 0.0  # not "Backward pass complete"
    assert w.step(1)[0].startswith("L.grad = 1.0")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"height": -5},
            "height is the drawing's maximum height in pixels: a whole number from 100",
        ),
        ({"height": 0}, "height"),
        ({"height": 10**6}, "height"),
        ({"height": 300.5}, "height"),
        ({"height": "400px"}, "height"),
        ({"height": True}, "height"),
        ({"font_size": 0}, "font_size is the text size in pixels: a whole number from 6 to 48"),
        ({"font_size": 12.5}, "font_size"),
        ({"max_nodes": 9}, "max_nodes is how many nodes to draw: a whole number >= 10"),
        ({"max_nodes": 300.0}, "max_nodes"),
        ({"max_nodes": None}, "max_nodes"),
    ],
)
def test_bad_sizes_are_refused_with_what_was_expected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GraphWidget(lecture_expression(), **kwargs)


def test_sizes_set_later_are_checked_too():
    w = GraphWidget(lecture_expression(), height=300)
    for name, bad in (("height", -5), ("font_size", 100), ("max_nodes", 0), ("selected", 99)):
        before = getattr(w, name)
        with pytest.raises(ValueError, match=name):
            setattr(w, name, bad)
        assert getattr(w, name) == before
    w.height, w.font_size, w.max_nodes = 200, 16, 50
    assert (w.height, w.font_size, w.max_nodes) == (200, 16, 50)
    w.selected = 2
    assert w.selected_value is not None
    with pytest.raises(traitlets.TraitError, match="rankdir"):
        w.rankdir = "diagonal"


def test_misspelt_or_internal_options_are_refused_not_ignored():
    L = lecture_expression()
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*heigth"):
        GraphWidget(L, heigth=300)
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*topology"):
        GraphWidget(L, topology={})
    w = GraphWidget(L, layout={"width": "50%"})  # ipywidgets' own options still work
    assert w.layout.width == "50%"


def test_bad_scopes_and_paths_say_what_was_expected(tmp_path):
    m = MLP(2, [3, 1], seed=0)
    w = GraphWidget(m([1.0, 2.0]), model=m)
    for method in (w.expand, w.collapse):
        with pytest.raises(TypeError, match=r"scope is a module's dotted name.*got int: 0"):
            method(0)
    with pytest.raises(IsADirectoryError, match="is a folder"):
        w.save_svg(tmp_path)
    with pytest.raises(TypeError, match="path must be a file name"):
        w.save_svg(None)
    with pytest.raises(TypeError, match="path must be a file name"):
        w.save_svg("")


def test_unnamed_nodes_are_named_by_op_and_count_everywhere():
    h = Value(0.5, label="h")
    for _ in range(40):
        h = (h * 0.9999).tanh() + 0.001
    w = GraphWidget(h, max_nodes=400)
    names = [u["name"] for u in w.topology["units"]]
    assert not any(name.startswith("#") for name in names)
    assert {"tanh·1", "tanh·40", "*·40", "+·40", "leaf·80", "h"} <= set(names)
    assert len(set(names)) == len(names) == 201  # one name per node
    # the root is the 40th "+": the step lines and the text repr say so too
    assert names[w.topology["root"]] == "+·40"
    first = w.step()
    assert first[0] == "+·40.grad = 1.0  (seed: ∂+·40/∂+·40 = 1)"
    assert first[1].startswith("tanh·40.grad += 1 × +·40.grad = ")
    assert w.step_state["next"] == "tanh·40"
    assert w.step()[0].startswith("*·40.grad += (1 - tanh·40.data²) × tanh·40.grad = ")
    # each edge's derivative text names the nodes the same way
    assert any(text == "(1 - tanh·40.data²)" for *_, text in w.topology["edges"])


def test_inside_a_module_unnamed_nodes_are_counted_there():
    m = MLP(2, [2, 1], seed=0)
    x = [Value(1.0, label="x1"), Value(-2.0, label="x2")]
    out = m(x)
    w = GraphWidget(out, model=m)
    units = [u for u in w.topology["units"] if u["kind"] == "value"]
    names = {u["name"]: u for u in units}
    # the first neuron's activation, its sums and products: counted inside the neuron
    assert "layers.0.neurons.0.ReLU·1" in names
    assert "layers.0.neurons.1.ReLU·1" in names
    assert {"layers.0.neurons.0.*·1", "layers.0.neurons.0.*·2"} <= set(names)
    # drawn inside the neuron's box as just "ReLU·1"
    assert names["layers.0.neurons.0.ReLU·1"]["short"] == "ReLU·1"
    assert len(set(names)) == len(units)


def test_labels_are_sent_verbatim_for_the_view_to_show_as_text():
    x = Value(1.0, label="<img src=x onerror=alert(1)>")
    w = GraphWidget(x.tanh())
    assert w.topology["units"][0]["label"] == "<img src=x onerror=alert(1)>"


def test_one_neuron_is_grouped_in_its_box():
    n = Neuron(2, activation="tanh", seed=1)
    x = [Value(1.0, label="x1"), Value(-2.0, label="x2")]
    out = n(x)
    w = GraphWidget(out, model=n)
    topo = w.topology
    assert [b["title"] for b in topo["boxes"]] == ["Neuron(2, activation='tanh')"]
    inside = {u["name"] for u in topo["units"] if u["kind"] == "value" and u["box"] == 0}
    outside = {u["name"] for u in topo["units"] if u["box"] == -1}
    assert {"w.0", "w.1", "b"} <= inside
    assert outside == {"x1", "x2"}  # shared inputs stay outside the module


def test_deep_chain_needs_no_recursion():
    y = Value(0.5, label="x")
    for _ in range(3000):
        y = y * 1.0001
    w = GraphWidget(y, max_nodes=20_000)
    w.run()
    assert w.finished and y.grad == 1.0


def test_mlp_graph_starts_folded_within_max_nodes_and_opens_on_request():
    m = MLP(2, [16, 16, 1], seed=0)
    out = m([0.5, -1.0])
    w = GraphWidget(out, model=m, max_nodes=300)
    topo = w.topology
    drawn = sum(2 if u["kind"] == "value" and u["op"] else 1 for u in topo["units"])
    assert drawn + len(topo["boxes"]) <= 300
    folded = [u for u in topo["units"] if u["kind"] == "group"]
    assert folded and "folded" in topo["note"]
    assert sum(u["count"] for u in folded) + topo["shown"] == topo["total"]
    # inside a neuron's box, parameters read as w.0 / b (their full name stays in "name")
    shorts = {u["short"] for u in topo["units"] if u["kind"] == "value" and u["box"] >= 0}
    assert "b" in shorts
    name, scope = folded[0]["name"], folded[0]["scope"]
    send(w, {"type": "toggle", "scope": scope})
    now_folded = [u for u in w.topology["units"] if u["kind"] == "group"]
    assert len(now_folded) == len(folded) - 1 + len(w._content.graph.scopes[scope].children)
    assert name in [b["name"] for b in w.topology["boxes"]]
    w.collapse(name)
    assert name not in [b["name"] for b in w.topology["boxes"]]


def test_full_batch_loss_graph_is_summarised_before_sending():
    rng = random.Random(0)
    m = MLP(2, [16, 16, 1], seed=0)
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(64)]
    y = [rng.choice([-1.0, 1.0]) for _ in X]
    losses = [(1 + -yi * m(xi)).relu() for xi, yi in zip(X, y)]
    loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in m.parameters())
    start = time.perf_counter()
    w = GraphWidget(loss, model=m)
    elapsed = time.perf_counter() - start
    topo = w.topology
    assert topo["total"] > 40_000
    assert len(topo["units"]) <= 300
    assert "not drawn" in topo["note"] and "max_nodes" in topo["note"]
    assert any(u["kind"] == "more" for u in topo["units"])
    assert len(w.numbers) < 30_000  # a few KB, not the whole graph
    assert elapsed < 5, f"summarising took {elapsed:.1f} s"
    w.run()  # the step-through still covers the whole graph
    assert w.finished and loss.grad == 1.0


def test_save_svg_writes_the_views_reply(tmp_path, capsys):
    w = GraphWidget(lecture_expression())
    sent = []
    w.send = lambda content, buffers=None: sent.append(content)  # no front-end in this test
    target = tmp_path / "graph.svg"
    export = w.save_svg(target)
    assert export.path == target and not export.written
    assert "written when the view replies" in repr(export)  # what the cell shows
    assert capsys.readouterr().out == ""  # it reports by its return value, not by print
    assert sent == [{"type": "export_svg", "request": 0}]
    assert not target.exists()
    svg = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><text>a</text></svg>'
    send(w, {"type": "svg", "request": 0, "svg": svg})
    assert target.read_text() == svg and w.last_saved_svg == target
    assert export.written and repr(export).endswith(": written)")
    target.unlink()
    send(w, {"type": "svg", "request": 0, "svg": svg})  # a second view answering: ignored
    assert not target.exists()
    w.save_svg(tmp_path / "bad.svg")
    send(w, {"type": "svg", "request": 1, "svg": "<script>alert(1)</script>"})
    assert "did not send an SVG" in w.error and not (tmp_path / "bad.svg").exists()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        w.save_svg(tmp_path / "missing" / "x.svg")
