"""The harness itself: cells run in a real kernel behind JupyterLab, and errors surface."""

import pytest
from lab_harness import CellError


def test_cells_run_and_the_kernel_answers(notebook):
    nb = notebook(["x = 6 * 7", "print('hello from a cell')"])
    assert nb.eval("x") == "42"
    assert nb.execute("print(x + 1)").strip() == "43"
    assert nb.page.get_by_text("hello from a cell", exact=True).is_visible()
    with pytest.raises(CellError, match="ZeroDivisionError"):
        nb.execute("1 / 0")


def test_a_failing_cell_fails_the_test_with_its_traceback(notebook):
    with pytest.raises(CellError, match="NameError: name 'undefined_name' is not defined"):
        notebook(["undefined_name"])
