"""Real-browser tests of the second thing a lecturer does with the training widgets (issue 7):
re-running cells, scrubbing then playing, a narrow window, a restarted kernel, the learning-rate
box, one neuron, a boundary made late, wide heatmaps.

Waits are on data-* attributes the views set, or on the kernel's own answers; screenshots go to
tests/artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from lab_harness import CellError, attr, boundary_rates, wait_attr

pytestmark = pytest.mark.browser

BOUNDARY = ".mgw-boundary"
HEATMAP = ".mgw-heatmap"
GRAPH = ".mgw-graph"
IMPORTS = (
    "from micrograd_widgets import (MLP, Neuron, Trainer, DecisionBoundary, GradientHeatmap,\n"
    "    GraphWidget, Value, datasets, stop_all)\n"
    "from ipywidgets import HBox\n"
    "import threading\n"
    "data = datasets.moons(128, noise=0.1, seed=0)\n"
    "def training_threads():\n"
    "    return sum(t.name.startswith('micrograd-trainer') for t in threading.enumerate())\n"
)
# the cell, as a lecturer writes it and runs it again and again
TRAINING_CELL = (
    "trainer = Trainer(MLP(2, [16, 16, 1], seed=1), data)\n"
    "display(HBox([DecisionBoundary(trainer), GradientHeatmap(trainer)]))\n"
    "trainer.start()"
)


def frame_rate(nb, seconds: float = 5.0) -> dict:
    """Frames the visible boundary drew per second, and training steps per second."""
    return boundary_rates(nb, seconds)


def wait_kernel(nb, expression: str, expected: str, timeout_s: float = 30) -> str:
    """Poll a kernel expression until its repr is ``expected`` (or fail with the last one)."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = nb.eval(expression)
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.3)


def box(nb, selector: str, index: int = 0) -> dict:
    return nb.page.locator(selector).nth(index).bounding_box()


# ---- item 2: re-running cells leaves one trainer, observers only for visible widgets -----------


def test_rerunning_the_training_cell_four_times_leaves_one_trainer(notebook):
    nb = notebook([IMPORTS, TRAINING_CELL])
    wait_attr(nb, BOUNDARY, "el.dataset.status === 'running' && Number(el.dataset.step) >= 3")
    single = frame_rate(nb)
    for _ in range(3):  # the second, third and fourth run of the same cell
        nb.run_cell(1)
        wait_attr(nb, BOUNDARY, "el.dataset.status === 'running' && Number(el.dataset.step) >= 3")
    threads = wait_kernel(nb, "training_threads()", "1")
    rerun = frame_rate(nb)
    print(
        f"\nthe issue's cell run 4 times: training threads {threads}; visible boundary "
        f"{single['fps']:.1f} frames/s ({single['steps_per_s']:.1f} steps/s) after one run, "
        f"{rerun['fps']:.1f} frames/s ({rerun['steps_per_s']:.1f} steps/s) after four"
    )
    assert nb.page.locator(BOUNDARY).count() == 1
    assert threads == "1"
    assert rerun["fps"] >= 0.6 * single["fps"], (single, rerun)
    stopped = nb.eval(
        "sorted({t.message for t in __import__('micrograd_widgets')._background.LIVE_TRAINERS "
        "if t is not trainer})"
    )
    assert "no view of this trainer's widgets is left" in stopped
    nb.screenshot("rerun-four-times")
    nb.execute("trainer.stop()")
    assert nb.eval("training_threads(), trainer.status") == "(0, 'stopped')"


def test_rerunning_a_widget_cell_keeps_observers_for_visible_widgets_only(notebook):
    cells = [
        IMPORTS,
        "trainer = Trainer(MLP(2, [4, 1], seed=0), datasets.moons(16, seed=0), lr=0.05)",
        "db = DecisionBoundary(trainer); db",
        "hm = GradientHeatmap(trainer); hm",
    ]
    nb = notebook(cells)
    wait_attr(nb, HEATMAP, "el.dataset.step === '0'")
    for _ in range(2):  # the boundary's cell, run three times in all
        nb.run_cell(2)
    wait_attr(nb, BOUNDARY, "el.dataset.framesDrawn >= 1")
    observers = wait_kernel(nb, "len(trainer._observers)", "2")
    print(f"\n`db = DecisionBoundary(trainer); db` run 3 times + a heatmap: {observers} observers")
    assert observers == "2"
    assert nb.page.locator(BOUNDARY).count() == 1
    nb.execute("trainer.run(3)")
    wait_attr(nb, BOUNDARY, "el.dataset.step === '3'")
    wait_attr(nb, HEATMAP, "el.dataset.step === '3'")
    assert nb.eval("stop_all()") == "0"  # run() is not background training


