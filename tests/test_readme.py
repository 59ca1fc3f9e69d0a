"""The README's Python examples run as written (the %pip line aside)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    return [b for b in blocks if not b.lstrip().startswith("%pip")]


def test_readme_examples_run_top_to_bottom(tmp_path: Path) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 3, "the README lost its quickstart examples"
    script = "\n".join(blocks) + (
        "\ntrainer.wait(timeout=1.0)\ntrainer.stop()\n"
        "assert abs(Value(2.0).tanh().data - 0.9640275800758169) < 1e-15\n"
        "print('accuracy', acc)\n"
    )
    (tmp_path / "readme_example.py").write_text(script)
    done = subprocess.run(
        [sys.executable, "readme_example.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    accuracy = float(done.stdout.rsplit("accuracy", 1)[1])
    assert accuracy >= 0.8  # the seed's 32 steps learn the moons


def test_contributing_maps_every_module_and_the_readme_points_to_it() -> None:
    contributing = (README.parent / "CONTRIBUTING.md").read_text()
    package = README.parent / "micrograd_widgets"
    for module in sorted(p.name for p in package.glob("*.py") if p.name != "__init__.py"):
        assert f"`{module}`" in contributing, f"CONTRIBUTING.md does not say what {module} holds"
    development = README.read_text().split("## Development", 1)[1].split("\n## ", 1)[0]
    assert "(CONTRIBUTING.md)" in development


def test_readme_examples_and_text_repr_say_how_to_keep_widgets_in_a_saved_notebook() -> None:
    """JupyterLab saves no widget state by default: say so where users look (the setting is
    checked to exist, and to work, in tests/browser/test_saved_state_browser.py)."""
    import nbformat

    from micrograd_widgets import _widget

    setting = "Settings → Save Widget State Automatically"
    section = README.read_text().split("## Saving notebooks with live widgets\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    assert setting in section and "model not found" in section
    for widget in ("GraphWidget", "DecisionBoundary", "GradientHeatmap"):  # a saved size each
        assert re.search(rf"\| `{widget}` \| \d+ KB", section), widget
    assert "bench/saved_widget_state.py" in section  # how the sizes were measured
    for name in ("02_computation_graph.ipynb", "03_train_moons.ipynb"):  # those with widgets
        first = nbformat.read(README.parent / "examples" / name, as_version=4).cells[0]
        assert setting in first.source, name
    assert setting in _widget.TEXT_REPR  # what a front-end without the widget shows
