"""GraphWidget in a real browser: drawing, step-through, refresh, XSS, timing, SVG export, themes."""

from __future__ import annotations

import base64
import json
import math
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
from lab_harness import SCREENSHOTS, graph_nodes, shown_number, wait_attr, wait_attr_change

pytestmark = pytest.mark.browser

WIDGET = ".mgw-graph"

SMALL_GRAPH = """
from micrograd_widgets import Value, GraphWidget
a = Value(2.0, label="a"); b = Value(-3.0, label="b"); c = Value(10.0, label="c")
e = a * b; e.label = "e"
d = e + c; d.label = "d"
f = Value(-2.0, label="f")
L = d * f; L.label = "L"
w = GraphWidget(L)
w
"""


def widget(nb, index: int = 0):
    return nb.page.locator(WIDGET).nth(index)


def close(shown: float, exact: float) -> bool:
    return math.isclose(shown, exact, rel_tol=1e-3, abs_tol=1e-9)


def reference_grads(nb) -> dict[str, float]:
    """Grads from a fresh backward() on a copy of the same expression (not the widget's graph)."""
    code = (
        "from micrograd_widgets import Value as _V\n"
        "_a=_V(2.0,label='a');_b=_V(-3.0,label='b');_c=_V(10.0,label='c');_e=_a*_b;_e.label='e'\n"
        "_d=_e+_c;_d.label='d';_f=_V(-2.0,label='f');_L=_d*_f;_L.label='L';_L.backward()\n"
        "import json as _j; print(_j.dumps({v.label: v.grad for v in _L.topological_order()}))"
    )
    return json.loads(nb.execute(code))


def test_graph_draws_labels_values_and_steps_to_backward(notebook):
    nb = notebook([SMALL_GRAPH])
    wait_attr(nb, WIDGET, "el.dataset.layoutCount === '1'")
    shown = graph_nodes(nb)
    assert set(shown) == {"a", "b", "c", "d", "e", "f", "L"}
    assert shown_number(shown["e"]["data"]) == -6.0
    assert shown_number(shown["L"]["data"]) == -8.0
    assert all(n["grad"] == "grad —" for n in shown.values())  # not computed yet (not 0)
    assert widget(nb).locator("g.mgw-gop").count() == 3  # *, +, *
    nb.screenshot("before-steps", widget(nb))

    step_button = widget(nb).get_by_role("button", name="Step", exact=True)
    actives = []
    while widget(nb).get_attribute("data-step-finished") != "true":
        done = widget(nb).get_attribute("data-step-done")
        step_button.click()
        wait_attr_change(nb, WIDGET, "data-step-done", done)
        now = graph_nodes(nb)
        active = [name for name, n in now.items() if n["active"]]
        assert len(active) == 1, now
        actives.append(active[0])
        children = {name for name, n in now.items() if n["child"]}
        assert children, f"step {len(actives)} highlighted no inputs"
        if len(actives) == 2:
            nb.screenshot("mid-step", widget(nb))
    assert actives == ["L", "d", "e"]  # true backward order of the op nodes
    lines = widget(nb).locator(".mgw-graph-lines").inner_text()
    assert "a.grad += b.data × e.grad = -3.0 × -2.0 = 6.0" in lines
    assert step_button.is_disabled()

    expected = reference_grads(nb)
    final = graph_nodes(nb)
    for name, grad in expected.items():
        assert close(shown_number(final[name]["grad"]), grad), (name, final[name], grad)
    nb.screenshot("after-steps", widget(nb))

    # Reset grads zeroes them all; Run then reaches the same grads at once.
    widget(nb).get_by_role("button", name="Reset grads").click()
    wait_attr(nb, WIDGET, "el.dataset.stepDone === '-1'")
    assert all(n["grad"] == "grad —" for n in graph_nodes(nb).values())
    assert (
        nb.eval("[v.grad for v in L.topological_order()]") == "[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]"
    )
    widget(nb).get_by_role("button", name="Run").click()
    wait_attr(nb, WIDGET, "el.dataset.stepFinished === 'true'")
    final = graph_nodes(nb)
    for name, grad in expected.items():
        assert close(shown_number(final[name]["grad"]), grad)
    assert nb.eval("w.finished") == "True"


