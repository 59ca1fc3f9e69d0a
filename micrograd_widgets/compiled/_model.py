"""The model's part of the step: trace one sample's graph, then replay it for a whole batch.

A traced MLP sample is a stack of *units*: a neuron's chain ``b + w0*x0 + w1*x1 + ...`` (the
engine's left-to-right ``+`` nodes, each adding one ``*`` node) followed by its activation.
Units that read the same inputs with the same activation form a *dense block* -- a layer --
replayed as ``(width, batch)`` arrays:

forward   ``P[j] = w[:, j] * x[j]`` for every term j (the bias term is ``b * 1.0 = b``), then
          ``z = ((P[0] + P[1]) + P[2]) + ...`` summed in the chain's order;
backward  ``grad(w) = 0.0 + sample 0's x*g + sample 1's x*g + ...`` in the order backward()
          visits the samples, and each input's grad ``0.0 + w*g`` over the neurons in the order
          backward() visits them (read off the trace).

Anything else -- a custom module's ops, weights shared inside the graph -- is replayed node by
node by a :class:`~._graph.NodeProgram`, still exactly, just with more numpy calls.
"""

from __future__ import annotations

import copy
import math
import operator
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import nn
from ..engine import Value
from . import _kernels as K
from ._graph import NodeProgram, Tape, broadcast, linearize
from ._trace import CompileError, TracedValue, recording, rng_snapshot

__all__ = ["DenseProgram", "GenericModelProgram", "build_model_program", "trace_model"]

ACTIVATIONS = {"ReLU": "relu", "tanh": "tanh", "sigmoid": "sigmoid"}


# ---- tracing -------------------------------------------------------------------------------------

# The library's own forward pass: Neuron, Layer and MLP exactly as nn.py defines them. Their
# __call__ methods compute with engine ops only -- no .data reads, no randomness, no state --
# which tests/test_compile.py checks on their bytecode. A model built only from them is traced
# once, at full speed; any other model is traced twice, watching what its code does.
_PURE_CALLS = {nn.MLP: nn.MLP.__call__, nn.Layer: nn.Layer.__call__, nn.Neuron: nn.Neuron.__call__}
_PURE_ACTIVATIONS = {name: pair[0] for name, pair in nn.ACTIVATIONS.items()}
_PURE_HELPERS = (nn._check_inputs,)


def library_modules(model: object) -> bool:
    """True if ``model`` is an unmodified nn.MLP, Layer or Neuron, all the way down."""
    if nn._check_inputs is not _PURE_HELPERS[0]:
        return False
    for cls, call in _PURE_CALLS.items():
        if cls.__call__ is not call:
            return False
    stack = [model]
    while stack:
        module = stack.pop()
        cls = type(module)
        if cls not in _PURE_CALLS:
            return False
        if cls is nn.Neuron:
            activation = module.activation  # type: ignore[attr-defined]
            if (
                not isinstance(activation, str)
                or nn.ACTIVATIONS.get(activation, (None,))[0]
                is not _PURE_ACTIVATIONS.get(activation)
                or not isinstance(module.w, list)  # type: ignore[attr-defined]
            ):
                return False
        else:
            children = module.layers if cls is nn.MLP else module.neurons  # type: ignore[attr-defined]
            if not isinstance(children, list):
                return False
            stack.extend(children)
    return True


