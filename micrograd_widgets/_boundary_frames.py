"""What a DecisionBoundary draws, computed apart from the widget (pure NumPy and the Trainer's
public API; no widget imports).

* :class:`BoundaryFrames` owns the grids over the plane and computes one live frame
  (:meth:`BoundaryFrames.frame`: the trait values of one message) or one recorded picture
  (:meth:`BoundaryFrames.recorded`) from one consistent snapshot of the trainer;
* :class:`BoundaryRecording` keeps the recorded run in its cap (every other frame is dropped and
  the interval doubles when it is full) and packs it into the ``recording*`` traits' bytes;
* the pure functions under them: per-point losses, softmax, the k-class grid bytes, the
  first-layer lines, the hidden neurons' thumbnails.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, NamedTuple

import numpy as np

from . import losses
from ._trainer_widget import MAX_CURVE_POINTS, downsample_rows
from .nn import ACTIVATIONS, MLP, Layer, Neuron, forward_with
from .train import History, LearningRate, Trainer, default_schedule

__all__ = [
    "NEURON_FRAME_S",
    "BoundaryFrames",
    "BoundaryRecording",
    "RecordedFrame",
    "class_grid",
    "curve_bytes",
    "first_layer_rows",
    "grid_points",
    "hidden_activations",
    "per_point_losses",
    "plane_extent",
    "point_state",
    "quantize_per_column",
    "read_weights",
    "schedule_text",
    "scores_in_blocks",
    "softmax",
]

#: hidden-neuron thumbnails are recomputed at most this often while training runs (seconds)
NEURON_FRAME_S = 0.5

DIVERGED_MESSAGE = "The model's scores are NaN or infinite: training diverged."


def nan_to_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def colour_scale(scores: np.ndarray) -> float:
    """The |score| at which colours saturate: the 95th percentile, so outliers do not wash out."""
    return float(max(np.quantile(np.abs(scores), 0.95), 1e-6))


def schedule_text(lr: LearningRate) -> str:
    """How the view names the learning-rate schedule: the default schedule's description, a
    schedule function's own ``description`` (else "custom"), or "" for a constant rate."""
    if lr is None:
        return default_schedule.description  # type: ignore[attr-defined]
    if callable(lr):
        return str(getattr(lr, "description", "") or "custom")
    return ""


