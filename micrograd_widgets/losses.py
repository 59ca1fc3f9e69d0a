"""Loss functions for binary classification with labels in {-1, +1}, built from Value ops.

Each data loss takes the model's ``scores`` (one :class:`Value` per example) and the labels ``y``
and returns a single :class:`Value`, so ``loss.backward()`` fills every parameter's ``grad``:

* :func:`svm_loss` -- the seed's max-margin (hinge) loss ``mean(relu(1 - y·score))``
* :func:`log_loss` -- logistic loss ``mean(log(1 + exp(-y·score)))`` = ``-log(sigmoid(y·score))``
* :func:`mse_loss` -- ``mean((score - y)²)``

Regularization: :func:`l2_penalty` ``rate·Σp²`` (the seed's ``alpha = 1e-4``) and
:func:`l1_penalty` ``rate·Σ|p|``. :func:`total_loss` puts the pieces together the way the seed's
``loss()`` does, and :func:`accuracy` counts sign agreements.

NumPy twins (end of the file) give the same numbers from plain arrays, without building a graph:
:func:`numpy_data_loss` (by name), :func:`numpy_penalty` and its gradient
:func:`numpy_penalty_grad`. The Trainer uses them for test metrics, the heatmap to tell the
data's gradient from the penalty's.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from .engine import Value

__all__ = [
    "DATA_LOSSES",
    "NUMPY_DATA_LOSSES",
    "PENALTIES",
    "accuracy",
    "check_rate",
    "l1_penalty",
    "l2_penalty",
    "log_loss",
    "mse_loss",
    "numpy_data_loss",
    "numpy_penalty",
    "numpy_penalty_grad",
    "svm_loss",
    "total_loss",
]

Labels = Sequence[float] | np.ndarray
DataLoss = Callable[[Sequence[Value], Labels], Value]


def _checked(scores: Sequence[Value], y: Labels) -> list[float]:
    labels = [float(v) for v in np.asarray(y, dtype=np.float64).ravel()]
    if len(scores) != len(labels):
        raise ValueError(f"got {len(scores)} scores but {len(labels)} labels; expected one each")
    if not labels:
        raise ValueError("cannot compute a loss over zero examples")
    bad = [v for v in labels if v not in (-1.0, 1.0)]
    if bad:
        raise ValueError(f"labels must be -1 or +1, got {bad[0]!r}")
    return labels


def _mean(terms: list[Value]) -> Value:
    return sum(terms[1:], terms[0]) * (1.0 / len(terms))


def svm_loss(scores: Sequence[Value], y: Labels) -> Value:
    """The seed's SVM max-margin loss: ``mean(relu(1 - y·score))``."""
    labels = _checked(scores, y)
    return _mean([(1 + -yi * s).relu() for yi, s in zip(labels, scores)])


def _softplus(z: Value) -> Value:
    """log(1 + e^z) that never overflows: for z > 0 it is written z + log(1 + e^-z).

    The branch is taken on the forward value, so each form only ever sees e^(-|z|) <= 1, and the
    gradient is sigmoid(z) in both (0.5 at z = 0).
    """
    if z.data > 0:
        return z + (1 + (-z).exp()).log()
    return (1 + z.exp()).log()


def log_loss(scores: Sequence[Value], y: Labels) -> Value:
    """Logistic (sigmoid cross-entropy) loss: ``mean(log(1 + exp(-y·score)))``."""
    labels = _checked(scores, y)
    return _mean([_softplus(-yi * s) for yi, s in zip(labels, scores)])


def mse_loss(scores: Sequence[Value], y: Labels) -> Value:
    """Mean squared error against the ±1 labels: ``mean((score - y)²)``."""
    labels = _checked(scores, y)
    return _mean([(s - yi) ** 2 for yi, s in zip(labels, scores)])


def check_rate(rate: object) -> float:
    """A regularization rate as a float; a clear error unless it is a finite number >= 0."""
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not math.isfinite(rate):
        raise ValueError(f"regularization rate must be a finite number >= 0, got {rate!r}")
    if rate < 0:
        raise ValueError(f"regularization rate must be >= 0, got {rate!r}")
    return float(rate)


def l2_penalty(parameters: Iterable[Value], rate: float = 1e-4) -> Value:
    """``rate · Σ p²`` (weight decay); the seed uses ``rate = 1e-4``."""
    rate = check_rate(rate)
    return rate * sum((p * p for p in parameters), Value(0.0))


def l1_penalty(parameters: Iterable[Value], rate: float = 1e-4) -> Value:
    """``rate · Σ |p|``; ``|p|`` is ``relu(p) + relu(-p)`` so the gradient is ``sign(p)``."""
    rate = check_rate(rate)
    return rate * sum((p.relu() + (-p).relu() for p in parameters), Value(0.0))


