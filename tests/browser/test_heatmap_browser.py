"""Real-browser tests of GradientHeatmap for issues 10 and 11: the recorded run on the page's
timeline, modes switched in the view (also with the kernel gone), the neuron link both ways, the
update formula's numbers against the kernel's, the optimizer's state modes, k-class row labels.

Link messages are published from the page as another view would (js/shared/link.ts: a
CustomEvent named after the trainer's link id). Waits are on the data-* attributes the view sets;
screenshots go to tests/artifacts/screenshots/.
"""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest
from lab_harness import attr, canvas_stats, wait_attr

pytestmark = pytest.mark.browser

HEATMAP = ".mgw-heatmap"
IMPORTS = (
    "from micrograd_widgets import MLP, Trainer, GradientHeatmap, datasets\n"
    "import numpy as np\n"
    "data = datasets.moons(64, noise=0.1, seed=0)\n"
)


def publish(nb, link: str, message: dict) -> None:
    """Publish a link message in the page, as another view of the trainer would."""
    nb.page.evaluate(
        """([link, message]) => window.dispatchEvent(new CustomEvent('mgw-link:' + link,
            {detail: {message, from: Symbol('test')}}))""",
        [link, message],
    )


def listen(nb, link: str) -> None:
    """Collect the link messages the views publish into window.__heard."""
    nb.page.evaluate(
        """(link) => { window.__heard = [];
            window.addEventListener('mgw-link:' + link, (e) => window.__heard.push(e.detail.message)); }""",
        link,
    )


def js_number(x: float, digits: int = 4) -> str:
    """The view's number formatting (js/heatmap/formula.ts num: formatNumber's 4 significant
    digits, or ``digits``, with a true minus sign)."""
    if x == 0:
        return "0"
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
        text = f"{mantissa}e{int(exponent):+d}"  # JS: 1.235e-4, 1.235e+5
    else:
        text = repr(float(f"{x:.{digits}g}"))
        text = text[:-2] if text.endswith(".0") else text
    return text.replace("-", "−", 1) if text.startswith("-") else text


def weight_digits(before: float, after: float) -> int:
    """formula.ts weightDigits: 4 digits, more (up to 6) until before and after differ."""
    digits = 4
    while digits < 6 and before != after and js_number(before, digits) == js_number(after, digits):
        digits += 1
    return digits


def factor(x: float) -> str:
    return f"({js_number(x)})" if x < 0 else js_number(x)


def shown_sum(nb) -> float:
    return float(attr(nb, HEATMAP, "data-shown-sum"))


