"""The loss on top of the scores: per-sample terms, folds, the penalty, and the spine above them.

``losses.total_loss(scores, y, parameters, ...)`` is traced on probe scores and probe
"parameters" (stand-ins with the penalty's own code running on them), at two sizes. The graph
always has the same three parts:

* per-sample **terms** -- e.g. ``relu(1 + -y*s)`` -- each depending on one score (and on its
  label, which only ever is +1 or -1, so a label-dependent constant is known by its two values);
* **folds** -- ``t0 + t1 + ...`` over the samples (the mean's sum) and ``0.0 + u0 + u1 + ...``
  over the parameters (the penalty's sum) -- left-to-right chains of ``+``;
* the **spine**: the few scalar nodes above the folds (``* (1/n)``, ``rate *``, ``+``).

Per step, the terms are replayed as arrays (:class:`~._graph.NodeProgram`), each fold is one
sequential sum (``cumsum``), and the spine -- a handful of ops -- is replayed on Python floats by
the same kind of program. The two folds' grads reach every term unchanged (``0.0 + 1.0*g``).
A constant that differs between the samples' terms must be the same for every sample with the
same label (it is then looked up by label).

If the terms cannot be compiled -- the loss reads ``.data`` (``losses._softplus`` does), or it
is the user's own function -- the data loss runs on the scalar engine every step with the scores
as leaves ("hybrid"): exact too, because each score's grad comes from the loss alone.

A model with k outputs (k classes) gives k leaves per sample; the hybrid's backward then also
says in which order it visits each sample's k outputs (for cross-entropy it depends on the
sample's class), which the model's last layer follows when it adds its inputs' gradients.
The library's cross-entropy has its own replay on arrays (:mod:`._softmax`), exact too, and
falls back to the hybrid only for a step whose logits are not all finite; so has the library's
log loss (:mod:`._log_loss`: both branches of ``_softplus`` per sample), for a step whose scores
are not all finite.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import losses
from ..engine import Value
from . import _kernels as K
from ._graph import NodeProgram, Tape, broadcast, linearize, same_float
from ._log_loss import LogLossHead, LogLossState
from ._softmax import CrossEntropyHead, SoftmaxState, backward_orders
from ._trace import CompileError, TracedValue, data_of, recording, rng_snapshot

__all__ = ["ObjectiveProgram", "compile_objective"]

# probe values: distinct, both signs, exact in binary
SCORE_PROBES = (0.375, -1.25, 2.0625, 0.8125, -0.4375)
LABEL_PROBES = (1.0, -1.0, -1.0, 1.0, 1.0)
PARAM_PROBES = (0.75, -0.5, 1.5, -2.25, 0.3125)
PROBE_SIZES = ((2, 3), (3, 2))  # (samples, parameters) of the two traces
STAND_IN = 0.625  # the value of the stand-in data loss when the real one is not traced


class HeadNotCompilable(Exception):
    """The data loss's per-sample terms cannot be compiled (the rest still may be)."""


@dataclass
class Probe:
    root: Value
    data: Value
    scores: list[Value]
    dummies: list[Value]
    labels: np.ndarray
    reads: list  # accesses inside the data loss
    other_reads: list  # accesses elsewhere


def _trace(loss: Callable | None, regularization: str | None, rate: float, size: tuple) -> Probe:
    samples, count = size
    scores = [TracedValue(v) for v in SCORE_PROBES[:samples]]
    dummies = [TracedValue(v) for v in PARAM_PROBES[:count]]
    labels = np.array(LABEL_PROBES[:samples])
    captured: list[Value] = []

    def data_loss(s: Sequence[Value], y: np.ndarray) -> Value:
        d = TracedValue(STAND_IN) if loss is None else loss(s, y)
        captured.append(d)
        return d

    snapshot = rng_snapshot(loss)
    try:
        with recording() as rec:
            root = losses.total_loss(
                scores, labels, dummies, loss=data_loss, regularization=regularization, rate=rate
            )
    except CompileError:
        raise
    except Exception as exc:
        raise CompileError(
            f"the loss failed on probe scores ({type(exc).__name__}: {exc})"
        ) from exc
    finally:
        changed = snapshot.changed()
        snapshot.restore()
    if changed:
        raise HeadNotCompilable("the loss draws random numbers")
    if not captured or not isinstance(captured[0], Value) or not isinstance(root, Value):
        raise CompileError("the loss did not return a Value")
    inside = set(captured[0].topological_order())
    reads = [a for a in rec.accesses if a.node in inside]
    other = [a for a in rec.accesses if a.node not in inside]
    return Probe(root, captured[0], scores, dummies, labels, reads, other)


