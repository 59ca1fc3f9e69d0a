"""A scalar-valued autograd engine, in the style of karpathy/micrograd.

Every operation creates a new :class:`Value` holding two things, side by side:

* its **forward value** (``data``), and
* its **local derivatives**: d(out)/d(child) for each of its (at most two) children.

``backward()`` then applies the chain rule, ``child.grad += local * out.grad``, to every node in
reverse topological order.

Two design choices keep this fast and safe without making it obscure:

* **No reference cycles.** micrograd stores a ``_backward`` closure that refers back to its own
  output node, so every graph is a reference cycle that only CPython's cyclic garbage collector
  can free. Here the local derivatives are plain numbers, so a graph is freed by reference
  counting the moment the last reference to it goes.
* **One object per node.** The (at most two) children and their local derivatives live in slots
  (``_a``/``_da``, ``_b``/``_db``) rather than in tuples; ``_prev`` and ``_local_grads`` are
  read-only views built on demand. Fewer container objects means less work for the cyclic
  garbage collector, which still scans every live Value now and then.

Nothing here recurses, so a graph may be as deep as memory allows.

Even so, CPython's cyclic collector re-scans every *live* Value each time it runs a full
collection, which can double the time of a big training step. :func:`gc_paused` is an opt-in,
scoped way to skip that work around a training loop.
"""

from __future__ import annotations

import gc
import math
import numbers
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import ClassVar

__all__ = ["ChainRuleTerm", "Value", "derivative_text", "gc_paused"]

Number = int | float


def _as_float(data: object) -> float:
    """Accept any real number (Python or numpy scalar, 0-d numpy array); reject the rest."""
    if isinstance(data, numbers.Real):
        return float(data)
    dtype_kind = getattr(getattr(data, "dtype", None), "kind", None)
    if getattr(data, "shape", None) == () and dtype_kind in ("b", "i", "u", "f"):
        return float(data)  # a 0-d numpy array of a real dtype
    raise TypeError(
        f"Value data must be a real number (int, float or numpy scalar), "
        f"got {type(data).__name__}: {data!r:.60}"
    )


def _exp(x: float) -> float:
    """math.exp, but +inf on overflow (as IEEE and PyTorch do) instead of OverflowError."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _power(base: float, exponent: float) -> float:
    """``base ** exponent`` for a forward value, with a clear error where no real result exists."""
    if base < 0.0 and not exponent.is_integer():
        raise ValueError(
            f"cannot raise a negative number ({base!r}) to the non-integer power {exponent!r}: "
            "the result is not a real number"
        )
    if base == 0.0 and exponent < 0.0:
        raise ZeroDivisionError(
            f"0.0 ** {exponent!r} is a division by zero; expected a non-zero base"
        )
    try:
        return base**exponent
    except OverflowError:
        return -math.inf if base < 0.0 and exponent % 2.0 == 1.0 else math.inf


def _power_slope(base: float, exponent: float) -> float:
    """d/dx x**n = n·x**(n-1), with PyTorch's answers at the edges (inf at 0 for 0 < n < 1)."""
    if exponent == 0.0:
        return 0.0
    if base == 0.0 and exponent < 1.0:
        return math.inf if exponent > 0.0 else math.nan  # e.g. sqrt'(0) = inf
    try:
        return exponent * base ** (exponent - 1.0)
    except OverflowError:
        odd_negative = base < 0.0 and (exponent - 1.0) % 2.0 == 1.0  # base**(n-1) is negative
        return math.copysign(math.inf, -exponent if odd_negative else exponent)


class ChainRuleTerm:
    """One application of the chain rule along the edge ``out -> child``.

    ``child.grad += local_grad * out_grad``; ``contribution`` is the product that was added.
    """

    __slots__ = ("child", "contribution", "grad_after", "grad_before", "local_grad", "out_grad")

    def __init__(
        self, child: Value, local_grad: float, out_grad: float, grad_before: float
    ) -> None:
        self.child = child
        self.local_grad = local_grad
        self.out_grad = out_grad
        self.grad_before = grad_before
        self.contribution = local_grad * out_grad
        self.grad_after = grad_before + self.contribution

    def __repr__(self) -> str:
        name = self.child.label or "child"
        return (
            f"{name}.grad += {self.local_grad!r} × {self.out_grad!r} "
            f"= {self.grad_before!r} + {self.contribution!r} = {self.grad_after!r}"
        )


