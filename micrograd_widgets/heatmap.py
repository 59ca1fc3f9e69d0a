"""GradientHeatmap: every layer's parameters as a neurons × (inputs + bias) matrix of colours.

>>> from micrograd_widgets import MLP, GradientHeatmap, Trainer, datasets
>>> trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(128, noise=0.1, seed=0))
>>> GradientHeatmap(trainer)   # updates live while the trainer trains (trainer.start())

>>> from micrograd_widgets import MLP, GradientHeatmap
>>> model = MLP(2, [4, 1], seed=0)
>>> model([0.5, -1.0]).backward()
>>> GradientHeatmap(model)   # a snapshot: .refresh() after a backward(); X= marks dead ReLUs

Several views of the same matrices (toggle in the widget or set ``mode``): the gradients, the
weights, and the last update applied (``-lr · grad`` from a Trainer; the change since the last
``refresh()`` for a bare model) -- plus, when the trainer's optimizer keeps state
(``optimizer.state_arrays()``), that state in the same layout: momentum's ``velocity``, Adam's and
AdamW's ``m`` and ``sqrt_v`` (``modes`` lists what is offered). The mode is the view's choice: the
buttons switch at once from the data in the page (no kernel needed) and tell Python, which keeps
it in ``mode``. Colours are diverging and centred at 0, scaled per layer. A line chart shows each
layer's gradient norm over time. Hovering a cell shows its parameter and the update formula of
the trainer's optimizer with that parameter's numbers plugged in (``w ← w − lr·grad = 0.31 −
0.1·(−0.42) = 0.352``); hovering a row tells the other views of the trainer which neuron it is
(and a neuron hovered there is outlined here). A k-output last layer's rows are labelled by class.

A run is recorded like the decision boundary's, at the same steps: every ``record_every``-th step
every mode's matrices are kept as int8 (one scale per mode per layer, so each layer keeps its 127
levels) with the dead-ReLU marks, up to ``max_recorded`` frames (then every other frame is dropped
and the interval doubles). The recording is capped at ``recording_budget`` bytes (default 1 MB:
about ``frames × (modes × parameters + neurons)`` bytes), by recording fewer frames when a big
model needs it. It is synced (``recording``, ``recording_meta``) when training pauses or stops and
every few seconds while it runs. A ``timeline`` message from a linked view (the boundary's slider,
or the heatmap's own) shows the nearest recorded step at or before it -- "step N (recorded)" --
with no kernel needed: in a live kernel, during a blocking cell, and in a saved notebook. The
recording keeps the modes offered when it started (the widget made, or the trainer reset): the
state of an optimizer switched in later (``trainer.set_optimizer``) is shown live only.

Dead ReLUs are marked: a ReLU neuron is dead when its pre-activation ``w · x + b`` is <= 0 for
every training point (the trainer's data, or the ``X`` given with a bare model), so it outputs 0
and passes no gradient back for any of them. It is computed from the weights each frame with a
numpy forward pass (``model.preactivations(X)``), not guessed from zero gradients: once every
hinge of the SVM loss is satisfied, every neuron's data gradient is 0, dead or not.

The model may be an MLP, a Layer or a single Neuron (shown as one layer).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import numpy as np
import traitlets

from ._heatmap_frames import (
    HeatmapParameters,
    NormHistory,
    checked_points,
    dead_note,
    optimizer_info,
    output_labels,
    state_arrays,
)
from ._trainer_widget import MAX_CURVE_POINTS, TrainerWidget, downsample_rows
from ._widget import asset
from .nn import MLP, Layer, Neuron
from .train import Trainer, TrainerEvent

__all__ = ["GradientHeatmap"]

#: the modes every heatmap offers; an optimizer with state adds its ``state_arrays()`` names
MODES = ("grads", "weights", "updates")
#: the most per-step gradient-norm rows kept (then every other one is dropped)
MAX_NORM_ROWS = 2048
#: while training runs, the recording is synced at most this often (seconds), as the boundary's
RECORDING_SYNC_S = 3.0
#: the default cap on the recording's bytes (frames, meta rows): 1 MB
RECORDING_BUDGET = 1_000_000

Model = MLP | Layer | Neuron


def quantize_rows(rows: np.ndarray, spans: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Each row of ``rows`` (modes × parameters) as int8, one scale per row per span (layer):
    ``q = round(x / scale · 127)``, scale = the span's largest finite |x| (0 for an all-zero
    span; ±inf saturate, NaN is 0). Returns the int8 rows and the scales (rows × spans).
    Vectorized: it runs on the training thread at every recorded step."""
    magnitudes = np.abs(rows)
    finite = np.where(np.isfinite(magnitudes), magnitudes, 0.0)
    starts = [a for a, _ in spans]
    scales = np.maximum.reduceat(finite, starts, axis=1)
    widths = [b - a for a, b in spans]
    per_value = np.repeat(scales, widths, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(per_value > 0, rows / per_value * 127, 0.0)
    q = np.nan_to_num(q, nan=0.0, posinf=127, neginf=-127)
    return np.clip(np.round(q), -127, 127).astype(np.int8), scales


def quantize(values: np.ndarray, spans: list[tuple[int, int]]) -> tuple[np.ndarray, list[float]]:
    """One flat array as int8 with a scale per span (see :func:`quantize_rows`)."""
    q, scales = quantize_rows(np.asarray(values, dtype=np.float64)[None, :], spans)
    return q[0], scales[0].tolist()


def dequantize(
    quantized: np.ndarray, scales: list[float], spans: list[tuple[int, int]]
) -> np.ndarray:
    """The inverse of :func:`quantize` (to within half a level: scale / 254 per layer)."""
    values = np.zeros(len(quantized))
    for (a, b), scale in zip(spans, scales):
        values[a:b] = quantized[a:b].astype(np.float64) * (scale / 127)
    return values


class HeatmapRecording:
    """The recorded run of a heatmap: per recorded step, every mode's matrices as int8 (a scale
    per mode per layer) and the dead-ReLU marks. Pure bookkeeping, no widget.

    Steps are recorded as the boundary records them: every ``record_every``-th step (and the
    first one given ``force``), at most ``max_frames`` frames; past that every other frame is
    dropped and the interval doubles, so the recording always spans the whole run.

    Wire format (what the view decodes): ``frames`` = for each frame, for each mode in
    ``modes`` order, one int8 per parameter, then one uint8 per neuron (1 = dead);
    ``meta`` = float32 rows (step, then the scale of each mode's each layer, mode by mode).
    """

    def __init__(
        self,
        modes: list[str],
        spans: list[tuple[int, int]],
        neurons: int,
        *,
        record_every: int = 1,
        max_frames: int = 120,
        budget: int = RECORDING_BUDGET,
    ) -> None:
        self.modes = list(modes)
        self.spans = spans
        self.parameters = spans[-1][1] if spans else 0
        self.neurons = neurons
        self.record_every = record_every
        #: frames that fit both ``max_frames`` and the byte budget (at least 2: a start and an end)
        self.max_frames = max(2, min(max_frames, budget // max(1, self.bytes_per_frame)))
        self.frames: list[bytes] = []
        self.meta: list[list[float]] = []

    @property
    def bytes_per_frame(self) -> int:
        """Bytes one recorded step costs: the int8 matrices, the dead marks and the meta row."""
        return (
            len(self.modes) * self.parameters
            + self.neurons
            + 4 * (1 + len(self.modes) * len(self.spans))
        )

    @property
    def steps(self) -> list[int]:
        return [int(row[0]) for row in self.meta]

    def due(self, step: int) -> bool:
        """Whether ``step`` is one to record."""
        return step % self.record_every == 0

    def add(self, step: int, arrays: dict[str, np.ndarray], dead: np.ndarray) -> None:
        """Record ``step``: ``arrays`` maps each mode to its flat float array (a mode missing
        there is recorded as zeros); ``dead`` is the per-neuron dead mask."""
        zeros = np.zeros(self.parameters)
        rows = np.array([arrays.get(mode, zeros) for mode in self.modes], dtype=np.float64)
        quantized, scales = quantize_rows(rows, self.spans)
        parts = [quantized.tobytes(), np.asarray(dead, dtype=np.uint8).tobytes()]
        row = [float(step), *scales.ravel().tolist()]
        self.frames.append(b"".join(parts))
        self.meta.append(row)
        if len(self.frames) > self.max_frames:
            # keep every other frame and record half as often: still the whole run, in the cap
            self.frames = self.frames[::2]
            self.meta = self.meta[::2]
            self.record_every *= 2

    def payload(self) -> tuple[bytes, bytes]:
        """(frames, meta) as the view reads them."""
        return b"".join(self.frames), np.array(self.meta, dtype=np.float32).tobytes()

    def frame(self, index: int) -> tuple[int, dict[str, np.ndarray], np.ndarray]:
        """Frame ``index`` decoded: its step, each mode's values (dequantized), the dead mask."""
        data, row = self.frames[index], self.meta[index]
        n, layers = self.parameters, len(self.spans)
        arrays = {}
        for k, mode in enumerate(self.modes):
            quantized = np.frombuffer(data, dtype=np.int8, count=n, offset=k * n)
            arrays[mode] = dequantize(
                quantized, row[1 + k * layers : 1 + (k + 1) * layers], self.spans
            )
        dead = np.frombuffer(data, dtype=np.uint8, offset=len(self.modes) * n).astype(bool)
        return int(row[0]), arrays, dead


class GradientHeatmap(TrainerWidget):
    """Per-layer gradient / weight / update matrices of an MLP (or a Layer or a Neuron), live
    from a Trainer.

    Args:
        source: a :class:`~micrograd_widgets.train.Trainer` (live), or a bare model.
        X: for a bare model, the training points, to mark dead ReLUs (a Trainer brings its own);
            without them no neuron is marked, and the widget says why.
        mode: "grads", "weights", "updates", or a state the trainer's optimizer keeps
            ("velocity", "m", "sqrt_v"; see ``modes``).
        max_fps: frames per second sent to the browser at most (≤ 30; 15 by default: a
            heatmap changes colour, not shape, and beside a DecisionBoundary its frames take the
            page's time from the boundary's -- with this one at 15 instead of 30 the boundary
            drew 8-30 % more frames and training ran 13-42 % more steps a second, measured).
        record_every, max_recorded: as the boundary's (record every k-th step, keep at most this
            many frames, then halve); keep them equal to the boundary's to record the same steps.
        recording_budget: the most bytes the recording may take (fewer frames are kept for a
            big model); see the module docstring.
    """

    _esm = asset("heatmap.js")
    _css = asset("heatmap.css")

    #: one dict per layer: name, nin, nout, activation (matrix shape nout × (nin + 1), bias last)
    layers = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: every parameter's dotted name, in the same order as the flat arrays below
    param_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: float32, one number per parameter: layer by layer, neuron by neuron, w then b
    values = traitlets.Bytes(b"").tag(sync=True)
    grads = traitlets.Bytes(b"").tag(sync=True)
    updates = traitlets.Bytes(b"").tag(sync=True)
    #: which matrix the view shows (one of ``modes``); the view's buttons set it
    mode = traitlets.Unicode("grads").tag(sync=True)
    #: the modes offered: "grads", "weights", "updates", then the optimizer's state names
    modes = traitlets.List(traitlets.Unicode(), list(MODES)).tag(sync=True)
    #: float32, the optimizer's state arrays (``state_names`` order), one number per parameter each
    state = traitlets.Bytes(b"").tag(sync=True)
    state_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: the update formula's ingredients: name, rule, lr and step t of the last step, hyperparameters
    optimizer = traitlets.Dict().tag(sync=True)
    #: the last layer's row labels for a k-output model ("class 0", ...); [] for one output
    output_labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: the recorded run (see :class:`HeatmapRecording` for the layout), synced every few seconds
    recording = traitlets.Bytes(b"").tag(sync=True)
    recording_meta = traitlets.Bytes(b"").tag(sync=True)
    #: the modes each recorded frame holds, in order
    recording_modes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: the step the recording starts at (steps before it were not recorded)
    recording_start = traitlets.Int(0).tag(sync=True)
    #: uint8 per neuron (all layers): 1 = a dead ReLU (pre-activation <= 0 on every data point)
    dead = traitlets.Bytes(b"").tag(sync=True)
    #: what the dead marks mean here, or why there are none
    dead_note = traitlets.Unicode("").tag(sync=True)
    #: float32 rows (step, norm of layer 0, norm of layer 1, ...), ≤ MAX_CURVE_POINTS rows
    norms = traitlets.Bytes(b"").tag(sync=True)

    def __init__(
        self,
        source: Trainer | Model,
        *,
        X: np.ndarray | None = None,
        mode: str = "grads",
        max_fps: float = 15.0,
        record_every: int = 1,
        max_recorded: int = 120,
        recording_budget: int = RECORDING_BUDGET,
        **kwargs: Any,
    ) -> None:
        if isinstance(source, Trainer):
            trainer, model = source, source.model
            if X is not None:
                raise ValueError("X is for a bare model; a Trainer's own data marks dead ReLUs")
        elif isinstance(source, (MLP, Layer, Neuron)):
            trainer, model = None, source
        else:
            raise TypeError(
                "GradientHeatmap needs a Trainer, or an MLP, Layer or Neuron, got "
                f"{type(source).__name__}"
            )
        if not isinstance(model, (MLP, Layer, Neuron)):
            raise TypeError(
                "GradientHeatmap draws an MLP, a Layer or a Neuron; this trainer's model is a "
                f"{type(model).__name__}"
            )
        self._X = None if X is None else checked_points(model, X)
        for name, value, low, high in (
            ("record_every", record_every, 1, 10**6),
            ("max_recorded", max_recorded, 2, 10_000),
            ("recording_budget", recording_budget, 1, 10**9),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be an int in [{low}, {high}], got {value!r}")
        super().__init__(trainer, max_fps=max_fps, **kwargs)
        self.model = model
        self._params = params = HeatmapParameters(model)
        self.layers = [
            {"name": name, "nin": L.nin, "nout": L.nout, "activation": L.activation}
            for name, L in params.named_layers
        ]
        self.param_names = [name for name, _ in model.named_parameters()]
        self.dead_note = dead_note(params.has_relu, trainer is not None or self._X is not None)
        self._norms = NormHistory(len(params.layers), MAX_NORM_ROWS)
        self._refreshes = 0
        self._previous_values = params.flat("data")
        self._last_update = np.zeros(len(params.parameters))
        classes = getattr(trainer, "classes", None)
        last = params.layers[-1]
        self.output_labels = output_labels(last.nout, classes) if len(params.layers) > 1 else []
        self.modes = self._offered_modes()
        self.mode = mode  # validated against the modes just offered
        self._recording_options = {
            "record_every": record_every,
            "max_frames": max_recorded,
            "budget": recording_budget,
        }
        self._recording_synced_at = 0.0
        self._start_recording()
        self._send_frame()
        self._follow_trainer()

    def _offered_modes(self) -> list[str]:
        with self.trainer.lock if self.trainer else contextlib.nullcontext():
            names = list(state_arrays(self.trainer))
        return [*MODES, *(n for n in names if n not in MODES)]

    def _checked_mode(self, mode: object) -> str:
        offered = list(getattr(self, "modes", MODES))
        if mode not in offered:
            raise ValueError(
                f"mode must be one of {', '.join(map(repr, offered))} (the modes this trainer's "
                f"optimizer offers), got {mode!r}"
            )
        return str(mode)

    @traitlets.validate("mode")
    def _validate_mode(self, proposal: dict) -> str:
        return self._checked_mode(proposal["value"])

    # ---- computing frames --------------------------------------------------------------------

    def _snapshot(self, grads: np.ndarray | None = None) -> dict[str, Any]:
        """Every array the heatmap shows, read in one go (call with the trainer's lock held);
        ``grads``: the gradients, if just read under the same hold of the lock."""
        updates = self.trainer.last_update if self.trainer else self._last_update
        return {
            "arrays": {
                "grads": self._params.flat("grad") if grads is None else grads,
                "weights": self._params.flat("data"),
                "updates": np.asarray(updates, dtype=np.float64),
                **state_arrays(self.trainer),
            },
            "dead": self._params.dead_mask(
                self.trainer.X if self.trainer else self._X,
                self.trainer.steps_done if self.trainer else self._refreshes,
            ),
        }

    def _send_frame(self) -> None:
        with self.trainer.lock if self.trainer else contextlib.nullcontext():
            snapshot = self._snapshot()
            step = self.trainer.steps_done if self.trainer else self._refreshes
            status = self.trainer.status if self.trainer else "idle"
            message = self.trainer.message if self.trainer else ""
            info = optimizer_info(self.trainer)
        arrays, dead = snapshot["arrays"], snapshot["dead"]
        values, grads, updates = arrays["weights"], arrays["grads"], arrays["updates"]
        state_names = [name for name in arrays if name not in MODES]
        modes = [*MODES, *state_names]
        rows = self._norms.rows()
        with self._send_lock, self.hold_sync():
            self.values = values.astype(np.float32).tobytes()
            self.grads = grads.astype(np.float32).tobytes()
            self.updates = np.asarray(updates, dtype=np.float32).tobytes()
            self.dead = dead.astype(np.uint8).tobytes()
            self.norms = downsample_rows(rows, MAX_CURVE_POINTS).tobytes()
            self.state = b"".join(arrays[n].astype(np.float32).tobytes() for n in state_names)
            if state_names != self.state_names:
                self.state_names = state_names
            if modes != self.modes:
                self.modes = modes
                if self.mode not in modes:
                    self.mode = "grads"
            self.optimizer = info
            self.step = step
            self.status = status
            self.message = message

    def refresh(self) -> None:
        """Re-read the model (for a bare model: after you ran backward() or changed weights)."""
        self._params.forget_dead()  # the weights may have been changed by hand
        if self.trainer is None:
            values = self._params.flat("data")
            self._last_update = values - self._previous_values
            self._previous_values = values
            self._norms.add(self._refreshes, self._params.layer_norms(self._params.flat("grad")))
            self._refreshes += 1
            self._record(self._refreshes)
            self._sync_recording()
        self._throttle.flush()

    # ---- recording -------------------------------------------------------------------------

    def _start_recording(self) -> None:
        """A new recording whose first frame is the model as it is now (the untrained model, or
        the model when the widget is made after some training), with the modes offered now."""
        params = self._params
        self._recording = HeatmapRecording(
            list(self.modes), params.spans, params.neurons, **self._recording_options
        )
        step = self.trainer.steps_done if self.trainer else self._refreshes
        self.recording_start = step
        self.recording_modes = list(self.modes)
        self._record(step, force=True)
        self._sync_recording()

    def _record(self, step: int, force: bool = False) -> None:
        """Keep an int8 copy of every mode's matrices at ``step`` (if it is one to record)."""
        if not (force or self._recording.due(step)):
            return
        with self.trainer.lock if self.trainer else contextlib.nullcontext():
            snapshot = self._snapshot()
        self._add_recorded(step, snapshot)

    def _add_recorded(self, step: int, snapshot: dict[str, Any]) -> None:
        # under the send lock: a sync on the kernel's thread must not see half a frame
        with self._send_lock:
            self._recording.add(step, snapshot["arrays"], snapshot["dead"])

    def _sync_recording(self) -> None:
        self._recording_synced_at = time.monotonic()
        with self._send_lock, self.hold_sync():
            self.recording, self.recording_meta = self._recording.payload()

    def matrices(self, mode: str | None = None) -> list[np.ndarray]:
        """Each layer's matrix of ``mode`` (default: ``self.mode``) as the view draws it live:
        ``nout × (nin + 1)``, the bias last; for pictures and checks."""
        mode = self.mode if mode is None else self._checked_mode(mode)
        with self.trainer.lock if self.trainer else contextlib.nullcontext():
            arrays = self._snapshot()["arrays"]
        return self._params.matrices(arrays.get(mode, np.zeros(len(self._params.parameters))))

    @property
    def recorded_steps(self) -> list[int]:
        """The steps the recording holds, in order."""
        return self._recording.steps

    def recorded_frame(self, step: int) -> dict[str, np.ndarray]:
        """The recorded matrices the view shows for ``step``: the nearest recorded step at or
        before it, each mode's flat array as the view decodes it (int8 -> float)."""
        steps = self._recording.steps
        index = int(np.searchsorted(steps, step, side="right")) - 1
        if index < 0:
            raise ValueError(f"step {step} is before the recording starts (step {steps[0]})")
        return self._recording.frame(index)[1]

    # ---- trainer events ----------------------------------------------------------------------

    def _handle_trainer_event(self, event: TrainerEvent) -> None:
        if event.kind == "step" and event.record is not None:
            step = int(event.record["step"])
            recorded = self._recording.due(step + 1)  # the steps done, as the boundary counts
            with event.trainer.lock:
                # the gradients of the step just taken (they stay until the next zero_grad),
                # read once for the norms and the recorded frame
                grads = self._params.flat("grad")
                snapshot = self._snapshot(grads) if recorded else None
            self._norms.add(step, self._params.layer_norms(grads))
            if snapshot is not None:
                self._add_recorded(step + 1, snapshot)
            self._throttle()
            if time.monotonic() - self._recording_synced_at > RECORDING_SYNC_S:
                self._sync_recording()
        elif event.kind == "reset":
            self._norms.clear()
            self._start_recording()
            self._throttle.flush()
        else:  # status, or new data (a point added or removed changes which ReLUs are dead)
            self._throttle.flush()
            if event.kind == "status" and event.trainer.status != "running":
                self._sync_recording()

    def _refresh_view(self) -> None:
        self._throttle.flush()
        self._sync_recording()

    # ---- messages from the view -----------------------------------------------------------------

    def _on_set_mode(self, content: dict, buffers: list[bytes]) -> None:
        self.mode = self._checked_mode(content.get("mode"))
