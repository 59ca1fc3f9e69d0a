"""A followed sample's graph in a real browser: live numbers while training, the sample picked by a
linked view, the step-through's order numbers, pending grads and += sums, the numeric check, and
a dark theme. Waits are on data-* attributes the views set. Screenshots in tests/artifacts/."""

from __future__ import annotations

import json
import re

import pytest
from lab_harness import attr, boundary_rates, graph_nodes, shown_number, wait_attr, wait_attr_change

pytestmark = pytest.mark.browser

GRAPH = ".mgw-graph"
BOUNDARY = ".mgw-boundary"

SETUP = """
from micrograd_widgets import MLP, Trainer, GraphWidget, DecisionBoundary, datasets
data = datasets.moons(128, noise=0.1, seed=0)
t = Trainer(MLP(2, [16, 16, 1], seed=1), data, speed=15)
"""

REUSE = """
from micrograd_widgets import Value, GraphWidget
a = Value(2.0, label="a"); b = Value(-3.0, label="b")
n1 = a * b; n1.label = "n1"
n2 = a.tanh(); n2.label = "n2"
L = n1 + n2; L.label = "L"
w = GraphWidget(L)
w
"""


def publish(nb, link: str, message: dict) -> None:
    """What a linked view (the boundary's Inspect) does: a message on the page's link channel."""
    nb.page.evaluate(
        """([link, message]) => window.dispatchEvent(new CustomEvent('mgw-link:' + link,
            {detail: {message, from: Symbol('test page')}}))""",
        [link, message],
    )


