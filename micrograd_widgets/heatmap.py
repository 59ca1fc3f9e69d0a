"""GradientHeatmap: every layer's parameters as a neurons × (inputs + bias) matrix of colours.

>>> from micrograd_widgets import MLP, GradientHeatmap, Trainer, datasets
>>> trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(128, noise=0.1, seed=0))
>>> GradientHeatmap(trainer)   # updates live while the trainer trains (trainer.start())

>>> from micrograd_widgets import MLP, GradientHeatmap
>>> model = MLP(2, [4, 1], seed=0)
>>> model([0.5, -1.0]).backward()
>>> GradientHeatmap(model)   # a snapshot: .refresh() after a backward(); X= marks dead ReLUs

Three views of the same matrices (toggle in the widget or set ``mode``): the gradients, the
weights, and the last update applied (``-lr · grad`` from a Trainer; the change since the last
``refresh()`` for a bare model). Colours are diverging and centred at 0. A line chart shows each
layer's gradient norm over time.

Dead ReLUs are marked: a ReLU neuron is dead when its pre-activation ``w · x + b`` is <= 0 for
every training point (the trainer's data, or the ``X`` given with a bare model), so it outputs 0
and passes no gradient back for any of them. It is computed from the weights each frame with a
numpy forward pass (``model.preactivations(X)``), not guessed from zero gradients: once every
hinge of the SVM loss is satisfied, every neuron's data gradient is 0, dead or not.

The model may be an MLP, a Layer or a single Neuron (shown as one layer).
"""

from __future__ import annotations

import contextlib
import itertools
from array import array
from typing import Any

import numpy as np
import traitlets

from ._trainer_widget import MAX_CURVE_POINTS, TrainerWidget, downsample_rows
from ._widget import asset
from .nn import MLP, Layer, Neuron
from .train import Trainer, TrainerEvent

__all__ = ["GradientHeatmap"]

MODES = ("grads", "weights", "updates")
#: the most per-step gradient-norm rows kept (then every other one is dropped)
MAX_NORM_ROWS = 2048

Model = MLP | Layer | Neuron


def model_layers(model: Model) -> list[tuple[str, Layer | Neuron]]:
    """The layers the heatmap draws, with their names: an MLP's layers, or the Layer or Neuron
    itself as one layer."""
    if isinstance(model, MLP):
        return [(f"layers.{i}", layer) for i, layer in enumerate(model.layers)]
    return [("layer" if isinstance(model, Layer) else "neuron", model)]


def dead_relus(model: Model, X: np.ndarray) -> np.ndarray:
    """Per neuron (all layers, in order): True for a ReLU whose pre-activation is <= 0 for every
    row of ``X`` -- it never fires on that data. Other activations are never dead."""
    pre = model.preactivations(X)
    return np.concatenate(
        [
            np.all(z <= 0, axis=0) & (layer.activation == "relu")
            for z, (_, layer) in zip(pre, model_layers(model))
        ]
    )


