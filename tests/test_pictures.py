"""snapshot() / to_png() / to_svg() / save_animation(): pictures that match what the view shows."""

from __future__ import annotations

import base64
import io
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.image import AxesImage
from PIL import Image

import micrograd_widgets._pictures as pictures
from micrograd_widgets import MLP, DecisionBoundary, GradientHeatmap, GraphWidget, Trainer, datasets
from micrograd_widgets._pictures import PictureError, boundary_grid, recorded_frames
from tests.helpers import lecture_expression


@pytest.fixture(scope="module")
def trained():
    trainer = Trainer(MLP(2, [8, 8, 1], seed=1), datasets.moons(64, noise=0.1, seed=0))
    boundary, heatmap = DecisionBoundary(trainer, resolution=60), GradientHeatmap(trainer)
    trainer.run(12)
    boundary._sync_recording()
    yield trainer, boundary, heatmap
    boundary.close()
    heatmap.close()


def rgba(fig) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].astype(int)


def to_pixel(ax, x: float, y: float, height: int) -> tuple[int, int]:
    px, py = ax.transData.transform((x, y))
    return round(float(px)), round(float(height - py))


def bilinear(scores: np.ndarray, extent, x: float, y: float) -> float:
    xmin, xmax, ymin, ymax = extent
    rows, cols = scores.shape
    c = (x - xmin) / (xmax - xmin) * (cols - 1)
    r = (ymax - y) / (ymax - ymin) * (rows - 1)
    c0, r0 = min(int(c), cols - 2), min(int(r), rows - 2)
    tc, tr = c - c0, r - r0
    top = scores[r0, c0] * (1 - tc) + scores[r0, c0 + 1] * tc
    bottom = scores[r0 + 1, c0] * (1 - tc) + scores[r0 + 1, c0 + 1] * tc
    return top * (1 - tr) + bottom * tr


# ---- the decision boundary ------------------------------------------------------------------


def test_boundary_snapshot_shows_the_views_frame(trained):
    _, boundary, _ = trained
    fig = boundary.snapshot()
    ax = fig.axes[0]
    (image,) = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    scores, scale = boundary_grid(boundary)
    np.testing.assert_array_equal(np.asarray(image.get_array()), scores)
    assert image.get_clim() == (-scale, scale)
    assert "step 12" in ax.get_title()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    test_key = ["test points"] if boundary.test_points else []
    assert legend == ["+1", "−1", *test_key, "score 0"]


def test_boundary_colour_per_cell_has_the_frames_sign(trained):
    _, boundary, _ = trained
    fig = boundary.snapshot()
    ax = fig.axes[0]
    pixels = rgba(fig)
    scores, scale = boundary_grid(boundary)
    xmin, xmax, ymin, ymax = boundary.extent
    res = scores.shape[0]
    xs, ys = np.linspace(xmin, xmax, res), np.linspace(ymax, ymin, res)
    agree = total = 0
    for r in range(2, res - 2, 3):
        for c in range(2, res - 2, 3):
            if abs(scores[r, c]) < 0.25 * scale:
                continue  # near the boundary the colour is nearly white
            px, py = to_pixel(ax, xs[c], ys[r], pixels.shape[0])
            red, _, blue = pixels[py, px]
            total += 1
            agree += (red > blue) == (scores[r, c] > 0)
    assert total > 100
    assert agree / total > 0.97  # the few disagreements are cells under a drawn point


def test_boundary_contour_runs_where_the_score_is_zero(trained):
    _, boundary, _ = trained
    fig = boundary.snapshot()
    scores, scale = boundary_grid(boundary)
    (contour,) = [c for c in fig.axes[0].collections if hasattr(c, "get_paths") and c.get_paths()][
        :1
    ]
    vertices = np.vstack([p.vertices for p in contour.get_paths() if len(p.vertices)])
    assert len(vertices) > 10
    values = [bilinear(scores, boundary.extent, x, y) for x, y in vertices]
    assert np.max(np.abs(values)) < 0.02 * scale


def test_k_class_points_get_a_legend_entry_per_class():
    labels = np.array([0, 1, 2, 1], dtype=np.int8)
    fake = SimpleNamespace(
        resolution=4,
        frame=np.linspace(-1, 1, 16, dtype=np.float32).tobytes(),
        frame_scale=1.0,
        extent=[0.0, 1.0, 0.0, 1.0],
        points=np.array([[0.1, 0.1], [0.5, 0.5], [0.9, 0.9], [0.2, 0.8]], np.float32).tobytes(),
        labels=labels.tobytes(),
        test_points=b"",
        test_labels=b"",
        step=3,
        current={},
    )
    fig = pictures.boundary_figure(fake)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["class 0", "class 1", "class 2", "score 0"]


# ---- the gradient heatmap -------------------------------------------------------------------