def trace_model(
    model: object, rows: np.ndarray, parameters: Sequence[Value]
) -> tuple[Tape, object, list[Value]]:
    """One sample's graph of ``model`` as a tape (leaves: the row's inputs and ``parameters``),
    and the model and parameters to check the compiled step against (a copy, for a custom one).

    An unmodified library model is traced once. Any other model is copied and the copy traced
    on two different rows inside a recording: the two graphs must be the same op for op and
    constant for constant (else data or hidden state is baked in), share nothing but
    parameters, and the model must neither read ``.data`` nor draw random numbers meanwhile.
    """
    index = {p: i for i, p in enumerate(parameters)}
    if library_modules(model):
        inputs = [Value(float(v)) for v in rows[0]]
        try:
            out = model(list(inputs))  # type: ignore[operator]
        except Exception as exc:
            raise CompileError(
                f"calling the model on a sample failed ({type(exc).__name__}: {exc})"
            ) from exc
        tape = linearize(
            _roots(out), params=index, inputs={leaf: k for k, leaf in enumerate(inputs)},
            traced=False,
        )  # fmt: skip
        _check_leaves(tape, None)
        return tape, model, list(parameters)
    # trace a copy: a custom forward may change its module (a counter, a cache, its own random
    # generator); the user's model then stays exactly as it was, for either engine
    memo: dict[int, object] = {}
    try:
        clone = copy.deepcopy(model, memo)
    except Exception as exc:
        raise CompileError(f"cannot copy the model to trace it ({type(exc).__name__})") from exc
    copies = [memo.get(id(p), p) for p in parameters]  # a parameter the model cannot reach stays
    index = {p: i for i, p in enumerate(copies)}
    snapshot = rng_snapshot(clone)
    try:
        with recording(copies) as rec:
            samples = [[TracedValue(float(v)) for v in row] for row in rows[:2]]
            outputs = [clone(list(x)) for x in samples]  # type: ignore[operator]
    except CompileError:
        raise
    except Exception as exc:
        raise CompileError(
            f"calling the model on a traced sample failed ({type(exc).__name__}: {exc})"
        ) from exc
    finally:
        changed = snapshot.changed()
        snapshot.restore()  # a fallback then trains from the same random state as without us
    if changed:
        raise CompileError(
            "the model draws random numbers while it computes (e.g. dropout): one traced graph "
            "cannot stand for every step"
        )
    roots = [_roots(out) for out in outputs]
    if len(roots[0]) != len(roots[1]):
        raise CompileError("the model returned a different number of outputs for two samples")
    if rec.accesses:
        first = rec.accesses[0]
        raise CompileError(
            f"the model {first.kind}s .data of a Value ({first.where()}): it may take another "
            "branch for other samples or steps, which one traced graph cannot follow"
        )
    tapes = [
        linearize(out, params=index, inputs={leaf: k for k, leaf in enumerate(sample)})
        for out, sample in zip(roots, samples)
    ]
    difference = tapes[0].first_difference(tapes[1])
    if difference is not None:
        where = tapes[0].describe(difference) if difference < len(tapes[0]) else "its end"
        raise CompileError(
            f"the model's graph differs between two samples (at node {difference}, {where}): "
            "its structure or constants depend on the data or on hidden state"
        )
    _check_leaves(tapes[0], tapes[1])
    return tapes[0], clone, copies


def _roots(out: object) -> list[Value]:
    """The model's output as a list of Values: one score, or k outputs (one per class)."""
    if isinstance(out, Value):
        return [out]
    if isinstance(out, (list, tuple)) and out and all(isinstance(v, Value) for v in out):
        return list(out)
    raise CompileError(
        f"the model returned a {type(out).__name__}, not one Value score or a list of Values"
    )


def _check_leaves(tape: Tape, other: Tape | None) -> None:
    """Refuse Values shared by every sample's graph that are not trainer parameters."""
    if len(set(tape.outputs)) != len(tape.outputs):
        raise CompileError("the model returns one Value as two of its outputs")
    if other is None:  # a library model: its only leaves are inputs and its own weights
        if "const" not in tape.kind:
            return
        for kind, node in zip(tape.kind, tape.nodes):
            if kind == "const":
                raise CompileError(
                    f"the model uses a Value that is not one of the trainer's parameters "
                    f"({node!r}); its grad would grow with every step"
                )
        return
    second = set(other.nodes)
    for kind, node in zip(tape.kind, tape.nodes):
        if kind != "param" and node in second:
            if kind == "op":
                raise CompileError("the model reuses one computed Value in every sample's graph")
            raise CompileError(
                f"the model uses a Value that is not one of the trainer's parameters "
                f"({node!r}); its grad would grow with every step"
            )


# ---- recognising dense layers --------------------------------------------------------------------


@dataclass
class Unit:
    """One neuron: a chain of ``+`` over a bias and ``w * x`` terms, maybe an activation."""

    output: int  # position of the activation node, or of the chain's last "+"
    activation: str | None  # "ReLU", "tanh", "sigmoid" or None
    # per term, in the chain's order: the parameter's index, the source's position (-1 for the
    # bias) and the "*" node's position (-1 for the bias)
    params: list[int]
    sources: list[int]
    products: list[int]

    def signature(self) -> tuple:
        return (self.activation, tuple(self.sources))


@dataclass
class BlockPlan:
    units: list[Unit]
    sources: list[int]  # source positions of the mul terms, in term order
    layout: list[int]  # per term: -1 for the bias, else the index into sources
    producer: int | None = None  # index of the block whose outputs are the sources
    consumer_order: np.ndarray | None = None  # backward's order over this block's units