def test_python_step_and_refresh_update_numbers_without_relayout(notebook):
    nb = notebook([SMALL_GRAPH])
    wait_attr(nb, WIDGET, "el.dataset.layoutCount === '1'")
    count = widget(nb).get_attribute("data-numbers-count")
    assert "seed" in nb.execute("print(w.step())")
    count = wait_attr_change(nb, WIDGET, "data-numbers-count", count)
    assert shown_number(graph_nodes(nb)["L"]["grad"]) == 1.0

    count = widget(nb).get_attribute("data-numbers-count")
    nb.execute(
        "a.data = 7.5\nfor v in L.topological_order(): v.grad = 0.0\nL.backward()\nw.refresh()"
    )
    wait_attr_change(nb, WIDGET, "data-numbers-count", count)
    shown = graph_nodes(nb)
    assert shown_number(shown["a"]["data"]) == 7.5
    assert close(shown_number(shown["a"]["grad"]), float(nb.eval("a.grad")))
    assert widget(nb).get_attribute("data-layout-count") == "1"  # same layout, new numbers

    # a new root re-lays out
    nb.execute("w.root = (a * 3.0).tanh()")
    wait_attr(nb, WIDGET, "el.dataset.layoutCount === '2'")
    names = set(graph_nodes(nb))
    assert names == {"a", "leaf·1", "*·1", "tanh·1"}  # unlabelled nodes: their op and count
    # the same names in the step lines and in the detail panel
    widget(nb).get_by_role("button", name="Step", exact=True).click()
    wait_attr(nb, WIDGET, "el.dataset.stepDone === '1'")
    lines = widget(nb).locator(".mgw-graph-lines").inner_text()
    assert "tanh·1.grad = 1.0  (seed: ∂tanh·1/∂tanh·1 = 1)" in lines
    assert "*·1.grad += (1 - tanh·1.data²) × tanh·1.grad" in lines
    widget(nb).locator("g.mgw-gvalue", has_text="*·1").click()
    details = widget(nb).locator(".mgw-graph-details")
    details.get_by_text("∂*·1/∂a = leaf·1.data").wait_for()
    assert details.locator(".mgw-graph-detail-title").inner_text() == "*·1"
    assert "used by" in details.inner_text() and "tanh·1" in details.inner_text()
    nb.screenshot("new-root", widget(nb))


def test_labels_render_as_text_and_no_dialog_fires(notebook):
    nb = notebook(
        [
            "from micrograd_widgets import Value, GraphWidget\n"
            "x = Value(1.5, label='<img src=x onerror=alert(1)>')\n"
            "y = x * Value(2.0, label='<b>bold</b>'); y.label = '\"quote\" & <script>alert(2)</script>'\n"
            "w = GraphWidget(y); w"
        ]
    )
    wait_attr(nb, WIDGET, "el.dataset.layoutCount === '1'")
    shown = graph_nodes(nb).values()
    names = {n["name"] for n in shown}
    titles = {n["title"] for n in shown}  # the full label, as the node's tooltip
    assert "<b>bold</b>" in names
    assert "<img src=x onerror=aler…" in names  # long labels are shortened in the node
    assert "<img src=x onerror=alert(1)>" in titles
    assert '"quote" & <script>alert(2)</script> (*)' in titles
    assert widget(nb).locator("img, b, script").count() == 0
    # the detail panel shows the full label, also as text
    widget(nb).locator("g.mgw-gvalue", has_text="<img").click()
    nb.page.wait_for_function(
        "() => document.querySelector('.mgw-graph-details').textContent.includes('onerror')"
    )
    assert nb.eval("w.selected_value.label") == "'<img src=x onerror=alert(1)>'"
    assert widget(nb).locator(".mgw-graph-details img").count() == 0
    nb.page.wait_for_timeout(300)  # give a (wrongly) injected onerror handler a chance to fire
    assert nb.dialogs == []
    nb.screenshot("xss-labels", widget(nb))


def _timing_cells(sizes: list[int], max_nodes: int) -> list[str]:
    return [
        "from micrograd_widgets import MLP, GraphWidget\n"
        f"m = MLP(2, {sizes}, seed=0)\n"
        "out = m([0.5, -1.0]); out.backward()\n"
        f"w = GraphWidget(out, max_nodes={max_nodes}, height=400); w"
    ]