def per_point_losses(loss_name: str, scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each point's data loss (no penalty): the terms whose mean is the built-in loss
    ``loss_name`` ("svm", "log", "mse", "cross_entropy" with (n, k) scores); NaN for a loss
    without a NumPy twin (a custom function)."""
    y = np.asarray(y, dtype=np.float64).ravel()
    s = np.asarray(scores, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        if loss_name == "cross_entropy" and s.ndim == 2:
            shifted = s - s.max(axis=1, keepdims=True)
            log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            labels = losses.class_indices(y, s.shape[1])
            return -log_probs[np.arange(len(s)), labels]
        s = s.reshape(len(y), -1)[:, 0] if s.size else s.ravel()
        if loss_name == "svm":
            return np.maximum(0.0, 1.0 - y * s)
        if loss_name == "log":
            return np.logaddexp(0.0, -y * s)
        if loss_name == "mse":
            return (s - y) ** 2
    return np.full(len(y), np.nan)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (n, k) scores (stable: the max is subtracted first)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def class_grid(scores: np.ndarray) -> bytes:
    """(n, k) scores -> n uint8 class numbers (the argmax) then n uint8 confidences: 0 where the
    top class is no likelier than a uniform guess (1/k), 255 where it is certain."""
    probs = softmax(scores)
    k = scores.shape[1]
    top = probs.max(axis=1)
    confidence = np.clip((top - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
    classes = np.argmax(scores, axis=1).astype(np.uint8)
    return classes.tobytes() + np.round(confidence * 255).astype(np.uint8).tobytes()


def score_picture(scores: np.ndarray) -> tuple[bytes, float]:
    """One-score grid -> uint8 bytes (128 = score 0, ±127 = ± the colour scale) and that scale."""
    scale = colour_scale(scores)
    quantized = np.clip(np.round(scores / scale * 127), -127, 127) + 128
    return quantized.astype(np.uint8).tobytes(), scale


def first_layer_rows(model: object) -> np.ndarray | None:
    """Each first-layer neuron's ``(w0, w1, b)`` (its line ``w0·x + w1·y + b = 0`` on the
    plane), or None for a model without layers of neurons on 2 inputs."""
    layers = getattr(model, "layers", None)
    first = layers[0] if layers else model
    matrix = getattr(first, "parameter_matrix", None)
    if matrix is None:
        return None
    rows = np.asarray(matrix(), dtype=np.float64)
    return rows if rows.ndim == 2 and rows.shape[1] == 3 else None


def line_bytes(rows: np.ndarray | None) -> bytes:
    return b"" if rows is None else rows.astype(np.float32).tobytes()


def hidden_activations(model: object, grid: np.ndarray) -> list[np.ndarray]:
    """Every hidden layer's outputs on ``grid`` (one (n, width) array per hidden layer, after
    the activation): what each neuron computes over the plane. [] for a model without them."""
    layers = getattr(model, "layers", None)
    if not layers or len(layers) < 2 or not hasattr(model, "preactivations"):
        return []
    pre = model.preactivations(grid)  # type: ignore[attr-defined]
    return [ACTIVATIONS[layer.activation][1](z) for layer, z in zip(layers[:-1], pre[:-1])]


def quantize_per_column(values: np.ndarray) -> tuple[bytes, list[float]]:
    """(n, m) values -> uint8 column after column, 128 = 0 and ±127 = ± the column's max |value|
    (its scale, returned too, 0 for an all-zero column)."""
    scales = np.max(np.abs(values), axis=0) if values.size else np.zeros(values.shape[1])
    safe = np.where(scales > 0, scales, 1.0)
    q = np.clip(np.round(values / safe * 127), -127, 127) + 128
    return q.T.astype(np.uint8).tobytes(), [float(s) for s in scales]


def plane_extent(*point_sets: np.ndarray, padding: float) -> list[float]:
    """[xmin, xmax, ymin, ymax] around the (n, 2) point sets (training and test), with a margin
    of ``padding`` × their range on each side."""
    X = np.vstack(point_sets)
    low, high = X.min(axis=0), X.max(axis=0)
    pad = np.maximum(high - low, 1e-6) * padding
    (xmin, ymin), (xmax, ymax) = low - pad, high + pad
    return [float(xmin), float(xmax), float(ymin), float(ymax)]


def grid_points(extent: list[float], n: int) -> np.ndarray:
    """The n × n cell centres of ``extent`` as (n², 2) points, row-major from the top-left."""
    xmin, xmax, ymin, ymax = extent
    xs = np.linspace(xmin, xmax, n)
    ys = np.linspace(ymax, ymin, n)  # row 0 at the top
    xx, yy = np.meshgrid(xs, ys)
    return np.c_[xx.ravel(), yy.ravel()]


def curve_bytes(history: History) -> bytes:
    """float32 rows (step, loss, accuracy, test_loss, test_accuracy), ≤ MAX_CURVE_POINTS rows."""
    if len(history) == 0:
        return b""
    rows = np.column_stack(
        [history.step, history.loss, history.accuracy, history.test_loss, history.test_accuracy]
    )
    return downsample_rows(rows, MAX_CURVE_POINTS).astype(np.float32).tobytes()


def point_state(trainer: Trainer, classes: int) -> dict[str, bytes]:
    """The ``points`` / ``labels`` / ``test_points`` / ``test_labels`` trait values: float32
    points, int8 labels (class numbers 0..k-1 for a k-output model, a 2-output one too)."""
    with trainer.lock:
        X, y, X_test, y_test = trainer.X, trainer.y, trainer.X_test, trainer.y_test
    if classes:
        y, y_test = (losses.class_indices(labels, classes) for labels in (y, y_test))
    return {
        "points": X.astype(np.float32).tobytes(),
        "labels": y.astype(np.int8).tobytes(),
        "test_points": X_test.astype(np.float32).tobytes(),
        "test_labels": y_test.astype(np.int8).tobytes(),
    }


#: a model's parameter matrices (one per layer, ``nout × (nin + 1)``) and activations
Weights = tuple[list[np.ndarray], list[str]]

#: the grids are scored in blocks of rows whose matrix products stay at or under this many
#: multiply-adds (m·n·k): OpenBLAS computes such a product on the calling thread (its threshold
#: is 65536 × 4). A threaded one woke a second BLAS thread that then spun a whole core: a
#: 10,000 × 16 × 16 product took 7.8 ms of CPU instead of 0.33 ms, and a live run used 190 %
#: CPU instead of 99 % for the same steps/s, starving the browser on a 2-core machine.
SINGLE_THREAD_PRODUCT = 262_144
#: ... but never fewer rows than this per block (a very wide layer pays per-call overhead)
MIN_BLOCK_ROWS = 64


def scores_in_blocks(
    weights: Weights, points: np.ndarray, workspace: dict[tuple[int, int, int], np.ndarray]
) -> np.ndarray:
    """``predict(points)`` from ``weights``, computed in blocks of rows (see
    SINGLE_THREAD_PRODUCT) in the buffers of ``workspace``. Each row's scores come from its own
    dot products, as in one big product, to within rounding (a block size can change which BLAS
    kernel handles a row: the last bit may differ)."""
    matrices, activations = weights
    widest = max(W.shape[0] * (W.shape[1] - 1) for W in matrices)
    rows = max(MIN_BLOCK_ROWS, SINGLE_THREAD_PRODUCT // max(widest, 1))
    if len(points) <= rows:
        return forward_with(matrices, activations, points, workspace)
    blocks = range(0, len(points), rows)
    return np.concatenate(
        [forward_with(matrices, activations, points[i : i + rows], workspace) for i in blocks]
    )


def read_weights(model: object) -> Weights | None:
    """The weights of an MLP, Layer or Neuron whose ``predict`` is nn's own, read now (call
    with the trainer's lock held): its scores can then be computed from them after the lock is
    released, the same numbers as ``predict``. None for any other model (score it under the
    lock)."""
    for kind in (MLP, Layer, Neuron):
        if isinstance(model, kind) and type(model).predict is kind.predict:
            layers = model.layers if isinstance(model, MLP) else [model]
            return [L.parameter_matrix() for L in layers], [L.activation for L in layers]
    return None


class RecordedFrame(NamedTuple):
    """One recorded picture (uint8 bytes) with its scale, the loss and accuracy at its weights,
    and the first-layer lines (float32 bytes)."""

    picture: bytes
    scale: float
    loss: float
    accuracy: float
    lines: bytes


class BoundaryFrames:
    """The plane's grids for one trainer and the frames computed on them.

    ``classes`` is 0 for a one-score model, k for a k-output model. The hidden neurons'
    thumbnails are recomputed at most every NEURON_FRAME_S while training runs
    (:meth:`refresh_neurons` makes the next frame recompute them).
    """

    def __init__(
        self,
        trainer: Trainer,
        classes: int,
        extent: list[float],
        resolution: int,
        recording_resolution: int,
        neuron_resolution: int,
    ) -> None:
        self.trainer = trainer
        self.classes = classes
        self.grid = grid_points(extent, resolution)
        self.small_grid = grid_points(extent, recording_resolution)
        self.neuron_grid = grid_points(extent, neuron_resolution)
        self._neurons_sent_at = -math.inf
        # buffers of the grids' forward passes, reused frame after frame (fresh pages of a
        # 10,000-point pass cost more than its arithmetic here)
        self._workspaces: dict[str, dict[tuple[int, int, int], np.ndarray]] = {
            "grid": {},
            "small": {},
        }
        self._workspace_lock = threading.Lock()

    def refresh_neurons(self) -> None:
        self._neurons_sent_at = -math.inf

    def _scores(
        self,
        points: np.ndarray,
        weights: Weights | None,
        workspace: dict[tuple[int, int, int], np.ndarray] | None = None,
    ) -> np.ndarray:
        """(n,) scores of a one-score model, (n, k) of a k-output model. Without ``weights``
        this calls the model's ``predict``: hold the trainer's lock."""
        if weights is None:
            scores = np.asarray(self.trainer.model.predict(points), dtype=np.float64)
        elif workspace is None:
            scores = forward_with(*weights, points)
        else:
            with self._workspace_lock:  # a workspace serves one caller at a time
                scores = scores_in_blocks(weights, points, workspace)
        return scores if self.classes else scores.ravel()

    def _lines(self, weights: Weights | None) -> np.ndarray | None:
        if weights is None:
            return first_layer_rows(self.trainer.model)
        rows = weights[0][0]
        return rows if rows.ndim == 2 and rows.shape[1] == 3 else None

    def _confusion(self, scores: np.ndarray | None, y: np.ndarray) -> list[list[int]]:
        if scores is None or len(y) == 0:
            return []
        return losses.confusion_matrix(scores, y, self.classes).tolist()

    def _neuron_thumbnails_locked(self, status: str) -> tuple[bytes, list[int], list[float]] | None:
        """The hidden neurons' thumbnails, if they are due (at most every NEURON_FRAME_S while
        training runs; always when it does not), else None (keep the last ones)."""
        now = time.monotonic()
        if status == "running" and now - self._neurons_sent_at < NEURON_FRAME_S:
            return None
        self._neurons_sent_at = now
        layers = hidden_activations(self.trainer.model, self.neuron_grid)
        if not layers:
            return b"", [], []
        data, scales = quantize_per_column(np.hstack(layers))
        if not all(math.isfinite(x) for x in scales):
            return None
        return data, [a.shape[1] for a in layers], scales

    def _frame_scores(
        self, weights: Weights | None, X: np.ndarray, X_test: np.ndarray, has_test: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The grid's, the training points' and (k classes) the test points' scores."""
        scores = self._scores(self.grid, weights, self._workspaces["grid"])
        test_scores = self._scores(X_test, weights) if has_test else None
        return scores, self._scores(X, weights), test_scores

    def frame(self, neurons: bool) -> tuple[dict[str, Any], int]:
        """One frame: the trait values of one message, and the number of training points (the
        ``selected`` index must stay below it). A diverged model's frame keeps the last good
        picture (no picture traits) and says so in ``message``."""
        trainer = self.trainer
        # one consistent snapshot: this may run on the throttle's thread or the kernel's while
        # the training thread steps and appends to the history column by column. The weights
        # are read under the lock and scored after it (an MLP's), so training goes on meanwhile.
        with trainer.lock:
            weights = read_weights(trainer.model)
            X, X_test, y, y_test = trainer.X, trainer.X_test, trainer.y, trainer.y_test
            has_test = bool(self.classes and len(X_test))
            if weights is None:  # a model with its own predict: score it while the lock is held
                scores, point_scores, test_scores = self._frame_scores(None, X, X_test, has_test)
            history = trainer.history
            last = history[-1] if len(history) else None
            curves = curve_bytes(history)
            steps_done, status, message = trainer.steps_done, trainer.status, trainer.message
            now = trainer.evaluate()
            next_lr = trainer.learning_rate()
            lines = self._lines(weights)
            thumbnails = self._neuron_thumbnails_locked(status) if neurons else None
            lr, speed = trainer.lr, trainer.speed
        if weights is not None:
            scores, point_scores, test_scores = self._frame_scores(weights, X, X_test, has_test)
        finite = bool(np.all(np.isfinite(scores)))
        state: dict[str, Any] = {}
        if finite:  # a diverged model keeps its last good picture; the message explains
            if self.classes:
                state["class_frame"] = class_grid(scores)
                state["confusion"] = self._confusion(point_scores, y)
                state["test_confusion"] = self._confusion(test_scores, y_test)
                shown = softmax(point_scores) if len(point_scores) else point_scores
            else:
                state["frame"] = scores.astype(np.float32).tobytes()
                state["frame_scale"] = colour_scale(scores)
                shown = point_scores
            point_losses = per_point_losses(trainer.loss_name, point_scores, y)
            state["point_scores"] = shown.astype(np.float32).tobytes()
            state["point_losses"] = point_losses.astype(np.float32).tobytes()
            state["first_layer"] = line_bytes(lines)
            if thumbnails is not None:
                keys = ("neuron_frames", "neuron_layers", "neuron_scales")
                state.update(zip(keys, thumbnails))
        state.update(
            step=steps_done,
            metrics={
                key: (nan_to_none(last[key]) if last else None)
                for key in ("loss", "accuracy", "test_loss", "test_accuracy", "lr")
            },
            current={key: nan_to_none(value) for key, value in now.items()},
            next_lr=nan_to_none(next_lr),
            curves=curves,
            status=status,
            message=message or ("" if finite else DIVERGED_MESSAGE),
            lr=lr if isinstance(lr, float) else None,
            lr_schedule=schedule_text(lr),
            speed=speed,
        )
        return state, len(y)

    def recorded(self) -> RecordedFrame | None:
        """A small copy of the current picture (k classes: class and confidence bytes, as the
        live ``class_frame``), or None if the model's scores are not finite."""
        with self.trainer.lock:
            weights = read_weights(self.trainer.model)
            if weights is None:
                scores = self._scores(self.small_grid, None)
            now = self.trainer.evaluate()
            lines = self._lines(weights)
        if weights is not None:
            scores = self._scores(self.small_grid, weights, self._workspaces["small"])
        if not np.all(np.isfinite(scores)):
            return None
        if self.classes:
            picture, scale = class_grid(scores), 1.0
        else:
            picture, scale = score_picture(scores)
        return RecordedFrame(picture, scale, now["loss"], now["accuracy"], line_bytes(lines))