def _chain(tape: Tape, uses: list[int], top: int) -> tuple[list[int], list[int]]:
    """(terms in chain order, each term's "+" node) of the left fold of "+" ending at ``top``
    (``uses``: :meth:`Tape.use_counts`; an input used once is used only by the node above it)."""
    kind, op, a_, b_ = tape.kind, tape.op, tape.a, tape.b
    node, adds, terms = top, [], []
    while True:
        terms.append(b_[node])
        adds.append(node)
        a = a_[node]
        if op[a] == "+" and kind[a] == "op" and uses[a] == 1:
            node = a
            continue
        terms.append(a)
        adds.append(node)
        break
    terms.reverse()
    adds.reverse()
    return terms, adds


def _units(tape: Tape, uses: list[int]) -> list[Unit] | str:
    """Every op node as part of a unit, or why the graph is not a stack of dense layers
    (``uses``: :meth:`Tape.use_counts`)."""
    kind, ops, a_, b_, arg = tape.kind, tape.op, tape.a, tape.b, tape.arg
    units: list[Unit] = []
    claimed = [False] * len(tape)
    for i in range(len(tape) - 1, -1, -1):
        if claimed[i] or kind[i] != "op":
            continue
        op, activation, top = ops[i], None, i
        if op in ACTIVATIONS:
            top, activation = a_[i], op
            if not (ops[top] == "+" and kind[top] == "op" and uses[top] == 1):
                return f"a {op} node does not follow a neuron's sum"
        elif op != "+":
            return f"op {op!r} is not part of a neuron"
        terms, adds = _chain(tape, uses, top)
        params: list[int] = []
        sources: list[int] = []
        products: list[int] = []
        for term in terms:
            term_kind = kind[term]
            if term_kind == "param":  # the bias
                params.append(arg[term])  # type: ignore[arg-type]
                sources.append(-1)
                products.append(-1)
                continue
            if ops[term] != "*" or term_kind != "op":
                return f"a neuron's sum adds a {tape.describe(term)} term"
            if uses[term] != 1:  # (its one user is its "+" in the chain)
                return "a product is used outside its neuron's sum"
            a, b = a_[term], b_[term]
            kind_a, kind_b = kind[a], kind[b]
            if kind_a == "param" and kind_b != "param":
                param, source, source_kind = a, b, kind_b
            elif kind_b == "param" and kind_a != "param":
                param, source, source_kind = b, a, kind_a
            else:
                return "a product is not weight × input"
            if source_kind == "const":
                return "a weight multiplies a constant"
            params.append(arg[param])  # type: ignore[arg-type]
            sources.append(source)
            products.append(term)
            claimed[term] = True
        if sources.count(-1) > 1:
            return "a neuron's sum has two bias terms"
        for add in adds:
            claimed[add] = True
        claimed[i] = True
        units.append(Unit(i, activation, params, sources, products))
    return units


def plan_dense(tape: Tape) -> list[BlockPlan] | str:
    """The tape as a stack of dense blocks (input block first), or why it is not one."""
    uses = tape.use_counts()
    param_uses = [count for count, kind in zip(uses, tape.kind) if kind == "param"]
    if param_uses.count(1) != len(param_uses):
        return "a parameter is used in more than one place"
    units = _units(tape, uses)
    if isinstance(units, str):
        return units
    groups: dict[tuple, list[Unit]] = {}
    for unit in units:
        groups.setdefault(unit.signature(), []).append(unit)
    blocks: list[BlockPlan] = []
    owner: dict[int, tuple[int, int]] = {}  # unit output position -> (block, column)
    for members in groups.values():
        members.sort(key=lambda u: min(u.params))
        sources = [source for source in members[0].sources if source >= 0]
        layout, j = [], 0
        for source in members[0].sources:
            layout.append(-1 if source < 0 else j)
            j += source >= 0
        for column, unit in enumerate(members):
            owner[unit.output] = (len(blocks), column)
        blocks.append(BlockPlan(members, sources, layout))
    roots = tape.outputs or [len(tape) - 1]
    if any(root not in owner for root in roots):
        if len(roots) == 1:
            return "the score is not a neuron's output"
        return "an output is not a neuron's output"
    root_block = owner[roots[0]][0]
    if [owner[root] for root in roots] != [(root_block, j) for j in range(len(roots))]:
        return "the outputs are not one layer's neurons, in order"
    for block in blocks:
        if all(tape.kind[s] == "input" for s in block.sources):
            continue
        producers = {owner[s][0] if s in owner else None for s in block.sources}
        if len(producers) != 1 or None in producers:
            return "a layer reads from more than one layer (or from inputs and a layer)"
        producer = producers.pop()
        outputs = [unit.output for unit in blocks[producer].units]  # type: ignore[index]
        if block.sources != outputs:
            return "a layer does not read all of the previous layer's outputs, in order"
        block.producer = producer
        # each output feeds one product in every neuron of this block (the product at the same
        # term in each), and nothing else: then it is used exactly width times
        width = len(block.units)
        mul_terms = [t for t, j in enumerate(block.layout) if j >= 0]
        products = np.array([unit.products for unit in block.units])[:, mul_terms]
        # per output, this block's neurons in the order backward() visits their products (it
        # visits nodes in reverse topological order)
        orders = np.argsort(-products, axis=0).T.tolist()
        for output, order in zip(outputs, orders):
            if uses[output] != width:
                return "a layer's output is used outside the next layer's products"
            if order != orders[0]:
                return "backward visits the next layer's neurons in different orders"
        if orders and orders[0] != list(range(width)):
            block.consumer_order = np.array(orders[0])
    # one chain from the input block to the outputs' block
    chain, index, seen = [], root_block, set()
    while index is not None and index not in seen:
        seen.add(index)
        chain.append(index)
        index = blocks[index].producer
    if index is not None or len(chain) != len(blocks) or len(blocks[chain[0]].units) != len(roots):
        return "the layers are not one stack ending in the model's outputs"
    renumber = {old: new for new, old in enumerate(reversed(chain))}
    ordered = [blocks[old] for old in reversed(chain)]
    for block in ordered:
        if block.producer is not None:
            block.producer = renumber[block.producer]
    return ordered


