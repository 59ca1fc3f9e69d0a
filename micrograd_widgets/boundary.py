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
live kernel and in a saved notebook (about ``max_recorded × recording_resolution²`` bytes;
twice that for k classes, whose frames hold a class and a confidence byte per cell).
Recording starts when the widget is made: a boundary made after ``trainer.run(20)`` records from
step 20 (``recording_start``; earlier steps have curves only), and the view says so. Each
recorded frame carries the loss and accuracy at its own weights.

The panel shows two sets of numbers, labelled: ``current`` -- loss and accuracy at the weights the
picture shows, computed with a numpy forward pass every frame -- and ``metrics``, the last step's,
measured before its update (as in the seed's loop). ``next_lr`` is the rate the next step will
use; every ``set_lr`` from the view is answered with a ``{"type": "lr"}`` message holding the
rate Python keeps, so the box shows it even when a value was refused.

The toolbar's view tools (each explained on hover):

* **Inspect**: a click on (or within 10 px of) a training point rings it and sets ``selected``
  (its index, -1 for none; set it from Python too). The view also tells every other view of the
  trainer in the page (a ``sample`` link message, see js/shared/link.ts), so a graph following
  the trainer switches without waiting for the kernel. Hovering a point, in any mode, shows its
  coordinates, label, score and data loss at the current weights (``point_scores``,
  ``point_losses``, sent with each frame).
* **One timeline**: the recorded-run slider and a click or drag on the loss/accuracy curves move
  every view of the trainer to that step (the nearest recorded frame at or before it); **Live**
  brings them all back. This runs in the page, so it works during a blocking cell and without
  a kernel.
* **Neuron lines**: each first-layer neuron's ``w·x + b = 0`` line (``first_layer``; recorded
  with each frame too). Hovering a line highlights it and the same neuron in linked views (the
  gradient heatmap); hovering a neuron there highlights its line here.
* **Discretise**: sharp class regions instead of shading by score (or confidence).
* **speed**: the trainer's ``speed`` in steps per second (1 / 10 / 30 / 100 / max), so a run can
  be slowed down to narrate it; the view shows the rate it measures.

With ``neurons=True`` a panel shows every hidden neuron's output over the plane as thumbnails
(``neuron_resolution``² uint8 each, recomputed at most every 0.5 s while training); hovering one
shows it big on the plot.