def test_layout_time_300_and_2000_nodes(notebook):
    nb = notebook(_timing_cells([6, 6, 1], 400), name="timing-300")
    wait_attr(nb, WIDGET, "el.dataset.layoutCount === '1'")
    nodes_300 = int(widget(nb).get_attribute("data-layout-nodes"))
    ms_300 = float(widget(nb).get_attribute("data-layout-ms"))
    print(f"\nlayout+draw of {nodes_300} nodes: {ms_300:.0f} ms")
    assert 290 <= nodes_300 <= 350
    assert ms_300 <= 500
    nb.screenshot("300-nodes")

    big = notebook(_timing_cells([16, 20, 1], 2500), name="timing-2000")
    wait_attr(big, WIDGET, "el.dataset.layoutCount === '1'")
    nodes_2000 = int(widget(big).get_attribute("data-layout-nodes"))
    ms_2000 = float(widget(big).get_attribute("data-layout-ms"))
    dagre_2000 = float(widget(big).get_attribute("data-layout-only-ms"))
    print(f"layout+draw of {nodes_2000} nodes: {ms_2000:.0f} ms (layout alone {dagre_2000:.0f} ms)")
    assert nodes_2000 >= 2000
    big.screenshot("2000-nodes")
    # Fit shrinks to the width only down to readable text (9 px), then scrolls: 2,000 nodes
    # fitted to the width would be unreadable dots
    framed = widget(big).get_attribute("data-framed")
    widget(big).get_by_role("button", name="Fit").click()
    wait_attr_change(big, WIDGET, "data-framed", framed)
    assert float(widget(big).get_attribute("data-zoom")) == pytest.approx(9 / 13, abs=1e-3)
    big.screenshot("2000-nodes-fit")


def test_big_model_graph_starts_folded_and_opens_on_click(notebook):
    nb = notebook(
        [
            "from micrograd_widgets import MLP, GraphWidget\n"
            "m = MLP(2, [16, 16, 1], seed=0)\n"
            "out = m([0.5, -1.0]); out.backward()\n"
            "w = GraphWidget(out, model=m); w"
        ]
    )
    wait_attr(nb, WIDGET, "el.dataset.layoutCount === '1'")
    assert "folded" in widget(nb).locator(".mgw-graph-note").inner_text()
    folded = widget(nb).locator("g.mgw-ggroup")
    n_folded = folded.count()
    assert n_folded > 0
    before = int(widget(nb).get_attribute("data-layout-nodes"))
    assert before <= 300
    nb.screenshot("folded")
    folded.first.click()
    wait_attr(nb, WIDGET, "el.dataset.layoutCount === '2'")
    assert widget(nb).locator("g.mgw-ggroup").count() == n_folded - 1
    assert int(widget(nb).get_attribute("data-layout-nodes")) > before
    nb.screenshot("one-group-open")


def test_save_svg_from_python_writes_a_standalone_file(notebook, lab):
    target = lab.root / "graph-export.svg"
    target.unlink(missing_ok=True)
    nb = notebook([SMALL_GRAPH, "L.backward(); w.refresh()"])
    wait_attr(nb, WIDGET, "el.dataset.layoutCount === '1'")
    message = nb.execute("w.save_svg('graph-export.svg')")
    assert "written when the view replies" in message
    deadline = time.monotonic() + 30
    while not target.exists() and time.monotonic() < deadline:  # the reply arrives after the call
        time.sleep(0.1)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "<svg" in text
    for label in (">a<", ">b<", ">L<", "data -8", "grad 6"):
        assert label in text, label
    assert "var(--" not in text  # styles are inlined, not theme variables
    svg = ElementTree.fromstring(text.encode())  # well-formed, standalone SVG
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and float(svg.get("width")) > 100
    nb.screenshot("exported", widget(nb))
    # keep a copy to look at, and show how the file itself renders
    copy = SCREENSHOTS.parent / "graph-export.svg"
    copy.write_text(text, encoding="utf-8")
    viewer = nb.page.context.new_page()
    data = base64.b64encode(text.encode()).decode()
    viewer.set_content(f'<img id="svg" src="data:image/svg+xml;base64,{data}">')
    viewer.wait_for_function("() => document.getElementById('svg').complete")
    assert viewer.evaluate("() => document.getElementById('svg').naturalWidth") > 100  # it renders
    viewer.screenshot(path=str(SCREENSHOTS / "test_save_svg-exported-file.png"))
    viewer.close()