class Value:
    """A scalar that remembers how it was computed, so gradients can flow back through it.

    >>> from micrograd_widgets import Value
    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
    >>> L = a * b + a
    >>> L.backward()
    >>> a.grad, b.grad
    (-2.0, 2.0)
    """

    __slots__ = ("__weakref__", "_a", "_b", "_da", "_db", "_op", "data", "grad", "label")
    # numpy scalars on the left (np.float64(2) * v) must defer to our reflected operators
    # instead of building an object array.
    __array_ufunc__ = None

    def __init__(
        self,
        data: Number,
        _children: tuple[Value, ...] = (),
        _op: str = "",
        label: str = "",
        _local_grads: tuple[float, ...] = (),
    ) -> None:
        self.data = data if data.__class__ is float else _as_float(data)
        self.grad = 0.0
        self.label = label if label.__class__ is str else str(label)
        self._op = _op  # the op that made this node ("+", "*", "tanh", ...); "" for a leaf
        if len(_children) > 2 or len(_local_grads) != len(_children):
            raise ValueError(
                "a Value has at most two children, each with one local derivative; got "
                f"{len(_children)} children and {len(_local_grads)} local derivatives"
            )
        # children and d(self)/d(child), as in _node() below
        self._a, self._da = (_children[0], float(_local_grads[0])) if _children else (None, 0.0)
        self._b, self._db = (
            (_children[1], float(_local_grads[1])) if len(_children) == 2 else (None, 0.0)
        )

    @property
    def _prev(self) -> tuple[Value, ...]:
        """The inputs of the op that made this node, in order (``()`` for a leaf)."""
        if self._a is None:
            return ()
        return (self._a,) if self._b is None else (self._a, self._b)

    @property
    def _local_grads(self) -> tuple[float, ...]:
        """d(self)/d(child) for each child in ``_prev``, in the same order."""
        if self._a is None:
            return ()
        return (self._da,) if self._b is None else (self._da, self._db)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # ---- arithmetic: forward value, then the local derivative w.r.t. each input -------------
    # _node(op, forward value, child a, d(out)/da, child b, d(out)/db)

    def __add__(self, other: Number | Value) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        # d(a+b)/da = 1,  d(a+b)/db = 1
        return _node("+", self.data + other.data, self, 1.0, other, 1.0)

    def __mul__(self, other: Number | Value) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        # d(a·b)/da = b,  d(a·b)/db = a
        return _node("*", self.data * other.data, self, other.data, other, self.data)

    def __sub__(self, other: Number | Value) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        # d(a-b)/da = 1,  d(a-b)/db = -1
        return _node("-", self.data - other.data, self, 1.0, other, -1.0)

    def __truediv__(self, other: Number | Value) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        if other.data == 0.0:
            raise ZeroDivisionError(f"division by zero: {self!r} / {other!r}")
        out = self.data / other.data
        # d(a/b)/da = 1/b,  d(a/b)/db = -a/b² = -out/b
        return _node("/", out, self, 1.0 / other.data, other, -out / other.data)

    def __neg__(self) -> Value:
        return _node("neg", -self.data, self, -1.0)  # d(-a)/da = -1

    def __pow__(self, exponent: Number) -> Value:
        if isinstance(exponent, Value) or not isinstance(exponent, numbers.Real):
            raise TypeError(
                "Value ** x supports only int or float exponents "
                f"(got {type(exponent).__name__}); use exp()/log() for a Value exponent"
            )
        n = float(exponent)
        # d/dx x^n = n·x^(n-1)
        return _node(f"**{exponent}", _power(self.data, n), self, _power_slope(self.data, n))

    # reflected forms: number (op) Value
    def __radd__(self, other: Number) -> Value:
        return Value(other) + self

    def __rmul__(self, other: Number) -> Value:
        return Value(other) * self

    def __rsub__(self, other: Number) -> Value:
        return Value(other) - self

    def __rtruediv__(self, other: Number) -> Value:
        return Value(other) / self

    def __rpow__(self, base: Number) -> Value:
        raise TypeError(
            "a Value exponent is not supported: only Value ** number works "
            f"(got {type(base).__name__} ** Value); write (x * math.log(base)).exp() instead"
        )

    # ---- nonlinearities ----------------------------------------------------------------

    def tanh(self) -> Value:
        t = math.tanh(self.data)  # saturates to ±1 where (e^2x - 1)/(e^2x + 1) would overflow
        return _node("tanh", t, self, 1.0 - t * t)  # d/dx tanh x = 1 - tanh² x

    def relu(self) -> Value:
        x = self.data
        # the slope at exactly 0 is 0, as in PyTorch (and NaN stays NaN, as there)
        return _node("ReLU", 0.0 if x <= 0.0 else x, self, 1.0 if x > 0.0 else 0.0)

    def exp(self) -> Value:
        e = _exp(self.data)
        return _node("exp", e, self, e)  # d/dx e^x = e^x

    def log(self) -> Value:
        x = self.data
        if not x > 0.0:
            raise ValueError(f"log is defined only for positive numbers, got {self!r}")
        return _node("log", math.log(x), self, 1.0 / x)  # d/dx ln x = 1/x

    def sigmoid(self) -> Value:
        x = self.data
        # two algebraically equal forms, so exp() only ever sees a non-positive argument
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0.0 else math.exp(x) / (1.0 + math.exp(x))
        return _node("sigmoid", s, self, s * (1.0 - s))  # σ' = σ(1 - σ)

    # ---- each op's local derivative in words, for the backward step-through ------------------
    # op -> one text per input: d(out)/d(a), d(out)/d(b), written with the nodes' names ({out},
    # {a}, {b}: the inputs as in _node). An op named with a number ("**3") is looked up without
    # it, and the number is {n}. Adding an op: its method above, and its row here.
    DERIVATIVE_TEXT: ClassVar[dict[str, tuple[str, ...]]] = {
        "+": ("1", "1"),
        "*": ("{b}.data", "{a}.data"),
        "-": ("1", "-1"),
        "/": ("1/{b}.data", "-{out}.data/{b}.data"),
        "neg": ("-1",),
        "**": ("{n}·{a}.data^({n}-1)",),
        "tanh": ("(1 - {out}.data²)",),
        "ReLU": ("[{a}.data > 0]",),
        "exp": ("{out}.data",),
        "log": ("1/{a}.data",),
        "sigmoid": ("{out}.data·(1 - {out}.data)",),
    }

    # ---- backpropagation ---------------------------------------------------------------

    def topological_order(self) -> list[Value]:
        """Every node this Value depends on (itself included), each after all of its inputs.

        An iterative depth-first search: a node is appended once all of its children have been.
        The stack holds nodes to expand and, below each expanded node, a ``None`` marker meaning
        "its children are done, append it".
        """
        order: list[Value] = []
        expanded: set[Value] = set()
        stack: list[Value | None] = [self]
        pop, push, append, expand = stack.pop, stack.append, order.append, expanded.add
        while stack:
            node = pop()
            if node is None:  # all children of the node below the marker are in `order`
                append(pop())
                continue
            if node in expanded:  # reached again through another parent: already handled
                continue
            expand(node)
            push(node)
            push(None)
            a = node._a
            if a is not None:
                if a not in expanded:
                    push(a)
                b = node._b
                if b is not None and b not in expanded:
                    push(b)
        return order

    def backward_order(self) -> list[Value]:
        """The nodes in the order :meth:`backward` visits them: this root first, leaves last."""
        order = self.topological_order()
        order.reverse()
        return order

    def propagate(self) -> list[ChainRuleTerm]:
        """Apply this node's chain-rule step: push ``self.grad`` into each input's grad.

        Returns one :class:`ChainRuleTerm` per input, for showing the arithmetic.
        """
        terms = []
        out_grad = self.grad
        for child, local in zip(self._prev, self._local_grads):
            term = ChainRuleTerm(child, local, out_grad, child.grad)
            child.grad = term.grad_after
            terms.append(term)
        return terms

    def backward_steps(self) -> Iterator[tuple[Value, list[ChainRuleTerm]]]:
        """Run backpropagation one node at a time.

        Prepares the graph as :meth:`backward` does, then yields ``(node, terms)`` after applying
        each node's chain-rule step, in the same order. Exhausting it equals ``backward()``.
        """
        order = self.backward_order()
        _start_backward(self, order)
        for node in order:
            yield node, node.propagate()

    def backward(self) -> None:
        """Compute d(self)/d(node) for every node in the graph.

        Seeds this root's grad with 1.0 and recomputes every intermediate node's grad from zero;
        leaves (inputs and parameters) *accumulate*, as in PyTorch, so a second ``backward()``
        doubles them: call ``zero_grad()`` between steps. The arithmetic is :meth:`propagate`'s,
        unrolled for speed.

        Interrupted (Ctrl-C, the notebook's stop button), it raises a short
        ``KeyboardInterrupt`` that says the grads are partial.
        """
        # An interrupt often lands on a loop's jump back, an instruction without a line number,
        # and IPython then fails to format its traceback (a wall of its own errors). Raised
        # afresh from the `except` line, it is a short KeyboardInterrupt with a line to show.
        try:
            order = self.topological_order()
            _start_backward(self, order)
            backward_through(order)
        except KeyboardInterrupt:
            raise KeyboardInterrupt(INTERRUPTED_BACKWARD) from None


