"""What a Trainer learns from: the checked points and labels, mini-batches, points added and
removed between steps, and the model's scores and metrics on them (numpy, no graph).

Binary data has labels -1 / +1 (the seed's); k-class data has labels 0..k-1 (for k = 2 either).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import losses
from .nn import Module

#: the binary data losses: one score per example, whose sign is the class
BINARY_LOSSES = ("svm", "log", "mse")


def is_count(value: object, minimum: int) -> bool:
    """True for an integer (not a bool) >= ``minimum``: a step count or a batch size."""
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= minimum


def as_points(X: object, name: str) -> np.ndarray:
    A = np.array(X, dtype=np.float64)
    if A.ndim != 2 or A.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-D array of shape (n, features), got shape {A.shape}")
    if len(A) == 0:
        raise ValueError(f"{name} is empty (shape {A.shape}): training needs at least one point")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return A


def as_labels(y: object, n: int, name: str, outputs: int = 1) -> np.ndarray:
    """Labels as float64: -1 / +1 for a one-output model, class numbers for ``outputs`` >= 2."""
    try:
        labels = np.array(y, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numeric labels, got {y!r:.80}") from None
    if len(labels) != n:
        raise ValueError(f"{name} has {len(labels)} labels for {n} points; expected one per point")
    if outputs >= 2:
        try:
            losses.class_indices(labels, outputs)
        except ValueError as error:
            raise ValueError(f"{name}: {error} (the model has {outputs} outputs)") from None
        return labels
    if not np.all(np.isin(labels, (-1.0, 1.0))):
        bad = labels[~np.isin(labels, (-1.0, 1.0))][0]
        raise ValueError(
            f"{name} must hold labels -1 or +1 (as in the seed: y = y * 2 - 1), got {bad!r}"
        )
    return labels


def label_values(outputs: int, *labels: np.ndarray) -> np.ndarray:
    """The labels a trainer's points may carry, in class order: -1 / +1 for one output,
    0..k-1 for k outputs -- for k = 2 the data's own convention (-1 / +1 unless a 0 occurs)."""
    if outputs == 1:
        return np.array([-1.0, 1.0])
    if outputs == 2 and not any(np.any(y == 0) for y in labels):
        return np.array([-1.0, 1.0])
    return np.arange(outputs, dtype=np.float64)


def builtin_loss_name(loss: losses.DataLoss) -> str | None:
    """The name of a built-in data loss (by identity), None for the user's own function."""
    for name, function in losses.DATA_LOSSES.items():
        if function is loss:
            return name
    return None


def check_outputs_fit_loss(outputs: int, builtin: str | None) -> None:
    """A clear error for a model whose outputs do not fit the loss, saying what to use."""
    if outputs >= 2 and builtin in BINARY_LOSSES:
        raise ValueError(
            f"loss={builtin!r} is a binary loss (one score per example, labels -1 / +1), but the "
            f"model has {outputs} outputs: use loss='cross_entropy' for {outputs} classes, or a "
            "model with one output (e.g. MLP(2, [16, 16, 1])) for a binary loss"
        )
    if outputs == 1 and builtin == "cross_entropy":
        raise ValueError(
            "loss='cross_entropy' needs one output per class, but the model has one output: use "
            "a model with k >= 2 outputs (e.g. MLP(2, [16, 16, 3]) for 3 classes, labels "
            "0..k-1), or a binary loss ('svm', 'log', 'mse') for this one-output model"
        )


def model_outputs(model: Module) -> int:
    """How many outputs ``model`` has (its ``nout``; 1 when it does not say)."""
    nout = getattr(model, "nout", 1)
    if isinstance(nout, bool) or not isinstance(nout, numbers.Integral) or nout < 1:
        raise ValueError(f"the model's nout must be a positive int, got {nout!r}")
    return int(nout)


