"""Pictures of what a widget's view shows, drawn from the widget's synced state.

The views draw only their state (the traits); so does this module: the same score grid, the same
points and colour scale, the same matrices. So a picture matches the view by construction, works
without a displayed view (or any browser), and can be drawn from a saved notebook's state too.

* :func:`snapshot` -- a matplotlib Figure of a DecisionBoundary (score heatmap, points, the
  score-0 contour, a legend), a GradientHeatmap (each layer's matrix in the current mode, with
  its colour scale; dead ReLU rows hatched) or a GraphWidget (its units, edges and numbers, in
  a Python layered layout: ``_graph_picture.py``);
* :func:`save_figure` -- a Figure to .png / .svg / .pdf, written atomically;
* :func:`save_animation` -- a DecisionBoundary's recorded run as a GIF (one frame per recorded
  step, Pillow) or an MP4 (needs ffmpeg);
* :func:`output_png` -- the small picture in every display's notebook output (for GitHub and
  nbviewer), drawn with numpy and written by ``_png.py``: no matplotlib, so a display stays
  cheap in a live training cell (bench/static_picture.py).

The first three use matplotlib (imported when called), for slides. The widgets reach them
through :class:`~micrograd_widgets._widget.BaseWidget`'s ``snapshot()``, ``to_png()``,
``to_svg()`` and ``save_animation()``. Nothing here imports a widget module: a widget is
recognised by its class name and read through its traits.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ._files import checked_output_path, write_atomically
from ._graph_picture import graph_figure
from ._picture_scale import NEGATIVE, NEUTRAL, POSITIVE, PictureError, diverging

__all__ = ["output_png", "save_animation", "save_figure", "snapshot"]

log = logging.getLogger("micrograd_widgets")

FIGURE_FORMATS = (".png", ".svg", ".pdf")
ANIMATION_FORMATS = (".gif", ".mp4")
#: colours per GIF frame (a frame is a score gradient, the points and the text)
GIF_COLOURS = 64


def _colormap() -> Any:
    from matplotlib.colors import ListedColormap

    return ListedColormap(diverging(np.linspace(-1, 1, 513), 1.0), name="mgw_diverging")


def _kind(widget: object) -> str:
    return type(widget).__name__


def _f32(data: bytes) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype=np.float32)


# ---- the decision boundary ------------------------------------------------------------------


def boundary_grid(widget: Any) -> tuple[np.ndarray, float]:
    """The score grid the view shows live (rows from the top) and its colour scale."""
    res = int(widget.resolution)
    frame = _f32(widget.frame)
    if frame.size != res * res:
        raise PictureError("this DecisionBoundary has no frame yet: nothing to draw")
    return frame.reshape(res, res), float(widget.frame_scale)


def class_picture(widget: Any) -> np.ndarray:
    """A k-class boundary's plane as the view shades it: uint8 RGB per cell (rows from the top),
    the argmax class's colour faded by its confidence."""
    res = int(widget.resolution)
    raw = np.frombuffer(bytes(widget.class_frame), dtype=np.uint8)
    if raw.size != 2 * res * res:
        raise PictureError("this DecisionBoundary has no frame yet: nothing to draw")
    classes, confidence = raw[: res * res].reshape(res, res), raw[res * res :].reshape(res, res)
    return _class_colours(classes, confidence)


def recorded_frames(widget: Any) -> list[tuple[np.ndarray, float, float, float, float]]:
    """The recorded run: (scores grid from the top, step, scale, loss, accuracy) per frame.
    The uint8 grids hold 128 + 127·score/scale (clipped), as the view decodes them."""
    res = int(widget.recording_resolution)
    raw = np.frombuffer(bytes(widget.recording), dtype=np.uint8)
    meta = _f32(widget.recording_meta).reshape(-1, 4) if widget.recording_meta else np.zeros((0, 4))
    if raw.size == 0 or res * res == 0:
        return []
    grids = raw.reshape(-1, res, res)
    count = min(len(grids), len(meta))
    frames = []
    for grid, (step, scale, loss, accuracy) in zip(grids[:count], meta[:count]):
        scores = (grid.astype(np.float64) - 128) / 127 * float(scale)
        frames.append((scores, float(step), float(scale), float(loss), float(accuracy)))
    return frames