# ---- replaying the model over a batch ------------------------------------------------------------

NAMES = {None: "none", "ReLU": "relu", "tanh": "tanh", "sigmoid": "sigmoid"}


class DenseBlock:
    """One layer: ``width`` neurons over the same sources, as ``(width, batch)`` arrays."""

    def __init__(self, plan: BlockPlan, tape: Tape) -> None:
        self.width = len(plan.units)
        self.terms = len(plan.layout)
        self.activation = plan.units[0].activation
        self.param_index = np.array([unit.params for unit in plan.units], dtype=np.intp)
        self.producer = plan.producer
        self.consumer_order = plan.consumer_order
        self.sources = len(plan.sources)
        if plan.producer is None:  # rows of [1; x_0; x_1; ...]
            rows = [0 if j < 0 else 1 + int(tape.arg[plan.sources[j]]) for j in plan.layout]  # type: ignore[call-overload]
        else:  # rows of [1; the previous layer's outputs]
            rows = [0 if j < 0 else 1 + j for j in plan.layout]
        self.rows = np.array(rows, dtype=np.intp)
        self.rows_in_order = rows == list(range(self.terms))
        self.mul_terms = np.array([t for t, j in enumerate(plan.layout) if j >= 0], dtype=np.intp)
        self.bias_first = plan.layout[0] == -1
        self.slope_rows: slice | None = None  # where its slopes are in DenseState.slopes

    def describe(self) -> str:
        inputs = "inputs" if self.producer is None else "outputs of the layer below"
        bias = " + bias" if self.sources < self.terms else ""
        return (
            f"{self.width} neuron{'s' * (self.width != 1)} × ({self.sources} {inputs}{bias}), "
            f"{NAMES[self.activation]}"
        )


def _activate(
    activation: str | None, z: np.ndarray, out: np.ndarray, slope: np.ndarray, exact: bool
) -> None:
    """Write activation(z) into ``out`` and its local derivative into ``slope`` (no activation:
    nothing into ``slope``)."""
    if activation is None:
        out[...] = z
    elif activation == "ReLU":
        # relu: 0.0 if z <= 0.0 else z. maximum keeps NaN; + 0.0 turns a -0.0 into 0.0
        np.maximum(z, 0.0, out=out)
        out += 0.0
        np.greater(z, 0.0, out=slope)  # (True/False written as 1.0/0.0)
    else:
        unary = K.UNARY if exact else K.FAST_UNARY
        out[...], slope[...] = unary[activation](z)