def test_scrub_modes_formula_and_neuron_link_live_and_without_a_kernel(notebook):
    cells = [
        IMPORTS + "t = Trainer(MLP(2, [8, 8, 1], seed=0), data, lr=0.1)",
        "hm = GradientHeatmap(t); hm",
        "t.run(12)",
    ]
    nb = notebook(cells)
    wait_attr(nb, HEATMAP, "el.dataset.step === '12' && el.dataset.recorded === '13'")
    link = nb.eval("t.link_id").strip("'")
    live_grads = shown_sum(nb)
    expected = float(nb.eval("float(np.abs([p.grad for p in t.parameters]).sum())"))
    assert math.isclose(live_grads, expected, rel_tol=1e-4)

    # ---- a timeline message shows the recorded step at or before it, different from live
    publish(nb, link, {"kind": "timeline", "step": 5})
    wait_attr(nb, HEATMAP, "el.dataset.shownStep === '5'")
    assert "step 5 (recorded)" in nb.page.locator(".mgw-heatmap-step").text_content()
    recorded = {
        mode: float(nb.eval(f"float(np.abs(hm.recorded_frame(5)['{mode}']).sum())"))
        for mode in ("grads", "weights", "updates")
    }
    assert math.isclose(shown_sum(nb), recorded["grads"], rel_tol=1e-4)
    assert not math.isclose(recorded["grads"], live_grads, rel_tol=1e-2)
    nb.screenshot("recorded-step-5", nb.page.locator(HEATMAP))
    # the mode is the view's choice, from the recorded data; Python learns it
    nb.page.locator(HEATMAP).get_by_role("button", name="weights").click()
    wait_attr(nb, HEATMAP, "el.dataset.mode === 'weights'")
    assert math.isclose(shown_sum(nb), recorded["weights"], rel_tol=1e-4)
    assert nb.eval("hm.mode") == "'weights'"
    publish(nb, link, {"kind": "timeline", "step": None})
    wait_attr(nb, HEATMAP, "el.dataset.shownStep === 'live'")
    # the heatmap's own slider publishes the timeline to the other views
    listen(nb, link)
    nb.page.locator(".mgw-heatmap-slider").fill("3")
    wait_attr(nb, HEATMAP, "el.dataset.shownStep === '3'")
    assert nb.page.evaluate("() => window.__heard") == [{"kind": "timeline", "step": 3}]
    nb.page.locator(HEATMAP).get_by_role("button", name="Live").click()
    wait_attr(nb, HEATMAP, "el.dataset.shownStep === 'live'")

    # ---- hovering a cell: the SGD update with the kernel's numbers
    nb.page.locator(".mgw-heatmap-matrix[data-layer='1']").hover(
        position={"x": 24 + 2 * 16 + 8, "y": 14 + 3 * 16 + 8}
    )
    wait_attr(nb, HEATMAP, "el.dataset.hoverName === 'layers.1.neurons.3.w.2'")
    w, update, grad, lr = ast.literal_eval(
        nb.eval(
            "[t.model.layers[1].neurons[3].w[2].data, "
            "float(t.last_update[t.parameter_names.index('layers.1.neurons.3.w.2')]), "
            "t.model.layers[1].neurons[3].w[2].grad, t.history[-1]['lr']]"
        )
    )
    # the view gets the weights as float32 and does its arithmetic in doubles: so does this
    w32, update32, grad32 = (float(np.float32(x)) for x in (w, update, grad))
    before = w32 - update32
    digits = weight_digits(before, w32)
    formula = (
        f"w ← w − lr·grad = {js_number(before, digits)} − {js_number(lr)}·{factor(grad32)} = "
        f"{js_number(w32, digits)}"
    )
    tooltip = nb.page.locator(".mgw-heatmap-tooltip").text_content()
    assert formula in tooltip.split("\n"), (formula, tooltip)
    assert abs((w - update) - lr * grad - w) < 1e-12  # the formula is the update applied
    # ... and hovering that row published its neuron
    heard = nb.page.evaluate("() => window.__heard")
    assert {"kind": "neuron", "layer": 1, "neuron": 3} in heard
    nb.screenshot("hover-formula", nb.page.locator(HEATMAP))
    nb.page.mouse.move(5, 5)
    nb.page.wait_for_function(
        "() => window.__heard.some(m => m.kind === 'neuron' && m.neuron === null)"
    )
    # a neuron hovered in another view is outlined here
    publish(nb, link, {"kind": "neuron", "layer": 0, "neuron": 5})
    wait_attr(nb, HEATMAP, "el.dataset.linkedNeuron === '0:5'")
    nb.screenshot("linked-neuron-light", nb.page.locator(HEATMAP))
    nb.set_theme("JupyterLab Dark")
    nb.page.wait_for_selector("#jupyterlab-splash", state="detached")
    nb.page.locator(HEATMAP).scroll_into_view_if_needed()
    nb.screenshot("linked-neuron-dark", nb.page.locator(HEATMAP))
    nb.set_theme("JupyterLab Light")
    nb.page.wait_for_selector("#jupyterlab-splash", state="detached")

    # ---- the kernel restarts: scrubbing and modes still work, from the data in the page
    updates_at_5 = recorded["updates"]
    nb.page.evaluate("() => window.__mgwPanel.sessionContext.session.kernel.restart()")
    wait_attr(nb, HEATMAP, "el.dataset.kernel === 'lost'", timeout_s=30)
    publish(nb, link, {"kind": "timeline", "step": 6})  # 6 is recorded too: it shows 6
    wait_attr(nb, HEATMAP, "el.dataset.shownStep === '6'")
    nb.page.locator(".mgw-heatmap-slider").fill("5")
    wait_attr(nb, HEATMAP, "el.dataset.shownStep === '5'")
    nb.page.locator(HEATMAP).get_by_role("button", name="last update").click()
    wait_attr(nb, HEATMAP, "el.dataset.mode === 'updates'")
    assert math.isclose(shown_sum(nb), updates_at_5, rel_tol=1e-4)
    nb.page.locator(HEATMAP).get_by_role("button", name="gradients").click()
    wait_attr(nb, HEATMAP, "el.dataset.mode === 'grads'")
    assert math.isclose(shown_sum(nb), recorded["grads"], rel_tol=1e-4)
    nb.screenshot("no-kernel-recorded", nb.page.locator(HEATMAP))


