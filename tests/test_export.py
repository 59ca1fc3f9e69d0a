"""save_html and the notebook export: what the page carries, and bad input (no browser here;
tests/browser/test_export_browser.py opens the pages with the network blocked)."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest

from micrograd_widgets import MLP, DecisionBoundary, GradientHeatmap, GraphWidget, Trainer, datasets
from micrograd_widgets.export import (
    WIDGET_STATE,
    WIDGET_VIEW,
    ExportError,
    export_notebook,
    main,
    notebook_html,
    save_html,
    saved_model,
)
from tests.helpers import lecture_expression


def page_data(page: str) -> dict:
    pattern = r'<script type="application/json" id="mgw-offline-data">(.*?)</script>'
    match = re.search(pattern, page, re.S)
    assert match, "the page carries its widgets as JSON"
    return json.loads(match.group(1))


@pytest.fixture
def trained():
    trainer = Trainer(MLP(2, [8, 8, 1], seed=1), datasets.moons(64, noise=0.1, seed=0))
    boundary, heatmap = DecisionBoundary(trainer), GradientHeatmap(trainer)
    trainer.run(6)
    boundary._sync_recording()
    yield trainer, boundary, heatmap
    boundary.close()
    heatmap.close()


def test_save_html_inlines_modules_once_and_every_state(tmp_path, trained):
    _, boundary, heatmap = trained
    graph = GraphWidget(lecture_expression())
    out = save_html(tmp_path / "lesson.html", graph, boundary, heatmap)
    page = out.read_text(encoding="utf-8")
    data = page_data(page)
    assert len(data["widgets"]) == 3
    # three widget types, three modules; the state holds no copy of them
    assert len(data["modules"]) == 3
    for widget in data["widgets"].values():
        assert "_esm" not in widget["state"] and "_css" not in widget["state"]
        assert widget["module"] in data["modules"]
    # nothing is fetched: no http(s) URL anywhere in a src/href, no CDN
    assert not re.search(r"""(src|href)=["']?https?:""", page)
    assert "<link" not in page and not re.search(r"<script[^>]*\bsrc=", page)
    # each placeholder names a saved widget
    assert set(re.findall(r'data-mgw-widget="(w\d+)"', page)) == set(data["widgets"])


def test_saved_buffers_round_trip_to_the_widget_bytes(tmp_path, trained):
    _, boundary, _ = trained
    page = save_html(tmp_path / "b.html", boundary).read_text(encoding="utf-8")
    (widget,) = page_data(page)["widgets"].values()
    buffers = {tuple(b["path"]): base64.b64decode(b["data"]) for b in widget["buffers"]}
    assert buffers[("frame",)] == boundary.frame
    assert buffers[("recording",)] == boundary.recording
    frames = np.frombuffer(buffers[("recording",)], np.uint8).reshape(
        -1, boundary.recording_resolution**2
    )
    assert len(frames) == 7  # the start and the 6 steps
    assert widget["state"]["step"] == 6


def test_user_text_cannot_end_the_script_early(tmp_path):
    from micrograd_widgets import Value

    x = Value(1.0, label="</script><script>alert(1)</script>")
    page = save_html(tmp_path / "x.html", GraphWidget(x * 2)).read_text(encoding="utf-8")
    assert page.count("</script>") == 3  # the theme script, the data and the loader, nothing else
    assert "<script>alert(1)" not in page
    assert "</script><script>alert(1)</script>" in json.dumps(page_data(page))


def test_save_html_without_widgets_saves_every_open_one(tmp_path, trained):
    data = page_data(save_html(tmp_path / "all.html").read_text(encoding="utf-8"))
    widgets = data["widgets"].values()
    anywidget_ids = {w["state"]["_anywidget_id"].rsplit(".", 1)[-1] for w in widgets}
    assert {"DecisionBoundary", "GradientHeatmap"} <= anywidget_ids


@pytest.mark.parametrize("name", ["page.txt", "page", "page.ipynb"])
def test_unknown_extension_is_refused_and_nothing_written(tmp_path, trained, name):
    _, boundary, _ = trained
    with pytest.raises(ExportError, match=r"\.html or \.htm"):
        save_html(tmp_path / name, boundary)
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_and_folder_path_are_clear_errors(tmp_path, trained):
    _, boundary, _ = trained
    with pytest.raises(ExportError, match="does not exist"):
        save_html(tmp_path / "nowhere" / "page.html", boundary)
    (tmp_path / "d.html").mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        save_html(tmp_path / "d.html", boundary)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_folder_is_a_clear_error(tmp_path, trained):
    _, boundary, _ = trained
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(ExportError, match="cannot write"):
            save_html(locked / "page.html", boundary)
    finally:
        locked.chmod(stat.S_IRWXU)


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path, trained, monkeypatch):
    _, boundary, _ = trained
    out = tmp_path / "page.html"
    out.write_text("old")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(ExportError, match="No space left"):
        save_html(out, boundary)
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_bad_widgets_are_refused(tmp_path, trained):
    _, boundary, _ = trained
    with pytest.raises(ExportError, match="argument 2 is a str"):
        save_html(tmp_path / "x.html", boundary, "not a widget")
    graph = GraphWidget(lecture_expression())
    graph.close()
    with pytest.raises(ExportError, match="was closed"):
        saved_model(graph)
    assert not (tmp_path / "x.html").exists()


def test_nothing_open_is_a_clear_error(tmp_path, monkeypatch):
    import micrograd_widgets.export as export

    monkeypatch.setattr(export, "_live_widgets", list)
    with pytest.raises(ExportError, match="no widget to save"):
        save_html(tmp_path / "x.html")


# ---- notebooks ------------------------------------------------------------------------------


