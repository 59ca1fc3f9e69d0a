"""GradientHeatmap: every layer's parameters as a neurons × (inputs + bias) matrix of colours.

>>> from micrograd_widgets import MLP, GradientHeatmap, Trainer, datasets
>>> trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(128, noise=0.1, seed=0))
>>> GradientHeatmap(trainer)   # updates live while the trainer trains (trainer.start())

>>> from micrograd_widgets import MLP, GradientHeatmap
>>> model = MLP(2, [4, 1], seed=0)
>>> model([0.5, -1.0]).backward()
>>> GradientHeatmap(model)     # a snapshot; call .refresh() after the next loss.backward()

Three views of the same matrices (toggle in the widget or set ``mode``): the gradients, the
weights, and the last update applied (``-lr · grad`` from a Trainer; the change since the last
``refresh()`` for a bare model). Colours are diverging and centred at 0. A line chart shows each
layer's gradient norm over time, and neurons whose gradients have all been exactly zero for the
last ``dead_window`` steps (dead ReLUs) are marked.
"""

from __future__ import annotations

import contextlib
import itertools
from array import array
from typing import Any

import numpy as np
import traitlets

from . import losses
from ._trainer_widget import MAX_CURVE_POINTS, TrainerWidget, downsample_rows
from ._widget import asset
from .nn import MLP, Layer
from .train import Trainer, TrainerEvent

__all__ = ["GradientHeatmap"]

MODES = ("grads", "weights", "updates")
#: the most per-step gradient-norm rows kept (then every other one is dropped)
MAX_NORM_ROWS = 2048