DATA_LOSSES: dict[str, DataLoss] = {"svm": svm_loss, "log": log_loss, "mse": mse_loss}
PENALTIES: dict[str, Callable[[Iterable[Value], float], Value]] = {
    "l2": l2_penalty,
    "l1": l1_penalty,
}


def resolve_loss(loss: str | DataLoss) -> DataLoss:
    """A data loss by name ("svm", "log", "mse") or a callable ``(scores, y) -> Value``."""
    if callable(loss):
        return loss
    if loss in DATA_LOSSES:
        return DATA_LOSSES[loss]
    raise ValueError(
        f"unknown loss {loss!r}; expected one of {', '.join(map(repr, DATA_LOSSES))} "
        "or a function (scores, y) -> Value"
    )


def check_regularization(regularization: str | None) -> str | None:
    if regularization is None or regularization in PENALTIES:
        return regularization
    raise ValueError(f"unknown regularization {regularization!r}; expected 'l2', 'l1' or None")


def total_loss(
    scores: Sequence[Value],
    y: Labels,
    parameters: Iterable[Value] = (),
    *,
    loss: str | DataLoss = "svm",
    regularization: str | None = "l2",
    rate: float = 1e-4,
) -> Value:
    """Data loss plus the regularization penalty (the seed's ``data_loss + reg_loss``)."""
    data_loss = resolve_loss(loss)(scores, y)
    regularization = check_regularization(regularization)
    if regularization is None or rate == 0:
        return data_loss
    return data_loss + PENALTIES[regularization](parameters, rate)


def accuracy(scores: Sequence[Value] | Sequence[float] | np.ndarray, y: Labels) -> float:
    """Fraction of examples whose score has the label's sign (score 0 counts as -1, as the seed)."""
    values = np.array([s.data if isinstance(s, Value) else s for s in scores], dtype=np.float64)
    labels = np.asarray(y, dtype=np.float64).ravel()
    if len(values) != len(labels):
        raise ValueError(f"got {len(values)} scores but {len(labels)} labels; expected one each")
    if len(labels) == 0:
        return math.nan
    return float(np.mean((values > 0) == (labels > 0)))


# ---- NumPy twins: the same numbers from arrays, without building a graph ------------------------
# For evaluation where no gradient is needed (test metrics every step) and for taking a
# penalty's gradient back out of the parameters' grads. Each agrees with its Value twin above.


def _numpy_svm_loss(scores: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.maximum(0.0, 1.0 - y * scores)))


def _numpy_log_loss(scores: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.logaddexp(0.0, -y * scores)))  # log(1 + e^-m), never overflows


def _numpy_mse_loss(scores: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((scores - y) ** 2))


#: name -> the NumPy twin of ``DATA_LOSSES[name]``: ``(scores, y) -> float``
NUMPY_DATA_LOSSES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "svm": _numpy_svm_loss,
    "log": _numpy_log_loss,
    "mse": _numpy_mse_loss,
}


def numpy_data_loss(name: str, scores: np.ndarray, y: Labels) -> float:
    """The data loss ``name`` ("svm", "log", "mse") of float ``scores`` against labels ``y``."""
    twin = NUMPY_DATA_LOSSES.get(name)
    if twin is None:
        known = ", ".join(map(repr, NUMPY_DATA_LOSSES))
        raise ValueError(f"no NumPy twin for loss {name!r}; expected one of {known}")
    return twin(np.asarray(scores, dtype=np.float64), np.asarray(y, dtype=np.float64).ravel())


def numpy_penalty(regularization: str | None, parameters: np.ndarray, rate: float) -> float:
    """:func:`l2_penalty` (``"l2"``) or :func:`l1_penalty` (``"l1"``) of parameter values; 0.0
    for None."""
    regularization = check_regularization(regularization)
    rate = check_rate(rate)
    p = np.asarray(parameters, dtype=np.float64)
    if regularization is None or rate == 0:
        return 0.0
    if regularization == "l2":
        return rate * float(np.sum(p * p))
    return rate * float(np.sum(np.abs(p)))


def numpy_penalty_grad(
    regularization: str | None, parameters: np.ndarray, rate: float
) -> np.ndarray:
    """d(penalty)/d(parameter) for each parameter value: ``2·rate·p`` for L2, ``rate·sign(p)`` for
    L1 (0 at p = 0, as relu(p) + relu(-p) gives), zeros for None."""
    regularization = check_regularization(regularization)
    rate = check_rate(rate)
    p = np.asarray(parameters, dtype=np.float64)
    if regularization is None or rate == 0:
        return np.zeros_like(p)
    if regularization == "l2":
        return 2.0 * rate * p
    return rate * np.sign(p)
