"""The binary log loss over a batch of scores, replayed with numpy op for op, bit for bit.

``losses.log_loss`` is ``mean(_softplus(-y·s))``, and ``losses._softplus`` branches on
``z.data > 0`` (so that exp never overflows), so its graph cannot be traced once and replayed
like the SVM loss. But each branch is a fixed handful of engine ops, written here on ``(n,)``
arrays, and each sample takes the branch the engine takes, by the same comparison::

    z = (-y) * s                         Value(-y) * s: the constant first
    z > 0:   l = log(1 + exp(-z))        "neg", libm's exp, Value(1) + e, libm's log
             term = z + l                z is used twice: here and in -z
    else:    term = log(1 + exp(z))      libm's exp, Value(1) + e, libm's log
    loss = (term_0 + term_1 + ...) * (1/n)

exp's argument is ``-z`` in one branch and ``z`` in the other -- ``-|z|`` either way -- so one
exp and one log per sample serve both branches, and neither ever overflows (the engine's own
reason for the branch). Backward is the engine's too: each node's grad ``0.0 + local * grad``;
``z``'s grad in the ``z > 0`` branch is its two contributions in ``backward()``'s order,
``(0.0 + 1.0·g_term) + (-1.0·g_neg)`` (the sum's first, since the sum is above ``-z``).

What the data cannot tell -- the order ``backward()`` visits the samples -- is read off the
scalar engine once, on a probe batch, at compile time; the replay is then checked against the
scalar engine bit for bit -- each probe score's term alone with either label (a term's last
bits can vanish in a sum), then loss, every gradient and the order on batches of several sizes
(both branches, scores of exactly ±0, ±800, subnormal and huge ones) -- and not used if a
single bit differs. A step with a score that is not finite, or
labels the scalar loss would refuse, runs the loss on the scalar engine instead (it raises or
propagates exactly as there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import losses
from ..engine import Value
from . import _kernels as K
from ._graph import same_float
from ._trace import CompileError

__all__ = ["LogLossHead", "LogLossState", "scalar_log_loss"]


@dataclass
class LogLossState:
    """One forward pass: what backward needs."""

    loss: float
    negated_labels: np.ndarray  # -y: the constant in Value(-y) * s, s's local derivative
    positive: np.ndarray  # z > 0: the branch each sample took
    exp: np.ndarray  # e = exp(-|z|), also exp's local derivative
    inv_total: np.ndarray  # 1 / (1 + e), log's local derivative
    inv_batch: float
    terms: np.ndarray  # each sample's term, _softplus(-y·s)


def scalar_log_loss(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The scalar engine's answer, scores as leaves: (loss, d loss / d score, the order
    ``backward()`` visits the scores)."""
    leaves = [Value(v) for v in np.asarray(scores, dtype=np.float64).tolist()]
    data = losses.log_loss(leaves, y)
    order = data.topological_order()
    data.backward()
    index = {leaf: i for i, leaf in enumerate(leaves)}
    sequence = np.array([index[node] for node in reversed(order) if node in index], np.intp)
    grads = np.fromiter((leaf.grad for leaf in leaves), np.float64, len(leaves))
    return data.data, grads, sequence


# probe scores: both branches for both labels, exactly +-0, where exp(-|z|) underflows to a
# subnormal or to 0 (the other branch's exp would overflow), tiny and huge, exact in binary
_PROBE_SCORES = (
    0.375, -1.25, 2.0625, 0.0, -0.0, 800.0, -800.0, 0.8125, -0.4375, 1e-300, -5e-324, 740.0,
    -745.5, 1.5e308, -36.75, 37.0, 3.0517578125e-05, -1.0, 1.0, 20.5, -13.125, 1e-09,
)  # fmt: skip


