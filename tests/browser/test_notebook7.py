"""The three widgets in Jupyter Notebook 7 (the /notebooks/ UI, not JupyterLab), in Chromium.

Notebook 7 runs on the same Jupyter server as the harness's JupyterLab (installing ``notebook``
adds its routes): the ``notebook7`` fixture (conftest.py) opens ``/notebooks/<name>.ipynb`` and
runs the cells through Notebook 7's own menu bar (Run > Run All Cells). Waits are on data-*
attributes the views set, never on sleeps. Screenshots: tests/artifacts/screenshots/notebook7-*.png.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from lab_harness import NotebookSession, canvas_stats, graph_nodes, shown_number, wait_attr

pytestmark = pytest.mark.browser

GRAPH = ".mgw-graph"
BOUNDARY = ".mgw-boundary"
HEATMAP = ".mgw-heatmap"

CELLS = [
    "from micrograd_widgets import Value, GraphWidget\n"
    'a = Value(2.0, label="a"); b = Value(-3.0, label="b")\n'
    'L = a * b; L.label = "L"\n'
    "g = GraphWidget(L); g",
    "from micrograd_widgets import MLP, Trainer, DecisionBoundary, datasets\n"
    "t = Trainer(MLP(2, [8, 8, 1], seed=1), datasets.moons(64, noise=0.1, seed=0))\n"
    "w = DecisionBoundary(t); w",
    "from micrograd_widgets import GradientHeatmap\nh = GradientHeatmap(t); h",
]


def overflow(nb: NotebookSession, selector: str) -> dict:
    """How far a widget sticks out of its notebook cell (px; 0 = fits)."""
    return nb.page.locator(selector).evaluate(
        """(root) => {
            const cell = root.closest('.jp-Cell').getBoundingClientRect();
            const box = root.getBoundingClientRect();
            const output = root.closest('.jp-OutputArea-output');
            return {right: Math.max(0, box.right - cell.right),
                    scroll: output.scrollWidth - output.clientWidth,
                    width: box.width, cellWidth: cell.width};
        }"""
    )


def test_page_is_notebook7_and_the_kernel_answers(notebook7):
    nb = notebook7(["x = 6 * 7"], name="nb7-smoke")
    info = nb.page.evaluate(
        "() => ({name: window.jupyterapp.name, version: window.jupyterapp.version,"
        " lab: !!document.querySelector('#jp-main-dock-panel, .jp-LabShell')})"
    )
    assert info["name"] == "Jupyter Notebook" and info["version"].startswith("7."), info
    assert not info["lab"], "this page is JupyterLab, not Notebook 7"
    assert nb.eval("x") == "42"


def test_three_widgets_render_and_respond_in_notebook7(notebook7):
    nb = notebook7(CELLS, name="nb7-widgets")
    assert nb.page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"

    # ---- GraphWidget: labels and values drawn; the Step button fills in the grads ----------
    graph = nb.page.locator(GRAPH)
    wait_attr(nb, GRAPH, "el.dataset.layoutCount === '1'")
    shown = graph_nodes(nb)
    assert set(shown) == {"a", "b", "L"}
    assert [shown_number(shown[n]["data"]) for n in "abL"] == [2.0, -3.0, -6.0]
    assert all(n["grad"] == "grad —" for n in shown.values())  # not computed yet (not 0)
    nb.screenshot("graph-before", graph)

    step_button = graph.get_by_role("button", name="Step", exact=True)
    clicks = 0
    while graph.get_attribute("data-step-finished") != "true":
        done = graph.get_attribute("data-step-done")
        step_button.click()
        clicks += 1
        wait_attr(nb, GRAPH, f"el.dataset.stepDone !== '{done}'")
        assert clicks <= 5, "the step-through did not finish"
    shown = graph_nodes(nb)
    python_grads = eval(nb.eval("[a.grad, b.grad, L.grad]"))
    assert python_grads == [-3.0, 2.0, 1.0]  # dL/da = b, dL/db = a
    assert [shown_number(shown[n]["grad"]) for n in "abL"] == python_grads
    assert step_button.is_disabled()
    nb.screenshot("graph-after-steps", graph)

    # ---- DecisionBoundary: a painted canvas; kernel and button steps advance the counter ----
    boundary = nb.page.locator(BOUNDARY)
    wait_attr(nb, BOUNDARY, "Number(el.dataset.framesDrawn) >= 1")
    initial = canvas_stats(nb, ".mgw-boundary-canvas")
    assert initial["painted"] > 0.9 * initial["total"], initial  # the score map fills the plot
    assert initial["colours"] > 50, initial  # a colour gradient with points, not a flat fill
    assert boundary.get_attribute("data-step") == "0"
    assert boundary.locator(".mgw-boundary-step").text_content() == "step 0"

    nb.execute("t.step()")
    wait_attr(nb, BOUNDARY, "el.dataset.step === '1'")
    boundary.get_by_role("button", name="Step", exact=True).click()
    wait_attr(nb, BOUNDARY, "el.dataset.step === '2'")
    assert boundary.locator(".mgw-boundary-step").text_content() == "step 2"
    assert nb.eval("t.steps_done") == "2"
    wait_attr(nb, BOUNDARY, "Number(el.dataset.framesDrawn) >= 3")
    trained = canvas_stats(nb, ".mgw-boundary-canvas")
    assert trained["hash"] != initial["hash"], "two training steps left the picture unchanged"
    boundary.scroll_into_view_if_needed()
    nb.screenshot("boundary", boundary)

    # ---- GradientHeatmap: one matrix per layer, painted, following the same trainer ---------
    heatmap = nb.page.locator(HEATMAP)
    wait_attr(nb, HEATMAP, "el.dataset.step === '2'")
    matrices = heatmap.locator(".mgw-heatmap-matrix")
    assert matrices.count() == 3
    titles = heatmap.locator(".mgw-heatmap-title").all_text_contents()
    for title, shape in zip(titles, ["8 × (2 + bias)", "8 × (8 + bias)", "1 × (8 + bias)"]):
        assert shape in title, titles
    for layer in range(3):
        stats = canvas_stats(nb, ".mgw-heatmap-matrix", layer)
        assert stats["painted"] > 0 and stats["colours"] > 3, (layer, stats)
    heatmap.scroll_into_view_if_needed()
    nb.screenshot("heatmap", heatmap)

    # ---- Notebook 7 layout and theme: widgets fit their cells, --jp-* variables resolve -----
    for selector in (GRAPH, BOUNDARY, HEATMAP):
        sticking_out = overflow(nb, selector)
        assert sticking_out["right"] <= 1 and sticking_out["scroll"] <= 1, (
            selector,
            sticking_out,
        )
    colours = nb.page.evaluate(
        """() => {
            const root = document.querySelector('.mgw-heatmap');
            const probe = document.createElement('div');
            probe.style.background = 'var(--jp-layout-color0)';
            probe.style.color = 'var(--jp-ui-font-color0)';
            document.body.append(probe);
            const jp = getComputedStyle(probe);
            const out = {bg: getComputedStyle(root).backgroundColor, jpBg: jp.backgroundColor,
                         fg: getComputedStyle(root).color, jpFg: jp.color};
            probe.remove();
            return out;
        }"""
    )
    assert colours["bg"] == colours["jpBg"] and colours["fg"] == colours["jpFg"], colours
    nb.page.locator(".jp-WindowedPanel-outer").evaluate("(el) => el.scrollTo(0, 0)")
    nb.screenshot("page-top")

    # A narrow window (Notebook 7 then drops the prompt column): everything still wraps inside.
    nb.page.set_viewport_size({"width": 700, "height": 900})
    nb.page.wait_for_function("() => document.querySelector('.mgw-graph').offsetWidth < 690")
    for selector in (GRAPH, BOUNDARY, HEATMAP):
        sticking_out = overflow(nb, selector)
        assert sticking_out["right"] <= 1 and sticking_out["scroll"] <= 1, (
            "narrow",
            selector,
            sticking_out,
        )
    boundary.scroll_into_view_if_needed()
    nb.screenshot("narrow-boundary")
    assert nb.dialogs == []


def test_widgets_follow_the_dark_theme_in_notebook7(notebook7):
    nb = notebook7(CELLS, name="nb7-dark")
    wait_attr(nb, GRAPH, "el.dataset.layoutCount === '1'")
    wait_attr(nb, HEATMAP, "el.dataset.step === '0'")
    try:
        nb.set_theme("JupyterLab Dark")
        backgrounds = nb.page.evaluate(
            """() => ['.mgw-graph', '.mgw-boundary', '.mgw-heatmap'].map(
                (sel) => getComputedStyle(document.querySelector(sel)).backgroundColor)"""
        )
        for selector, background in zip((GRAPH, BOUNDARY, HEATMAP), backgrounds):
            r, g, b = (int(v) for v in re.findall(r"\d+", background)[:3])
            assert r + g + b < 200, f"{selector} did not follow the dark theme: {background}"
        nb.screenshot("dark-graph", nb.page.locator(GRAPH))
        nb.page.locator(HEATMAP).scroll_into_view_if_needed()
        nb.screenshot("dark-heatmap", nb.page.locator(HEATMAP))
    finally:
        # the theme is a user setting shared with JupyterLab: later tests expect light
        with contextlib.suppress(Exception):
            nb.set_theme("JupyterLab Light")