def test_k_class_rows_and_a_wide_net_stay_readable_in_700_px(notebook):
    cells = [
        IMPORTS + "k = GradientHeatmap(MLP(2, [32, 32, 3], seed=0)); k",
        "wide = GradientHeatmap(MLP(2, [32, 32, 1], seed=0)); wide",
    ]
    nb = notebook(cells, viewport=(700, 900))
    wait_attr(nb, HEATMAP, "el.dataset.step === '0'", index=1)
    last = nb.page.locator(f"{HEATMAP} .mgw-heatmap-matrix[data-layer='2']").first
    assert last.get_attribute("data-row-labels") == "class 0|class 1|class 2"
    # 3 rows × (32 + bias) columns of 10 px cells, 52 px of class names on the left
    scale = last.bounding_box()["width"] / (52 + 33 * 10 + 2)  # shrunk to the window
    last.hover(position={"x": (52 + 5) * scale, "y": (14 + 2 * 10 + 5) * scale})
    # the readout under the matrices keeps the last hovered cell (the page may scroll after)
    nb.page.wait_for_function(
        """() => document.querySelector('.mgw-heatmap-info').textContent.startsWith(
            'layers.2.neurons.2.w.0 · neuron 2 of layers.2 (class 2)')"""
    )
    for i in range(nb.page.locator(".mgw-heatmap-matrix").count()):
        b = nb.page.locator(".mgw-heatmap-matrix").nth(i).bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= 700.5, (i, b)
    nb.page.locator(HEATMAP).first.get_by_role("button", name="weights").click()
    wait_attr(nb, HEATMAP, "el.dataset.mode === 'weights'")
    last.scroll_into_view_if_needed()
    nb.screenshot("k-class-700px")
    nb.page.locator(f"{HEATMAP} .mgw-heatmap-matrix[data-layer='1']").nth(
        1
    ).scroll_into_view_if_needed()
    nb.screenshot("wide-32-700px")