def test_dark_theme_and_ipywidgets_layout(notebook):
    nb = notebook(
        [
            SMALL_GRAPH.replace("\nw\n", "\n") + "import ipywidgets as ipw\n"
            "L.backward(); w.refresh()\n"
            "w2 = GraphWidget(e, font_size=18)\n"
            "ipw.HBox([w, w2])"
        ]
    )
    wait_attr(nb, WIDGET, "el.dataset.layoutCount === '1'", index=1)
    nb.set_theme("JupyterLab Dark")
    colors = widget(nb).evaluate(
        """(root) => ({
            bg: getComputedStyle(root.querySelector('.mgw-graph-canvas')).backgroundColor,
            op: getComputedStyle(root.querySelector('.mgw-gop text')).fill,
        })"""
    )
    dark = [int(x) for x in colors["bg"].strip("rgba()").split(",")[:3]]
    light_text = [int(x) for x in colors["op"].strip("rgba()").split(",")[:3]]
    assert sum(dark) < 200 and sum(light_text) > 400, colors
    boxes = [widget(nb, i).bounding_box() for i in range(2)]
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] + 1  # side by side, no overlap
    row = nb.page.locator(".widget-hbox").bounding_box()
    assert boxes[1]["x"] + boxes[1]["width"] <= row["x"] + row["width"] + 1  # both inside the row
    widget(nb).get_by_role("button", name="Step", exact=True).click()
    wait_attr(nb, WIDGET, "el.dataset.stepDone === '1'")
    nb.page.wait_for_selector("#jupyterlab-splash", state="detached")  # the theme-change overlay
    nb.screenshot("dark-hbox")


def test_example_notebook_renders_every_graph(notebook):
    import nbformat

    example = Path(__file__).resolve().parents[2] / "examples" / "02_computation_graph.ipynb"
    cells = [c.source for c in nbformat.read(example, as_version=4).cells if c.cell_type == "code"]
    nb = notebook(cells, name="example-02")
    nb.page.wait_for_function(
        """() => { const views = [...document.querySelectorAll('.mgw-graph')];
                   return views.length === 7 && views.every(v => Number(v.dataset.layoutCount) >= 1); }"""
    )
    assert widget(nb).locator(".mgw-error:not([hidden])").count() == 0
    printed = nb.page.locator(".jp-OutputArea-output").all_inner_texts()
    # the graph.step() cell printed its arithmetic
    assert any("(seed: ∂L/∂L = 1)" in text for text in printed)
    nb.screenshot("bottom")
    for index, name in ((0, "a-times-b-plus-c"), (1, "tanh-neuron"), (5, "neuron-scope")):
        widget(nb, index).scroll_into_view_if_needed()
        nb.screenshot(name, widget(nb, index))


def test_full_batch_loss_graph_is_summarised_and_stays_fast(notebook):
    nb = notebook(
        [
            "import random\n"
            "from micrograd_widgets import MLP, GraphWidget\n"
            "rng = random.Random(0)\n"
            "m = MLP(2, [16, 16, 1], seed=0)\n"
            "X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(128)]\n"
            "y = [rng.choice([-1.0, 1.0]) for _ in X]\n"
            "losses = [(1 + -yi * m(xi)).relu() for xi, yi in zip(X, y)]\n"
            "loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in m.parameters())\n"
            "loss.backward()\n"
            "w = GraphWidget(loss, model=m); w"
        ]
    )
    wait_attr(nb, WIDGET, "el.dataset.layoutCount === '1'")
    total = int(nb.eval("w.topology['total']"))
    drawn = int(widget(nb).get_attribute("data-layout-nodes"))
    ms = float(widget(nb).get_attribute("data-layout-ms"))
    print(f"\nfull-batch loss: {total:,} nodes in Python, {drawn} drawn in {ms:.0f} ms")
    assert total > 80_000 and drawn <= 300 and ms <= 500
    note = widget(nb).locator(".mgw-graph-note").inner_text()
    assert "not drawn" in note and "max_nodes" in note
    more = widget(nb).locator("g.mgw-gmore")
    assert more.count() == 1 and "more nodes" in more.text_content()
    nb.screenshot("summarised", widget(nb))


# ---- opening on content: the output in view, readable (issue 7, item 5) --------------------------

CHAIN = """
from micrograd_widgets import Value, GraphWidget
h = Value(0.5, label="h")
for _ in range(40):
    h = (h * 0.9999).tanh() + 0.001
chain = GraphWidget(h)
chain
"""

NEURON = """
x1 = Value(2.0, label="x1"); x2 = Value(0.0, label="x2")
w1 = Value(-3.0, label="w1"); w2 = Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")
x1w1 = x1 * w1; x1w1.label = "x1*w1"
x2w2 = x2 * w2; x2w2.label = "x2*w2"
n = x1w1 + x2w2 + b; n.label = "n"
o = n.tanh(); o.label = "o"
o.backward()
neuron = GraphWidget(o)
neuron
"""

