"""Loss functions built from Value ops: binary (labels -1 / +1) and k-class (labels 0..k-1).

Each data loss takes the model's outputs and the labels ``y`` and returns a single :class:`Value`,
so ``loss.backward()`` fills every parameter's ``grad``. Binary losses take ``scores``, one
:class:`Value` per example, whose sign is the class:

* :func:`svm_loss` -- the seed's max-margin (hinge) loss ``mean(relu(1 - y·score))``
* :func:`log_loss` -- logistic loss ``mean(log(1 + exp(-y·score)))`` = ``-log(sigmoid(y·score))``
* :func:`mse_loss` -- ``mean((score - y)²)``

The k-class loss takes ``logits``, a list of k Values per example (an ``MLP(2, [..., k])``'s
output), and class numbers ``y`` in 0..k-1:

* :func:`cross_entropy_loss` -- softmax cross-entropy ``mean(-log_softmax(z)[y])``, with
  :func:`log_softmax` written the numerically stable way (log-sum-exp with the max subtracted);
  :func:`cross_entropy_loss_np` is its NumPy twin, for a test set without building a graph.

Regularization: :func:`l2_penalty` ``rate·Σp²`` (the seed's ``alpha = 1e-4``) and
:func:`l1_penalty` ``rate·Σ|p|``. :func:`total_loss` puts the pieces together the way the seed's
``loss()`` does. :func:`accuracy` counts sign agreements (one score per example) or argmax hits
(k scores), :func:`confusion_matrix` counts true class × predicted class, and
:func:`class_indices` turns labels of either convention into class numbers 0..k-1.

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
    "class_indices",
    "confusion_matrix",
    "cross_entropy_loss",
    "cross_entropy_loss_np",
    "l1_penalty",
    "l2_penalty",
    "log_loss",
    "log_softmax",
    "mse_loss",
    "numpy_data_loss",
    "numpy_penalty",
    "numpy_penalty_grad",
    "predicted_classes",
    "svm_loss",
    "total_loss",
]

Labels = Sequence[float] | np.ndarray
#: one score per example (binary losses) or one list of k logits per example (cross-entropy)
ModelOutputs = Sequence[Value] | Sequence[Sequence[Value]]
DataLoss = Callable[[ModelOutputs, Labels], Value]
Scores = Sequence[Value] | Sequence[float] | Sequence[Sequence[Value]] | np.ndarray


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


# ---- k classes: softmax cross-entropy ------------------------------------------------------------


def class_indices(y: Labels, classes: int) -> np.ndarray:
    """Labels -> class numbers 0..k-1 (int64), checked.

    For ``classes`` >= 3 the labels must be the whole numbers 0..k-1. For 2 classes the binary
    labels -1 / +1 are accepted too and mean classes 0 and 1 (the order of
    :func:`~micrograd_widgets.datasets.label_values`), so a binary dataset can train a 2-output
    model with cross-entropy; mixing -1 with 0 is refused.
    """
    if isinstance(classes, bool) or not isinstance(classes, numbers.Integral) or classes < 2:
        raise ValueError(
            f"classes must be an integer >= 2 (the number of classes), got {classes!r}"
        )
    k = int(classes)
    labels = np.asarray(y, dtype=np.float64).ravel()
    allowed = "-1 or +1 (or 0 / 1)" if k == 2 else f"the whole numbers 0..{k - 1}"
    whole = np.isfinite(labels) & (labels == np.round(labels))
    if not np.all(whole):
        bad = labels[~whole][0]
        raise ValueError(f"labels must be class numbers, {allowed}; got {bad!r}")
    lowest = -1 if k == 2 else 0
    outside = (labels < lowest) | (labels > k - 1)
    if np.any(outside):
        bad = labels[outside][0]
        hint = " (-1 / +1 are the binary labels: use them with 2 classes)" if bad == -1 else ""
        raise ValueError(f"label {bad:g} is out of range for {k} classes; expected {allowed}{hint}")
    if k == 2 and np.any(labels == -1) and np.any(labels == 0):
        raise ValueError(
            "labels mix the binary convention -1 / +1 with 0 / 1 (both -1 and 0 occur); use one"
        )
    return np.where(labels < 0, 0, labels).astype(np.int64)


def _checked_logits(
    logits_per_sample: Sequence[Sequence[Value]], y: Labels
) -> tuple[list[Sequence[Value]], list[int]]:
    rows = list(logits_per_sample)
    count = len(np.asarray(y, dtype=np.float64).ravel())
    if len(rows) != count:
        raise ValueError(
            f"got logits for {len(rows)} examples but {count} labels; expected one each"
        )
    if not rows:
        raise ValueError("cannot compute a loss over zero examples")
    k = None
    for i, row in enumerate(rows):
        if isinstance(row, Value) or not isinstance(row, Sequence):
            raise ValueError(
                f"example {i}'s logits is a {type(row).__name__}, not a list of Values: "
                "cross-entropy needs one logit per class, from a model with k >= 2 outputs "
                "(e.g. MLP(2, [16, 3])); for one score per example use 'svm', 'log' or 'mse'"
            )
        if k is None:
            k = len(row)
            if k < 2:
                raise ValueError(
                    f"cross-entropy needs at least 2 logits per example (one per class), got {k}"
                )
        elif len(row) != k:
            raise ValueError(f"example {i} has {len(row)} logits, example 0 has {k}; expected {k}")
        if not all(isinstance(z, Value) for z in row):
            raise TypeError(f"example {i}'s logits must be Values, got {list(row)!r:.80}")
    assert k is not None
    return rows, class_indices(y, k).tolist()


def log_softmax(logits: Sequence[Value]) -> list[Value]:
    """``log(softmax(z))ᵢ = zᵢ - log Σⱼ exp(zⱼ)``, as Value ops that never overflow.

    With ``m = max(z)``: ``log Σⱼ exp(zⱼ) = m + log Σⱼ exp(zⱼ - m)``, so ``log_softmax(z)ᵢ =
    (zᵢ - m) - log Σⱼ exp(zⱼ - m)``. Every exponent is <= 0 (no overflow at z = 1000) and the
    largest term is exp(0) = 1 (the log's argument is >= 1). ``m`` is a plain number: the result
    does not depend on it, so no gradient needs to flow through it.
    """
    if not all(math.isfinite(z.data) for z in logits):
        # a diverged model: NaN out, and NaN grads for every logit (as in PyTorch), instead of
        # log(NaN) raising
        poisoned = sum(logits[1:], logits[0]) * math.nan
        return [poisoned for _ in logits]
    m = max(z.data for z in logits)
    shifted = [z - m for z in logits]  # zᵢ - m <= 0
    exps = [s.exp() for s in shifted]  # in (0, 1], one of them exactly 1
    log_sum_exp = sum(exps[1:], exps[0]).log()  # log Σⱼ exp(zⱼ - m) >= 0
    return [s - log_sum_exp for s in shifted]


def cross_entropy_loss(logits_per_sample: Sequence[Sequence[Value]], y: Labels) -> Value:
    """Softmax cross-entropy: ``mean(-log softmax(z)[y])`` over the examples.

    ``logits_per_sample`` holds k Values per example (a k-output model's output), ``y`` the class
    numbers 0..k-1 (for k = 2 also -1 / +1, see :func:`class_indices`). Equal to PyTorch's
    ``cross_entropy(logits, y)`` (mean reduction), loss and gradients.
    """
    rows, labels = _checked_logits(logits_per_sample, y)
    return _mean([-log_softmax(z)[c] for z, c in zip(rows, labels)])


def cross_entropy_loss_np(logits: np.ndarray | Sequence[Sequence[float]], y: Labels) -> float:
    """:func:`cross_entropy_loss` in NumPy (no graph): ``logits`` is an (n, k) array."""
    Z = np.asarray(logits, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] < 2:
        raise ValueError(f"logits must be an (n, k) array with k >= 2 classes, got shape {Z.shape}")
    labels = class_indices(y, Z.shape[1])
    if len(labels) != len(Z):
        raise ValueError(f"got logits for {len(Z)} examples but {len(labels)} labels")
    if len(Z) == 0:
        raise ValueError("cannot compute a loss over zero examples")
    shifted = Z - Z.max(axis=1, keepdims=True)  # the same stable form as log_softmax
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_probs[np.arange(len(Z)), labels]))


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


DATA_LOSSES: dict[str, DataLoss] = {
    "svm": svm_loss,
    "log": log_loss,
    "mse": mse_loss,
    "cross_entropy": cross_entropy_loss,  # k logits per example, labels 0..k-1
}
PENALTIES: dict[str, Callable[[Iterable[Value], float], Value]] = {
    "l2": l2_penalty,
    "l1": l1_penalty,
}


def resolve_loss(loss: str | DataLoss) -> DataLoss:
    """A data loss by name (a key of ``DATA_LOSSES``) or a callable ``(scores, y) -> Value``."""
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
    scores: ModelOutputs,
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


def _data(score: object) -> object:
    if isinstance(score, Value):
        return score.data
    if isinstance(score, (list, tuple)):
        return [_data(s) for s in score]
    return score


def _score_array(scores: Scores) -> np.ndarray:
    """Scores as float64: (n,) for one score per example, (n, k) for k per example."""
    if isinstance(scores, np.ndarray):
        return scores.astype(np.float64, copy=False)
    try:
        return np.array([_data(s) for s in scores], dtype=np.float64)
    except ValueError:
        raise ValueError(
            "scores must be one number per example, or the same number of scores per example"
        ) from None


def predicted_classes(scores: Scores, classes: int | None = None) -> np.ndarray:
    """The class number (0..k-1, int64) each example's scores predict.

    One score per example: its sign (score > 0 is class 1, label +1; else class 0, label -1).
    k >= 2 scores per example: the argmax (ties go to the lower class, as ``np.argmax``).
    ``classes``, if given, must match the number of score columns (or be 2 for one score).
    """
    values = _score_array(scores)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim == 1:
        if classes not in (None, 2):
            raise ValueError(f"one score per example predicts 2 classes, not classes={classes!r}")
        return (values > 0).astype(np.int64)
    if values.ndim != 2:
        raise ValueError(f"scores must be (n,) or (n, k), got shape {values.shape}")
    if classes is not None and values.shape[1] != classes:
        raise ValueError(
            f"scores have {values.shape[1]} columns but classes={classes!r}; expected one per class"
        )
    return np.argmax(values, axis=1).astype(np.int64) if len(values) else np.zeros(0, np.int64)


def accuracy(scores: Scores, y: Labels) -> float:
    """Fraction of examples classified right.

    One score per example: the score's sign is the class (score 0 counts as -1, as the seed).
    k scores per example (a row each, e.g. a k-output model's outputs or ``predict``'s (n, k)
    array): the argmax is the class, compared with labels 0..k-1 (see :func:`class_indices`).
    """
    values = _score_array(scores)
    labels = np.asarray(y, dtype=np.float64).ravel()
    if len(values) != len(labels):
        raise ValueError(f"got {len(values)} scores but {len(labels)} labels; expected one each")
    if len(labels) == 0:
        return math.nan
    if values.ndim == 2 and values.shape[1] >= 2:
        hits = predicted_classes(values) == class_indices(labels, values.shape[1])
    else:
        hits = (values.ravel() > 0) == (labels > 0)  # (n, 1): one score each
    # the mean of the hits, counted exactly (np.mean's set-up costs more than the count)
    return np.count_nonzero(hits) / len(labels)


def confusion_matrix(scores: Scores, y: Labels, classes: int) -> np.ndarray:
    """``(classes, classes)`` int64 counts: row = true class, column = predicted class.

    Classes are in label order (for 2 classes: row/column 0 is label -1, 1 is +1), predictions as
    :func:`predicted_classes`; the diagonal holds the correct ones (as scikit-learn's).
    """
    predicted = predicted_classes(scores, classes)
    truth = class_indices(y, classes)
    if len(predicted) != len(truth):
        raise ValueError(f"got {len(predicted)} scores but {len(truth)} labels; expected one each")
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (truth, predicted), 1)
    return counts


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
    "cross_entropy": cross_entropy_loss_np,
}


def numpy_data_loss(name: str, scores: np.ndarray, y: Labels) -> float:
    """The data loss ``name`` ("svm", "log", "mse", "cross_entropy") of float ``scores`` (one
    column per class for cross-entropy) against labels ``y``."""
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