INTERRUPTED_BACKWARD = (
    "backward() was interrupted: the grads are partial. "
    "Call zero_grad() before the next backward()."
)

_OP_WITH_NUMBER = re.compile(r"(\D+?)(-?\d.*)")  # "**3" -> ("**", "3")


def derivative_text(op: str, out: str, inputs: Sequence[str], position: int) -> str:
    """d(out)/d(inputs[position]) of an ``op`` node, in words, from :attr:`Value.DERIVATIVE_TEXT`.

    >>> from micrograd_widgets.engine import derivative_text
    >>> derivative_text("*", "e", ["a", "b"], 0)
    'b.data'

    An op missing from the table reads as ``∂out/∂input``.
    """
    key, number = op, ""
    if key not in Value.DERIVATIVE_TEXT:
        match = _OP_WITH_NUMBER.fullmatch(op)
        if match:
            key, number = match.groups()
    texts = Value.DERIVATIVE_TEXT.get(key, ())
    if position >= len(texts):
        return f"∂{out}/∂{inputs[position]}"
    a, b = (*inputs, "", "")[:2]
    return texts[position].format(out=out, a=a, b=b, n=number)


def backward_through(order: list[Value]) -> None:
    """The chain rule over a graph in topological order (root last), its grads already seeded:
    each node, from the root back, adds its local derivative times its own grad to each child's.
    """
    for node in reversed(order):
        a = node._a
        if a is not None:
            out_grad = node.grad
            a.grad += node._da * out_grad
            b = node._b
            if b is not None:
                b.grad += node._db * out_grad


