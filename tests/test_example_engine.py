"""examples/01_engine.ipynb runs top to bottom and prints the seed post's numbers."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "01_engine.ipynb"


def cell_text(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell printed or displayed as text."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output and "text/plain" in output.data:
            parts.append(output.data["text/plain"])
    return "".join(parts)


def test_notebook_is_saved_clean_with_a_kernelspec():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code_cells)


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    return nb


def test_notebook_runs_and_shows_the_seed_numbers(executed):
    outputs = [cell_text(c) for c in executed.cells if c.cell_type == "code"]
    joined = "\n".join(outputs)
    for expected in [
        "Value(data=-2.0",
        "Value(data=-1.0",
        "Value(data=4.0",
        "Value(data=0.5",
        "[1.0, 2.0, 3.0, 4.0, 1.0]",
        "337",
        "relu(0.0) = 0.0, slope 0.0",
    ]:
        assert expected in joined, expected
    # the seed printed tanh(2) = 0.964027580075817 and its grad 0.0706508248531642
    tanh_cell = next(text for text in outputs if text.startswith("Value(data=0.964"))
    assert float(tanh_cell.split("=")[1].split(",")[0]) == pytest.approx(
        0.964027580075817, abs=1e-15
    )
    grad_cell = outputs[outputs.index(tanh_cell) + 1]
    assert float(grad_cell) == pytest.approx(0.0706508248531642, abs=1e-15)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []


def test_notebook_training_reaches_high_accuracy(executed):
    final = next(cell_text(c) for c in executed.cells if cell_text(c).startswith("loss "))
    accuracy = float(final.rsplit("accuracy ", 1)[1].rstrip("%\n"))
    assert accuracy >= 90.0, final