# ---- item 4: Play (and Step, a click) while scrubbed return to live ----------------------------


def test_play_step_and_clicks_while_scrubbed_return_to_live(notebook):
    cells = [
        IMPORTS + "t = Trainer(MLP(2, [8, 8, 1], seed=0), data)",
        "w = DecisionBoundary(t); w",
        "t.run(6)",
    ]
    nb = notebook(cells)
    wait_attr(nb, BOUNDARY, "el.dataset.step === '6' && Number(el.dataset.recorded) >= 2")
    slider = nb.page.locator(".mgw-boundary-slider")

    def scrub_back() -> None:
        slider.fill("0")
        wait_attr(nb, BOUNDARY, "el.dataset.scrubStep === '0'")

    scrub_back()
    nb.page.get_by_role("button", name="▶ Play").click()
    wait_attr(nb, BOUNDARY, "el.dataset.scrubStep === undefined && Number(el.dataset.step) >= 8")
    assert nb.page.locator(".mgw-boundary-scrub .mgw-mono").text_content() == "live"
    nb.page.get_by_role("button", name=re.compile("Pause")).click()
    wait_attr(nb, BOUNDARY, "el.dataset.status === 'paused'")
    scrub_back()
    step = int(attr(nb, BOUNDARY, "data-step"))
    nb.page.get_by_role("button", name="Step", exact=True).click()
    wait_attr(
        nb, BOUNDARY, f"el.dataset.scrubStep === undefined && el.dataset.step === '{step + 1}'"
    )
    scrub_back()
    nb.page.locator(".mgw-boundary-canvas").click(position={"x": 60, "y": 60})
    wait_attr(nb, BOUNDARY, "el.dataset.scrubStep === undefined && el.dataset.points === '129'")
    nb.screenshot("live-after-scrub")


# ---- item 5: a narrow window ------------------------------------------------------------------


def check_inside(nb, width: int, where: str) -> None:
    for selector in (BOUNDARY, HEATMAP):
        b = box(nb, selector)
        assert b["x"] >= 0 and b["x"] + b["width"] <= width + 0.5, (where, selector, b)
    root, canvas = box(nb, BOUNDARY), box(nb, ".mgw-boundary-canvas")
    assert canvas["x"] + canvas["width"] <= root["x"] + root["width"] + 0.5, (where, canvas, root)
    assert abs(canvas["width"] - canvas["height"]) <= 1.5, (where, canvas)  # still square
    for i in range(nb.page.locator(".mgw-heatmap-matrix").count()):
        m = box(nb, ".mgw-heatmap-matrix", i)
        assert m["x"] + m["width"] <= width + 0.5, (where, m)


def test_a_700_px_window_shows_both_widgets_of_an_hbox_whole(notebook):
    cells = [
        IMPORTS + "t = Trainer(MLP(2, [16, 16, 1], seed=1), data)",
        "display(HBox([DecisionBoundary(t), GradientHeatmap(t)]))",
        "t.run(3)",
    ]
    nb = notebook(cells, viewport=(700, 900))
    wait_attr(nb, BOUNDARY, "el.dataset.step === '3'")
    wait_attr(nb, HEATMAP, "el.dataset.step === '3'")
    check_inside(nb, 700, "file browser open")
    nb.page.locator(BOUNDARY).scroll_into_view_if_needed()
    nb.screenshot("700px-light")
    nb.page.locator(HEATMAP).scroll_into_view_if_needed()
    nb.screenshot("700px-light-heatmap")
    nb.page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    nb.page.wait_for_function("() => document.querySelector('.mgw-boundary').offsetWidth > 400")
    check_inside(nb, 700, "file browser closed")
    # clicks on the shrunk plane still land where they were aimed
    extent = eval(nb.eval("t.X.min(0).tolist(), t.X.max(0).tolist()"))
    nb.page.locator(".mgw-boundary-canvas").click(position={"x": 5, "y": 5})
    wait_attr(nb, BOUNDARY, "el.dataset.points === '129'")
    x, y = eval(nb.eval("t.X[-1].tolist()"))
    assert x < extent[0][0] and y > extent[1][1]  # top-left corner: left of and above the data
    nb.page.locator(BOUNDARY).scroll_into_view_if_needed()
    nb.screenshot("700px-light-wide")
    nb.set_theme("JupyterLab Dark")
    nb.page.wait_for_selector("#jupyterlab-splash", state="detached")
    check_inside(nb, 700, "dark")
    nb.page.locator(BOUNDARY).scroll_into_view_if_needed()
    nb.screenshot("700px-dark")
    nb.page.locator(HEATMAP).scroll_into_view_if_needed()
    nb.screenshot("700px-dark-heatmap")
    nb.set_theme("JupyterLab Light")  # a lab setting: later tests expect light
    nb.page.wait_for_selector("#jupyterlab-splash", state="detached")
    nb.page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")


