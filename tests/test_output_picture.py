"""The notebook output's static picture: drawn with numpy from the widget's state, no matplotlib.

Each test decodes the PNG a display puts in the output and checks its pixels against the state
the view draws (the score grid and its scale, the class grid, the points, each layer's matrix).
"""

from __future__ import annotations

import base64
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from micrograd_widgets import MLP, DecisionBoundary, GradientHeatmap, Trainer, datasets
from micrograd_widgets._pictures import (
    BORDER,
    DEAD_HATCH,
    NEGATIVE,
    NEUTRAL,
    OUTLINE,
    POSITIVE,
    VIEW_CLASS_COLOURS,
    boundary_grid,
    heatmap_layout,
    heatmap_matrices,
)
from tests.test_png import decode

POSITIVE_RGB = np.round(POSITIVE * 255).astype(int)
NEGATIVE_RGB = np.round(NEGATIVE * 255).astype(int)


def picture(widget) -> np.ndarray:
    data, _ = widget._repr_mimebundle_()
    pixels, _ = decode(base64.b64decode(data["image/png"]))
    return pixels.astype(int)


def view_colour(value: float, scale: float) -> np.ndarray:
    """The view's diverging colour (js/shared/colors.ts), not quantized."""
    t = min(1.0, abs(value) / scale) ** 0.5
    end = NEGATIVE if value < 0 else POSITIVE
    return (NEUTRAL + (end - NEUTRAL) * t) * 255


#: the picture uses 16 colour steps a side: at most half a step (~7 of 255) from the view's
STEP_TOLERANCE = 8


@pytest.fixture(scope="module")
def trained():
    data = datasets.moons(64, noise=0.1, seed=0, test_size=0.25)
    trainer = Trainer(MLP(2, [8, 8, 1], seed=1), data)
    boundary, heatmap = DecisionBoundary(trainer, resolution=60), GradientHeatmap(trainer)
    trainer.run(12)
    yield trainer, boundary, heatmap
    boundary.close()
    heatmap.close()