def test_followed_graph_updates_live_follows_the_linked_sample_and_steps_when_paused(notebook):
    nb = notebook(
        [SETUP, "g = GraphWidget.follow(t, sample=3); g", "bd = DecisionBoundary(t); bd"],
        viewport=(1280, 1400),
    )
    wait_attr(nb, GRAPH, "el.dataset.layoutCount === '1' && el.dataset.followedStep === '0'")
    graph = nb.page.locator(GRAPH).first
    assert "sample 3 of 128" in graph.locator(".mgw-graph-follow").inner_text()
    before = graph_nodes(nb)
    assert {"x0", "x1", "loss"} <= set(before)
    loss0 = shown_number(before["loss"]["data"])
    assert loss0 == pytest.approx(float(nb.eval("g._content.graph.root.data")), rel=1e-3)
    # one folded box per neuron: 16 + 16 + 1
    assert graph.locator("g.mgw-ggroup").count() == 33
    nb.screenshot("follow-before", graph)

    nb.execute("t.speed = None; t.start()")
    wait_attr(nb, GRAPH, "Number(el.dataset.followedStep) >= 10", timeout_s=60)
    layouts = attr(nb, GRAPH, "data-layout-count")
    after = graph_nodes(nb)
    assert shown_number(after["loss"]["data"]) != loss0  # the numbers change as steps land
    assert layouts == "1"  # same graph, new numbers: no new layout
    fps_with_graph = boundary_rates(nb, 3.0)["fps"]
    numbers_ms = float(attr(nb, GRAPH, "data-numbers-ms"))
    refresh = json.loads(
        nb.execute(
            "import json, statistics; "
            "print(json.dumps(statistics.median(g.refresh_times_ms[-50:])))"
        )
    )
    print(
        f"boundary fps beside a followed graph: {fps_with_graph:.1f}; graph number update in "
        f"the browser: {numbers_ms} ms; refresh in Python (median): {refresh:.2f} ms"
    )
    assert fps_with_graph > 5
    nb.screenshot("follow-training", graph)

    # a linked view inspects sample 17: the graph follows it, without stopping training
    link = nb.eval("t.link_id").strip("'")
    publish(nb, link, {"kind": "sample", "index": 17})
    wait_attr(nb, GRAPH, "el.dataset.sample === '17'")
    assert nb.eval("g.sample") == "17" and nb.eval("t.status") == "'running'"
    publish(nb, link, {"kind": "sample", "index": None})  # cleared: keeps sample 17
    # the boundary's selection set from Python: its view tells the graph's, which follows it
    nb.execute("bd.selected = 21")
    wait_attr(nb, GRAPH, "el.dataset.sample === '21'")
    assert nb.eval("g.sample") == "21" and nb.eval("t.status") == "'running'"
    # step-through is refused while training runs, with a clear message
    graph.get_by_role("button", name="Reset grads").click()
    wait_attr(nb, GRAPH, "el.querySelector('.mgw-error').textContent.includes('pause the trainer')")

    nb.execute("t.pause()")
    steps = nb.eval("t.steps_done")
    wait_attr(nb, GRAPH, f"el.dataset.followedStep === '{steps}'")  # the last step's refresh
    # the sample with the largest loss now (its grads are not all 0)
    nb.execute(
        "import numpy as np\n"
        "g.sample = int(np.argmax(np.maximum(0, 1 - t.y * t.model.predict(t.X))))"
    )
    wait_attr(nb, GRAPH, f"el.dataset.sample === '{nb.eval('g.sample')}'")
    step_done = attr(nb, GRAPH, "data-step-done")
    graph.get_by_role("button", name="Reset grads").click()
    wait_attr_change(nb, GRAPH, "data-step-done", step_done)
    pending = graph_nodes(nb)
    assert all(n["grad"] == "grad —" for n in pending.values())  # not computed: not 0
    assert graph.locator(".mgw-gvalue.is-pending").count() == len(pending)
    orders = graph.locator(".mgw-gorder").evaluate_all(
        "(els) => els.map((e) => Number(e.dataset.order))"
    )
    assert orders and min(orders) == 1  # the loss's op is step 1
    for _ in range(3):
        done = attr(nb, GRAPH, "data-step-done")
        graph.get_by_role("button", name="Step", exact=True).click()
        wait_attr_change(nb, GRAPH, "data-step-done", done)
    labels = graph.locator(".mgw-gedge-label").evaluate_all(
        "(els) => els.map((e) => e.textContent).filter(Boolean)"
    )
    assert labels and all(re.fullmatch(r"\S+ × \S+ = \S+", t) for t in labels)
    nb.screenshot("follow-stepping", graph)
    nb.set_theme("JupyterLab Dark")
    nb.screenshot("follow-stepping-dark", graph)
    nb.set_theme("JupyterLab Light")
    nb.page.set_viewport_size({"width": 700, "height": 1000})
    nb.screenshot("follow-stepping-700px", graph)
    nb.page.set_viewport_size({"width": 1280, "height": 1400})

    # one timeline: a linked view scrubs to step 7; the graph shows its recorded numbers
    # (the new sample's frames are worked out on the refresh thread, a few per pass with rests
    # between: wait for them rather than race them)
    steps = json.loads(
        nb.execute(
            "import json, time\n"
            "deadline = time.monotonic() + 30\n"
            "while len(g.recording_steps) < 3 and time.monotonic() < deadline:\n"
            "    time.sleep(0.1)\n"
            "print(json.dumps(g.recording_steps))"
        )
    )
    assert steps[0] == 0 and len(steps) >= 3
    target = steps[2] + 1
    shown = max(s for s in steps if s <= target)  # the recorded step at or before it
    publish(nb, link, {"kind": "timeline", "step": target})
    wait_attr(nb, GRAPH, f"el.dataset.timelineStep === '{shown}'")
    assert f"step {shown} (recorded)" in graph.locator(".mgw-graph-follow").inner_text()
    recorded_loss = json.loads(
        nb.execute(
            "import numpy as np, json\n"
            "rows = np.frombuffer(g.recording, '<f4').reshape(len(g.recording_steps), 2, -1)\n"
            "print(json.dumps(rows[:, 0, g._content.summary.root_unit].tolist()))"
        )
    )
    assert shown_number(graph_nodes(nb)["loss"]["data"]) == pytest.approx(
        recorded_loss[steps.index(shown)], rel=1e-3, abs=1e-6
    )
    nb.screenshot("follow-scrubbed", graph)
    publish(nb, link, {"kind": "timeline", "step": None})
    wait_attr(nb, GRAPH, "el.dataset.timelineStep === 'live'")

    # the boundary's own slider: the graph goes to the recorded step at or before the boundary's
    boundary_step = nb.page.evaluate(
        """() => {
            const slider = document.querySelector('.mgw-boundary-slider');
            slider.value = '3';
            slider.dispatchEvent(new Event('input'));
            return Number(slider.value);
        }"""
    )
    assert boundary_step == 3
    wait_attr(nb, GRAPH, "el.dataset.timelineStep !== 'live'")
    graph_step = int(attr(nb, GRAPH, "data-timeline-step"))
    assert graph_step in steps
    nb.screenshot("follow-scrubbed-by-boundary", nb.page)
    nb.page.locator(BOUNDARY).get_by_role("button", name="Live").click()
    wait_attr(nb, GRAPH, "el.dataset.timelineStep === 'live'")

    # no kernel (shut down): scrubbing still works from the state the page holds
    nb.shutdown()
    wait_attr(nb, GRAPH, "el.dataset.kernel === 'lost'", timeout_s=30)
    publish(nb, link, {"kind": "timeline", "step": 0})
    wait_attr(nb, GRAPH, "el.dataset.timelineStep === '0'")
    assert shown_number(graph_nodes(nb)["loss"]["data"]) == pytest.approx(
        recorded_loss[0], rel=1e-3, abs=1e-6
    )
    nb.screenshot("follow-scrubbed-no-kernel", graph)


