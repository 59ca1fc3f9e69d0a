"""Offline pages in a real browser: opened from file:// with EVERY network request blocked.

A Playwright route aborts any request that is not a file: URL, and a probe proves the block is
real: a fetch from the page to a local HTTP server fails and the server sees nothing. The page
then has to draw the graph, the boundary and the heatmap from what it carries, and the boundary's
slider has to scrub the recorded run.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lab_harness import REPO, SCREENSHOTS, canvas_stats, graph_nodes

from micrograd_widgets import (
    MLP,
    DecisionBoundary,
    GradientHeatmap,
    GraphWidget,
    Trainer,
    Value,
    datasets,
)
from micrograd_widgets.export import export_notebook, save_html

LOCAL_SCHEMES = ("file:", "blob:", "data:")


@dataclass
class OfflinePage:
    """A page opened with the network blocked (for the lab_harness helpers: ``.page``)."""

    page: object
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"export-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - one server per test run

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(b"reached")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def probe_server() -> Iterator[str]:
    """A local HTTP server that counts its requests: a page that reaches it is not offline."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def open_offline(browser) -> Iterator:
    contexts = []

    def open_page(path: Path, viewport: tuple[int, int] = (1280, 900), dark: bool = False):
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            color_scheme="dark" if dark else "light",
        )
        contexts.append(context)
        offline = OfflinePage(page=context.new_page())

        def route(route_) -> None:
            url = route_.request.url
            if url.startswith(LOCAL_SCHEMES):
                route_.continue_()
            else:
                offline.blocked.append(url)
                route_.abort()

        context.route("**/*", route)
        offline.page.on("request", lambda r: offline.requests.append(r.url))
        offline.page.on("pageerror", lambda e: offline.errors.append(str(e)))
        offline.page.set_default_timeout(30_000)
        offline.page.goto(path.resolve().as_uri())
        offline.page.wait_for_selector("body[data-mgw-offline-rendered]")
        return offline

    yield open_page
    for context in contexts:
        context.close()


def assert_really_offline(offline: OfflinePage, probe_server: str) -> None:
    """The page asked for nothing but local URLs, and the block does stop a real request."""
    assert all(url.startswith(LOCAL_SCHEMES) for url in offline.requests), offline.requests
    assert offline.blocked == []
    _CountingHandler.hits.clear()
    outcome = offline.page.evaluate(
        "(url) => fetch(url).then(r => r.text(), e => 'failed: ' + e.message)",
        f"{probe_server}/probe",
    )
    assert outcome.startswith("failed"), outcome
    assert _CountingHandler.hits == []
    assert offline.blocked == [f"{probe_server}/probe"]


@pytest.fixture(scope="module")
def lesson_page(tmp_path_factory) -> Path:
    trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(128, noise=0.1, seed=0))
    boundary, heatmap = DecisionBoundary(trainer), GradientHeatmap(trainer)
    trainer.run(30)
    boundary._sync_recording()  # a blocking run syncs the recording when it stops; be sure
    x = Value(2.0, label="x")
    w = Value(-3.0, label="w")
    y = (x * w + 1).tanh()
    y.label = "y"
    y.backward()
    graph = GraphWidget(y)
    out = tmp_path_factory.mktemp("export") / "lesson.html"
    save_html(out, graph, boundary, heatmap, title="Offline lesson")
    for widget in (graph, boundary, heatmap):
        widget.close()
    return out


