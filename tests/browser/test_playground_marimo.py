"""The Playground in marimo: a lesson served by marimo's own server (``marimo run``), opened in
headless Chromium. marimo shows anywidgets through ``mo.ui.anywidget`` (no ipywidgets
containers) and offers anywidget's ``host.getWidget``, so the inner boundary and heatmap render
inside the playground; this checks they do, that a control builds a new trainer there too (inner
widgets made from a message handler, not a cell) and that Play trains.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from lab_harness import SCREENSHOTS, marimo_server

pytestmark = pytest.mark.browser

APP = """
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    from micrograd_widgets import Playground

    pg = Playground({"n": 60, "speed": 30})
    mo.ui.anywidget(pg)
    return


if __name__ == "__main__":
    app.run()
"""
PG = ".mgw-playground"


@pytest.fixture(scope="module")
def marimo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("marimo")
    (base / "lesson.py").write_text(APP)
    with marimo_server(base / "lesson.py", base / "marimo.log") as url:
        yield url


def wait_data(page, selector: str, condition: str, timeout_s: float = 60) -> None:
    """Wait until ``condition`` over ``el`` holds for ``selector`` (CSS locators reach into
    marimo's shadow roots; document.querySelector would not)."""
    locator = page.locator(selector).first
    locator.wait_for(timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    while not locator.evaluate(f"el => !!({condition})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector}: {condition} did not hold in {timeout_s} s")
        page.wait_for_timeout(100)


def test_playground_renders_rebuilds_and_trains_in_marimo(marimo_app, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(marimo_app)
        wait_data(page, PG, "Number(el.dataset.partsRendered) >= 2", timeout_s=120)
        wait_data(page, f"{PG} .mgw-boundary", "Number(el.dataset.framesDrawn) >= 1")
        assert page.locator(f"{PG} .mgw-heatmap").count() == 1
        # a control builds a new trainer and new inner widgets, here too
        page.locator(f"{PG} [data-control='activation'] select").select_option("tanh")
        wait_data(page, PG, "Number(el.dataset.partsRendered) >= 4")
        wait_data(page, f"{PG} .mgw-boundary", "Number(el.dataset.framesDrawn) >= 1")
        toolbar = page.locator(f"{PG} .mgw-pg-toolbar")
        toolbar.get_by_role("button", name="▶ Play", exact=True).click()
        wait_data(page, PG, "Number(el.dataset.step) >= 5")
        wait_data(page, f"{PG} .mgw-boundary", "Number(el.dataset.step) >= 5")
        toolbar.get_by_role("button", name="❚❚ Pause", exact=True).click()
        wait_data(page, PG, "el.dataset.status === 'paused'")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "playground-marimo.png"))
    finally:
        page.close()