@dataclass
class Shape:
    """What one probe trace says about the objective."""

    spine: Tape
    head: Tape | None  # one sample's term (input slot 0 = its score), labels resolved
    penalty: Tape | None  # one parameter's term (input slot 0 = its value)
    descending: bool  # backward visits the samples last to first
    data_first: bool  # the data loss's contributions reach a parameter before the penalty's


def _fold(
    top: Value, terms: list[Value], parents: dict[Value, list[Value]], deps: dict[Value, int]
) -> float | bool | None:
    """The start of the left fold ``((start + t0) + t1) + ...`` ending at ``top`` over
    ``terms`` (None without a start value), or False if ``top`` is not such a fold."""
    chain, node = [], top
    while node._op == "+" and node not in terms:
        chain.append(node._b)
        if node is not top and len(parents[node]) != 1:
            return False  # a partial sum is used elsewhere
        node = node._a  # type: ignore[assignment]
    chain.append(node)
    chain.reverse()
    start: float | None = None
    if chain[0] not in terms and chain[0]._a is None and deps[chain[0]] == 0:
        start = data_of(chain[0])
        chain = chain[1:]
    if len(chain) != len(terms) or any(a is not b for a, b in zip(chain, terms)):
        return False
    return start


def _terms(
    order: list[Value], deps: dict[Value, int], parents: dict, bits: list[int], what: str
) -> list[Value]:
    """The highest node depending on each unit alone (a sample's term, a parameter's term)."""
    found = []
    for bit in bits:
        roots = [n for n in order if deps[n] == bit and all(deps[p] != bit for p in parents[n])]
        if len(roots) != 1:
            raise CompileError(f"cannot find one {what} term per unit")
        found.append(roots[0])

    def starts_fold(node: Value) -> bool:  # ``start + term``: a fold's first step
        return node._op == "+" and node._a._a is None and deps[node._a] == 0  # type: ignore[union-attr]

    # the first unit's term is added to the fold's start value: ``0.0 + u0`` depends on u0
    # alone, but the term is u0 (the other units' terms show the shape)
    if len(found) > 1 and starts_fold(found[0]) and not starts_fold(found[1]):
        found[0] = found[0]._b  # type: ignore[assignment]
    return found