def test_step_through_numbers_sums_and_checks_a_reused_node(notebook):
    nb = notebook([REUSE])
    wait_attr(nb, GRAPH, "el.dataset.layoutCount === '1'")
    graph = nb.page.locator(GRAPH).first
    nodes = graph_nodes(nb)
    assert all(n["grad"] == "grad —" for n in nodes.values())  # nothing computed yet
    badges = graph.locator(".mgw-gorder").evaluate_all(
        "(els) => els.map((e) => [e.closest('[data-unit]').dataset.unit, e.dataset.order])"
    )
    assert sorted(order for _, order in badges) == ["1", "2", "3"]
    step = graph.get_by_role("button", name="Step", exact=True)
    lines = ""
    while attr(nb, GRAPH, "data-step-finished") != "true":
        done = attr(nb, GRAPH, "data-step-done")
        step.click()
        wait_attr_change(nb, GRAPH, "data-step-done", done)
        lines += graph.locator(".mgw-graph-lines").inner_text() + "\n"
    # the reused node's grad: each += as it lands, and the sum in the details panel
    assert re.search(r"a\.grad = 0 \+ \S+ \(from n\d\) \+ \S+ \(from n\d\) = \S+", lines), lines
    graph.locator('g.mgw-gvalue:has(text:text-is("a"))').first.click()
    wait_attr(nb, GRAPH, "el.querySelector('.mgw-graph-details').textContent.includes('(from n')")
    nb.screenshot("reuse-details", graph)
    # the numeric check of a leaf: central difference beside autograd
    graph.get_by_role("button", name="Check numerically").click()
    wait_attr(
        nb, GRAPH, "el.querySelector('.mgw-graph-details').textContent.includes('rel. error')"
    )
    details = graph.locator(".mgw-graph-details").inner_text()
    error = float(re.search(r"rel\. error\s*([0-9.e+-]+)", details).group(1))
    assert error < 1e-6, details
    nb.screenshot("reuse-check", graph)
    nb.set_theme("JupyterLab Dark")
    nb.screenshot("reuse-check-dark", graph)
    nb.set_theme("JupyterLab Light")

    # no kernel: the view replays the backward pass Python recorded, with the same lines
    nb.shutdown()
    wait_attr(nb, GRAPH, "el.dataset.kernel === 'lost' && el.dataset.replay === 'offline'")
    graph.get_by_role("button", name="Reset grads").click()
    wait_attr(nb, GRAPH, "el.dataset.stepDone === '-1'")
    assert all(n["grad"] == "grad —" for n in graph_nodes(nb).values())
    replayed = ""
    while attr(nb, GRAPH, "data-step-finished") != "true":
        done = attr(nb, GRAPH, "data-step-done")
        step.click()
        wait_attr_change(nb, GRAPH, "data-step-done", done)
        replayed += graph.locator(".mgw-graph-lines").inner_text() + "\n"
    assert replayed == lines
    assert "no kernel" in graph.locator(".mgw-graph-panel-title").inner_text()
    final = graph_nodes(nb)
    assert shown_number(final["a"]["grad"]) == pytest.approx(-2.92935, rel=1e-3)
    nb.screenshot("reuse-replayed-no-kernel", graph)