class Scratch:
    """Work buffers kept from step to step, one per kind of temporary, shared by the layers.

    A step's big temporaries (every product of a layer, ~2.5 MB for the spiral's) would each be
    fresh pages from the OS, page-faulted in on every step -- and their shapes change from step
    to step with the samples that are left out (see :func:`_samples_that_add`). Each kind is a
    view of the start of one buffer that only ever grows, so the pages stay mapped and warm
    (the spiral's step went from 44 page faults to none). Only temporaries live here -- nothing
    a later call still reads -- and a lock keeps two threads from using them at once.
    """

    def __init__(self) -> None:
        self.buffers: dict[str, np.ndarray] = {}
        self.lock = threading.Lock()

    def view(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A C-contiguous array of ``shape`` at the start of buffer ``name``."""
        size = math.prod(shape)
        buffer = self.buffers.get(name)
        if buffer is None or len(buffer) < size:
            buffer = self.buffers[name] = np.empty(size)
        return buffer[:size].reshape(shape)


#: products from this many elements up go through einsum (below, its set-up costs more)
EINSUM_FROM = 8192


def _products_by_sample(G: np.ndarray, S: np.ndarray, scratch: Scratch) -> np.ndarray:
    """``C[s, k, j] = G[k, s] * S[j, s]``, C-contiguous, samples first (to be summed in order).

    Two layouts of the same products, whichever numpy runs faster for the shape: with few
    terms, multiply with the batch innermost and transpose; else einsum (on batch-major copies
    for a large one). (einsum writes ``0 + g*x``, turning a -0.0 product into 0.0; a gradient
    sum starts at 0.0, where that cannot change anything.)
    """
    width, terms, batch = len(G), len(S), G.shape[1]
    C = scratch.view("C", (batch, width, terms))
    if terms <= 4 or not K.EINSUM_PRODUCTS_EXACT:
        products = scratch.view("CF", (width, terms, batch))
        np.multiply(G[:, None, :], S[None, :, :], out=products)
        np.copyto(C, products.transpose(2, 0, 1))
        return C
    if C.size < 100_000:
        return np.einsum("ks,js->skj", G, S, out=C)
    return np.einsum("sk,sj->skj", G.T.copy(), S.T.copy(), out=C)


def _finite(x: np.ndarray) -> bool:
    """True if every element of ``x`` is finite, in one call: only then is their sum (a sum
    that overflows says False, which only costs the caller its shortcut)."""
    return math.isfinite(np.add.reduce(x, axis=None))


def _may_hold_negative_zero(x: np.ndarray) -> bool:
    """True if an element of ``x`` is -0.0, in one call: 1/x is then -inf (a negative number
    tiny enough for 1/x to overflow says True too, which only costs the caller its shortcut)."""
    return len(x) > 0 and np.minimum.reduce(1.0 / x, axis=None) == -math.inf


@dataclass
class DenseState:
    """What one forward pass leaves for the backward: every layer's inputs (the rows of
    ``[1; x]``, then of ``[1; outputs]`` of each layer), stacked in one array, and every
    activation's local derivative, stacked too -- so backward takes what it needs of a sample
    with one call each."""

    rows: np.ndarray  # (sum of the layers' input rows + the last layer's, batch)
    slopes: np.ndarray  # (sum of the activated layers' widths, batch)
    starts: list[int]  # block i reads rows[starts[i] : starts[i + 1]]
    weights: list[np.ndarray]  # per block, (width, terms) in each neuron's chain order
    theta: np.ndarray

    def layer(
        self,
        blocks: list[DenseBlock],
        i: int,
        rows: np.ndarray | None = None,
        slopes: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(S, W, slope) of block ``i``; ``rows``/``slopes``: these, e.g. some samples only."""
        rows = self.rows if rows is None else rows
        slopes = self.slopes if slopes is None else slopes
        block = blocks[i]
        S = rows[self.starts[i] : self.starts[i + 1]]
        if not block.rows_in_order:
            S = S[block.rows]
        slope = None if block.slope_rows is None else slopes[block.slope_rows]
        return S, self.weights[i], slope


#: the samples kept by :func:`_samples_that_add` come in multiples of this many
SAMPLES_IN_STEPS_OF = 16


def _samples_that_add(
    blocks: list[DenseBlock],
    state: DenseState,
    dscores: np.ndarray,
    order: np.ndarray | None,
    grads: np.ndarray,
) -> np.ndarray | None:
    """The samples whose loss gradient is not exactly 0, in the order backward() visits them
    (padded with others, see below); None when every sample counts or leaving any out could
    change a bit.

    A sample whose score gradients are all 0 (a hinge already satisfied) sends 0 * finite = ±0
    down every path, so it adds ±0 to every sum -- and a sum that starts at +0.0 (every
    gradient's does) is unchanged by adding ±0. That holds only when every weight and every
    activation is finite (0 * inf is NaN) and no starting value is -0.0 (-0.0 + 0.0 is +0.0).
    """
    adds = dscores != 0.0 if dscores.ndim == 1 else np.any(dscores != 0.0, axis=1)
    count = int(np.count_nonzero(adds))
    if count > 0.8 * len(adds):  # too few to leave out to pay for the checks
        return None
    if not (_finite(dscores) and _finite(grads) and _finite(state.theta)):
        return None
    if _may_hold_negative_zero(grads):  # a -0.0 start: -0.0 + 0.0 would be +0.0
        return None
    # every layer's inputs and outputs; and the slopes (a relu's is 0.0 or 1.0; tanh's or
    # sigmoid's is NaN where its input was)
    if not (_finite(state.rows) and _finite(state.slopes)):
        return None
    visit = np.arange(len(adds)) if order is None else order
    adding = adds[visit]
    kept = visit[adding]
    # and a few that add ±0 like those left out, to a multiple of 16 samples: the einsum sums are
    # checked once per shape (K.SequentialContraction), so only so many shapes should come up
    short = -len(kept) % SAMPLES_IN_STEPS_OF
    return np.concatenate([kept, visit[~adding][:short]]) if short else kept


