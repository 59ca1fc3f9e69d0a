"""Real-browser tests of the Playground in JupyterLab: the controls, the inner boundary and
heatmap (rendered through anywidget's host.getWidget), the config round trip, hide/lock, Copy as
code. Waits are on data-* attributes the views set; screenshots in tests/artifacts/screenshots/.
"""

from __future__ import annotations

import json

import pytest
from lab_harness import wait_attr

pytestmark = pytest.mark.browser

PG = ".mgw-playground"
BOUNDARY = ".mgw-playground .mgw-boundary"
HEATMAP = ".mgw-playground .mgw-heatmap"


def control(nb, key: str):
    return nb.page.locator(f"{PG} [data-control='{key}']")


def config(nb) -> dict:
    return json.loads(nb.execute("import json; print(json.dumps(pg.config))"))


def test_playground_renders_its_parts_and_trains(notebook):
    nb = notebook(["from micrograd_widgets import Playground\npg = Playground()\npg"])
    wait_attr(nb, PG, "Number(el.dataset.partsRendered) >= 2")
    wait_attr(nb, BOUNDARY, "el.dataset.framesDrawn >= 1")
    assert nb.page.locator(HEATMAP).count() == 1
    nb.screenshot("initial")
    nb.page.locator(f"{PG} .mgw-pg-toolbar").get_by_role("button", name="▶ Play").click()
    wait_attr(nb, PG, "Number(el.dataset.step) >= 5")
    wait_attr(nb, BOUNDARY, "Number(el.dataset.step) >= 5")
    nb.page.locator(f"{PG} .mgw-pg-toolbar").get_by_role("button", name="❚❚ Pause").click()
    wait_attr(nb, PG, "el.dataset.status === 'paused'")
    nb.screenshot("trained")
