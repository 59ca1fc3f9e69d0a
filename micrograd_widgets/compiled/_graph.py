"""A traced graph as a flat tape, and a node-by-node replay of a tape over arrays.

A :class:`Tape` lists a graph's nodes in the engine's own topological order (the iterative DFS of
``Value.topological_order``), so walking it backwards visits nodes exactly as ``backward()``
does. Each entry says what the node is: an input slot (one value per sample, or per parameter),
a parameter, a constant, a label-dependent constant, a cut (a node whose value comes from
elsewhere, e.g. a fold over samples), or an engine op and the positions of its inputs.

:class:`NodeProgram` replays a tape for many samples at once: node by node, each node a few numpy
calls over a whole array. Backward walks the tape in reverse, accumulating each node's grad as
``0.0 + c1 + c2 + ...`` in the order the engine adds the contributions ``local * out_grad``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from ..engine import Value, _power, _power_slope
from . import _kernels as K
from ._trace import CompileError, TracedValue, data_of

__all__ = ["NodeProgram", "Tape", "linearize", "same_float"]

UNARY_OPS = frozenset(K.UNARY)
_ONE = K.ONE
BINARY_OPS = frozenset(K.BINARY)


def same_float(x: float, y: float) -> bool:
    """Bit-for-bit equality (so -0.0 differs from 0.0 and NaN equals a NaN with the same bits)."""
    return struct.pack("<d", x) == struct.pack("<d", y)


@dataclass
class Tape:
    """A graph in the engine's topological order.

    ``kind[i]`` is "input" (``arg`` = slot), "param" (``arg`` = index into the parameter list),
    "const" (``arg`` = value), "label" (``arg`` = (value for label +1, value for label -1)),
    "cut" (``arg`` = whatever the caller attached) or "op" (``op[i]`` names the engine op,
    ``a[i]``/``b[i]`` are input positions or -1, ``arg`` = the exponent of a power).
    """

    kind: list[str] = field(default_factory=list)
    op: list[str] = field(default_factory=list)
    a: list[int] = field(default_factory=list)
    b: list[int] = field(default_factory=list)
    arg: list[object] = field(default_factory=list)
    nodes: list[Value] = field(default_factory=list)  # the traced Values, during analysis only
    outputs: list[int] = field(default_factory=list)  # positions of the roots, in their order

    def __len__(self) -> int:
        return len(self.kind)

    def copy(self) -> Tape:
        """The same tape, without the traced nodes."""
        return Tape(list(self.kind), list(self.op), list(self.a), list(self.b), list(self.arg))

    @property
    def op_count(self) -> int:
        return self.kind.count("op")

    def use_counts(self) -> list[int]:
        """How many times each position is an op's input (counted with numpy: a tape can have
        thousands of nodes)."""
        inputs = np.fromiter(chain(self.a, self.b), np.intp, 2 * len(self))
        return np.bincount(inputs + 1, minlength=len(self) + 1)[1:].tolist()  # (-1: no input)

    def signature(self, position: int) -> tuple:
        """What must agree between two traces at ``position`` (constants compared bitwise)."""
        kind, arg = self.kind[position], self.arg[position]
        if kind == "const":
            arg = struct.pack("<d", arg)  # type: ignore[arg-type]
        elif kind == "label":
            arg = tuple(struct.pack("<d", v) for v in arg)  # type: ignore[union-attr]
        return (kind, self.op[position], self.a[position], self.b[position], arg)

    def first_difference(self, other: Tape) -> int | None:
        """The first position where the two tapes differ (None if they are the same)."""
        for i in range(min(len(self), len(other))):
            if self.signature(i) != other.signature(i):
                return i
        return None if len(self) == len(other) else min(len(self), len(other))

    def describe(self, position: int) -> str:
        kind = self.kind[position]
        if kind == "op":
            return f"op {self.op[position]!r}"
        return f"{kind} {self.arg[position]!r}"


def _exponent(node: Value) -> float:
    """The exponent of a ``**`` node, recovered from its name and checked against its numbers."""
    text = node._op[2:]
    try:
        exponent = float(text)
    except ValueError:
        raise CompileError(f"cannot read the exponent of op {node._op!r}") from None
    base = data_of(node._a)  # type: ignore[arg-type]
    if not (
        same_float(_power(base, exponent), data_of(node))
        and same_float(_power_slope(base, exponent), node._da)
    ):
        raise CompileError(f"op {node._op!r} does not match x ** {exponent!r} (exponent type?)")
    return exponent


def _op_entry(node: Value, traced: bool) -> tuple[str, object]:
    """(op, exponent or None) of an op node for the tape, or CompileError if it cannot hold it."""
    op = node._op
    if traced and type(node) is not TracedValue:
        raise CompileError(
            f"the graph holds a node (op {op!r}) that no engine op made during the trace: "
            "a Value built with Value(data, children, ...) or computed before the call"
        )
    exponent: object = None
    if op in BINARY_OPS or op in UNARY_OPS:
        pass
    elif op.startswith("**"):
        exponent = _exponent(node)
        op = "**"
    else:
        raise CompileError(f"the compiler does not know the op {op!r}")
    if (node._b is None) != (op in UNARY_OPS or op == "**"):
        raise CompileError(f"op {op!r} has the wrong number of inputs")
    return op, exponent


#: a known op's name -> whether it takes one input (a power "**n" is not here: its exponent
#: must be read off its name)
_ONE_INPUT = {op: False for op in BINARY_OPS} | {op: True for op in UNARY_OPS}


def linearize(
    root: Value | list[Value],
    *,
    params: dict[Value, int] | None = None,
    inputs: dict[Value, int] | None = None,
    cuts: dict[Value, tuple[str, object]] | None = None,
    traced: bool = True,
) -> Tape:
    """The tape of ``root``'s graph, in exactly the order ``root.topological_order()`` gives.

    ``root`` may be a list of roots (a model's k outputs): their graphs are walked one after the
    other, as the engine's DFS walks them from a node above that reaches them in this order.

    Leaves found in ``params`` / ``inputs`` become "param" / "input" nodes, other leaves
    constants. Nodes in ``cuts`` become leaves of the given kind and are not expanded: when such
    a node's subgraph shares only leaves with the rest (checked by the callers), every other
    node keeps its relative order. With ``traced``, every op node must be a :class:`TracedValue`,
    i.e. made by an engine op during the recording.

    One pass: the same iterative DFS as the engine's (a leaf appended as soon as it is reached,
    as the engine's appends it next), writing each node's inputs and op when it is appended (its
    inputs are appended before it, so their positions are known). A trace has thousands of
    nodes, so the loop does only that; the leaves' entries and any op node that is not a plain
    known op (a power, or one to refuse) are filled in after it.
    """
    params = params or {}
    inputs = inputs or {}
    cuts = cuts or {}
    nodes: list[Value] = []
    a_: list[int] = []
    b_: list[int] = []
    op_: list[str] = []
    leaves: list[int] = []  # positions of the leaves (cuts included)
    unusual: list[int] = []  # positions of op nodes to look at closer
    position: dict[Value, int] = {}  # -1 while a node's inputs are being walked
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    stack: list[Value | None] = roots[::-1]  # the first root on top: walked first
    pop, push = stack.pop, stack.append
    append_node, append_a, append_b, append_op = nodes.append, a_.append, b_.append, op_.append
    one_input = _ONE_INPUT
    n = 0
    while stack:
        node = pop()
        if node is not None:
            if node in position:  # reached again through another parent: already handled
                continue
            a = node._a
            if a is None or (cuts and node in cuts):
                # a leaf: nothing to walk, so the engine's DFS appends it next; append it now
                position[node] = n
                append_node(node)
                leaves.append(n)
                append_a(-1)
                append_b(-1)
                append_op("")
                n += 1
                continue
            position[node] = -1
            push(node)
            push(None)
            if a not in position:
                push(a)
            b = node._b
            if b is not None and b not in position:
                push(b)
            continue
        node = pop()  # an op node, all of its inputs on the tape: append it
        position[node] = n  # type: ignore[index]
        append_node(node)  # type: ignore[arg-type]
        a = node._a  # type: ignore[union-attr]
        b = node._b  # type: ignore[union-attr]
        op = node._op  # type: ignore[union-attr]
        if one_input.get(op) is not (b is None) or (traced and type(node) is not TracedValue):
            unusual.append(n)
        append_a(position[a])
        append_b(-1 if b is None else position[b])
        append_op(op)
        n += 1
    kind = ["op"] * n
    arg: list[object] = [None] * n
    for i in leaves:
        node = nodes[i]
        cut = cuts.get(node) if cuts else None
        if cut is not None:
            kind[i], arg[i] = cut
        elif node in params:
            kind[i], arg[i] = "param", params[node]
        elif node in inputs:
            kind[i], arg[i] = "input", inputs[node]
        else:
            kind[i], arg[i] = "const", data_of(node)
    # in tape order, so the first node the tape cannot hold raises, as it is the first appended
    for i in unusual:
        op_[i], arg[i] = _op_entry(nodes[i], traced)
    tape = Tape(kind, op_, a_, b_, arg, nodes)
    tape.outputs = [position[r] for r in roots]
    return tape


# ---- replay over arrays --------------------------------------------------------------------------


def _engine_op(op: str, a: float, b: float | None, exponent: object) -> tuple[float, float, float]:
    """An op on constants, computed by the engine itself (forward value, local derivatives)."""
    x = Value(a)
    if op in BINARY_OPS:
        out = {"+": Value.__add__, "*": Value.__mul__, "-": Value.__sub__, "/": Value.__truediv__}[
            op
        ](x, Value(b))  # type: ignore[arg-type]
    elif op == "**":
        out = x**exponent  # type: ignore[operator]
    elif op == "neg":
        out = -x
    else:
        out = getattr(x, {"ReLU": "relu"}.get(op, op))()
    return out.data, out._da, out._db


@dataclass
class Replay:
    """One forward pass of a :class:`NodeProgram`: every node's value and local derivatives."""

    value: list[object]
    local_a: list[object]
    local_b: list[object]


#: where a backward edge sends its contribution: an op's grad, an input slot, a parameter
_TO_OP, _TO_INPUT, _TO_PARAM = 0, 1, 2


class NodeProgram:
    """Replay a tape node by node over arrays: one numpy call or a few per node.

    Input slots take arrays (one value per sample, or per parameter); "param" nodes read
    ``theta`` (a parameter vector) and yield a scalar for every sample, as one Value shared by
    all samples' graphs does; "label" nodes pick their value per sample from the labels.
    """

    def __init__(self, tape: Tape, *, exact: bool = True) -> None:
        for kind in set(tape.kind):
            if kind not in ("input", "param", "const", "label", "op"):
                raise CompileError(f"a node program cannot replay {kind!r} nodes")
        self.tape = tape
        self.unary = K.UNARY if exact else K.FAST_UNARY
        self.n = len(tape)
        self.inputs = sorted({int(arg) for k, arg in zip(tape.kind, tape.arg) if k == "input"})  # type: ignore[call-overload]
        self.params = sorted({int(arg) for k, arg in zip(tape.kind, tape.arg) if k == "param"})  # type: ignore[call-overload]
        # positions whose value is the same for every sample (no input or label below them)
        varying = [False] * self.n
        for i, kind in enumerate(tape.kind):
            if kind in ("input", "label"):
                varying[i] = True
            elif kind == "op":
                varying[i] = varying[tape.a[i]] or (tape.b[i] >= 0 and varying[tape.b[i]])
        self.varying = varying
        # the replay's instructions, worked out once (a step then only runs them)
        self._leaves = [(i, kind, tape.arg[i]) for i, kind in enumerate(tape.kind) if kind != "op"]
        self._ops = [
            (i, tape.op[i], tape.a[i], tape.b[i], tape.arg[i], varying[i])
            for i, kind in enumerate(tape.kind)
            if kind == "op"
        ]
        # backward: per op node (last first), the children that take a gradient: (position,
        # where it goes (_TO_OP, _TO_INPUT, _TO_PARAM), slot or index, local a (0) or b (1))
        self._edges = []
        for i in range(self.n - 1, -1, -1):
            if tape.kind[i] != "op":
                continue
            edges = []
            for child, side in ((tape.a[i], 0), (tape.b[i], 1)):
                if child < 0 or tape.kind[child] in ("const", "label"):
                    continue
                target = {"op": _TO_OP, "input": _TO_INPUT}.get(tape.kind[child], _TO_PARAM)
                edges.append((child, target, tape.arg[child], side))
            self._edges.append((i, tuple(edges)))

    @property
    def numpy_calls(self) -> int:
        """About how many numpy calls one forward plus backward pass makes."""
        calls = 0
        for i, kind in enumerate(self.tape.kind):
            if kind == "op" and self.varying[i]:
                op = self.tape.op[i]
                calls += {"ReLU": 4, "sigmoid": 8, "tanh": 4, "exp": 2, "log": 4, "/": 4}.get(op, 1)
                calls += 2 if self.tape.b[i] >= 0 else 1  # backward: local * grad, accumulate
            elif kind == "label":
                calls += 1
        return calls

    def forward(
        self,
        inputs: dict[int, np.ndarray],
        theta: np.ndarray | None = None,
        label_positive: np.ndarray | None = None,
    ) -> Replay:
        unary, binary = self.unary, K.BINARY
        value: list[object] = [None] * self.n
        local_a: list[object] = [None] * self.n
        local_b: list[object] = [None] * self.n
        # leaves first: no op reads a later position, so this is the tape's order for the ops
        for i, kind, arg in self._leaves:
            if kind == "input":
                value[i] = inputs[arg]  # type: ignore[index]
            elif kind == "param":
                value[i] = float(theta[arg])  # type: ignore[index, call-overload]
            elif kind == "const":
                value[i] = arg
            else:  # label: the value the constant took for label +1, or for label -1
                positive, negative = arg  # type: ignore[misc]
                value[i] = np.where(label_positive, positive, negative)  # type: ignore[arg-type]
        for i, op, a_, b_, arg, varying in self._ops:
            a = value[a_]
            b = value[b_] if b_ >= 0 else None
            if not varying:  # constants only: let the engine compute it
                value[i], local_a[i], local_b[i] = _engine_op(op, a, b, arg)  # type: ignore[arg-type]
            elif op == "**":
                value[i], local_a[i] = K.power(a, arg)  # type: ignore[arg-type]
            elif b is None:
                value[i], local_a[i] = unary[op](a)
            else:
                value[i], local_a[i], local_b[i] = binary[op](a, b)
        return Replay(value, local_a, local_b)

    def backward(
        self, replay: Replay, root_grad: object
    ) -> tuple[dict[int, list[object]], dict[int, list[object]]]:
        """Contributions ``local * out_grad`` to each input slot and each parameter, in the order
        ``backward()`` adds them (per sample)."""
        grad: list[object] = [None] * self.n
        grad[self.n - 1] = root_grad
        to_input: dict[int, list[object]] = {slot: [] for slot in self.inputs}
        to_param: dict[int, list[object]] = {index: [] for index in self.params}
        locals_ = (replay.local_a, replay.local_b)
        for i, edges in self._edges:
            g = grad[i]
            for child, target, arg, side in edges:
                local = locals_[side][i]
                # local * out_grad; 1.0 * g is g itself, bit for bit (NaN too)
                contribution = g if local is _ONE else local * g  # type: ignore[operator]
                if target == _TO_OP:
                    previous = grad[child]
                    # every grad starts at 0.0, as _start_backward sets it (0.0 + -0.0 == 0.0)
                    grad[child] = (0.0 if previous is None else previous) + contribution
                elif target == _TO_INPUT:
                    to_input[arg].append(contribution)  # type: ignore[index]
                else:
                    to_param[arg].append(contribution)  # type: ignore[index]
        return to_input, to_param


def broadcast(value: object, size: int) -> np.ndarray:
    """A per-sample array from a value that may be the same for every sample (a scalar)."""
    if isinstance(value, np.ndarray) and value.shape == (size,):
        return value
    return np.full(size, float(value))  # type: ignore[arg-type]