def _shape(probe: Probe, compile_head: bool) -> Shape:
    order = probe.root.topological_order()
    n = len(order)
    position = {node: i for i, node in enumerate(order)}
    samples, count = len(probe.scores), len(probe.dummies)
    unit = {s: 1 << i for i, s in enumerate(probe.scores)}
    unit.update({d: 1 << (samples + j) for j, d in enumerate(probe.dummies)})
    deps: dict[Value, int] = {}
    parents: dict = {node: [] for node in order}
    for node in order:
        if node._a is None:
            deps[node] = unit.get(node, 0)
            continue
        deps[node] = deps[node._a] | (deps[node._b] if node._b is not None else 0)
        parents[node._a].append(node)
        if node._b is not None:
            parents[node._b].append(node)
    cuts: dict[Value, tuple[str, object]] = {}
    penalty: Tape | None = None
    penalty_nodes: list[int] = []
    pen_mask = sum(1 << (samples + j) for j in range(count))
    if any(deps[n] & pen_mask for n in order):
        terms = _terms(order, deps, parents, [1 << (samples + j) for j in range(count)], "penalty")
        tops = [n for n in order if n._op == "+" and deps[n] == pen_mask]
        start = _fold(tops[0], terms, parents, deps) if tops else False
        if start is False:
            raise CompileError("the penalty is not a sum over the parameters")
        cuts[tops[0]] = ("fold", ("penalty", start))
        tapes = [linearize(t, inputs={d: 0}) for t, d in zip(terms, probe.dummies)]
        for tape in tapes[1:]:
            if tapes[0].first_difference(tape) is not None:
                raise CompileError("the penalty treats parameters differently")
        penalty = tapes[0]
        for tape in tapes:
            penalty_nodes += [position[node] for node in tape.nodes]
    head: Tape | None = None
    data_nodes = [position[node] for node in probe.data.topological_order()]
    if compile_head:
        if probe.reads:
            raise HeadNotCompilable(
                f"the loss reads .data ({probe.reads[0].where()}): it branches per sample"
            )
        score_mask = (1 << samples) - 1
        try:
            terms = _terms(order, deps, parents, [1 << i for i in range(samples)], "sample")
        except CompileError as error:
            raise HeadNotCompilable(str(error)) from None
        tops = [n for n in order if n._op == "+" and deps[n] == score_mask]
        start = _fold(tops[0], terms, parents, deps) if tops else False
        if start is False:
            raise HeadNotCompilable("the loss is not a sum over the samples")
        cuts[tops[0]] = ("fold", ("data", start))
        tapes = [linearize(t, inputs={s: 0}) for t, s in zip(terms, probe.scores)]
        head = _with_labels(tapes, probe.labels)
    else:
        cuts[probe.data] = ("data", None)
    spine = linearize(probe.root, cuts=cuts)
    leaves = set(probe.scores) | set(probe.dummies)
    if any(node in leaves for node in spine.nodes):
        raise CompileError("the loss uses a score or a parameter outside its sums")
    descending = False
    if compile_head:  # (a hybrid step reads the order off each step's graph)
        backward_position = [n - 1 - position[s] for s in probe.scores]
        descending = backward_position == sorted(backward_position, reverse=True)
        if not descending and backward_position != sorted(backward_position):
            raise HeadNotCompilable("backward visits the samples in no simple order")
    data_first = True
    if penalty_nodes:
        data_last = max(n - 1 - p for p in data_nodes)
        data_earliest = min(n - 1 - p for p in data_nodes)
        pen = [n - 1 - p for p in penalty_nodes]
        if data_last < min(pen):
            data_first = True
        elif max(pen) < data_earliest:
            data_first = False
        else:
            raise CompileError("the penalty's and the data loss's gradients interleave")
    return Shape(spine, head, penalty, descending, data_first)


def _with_labels(tapes: list[Tape], labels: np.ndarray) -> Tape:
    """One term tape, its constants resolved: equal in every sample, or set by the label."""
    first = tapes[0]
    for tape in tapes[1:]:
        for i in range(max(len(first), len(tape))):
            if i >= len(first) or i >= len(tape):
                raise HeadNotCompilable("the loss's terms differ between samples")
            a, b = first.signature(i), tape.signature(i)
            if a[0] != b[0] or a[1:4] != b[1:4] or (a[0] != "const" and a != b):
                raise HeadNotCompilable("the loss's terms differ between samples")
    result = first.copy()
    for i, kind in enumerate(first.kind):
        if kind != "const":
            continue
        by_label: dict[float, float] = {}
        for tape, label in zip(tapes, labels):
            value = tape.arg[i]
            seen = by_label.setdefault(float(label), value)  # type: ignore[arg-type]
            if not same_float(seen, value):  # type: ignore[arg-type]
                raise HeadNotCompilable("a constant in the loss changes between samples")
        values = {struct.pack("<d", v) for v in by_label.values()}
        if len(values) > 1:
            if set(by_label) != {1.0, -1.0}:
                raise HeadNotCompilable("a label-dependent constant was seen for one label only")
            result.kind[i] = "label"
            result.arg[i] = (by_label[1.0], by_label[-1.0])
    return result


def _same_shape(a: Shape, b: Shape, sizes: tuple) -> Tape:
    """The spine shared by both traces, with constants that equal 1/samples marked."""
    if len(a.spine) != len(b.spine):
        raise CompileError("the loss's structure depends on the batch size")
    spine = a.spine.copy()
    for i in range(len(spine)):
        sa, sb = a.spine.signature(i), b.spine.signature(i)
        if sa == sb:
            continue
        if sa[0] == sb[0] == "const" and sa[1:4] == sb[1:4]:
            x, y = a.spine.arg[i], b.spine.arg[i]
            if same_float(x, 1.0 / sizes[0][0]) and same_float(y, 1.0 / sizes[1][0]):  # type: ignore[arg-type]
                spine.kind[i], spine.arg[i] = "inv_batch", None
                continue
        raise CompileError("the loss's structure depends on the batch size")
    for part in ("head", "penalty"):
        ta, tb = getattr(a, part), getattr(b, part)
        if (ta is None) != (tb is None) or (ta is not None and ta.first_difference(tb) is not None):
            raise CompileError(f"the loss's {part} terms depend on the batch size")
    if (a.descending, a.data_first) != (b.descending, b.data_first):
        raise CompileError("the loss's order of gradients depends on the batch size")
    return spine