def _points(widget: Any, test: bool) -> tuple[np.ndarray, np.ndarray]:
    prefix = "test_" if test else ""
    xy = _f32(getattr(widget, f"{prefix}points")).reshape(-1, 2)
    labels = np.frombuffer(bytes(getattr(widget, f"{prefix}labels")), dtype=np.int8)
    return xy, labels[: len(xy)]


def _label_colours(labels: np.ndarray) -> tuple[list[Any], list[tuple[str, Any]]]:
    """A colour per point, and the legend's (text, colour) entries."""
    values = sorted(set(labels.tolist()))
    if set(values) <= {-1, 1}:
        entries = [("+1", POSITIVE), ("−1", NEGATIVE)]
        return [POSITIVE if v > 0 else NEGATIVE for v in labels], entries
    palette = VIEW_CLASS_COLOURS / 255  # the views' class colours
    colour = {v: tuple(palette[int(v) % len(palette)]) for v in values}
    return [colour[v] for v in labels], [(f"class {v}", colour[v]) for v in values]


def draw_boundary(
    ax: Any,
    widget: Any,
    scores: np.ndarray,
    scale: float,
    *,
    legend: bool = True,
    interpolation: str = "bilinear",
) -> dict[str, Any]:
    """Draw one picture of the plane on ``ax``: heatmap, score-0 contour, points; returns the
    artists (``image``, ``contour``) so an animation can update them. ``scores``: the score
    grid, or for k classes an (rows, cols, 3) uint8 picture (:func:`class_picture`)."""
    xmin, xmax, ymin, ymax = (float(v) for v in widget.extent)
    if scores.ndim == 3:  # k classes: the view's colours per cell, no score-0 line
        image = ax.imshow(
            scores, extent=(xmin, xmax, ymin, ymax), origin="upper",
            interpolation=interpolation, aspect="auto",
        )  # fmt: skip
        contour = None
    else:
        image = _score_image(ax, widget, scores, scale, interpolation)
        contour = _zero_contour(ax, widget, scores)
    _draw_points(ax, widget, legend=legend, score_line=scores.ndim == 2)
    return {"image": image, "contour": contour}


def _score_image(ax: Any, widget: Any, scores: np.ndarray, scale: float, interpolation: str) -> Any:
    xmin, xmax, ymin, ymax = (float(v) for v in widget.extent)
    return ax.imshow(
        scores,
        extent=(xmin, xmax, ymin, ymax),
        origin="upper",  # row 0 of the grid is at ymax, as in the view
        cmap=_colormap(),
        vmin=-scale,
        vmax=scale,
        interpolation=interpolation,
        aspect="auto",
    )


def _draw_points(ax: Any, widget: Any, *, legend: bool, score_line: bool) -> None:
    from matplotlib.lines import Line2D

    xmin, xmax, ymin, ymax = (float(v) for v in widget.extent)
    xy, labels = _points(widget, test=False)
    colours, entries = _label_colours(labels)
    ax.scatter(xy[:, 0], xy[:, 1], c=colours, s=22, edgecolors="#111", linewidths=0.6, zorder=3)
    test_xy, test_labels = _points(widget, test=True)
    if len(test_xy):
        test_colours, _ = _label_colours(test_labels)
        ax.scatter(
            test_xy[:, 0], test_xy[:, 1], c=test_colours, s=26, marker="s",
            edgecolors="#fff", linewidths=1.0, zorder=3,
        )  # fmt: skip
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_xticks([])
    ax.set_yticks([])
    if legend:
        handles = [
            Line2D([], [], ls="", marker="o", mfc=c, mec="#111", label=text) for text, c in entries
        ]
        if len(test_xy):
            handles.append(
                Line2D([], [], ls="", marker="s", mfc="#999", mec="#fff", label="test points")
            )
        if score_line:
            handles.append(Line2D([], [], color="#111", lw=1.5, label="score 0"))
        ax.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.85)