def test_heatmap_snapshot_shows_each_layers_matrix_in_the_mode(trained):
    trainer, _, heatmap = trained
    heatmap.mode = "weights"
    heatmap._throttle.flush()
    try:
        fig = heatmap.snapshot()
        images = [a for ax in fig.axes for a in ax.get_images()]
        assert len(images) == len(trainer.model.layers)
        for image, layer in zip(images, trainer.model.layers):
            expected = np.array([[*(w.data for w in n.w), n.b.data] for n in layer.neurons])
            np.testing.assert_allclose(np.asarray(image.get_array()), expected, rtol=1e-6)
            lo, hi = image.get_clim()
            assert lo == -hi and hi == pytest.approx(np.abs(expected).max(), rel=1e-6)
        assert fig._suptitle.get_text().startswith("weights · step 12")
    finally:
        heatmap.mode = "grads"


def test_heatmap_hatches_dead_relu_rows():
    model = MLP(2, [3, 1], seed=0)
    neuron = model.layers[0].neurons[0]  # never fires on this data
    for w in neuron.w:
        w.data = 0.0
    neuron.b.data = -5.0
    heatmap = GradientHeatmap(model, X=np.array([[0.5, 0.5], [1.0, -1.0]]))
    try:
        fig = heatmap.snapshot()
        hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
        dead = np.frombuffer(heatmap.dead, np.uint8)[:3]
        assert dead[0] == 1
        assert [round(p.get_y() + 0.5) for p in hatched] == np.flatnonzero(dead).tolist()
        assert "dead ReLUs" in fig._suptitle.get_text()
    finally:
        heatmap.close()


# ---- files ----------------------------------------------------------------------------------