A model with k ≥ 2 outputs (labels 0..k-1, e.g. ``loss="cross_entropy"``) is drawn by class:
``class_frame`` holds each cell's argmax class and its confidence (one byte each; 0 = no better
than a uniform guess), the legend names the class colours (Okabe–Ito, colour-blind safe), a click
adds a point of the class picked in the toolbar, and the panel shows the confusion matrices of
the training and test points (``confusion``, ``test_confusion``).
"""

from __future__ import annotations

import time
from typing import Any

import traitlets

from ._boundary_frames import BoundaryFrames, BoundaryRecording, plane_extent, point_state
from ._boundary_input import (
    check_options,
    click_label,
    lr_value,
    removal_radius,
    selected_index,
)
from ._trainer_widget import TrainerWidget
from ._widget import asset, click_xy
from .train import Trainer, TrainerEvent

__all__ = ["DecisionBoundary"]

#: while training runs, the recording is synced at most this often (seconds)
RECORDING_SYNC_S = 3.0


class DecisionBoundary(TrainerWidget):
    """Heatmap of ``trainer.model``'s score over the data, with the points, curves and controls.

    Args:
        trainer: the :class:`~micrograd_widgets.train.Trainer` to show (and control).
        resolution: grid cells per side (default 100: a 100×100 grid).
        max_fps: frames per second sent to the browser at most (≤ 30).
        padding: margin around the data, as a fraction of its range.
        record_every, max_recorded, recording_resolution: see the module docstring.
        neurons: also show every hidden neuron's output over the plane as thumbnails
            (``neuron_resolution``² cells each, recomputed at most every 0.5 s while training).
        run_controls: False hides the row of Play/Pause/Step/Reset, learning rate and speed
            (a :class:`~micrograd_widgets.playground.Playground` shows its own); settable.
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
    run_controls = traitlets.Bool(True).tag(sync=True)
    #: the step the recording starts at (steps before it have curves, no pictures)
    recording_start = traitlets.Int(0).tag(sync=True)
    #: the inspected training point's index (-1: none); the view sets it with Inspect + click
    selected = traitlets.Int(-1).tag(sync=True)
    #: per training point, at the current weights: float32 score (one-score model) or the k
    #: class probabilities (k-output model), and float32 data loss (NaN for a custom loss)
    point_scores = traitlets.Bytes(b"").tag(sync=True)
    point_losses = traitlets.Bytes(b"").tag(sync=True)
    #: the trainer's speed in steps per second (None: as fast as possible)
    speed = traitlets.Float(None, allow_none=True).tag(sync=True)
    #: 0 for a one-score model (its sign is the class, labels ±1); k for a k-output model
    #: (labels 0..k-1): then ``class_frame`` replaces ``frame`` and recordings hold classes too
    classes = traitlets.Int(0).tag(sync=True)
    #: uint8 argmax class per cell, then uint8 confidence per cell (resolution² each)
    class_frame = traitlets.Bytes(b"").tag(sync=True)
    #: confusion matrices (row: true class, column: predicted) of the training and test points
    confusion = traitlets.List([]).tag(sync=True)
    test_confusion = traitlets.List([]).tag(sync=True)
    #: float32 (w0, w1, b) per first-layer neuron: its line w0·x + w1·y + b = 0 on the plane
    first_layer = traitlets.Bytes(b"").tag(sync=True)
    #: the same rows for each recorded frame, frame after frame
    recording_lines = traitlets.Bytes(b"").tag(sync=True)
    #: show the hidden neurons' outputs over the plane as thumbnails
    neurons = traitlets.Bool(False).tag(sync=True)
    #: uint8 thumbnails (neuron_resolution² each, 128 = 0), hidden layer after layer
    neuron_frames = traitlets.Bytes(b"").tag(sync=True)
    #: the hidden layers' widths (how neuron_frames splits) and each thumbnail's scale
    neuron_layers = traitlets.List(traitlets.Int(), []).tag(sync=True)
    neuron_scales = traitlets.List(traitlets.Float(), []).tag(sync=True)
    neuron_resolution = traitlets.Int(24).tag(sync=True)

    @traitlets.observe("neurons")
    def _neurons_switched(self, change: dict) -> None:
        """Thumbnails turned on later (``w.neurons = True``): compute them at once."""
        if change["new"] and getattr(self, "trainer", None) is not None:
            self._frames.refresh_neurons()
            self._throttle.flush()

    @traitlets.validate("selected")
    def _check_selected(self, proposal: dict) -> int:
        index = proposal["value"]
        count = len(self.trainer.y) if getattr(self, "trainer", None) is not None else 0
        if index != -1 and not 0 <= index < count:
            raise traitlets.TraitError(
                f"selected must be -1 (none) or a training point's index in [0, {count}), "
                f"got {index!r}"
            )
        return index

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
        neurons: bool = False,
        neuron_resolution: int = 24,
        **kwargs: Any,
    ) -> None:
        if not isinstance(trainer, Trainer):
            raise TypeError(f"trainer must be a Trainer, got {type(trainer).__name__}")
        if trainer.X.shape[1] != 2:
            raise ValueError(
                f"DecisionBoundary draws 2-D data; this trainer's points have {trainer.X.shape[1]} "
                "features"
            )
        check_options(
            neurons,
            resolution=resolution,
            record_every=record_every,
            max_recorded=max_recorded,
            recording_resolution=recording_resolution,
            neuron_resolution=neuron_resolution,
        )
        nout = int(getattr(trainer.model, "nout", 1))
        super().__init__(
            trainer,
            max_fps=max_fps,
            resolution=resolution,
            recording_resolution=min(recording_resolution, resolution),
            neurons=neurons,
            neuron_resolution=neuron_resolution,
            classes=nout if nout > 1 else 0,
            **kwargs,
        )
        self.trainer: Trainer = trainer
        self.extent = plane_extent(trainer.X, trainer.X_test, padding=float(padding))
        self._frames = BoundaryFrames(
            trainer,
            self.classes,
            self.extent,
            self.resolution,
            self.recording_resolution,
            self.neuron_resolution,
        )
        self._recording = BoundaryRecording(record_every, max_recorded)
        self._recording_synced_at = 0.0
        self._send_points()
        self._send_frame()
        self._start_recording()
        self._follow_trainer()

    # ---- sending frames (computed by BoundaryFrames) ---------------------------------------------

    def _send_points(self) -> None:
        state = point_state(self.trainer, self.classes)
        with self._send_lock, self.hold_sync():
            self._set_traits(state)

    def _send_frame(self) -> None:
        """One message with everything that changed since the last frame."""
        state, point_count = self._frames.frame(self.neurons)
        with self._send_lock, self.hold_sync():
            self._set_traits(state)
            if self.selected >= point_count:  # its point was removed
                self.selected = -1

    def _set_traits(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    # ---- recording -------------------------------------------------------------------------

    def _start_recording(self) -> None:
        """The first recorded frame: where scrubbing starts (the untrained model, or the model
        as it is when the widget is made after some training)."""
        with self._send_lock:
            self._recording.restart()
        self.recording_start = self.trainer.steps_done
        self._record(self.trainer.steps_done, force=True)
        self._sync_recording()

    def _record(self, steps_done: int, force: bool = False) -> None:
        """Keep a small copy of the current picture, labelled with the step counter and the
        loss and accuracy at those weights."""
        if not (force or self._recording.due(steps_done)):
            return
        frame = self._frames.recorded()
        if frame is None:
            return
        # under the send lock: a pause on the kernel's thread may sync the recording meanwhile,
        # and frames and their meta rows must stay paired
        with self._send_lock:
            self._recording.add(steps_done, frame)

    def _sync_recording(self) -> None:
        self._recording_synced_at = time.monotonic()
        with self._send_lock, self.hold_sync():
            self._set_traits(self._recording.state())

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
            self.trainer.lr = lr_value(content.get("value"))
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

    def _on_add_point(self, content: dict, buffers: list[bytes]) -> None:
        x, y = click_xy("add_point", content)
        values = getattr(self.trainer, "label_values", None)
        self.trainer.add_point(x, y, click_label(content.get("label"), self.classes, values))

    def _on_remove_point(self, content: dict, buffers: list[bytes]) -> None:
        x, y = click_xy("remove_point", content)
        selected = self.selected
        removed = self.trainer.remove_nearest(x, y, removal_radius(self.extent))
        if removed is not None and selected >= 0:  # the inspected point keeps its place
            self.selected = -1 if removed == selected else selected - (removed < selected)

    def _on_select(self, content: dict, buffers: list[bytes]) -> None:
        """Inspect + click: the view picked training point ``index`` (None: none)."""
        # checked against the current points by the validator
        self.selected = selected_index(content.get("index"))

    def _on_set_speed(self, content: dict, buffers: list[bytes]) -> None:
        """The toolbar's speed: steps per second, or null for as fast as possible."""
        try:
            self.trainer.speed = content.get("value")
        finally:  # applied or refused: the view shows the speed the trainer has
            self.speed = self.trainer.speed