class GradientHeatmap(TrainerWidget):
    """Per-layer gradient / weight / update matrices of an MLP (or a Layer or a Neuron), live
    from a Trainer.

    Args:
        source: a :class:`~micrograd_widgets.train.Trainer` (live), or a bare model.
        X: for a bare model, the training points, to mark dead ReLUs (a Trainer brings its own);
            without them no neuron is marked, and the widget says why.
        mode: "grads", "weights" or "updates".
        max_fps: frames per second sent to the browser at most (≤ 30).
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
    #: which matrix the view shows: "grads", "weights" or "updates"
    mode = traitlets.Unicode("grads").tag(sync=True)
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
        max_fps: float = 30.0,
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
        self._X = None if X is None else self._checked_points(model, X)
        super().__init__(trainer, max_fps=max_fps, mode=self._checked_mode(mode), **kwargs)
        self.model = model
        named_layers = model_layers(model)
        self._layers: list[Layer | Neuron] = [layer for _, layer in named_layers]
        self.layers = [
            {"name": name, "nin": L.nin, "nout": L.nout, "activation": L.activation}
            for name, L in named_layers
        ]
        self.param_names = [name for name, _ in model.named_parameters()]
        self._parameters = model.parameters()
        # where each layer's parameters sit in the flat arrays
        sizes = [L.nout * (L.nin + 1) for L in self._layers]
        bounds = np.cumsum([0, *sizes]).tolist()
        self._spans: list[tuple[int, int]] = list(itertools.pairwise(bounds))
        self.dead_note = self._dead_note()
        # (step, norm per layer) rows, flat; thinned to every other row past MAX_NORM_ROWS so a
        # long run keeps a fixed amount of memory
        self._norm_rows = array("d")
        self._refreshes = 0
        self._previous_values = self._flat("data")
        self._last_update = np.zeros(len(self._parameters))
        self._send_frame()
        self._follow_trainer()

    @staticmethod
    def _checked_points(model: Model, X: object) -> np.ndarray:
        points = np.array(X, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != model.nin or len(points) == 0:
            raise ValueError(
                f"X must be the training points, shape (n, {model.nin}) with n >= 1, "
                f"got shape {points.shape}"
            )
        return points

    def _has_relu(self) -> bool:
        return any(L.activation == "relu" for L in self._layers)

    def _dead_note(self) -> str:
        if not self._has_relu():
            return ""
        if self.trainer is None and self._X is None:
            return (
                "No dead-ReLU marks: they need the data. Pass the training points, "
                "GradientHeatmap(model, X=X), to mark the ReLUs that never fire on them."
            )
        return "dead ReLU (dashed row): pre-activation ≤ 0 for every training point"

    @staticmethod
    def _checked_mode(mode: object) -> str:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
        return str(mode)

    @traitlets.validate("mode")
    def _validate_mode(self, proposal: dict) -> str:
        return self._checked_mode(proposal["value"])

    # ---- computing frames --------------------------------------------------------------------

    def _flat(self, attr: str) -> np.ndarray:
        return np.fromiter(
            (getattr(p, attr) for p in self._parameters), np.float64, len(self._parameters)
        )

    def _record_norms(self, grads: np.ndarray, step: int) -> None:
        """Per-step bookkeeping: each layer's gradient norm."""
        norms = [float(np.linalg.norm(grads[a:b])) for a, b in self._spans]
        self._norm_rows.extend([float(step), *norms])
        width = len(self._layers) + 1
        if len(self._norm_rows) > MAX_NORM_ROWS * width:
            rows = np.frombuffer(self._norm_rows, dtype=np.float64).reshape(-1, width)[::2]
            self._norm_rows = array("d", rows.ravel().tolist())

    def _dead_mask(self, X: np.ndarray | None) -> np.ndarray:
        """Dead ReLUs at the current weights (call with the trainer's lock held)."""
        neurons = sum(L.nout for L in self._layers)
        if X is None or not self._has_relu():
            return np.zeros(neurons, dtype=bool)
        return dead_relus(self.model, X)

    def _send_frame(self) -> None:
        with self.trainer.lock if self.trainer else contextlib.nullcontext():
            values, grads = self._flat("data"), self._flat("grad")
            updates = self.trainer.last_update if self.trainer else self._last_update
            step = self.trainer.steps_done if self.trainer else self._refreshes
            status = self.trainer.status if self.trainer else "idle"
            message = self.trainer.message if self.trainer else ""
            dead = self._dead_mask(self.trainer.X if self.trainer else self._X)
        # tolist(): a copy that never exports the array's buffer while the trainer appends to it
        rows = np.array(self._norm_rows.tolist(), dtype=np.float32).reshape(
            -1, len(self._layers) + 1
        )
        with self._send_lock, self.hold_sync():
            self.values = values.astype(np.float32).tobytes()
            self.grads = grads.astype(np.float32).tobytes()
            self.updates = np.asarray(updates, dtype=np.float32).tobytes()
            self.dead = dead.astype(np.uint8).tobytes()
            self.norms = downsample_rows(rows, MAX_CURVE_POINTS).tobytes()
            self.step = step
            self.status = status
            self.message = message

    def refresh(self) -> None:
        """Re-read the model (for a bare model: after you ran backward() or changed weights)."""
        if self.trainer is None:
            values = self._flat("data")
            self._last_update = values - self._previous_values
            self._previous_values = values
            self._record_norms(self._flat("grad"), self._refreshes)
            self._refreshes += 1
        self._throttle.flush()

    # ---- trainer events ----------------------------------------------------------------------

    def _handle_trainer_event(self, event: TrainerEvent) -> None:
        if event.kind == "step" and event.record is not None:
            with event.trainer.lock:
                # the gradients of the step just taken (they stay until the next zero_grad)
                grads = self._flat("grad")
            self._record_norms(grads, int(event.record["step"]))
            self._throttle()
        elif event.kind == "reset":
            self._norm_rows = array("d")
            self._throttle.flush()
        else:  # status, or new data (a point added or removed changes which ReLUs are dead)
            self._throttle.flush()

    # ---- messages from the view -----------------------------------------------------------------

    def _on_set_mode(self, content: dict, buffers: list[bytes]) -> None:
        self.mode = self._checked_mode(content.get("mode"))