def test_adam_modes_are_offered_drawn_and_explained_with_the_kernels_numbers(notebook):
    cells = [
        IMPORTS + "t = Trainer(MLP(2, [8, 8, 1], seed=0), data, optimizer='adam', lr=0.01)",
        "hm = GradientHeatmap(t); hm",
        "t.run(6)",
    ]
    nb = notebook(cells)
    wait_attr(nb, HEATMAP, "el.dataset.step === '6'")
    assert attr(nb, HEATMAP, "data-modes") == "grads,weights,updates,m,sqrt_v"
    for name, mode in (("m", "m"), ("√v", "sqrt_v")):
        nb.page.locator(HEATMAP).get_by_role("button", name=name, exact=True).click()
        wait_attr(nb, HEATMAP, f"el.dataset.mode === '{mode}'")
        expected = float(nb.eval(f"float(np.abs(t.optimizer.state_arrays()['{mode}']).sum())"))
        assert math.isclose(shown_sum(nb), expected, rel_tol=1e-4)
        stats = canvas_stats(nb, ".mgw-heatmap-matrix", 1)
        assert stats["colours"] > 10  # drawn, not blank
    nb.screenshot("adam-sqrt-v-light", nb.page.locator(HEATMAP))
    nb.page.locator(".mgw-heatmap-matrix[data-layer='1']").hover(
        position={"x": 24 + 2 * 16 + 8, "y": 14 + 3 * 16 + 8}
    )
    wait_attr(nb, HEATMAP, "el.dataset.hoverName === 'layers.1.neurons.3.w.2'")
    i = "t.parameter_names.index('layers.1.neurons.3.w.2')"
    w, update, m, sqrt_v, lr, steps = ast.literal_eval(
        nb.eval(
            f"[t.parameters[{i}].data, float(t.last_update[{i}]), "
            f"float(t.optimizer.state_arrays()['m'][{i}]), "
            f"float(t.optimizer.state_arrays()['sqrt_v'][{i}]), t.history[-1]['lr'], "
            "t.optimizer.steps_done]"
        )
    )
    # float32 on the wire, doubles in the view: the same here
    w32, update32, m32, sqrt_v32 = (float(np.float32(x)) for x in (w, update, m, sqrt_v))
    m_hat = m32 / (1 - 0.9**steps)
    root_v_hat = sqrt_v32 / math.sqrt(1 - 0.999**steps)
    before = w32 - update32
    digits = weight_digits(before, w32)
    expected = [
        f"m̂ = m / (1 − β1^t) = {js_number(m32)} / (1 − 0.9^{steps}) = {js_number(m_hat)}",
        f"√v̂ = √v / √(1 − β2^t) = {js_number(sqrt_v32)} / √(1 − 0.999^{steps}) = "
        f"{js_number(root_v_hat)}",
        f"w ← w − lr·m̂ / (√v̂ + ε) = {js_number(before, digits)} − {js_number(lr)}·"
        f"{factor(m_hat)} / ({js_number(root_v_hat)} + 1.000e-8) = {js_number(w32, digits)}",
    ]
    lines = nb.page.locator(".mgw-heatmap-tooltip").text_content().split("\n")
    assert lines[-3:] == expected, (lines, expected)
    tip, root = (
        nb.page.locator(".mgw-heatmap-tooltip").bounding_box(),
        nb.page.locator(HEATMAP).bounding_box(),
    )
    assert (
        root["x"] - 0.5 <= tip["x"] and tip["x"] + tip["width"] <= root["x"] + root["width"] + 0.5
    )
    nb.screenshot("adam-formula", nb.page.locator(HEATMAP))
    nb.set_theme("JupyterLab Dark")
    nb.page.wait_for_selector("#jupyterlab-splash", state="detached")
    nb.page.locator(HEATMAP).scroll_into_view_if_needed()
    nb.screenshot("adam-sqrt-v-dark", nb.page.locator(HEATMAP))
    nb.set_theme("JupyterLab Light")
    nb.page.wait_for_selector("#jupyterlab-splash", state="detached")


def test_the_boundarys_slider_moves_the_heatmap_and_back(notebook):
    cells = [
        IMPORTS + "from ipywidgets import HBox\n"
        "from micrograd_widgets import DecisionBoundary\n"
        "t = Trainer(MLP(2, [8, 8, 1], seed=0), data, lr=0.1)",
        "display(HBox([DecisionBoundary(t), GradientHeatmap(t)]))",
        "t.run(8)",
    ]
    nb = notebook(cells)
    wait_attr(nb, HEATMAP, "el.dataset.step === '8' && el.dataset.recorded === '9'")
    wait_attr(nb, ".mgw-boundary", "Number(el.dataset.recorded) === 9")
    live = shown_sum(nb)
    nb.page.locator(".mgw-boundary-slider").fill("3")
    wait_attr(nb, HEATMAP, "el.dataset.shownStep === '3'")
    assert shown_sum(nb) != live
    nb.screenshot("boundary-slider-moves-heatmap")
    nb.page.locator(HEATMAP).get_by_role("button", name="Live").click()
    wait_attr(nb, HEATMAP, "el.dataset.shownStep === 'live'")
    wait_attr(nb, ".mgw-boundary", "el.dataset.scrubStep === undefined")
