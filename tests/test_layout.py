"""row / column: ipywidgets boxes in Jupyter, marimo stacks in marimo."""

from __future__ import annotations

import ipywidgets
import pytest

import micrograd_widgets.layout as layout
from micrograd_widgets import GraphWidget, column, row
from tests.helpers import lecture_expression


@pytest.fixture
def graphs():
    a, b = GraphWidget(lecture_expression()), GraphWidget(lecture_expression())
    yield a, b
    a.close()
    b.close()


def test_in_jupyter_row_and_column_are_ipywidgets_boxes(graphs):
    a, b = graphs
    assert not layout.in_marimo()
    box = row(a, b)
    assert isinstance(box, ipywidgets.HBox) and box.children == (a, b)
    assert box.layout.flex_flow == "row wrap"
    assert row([a, b]).children == (a, b)  # a list works too
    stacked = column(a, row(b, "a caption"))
    assert isinstance(stacked, ipywidgets.VBox)
    inner = stacked.children[1]
    assert isinstance(inner.children[1], ipywidgets.Label)
    assert inner.children[1].value == "a caption"  # text as text


def test_bad_items_are_clear_errors(graphs):
    with pytest.raises(ValueError, match=r"at least one widget"):
        row()
    with pytest.raises(TypeError, match=r"column\(\) lays out widgets .* got a int"):
        column(graphs[0], 3)


def test_in_marimo_row_and_column_are_marimo_stacks_of_anywidgets(graphs, monkeypatch):
    mo = pytest.importorskip("marimo")
    a, b = graphs
    monkeypatch.setattr(layout, "in_marimo", lambda: True)
    wrapped = []
    real = mo.ui.anywidget

    def spy(widget):
        wrapped.append(widget)
        return real(widget)

    monkeypatch.setattr(mo.ui, "anywidget", spy)
    stack = column(row(a, b), "text")
    assert isinstance(stack, mo.Html)
    assert wrapped == [a, b]  # each widget wrapped once, the text passed as it is
    assert "text" in stack.text