def test_to_png_and_to_svg_write_real_pictures(tmp_path, trained):
    _, boundary, heatmap = trained
    png = boundary.to_png(tmp_path / "b.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(png).size == (460, 460)
    svg = heatmap.to_svg(tmp_path / "h.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_bad_paths_and_widgets_are_clear_errors(tmp_path, trained):
    _, boundary, heatmap = trained
    with pytest.raises(PictureError, match=r"ending in \.png"):
        boundary.to_png(tmp_path / "b.jpg")
    with pytest.raises(PictureError, match="does not exist"):
        boundary.to_svg(tmp_path / "nowhere" / "b.svg")
    with pytest.raises(PictureError, match="GradientHeatmap records no run"):
        heatmap.save_animation(tmp_path / "h.gif")
    with pytest.raises(PictureError, match="Label has no picture yet"):
        pictures.snapshot(__import__("ipywidgets").Label("x"))
    assert list(tmp_path.iterdir()) == []


# ---- the animation --------------------------------------------------------------------------


def test_gif_has_one_frame_per_recorded_step_with_the_recorded_picture(tmp_path, trained):
    _, boundary, _ = trained
    out = boundary.save_animation(tmp_path / "run.gif", fps=5)
    frames = recorded_frames(boundary)
    assert len(frames) == 13  # the start and each of the 12 steps
    gif = Image.open(io.BytesIO(out.read_bytes()))
    assert gif.n_frames == len(frames)
    assert gif.info["duration"] == 200
    # each frame is coloured like its own recorded grid: check the sign at strong cells
    for index in (0, len(frames) // 2, len(frames) - 1):
        gif.seek(index)
        pixels = np.asarray(gif.convert("RGB")).astype(int)
        scores, _, scale, _, _ = frames[index]
        res = scores.shape[0]
        height, width = pixels.shape[:2]
        strong = [(r, c) for r in range(res) for c in range(res) if abs(scores[r, c]) > 0.5 * scale]
        assert strong
        agree = 0
        for r, c in strong:
            # the plot fills the middle of the frame: map the cell into the axes' box
            ax_box = (0.03, 0.09, 0.97, 0.97)  # x0, y0 (top), x1, y1 of the plot, roughly
            px = int((ax_box[0] + (c + 0.5) / res * (ax_box[2] - ax_box[0])) * width)
            py = int((ax_box[1] + (r + 0.5) / res * (ax_box[3] - ax_box[1])) * height)
            red, _, blue = pixels[py, px]
            agree += (red > blue) == (scores[r, c] > 0)
        assert agree / len(strong) > 0.9


def test_animation_needs_a_recording_and_says_what_to_do(tmp_path):
    trainer = Trainer(MLP(2, [4, 1], seed=1), datasets.moons(32, noise=0.1, seed=0))
    boundary = DecisionBoundary(trainer)
    try:
        with pytest.raises(PictureError, match=r"recorded 1 frame.*train it first"):
            boundary.save_animation(tmp_path / "run.gif")
        with pytest.raises(PictureError, match=r"ending in \.gif or \.mp4"):
            boundary.save_animation(tmp_path / "run.avi")
    finally:
        boundary.close()
    assert list(tmp_path.iterdir()) == []


def test_mp4_without_ffmpeg_says_so(tmp_path, trained, monkeypatch):
    _, boundary, _ = trained
    monkeypatch.setattr(pictures.shutil, "which", lambda name: None)
    with pytest.raises(PictureError, match=r"needs ffmpeg.*save a \.gif instead"):
        boundary.save_animation(tmp_path / "run.mp4")
    assert list(tmp_path.iterdir()) == []


# ---- the notebook output's picture ----------------------------------------------------------


def test_display_bundle_carries_a_small_png_unless_turned_off(trained):
    _, boundary, heatmap = trained
    for widget in (boundary, heatmap):
        data, _ = widget._repr_mimebundle_()
        png = base64.b64decode(data["image/png"])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(png) < 40_000
        assert "application/vnd.jupyter.widget-view+json" in data
    boundary.static_picture = False
    try:
        assert "image/png" not in boundary._repr_mimebundle_()[0]
    finally:
        del boundary.static_picture
    graph = GraphWidget(lecture_expression())
    try:
        assert "image/png" not in graph._repr_mimebundle_()[0]  # its text repr says what it is
    finally:
        graph.close()


def test_an_executed_notebooks_outputs_carry_the_picture(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from micrograd_widgets import MLP, Trainer, datasets\n"
            "from micrograd_widgets import DecisionBoundary, GradientHeatmap\n"
            "trainer = Trainer(MLP(2, [8, 1], seed=1), datasets.moons(64, noise=0.1, seed=0))\n"
            "trainer.run(5)"
        ),
        nbformat.v4.new_code_cell("DecisionBoundary(trainer)"),
        nbformat.v4.new_code_cell("GradientHeatmap(trainer)"),
    ]
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    for cell, name in zip(nb.cells[1:], ("DecisionBoundary", "GradientHeatmap")):
        (output,) = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert output.data["text/plain"].startswith(name)
        png = base64.b64decode(output.data["image/png"])
        picture = Image.open(io.BytesIO(png))
        assert picture.format == "PNG" and min(picture.size) > 100


# ---- the graph ------------------------------------------------------------------------------


def test_graph_snapshot_draws_every_unit_with_the_views_numbers(tmp_path):
    from micrograd_widgets import Value
    from micrograd_widgets._graph_picture import layered_positions

    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.88, label="b")
    y = (x * w + b).tanh()
    y.label = "y"
    y.backward()
    graph = GraphWidget(y)
    try:
        fig = graph.snapshot()
        texts = [t.get_text() for t in fig.axes[0].texts]
        units = graph.topology["units"]
        numbers = np.frombuffer(graph.numbers, "<f8")
        for u, unit in enumerate(units):
            box = f"{unit['short']}\ndata {numbers[u]:.4g}\ngrad {numbers[len(units) + u]:.4g}"
            assert box in texts
        ops = [unit["op"] for unit in units if unit["op"]]
        assert sorted(t for t in texts if "\n" not in t) == sorted(ops)
        # the layout runs one way: every edge goes to a later column, an op just before its value
        edges = [(e[0], e[1]) for e in graph.topology["edges"]]
        positions, bubbles = layered_positions(units, edges)
        assert all(positions[src][0] < bubbles.get(dst, positions[dst])[0] for src, dst in edges)
        assert all(bubbles[u][0] == positions[u][0] - 1 for u in bubbles)
        svg = graph.to_svg(tmp_path / "graph.svg").read_text()
        assert "<svg" in svg
        assert "image/png" not in graph._repr_mimebundle_()[0]
    finally:
        graph.close()


def test_a_three_class_snapshot_shows_each_cell_in_its_class_colour():
    from micrograd_widgets import MLP, DecisionBoundary, Trainer, datasets
    from micrograd_widgets._pictures import VIEW_CLASS_COLOURS, class_picture

    data = datasets.spiral(60, classes=3, seed=0)
    trainer = Trainer(MLP(2, [8, 3], seed=0), data, loss="cross_entropy", optimizer="adam")
    trainer.run(5)
    boundary = DecisionBoundary(trainer, resolution=20)
    fig = boundary.snapshot()  # no longer "no frame yet" for a k-class boundary
    assert fig.axes and fig.axes[0].images
    picture = class_picture(boundary)
    raw = np.frombuffer(bytes(boundary.class_frame), dtype=np.uint8)
    classes = raw[:400].reshape(20, 20)
    for row, col in [(0, 0), (10, 10), (19, 5)]:
        colour = VIEW_CLASS_COLOURS[classes[row, col]]
        shade = picture[row, col].astype(float)
        # faded towards the neutral grey, never towards another class's colour
        nearest = np.argmin(
            [np.linalg.norm(np.cross(c - 247, shade - 247)) for c in VIEW_CLASS_COLOURS]
        )
        assert np.allclose(VIEW_CLASS_COLOURS[nearest], colour), (row, col)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[:3] == ["class 0", "class 1", "class 2"] and "score 0" not in legend