class BoundaryRecording:
    """The recorded run: one frame every ``record_every``-th step, at most ``max_recorded``
    (then every other one is dropped and the interval doubles, so it spans the whole run).
    Not thread-safe on its own: the widget adds and packs under its send lock."""

    def __init__(self, record_every: int, max_recorded: int) -> None:
        self.initial_record_every = record_every
        self.max_recorded = max_recorded
        self.restart()

    def restart(self) -> None:
        self.record_every = self.initial_record_every
        self.pictures: list[bytes] = []
        self.meta: list[tuple[float, float, float, float]] = []
        self.lines: list[bytes] = []

    def due(self, steps_done: int) -> bool:
        return steps_done % self.record_every == 0

    def add(self, steps_done: int, frame: RecordedFrame) -> None:
        self.pictures.append(frame.picture)
        self.meta.append((steps_done, frame.scale, frame.loss, frame.accuracy))
        self.lines.append(frame.lines)
        if len(self.pictures) > self.max_recorded:
            # keep every other frame and record half as often: still the whole run, in the cap
            self.pictures = self.pictures[::2]
            self.meta = self.meta[::2]
            self.lines = self.lines[::2]
            self.record_every *= 2

    def state(self) -> dict[str, bytes]:
        """The ``recording``, ``recording_lines`` and ``recording_meta`` trait values."""
        return {
            "recording": b"".join(self.pictures),
            "recording_lines": b"".join(self.lines),
            "recording_meta": np.array(self.meta, dtype=np.float32).tobytes(),
        }