def test_saved_page_draws_every_widget_offline_and_scrubs(open_offline, lesson_page, probe_server):
    offline = open_offline(lesson_page)
    page = offline.page
    assert page.get_attribute("body", "data-mgw-offline-rendered") == "3"
    assert offline.errors == []
    # the graph: its nodes with the saved numbers
    nodes = graph_nodes(offline)
    assert {"x", "w", "y"} <= set(nodes)
    # each view says it has no Python behind it, and the controls that need it are off
    notices = page.locator(".mgw-kernel-lost")
    assert notices.count() == 3
    assert all("Saved page" in notices.nth(i).inner_text() for i in range(3))
    assert page.locator(".mgw-boundary button", has_text="Play").is_disabled()
    # the boundary: a painted heatmap; the heatmap widget: painted matrices
    stats = canvas_stats(offline, ".mgw-boundary-canvas")
    assert stats["painted"] > 0.9 * stats["total"] and stats["colours"] > 20
    assert canvas_stats(offline, ".mgw-heatmap-matrix")["painted"] > 0
    # scrubbing the recorded run moves the boundary, with no kernel
    before = canvas_stats(offline, ".mgw-boundary-canvas")["hash"]
    slider = page.locator(".mgw-boundary-slider")
    slider.evaluate(
        "(s) => { s.value = '0'; s.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    page.wait_for_function(
        "() => document.querySelector('.mgw-boundary').dataset.scrubStep === '0'"
    )
    scrubbed = canvas_stats(offline, ".mgw-boundary-canvas")["hash"]
    assert scrubbed != before
    slider.evaluate(
        "(s) => { s.value = '15'; s.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    page.wait_for_function(
        "() => Number(document.querySelector('.mgw-boundary').dataset.scrubStep) > 0"
    )
    assert canvas_stats(offline, ".mgw-boundary-canvas")["hash"] not in (before, scrubbed)
    # the heatmap switches modes from the saved matrices: the model shim sets state locally
    weights = page.locator(".mgw-heatmap button", has_text="weights")
    matrix_before = canvas_stats(offline, ".mgw-heatmap-matrix")["hash"]
    weights.click()
    # the buttons are redrawn in the next animation frame, not in the click handler
    page.wait_for_function(
        "() => document.querySelector('.mgw-heatmap button[data-mode=weights]')"
        ".getAttribute('aria-pressed') === 'true'"
    )
    page.wait_for_function(
        "(h) => { const c = document.querySelector('.mgw-heatmap-matrix');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let x = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3])"
        " x = (x * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) | 0; return x !== h; }",
        arg=matrix_before,
    )
    offline.screenshot("lesson-light")
    assert_really_offline(offline, probe_server)


def test_saved_page_follows_dark_theme_and_a_narrow_window(open_offline, lesson_page):
    offline = open_offline(lesson_page, viewport=(700, 900), dark=True)
    page = offline.page
    assert page.get_attribute("body", "data-jp-theme-name") == "dark"
    background = page.locator(".mgw-boundary").evaluate(
        "(el) => getComputedStyle(el).backgroundColor"
    )
    assert background == "rgb(17, 17, 17)"
    # nothing sticks out of a 700-px window sideways
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 700
    offline.screenshot("lesson-dark-700px")
    # the theme button switches back to light; the views redraw with the light background
    page.locator(".mgw-page-theme").click()
    assert page.get_attribute("body", "data-jp-theme-name") == "light"
    background = page.locator(".mgw-boundary").evaluate(
        "(el) => getComputedStyle(el).backgroundColor"
    )
    assert background == "rgb(255, 255, 255)"


def test_exported_train_moons_notebook_shows_all_widgets_offline(
    open_offline, tmp_path, probe_server
):
    out = export_notebook(
        REPO / "examples" / "03_train_moons.ipynb", tmp_path / "moons.html", execute=True
    )
    offline = open_offline(out)
    page = offline.page
    placeholders = page.locator("[data-mgw-widget]")
    count = placeholders.count()
    # the trained boundary + heatmap (in a VBox) and the diverged run's boundary
    assert count >= 3
    assert page.locator("[data-mgw-offline='rendered']").count() == count
    assert page.get_attribute("body", "data-mgw-offline-rendered") == str(count)
    assert page.locator(".mgw-boundary").count() >= 2
    assert page.locator(".mgw-heatmap").count() >= 1
    # the markdown and the printed output are there too
    assert page.locator("h1", has_text="make_moons").count() == 1
    assert page.locator("pre.mgw-stream", has_text="step 100").count() == 1
    stats = canvas_stats(offline, ".mgw-boundary-canvas")
    assert stats["painted"] > 0.9 * stats["total"]
    assert offline.errors == []
    offline.screenshot("train-moons")
    assert_really_offline(offline, probe_server)
