"""Saved notebooks and their widgets (issue 7, item 6): what the README says, in real JupyterLab.

By default JupyterLab saves no widget state, and a reopened notebook shows "model not found";
with the setting the README names (Settings → Save Widget State Automatically) the saved file
holds the widget, and the reopened notebook draws it without running anything.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from lab_harness import _FIND_PANEL, _KERNEL_READY, graph_nodes, wait_attr

pytestmark = pytest.mark.browser

NAME = "saved-state"
GRAPH = """
from micrograd_widgets import Value, GraphWidget
a = Value(2.0, label="a"); b = Value(-3.0, label="b"); c = Value(10.0, label="c")
L = a * b + c; L.label = "L"
L.backward()
GraphWidget(L)
"""
SETTING = "Save Widget State Automatically"
COMMAND = "@jupyter-widgets/jupyterlab-manager:saveWidgetState"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def save(nb) -> None:
    nb.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    nb.page.wait_for_function("() => !window.__mgwPanel.context.model.dirty")


def reopen_without_kernel(nb) -> None:
    """Shut the kernel down and load the page again: the notebook as a saved file reopens."""
    nb.shutdown()
    nb.page.reload()
    nb.page.wait_for_function(_FIND_PANEL, arg=f"{NAME}.ipynb")
    nb.page.evaluate(_KERNEL_READY, 60_000)


def saved_widget_types(path) -> list[str]:
    metadata = nbformat.read(path, as_version=4).metadata
    models = metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    ids = (m["state"].get("_anywidget_id", "") for m in models.values())
    return sorted(i for i in ids if i)  # (ipywidgets layout models have none)


def set_saving(nb, on: bool) -> None:
    """Toggle the setting through JupyterLab's Settings menu, as the README tells users to."""
    toggled = f"() => window.jupyterapp.commands.isToggled('{COMMAND}')"
    if nb.page.evaluate(toggled) == on:
        return
    nb.page.locator("#jp-MainMenu .lm-MenuBar-item", has_text=re.compile(r"^Settings$")).click()
    nb.page.locator(".lm-Menu-item", has_text=SETTING).click()
    nb.page.wait_for_function(f"() => ({toggled})() === {str(on).lower()}")


def test_a_saved_notebook_keeps_its_graph_only_with_the_setting_the_readme_names(notebook, lab):
    path = lab.root / f"{NAME}.ipynb"
    nb = notebook([GRAPH], name=NAME)
    try:
        wait_attr(nb, ".mgw-graph", "el.dataset.layoutCount === '1'")
        save(nb)
        assert saved_widget_types(path) == []  # JupyterLab's default: no widget state saved
        reopen_without_kernel(nb)
        nb.page.wait_for_function(
            "() => document.querySelector('.jp-OutputArea')?.textContent.includes('model not found')"
        )
        nb.screenshot("default-model-not-found")

        set_saving(nb, True)  # the setting, where the README says it is
        nb.run_all()
        nb.wait_for_cells()
        wait_attr(nb, ".mgw-graph", "Number(el.dataset.layoutCount) >= 1")
        save(nb)
        assert saved_widget_types(path) == ["micrograd_widgets.graph.GraphWidget"]
        reopen_without_kernel(nb)  # drawn from the file: no cell has run
        wait_attr(nb, ".mgw-graph", "Number(el.dataset.layoutCount) >= 1")
        assert set(graph_nodes(nb)) == {"a", "b", "c", "L", "*·1"}
        assert "model not found" not in nb.page.locator(".jp-OutputArea").first.inner_text()
        assert nb.page.evaluate(
            "() => window.__mgwPanel.content.widgets[0].model.executionCount"
        ) in (None, 1)  # the saved count: nothing re-ran
        nb.screenshot("saved-state-reopened")
    finally:
        set_saving(nb, False)  # the lab's settings outlive this test