# ---- item 7: widgets that lost their kernel ---------------------------------------------------

KERNEL_CELLS = [
    IMPORTS + "t = Trainer(MLP(2, [8, 8, 1], seed=0), data)",
    "db = DecisionBoundary(t); db",
    "hm = GradientHeatmap(t); hm",
    "a = Value(2.0, label='a'); b = Value(-3.0, label='b')\nL = a * b + a; L.label = 'L'\nGraphWidget(L)",
    "t.run(4); t.start()",
]


def scrub_to_the_first_frame(nb) -> None:
    """Drag the boundary's slider to its first frame; once more if the picture stayed live.

    Seen 1 run in ~5 under load right after a shutdown: the first scrub did not take (messages
    still in flight from the dying kernel, not yet pinned down). What the view said is printed,
    and a second scrub must work: scrubbing without a kernel is what is tested here.
    """
    slider = nb.page.locator(".mgw-boundary-slider")
    slider.fill("0")
    try:
        wait_attr(nb, BOUNDARY, "el.dataset.scrubStep === '0'", timeout_s=15)
        return
    except Exception:  # report what the view said, then try once more
        print(
            "\nfirst scrub after the kernel went did not show step 0:",
            nb.page.evaluate(
                "() => { const el = document.querySelector('.mgw-boundary');"
                " const s = el.querySelector('.mgw-boundary-slider');"
                " return {dataset: {...el.dataset}, max: s.max, value: s.value,"
                " disabled: s.disabled}; }"
            ),
        )
    slider.fill(slider.get_attribute("max") or "1")  # to live, then back to the first frame
    slider.fill("0")
    wait_attr(nb, BOUNDARY, "el.dataset.scrubStep === '0'", timeout_s=30)


def assert_kernel_gone(nb) -> None:
    for selector in (BOUNDARY, HEATMAP, GRAPH):
        wait_attr(nb, selector, "el.dataset.kernel === 'lost'", timeout_s=30)
        notice = nb.page.locator(f"{selector} .mgw-kernel-lost")
        assert notice.is_visible() and "kernel is gone" in notice.text_content()
    assert nb.page.locator(".mgw-boundary-status").text_content() == "no kernel"
    assert "no kernel" in nb.page.locator(".mgw-heatmap-step").text_content()
    for name in ("▶ Play", "Reset", "Remove points"):
        assert nb.page.locator(BOUNDARY).get_by_role("button", name=name).is_disabled()
    assert nb.page.locator(".mgw-boundary-lr").is_disabled()
    # the graph's step-through replays the backward pass Python recorded (issue 12): enabled
    # and saying so, or off when nothing was recorded
    graph = nb.page.locator(GRAPH)
    offline = graph.evaluate("el => el.dataset.replay") == "offline"
    for name in ("Step", "Run", "Reset grads"):
        assert graph.get_by_role("button", name=name, exact=True).is_disabled() != offline
    if offline:
        assert "no kernel" in graph.locator(".mgw-graph-panel-title").inner_text()
    # what works without Python keeps working: scrubbing, hover, the heatmap's modes, zoom
    scrub_to_the_first_frame(nb)
    nb.page.locator(HEATMAP).get_by_role("button", name="weights").click()
    wait_attr(nb, HEATMAP, "el.dataset.mode === 'weights'")
    nb.page.locator(".mgw-heatmap-matrix[data-layer='0']").hover(
        position={"x": 24 + 8, "y": 14 + 8}
    )
    wait_attr(nb, HEATMAP, "el.dataset.hoverName === 'layers.0.neurons.0.w.0'")
    zoom = attr(nb, GRAPH, "data-zoom")
    nb.page.locator(GRAPH).get_by_role("button", name="zoom in").click()
    wait_attr(nb, GRAPH, f"String(el.dataset.zoom) !== {json.dumps(str(zoom))}")