def notebook_with(tmp_path: Path, widgets: dict, cells: list[dict] | None = None) -> Path:
    """A notebook whose metadata holds ``widgets``' saved models, one output cell per widget."""
    models = {name: saved_model(w) for name, w in widgets.items()}
    view_cells = [
        {
            "cell_type": "code",
            "source": f"{name}",
            "metadata": {},
            "execution_count": 1,
            "outputs": [
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {
                        "text/plain": "DecisionBoundary(...)",
                        WIDGET_VIEW: {"model_id": name, "version_major": 2, "version_minor": 0},
                    },
                }
            ],
        }
        for name in widgets
    ]
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"widgets": {WIDGET_STATE: {"state": models, "version_major": 2}}},
        "cells": (cells or []) + view_cells,
    }
    path = tmp_path / "lesson.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_notebook_page_has_cells_outputs_and_widgets(tmp_path, trained):
    _, boundary, _ = trained
    png = base64.b64encode(b"\x89PNG fake").decode()
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Moons\n", "A *text* <b>raw</b>"]},
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": 1,
            "source": "print(1 < 2)",
            "outputs": [
                {"output_type": "stream", "name": "stdout", "text": ["True\n"]},
                {"output_type": "display_data", "metadata": {}, "data": {"image/png": png}},
            ],
        },
    ]
    page = notebook_html(notebook_with(tmp_path, {"b1": boundary}, cells))
    assert "<h1>Moons</h1>" in page and "<em>text</em>" in page
    assert "&lt;b&gt;raw&lt;/b&gt;" in page  # raw HTML in markdown shown as text
    assert "print(1 &lt; 2)" in page and "True\n" in page
    assert f"data:image/png;base64,{png}" in page
    assert 'data-mgw-widget="b1"' in page
    assert list(page_data(page)["widgets"]) == ["b1"]


def test_notebook_without_widget_state_names_the_setting(tmp_path, trained):
    _, boundary, _ = trained
    path = notebook_with(tmp_path, {"b1": boundary})
    nb = json.loads(path.read_text())
    nb["metadata"] = {}
    path.write_text(json.dumps(nb))
    with pytest.raises(ExportError, match="Save Widget State Automatically") as info:
        export_notebook(path, tmp_path / "out.html")
    assert "--execute" in str(info.value) and "no saved state" in str(info.value)
    assert not (tmp_path / "out.html").exists()


def test_notebook_with_no_widgets_at_all_is_a_clear_error(tmp_path):
    path = tmp_path / "plain.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}))
    with pytest.raises(ExportError, match="no widget output"):
        notebook_html(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.ipynb", None, "no notebook at"),
        ("broken.ipynb", "{not json", "cannot read the notebook"),
        ("list.ipynb", "[1, 2]", "not a Jupyter notebook"),
        ("lesson.txt", "{}", "expected a .ipynb file"),
    ],
)
def test_bad_notebooks_are_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(ExportError, match=message):
        notebook_html(path)


def test_cli_writes_the_page_and_reports_errors(tmp_path, trained, capsys):
    _, boundary, _ = trained
    path = notebook_with(tmp_path, {"b1": boundary})
    assert main([str(path), "-o", str(tmp_path / "lesson.html")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert 'data-mgw-widget="b1"' in (tmp_path / "lesson.html").read_text(encoding="utf-8")
    assert main([str(path), "-o", str(tmp_path / "lesson.pdf")]) == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "lesson.pdf").exists()


def test_permission_denied_is_a_clear_error_even_as_root(tmp_path, trained, monkeypatch):
    # root writes anywhere, so the folder's mode cannot refuse it: refuse at the file system call
    import tempfile

    _, boundary, _ = trained

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ExportError, match=r"cannot write .*Permission denied"):
        save_html(tmp_path / "page.html", boundary)
    assert list(tmp_path.iterdir()) == []


def test_an_ipywidgets_box_of_our_widgets_is_drawn_as_a_column_or_row(tmp_path, trained):
    _, boundary, heatmap = trained
    path = notebook_with(tmp_path, {"b1": boundary, "h1": heatmap})
    nb = json.loads(path.read_text())
    models = nb["metadata"]["widgets"][WIDGET_STATE]["state"]
    models["box"] = {
        "model_name": "VBoxModel",
        "state": {"_model_name": "VBoxModel", "children": ["IPY_MODEL_b1", "IPY_MODEL_h1"]},
    }
    cell = nb["cells"][0]
    cell["outputs"][0]["data"][WIDGET_VIEW]["model_id"] = "box"
    nb["cells"] = [cell]
    path.write_text(json.dumps(nb))
    page = notebook_html(path)
    assert re.search(
        r'<div class="mgw-widget-column">.*data-mgw-widget="b1".*data-mgw-widget="h1".*</div>',
        page,
        re.S,
    )
    assert set(page_data(page)["widgets"]) == {"b1", "h1"}


def test_a_boundary_at_defaults_saves_within_its_1_mb_budget():
    """The README's budget: a DecisionBoundary with default settings, its recording full
    (max_recorded frames), takes at most 1 MB in a saved notebook."""
    trainer = Trainer(MLP(2, [4, 1], seed=1), datasets.moons(200, noise=0.1, seed=0))
    boundary = DecisionBoundary(trainer)
    try:
        trainer.run(300)  # more than max_recorded (120) steps: the recording is thinned, full
        boundary._sync_recording()
        frames = len(boundary.recording) // boundary.recording_resolution**2
        assert 60 <= frames <= 120
        size = len(json.dumps(saved_model(boundary), separators=(",", ":")).encode())
        assert size <= 1_000_000, f"{size:,} bytes"
    finally:
        boundary.close()
