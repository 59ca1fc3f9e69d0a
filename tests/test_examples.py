"""Every notebook in examples/ is saved clean and runs top to bottom in a real kernel (nbclient).

Each notebook runs once per test session (``executed``); the tests after the generic ones check
what each prints: the seed post's numbers (01), the step-through arithmetic (02), and the recorded
training run saved with the notebook's widget state (03).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(path.name for path in EXAMPLES.glob("*.ipynb"))


def cell_text(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell printed or displayed as text."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output and "text/plain" in output.data:
            parts.append(output.data["text/plain"])
    return "".join(parts)


@functools.cache
def executed(name: str) -> nbformat.NotebookNode:
    """The notebook ``name`` after running it top to bottom (03: a short run of 3 steps)."""
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    for cell in nb.cells:
        cell.source = cell.source.replace("STEPS = 100", "STEPS = 3")
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(EXAMPLES)}},
        store_widget_state=True,
    ).execute()
    return nb


def code_outputs(name: str) -> list[str]:
    return [cell_text(c) for c in executed(name).cells if c.cell_type == "code"]


def test_every_example_notebook_is_tested_here():
    assert NOTEBOOKS == [
        "01_engine.ipynb",
        "02_computation_graph.ipynb",
        "03_train_moons.ipynb",
        "04_one_sample.ipynb",
        "05_playground.ipynb",
    ]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_saved_clean_with_a_kernelspec(name):
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code_cells), "clear outputs"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom_without_errors(name):
    nb = executed(name)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []


# ---- 01_engine: the lecture's snippets -----------------------------------------------------------


def test_engine_notebook_shows_the_seed_numbers():
    outputs = code_outputs("01_engine.ipynb")
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


def test_engine_notebook_training_reaches_high_accuracy():
    final = next(text for text in code_outputs("01_engine.ipynb") if text.startswith("loss "))
    accuracy = float(final.rsplit("accuracy ", 1)[1].rstrip("%\n"))
    assert accuracy >= 90.0, final


# ---- 02_computation_graph: live graphs and the step-through --------------------------------------


def test_graph_notebook_steps_and_matches_backward():
    joined = "\n".join(code_outputs("02_computation_graph.ipynb"))
    assert "L.grad = 1.0  (seed: ∂L/∂L = 1)" in joined  # graph.step() printed its arithmetic
    printed = dict(line.split(":", 1) for line in joined.splitlines() if ":" in line)
    step_through = ast.literal_eval(printed["step-through"].strip())
    backward = ast.literal_eval(printed["backward()"].strip())
    assert set(backward) == {"a", "b", "c", "f"}  # the leaves, the same in both
    assert {name: step_through[name] for name in backward} == backward
    # save_svg answers with what it will do (no view in nbclient: the file is not written)
    assert "written when the view replies" in joined


# ---- 03_train_moons: both training widgets, and a diverging run ----------------------------------


def test_training_notebook_trains_and_saves_the_recorded_run():
    nb = executed("03_train_moons.ipynb")
    assert "step 3: loss" in "".join(code_outputs("03_train_moons.ipynb"))
    # the recorded run is saved with the notebook, so the slider works after the kernel is gone
    state = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    buffers = [{b["path"][0]: b["data"] for b in m.get("buffers", [])} for m in state.values()]
    # a boundary: a recorded run and a picture frame (the heatmap records too, but has no frame)
    boundaries = [b for b in buffers if "recording_meta" in b and "frame" in b]
    assert len(boundaries) == 2  # the live demo and the diverging one
    assert boundaries[0]["recording"] and boundaries[0]["frame"]  # base64 of the bytes


# ---- 05_playground: a lesson preset, draw your own, copy as code ---------------------------------


def test_playground_notebook_preset_drawing_and_code():
    joined = "\n".join(code_outputs("05_playground.ipynb"))
    assert '"hidden": [2]' in joined and '"max_steps": 300' in joined  # the preset as JSON
    assert "config['hidden'] = [4, 0] is not allowed" in joined  # a clear error
    assert "ready: 6 training points" in joined  # drawn points, then a trainer
    assert "cross_entropy 3" in joined  # three classes: the loss follows, one output each
    assert "trainer.run(25)" in joined  # the code, run for the steps done
    assert "same history: True" in joined


# ---- 04_one_sample: a followed sample graph, its step-through and the numeric check -------------


def test_one_sample_notebook_follows_steps_and_checks_numerically():
    out = "".join(code_outputs("04_one_sample.ipynb"))
    assert "sample 0 at step 3: loss" in out
    assert "recorded steps, from 0 to 3" in out
    assert "loss.grad = 1.0  (seed" in out  # the step-through starts at the loss
    assert "x0.grad = 0 + " in out or "x1.grad = 0 + " in out  # an input's += sum
    assert out.count("(from layers.0.neurons.") >= 16  # one contribution per first-layer neuron
    worst = float(out.split("weights: ")[1].split()[0])
    assert worst < 1e-6