def test_a_restarted_kernel_shows_in_every_view_and_turns_off_what_needs_it(notebook):
    nb = notebook(KERNEL_CELLS)
    wait_attr(nb, BOUNDARY, "el.dataset.status === 'running' && Number(el.dataset.recorded) >= 2")
    for selector in (BOUNDARY, HEATMAP, GRAPH):
        assert attr(nb, selector, "data-kernel") == "live"
    nb.page.evaluate("() => window.__mgwPanel.sessionContext.session.kernel.restart()")
    assert_kernel_gone(nb)
    nb.screenshot("kernel-restarted-boundary", nb.page.locator(BOUNDARY))
    nb.screenshot("kernel-restarted-heatmap", nb.page.locator(HEATMAP))
    nb.screenshot("kernel-restarted-graph", nb.page.locator(GRAPH))


def test_a_shut_down_kernel_shows_in_every_view(notebook):
    nb = notebook(KERNEL_CELLS)
    wait_attr(nb, BOUNDARY, "el.dataset.status === 'running' && Number(el.dataset.recorded) >= 2")
    nb.page.evaluate("() => window.__mgwPanel.sessionContext.shutdown()")
    assert_kernel_gone(nb)
    nb.screenshot("kernel-shut-down-boundary", nb.page.locator(BOUNDARY))


# ---- item 8: the learning-rate box, the panel and the picture agree ---------------------------


def panel(nb) -> str:
    return nb.page.locator(".mgw-boundary-metrics").text_content()


def set_rate(nb, text: str) -> None:
    box_ = nb.page.locator(".mgw-boundary-lr")
    box_.fill(text)
    box_.press("Tab")  # commits the value: a change event


# Recorded in the page from just before the rate is typed: the box's events and attribute
# changes, with times, so a failure shows whether the change handler ran at all.
WATCH_THE_BOX = """(sel) => {
    const box = document.querySelector(sel).querySelector('.mgw-boundary-lr');
    const log = (window.__mgwBoxLog = []);
    const t0 = performance.now();
    const note = (what) => log.push(`${Math.round(performance.now() - t0)}ms ${what}`);
    for (const kind of ['focus', 'input', 'change', 'blur']) {
        box.addEventListener(kind, () => note(`${kind} value=${box.value}`), true);
    }
    new MutationObserver((changes) => {
        for (const c of changes) note(`${c.attributeName}=${box.getAttribute(c.attributeName)}`);
    }).observe(box, {attributes: true, attributeFilter: ['data-pending', 'class', 'title']});
    note(`watching; connected=${box.isConnected}; boxes=${document.querySelectorAll('.mgw-boundary-lr').length}`);
}"""


def pending_diagnosis(nb) -> dict:
    """What the page shows when the pending box was not seen, read while Python still cannot
    answer: the box's event log, the drawn state, the focus, whether animation frames run."""
    return nb.page.evaluate(
        """async (sel) => {
            const root = document.querySelector(sel);
            const box = root.querySelector('.mgw-boundary-lr');
            const frame = await Promise.race([
                new Promise((r) => requestAnimationFrame(() => r('ran'))),
                new Promise((r) => setTimeout(() => r('none within 2 s'), 2000)),
            ]);
            return {log: window.__mgwBoxLog, value: box.value, title: box.title,
                    drawnPending: root.dataset.lrPending, drawnClass: box.className,
                    focus: document.activeElement?.className, animationFrame: frame,
                    visibility: document.visibilityState};
        }""",
        BOUNDARY,
    )