class DenseProgram:
    """A stack of dense blocks; exact: sums in the engine's order, else matrix multiplies."""

    kind = "dense"

    def __init__(self, plans: list[BlockPlan], tape: Tape, *, exact: bool) -> None:
        self.blocks = [DenseBlock(plan, tape) for plan in plans]
        self.outputs = len(tape.outputs) or 1  # 1: scores (batch,); k: outputs (batch, k)
        self.exact = exact
        self.nodes_per_sample = tape.op_count
        self.scratch = Scratch()
        # every bias that is a neuron's first term (where einsum may make the products)
        self.first_biases = np.concatenate(
            [b.param_index[:, 0] for b in self.blocks if b.bias_first] + [np.zeros(0, np.intp)]
        )
        self.slope_count = 0
        for block in self.blocks:
            if block.activation is not None:
                block.slope_rows = slice(self.slope_count, self.slope_count + block.width)
                self.slope_count += block.width
        self._one_rows: dict[int, np.ndarray] = {}  # per number of features

    def numpy_calls(self) -> int:
        calls = 8  # the stacked rows and slopes, the biases' check, the samples that add
        for block in self.blocks:
            act = {None: 1, "ReLU": 4, "tanh": 5, "sigmoid": 9}[block.activation]
            forward = 5 + act  # gather W, (rows), products, sum, buffer
            backward = 5 + (2 if block.activation else 0)  # G, products, sum, scatter
            if block.producer is not None:
                backward += 3 + (block.consumer_order is not None)
            calls += forward + backward
        return calls

    def forward(self, X: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, DenseState]:
        batch, features = X.shape
        starts = [0, features + 1]
        for block in self.blocks:
            starts.append(starts[-1] + block.width + 1)
        rows = np.empty((starts[-1], batch))
        ones = self._one_rows.get(features)
        if ones is None:
            ones = self._one_rows[features] = np.array(starts[:-1], dtype=np.intp)
        rows[ones] = 1.0  # the row that multiplies each layer's biases
        rows[1 : features + 1] = X.T
        slopes = np.empty((self.slope_count, batch))
        # einsum starts a sum at 0.0 and writes a -0.0 product as 0.0. After a bias that is not
        # -0.0 no partial sum is -0.0 (x + -x is +0.0), so no sum can tell the two apart; a
        # chain that starts at a -0.0 bias can.
        einsum = self.exact and not _may_hold_negative_zero(theta[self.first_biases])
        weights = []
        with self.scratch.lock:
            for i, block in enumerate(self.blocks):
                S = rows[starts[i] : starts[i + 1]]
                if not block.rows_in_order:
                    S = S[block.rows]
                W = theta[block.param_index]
                Z = self._chain_sums(block, S, W, einsum) if self.exact else W @ S
                out = rows[starts[i + 1] + 1 : starts[i + 2]]
                slope = None if block.slope_rows is None else slopes[block.slope_rows]
                _activate(block.activation, Z, out, slope, self.exact)  # type: ignore[arg-type]
                weights.append(W)
        state = DenseState(rows, slopes, starts, weights, theta)
        last = rows[starts[-2] + 1 :]
        if self.outputs == 1:
            return last[0].copy(), state
        return last.T.copy(), state

    def _chain_sums(
        self, block: DenseBlock, S: np.ndarray, W: np.ndarray, einsum: bool
    ) -> np.ndarray:
        """Each neuron's ``b + w0*x0 + w1*x1 + ...`` for every sample: one einsum where numpy
        sums it in order (:data:`K.CHAIN_SUMS`), else every product, then the chain summed."""
        if einsum and block.bias_first:  # 0.0 + b*1.0 + w0*x0 + ...: the engine's chain
            Z = K.CHAIN_SUMS(W, S)
            if Z is not None:
                return Z
        P = self.scratch.view("P", (block.terms, block.width, S.shape[1]))
        if einsum and K.EINSUM_PRODUCTS_EXACT and block.bias_first and P.size >= EINSUM_FROM:
            np.copyto(P[0], W[:, :1])
            np.einsum("kj,js->jks", W[:, 1:], S[1:], out=P[1:])
        else:
            np.multiply(W.T[:, :, None], S[:, None, :], out=P)
        return K.sum_rows(P)

    def backward(
        self,
        state: list,
        dscores: np.ndarray,
        order: np.ndarray | None,
        grads: np.ndarray,
        output_order: np.ndarray | None = None,
    ) -> None:
        """Add each parameter's contributions to ``grads`` (its start), samples in ``order``.

        ``dscores``: (batch,) for one output, (batch, k) for k. ``output_order`` (batch, k):
        per sample, the order backward() visits the k output neurons (it depends on the loss
        above them, e.g. on the sample's class); None: the order the trace showed.
        """
        kept = _samples_that_add(self.blocks, state, dscores, order, grads)
        visit = order if kept is None else kept  # (the others add only zeros to every sum)
        rows, slopes = state.rows, state.slopes
        if visit is not None:  # every per-sample array in the order backward() adds them
            rows, slopes = rows[:, visit], slopes[:, visit]
            dscores = dscores[visit]
            output_order = None if output_order is None else output_order[visit]
        d_out = dscores[None, :] if dscores.ndim == 1 else np.ascontiguousarray(dscores.T)
        last = len(self.blocks) - 1
        # every gradient sum starts at +0.0 unless the penalty came first; looked at once: each
        # parameter sits in one block, so a block's sums start where no other block wrote
        from_zero = not grads.any() and not np.signbit(grads).any()
        with self.scratch.lock:
            for i in range(last, -1, -1):
                block = self.blocks[i]
                S, W, slope = state.layer(self.blocks, i, rows, slopes)
                # grad of each neuron's sum: 0.0 + local * grad of its output
                G = d_out if slope is None else 0.0 + slope * d_out
                index = block.param_index
                if self.exact:
                    start = None if from_zero else grads[index]
                    grads[index] = self._parameter_sums(block, G, S, start)
                else:
                    grads[index] = grads[index] + G @ S.T
                if block.producer is None:
                    break
                Wm = W[:, block.mul_terms]
                if self.exact:
                    d_out = self._input_sums(block, Wm, G, output_order if i == last else None)
                else:
                    d_out = Wm.T @ G

    def _parameter_sums(
        self, block: DenseBlock, G: np.ndarray, S: np.ndarray, start: np.ndarray | None
    ) -> np.ndarray:
        """Per weight, ``start`` (None: +0.0) + sample 0's x*g + sample 1's + ... (1.0*g for
        the bias)."""
        if G.shape[1] == 0:
            return np.zeros(block.param_index.shape) if start is None else start
        if start is None:  # every sum starts at 0.0, as einsum's do
            if len(S) < len(G):
                sums = K.PARAMETER_SUMS_BY_TERM(G.T, S.T)
                sums = None if sums is None else sums.T
            else:
                sums = K.PARAMETER_SUMS(G.T, S.T)
            if sums is not None:
                return sums
        return K.sum_rows(
            _products_by_sample(G, S, self.scratch), start=0.0 if start is None else start
        )

    def _input_sums(
        self,
        block: DenseBlock,
        Wm: np.ndarray,
        G: np.ndarray,
        output_order: np.ndarray | None,
    ) -> np.ndarray:
        """Per sample, each input's grad ``0.0 + w*g + ...`` over this layer's neurons, in the
        order backward() visits them (``output_order``: per sample, for the outputs' layer)."""
        if output_order is None and block.consumer_order is not None:
            Wm, G = Wm[block.consumer_order], G[block.consumer_order]
        if output_order is None:  # every sample adds the neurons in the same order
            sums = K.INPUT_SUMS(Wm, G)
            if sums is not None:
                return sums
        width, sources, batch = block.width, block.sources, G.shape[1]
        D = self.scratch.view("D", (width, sources, batch))
        if D.size >= EINSUM_FROM and K.EINSUM_PRODUCTS_EXACT:  # (sums from 0.0: there a zero's
            # sign cannot matter)
            np.einsum("ki,ks->kis", Wm, G, out=D)
        else:
            np.multiply(Wm[:, :, None], G[:, None, :], out=D)
        if output_order is not None:  # sample s adds its outputs' terms in output_order[s]
            pick = (
                output_order.T[:, None, :],
                np.arange(sources)[None, :, None],
                np.arange(batch)[None, None, :],
            )
            D = D[pick]
        return K.sum_rows(D, start=0.0)

    def describe(self) -> list[str]:
        return [f"layer {i + 1}: {b.describe()}" for i, b in enumerate(self.blocks)]