class TrainingData:
    """The training (and optional test) points and labels of one trainer, checked once.

    Changed only under the trainer's lock (:meth:`add_point`, :meth:`remove_nearest`), so a
    point lands between two steps.
    """

    def __init__(
        self,
        model: Module,
        X: object,
        y: object,
        X_test: object | None,
        y_test: object | None,
        outputs: int,
    ) -> None:
        if y is None:
            raise ValueError("y (the labels) is required when X is an array")
        self.outputs = outputs
        self.X = as_points(X, "X")
        self.y = as_labels(y, len(self.X), "y", outputs)
        nin = getattr(model, "nin", self.X.shape[1])
        if self.X.shape[1] != nin:
            raise ValueError(f"X has {self.X.shape[1]} features but the model expects {nin}")
        if (X_test is None) != (y_test is None):
            raise ValueError("pass both X_test and y_test, or neither")
        if X_test is not None and len(X_test) > 0:  # type: ignore[arg-type]
            self.X_test = as_points(X_test, "X_test")
            self.y_test = as_labels(y_test, len(self.X_test), "y_test", outputs)
            if self.X_test.shape[1] != self.X.shape[1]:
                raise ValueError("X_test must have as many features as X")
        else:
            self.X_test = np.zeros((0, self.X.shape[1]))
            self.y_test = np.zeros(0)
        self.label_values = label_values(outputs, self.y, self.y_test)

    @property
    def classes(self) -> int:
        return max(self.outputs, 2)

    def batch(self, rng: np.random.Generator, size: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The whole training set, or a random mini-batch of ``size`` points."""
        n = len(self.X)
        if size is None or size >= n:
            return self.X, self.y
        rows = rng.choice(n, size=size, replace=False)
        return self.X[rows], self.y[rows]

    def check_new_point(self, x: float, y: float, label: object) -> np.ndarray:
        """The point as a (1, 2) row, or a clear error saying what a point must be."""
        row = np.array([[x, y]], dtype=np.float64)
        if self.X.shape[1] != 2:
            raise ValueError("add_point needs 2-D data (the model has 2 inputs)")
        if not np.all(np.isfinite(row)):
            raise ValueError(f"point coordinates must be finite numbers, got ({x!r}, {y!r})")
        allowed = self.label_values.tolist()
        if (
            isinstance(label, bool)
            or not isinstance(label, numbers.Real)
            or float(label) not in allowed
        ):
            if allowed == [-1.0, 1.0]:
                expected = "-1 or +1"
            else:
                expected = f"one of {', '.join(f'{v:g}' for v in allowed)}"
            raise ValueError(
                f"label must be {expected} (this trainer's {self.classes} classes), got {label!r}"
            )
        return row

    def add(self, row: np.ndarray, label: float) -> int:
        self.X = np.vstack([self.X, row])
        self.y = np.append(self.y, float(label))
        return len(self.y)

    def remove_nearest(self, x: float, y: float, radius: float = math.inf) -> int | None:
        if len(self.y) <= 2:
            raise ValueError("cannot remove a point: at least 2 training points must remain")
        distances = np.hypot(self.X[:, 0] - x, self.X[:, 1] - y)
        index = int(np.argmin(distances))
        if distances[index] > radius:
            return None
        self.X = np.delete(self.X, index, axis=0)
        self.y = np.delete(self.y, index)
        return index


def output_array(values: list, n: int, outputs: int) -> np.ndarray:
    """The forward values of a model's outputs (a Value, or a list of k, per row)."""
    if outputs == 1:
        return np.array([v.data for v in values], dtype=np.float64)
    rows = [[v.data for v in row] for row in values]
    return np.array(rows, dtype=np.float64).reshape(n, outputs)


def model_scores(model: Module, X: np.ndarray, outputs: int) -> np.ndarray:
    """The model's outputs for the rows of ``X``, without building a graph where it can:
    shape (n,) for one output, (n, k) for k."""
    predict = getattr(model, "predict", None)
    if predict is None:  # a Module that maps a row to Values but has no numpy forward pass
        return output_array([model(row) for row in X.tolist()], len(X), outputs)
    scores = np.asarray(predict(X), dtype=np.float64)
    return scores.ravel() if outputs == 1 else scores.reshape(len(X), outputs)


def penalty_value(parameters: list, regularization: str | None, alpha: float) -> float:
    data = np.array([p.data for p in parameters])
    return losses.numpy_penalty(regularization, data, alpha)


def held_out_metrics(
    model: Module,
    X: np.ndarray,
    y: np.ndarray,
    outputs: int,
    loss: losses.DataLoss,
    builtin: str | None,
    penalty: float,
) -> tuple[float, float]:
    """(loss, accuracy) on a held-out set at the current weights: a built-in loss in numpy, a
    custom one on the Value engine (forward only). NaN, NaN for an empty set."""
    if len(y) == 0:
        return math.nan, math.nan
    if builtin is not None:
        scores = model_scores(model, X, outputs)
        data_loss = losses.numpy_data_loss(builtin, scores, y)
    else:
        values = [model(row) for row in X.tolist()]
        data_loss = loss(values, y).data
        scores = output_array(values, len(values), outputs)
    return data_loss + penalty, losses.accuracy(scores, y)


def current_metrics(
    scores: np.ndarray, y: np.ndarray, builtin: str | None, penalty: float
) -> dict[str, float]:
    """``{"loss", "accuracy"}`` from numpy scores: the loss NaN for a custom loss (no numpy
    twin) or scores that are not finite."""
    finite = bool(np.all(np.isfinite(scores)))
    loss = math.nan
    if finite and builtin is not None:
        with np.errstate(over="ignore"):
            loss = losses.numpy_data_loss(builtin, scores, y) + penalty
    accuracy = losses.accuracy(scores, y) if finite else math.nan
    return {"loss": float(loss), "accuracy": float(accuracy)}
