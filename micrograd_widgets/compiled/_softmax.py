"""Softmax cross-entropy over a batch of logits, replayed with numpy op for op, bit for bit.

``losses.cross_entropy_loss`` reads ``.data`` (each sample's largest logit, and whether all are
finite), so its graph cannot be traced once and replayed like the binary losses. But what it
computes per sample is fixed, and written here as the same engine ops on ``(n, k)`` arrays::

    m = max(z)                       Python's max: the first largest, compared with ">"
    s_j = z_j - m                    "-" node (m a constant)
    e_j = exp(s_j)                   libm's exp, per element, as the engine
    t = (e_0 + e_1) + ... + e_k-1    left to right
    l = log(t)
    o = s_c - l                      only the label's entry is in the graph
    term = -o
    loss = (term_0 + term_1 + ...) * (1/n)

and backward the same way: each node's grad ``0.0 + local * grad`` in the engine's order (a
node with two users -- ``s_c`` -- adds two terms, in either order the same float).

What the data cannot tell -- the order ``backward()`` visits the samples, and each sample's k
logits (it depends on the sample's class) -- is read off the scalar engine once, on a probe
batch, at compile time; the replay is then checked against the scalar engine on that batch,
bit for bit, and not used if a single bit differs. A step whose logits are not all finite
(``log_softmax``'s NaN branch) runs the loss on the scalar engine instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import losses
from ..engine import Value
from . import _kernels as K
from ._graph import same_float
from ._trace import CompileError

__all__ = ["CrossEntropyHead", "SoftmaxState", "backward_orders"]


@dataclass
class SoftmaxState:
    """One forward pass: what backward needs."""

    loss: float
    classes: np.ndarray  # (n,) class numbers
    shifted_exp: np.ndarray  # (n, k) e_j, also exp's local derivative
    inv_total: np.ndarray  # (n,) 1 / t, log's local derivative
    inv_batch: float


def backward_orders(
    sequence: list[int], batch: int, k: int
) -> tuple[np.ndarray | None, np.ndarray]:
    """From the order backward visits the flat leaves (sample s's output j is leaf s·k + j):
    the order it visits the samples (None: 0, 1, 2, ...), and per sample (by index) the order
    of its k outputs, (batch, k).

    Each sample's outputs must be visited one after the other, as a model's graph per sample
    is (its nodes are contiguous in the engine's topological order)."""
    if len(sequence) != batch * k:
        raise CompileError("the loss does not use every output of every sample")
    visits = np.array(sequence, dtype=np.intp).reshape(batch, k)  # row r: the r-th sample seen
    samples = visits // k
    if np.any(samples != samples[:, :1]):
        raise CompileError("backward interleaves the outputs of different samples")
    order = samples[:, 0]
    output_order = np.empty((batch, k), dtype=np.intp)
    output_order[order] = visits % k
    if np.array_equal(order, np.arange(batch)):
        return None, output_order
    return order, output_order


def scalar_cross_entropy(
    logits: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray | None, np.ndarray]:
    """The scalar engine's answer, logits as leaves: (loss, d loss / d logit (n, k), sample
    order, output order)."""
    rows = [[Value(v) for v in row] for row in logits.tolist()]
    leaves = [leaf for row in rows for leaf in row]
    data = losses.cross_entropy_loss(rows, y)
    order = data.topological_order()
    data.backward()
    index = {leaf: i for i, leaf in enumerate(leaves)}
    sequence = [index[node] for node in reversed(order) if node in index]
    grads = np.array([leaf.grad for leaf in leaves]).reshape(logits.shape)
    return (data.data, grads, *backward_orders(sequence, *logits.shape))


# probe logits: distinct, both signs, exact in binary; a tie for the max in the last row
_PROBE = np.array(
    [[0.375, -1.25, 2.0625, 0.8125], [-0.4375, 0.75, -0.5, 1.5], [1.125, 0.3125, -2.25, 0.625],
     [0.5, 0.5, -0.125, 0.5], [-1.5, -0.75, -0.0, 0.0]]
)  # fmt: skip


def _probe(k: int, repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """``repeats`` samples of every class (labels 0..k-1 in turn), logits from ``_PROBE``."""
    n = k * repeats + 1
    rows = [_PROBE[i % len(_PROBE), (np.arange(k) + i) % _PROBE.shape[1]] for i in range(n)]
    return np.array(rows) * (1.0 + np.arange(k) / 8.0), np.arange(n, dtype=np.float64) % k


class CrossEntropyHead:
    """``cross_entropy_loss`` for a model with k outputs, on arrays (see the module docstring).

    Build it with :meth:`compile`, which raises :class:`CompileError` if the scalar engine's
    order of work cannot be read off a probe or the replay differs from it by a bit.
    """

    def __init__(self, k: int, descending: bool, output_order: np.ndarray) -> None:
        self.k = k
        self.descending = descending  # backward visits the samples last to first
        self.output_order = output_order  # (k classes, k): the visiting order per class

    @classmethod
    def compile(cls, k: int) -> CrossEntropyHead:
        orders = []
        for repeats in (1, 2):
            logits, y = _probe(k, repeats)
            _, _, order, output_order = scalar_cross_entropy(logits, y)
            n = len(y)
            if order is None:
                descending = False
            elif np.array_equal(order, np.arange(n - 1, -1, -1)):
                descending = True
            else:
                raise CompileError("backward visits the samples in no simple order")
            by_class = np.empty((k, k), dtype=np.intp)
            for c in range(k):
                rows = output_order[y == c]
                if np.any(rows != rows[0]):
                    raise CompileError("the order of a sample's logits is not set by its class")
                by_class[c] = rows[0]
            orders.append((descending, by_class))
        (descending, by_class), (other_descending, other) = orders
        if descending != other_descending or not np.array_equal(by_class, other):
            raise CompileError("the order of backward's work depends on the batch size")
        head = cls(k, descending, by_class)
        head._check_against_the_scalar_engine()
        return head

    def _check_against_the_scalar_engine(self) -> None:
        for repeats in (1, 3):
            logits, y = _probe(self.k, repeats)
            loss, grads, _, _ = scalar_cross_entropy(logits, y)
            state = self.forward(logits, y)
            assert state is not None
            dlogits, _, _ = self.backward(state)
            if not same_float(state.loss, loss) or [*map(float.hex, dlogits.ravel().tolist())] != [
                *map(float.hex, grads.ravel().tolist())
            ]:
                raise CompileError("the replayed cross-entropy differs from the scalar engine's")

    def forward(self, logits: np.ndarray, y: np.ndarray) -> SoftmaxState | None:
        """The loss of ``logits`` (n, k) against labels ``y``; None if a logit is not finite
        (then the scalar engine must run it: its NaN branch)."""
        Z = np.asarray(logits, dtype=np.float64)
        if not np.all(np.isfinite(Z)):
            return None
        n, k = Z.shape
        if n == 0:
            raise ValueError("cannot compute a loss over zero examples")
        classes = losses.class_indices(y, k)  # (the scalar loss's own check and message)
        if len(classes) != n:
            raise ValueError(
                f"got logits for {n} examples but {len(classes)} labels; expected one each"
            )
        top = Z[:, 0].copy()  # Python's max: a later logit wins only if strictly greater
        for j in range(1, k):
            np.copyto(top, Z[:, j], where=Z[:, j] > top)
        shifted = Z - top[:, None]  # z_j - m
        e, _ = K.exp(shifted)
        total = e[:, 0].copy()
        for j in range(1, k):
            total = total + e[:, j]  # (e_0 + e_1) + e_2 + ...
        log_total, inv_total = K.log(total)
        picked = shifted[np.arange(n), classes]
        terms = -(picked - log_total)  # -(s_c - log t)
        inv_batch = 1.0 / n
        loss = K.sum_sequence(terms) * inv_batch  # the mean: a left fold, times 1/n
        return SoftmaxState(float(loss), classes, e, inv_total, inv_batch)

    def backward(self, state: SoftmaxState) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(d loss / d logit (n, k), backward's sample order or None for 0..n-1, per sample the
        order backward visits its logits), for a loss whose grad is seeded with 1.0."""
        n = len(state.classes)
        # root: the fold's grad 0.0 + (1/n)·1.0; each term 0.0 + 1.0·g down the fold (n >= 2)
        g_term = 0.0 + state.inv_batch * 1.0
        if n > 1:
            g_term = 0.0 + 1.0 * g_term
        g_picked = 0.0 + -1.0 * g_term  # neg
        g_log = 0.0 + -1.0 * g_picked  # o = s_c - l: d/dl = -1
        g_total = 0.0 + state.inv_total * g_log  # log: 1/t
        g_exp = 0.0 + 1.0 * g_total  # every e_j through the sum's "+" nodes (k >= 2)
        g_shifted = 0.0 + state.shifted_exp * g_exp[:, None]  # exp: e_j
        rows = np.arange(n)
        g_shifted[rows, state.classes] += 1.0 * g_picked  # s_c's other user: o (d/ds = 1)
        dlogits = 0.0 + 1.0 * g_shifted  # z_j - m: d/dz = 1
        order = np.arange(n - 1, -1, -1) if self.descending else None
        return dlogits, order, self.output_order[state.classes]
