"""examples/marimo_lesson.py served by marimo's own server (``marimo run``), opened in Chromium.

The lesson's graph is drawn, and while its Trainer trains on a background thread the decision
boundary animates: the step it shows and its picture change several times before training ends.
A click on Step afterwards reaches Python (marimo carries the views' custom messages).
marimo draws anywidget views inside shadow roots; Playwright's locators pierce them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from lab_harness import REPO, SCREENSHOTS, canvas_stats, graph_nodes
from lab_harness import marimo_server as serve_marimo

pytest.importorskip("marimo")

LESSON = REPO / "examples" / "marimo_lesson.py"
START_TIMEOUT_S = 60


class _Page:
    """What the lab_harness helpers need: ``.page``."""

    def __init__(self, page: object) -> None:
        self.page = page


@pytest.fixture(scope="module")
def marimo_server(tmp_path_factory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("marimo") / "marimo.log"
    with serve_marimo(LESSON, log, timeout_s=START_TIMEOUT_S) as url:
        yield url


def boundary_step(page: object) -> int:
    text = page.locator(".mgw-boundary").first.inner_text()
    match = re.search(r"\bstep (\d+)\b", text)
    return int(match.group(1)) if match else -1


def test_marimo_lesson_draws_the_graph_and_animates_training(browser, marimo_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(60_000)
    try:
        page.goto(marimo_server)
        # the graph: its labelled nodes, drawn in marimo's shadow root
        page.locator(".mgw-graph g.mgw-gvalue").first.wait_for()
        nodes = graph_nodes(_Page(page))
        assert {"x", "w", "b", "y"} <= set(nodes)
        # the boundary animates while the trainer's thread trains (20 steps a second)
        page.locator(".mgw-boundary-canvas").first.wait_for()
        seen: dict[int, int] = {}  # step shown -> canvas fingerprint
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            step = boundary_step(page)
            seen[step] = canvas_stats(_Page(page), ".mgw-boundary-canvas")["hash"]
            if step == 100:
                break
            if 40 <= step < 60 and not (SCREENSHOTS / "marimo-training.png").exists():
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / "marimo-training.png"))
            time.sleep(0.2)
        assert seen.get(100) is not None, (
            f"training did not reach step 100: saw steps {sorted(seen)}"
        )
        during = {step: h for step, h in seen.items() if 0 < step < 100}
        assert len(during) >= 3, f"too few frames while training: {sorted(seen)}"
        assert len(set(during.values())) >= 3, "the boundary's picture did not change as it trained"
        page.screenshot(path=str(SCREENSHOTS / "marimo-trained.png"))
        # a click reaches Python: Step trains one more step
        page.locator(".mgw-boundary button", has_text=re.compile(r"^Step$")).first.click()
        deadline = time.monotonic() + 30
        while boundary_step(page) != 101 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert boundary_step(page) == 101
        # the heatmap is drawn too, and the graph's Step (a message to Python) steps backprop
        assert canvas_stats(_Page(page), ".mgw-heatmap-matrix")["painted"] > 0
        graph = page.locator(".mgw-graph").first
        before = graph.get_attribute("data-step-done")
        graph.locator("button", has_text=re.compile(r"^Step$")).click()
        deadline = time.monotonic() + 30
        while graph.get_attribute("data-step-done") == before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert graph.get_attribute("data-step-done") != before
        assert errors == []
    finally:
        context.close()