# ---- per step --------------------------------------------------------------------------------


@dataclass
class ObjectiveState:
    loss: float
    spine: object  # the spine program's replay
    head_replay: object
    penalty_replay: object
    data: Value | None  # the scalar data loss (hybrid)
    softmax: SoftmaxState | None  # the replayed cross-entropy
    log_loss: LogLossState | None  # the replayed log loss
    leaves: list[Value] | None  # (hybrid) every sample's outputs as leaves, sample by sample
    batch: int
    count: int


#: input slots of the spine's node program
SPINE_SLOTS = {"data": 0, "penalty": 1, "inv_batch": 2}


class ObjectiveProgram:
    """The loss, the penalty and the spine, per step (see the module docstring)."""

    def __init__(
        self,
        spine: Tape,
        head: Tape | None,
        penalty: Tape | None,
        *,
        descending: bool,
        data_first: bool,
        loss: Callable,
        hybrid_reason: str,
        exact: bool,
        outputs: int = 1,
        softmax: CrossEntropyHead | None = None,
        log_loss: LogLossHead | None = None,
    ) -> None:
        self.spine = spine
        self.outputs = outputs
        self.softmax = softmax  # cross-entropy replayed on arrays (else the hybrid)
        self.log_loss = log_loss  # the log loss replayed on arrays (else the hybrid)
        self.head = NodeProgram(head, exact=exact) if head is not None else None
        self.penalty = NodeProgram(penalty, exact=exact) if penalty is not None else None
        self.head_ops = head.op_count if head is not None else 0
        self.penalty_ops = penalty.op_count if penalty is not None else 0
        self.descending = descending
        self.data_first = data_first
        self.loss = loss
        self.hybrid_reason = hybrid_reason
        self.folds = {arg[0]: arg[1] for k, arg in zip(spine.kind, spine.arg) if k == "fold"}  # type: ignore[index]
        # the spine as a node program over scalars: its cuts become input slots
        slots = Tape(
            list(spine.kind), list(spine.op), list(spine.a), list(spine.b), list(spine.arg)
        )
        for i, kind in enumerate(spine.kind):
            if kind in ("fold", "data", "inv_batch"):
                slot = SPINE_SLOTS[spine.arg[i][0] if kind == "fold" else kind]  # type: ignore[index]
                slots.kind[i], slots.arg[i] = "input", slot
        self.spine_program = NodeProgram(slots, exact=True)

    @property
    def hybrid(self) -> bool:
        return self.head is None

    def numpy_calls(self) -> int:
        calls = self.spine_program.numpy_calls  # on Python floats, but one call each all the same
        if self.head is not None:
            calls += self.head.numpy_calls + 3
        if self.penalty is not None:
            calls += self.penalty.numpy_calls + 3
        if self.log_loss is not None:
            calls += self.log_loss.NUMPY_CALLS
        return calls

    def forward(
        self, scores: np.ndarray, y: np.ndarray, theta: np.ndarray, loss: Callable | None = None
    ) -> ObjectiveState:
        batch, count = len(scores), len(theta)
        head_replay = penalty_replay = data = leaves = softmax = log_loss = None
        fold_value: dict[str, float] = {}
        if self.softmax is not None and loss is None:
            softmax = self.softmax.forward(scores, y)  # None: a logit is not finite
        if self.log_loss is not None and loss is None:
            log_loss = self.log_loss.forward(scores, y)  # None: a score is not finite
        if softmax is not None:
            fold_value["data"] = softmax.loss
        elif log_loss is not None:
            fold_value["data"] = log_loss.loss
        elif self.head is not None:
            head_replay = self.head.forward({0: scores}, label_positive=y > 0)
            terms = broadcast(head_replay.value[-1], batch)
            fold_value["data"] = K.sum_sequence(terms, start=self.folds["data"])
        elif self.outputs == 1:
            leaves = [Value(s) for s in scores.tolist()]
            data = (loss or self.loss)(leaves, y)
        else:  # k outputs per sample: a list of k leaves each
            rows = [[Value(v) for v in row] for row in scores.tolist()]
            leaves = [leaf for row in rows for leaf in row]
            data = (loss or self.loss)(rows, y)
            if not isinstance(data, Value):
                raise CompileError(f"the loss returned a {type(data).__name__}, not a Value")
        if self.penalty is not None:
            penalty_replay = self.penalty.forward({0: theta})
            terms = broadcast(penalty_replay.value[-1], count)
            fold_value["penalty"] = K.sum_sequence(terms, start=self.folds["penalty"])
        inputs = {
            SPINE_SLOTS["data"]: fold_value.get("data", data.data if data is not None else 0.0),
            SPINE_SLOTS["penalty"]: fold_value.get("penalty", 0.0),
            SPINE_SLOTS["inv_batch"]: 1.0 / batch,  # as the mean's Value(1.0 / len(terms))
        }
        spine = self.spine_program.forward(inputs)  # type: ignore[arg-type]
        return ObjectiveState(
            float(spine.value[-1]), spine, head_replay, penalty_replay, data, softmax, log_loss,
            leaves, batch, count,
        )  # fmt: skip

    def backward(
        self, state: ObjectiveState, parameters: dict[Value, int]
    ) -> tuple[np.ndarray, np.ndarray | None, list[np.ndarray], np.ndarray | None]:
        """(d loss / d score per sample -- (batch, k) for k outputs --, backward's sample order
        or None for 0..n-1, the penalty's contributions to each parameter in order, and for k
        outputs the order backward visits each sample's outputs, (batch, k))."""
        # the spine's root gets 1.0 (backward()'s seed); each cut node 0.0 + its contributions
        if len(self.spine) == 1:
            grad_of = {"data": 1.0, "penalty": 1.0}
        else:
            to_slot, _ = self.spine_program.backward(state.spine, 1.0)  # type: ignore[arg-type]
            grad_of = {
                name: float(_add_up(to_slot.get(slot, []))) for name, slot in SPINE_SLOTS.items()
            }
        batch, count = state.batch, state.count
        order: np.ndarray | None = None
        output_order: np.ndarray | None = None
        if state.softmax is not None:
            if not same_float(grad_of["data"], 1.0):
                raise CompileError("the data loss's gradient seed is not 1.0")
            dscores, order, output_order = self.softmax.backward(state.softmax)  # type: ignore[union-attr]
        elif state.log_loss is not None:
            if not same_float(grad_of["data"], 1.0):
                raise CompileError("the data loss's gradient seed is not 1.0")
            dscores, order = self.log_loss.backward(state.log_loss)  # type: ignore[union-attr]
        elif self.head is not None:
            g = _term_grad(grad_of["data"], self.folds["data"], batch)
            to_input, _ = self.head.backward(state.head_replay, g)  # type: ignore[arg-type]
            dscores = _accumulate(to_input[0], batch)
            if self.descending:
                order = np.arange(batch - 1, -1, -1)
        else:
            dscores, order, output_order = self._scalar_backward(state, grad_of["data"], parameters)
        contributions: list[np.ndarray] = []
        if self.penalty is not None:
            g = _term_grad(grad_of["penalty"], self.folds["penalty"], count)
            to_input, _ = self.penalty.backward(state.penalty_replay, g)  # type: ignore[arg-type]
            contributions = [broadcast(c, count) for c in to_input[0]]
        return dscores, order, contributions, output_order

    def _scalar_backward(
        self, state: ObjectiveState, grad: float, parameters: dict[Value, int]
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        data, leaves = state.data, state.leaves
        assert data is not None and leaves is not None
        if not same_float(grad, 1.0):
            raise CompileError("the data loss's gradient seed is not 1.0")
        order = data.topological_order()
        index = {leaf: i for i, leaf in enumerate(leaves)}
        for node in order:
            if node._a is None and node in parameters:
                raise CompileError(
                    "the loss uses the model's parameters directly; their gradients would mix "
                    "with the model's in an order the compiled step does not follow"
                )
        data.backward()  # the engine's own backward over the loss, scores as leaves
        dscores = np.fromiter((leaf.grad for leaf in leaves), np.float64, len(leaves))
        sequence = [index[node] for node in reversed(order) if node in index]
        k = self.outputs
        if k == 1:
            if sequence == list(range(len(leaves))):
                return dscores, None, None
            return dscores, np.array(sequence, dtype=np.intp), None
        return (dscores.reshape(-1, k), *backward_orders(sequence, state.batch, k))


def _term_grad(fold_grad: float, start: float | None, terms: int) -> float:
    """Each term's grad in a left fold of "+": ``0.0 + 1.0*g`` once below the top (an idempotent
    map: it only turns -0.0 into 0.0), or ``g`` itself for a fold of one term and no start."""
    if start is None and terms == 1:
        return fold_grad
    return 0.0 + 1.0 * fold_grad


def _add_up(contributions: list[object]) -> object:
    """A node's grad from its contributions in order: ``0.0 + c1 + c2 + ...`` (a float, or an
    array if a contribution is one)."""
    total: object = 0.0
    for c in contributions:
        total = total + c  # type: ignore[operator]
    return total


def _accumulate(contributions: list[object], size: int) -> np.ndarray:
    """:func:`_add_up`, as one value per sample."""
    return broadcast(_add_up(contributions), size)


def compile_objective(
    loss: Callable, regularization: str | None, rate: float, *, exact: bool, outputs: int = 1
) -> ObjectiveProgram:
    """Trace ``total_loss`` with ``loss`` at two probe sizes and compile what it shows.

    ``outputs``: the model's outputs per sample (1: a score; k: k logits, for k classes).
    Remembered per (loss, regularization, rate, exact, outputs): the result depends on nothing
    else and holds no state, so retracing a model (or another trainer with the same loss)
    reuses it.
    """
    try:
        return _compile_objective_cached(loss, regularization, rate, exact, outputs)
    except TypeError:  # an unhashable loss object
        return _compile_objective(loss, regularization, rate, exact=exact, outputs=outputs)


@functools.lru_cache(maxsize=32)
def _compile_objective_cached(
    loss: Callable, regularization: str | None, rate: float, exact: bool, outputs: int
) -> ObjectiveProgram:
    return _compile_objective(loss, regularization, rate, exact=exact, outputs=outputs)


def _compile_objective(
    loss: Callable, regularization: str | None, rate: float, *, exact: bool, outputs: int = 1
) -> ObjectiveProgram:
    builtin = loss in losses.DATA_LOSSES.values()
    reason = "" if builtin else "a custom loss function (called on the scalar engine each step)"
    softmax = None
    if outputs > 1 and builtin:
        # log_softmax reads .data: the max of each sample's logits, and a finiteness check
        reason = "its log-sum-exp reads .data (each sample's largest logit)"
        if loss is losses.cross_entropy_loss:
            try:
                softmax = CrossEntropyHead.compile(outputs)
            except CompileError as error:
                reason += f"; no array replay: {error}"
    log_loss = None
    probes = None
    if builtin and outputs == 1:
        try:
            probes = [_trace(loss, regularization, rate, size) for size in PROBE_SIZES]
            shapes = [_shape(p, compile_head=True) for p in probes]
            spine = _same_shape(*shapes, PROBE_SIZES)
        except HeadNotCompilable as why:
            reason = str(why)
            if loss is losses.log_loss:  # _softplus branches per sample: its own array replay
                try:
                    log_loss = LogLossHead.compile()
                except CompileError as error:
                    reason += f"; no array replay: {error}"
        except CompileError as error:
            if any(p.other_reads for p in probes or ()):
                raise
            reason = str(error)
        else:
            return ObjectiveProgram(
                spine, shapes[0].head, shapes[0].penalty, descending=shapes[0].descending,
                data_first=shapes[0].data_first, loss=loss, hybrid_reason="", exact=exact,
            )  # fmt: skip
    # the data loss on the scalar engine; trace the rest with a stand-in for it
    probes = [_trace(None, regularization, rate, size) for size in PROBE_SIZES]
    for probe in probes:
        if probe.other_reads:
            raise CompileError(f"the penalty reads .data ({probe.other_reads[0].where()})")
    shapes = [_shape(p, compile_head=False) for p in probes]
    spine = _same_shape(*shapes, PROBE_SIZES)
    return ObjectiveProgram(
        spine, None, shapes[0].penalty, descending=False, data_first=shapes[0].data_first,
        loss=loss, hybrid_reason=reason, exact=exact, outputs=outputs, softmax=softmax,
        log_loss=log_loss,
    )  # fmt: skip