def _zero_contour(ax: Any, widget: Any, scores: np.ndarray) -> Any:
    if not (scores.min() < 0 < scores.max()):
        return None  # one class everywhere: no boundary on the plane
    xmin, xmax, ymin, ymax = (float(v) for v in widget.extent)
    n_rows, n_cols = scores.shape
    xs = np.linspace(xmin, xmax, n_cols)
    ys = np.linspace(ymax, ymin, n_rows)
    return ax.contour(xs, ys, scores, levels=[0.0], colors="#111", linewidths=1.5)


def _boundary_title(widget: Any) -> str:
    current = dict(widget.current or {})
    parts = [f"step {int(widget.step)}"]
    if current.get("loss") is not None:
        parts.append(f"loss {current['loss']:.4g}")
    if current.get("accuracy") is not None:
        parts.append(f"accuracy {current['accuracy']:.1%}")
    return " · ".join(parts)


def boundary_figure(widget: Any) -> Any:
    from matplotlib.figure import Figure

    if int(getattr(widget, "classes", 0) or 0) > 0:
        scores, scale = class_picture(widget), 1.0
    else:
        scores, scale = boundary_grid(widget)
    fig = Figure(figsize=(4.6, 4.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    draw_boundary(ax, widget, scores, scale)
    ax.set_title(_boundary_title(widget), fontsize=9)
    return fig


# ---- the gradient heatmap -------------------------------------------------------------------

_MODE_TRAIT = {"grads": "grads", "weights": "values", "updates": "updates"}
_MODE_NAME = {
    "grads": "gradients",
    "weights": "weights",
    "updates": "last update",
    "velocity": "velocity",
    "m": "m",
    "sqrt_v": "√v",
}


def _heatmap_flat(widget: Any) -> np.ndarray:
    """The synced float32 array of the widget's mode: a trait, or its slice of ``state`` (the
    optimizer's state modes, one array per ``state_names`` entry)."""
    if widget.mode in _MODE_TRAIT:
        return _f32(getattr(widget, _MODE_TRAIT[widget.mode]))
    names, n = list(widget.state_names), len(widget.param_names)
    k = names.index(widget.mode) if widget.mode in names else -1
    return _f32(widget.state)[k * n : (k + 1) * n] if k >= 0 else np.zeros(0, np.float32)


def heatmap_matrices(widget: Any) -> list[np.ndarray]:
    """Each layer's matrix (nout × (nin + 1), bias last) in the widget's current mode."""
    flat = _heatmap_flat(widget)
    matrices, start = [], 0
    for layer in widget.layers:
        nout, nin = int(layer["nout"]), int(layer["nin"])
        size = nout * (nin + 1)
        if flat.size < start + size:
            raise PictureError("this GradientHeatmap has no matrices yet: nothing to draw")
        matrices.append(flat[start : start + size].reshape(nout, nin + 1).astype(np.float64))
        start += size
    return matrices


def heatmap_figure(widget: Any) -> Any:
    from matplotlib.figure import Figure

    matrices = heatmap_matrices(widget)
    dead = np.frombuffer(bytes(widget.dead), dtype=np.uint8).astype(bool)
    widths = [max(m.shape[1], 7) for m in matrices]  # room for a narrow layer's title
    height = max(m.shape[0] for m in matrices)
    fig = Figure(
        figsize=(min(1.0 + 0.24 * sum(widths), 14), min(2.2 + 0.2 * height, 10)),
        dpi=100,
        layout="constrained",
    )
    axes = fig.subplots(1, len(matrices), width_ratios=widths, squeeze=False)[0]
    cmap, first_neuron = _colormap(), 0
    for ax, matrix, layer in zip(axes, matrices, widget.layers):
        finite = matrix[np.isfinite(matrix)]
        scale = float(np.abs(finite).max()) if finite.size else 0.0
        image = ax.imshow(
            matrix, cmap=cmap, vmin=-(scale or 1), vmax=scale or 1, interpolation="nearest",
            aspect="equal",
        )  # fmt: skip
        nout, nin = matrix.shape[0], matrix.shape[1] - 1
        layer_dead = dead[first_neuron : first_neuron + nout] if dead.size else np.zeros(nout)
        first_neuron += nout
        for row in np.flatnonzero(layer_dead):
            ax.add_patch(_dead_row(row, nin + 1))
        ax.set_title(
            f"{layer['name']} · {layer['activation']}\n{nout} × ({nin} + bias)", fontsize=8
        )
        ax.set_xticks([0, nin] if nin else [0], ["w0", "b"][: 2 if nin else 1])
        ax.set_yticks([0, nout - 1] if nout > 1 else [0])
        ax.tick_params(labelsize=7)
        bar = fig.colorbar(image, ax=ax, location="bottom", shrink=0.9, aspect=12, pad=0.02)
        bar.set_ticks([-(scale or 1), 0, scale or 1], labels=[f"−{scale:.3g}", "0", f"{scale:.3g}"])
        bar.ax.tick_params(labelsize=6)
    title = f"{_MODE_NAME.get(widget.mode, widget.mode)} · step {int(widget.step)}"
    if dead.any():
        title += " · hatched rows: dead ReLUs"
    fig.suptitle(title, fontsize=9)
    return fig


def _dead_row(row: int, width: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle(
        (-0.5, row - 0.5), width, 1, fill=False, hatch="///", edgecolor="#c62828", lw=0.8
    )


# ---- entry points ---------------------------------------------------------------------------


_FIGURES = {
    "DecisionBoundary": boundary_figure,
    "GradientHeatmap": heatmap_figure,
    "GraphWidget": graph_figure,
}


def snapshot(widget: Any) -> Any:
    """A matplotlib Figure of what ``widget``'s view shows (see the module docstring)."""
    drawer = _FIGURES.get(_kind(widget))
    if drawer is None:
        for cls in type(widget).__mro__:  # a subclass of a known widget
            drawer = _FIGURES.get(cls.__name__)
            if drawer:
                break
    if drawer is None:
        raise PictureError(
            f"{_kind(widget)} has no picture yet; snapshot() draws {' and '.join(sorted(_FIGURES))}"
        )
    return drawer(widget)


# ---- the notebook output's picture ----------------------------------------------------------
# Drawn with numpy from the same state as the view, and written by the small PNG writer: no
# matplotlib on this path, since it runs on every display of a widget (a live training cell).

#: the plot's side in pixels, about (the grid is scaled by a whole factor)
OUTPUT_SIDE = 240
#: colour steps per side of 0 (and of confidence): a palette PNG of a few KB
OUTPUT_LEVELS = 16
#: the views' k-class colours (js/boundary/classes.ts, Okabe–Ito)
VIEW_CLASS_COLOURS = np.array(
    [
        [230, 159, 0], [86, 180, 233], [0, 158, 115], [204, 121, 167],
        [0, 114, 178], [213, 94, 0], [240, 228, 66], [120, 120, 120],
    ],
    dtype=np.float64,
)  # fmt: skip
OUTLINE = np.array([17, 17, 17], np.uint8)
WHITE = np.array([255, 255, 255], np.uint8)
BORDER = np.array([153, 153, 153], np.uint8)
DEAD_HATCH = np.array([198, 40, 40], np.uint8)
#: offsets of a point's dot: filled within DOT_RADIUS, outlined out to DOT_RADIUS + 1
DOT_RADIUS = 2.5


def _to_bytes(rgb: np.ndarray) -> np.ndarray:
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)


def diverging_levels(values: np.ndarray, scale: float) -> np.ndarray:
    """uint8 RGB of ``values`` on the views' diverging scale, in OUTPUT_LEVELS steps a side."""
    return _to_bytes(diverging(values, scale, levels=OUTPUT_LEVELS))


def _class_colours(classes: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """uint8 RGB per cell as the view shades a class grid (smooth: faded by confidence)."""
    colour = VIEW_CLASS_COLOURS[classes.astype(np.int64) % len(VIEW_CLASS_COLOURS)]
    level = np.round(confidence.astype(np.float64) / 255 * OUTPUT_LEVELS) / OUTPUT_LEVELS
    t = (0.15 + 0.75 * level)[..., None]
    return _to_bytes(NEUTRAL + (colour / 255 - NEUTRAL) * t)


def _upscaled(grid: np.ndarray) -> tuple[np.ndarray, int]:
    """``grid`` (res × res, …) at about OUTPUT_SIDE pixels a side, and how: each cell a
    factor × factor block (factor > 0), or every (-factor)-th cell of a finer grid."""
    res = grid.shape[0]
    if res > OUTPUT_SIDE:
        stride = max(1, round(res / OUTPUT_SIDE))
        return grid[::stride, ::stride], -stride
    factor = max(1, round(OUTPUT_SIDE / res))
    return grid.repeat(factor, axis=0).repeat(factor, axis=1), factor


def _edges(regions: np.ndarray) -> np.ndarray:
    """True on pixels whose region differs from the pixel right of or below them."""
    edge = np.zeros(regions.shape, dtype=bool)
    edge[:, :-1] |= regions[:, :-1] != regions[:, 1:]
    edge[:-1, :] |= regions[:-1, :] != regions[1:, :]
    return edge


def _stamp(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, colours: np.ndarray,
           edge: np.ndarray, square: bool) -> None:  # fmt: skip
    """Draw a dot (or a square) per point centred at (rows, cols): ``colours`` inside, ``edge``
    around it."""
    height, width = image.shape[:2]
    reach = int(np.ceil(DOT_RADIUS + 1))
    for dr in range(-reach, reach + 1):
        for dc in range(-reach, reach + 1):
            distance = max(abs(dr), abs(dc)) if square else float(np.hypot(dr, dc))
            if distance > DOT_RADIUS + 1:
                continue
            r, c = rows + dr, cols + dc
            inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
            if distance > DOT_RADIUS:
                image[r[inside], c[inside]] = edge
            else:
                image[r[inside], c[inside]] = colours[inside]


def boundary_pixels(widget: Any) -> np.ndarray:
    """uint8 RGB of a DecisionBoundary's view: the score grid (or k-class grid) in the view's
    colours, the region edges (the score-0 contour, class borders) dark, the points as dots."""
    res, k = int(widget.resolution), int(getattr(widget, "classes", 0) or 0)
    if k:
        raw = np.frombuffer(bytes(widget.class_frame), dtype=np.uint8)
        if raw.size != 2 * res * res:
            raise PictureError("this DecisionBoundary has no class frame yet: nothing to draw")
        classes, confidence = raw[: res * res].reshape(res, res), raw[res * res :].reshape(res, res)
        cells, regions = _class_colours(classes, confidence), classes
    else:
        scores, scale = boundary_grid(widget)
        cells, regions = diverging_levels(scores, scale), np.sign(scores)
    # coloured per cell, then scaled up: the edges are found on the scaled-up regions
    image, factor = _upscaled(cells)
    regions, _ = _upscaled(regions)
    image[_edges(regions)] = OUTLINE
    xmin, xmax, ymin, ymax = (float(v) for v in widget.extent)
    for test in (False, True):
        xy, labels = _points(widget, test=test)
        if not len(xy):
            continue
        # cell i covers pixels [i·f, (i+1)·f) and is centred on the grid's i-th x
        spans = max(res - 1, 1)
        col = (xy[:, 0] - xmin) / ((xmax - xmin) or 1.0) * spans
        row = (ymax - xy[:, 1]) / ((ymax - ymin) or 1.0) * spans
        if factor > 0:
            col, row = (col + 0.5) * factor, (row + 0.5) * factor
        else:  # every (-factor)-th cell was kept
            col, row = col / -factor + 0.5, row / -factor + 0.5
        if k:
            colours = _to_bytes(
                VIEW_CLASS_COLOURS[labels.astype(np.int64) % len(VIEW_CLASS_COLOURS)] / 255
            )
        else:
            colours = np.where((labels > 0)[:, None], _to_bytes(POSITIVE), _to_bytes(NEGATIVE))
        finite = np.isfinite(col) & np.isfinite(row)
        _stamp(
            image, np.floor(row[finite]).astype(np.int64), np.floor(col[finite]).astype(np.int64),
            colours[finite], WHITE if test else OUTLINE, square=test,
        )  # fmt: skip
    return image


def heatmap_layout(
    shapes: list[tuple[int, ...]],
) -> tuple[int, tuple[int, int], list[tuple[int, int]]]:
    """Where the output picture puts each layer's matrix (of ``shapes``): the cell size in
    pixels, the picture's (height, width) and each block's top-left (row, column) pixel."""
    columns = sum(shape[1] for shape in shapes)
    rows = max(shape[0] for shape in shapes)
    cell = int(np.clip(min(2 * OUTPUT_SIDE // max(columns, 1), OUTPUT_SIDE // rows), 2, 12))
    gap = 2 * cell
    corners, left = [], gap
    for shape in shapes:
        corners.append((gap, left))
        left += shape[1] * cell + gap
    return cell, (rows * cell + 2 * gap, left), corners


def heatmap_pixels(widget: Any) -> np.ndarray:
    """uint8 RGB of a GradientHeatmap's view: each layer's matrix (current mode, its own scale
    as in the view) as a block of coloured cells, side by side; dead ReLU rows hatched."""
    matrices = heatmap_matrices(widget)
    dead = np.frombuffer(bytes(widget.dead), dtype=np.uint8).astype(bool)
    cell, size, corners = heatmap_layout([m.shape for m in matrices])
    image = np.full((*size, 3), 255, np.uint8)
    first_neuron = 0
    for matrix, (top, left) in zip(matrices, corners):
        nout, ncols = matrix.shape
        finite = matrix[np.isfinite(matrix)]
        scale = float(np.abs(finite).max()) if finite.size else 0.0
        block = diverging_levels(matrix, scale).repeat(cell, axis=0).repeat(cell, axis=1)
        for row in np.flatnonzero(dead[first_neuron : first_neuron + nout]):
            band = block[row * cell : (row + 1) * cell]
            ys, xs = np.indices(band.shape[:2])
            band[(ys + xs) % 4 == 0] = DEAD_HATCH
        first_neuron += nout
        image[top - 1 : top + nout * cell + 1, left - 1 : left + ncols * cell + 1] = BORDER
        image[top : top + nout * cell, left : left + ncols * cell] = block
    return image


#: widgets whose notebook output carries a picture (a graph's text repr says more, for less)
_OUTPUT_DRAWERS = {"DecisionBoundary": boundary_pixels, "GradientHeatmap": heatmap_pixels}


def output_png(widget: Any) -> str | None:
    """A small PNG (base64) of ``widget``'s view for its notebook output, or None when there is
    no picture of it (a GraphWidget, a widget with nothing to draw yet). Drawn with numpy and
    written with zlib (``_png.py``): cheap enough for every display. Never raises: a picture is
    a courtesy to viewers without the widget, never a reason for a cell to fail."""
    kinds = [cls.__name__ for cls in type(widget).__mro__ if cls.__name__ in _OUTPUT_DRAWERS]
    drawer = _OUTPUT_DRAWERS[kinds[0]] if kinds else None
    if drawer is None:
        return None
    try:
        from ._png import png_bytes

        return base64.b64encode(png_bytes(drawer(widget))).decode("ascii")
    except Exception:  # e.g. no frame yet
        log.debug("no output picture for %s", type(widget).__name__, exc_info=True)
        return None


def _checked_path(path: str | os.PathLike[str], formats: tuple[str, ...]) -> Path:
    return checked_output_path(path, formats, PictureError)


def figure_bytes(fig: Any, fmt: str, dpi: float = 100) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi)
    return buffer.getvalue()


def save_figure(
    fig: Any,
    path: str | os.PathLike[str],
    formats: tuple[str, ...] = FIGURE_FORMATS,
    dpi: float = 100,
) -> Path:
    """Write ``fig`` to ``path`` (its extension picks the format), atomically."""
    out = _checked_path(path, formats)
    write_atomically(out, figure_bytes(fig, out.suffix.lower().lstrip("."), dpi=dpi), PictureError)
    return out


def save_animation(widget: Any, path: str | os.PathLike[str], fps: float = 10) -> Path:
    """Write a DecisionBoundary's recorded run to ``path``: a GIF (one frame per recorded step,
    with Pillow) or an MP4 (needs ffmpeg on the PATH). The run is the widget's ``recording``
    trait: complete once training pauses or stops (while it runs, it is synced every few
    seconds)."""
    if not any(cls.__name__ == "DecisionBoundary" for cls in type(widget).__mro__):
        raise PictureError(
            f"{_kind(widget)} records no run to animate; save_animation is for a "
            "DecisionBoundary (its recorded run)"
        )
    out = _checked_path(path, ANIMATION_FORMATS)
    if not (isinstance(fps, (int, float)) and 0 < fps <= 60):
        raise PictureError(f"fps must be a number in (0, 60], got {fps!r}")
    frames = recorded_frames(widget)
    if len(frames) < 2:
        raise PictureError(
            f"this DecisionBoundary recorded {len(frames)} frame(s): train it first "
            "(trainer.run(50) or ▶ Play), then save the animation"
        )
    if out.suffix.lower() == ".mp4" and shutil.which("ffmpeg") is None:
        raise PictureError(
            "an MP4 needs ffmpeg, which is not on this machine's PATH: install it (e.g. "
            "apt-get install ffmpeg, conda install ffmpeg), or save a .gif instead"
        )
    images = list(_animation_images(widget, frames))
    if out.suffix.lower() == ".gif":
        data = _gif_bytes(images, fps)
    else:
        data = _mp4_bytes(images, fps, folder=out.parent)
    write_atomically(out, data, PictureError)
    return out


def _animation_images(widget: Any, frames: list) -> Any:
    """One RGB array per recorded frame, drawn on one reused figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.0, 4.0), dpi=80, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    first_scores, _, first_scale, _, _ = frames[0]
    # nearest: a recorded grid is small, and flat cells keep the GIF a fraction of the size
    artists = draw_boundary(ax, widget, first_scores, first_scale, interpolation="nearest")
    # a title as long as any frame's, so the layout keeps room for it
    title = ax.set_title("step 0000 · loss 0.0000 · accuracy 100.0%", fontsize=9)
    canvas.draw()
    fig.set_layout_engine("none")  # every frame the same layout: no jumping
    for scores, step, scale, loss, accuracy in frames:
        artists["image"].set_data(scores)
        artists["image"].set_clim(-scale, scale)
        if artists["contour"] is not None:
            artists["contour"].remove()
        artists["contour"] = _zero_contour(ax, widget, scores)
        text = f"step {int(step)}"
        if np.isfinite(loss):
            text += f" · loss {loss:.4g}"
        if np.isfinite(accuracy):
            text += f" · accuracy {accuracy:.1%}"
        title.set_text(text)
        canvas.draw()
        yield np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _gif_bytes(images: list[np.ndarray], fps: float) -> bytes:
    from PIL import Image

    # one small palette per frame, no dithering: flat cells stay flat and compress well
    pictures = [
        Image.fromarray(image).quantize(GIF_COLOURS, dither=Image.Dither.NONE) for image in images
    ]
    buffer = io.BytesIO()
    pictures[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=round(1000 / fps),
        loop=0,
        optimize=False,
        disposal=1,
    )
    return buffer.getvalue()


def _mp4_bytes(images: list[np.ndarray], fps: float, folder: Path) -> bytes:  # pragma: no cover
    import subprocess

    height, width = images[0].shape[:2]
    with tempfile.TemporaryDirectory(dir=folder) as temp:
        target = Path(temp) / "run.mp4"
        cmd = [
            "ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
            "-s", f"{width}x{height}", "-r", str(fps), "-i", "-",
            "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p", str(target),
        ]  # fmt: skip
        result = subprocess.run(
            cmd, input=b"".join(i.tobytes() for i in images), capture_output=True
        )
        if result.returncode != 0:
            raise PictureError(f"ffmpeg failed: {result.stderr.decode(errors='replace')[-500:]}")
        return target.read_bytes()