def cell_centres(res: int, side: int):
    """Pixel (row, column) of grid cell (r, c)'s centre, for a res² grid scaled to side px."""
    assert side % res == 0
    factor = side // res
    return lambda r, c: (r * factor + factor // 2, c * factor + factor // 2), factor


def test_boundary_cells_have_the_views_colour_and_sign(trained):
    _, boundary, _ = trained
    pixels = picture(boundary)
    scores, scale = boundary_grid(boundary)
    res = scores.shape[0]
    assert pixels.shape[0] == pixels.shape[1] and pixels.shape[0] % res == 0
    centre, _ = cell_centres(res, pixels.shape[0])
    close = sign_ok = strong = 0
    for r in range(res):
        for c in range(res):
            pixel = pixels[centre(r, c)]
            close += np.abs(pixel - view_colour(scores[r, c], scale)).max() <= STEP_TOLERANCE
            if abs(scores[r, c]) > 0.05 * scale:
                strong += 1
                sign_ok += (pixel[0] > pixel[2]) == (scores[r, c] > 0)
    # the misses are cells under a point's dot or on the score-0 line
    assert close / res**2 > 0.9
    assert strong > 0.8 * res**2 and sign_ok / strong > 0.95


def test_boundary_marks_where_the_score_changes_sign(trained):
    _, boundary, _ = trained
    pixels = picture(boundary)
    scores, _ = boundary_grid(boundary)
    res = scores.shape[0]
    centre, factor = cell_centres(res, pixels.shape[0])
    dark = np.all(pixels == OUTLINE, axis=2)
    crossings = marked = 0
    for r in range(res):
        for c in range(res - 1):
            if np.sign(scores[r, c]) != np.sign(scores[r, c + 1]):
                crossings += 1
                row, _ = centre(r, c)
                marked += dark[row, (c + 1) * factor - 1]
    assert crossings > res // 2
    assert marked / crossings > 0.9  # the rest are under a point's dot
    # and nowhere else: no dark pixel lies away from a sign change or a point's outline
    same_sign_cells = [
        (r, c)
        for r in range(1, res - 1)
        for c in range(1, res - 1)
        if len({np.sign(scores[r + dr, c + dc]) for dr in (-1, 0, 1) for dc in (-1, 0, 1)}) == 1
    ]
    dark_inside = sum(dark[centre(r, c)] for r, c in same_sign_cells)
    assert dark_inside < 0.02 * len(same_sign_cells)


def test_boundary_points_are_dots_in_their_labels_colour(trained):
    trainer, boundary, _ = trained
    pixels = picture(boundary)
    res = boundary.resolution
    xmin, xmax, ymin, ymax = boundary.extent
    factor = pixels.shape[0] // res
    for X, y in ((trainer.X, trainer.y), (trainer.X_test, trainer.y_test)):
        assert len(X)
        right = 0
        for (x, yy), label in zip(X, y):
            col = int(((x - xmin) / (xmax - xmin) * (res - 1) + 0.5) * factor)
            row = int(((ymax - yy) / (ymax - ymin) * (res - 1) + 0.5) * factor)
            expected = POSITIVE_RGB if label > 0 else NEGATIVE_RGB
            right += np.array_equal(pixels[row, col], expected)
        assert right / len(X) > 0.85  # the rest are overlapped by another point


def test_k_class_boundary_cells_have_their_class_colour():
    data = datasets.spiral(90, classes=3, seed=0)
    trainer = Trainer(MLP(2, [8, 3], seed=1), data, loss="cross_entropy")
    trainer.run(10)
    boundary = DecisionBoundary(trainer, resolution=40)
    try:
        assert boundary.classes == 3
        pixels = picture(boundary)
        res = 40
        raw = np.frombuffer(boundary.class_frame, np.uint8)
        classes, confidence = raw[: res * res], raw[res * res :]
        assert len(set(classes.tolist())) >= 2
        centre, _ = cell_centres(res, pixels.shape[0])
        close = 0
        for i in range(res * res):
            colour = VIEW_CLASS_COLOURS[classes[i]] / 255
            t = 0.15 + 0.75 * confidence[i] / 255  # js/boundary/classes.ts classPixels
            expected = (NEUTRAL + (colour - NEUTRAL) * t) * 255
            close += np.abs(pixels[centre(*divmod(i, res))] - expected).max() <= STEP_TOLERANCE
        assert close / res**2 > 0.85  # the rest: under a dot or on a class border
    finally:
        boundary.close()


def test_a_fine_grid_is_sampled_down_to_a_small_picture():
    trainer = Trainer(MLP(2, [4, 1], seed=1), datasets.moons(32, noise=0.1, seed=0))
    boundary = DecisionBoundary(trainer, resolution=500)
    try:
        pixels = picture(boundary)
        assert pixels.shape[:2] == (250, 250)  # every 2nd cell of 500: about OUTPUT_SIDE
        scores, scale = boundary_grid(boundary)
        for r, c in ((0, 0), (0, 249), (249, 0), (249, 249)):
            expected = view_colour(scores[2 * r, 2 * c], scale)
            assert np.abs(pixels[r, c] - expected).max() <= STEP_TOLERANCE
    finally:
        boundary.close()


def test_heatmap_blocks_are_each_layers_matrix_in_the_mode(trained):
    _, _, heatmap = trained
    for mode in ("weights", "grads"):
        heatmap.mode = mode
        heatmap._throttle.flush()
        pixels = picture(heatmap)
        matrices = heatmap_matrices(heatmap)
        cell, size, corners = heatmap_layout([m.shape for m in matrices])
        assert pixels.shape[:2] == size
        for matrix, (top, left) in zip(matrices, corners):
            scale = np.abs(matrix).max()
            rows, cols = matrix.shape
            assert np.array_equal(pixels[top - 1, left - 1], BORDER)
            assert np.array_equal(pixels[top + rows * cell, left + cols * cell], BORDER)
            for r in range(rows):
                for c in range(cols):
                    # a cell's corner pixel: never hatched (dead rows hatch off the corner)
                    pixel = pixels[top + r * cell, left + c * cell + 1]
                    expected = view_colour(matrix[r, c], scale)
                    assert np.abs(pixel - expected).max() <= STEP_TOLERANCE, (mode, r, c)
    heatmap.mode = "grads"


def test_heatmap_hatches_dead_relu_rows_only():
    model = MLP(2, [3, 1], seed=0)
    neuron = model.layers[0].neurons[0]  # never fires on this data
    for w in neuron.w:
        w.data = 0.0
    neuron.b.data = -5.0
    heatmap = GradientHeatmap(model, X=np.array([[0.5, 0.5], [1.0, -1.0]]), mode="weights")
    try:
        pixels = picture(heatmap)
        cell, _, corners = heatmap_layout([m.shape for m in heatmap_matrices(heatmap)])
        top, left = corners[0]
        hatched = np.all(pixels == DEAD_HATCH, axis=2)
        rows = [hatched[top + r * cell : top + (r + 1) * cell, left : left + 3 * cell].any()
                for r in range(3)]  # fmt: skip
        dead = np.frombuffer(heatmap.dead, np.uint8)[:3].astype(bool).tolist()
        assert dead[0] and not all(dead)  # this data leaves neuron 0 dead, not every neuron
        assert rows == dead
    finally:
        heatmap.close()


def test_demo_pictures_are_small():
    trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(128, noise=0.1, seed=0))
    trainer.run(20)
    for widget in (DecisionBoundary(trainer), GradientHeatmap(trainer)):
        data, _ = widget._repr_mimebundle_()
        assert len(base64.b64decode(data["image/png"])) < 15_000
        widget.close()


def test_a_display_does_not_import_matplotlib_or_pillow():
    code = textwrap.dedent(
        """
        import sys
        from micrograd_widgets import MLP, DecisionBoundary, GradientHeatmap, Trainer, datasets
        trainer = Trainer(MLP(2, [8, 1], seed=1), datasets.moons(32, noise=0.1, seed=0))
        trainer.run(3)
        for widget in (DecisionBoundary(trainer), GradientHeatmap(trainer)):
            assert "image/png" in widget._repr_mimebundle_()[0]
        print(sorted(m for m in ("matplotlib", "PIL") if m in sys.modules))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