def test_the_learning_rate_box_the_panel_and_the_picture_agree(notebook, tmp_path):
    cells = [
        IMPORTS + "t = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(64, noise=0.1, seed=0))",
        "w = DecisionBoundary(t); w",
        "t.run(60)",
    ]
    nb = notebook(cells)
    wait_attr(nb, BOUNDARY, "el.dataset.step === '60'")
    set_rate(nb, "0.05")
    wait_attr(nb, BOUNDARY, "el.dataset.nextLr === '0.05' && el.dataset.lrPending === 'false'")
    assert "next step's learning rate 0.05" in panel(nb)  # before any step
    assert nb.eval("t.lr") == "0.05"

    set_rate(nb, "-1")
    banner = nb.page.locator(f"{BOUNDARY} .mgw-error")
    banner.wait_for(state="visible")
    assert "lr must be a finite number > 0" in banner.text_content()
    wait_attr(nb, BOUNDARY, "el.dataset.lrPending === 'false'")
    assert nb.page.locator(".mgw-boundary-lr").input_value() == "0.05"  # what Python holds
    nb.screenshot("lr-refused")

    # while Python cannot answer, the box says it is waiting. A running cell is not enough for
    # that: ipykernel 7 handles widget messages while a cell runs (seen: the rate was applied
    # ~30 ms after it was typed, inside a blocking cell). So the cell holds the trainer's lock,
    # as a training step does: the handler sets the rate, but its answer (after the frame,
    # which reads the weights under the lock) waits for the lock. The cell waits on a file the
    # test makes, so this lasts exactly as long as the test needs.
    release, started = tmp_path / "release-the-trainer", tmp_path / "trainer-held"
    nb.page.evaluate(
        "([path, mark]) => window.__mgwPanel.sessionContext.session.kernel.requestExecute({code:"
        " `import os, time\\nwith t.lock:\\n    open(${JSON.stringify(mark)}, 'w').close()\\n"
        "    while not os.path.exists(${JSON.stringify(path)}): time.sleep(0.05)`})",
        [str(release), str(started)],
    )
    # the rate is typed only once the cell holds the lock (the file says so)
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline, "the blocking cell never took the trainer's lock"
        time.sleep(0.05)
    nb.page.evaluate(WATCH_THE_BOX, BOUNDARY)
    set_rate(nb, "0.2")
    # both read in one go: the box is marked pending in the same redraw that says so
    try:
        wait_attr(
            nb,
            BOUNDARY,
            "el.dataset.lrPending === 'true'"
            " && el.querySelector('.mgw-boundary-lr').classList.contains('mgw-pending')",
            timeout_s=30,
        )
    except Exception:
        shown = pending_diagnosis(nb)  # (before the lock is freed: the answer changes the box)
        release.touch()
        raise AssertionError(f"the box never showed pending: {shown}") from None
    time.sleep(0.5)  # and it stays so for as long as Python cannot answer
    assert attr(nb, BOUNDARY, "data-lr-pending") == "true"
    release.touch()
    wait_attr(nb, BOUNDARY, "el.dataset.lrPending === 'false'", timeout_s=30)
    assert nb.page.locator(".mgw-boundary-lr").input_value() == "0.2"

    # one step at lr 1e6 wrecks the picture: the panel must say so
    set_rate(nb, "1e6")
    wait_attr(nb, BOUNDARY, "el.dataset.nextLr === '1000000'")
    nb.page.get_by_role("button", name="Step", exact=True).click()
    wait_attr(nb, BOUNDARY, "el.dataset.step === '61'")
    text = panel(nb)
    now = float(re.search(r"now: loss \S+ · accuracy ([\d.]+)%", text).group(1))
    before = float(re.search(r"step 60, before its update: .* accuracy ([\d.]+)%", text).group(1))
    truth = float(nb.eval("t.evaluate()['accuracy']"))
    print(f"\nafter a step at lr 1e6: panel 'now' {now}% (truth {truth:.3f}), step 60 {before}%")
    assert now == pytest.approx(100 * truth, abs=0.05) and now < 90 and before == 100.0
    nb.page.locator(BOUNDARY).scroll_into_view_if_needed()
    nb.screenshot("lr-1e6-panel")


# ---- item 9: one neuron, and an empty data set ------------------------------------------------


