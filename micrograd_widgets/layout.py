"""Widgets side by side (:func:`row`) or one under another (:func:`column`), in Jupyter and marimo.

>>> from micrograd_widgets import GraphWidget, Value, column, row
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> row(GraphWidget(a * b), GraphWidget(a + b))   # side by side; column(...) stacks them

In Jupyter (JupyterLab, Notebook 7, VS Code, Colab) these are ipywidgets ``HBox`` / ``VBox``:
their rows wrap when the window is narrow. marimo runs anywidget widgets but not ipywidgets
containers, so in a marimo notebook the same call gives ``mo.hstack`` / ``mo.vstack`` of each
widget wrapped in ``mo.ui.anywidget`` (anything else is passed to marimo as it is). An exported
offline page lays an HBox / VBox out as a row / column too.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["column", "in_marimo", "row"]


def in_marimo() -> bool:
    """True when running inside a marimo notebook or app (marimo is imported and running)."""
    marimo = sys.modules.get("marimo")
    if marimo is None:
        return False
    try:
        return bool(marimo.running_in_notebook())
    except Exception:  # an old marimo without the check, or one in a broken state
        return False


def _marimo_item(item: Any) -> Any:
    import anywidget
    import marimo as mo

    if isinstance(item, anywidget.AnyWidget):
        return mo.ui.anywidget(item)
    return item


def _checked(items: tuple[Any, ...], what: str) -> list[Any]:
    if len(items) == 1 and isinstance(items[0], (list, tuple)):
        items = tuple(items[0])  # row([a, b]) works too
    if not items:
        raise ValueError(f"{what}() needs at least one widget, e.g. {what}(boundary, heatmap)")
    return list(items)


def _ipywidgets_item(item: Any, what: str) -> Any:
    import ipywidgets

    if isinstance(item, ipywidgets.Widget):
        return item
    if isinstance(item, str):
        return ipywidgets.Label(item)  # text as text, never HTML
    raise TypeError(
        f"{what}() lays out widgets (or text); got a {type(item).__name__}. In Jupyter, "
        "display other objects in their own cell."
    )


def row(*items: Any) -> Any:
    """``items`` side by side, wrapping below each other when the window is too narrow."""
    widgets = _checked(items, "row")
    if in_marimo():
        import marimo as mo

        return mo.hstack([_marimo_item(w) for w in widgets], justify="start", gap=1, wrap=True)
    import ipywidgets

    box = ipywidgets.HBox([_ipywidgets_item(w, "row") for w in widgets])
    box.layout.flex_flow = "row wrap"  # theme.css also lets our views shrink in an HBox
    return box


def column(*items: Any) -> Any:
    """``items`` one under another."""
    widgets = _checked(items, "column")
    if in_marimo():
        import marimo as mo

        return mo.vstack([_marimo_item(w) for w in widgets], gap=1)
    import ipywidgets

    return ipywidgets.VBox([_ipywidgets_item(w, "column") for w in widgets])