class GenericModelProgram:
    """Any model the tape can express, replayed node by node (exact, more numpy calls)."""

    kind = "nodes"

    def __init__(self, tape: Tape, reason: str, *, exact: bool) -> None:
        self.program = NodeProgram(tape, exact=exact)
        self.reason = reason
        self.nodes_per_sample = tape.op_count

    def numpy_calls(self) -> int:
        return self.program.numpy_calls + 2 * len(self.program.params)

    def forward(self, X: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, object]:
        columns = {k: np.ascontiguousarray(X[:, k]) for k in self.program.inputs}
        replay = self.program.forward(columns, theta)
        return broadcast(replay.value[-1], len(X)).copy(), replay

    def backward(
        self, state: object, dscores: np.ndarray, order: np.ndarray | None, grads: np.ndarray
    ) -> None:
        batch = len(dscores)
        _, to_param = self.program.backward(state, dscores)  # type: ignore[arg-type]
        for index, contributions in to_param.items():
            # per sample its contributions in backward's order; samples in ``order``
            stack = np.column_stack([broadcast(c, batch) for c in contributions])
            if order is not None:
                stack = stack[order]
            if stack.size:
                grads[index] = K.sum_sequence(stack.ravel(), start=float(grads[index]))

    def describe(self) -> list[str]:
        return [
            f"no dense layers recognised ({self.reason}): "
            f"{self.nodes_per_sample} ops replayed one by one"
        ]