def _probe(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``size`` scores from ``_PROBE_SCORES`` (cycled), labels +1, -1, -1, +1, ... in turn."""
    scores = np.array([_PROBE_SCORES[i % len(_PROBE_SCORES)] for i in range(size)])
    labels = np.where(np.arange(size) % 3 == 0, 1.0, -1.0)
    labels[1::4] = 1.0
    return scores, labels


class LogLossHead:
    """``log_loss`` for a model with one score per sample, on arrays (see the module docstring).

    Build it with :meth:`compile`, which raises :class:`CompileError` if the scalar engine's
    order of work cannot be read off probes or the replay differs from it by a bit.
    """

    #: numpy calls per step, forward and backward (and two libm loops over the batch)
    NUMPY_CALLS = 24

    def __init__(self, descending: bool) -> None:
        self.descending = descending  # backward visits the samples last to first

    @classmethod
    def compile(cls) -> LogLossHead:
        size = 5
        _, _, sequence = scalar_log_loss(*_probe(size))
        if np.array_equal(sequence, np.arange(size)):
            descending = False
        elif np.array_equal(sequence, np.arange(size - 1, -1, -1)):
            descending = True
        else:
            raise CompileError("backward visits the samples in no simple order")
        head = cls(descending)
        head._check_against_the_scalar_engine()  # (at other sizes: the order too)
        return head

    def _check_against_the_scalar_engine(self) -> None:
        # each term, not only their sum (in which a term's last bits may vanish): every probe
        # score with either label, against the scalar loss of it alone (its term times 1.0)
        scores = np.repeat(_PROBE_SCORES, 2)
        y = np.tile([1.0, -1.0], len(_PROBE_SCORES))
        want = [losses.log_loss([Value(v)], [label]).data.hex() for v, label in zip(scores, y)]
        with np.errstate(all="ignore"):
            state = self.forward(scores, y)
        if state is None or [*map(float.hex, state.terms.tolist())] != want:
            raise CompileError("the replayed log loss differs from the scalar engine's")
        for size in (1, 2, 2 * len(_PROBE_SCORES) + 3):
            scores, y = _probe(size)
            loss, grads, sequence = scalar_log_loss(scores, y)
            with np.errstate(all="ignore"):  # as in a step: subnormal products are fine
                state = self.forward(scores, y)
                if state is None:
                    raise CompileError("the log-loss replay refused its own probe")
                dscores, order = self.backward(state)
            want = [*map(float.hex, grads.tolist())]
            if not same_float(state.loss, loss) or [*map(float.hex, dscores.tolist())] != want:
                raise CompileError("the replayed log loss differs from the scalar engine's")
            if not np.array_equal(np.arange(size) if order is None else order, sequence):
                raise CompileError("the replayed log loss visits the samples in another order")

    def forward(self, scores: np.ndarray, y: np.ndarray) -> LogLossState | None:
        """The loss of ``scores`` (n,) against labels ``y`` (+1/-1); None if a score is not
        finite or the labels are not what the scalar loss accepts (then the scalar engine must
        run it: it propagates NaN and infinity, and raises its own errors, as it does)."""
        s = np.asarray(scores, dtype=np.float64)
        labels = np.asarray(y, dtype=np.float64).ravel()
        n = len(s)
        if s.ndim != 1 or n == 0 or len(labels) != n or not np.all(np.isfinite(s)):
            return None
        if not np.all((labels == 1.0) | (labels == -1.0)):
            return None
        negated_labels = -labels  # -yi, a float, made Value(-yi) by __rmul__
        z = negated_labels * s  # Value(-yi) * s
        positive = z > 0.0  # _softplus's branch, on the forward value
        e, _ = K.exp(np.where(positive, -z, z))  # exp(-z) ("neg" first) or exp(z)
        total = 1.0 + e  # Value(1) + e: __radd__ puts the 1 first
        log_total, inv_total = K.log(total)
        terms = np.where(positive, z + log_total, log_total)  # z + log(...) or log(...)
        inv_batch = 1.0 / n
        loss = K.sum_sequence(terms) * inv_batch  # sum(terms[1:], terms[0]) * (1.0 / n)
        return LogLossState(float(loss), negated_labels, positive, e, inv_total, inv_batch, terms)

    def backward(self, state: LogLossState) -> tuple[np.ndarray, np.ndarray | None]:
        """(d loss / d score (n,), backward's sample order or None for 0..n-1), for a loss
        whose grad is seeded with 1.0."""
        n = len(state.positive)
        # root: the fold's grad 0.0 + (1/n)·1.0; each term 0.0 + 1.0·g down the fold (n >= 2)
        g_term = 0.0 + state.inv_batch * 1.0
        if n > 1:
            g_term = 0.0 + 1.0 * g_term
        # z > 0: the term is z + l, so l gets 0.0 + 1.0·g_term; else the term is l itself
        g_log = np.where(state.positive, 0.0 + 1.0 * g_term, g_term)
        g_total = 0.0 + state.inv_total * g_log  # log: 1/(1 + e)
        g_exp = 0.0 + 1.0 * g_total  # Value(1) + e: d/de = 1
        g_exp_input = 0.0 + state.exp * g_exp  # exp: e; the input is -z or z itself
        # z > 0: z's grad is the sum's contribution first (the sum is above -z), then the neg's
        g_z = np.where(state.positive, (0.0 + 1.0 * g_term) + -1.0 * g_exp_input, g_exp_input)
        dscores = 0.0 + state.negated_labels * g_z  # Value(-yi) * s: d/ds = -yi
        order = np.arange(n - 1, -1, -1) if self.descending else None
        return dscores, order
