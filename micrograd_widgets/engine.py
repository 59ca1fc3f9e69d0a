"""A scalar-valued autograd engine, in the style of karpathy/micrograd.

Every operation creates a new :class:`Value` holding two things, side by side:

* its **forward value** (``data``), and
* its **local derivatives**: d(out)/d(child) for each child, stored in ``_local_grads``.

``backward()`` then applies the chain rule, ``child.grad += local * out.grad``, to every node in
reverse topological order. Storing the local derivatives as numbers (instead of a ``_backward``
closure that refers back to its output node, as micrograd does) means a graph holds no reference
cycles: it is freed by reference counting the moment the last reference to it goes, and Python's
cyclic garbage collector never has to walk it. Nothing here recurses, so a graph may be as deep as
memory allows.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from itertools import count
from operator import attrgetter

__all__ = ["ChainRuleTerm", "Value"]

Number = int | float
_creation_counter = count()
_creation_order = attrgetter("_seq")


def _as_float(data: object) -> float:
    """Accept any real number (Python or numpy scalar, 0-d numpy array); reject the rest."""
    if isinstance(data, numbers.Real):
        return float(data)
    if getattr(data, "shape", None) == () and hasattr(data, "dtype") and data.dtype.kind in "biuf":
        return float(data)  # a 0-d numpy array of a real dtype
    raise TypeError(
        f"Value data must be a real number (int, float or numpy scalar), "
        f"got {type(data).__name__}: {data!r:.60}"
    )


def _wrap(other: object) -> Value:
    return other if isinstance(other, Value) else Value(other)


def _exp(x: float) -> float:
    """math.exp, but +inf on overflow like IEEE/PyTorch instead of raising OverflowError."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _power(base: float, exponent: float) -> float:
    """base ** exponent for floats, with IEEE results where Python would raise."""
    if base < 0 and not float(exponent).is_integer():
        raise ValueError(
            f"cannot raise a negative number ({base!r}) to the non-integer power {exponent!r}: "
            "the result is not a real number"
        )
    try:
        return base**exponent
    except ZeroDivisionError:
        raise ZeroDivisionError(
            f"0.0 ** {exponent!r} is undefined (division by zero); expected a non-zero base"
        ) from None
    except OverflowError:
        odd_negative = base < 0 and float(exponent) % 2 == 1
        return -math.inf if odd_negative else math.inf


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

    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
    >>> L = a * b + a
    >>> L.backward()
    >>> a.grad, b.grad
    (-2.0, 2.0)
    """

    __slots__ = ("__weakref__", "_local_grads", "_op", "_prev", "_seq", "data", "grad", "label")
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
        self._prev = _children  # the inputs of the op that made this node, in order
        self._op = _op  # that op's symbol ("+", "*", "tanh", ...); "" for a leaf
        self._local_grads = _local_grads  # d(self)/d(child) for each child in _prev
        # Children are always created before their parents, so creation order is a topological
        # order of any graph; backward() sorts by it instead of recursing.
        self._seq = next(_creation_counter)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # ---- arithmetic: forward value, then the local derivative w.r.t. each input -------------

    def __add__(self, other: Number | Value) -> Value:
        other = _wrap(other)
        out = self.data + other.data
        return Value(out, (self, other), "+", "", (1.0, 1.0))

    def __mul__(self, other: Number | Value) -> Value:
        other = _wrap(other)
        out = self.data * other.data
        return Value(out, (self, other), "*", "", (other.data, self.data))

    def __pow__(self, exponent: Number) -> Value:
        if isinstance(exponent, Value) or not isinstance(exponent, numbers.Real):
            raise TypeError(
                "Value ** x supports only int or float exponents "
                f"(got {type(exponent).__name__}); use exp()/log() for a Value exponent"
            )
        n = float(exponent)
        out = _power(self.data, n)
        d_base = n * _power(self.data, n - 1.0) if n != 0.0 else 0.0  # d/dx x^n = n x^(n-1)
        return Value(out, (self,), f"**{exponent}", "", (d_base,))

    def __neg__(self) -> Value:
        return Value(-self.data, (self,), "neg", "", (-1.0,))

    def __sub__(self, other: Number | Value) -> Value:
        other = _wrap(other)
        out = self.data - other.data
        return Value(out, (self, other), "-", "", (1.0, -1.0))

    def __truediv__(self, other: Number | Value) -> Value:
        other = _wrap(other)
        if other.data == 0.0:
            raise ZeroDivisionError(f"division by zero: {self!r} / {other!r}")
        out = self.data / other.data
        # d(a/b)/da = 1/b,  d(a/b)/db = -a/b²
        return Value(out, (self, other), "/", "", (1.0 / other.data, -out / other.data))

    # reflected forms: number (op) Value
    def __radd__(self, other: Number) -> Value:
        return self + other

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __rsub__(self, other: Number) -> Value:
        return _wrap(other) - self

    def __rtruediv__(self, other: Number) -> Value:
        return _wrap(other) / self

    def __rpow__(self, base: Number) -> Value:
        raise TypeError(
            "a Value exponent is not supported: only Value ** number works "
            f"(got {type(base).__name__} ** Value); write (x * math.log(base)).exp() instead"
        )

    # ---- nonlinearities ----------------------------------------------------------------

    def tanh(self) -> Value:
        t = math.tanh(self.data)  # saturates to ±1 instead of overflowing exp()
        return Value(t, (self,), "tanh", "", (1.0 - t * t,))

    def relu(self) -> Value:
        x = self.data
        out = x if x > 0.0 else 0.0
        return Value(out, (self,), "ReLU", "", (1.0 if x > 0.0 else 0.0,))  # 0 at x == 0

    def exp(self) -> Value:
        e = _exp(self.data)
        return Value(e, (self,), "exp", "", (e,))

    def log(self) -> Value:
        x = self.data
        if not x > 0.0:
            raise ValueError(f"log is defined only for positive numbers, got {self!r}")
        return Value(math.log(x), (self,), "log", "", (1.0 / x,))

    def sigmoid(self) -> Value:
        x = self.data
        # two forms so exp() never overflows
        s = 1.0 / (1.0 + _exp(-x)) if x >= 0.0 else _exp(x) / (1.0 + _exp(x))
        return Value(s, (self,), "sigmoid", "", (s * (1.0 - s),))

    # ---- backpropagation ---------------------------------------------------------------

    def topological_order(self) -> list[Value]:
        """Every node this Value depends on (itself included), each after all of its inputs."""
        seen = {self}
        stack = [self]
        while stack:
            for child in stack.pop()._prev:
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return sorted(seen, key=_creation_order)

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

        Seeds this root's grad with 1.0, then yields ``(node, terms)`` after applying each node's
        chain-rule step, in the same order as :meth:`backward`. Exhausting it equals ``backward()``.
        """
        order = self.backward_order()
        self.grad = 1.0
        for node in order:
            yield node, node.propagate()

    def backward(self) -> None:
        """Compute d(self)/d(node) for every node in the graph, accumulating into ``.grad``."""
        order = self.backward_order()
        self.grad = 1.0
        for node in order:
            out_grad = node.grad
            for child, local in zip(node._prev, node._local_grads):
                child.grad += local * out_grad
