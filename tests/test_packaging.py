"""The built wheel and sdist carry the JS bundle, and a clean venv can import and build a widget.

Slow (builds in isolated environments and installs into a new venv): ~1 minute.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BUNDLE = [
    "graph.js", "graph.css", "boundary.js", "boundary.css", "heatmap.js", "heatmap.css",
    "offline.js",  # the loader of exported offline pages (export.py)
]  # fmt: skip


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    return out


def test_wheel_and_sdist_contain_the_js_bundle(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for asset in BUNDLE:
        assert f"micrograd_widgets/static/{asset}" in names, f"{asset} missing from {wheel.name}"
    assert wheel.name.startswith("micrograd_widgets-0.1.0-py3-none-any")

    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    for asset in BUNDLE:
        assert f"micrograd_widgets/static/{asset}" in names, f"{asset} missing from {sdist.name}"
    assert "js/graph/widget.ts" in names and "package.json" in names


def test_a_clean_venv_installs_the_wheel_and_builds_a_widget(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True
    )
    probe = (
        "import micrograd_widgets as mw\n"
        "a = mw.Value(2.0, label='a'); b = a * a; b.backward()\n"
        "w = mw.GraphWidget(b)\n"
        "assert 'default' in w._esm and 'is missing' not in w._esm, w._esm[:200]\n"
        "bundle = w._repr_mimebundle_()\n"
        "print(mw.__file__, len(w._esm), sorted(bundle[0]))\n"
    )
    done = subprocess.run(
        [str(python), "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    location, size, mimetypes = done.stdout.split(" ", 2)
    assert str(venv) in location  # the installed copy, not the source tree
    assert int(size) > 1000
    assert "application/vnd.jupyter.widget-view+json" in mimetypes