def build_model_program(tape: Tape, *, exact: bool) -> DenseProgram | GenericModelProgram:
    plans = plan_dense(tape)
    if isinstance(plans, str):
        if len(tape.outputs) > 1:
            raise CompileError(
                f"a model with {len(tape.outputs)} outputs compiles only as a stack of dense "
                f"layers, and this one is not ({plans})"
            )
        return GenericModelProgram(tape, plans, exact=exact)
    return DenseProgram(plans, tape, exact=exact)


# ---- noticing that the model changed -------------------------------------------------------


def _snapshot(obj: object, seen: set[int], budget: list[int]) -> object:
    """What a custom module's forward could depend on: its attributes, all the way down."""
    budget[0] -= 1
    if budget[0] < 0:
        raise CompileError("the model is too large to watch for changes")
    if obj is None or isinstance(obj, (bool, int, float, str, bytes)):
        return obj
    if isinstance(obj, Value):
        return ("Value", id(obj))
    if id(obj) in seen:
        return ("seen", id(obj))
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return ("array", obj.shape, obj.dtype.str, obj.tobytes())
    if isinstance(obj, (list, tuple)):
        return (type(obj), tuple(_snapshot(x, seen, budget) for x in obj))
    if isinstance(obj, dict):
        return (dict, tuple((k, _snapshot(v, seen, budget)) for k, v in obj.items()))
    if (hasattr(obj, "__dict__") and not callable(obj)) or isinstance(obj, nn.Module):
        return (type(obj), id(obj), _snapshot(vars(obj), seen, budget))
    return (type(obj), id(obj))


_ATTRIBUTES = operator.attrgetter("__dict__")


def _copied(attributes: dict) -> dict:
    """A module's attributes, with lists copied (so a replaced element shows up)."""
    return {k: list(v) if isinstance(v, list) else v for k, v in attributes.items()}


class ModelWatch:
    """Notices when anything a traced forward pass depends on changes, cheaply, before a step.

    For a library model: every module's attributes -- layers, activations, parameter objects
    -- compared in one C-level pass (dict and list ``==`` check identity first); for a custom
    module: every attribute it holds, all the way down (slower, and blind to global state its
    forward may read).
    """

    def __init__(self, model: object) -> None:
        self.model = model
        self.library = library_modules(model)
        if self.library:
            self.calls = [cls.__call__ for cls in _PURE_CALLS]
            self.modules: list[object] = []
            stack = [model]
            while stack:
                module = stack.pop()
                self.modules.append(module)
                if type(module) is not nn.Neuron:
                    stack.extend(module.layers if type(module) is nn.MLP else module.neurons)  # type: ignore[attr-defined]
            self.attributes = [_copied(vars(module)) for module in self.modules]
        else:
            self.snapshot = _snapshot(model, set(), [100_000])

    def unchanged(self, model: object) -> bool:
        if model is not self.model:
            return False
        if not self.library:
            return _snapshot(model, set(), [100_000]) == self.snapshot
        if nn._check_inputs is not _PURE_HELPERS[0]:
            return False
        if [cls.__call__ for cls in _PURE_CALLS] != self.calls:
            return False
        for name, function in _PURE_ACTIVATIONS.items():
            if nn.ACTIVATIONS.get(name, (None,))[0] is not function:
                return False
        return list(map(_ATTRIBUTES, self.modules)) == self.attributes