SEED_LOSS = """
from micrograd_widgets import MLP, datasets
X, y = datasets.moons(128, noise=0.1, seed=0)
model = MLP(2, [16, 16, 1], seed=0)
scores = [model([Value(x) for x in row]) for row in X]
losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())
loss.backward()
seed_loss = GraphWidget(loss, model=model)
seed_loss
"""

# Where the output node is, against the part of the canvas one can see (without its scrollbars).
OUTPUT_IN_VIEW = """([index, unit]) => {
    const root = document.querySelectorAll('.mgw-graph')[index];
    const canvas = root && root.querySelector('.mgw-graph-canvas');
    const node = canvas && canvas.querySelector(`g.mgw-gnode[data-unit="${unit}"]`);
    if (!node) return null;
    const c = canvas.getBoundingClientRect(), n = node.getBoundingClientRect();
    const view = {left: c.left + canvas.clientLeft, top: c.top + canvas.clientTop};
    view.right = view.left + canvas.clientWidth;
    view.bottom = view.top + canvas.clientHeight;
    const inside = n.width > 0 && n.left >= view.left - 0.5 && n.right <= view.right + 0.5
        && n.top >= view.top - 0.5 && n.bottom <= view.bottom + 0.5;
    return {inside, node: [n.left, n.top, n.right, n.bottom],
            view: [view.left, view.top, view.right, view.bottom],
            zoom: Number(root.dataset.zoom), scroll: [canvas.scrollLeft, canvas.scrollTop]};
}"""

# what the lecture's graphs are called in the kernel, in the order they are displayed
OPENING_GRAPHS = ("chain", "neuron", "seed_loss")
MIN_READABLE_PX = 9  # js/graph/framing.ts: text is never shrunk below this


def output_in_view(nb, index: int, name: str) -> dict:
    """Scroll graph ``index`` into the page, wait (10 s at most) for its output node to be inside
    the canvas's visible rect, and return where it is (fails with the positions if it never is)."""
    unit = int(nb.eval(f"{name}.topology['root']"))
    widget(nb, index).scroll_into_view_if_needed()
    try:
        nb.page.wait_for_function(
            f"(arg) => {{ const r = ({OUTPUT_IN_VIEW})(arg); return r && r.inside; }}",
            arg=[index, unit],
            timeout=10_000,
        )
    except Exception:
        where = nb.page.evaluate(OUTPUT_IN_VIEW, [index, unit])
        raise AssertionError(f"{name}: its output is not in view after opening: {where}") from None
    return nb.page.evaluate(OUTPUT_IN_VIEW, [index, unit])


@pytest.mark.parametrize("width", [1280, 700])
def test_graphs_open_with_their_output_in_view_at_a_readable_zoom(notebook, width):
    nb = notebook(
        [CHAIN, NEURON, SEED_LOSS], name=f"opening-{width}", viewport=(width, 900), timeout_s=240
    )
    wait_attr(nb, WIDGET, "Number(el.dataset.layoutCount) >= 1", index=2)
    readable = MIN_READABLE_PX / 13  # the default font_size
    for index, name in enumerate(OPENING_GRAPHS):
        where = output_in_view(nb, index, name)
        assert where["zoom"] >= readable - 1e-3, (name, where)
        # the drawing is not blank: nodes are painted inside the visible part of the canvas
        painted = widget(nb, index).evaluate(
            """(root) => { const c = root.querySelector('.mgw-graph-canvas').getBoundingClientRect();
                return [...root.querySelectorAll('g.mgw-gnode')].filter(g => {
                    const r = g.getBoundingClientRect();
                    return r.right > c.left && r.left < c.right && r.bottom > c.top && r.top < c.bottom;
                }).length; }"""
        )
        assert painted >= 2, (name, painted)  # the output and at least one of its inputs
        nb.screenshot(f"{name}-light", widget(nb, index))
        # Fit: as much as fits the width, never below readable text, output still in view
        widget(nb, index).get_by_role("button", name="Fit").click()
        where = output_in_view(nb, index, name)
        assert where["zoom"] >= readable - 1e-3, (name, "after Fit", where)
    assert float(widget(nb, 0).get_attribute("data-zoom")) == pytest.approx(readable, abs=1e-3)
    nb.set_theme("JupyterLab Dark")
    nb.page.wait_for_selector("#jupyterlab-splash", state="detached")
    for index, name in enumerate(OPENING_GRAPHS):
        widget(nb, index).scroll_into_view_if_needed()
        nb.screenshot(f"{name}-dark", widget(nb, index))
    nb.set_theme("JupyterLab Light")
