"""DecisionBoundary: the model's score over the plane, animated while a Trainer runs.

>>> from micrograd_widgets import MLP, DecisionBoundary, Trainer, datasets
>>> trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(128, noise=0.1, seed=0))
>>> DecisionBoundary(trainer)        # then press play, or trainer.start() / trainer.run(32)

Python computes every frame -- the ``resolution``² grid of ``model.predict`` scores as float32
bytes, the metrics and the downsampled loss/accuracy curves -- and sends it in one message
(``hold_sync``), at most ``max_fps`` times a second. The view only draws. Clicks come back as
custom messages (``add_point``, ``remove_point``, ``play`` ...).

A run is recorded: every ``record_every``-th step a small uint8 copy of the grid is kept, up to
``max_recorded`` frames (then every other one is dropped and the interval doubles, so the
recording always spans the whole run). It lives in the ``recording`` trait, synced when training
pauses or stops and every few seconds while it runs, so the slider scrubs through training in a
live kernel and in a saved notebook (about ``max_recorded × recording_resolution²`` bytes).
Recording starts when the widget is made: a boundary made after ``trainer.run(20)`` records from
step 20 (``recording_start``; earlier steps have curves only), and the view says so. Each
recorded frame carries the loss and accuracy at its own weights.

The panel shows two sets of numbers, labelled: ``current`` -- loss and accuracy at the weights the
picture shows, computed with a numpy forward pass every frame -- and ``metrics``, the last step's,
measured before its update (as in the seed's loop). ``next_lr`` is the rate the next step will
use; every ``set_lr`` from the view is answered with a ``{"type": "lr"}`` message holding the
rate Python keeps, so the box shows it even when a value was refused.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import traitlets

from ._trainer_widget import MAX_CURVE_POINTS, TrainerWidget, downsample_rows
from ._widget import asset
from .train import LearningRate, Trainer, TrainerEvent, default_schedule

__all__ = ["DecisionBoundary"]

#: while training runs, the recording is synced at most this often (seconds)
RECORDING_SYNC_S = 3.0


def _nan_to_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _colour_scale(scores: np.ndarray) -> float:
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


class DecisionBoundary(TrainerWidget):
    """Heatmap of ``trainer.model``'s score over the data, with the points, curves and controls.

    Args:
        trainer: the :class:`~micrograd_widgets.train.Trainer` to show (and control).
        resolution: grid cells per side (default 100: a 100×100 grid).
        max_fps: frames per second sent to the browser at most (≤ 30).
        padding: margin around the data, as a fraction of its range.
        record_every, max_recorded, recording_resolution: see the module docstring.
    """

    _esm = asset("boundary.js")
    _css = asset("boundary.css")

    resolution = traitlets.Int(100).tag(sync=True)
    #: [xmin, xmax, ymin, ymax] of the grid; row 0 of ``frame`` is at ymax (the top)
    extent = traitlets.List(traitlets.Float(), [-1.0, 1.0, -1.0, 1.0]).tag(sync=True)
    #: float32 scores, resolution × resolution, row-major from the top-left
    frame = traitlets.Bytes(b"").tag(sync=True)
    #: |score| at which the colour scale saturates
    frame_scale = traitlets.Float(1.0).tag(sync=True)
    #: float32 (n, 2) training points and int8 labels; same for the test split
    points = traitlets.Bytes(b"").tag(sync=True)
    labels = traitlets.Bytes(b"").tag(sync=True)
    test_points = traitlets.Bytes(b"").tag(sync=True)
    test_labels = traitlets.Bytes(b"").tag(sync=True)
    #: loss, accuracy, test_loss, test_accuracy, lr of the latest step, measured before its update
    #: (None = not available)
    metrics = traitlets.Dict({}).tag(sync=True)
    #: loss and accuracy at the current weights (what the picture shows; None = not available)
    current = traitlets.Dict({}).tag(sync=True)
    #: the learning rate the next step will use
    next_lr = traitlets.Float(None, allow_none=True).tag(sync=True)
    #: float32 rows (step, loss, accuracy, test_loss, test_accuracy), ≤ MAX_CURVE_POINTS rows
    curves = traitlets.Bytes(b"").tag(sync=True)
    #: the constant learning rate, or None while the default schedule is used
    lr = traitlets.Float(None, allow_none=True).tag(sync=True)
    #: the schedule's name while one is used, e.g. the default's "1 − 0.9·k/100 until step 100, then
    #: 0.1" ("" for a constant rate)
    lr_schedule = traitlets.Unicode("").tag(sync=True)
    #: uint8 grids (recording_resolution²), one per recorded step; 128 = score 0
    recording = traitlets.Bytes(b"").tag(sync=True)
    #: float32 rows (steps done, scale, loss, accuracy of the last step), one per recorded frame
    recording_meta = traitlets.Bytes(b"").tag(sync=True)
    recording_resolution = traitlets.Int(40).tag(sync=True)
    #: the step the recording starts at (steps before it have curves, no pictures)
    recording_start = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        trainer: Trainer,
        resolution: int = 100,
        *,
        max_fps: float = 30.0,
        padding: float = 0.15,
        record_every: int = 1,
        max_recorded: int = 120,
        recording_resolution: int = 40,
        **kwargs: Any,
    ) -> None:
        if not isinstance(trainer, Trainer):
            raise TypeError(f"trainer must be a Trainer, got {type(trainer).__name__}")
        if trainer.X.shape[1] != 2:
            raise ValueError(
                f"DecisionBoundary draws 2-D data; this trainer's points have {trainer.X.shape[1]} "
                "features"
            )
        for name, value, low, high in (
            ("resolution", resolution, 2, 1000),
            ("record_every", record_every, 1, 10**6),
            ("max_recorded", max_recorded, 2, 10_000),
            ("recording_resolution", recording_resolution, 2, 200),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
        super().__init__(
            trainer,
            max_fps=max_fps,
            resolution=resolution,
            recording_resolution=min(recording_resolution, resolution),
            **kwargs,
        )
        self.trainer: Trainer = trainer
        self._padding = float(padding)
        self._record_every = record_every
        self._max_recorded = max_recorded
        self._recorded: list[bytes] = []
        self._recorded_meta: list[tuple[float, float, float, float]] = []
        self._recording_synced_at = 0.0
        self._set_extent()
        self._send_points()
        self._send_frame()
        self._initial_record_every = record_every
        self._start_recording()
        self._follow_trainer()

    # ---- computing frames --------------------------------------------------------------------

    def _set_extent(self) -> None:
        X = np.vstack([self.trainer.X, self.trainer.X_test])
        low, high = X.min(axis=0), X.max(axis=0)
        pad = np.maximum(high - low, 1e-6) * self._padding
        (xmin, ymin), (xmax, ymax) = low - pad, high + pad
        self.extent = [float(xmin), float(xmax), float(ymin), float(ymax)]
        self._grid = self._grid_points(self.resolution)
        self._small_grid = self._grid_points(self.recording_resolution)

    def _grid_points(self, n: int) -> np.ndarray:
        xmin, xmax, ymin, ymax = self.extent
        xs = np.linspace(xmin, xmax, n)
        ys = np.linspace(ymax, ymin, n)  # row 0 at the top
        xx, yy = np.meshgrid(xs, ys)
        return np.c_[xx.ravel(), yy.ravel()]

    def _scores(self, grid: np.ndarray) -> np.ndarray:
        with self.trainer.lock:
            return self._scores_locked(grid)

    def _scores_locked(self, grid: np.ndarray) -> np.ndarray:
        return np.asarray(self.trainer.model.predict(grid), dtype=np.float64).ravel()

    def _curves(self) -> bytes:
        history = self.trainer.history
        if len(history) == 0:
            return b""
        rows = np.column_stack(
            [history.step, history.loss, history.accuracy, history.test_loss, history.test_accuracy]
        )
        return downsample_rows(rows, MAX_CURVE_POINTS).astype(np.float32).tobytes()

    def _send_points(self) -> None:
        trainer = self.trainer
        with trainer.lock:
            X, y, X_test, y_test = trainer.X, trainer.y, trainer.X_test, trainer.y_test
        with self._send_lock, self.hold_sync():
            self.points = X.astype(np.float32).tobytes()
            self.labels = y.astype(np.int8).tobytes()
            self.test_points = X_test.astype(np.float32).tobytes()
            self.test_labels = y_test.astype(np.int8).tobytes()

    def _send_frame(self) -> None:
        """One message with everything that changed since the last frame."""
        trainer = self.trainer
        # one consistent snapshot: this may run on a timer or the kernel's thread while the
        # training thread appends to the history column by column
        with trainer.lock:
            scores = self._scores_locked(self._grid)
            history = trainer.history
            last = history[-1] if len(history) else None
            curves = self._curves()
            steps_done, status, message = trainer.steps_done, trainer.status, trainer.message
            now = trainer.evaluate()
            next_lr = trainer.learning_rate()
        finite = bool(np.all(np.isfinite(scores)))
        with self._send_lock, self.hold_sync():
            if finite:  # a diverged model keeps its last good picture; the message explains
                self.frame = scores.astype(np.float32).tobytes()
                self.frame_scale = _colour_scale(scores)
            self.step = steps_done
            self.metrics = {
                key: (_nan_to_none(last[key]) if last else None)
                for key in ("loss", "accuracy", "test_loss", "test_accuracy", "lr")
            }
            self.current = {key: _nan_to_none(value) for key, value in now.items()}
            self.next_lr = _nan_to_none(next_lr)
            self.curves = curves
            self.status = status
            self.message = message or (
                "" if finite else "The model's scores are NaN or infinite: training diverged."
            )
            self.lr = trainer.lr if isinstance(trainer.lr, float) else None
            self.lr_schedule = schedule_text(trainer.lr)

    # ---- recording -------------------------------------------------------------------------

    def _start_recording(self) -> None:
        """The first recorded frame: where scrubbing starts (the untrained model, or the model
        as it is when the widget is made after some training)."""
        self._recorded, self._recorded_meta = [], []
        self._record_every = self._initial_record_every
        self.recording_start = self.trainer.steps_done
        self._record(self.trainer.steps_done, force=True)
        self._sync_recording()

    def _record(self, steps_done: int, force: bool = False) -> None:
        """Keep a small copy of the current picture, labelled with the step counter and the
        loss and accuracy at those weights."""
        if steps_done % self._record_every and not force:
            return
        with self.trainer.lock:
            scores = self._scores_locked(self._small_grid)
            now = self.trainer.evaluate()
        if not np.all(np.isfinite(scores)):
            return
        loss, accuracy = now["loss"], now["accuracy"]
        scale = _colour_scale(scores)
        quantized = np.clip(np.round(scores / scale * 127), -127, 127) + 128
        # under the send lock: a pause on the kernel's thread may sync the recording meanwhile,
        # and frames and their meta rows must stay paired
        with self._send_lock:
            self._recorded.append(quantized.astype(np.uint8).tobytes())
            self._recorded_meta.append((steps_done, scale, loss, accuracy))
            if len(self._recorded) > self._max_recorded:
                # keep every other frame and record half as often: still the whole run, in the cap
                self._recorded = self._recorded[::2]
                self._recorded_meta = self._recorded_meta[::2]
                self._record_every *= 2

    def _sync_recording(self) -> None:
        self._recording_synced_at = time.monotonic()
        with self._send_lock, self.hold_sync():
            self.recording = b"".join(self._recorded)
            self.recording_meta = np.array(self._recorded_meta, dtype=np.float32).tobytes()

    # ---- trainer events ----------------------------------------------------------------------

    def _handle_trainer_event(self, event: TrainerEvent) -> None:
        if event.kind == "step" and event.record is not None:
            self._record(int(event.record["step"]) + 1)
            self._throttle()
            if time.monotonic() - self._recording_synced_at > RECORDING_SYNC_S:
                self._sync_recording()
        elif event.kind == "data":
            self._send_points()
            self._throttle()
        elif event.kind == "reset":
            self._start_recording()
            self._throttle.flush()
        else:  # status: started, paused, stopped, diverged
            self._throttle.flush()
            if event.trainer.status != "running":
                self._sync_recording()

    # ---- messages from the view -----------------------------------------------------------------

    def _refuse_if_diverged(self) -> bool:
        """True (and the banner says to reset) if the trainer has diverged."""
        if self.trainer.status != "diverged":
            return False
        self.message = self.trainer.message + " Press reset to start again."
        return True

    def _on_play(self, content: dict, buffers: list[bytes]) -> None:
        if self._refuse_if_diverged():
            return
        if self.trainer.is_running:
            self.trainer.resume()
        else:
            self.trainer.start()

    def _on_pause(self, content: dict, buffers: list[bytes]) -> None:
        self.trainer.pause()

    def _on_step(self, content: dict, buffers: list[bytes]) -> None:
        if self.trainer.status == "running":
            self.trainer.pause()
        if self._refuse_if_diverged():
            return
        try:
            self.trainer.step()
        except Exception:
            self._throttle.flush()  # show the divergence message
            raise

    def _on_reset(self, content: dict, buffers: list[bytes]) -> None:
        self.trainer.reset()

    def _on_set_lr(self, content: dict, buffers: list[bytes]) -> None:
        try:
            value = content.get("value")
            if value is None or value == "":
                self.trainer.lr = None
            else:
                try:
                    rate = float(value)
                except (TypeError, ValueError):
                    raise ValueError(f"learning rate must be a number > 0, got {value!r}") from None
                self.trainer.lr = rate
            self._throttle.flush()
        finally:  # applied or refused: the view's box shows what Python holds
            self._reply_lr()

    def _reply_lr(self) -> None:
        lr = self.trainer.lr
        self.send({"type": "lr", "value": lr if isinstance(lr, float) else None})

    def _refresh_view(self) -> None:
        self._send_points()
        self._throttle.flush()
        self._sync_recording()

    @staticmethod
    def _click_xy(action: str, content: dict) -> tuple[float, float]:
        """The plane coordinates of a click message, checked."""
        x, y = content.get("x"), content.get("y")
        if not all(isinstance(v, (int, float)) for v in (x, y)):
            raise ValueError(f"{action} needs numeric x and y, got {content!r:.120}")
        return float(x), float(y)

    def _on_add_point(self, content: dict, buffers: list[bytes]) -> None:
        x, y = self._click_xy("add_point", content)
        label = content.get("label")
        self.trainer.add_point(x, y, int(label) if label in (-1, 1) else label)

    def _on_remove_point(self, content: dict, buffers: list[bytes]) -> None:
        x, y = self._click_xy("remove_point", content)
        xmin, xmax, ymin, ymax = self.extent
        radius = 0.04 * math.hypot(xmax - xmin, ymax - ymin)  # about a point's size on screen
        self.trainer.remove_nearest(x, y, radius)
