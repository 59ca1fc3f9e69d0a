"""What a GradientHeatmap shows, computed apart from the widget: a model's parameters as flat
arrays layer by layer and as each layer's matrix, the per-step gradient norms, the dead ReLUs,
the optimizer's state and the ingredients of its update formula, the row labels.

Pure computation on a model, its data and a trainer's optimizer: no widget, no thread (the
caller holds the trainer's lock while it reads), tested without a browser.
"""

from __future__ import annotations

import itertools
from array import array
from typing import Any

import numpy as np

from .nn import MLP, Layer, Neuron
from .train import Trainer

__all__ = [
    "HeatmapParameters",
    "NormHistory",
    "checked_points",
    "dead_note",
    "dead_relus",
    "model_layers",
    "optimizer_info",
    "optimizer_of",
    "output_labels",
    "state_arrays",
]

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


def checked_points(model: Model, X: object) -> np.ndarray:
    """``X`` as the training points of ``model`` (shape (n, nin), n >= 1), or a clear error."""
    points = np.array(X, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != model.nin or len(points) == 0:
        raise ValueError(
            f"X must be the training points, shape (n, {model.nin}) with n >= 1, "
            f"got shape {points.shape}"
        )
    return points


class HeatmapParameters:
    """A model's parameters as the heatmap reads them: flat arrays (layer by layer, neuron by
    neuron, w then b), where each layer sits in them, its matrices, and the dead ReLUs."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.named_layers = model_layers(model)
        self.layers: list[Layer | Neuron] = [layer for _, layer in self.named_layers]
        self.parameters = model.parameters()
        self.neurons = sum(L.nout for L in self.layers)
        self.has_relu = any(L.activation == "relu" for L in self.layers)
        # where each layer's parameters sit in the flat arrays
        sizes = [L.nout * (L.nin + 1) for L in self.layers]
        bounds = np.cumsum([0, *sizes]).tolist()
        self.spans: list[tuple[int, int]] = list(itertools.pairwise(bounds))
        self._dead_cached: tuple[Any, np.ndarray] | None = None

    def flat(self, attr: str) -> np.ndarray:
        """Every parameter's ``grad`` (attr "grad") or ``data`` (otherwise), flat."""
        # a list comprehension: about twice as fast as fromiter over a generator (every step)
        if attr == "grad":
            return np.array([p.grad for p in self.parameters], dtype=np.float64)
        return np.array([p.data for p in self.parameters], dtype=np.float64)

    def layer_norms(self, flat: np.ndarray) -> list[float]:
        """The norm of each layer's part of ``flat``."""
        return [float(np.linalg.norm(flat[a:b])) for a, b in self.spans]

    def matrices(self, flat: np.ndarray) -> list[np.ndarray]:
        """Each layer's part of ``flat`` as its ``nout × (nin + 1)`` matrix, the bias last."""
        return [flat[a:b].reshape(L.nout, L.nin + 1) for (a, b), L in zip(self.spans, self.layers)]

    def dead_mask(self, X: np.ndarray | None, step: int) -> np.ndarray:
        """Dead ReLUs at the current weights on ``X`` (none without data). Computed once per
        step and data set: a recorded step and the frame sent after it share the forward pass
        (:meth:`forget_dead` makes the next call compute it again)."""
        if X is None or not self.has_relu:
            return np.zeros(self.neurons, dtype=bool)
        key = (step, id(X), X.shape)
        cached = self._dead_cached
        if cached is None or cached[0] != key:
            cached = self._dead_cached = (key, dead_relus(self.model, X))
        return cached[1]

    def forget_dead(self) -> None:
        """The weights may have changed by hand: compute the dead ReLUs again."""
        self._dead_cached = None


class NormHistory:
    """(step, norm per layer) rows, kept flat; thinned to every other row past ``max_rows``
    so a long run keeps a fixed amount of memory."""

    def __init__(self, layers: int, max_rows: int) -> None:
        self.width = layers + 1
        self.max_rows = max_rows
        self._rows = array("d")

    def add(self, step: int, norms: list[float]) -> None:
        self._rows.extend([float(step), *norms])
        if len(self._rows) > self.max_rows * self.width:
            rows = np.frombuffer(self._rows, dtype=np.float64).reshape(-1, self.width)[::2]
            self._rows = array("d", rows.ravel().tolist())

    def clear(self) -> None:
        self._rows = array("d")

    def rows(self) -> np.ndarray:
        """The rows as float32, one per kept step."""
        # tolist(): a copy that never exports the array's buffer while the trainer appends to it
        return np.array(self._rows.tolist(), dtype=np.float32).reshape(-1, self.width)


def dead_note(has_relu: bool, has_data: bool) -> str:
    """What the dead marks mean, or why there are none ("" without a ReLU)."""
    if not has_relu:
        return ""
    if not has_data:
        return (
            "No dead-ReLU marks: they need the data. Pass the training points, "
            "GradientHeatmap(model, X=X), to mark the ReLUs that never fire on them."
        )
    return "dead ReLU (dashed row): pre-activation ≤ 0 for every training point"


def output_labels(nout: int, classes: object) -> list[str]:
    """Row labels of a k-output last layer: the trainer's class names if it has them."""
    if nout < 2:
        return []
    if isinstance(classes, (list, tuple)) and len(classes) == nout:
        return [str(c) for c in classes]
    return [f"class {i}" for i in range(nout)]


def optimizer_of(trainer: Trainer | None) -> Any:
    """The trainer's optimizer (``trainer.optimizer``), or None: a bare model, or a Trainer that
    applies the seed's plain update itself."""
    return getattr(trainer, "optimizer", None) if trainer is not None else None


def state_arrays(trainer: Trainer | None) -> dict[str, np.ndarray]:
    """The optimizer's state (call with the trainer's lock held); {} without one."""
    optimizer = optimizer_of(trainer)
    if optimizer is None:
        return {}
    return {str(k): np.asarray(v, dtype=np.float64) for k, v in optimizer.state_arrays().items()}


def optimizer_info(trainer: Trainer | None) -> dict[str, Any]:
    """What the view needs to write the update formula with numbers: the optimizer's name and
    rule, the last step's learning rate and step number t, and its hyperparameters."""
    if trainer is None:
        return {"name": "", "rule": "", "lr": None, "t": 0}
    history = trainer.history
    lr = float(history[-1]["lr"]) if len(history) else None
    optimizer = optimizer_of(trainer)
    if optimizer is None:
        return {"name": "sgd", "rule": "w ← w − lr·grad", "lr": lr, "t": trainer.steps_done}
    info: dict[str, Any] = {
        "name": str(getattr(optimizer, "name", "") or type(optimizer).__name__.lower()),
        "rule": str(getattr(optimizer, "update_rule", "")),
        "lr": lr,
        "t": int(getattr(optimizer, "steps_done", trainer.steps_done)),
    }
    for key in ("momentum", "eps", "weight_decay"):
        value = getattr(optimizer, key, None)
        if isinstance(value, (int, float)):
            info[key] = float(value)
    betas = getattr(optimizer, "betas", None)
    if betas is not None:
        info["betas"] = [float(b) for b in betas]
    if info["name"] == "sgd" and info.get("momentum"):
        info["name"] = "momentum"
    return info