class GradientHeatmap(TrainerWidget):
    """Per-layer gradient / weight / update matrices of an MLP, live from a Trainer."""

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
    #: uint8 per neuron (all layers): 1 = dead (zero gradient for dead_window steps)
    dead = traitlets.Bytes(b"").tag(sync=True)
    dead_window = traitlets.Int(10).tag(sync=True)
    #: float32 rows (step, norm of layer 0, norm of layer 1, ...), ≤ MAX_CURVE_POINTS rows
    norms = traitlets.Bytes(b"").tag(sync=True)

    def __init__(
        self,
        source: Trainer | MLP,
        *,
        mode: str = "grads",
        dead_window: int = 10,
        max_fps: float = 30.0,
        **kwargs: Any,
    ) -> None:
        if isinstance(source, Trainer):
            trainer, model = source, source.model
        elif isinstance(source, MLP):
            trainer, model = None, source
        else:
            raise TypeError(
                f"GradientHeatmap needs a Trainer or an MLP, got {type(source).__name__}"
            )
        if isinstance(dead_window, bool) or not isinstance(dead_window, int) or dead_window < 1:
            raise ValueError(f"dead_window must be a positive integer, got {dead_window!r}")
        super().__init__(
            trainer,
            max_fps=max_fps,
            mode=self._checked_mode(mode),
            dead_window=dead_window,
            **kwargs,
        )
        self.model = model
        self._layers: list[Layer] = list(model.layers)
        self.layers = [
            {"name": f"layers.{i}", "nin": L.nin, "nout": L.nout, "activation": L.activation}
            for i, L in enumerate(self._layers)
        ]
        self.param_names = [name for name, _ in model.named_parameters()]
        self._parameters = model.parameters()
        # where each layer's parameters sit in the flat arrays
        sizes = [L.nout * (L.nin + 1) for L in self._layers]
        bounds = np.cumsum([0, *sizes]).tolist()
        self._spans: list[tuple[int, int]] = list(itertools.pairwise(bounds))
        # per neuron (all layers): only a ReLU neuron can be dead
        self._can_die = np.concatenate(
            [np.full(L.nout, L.activation == "relu") for L in self._layers]
        )
        self._zero_streak = np.zeros(sum(L.nout for L in self._layers), dtype=np.int64)
        # (step, norm per layer) rows, flat; thinned to every other row past MAX_NORM_ROWS so a
        # long run keeps a fixed amount of memory
        self._norm_rows = array("d")
        self._refreshes = 0
        self._previous_values = self._flat("data")
        self._last_update = np.zeros(len(self._parameters))
        self._send_frame()
        self._follow_trainer()

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

    def _data_grads(self, grads: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The gradient of the data loss alone: minus the trainer's regularization term.

        A dead ReLU gets no gradient from the data, but L2 still pulls on it (2·alpha·p).
        ``values`` are the parameters the gradients were computed at.
        """
        trainer = self.trainer
        if trainer is None or trainer.regularization is None or trainer.alpha == 0:
            return grads
        return grads - losses.numpy_penalty_grad(trainer.regularization, values, trainer.alpha)

    def _observe_grads(self, grads: np.ndarray, values: np.ndarray, step: int) -> None:
        """Per-step bookkeeping: layer gradient norms and zero-gradient streaks per neuron."""
        norms = [float(np.linalg.norm(grads[a:b])) for a, b in self._spans]
        self._norm_rows.extend([float(step), *norms])
        width = len(self._layers) + 1
        if len(self._norm_rows) > MAX_NORM_ROWS * width:
            rows = np.frombuffer(self._norm_rows, dtype=np.float64).reshape(-1, width)[::2]
            self._norm_rows = array("d", rows.ravel().tolist())
        data_grads = self._data_grads(grads, values)
        zero_rows = []
        for (a, b), layer in zip(self._spans, self._layers):
            per_neuron = data_grads[a:b].reshape(layer.nout, layer.nin + 1)
            zero_rows.append(np.all(np.abs(per_neuron) <= 1e-12, axis=1))
        zero = np.concatenate(zero_rows)
        self._zero_streak = np.where(zero, self._zero_streak + 1, 0)

    def _dead_mask(self) -> np.ndarray:
        return (self._zero_streak >= self.dead_window) & self._can_die

    def _send_frame(self) -> None:
        with self.trainer.lock if self.trainer else contextlib.nullcontext():
            values, grads = self._flat("data"), self._flat("grad")
            updates = self.trainer.last_update if self.trainer else self._last_update
            step = self.trainer.steps_done if self.trainer else self._refreshes
            status = self.trainer.status if self.trainer else "idle"
            message = self.trainer.message if self.trainer else ""
        # tolist(): a copy that never exports the array's buffer while the trainer appends to it
        rows = np.array(self._norm_rows.tolist(), dtype=np.float32).reshape(
            -1, len(self._layers) + 1
        )
        with self._send_lock, self.hold_sync():
            self.values = values.astype(np.float32).tobytes()
            self.grads = grads.astype(np.float32).tobytes()
            self.updates = np.asarray(updates, dtype=np.float32).tobytes()
            self.dead = self._dead_mask().astype(np.uint8).tobytes()
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
            self._observe_grads(self._flat("grad"), values, self._refreshes)
            self._refreshes += 1
        self._throttle.flush()

    # ---- trainer events ----------------------------------------------------------------------

    def _handle_trainer_event(self, event: TrainerEvent) -> None:
        if event.kind == "step" and event.record is not None:
            with event.trainer.lock:
                # the gradients of the step just taken (they stay until the next zero_grad)
                # and the parameters they were taken at (before the update)
                grads = self._flat("grad")
                values = self._flat("data") - event.trainer.last_update
            self._observe_grads(grads, values, int(event.record["step"]))
            self._throttle()
        elif event.kind == "reset":
            self._norm_rows = array("d")
            self._zero_streak[:] = 0
            self._throttle.flush()
        elif event.kind == "status":
            self._throttle.flush()

    # ---- messages from the view -----------------------------------------------------------------

    def _on_set_mode(self, content: dict, buffers: list[bytes]) -> None:
        self.mode = self._checked_mode(content.get("mode"))