def test_a_lecture_on_one_neuron_gets_both_widgets(notebook):
    cells = [
        IMPORTS + "t = Trainer(Neuron(2, activation='tanh', seed=0), data, lr=0.1)",
        "display(HBox([DecisionBoundary(t), GradientHeatmap(t)]))",
        "t.run(5)",
    ]
    nb = notebook(cells)
    wait_attr(nb, BOUNDARY, "el.dataset.step === '5'")
    wait_attr(nb, HEATMAP, "el.dataset.step === '5'")
    assert nb.page.locator(".mgw-heatmap-title").text_content().startswith("neuron · tanh · 1 × (2")
    nb.page.locator(".mgw-heatmap-matrix").hover(position={"x": 24 + 8, "y": 14 + 8})
    wait_attr(nb, HEATMAP, "el.dataset.hoverName === 'w.0'")
    nb.screenshot("one-neuron")
    with pytest.raises(CellError, match=r"X is empty \(shape \(0, 2\)\)"):
        nb.execute("import numpy as np\nTrainer(MLP(2, [3, 1]), np.zeros((0, 2)), [])")


# ---- items 3 and 10: a boundary made late, labels, log scale, legend, dead ReLUs, wide layers -


def test_a_late_boundary_dead_relus_log_scale_legend_and_wide_heatmaps(notebook):
    cells = [
        IMPORTS + "t = Trainer(MLP(2, [16, 16, 1], seed=1), data)",
        "t.run(20)",
        "w = DecisionBoundary(t); w",
        "h = GradientHeatmap(t); h",
        "wide = GradientHeatmap(MLP(2, [32, 32, 1], seed=0)); wide",
    ]
    nb = notebook(cells)
    wait_attr(nb, BOUNDARY, "el.dataset.step === '20' && el.dataset.recorded === '1'")
    note = nb.page.locator(".mgw-boundary-recording-note")
    assert note.is_visible()
    assert note.text_content() == "Recording starts at step 20: earlier steps have curves only."
    assert nb.page.locator(".mgw-boundary-slider").is_enabled()
    nb.page.locator(".mgw-boundary-slider").fill("0")
    wait_attr(nb, BOUNDARY, "el.dataset.scrubStep === '20'")
    label = nb.page.locator(".mgw-boundary-scrub .mgw-mono").text_content()
    assert re.fullmatch(r"step 20 · loss [\d.]+ · accuracy [\d.]+%", label), label
    assert "NaN" not in label
    nb.page.locator(BOUNDARY).get_by_role("button", name="Live").click()

    # the case: after 100 steps, 4 and 2 ReLUs never fire on the training data
    nb.execute("t.run(80)")
    wait_attr(nb, HEATMAP, "el.dataset.step === '100'")
    titles = nb.page.locator(f"{HEATMAP} .mgw-heatmap-title")
    assert titles.nth(0).text_content().endswith("· 4 dead")
    assert titles.nth(1).text_content().endswith("· 2 dead")
    truth = nb.eval("[int((z <= 0).all(axis=0).sum()) for z in t.model.preactivations(t.X)]")
    assert truth == "[4, 2, 0]"
    assert "pre-activation ≤ 0 for every training point" in (
        nb.page.locator(f"{HEATMAP} .mgw-heatmap-dead-note").first.text_content()
    )
    nb.page.locator(HEATMAP).first.scroll_into_view_if_needed()
    nb.screenshot("dead-relus-4-and-2")

    # the loss on a log scale, and the legend for the points
    wait_attr(nb, BOUNDARY, "el.dataset.step === '100'")
    plain = nb.page.locator(".mgw-boundary-chart").first.evaluate("(c) => c.toDataURL()")
    nb.page.get_by_role("button", name="log scale").click()
    wait_attr(nb, BOUNDARY, "el.dataset.lossScale === 'log'")
    logged = nb.page.locator(".mgw-boundary-chart").first.evaluate("(c) => c.toDataURL()")
    assert logged != plain
    legend = nb.page.locator(".mgw-boundary-legend").text_content()
    assert "training points" in legend and "score 0" in legend
    nb.page.locator(BOUNDARY).scroll_into_view_if_needed()
    nb.screenshot("late-boundary-log-scale")

    # MLP(2, [32, 32, 1]): 33 columns, labels must not touch
    wide = nb.page.locator(HEATMAP).nth(1)
    rooms = [
        wide.locator(".mgw-heatmap-matrix").nth(i).get_attribute("data-label-room")
        for i in range(3)
    ]
    print(f"\nMLP(2,[32,32,1]) heatmap: narrowest room between column labels (px): {rooms}")
    assert all(r == "none" or float(r) >= 2 for r in rooms)
    wide.scroll_into_view_if_needed()
    nb.screenshot("wide-heatmap-32", wide)