def _start_backward(root: Value, nodes: list[Value]) -> None:
    """Zero the grads of the graph's intermediate nodes, then seed d(root)/d(root) = 1."""
    for node in nodes:
        if node._a is not None:  # not a leaf
            node.grad = 0.0
    root.grad = 1.0


_new_value = object.__new__

# Tracing hook (used only by micrograd_widgets.compiled): the class every op's result is made
# as. It is always Value, except while compiled records one sample's graph, when it is a Value
# subclass that notes which nodes' ``.data`` code outside this module reads (a branch on a value
# the compiled replay could not follow). Looked up per node exactly as ``Value`` was: no cost.
_node_class: type[Value] = Value


def _node(
    op: str, data: float, a: Value, da: float, b: Value | None = None, db: float = 0.0
) -> Value:
    """The result of ``op``: forward value ``data``, children ``a``/``b`` with d(out)/d(child).

    Builds the Value directly, skipping ``__init__``'s checks: ops always pass floats.
    """
    out = _new_value(_node_class)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._op = op
    out._a = a
    out._da = da
    out._b = b
    out._db = db
    return out


# gc_paused() bookkeeping: how many blocks are active, and whether the collector was enabled
# before the first one began (so the last one to end restores exactly that).
_pause_lock = threading.Lock()
_pause_depth = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause CPython's *cyclic* garbage collector for the duration of a ``with`` block.

    Why: a training step builds tens of thousands of Values. They are freed by reference counting
    (graphs hold no cycles), but while a graph is alive the cyclic collector keeps re-scanning
    it, looking for cycles that cannot exist; on the 337-parameter moons demo that is about half
    of each step, more in a Jupyter kernel (see ``bench/``). Inside this block the collector does
    not run, so a step is pure arithmetic.

    Nothing leaks: reference counting still frees every graph at once. Reference cycles made by
    *other* code inside the block are collected by the next automatic collection after it.
    Nested and concurrent (threaded) blocks are counted; when the last one ends, the collector
    is put back exactly as it was (enabled or not). Wrap a whole training loop rather than each
    step: the first collection after the block scans whatever Values are still alive once::

        with gc_paused():
            for step in range(100):
                loss = compute_loss()
                model.zero_grad()
                loss.backward()
                ...
    """
    global _pause_depth, _gc_was_enabled
    with _pause_lock:
        if _pause_depth == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _pause_depth += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pause_depth -= 1
            if _pause_depth == 0 and _gc_was_enabled:
                gc.enable()
