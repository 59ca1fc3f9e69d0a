"""The engine's ops over numpy arrays, bit for bit, and sums in the engine's order.

Each op takes the forward values of its inputs for a whole batch (arrays, or Python floats for
constants) and returns what :mod:`micrograd_widgets.engine` computes for every element: the
forward value and the local derivative of each input, with the same IEEE operations in the
same order. Three rules make that exact:

* ``+ - * /`` and negation are single IEEE operations, so numpy computes exactly what Python
  does, element by element.
* numpy's SIMD ``exp``/``tanh``/``log`` differ from libm's by one ulp on some inputs, so those
  nodes call the engine's own ``math`` functions once per element.
* Where the engine branches (relu at 0, sigmoid's two forms, pow's edge cases) the same branch
  is taken per element, on the same comparison.

Where the engine raises (division by zero, log of x <= 0, a negative base to a fractional
power) these functions raise :class:`ScalarErrorNeeded`; the caller then re-runs the step on the
scalar engine so the user sees exactly the scalar engine's exception.

Sums. A parameter's gradient in ``backward()`` is a left-to-right float sum that starts at 0.0;
a neuron's ``b + w0*x0 + w1*x1 + ...`` is one too. ``np.sum`` adds pairwise (not in order), but
``np.add.reduce(stack, axis=0)`` on a C-contiguous stack adds row after row -- numpy's
reduction loop runs over the rows with the other axes innermost. That is how numpy works, not a
documented promise, so :func:`_reduce_is_sequential` checks it once on inputs where any other
order gives another answer; if it ever fails, :func:`sum_rows` uses ``np.add.accumulate``,
which is sequential by definition (and slower). Where numpy's ``einsum`` adds the products of a
sum in order (checked per shape, :class:`SequentialContraction`), a layer's sums skip the array
of every product altogether.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np

from ..engine import _exp, _power, _power_slope

__all__ = ["ScalarErrorNeeded", "sum_rows", "sum_sequence"]

Operand = np.ndarray | float


class ScalarErrorNeeded(Exception):
    """An element would make the scalar engine raise; re-run the step on it to raise the same."""


# ---- sums in order ---------------------------------------------------------------------------


def _reduce_is_sequential() -> bool:
    """True if ``np.add.reduce(stack, axis=0, initial=-0.0)`` adds rows strictly one after
    another here, starting from the first.

    Row 0 is 1.0 and every later row 2**-53: added in order, each 2**-53 rounds away and the
    result is exactly 1.0; summed in any other grouping (pairwise, blocked, reversed) some small
    ones meet first and the result exceeds 1.0. A column of -0.0s must sum to -0.0, as the
    engine's ``-0.0 + -0.0`` does.
    """
    tiny = 2.0**-53
    for rows, shape in ((2, (2,)), (9, (2,)), (130, (3,)), (300, (16, 17)), (17, (2, 300))):
        stack = np.full((rows, *shape), tiny)
        stack[0] = 1.0
        stack[:, 0] = -0.0  # and a sum of -0.0s is -0.0 (it must start from -0.0, not 0.0)
        result = np.add.reduce(stack, axis=0, initial=-0.0)
        if not (np.all(result[1:] == 1.0) and np.all(np.signbit(result[0]))):
            return False
    return True


SEQUENTIAL_REDUCE = _reduce_is_sequential()


def _einsum_products_exact() -> bool:
    """True if a one-term einsum gives every product exactly as ``*`` does (numpy's einsum is
    often twice as fast for outer products): rounding, subnormals, inf and NaN alike. Its one
    known difference, ``0 + a*b`` turning a -0.0 product into 0.0, is handled by the callers."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(7, 5)) * np.array([1.0, 1e-160, 1e160, 3.0, 1e-300])
    a[0, 0], a[1, 1], a[2, 2], a[3, 3] = np.inf, np.nan, 1e-310, -np.inf
    b = rng.normal(size=(5, 9)) * np.array([1.0, 1e-170, 1e170, 5e-324, 7.0, 1.0, 1.0, 1e300, 2.0])
    with np.errstate(all="ignore"):
        want = a.T[:, :, None] * b[:, None, :]
        got = np.einsum("kj,js->jks", a, b)
    nonzero = want != 0.0
    same = (want == got) | (np.isnan(want) & np.isnan(got))
    return bool(np.all(same[nonzero | np.isnan(want)]) and np.all(got[want == 0.0] == 0.0))


EINSUM_PRODUCTS_EXACT = _einsum_products_exact()


def sum_rows(stack: np.ndarray, start: float | np.ndarray | None = None) -> np.ndarray:
    """``((start + stack[0]) + stack[1]) + ...`` over the first axis, elementwise, in order.

    ``start=None`` begins with ``stack[0]`` itself (a neuron's chain starts at its first term);
    ``start=0.0`` is how a gradient starts (``0.0 + -0.0`` is ``0.0``). ``stack`` is scratch: its
    first row may be overwritten.
    """
    if not stack.flags.c_contiguous:  # the reduction's loop order follows the memory layout
        stack = np.ascontiguousarray(stack)
    if start is not None:
        np.add(start, stack[0], out=stack[0])
    if len(stack) == 1:
        return stack[0].copy()
    if SEQUENTIAL_REDUCE and stack[0].size >= 2:
        # numpy starts a reduce at add's identity, 0.0; but 0.0 + -0.0 is 0.0, so a chain of
        # -0.0s (a -0.0 bias and -0.0 products) would come out 0.0. -0.0 + x is x for every x.
        return np.add.reduce(stack, axis=0, initial=-0.0)
    # one element per row would make reduce a 1-D (pairwise) sum; accumulate is always in order
    return np.add.accumulate(stack, axis=0)[-1]


try:  # np.einsum's own C function: what np.einsum(spec, a, b) calls (optimize=False), without
    # its Python wrapper's dispatch (~3 us of a ~6 us call on a small layer, several per step)
    from numpy._core.multiarray import c_einsum as _c_einsum  # numpy >= 2
except ImportError:  # pragma: no cover - numpy 1.x
    try:
        from numpy.core.multiarray import c_einsum as _c_einsum
    except ImportError:
        _c_einsum = np.einsum


class SequentialContraction:
    """``np.einsum`` for a sum of products in the engine's order, where numpy gives it.

    ``np.einsum("kj,js->ks", W, S)`` starts each output at 0.0 and, when the summed axis ``j``
    is not the innermost one of its loop, adds the products ``W[k, j] * S[j, s]`` for j = 0, 1,
    2, ... in order, one multiply and one add each: the chain the engine computes, without the
    ``(j, k, s)`` array of every product (a quarter of the time on the spiral's middle layer).
    Which axis numpy puts innermost depends on the shapes (with one sample, ``j`` becomes the
    innermost axis and is summed with SIMD lanes, out of order), and whether the compiler fused
    the multiply and the add is a property of the build. So each (spec, shapes) is checked once,
    on inputs where any other order or a fused multiply-add gives another answer, against the
    products added one by one (:meth:`sequential`); :meth:`__call__` returns None for a shape
    that failed, and the caller sums the products itself.
    """

    def __init__(self, spec: str) -> None:
        inputs, self.output = spec.split("->")
        self.spec = spec
        self.inputs = inputs.split(",")
        (self.summed,) = set("".join(self.inputs)) - set(self.output)
        self.verdicts: dict[tuple[tuple[int, ...], ...], bool] = {}

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)  # (the checked layout)
        shapes = (a.shape, b.shape)
        verdict = self.verdicts.get(shapes)
        if verdict is None:
            verdict = self.verdicts[shapes] = self._in_order(a.shape, b.shape)
        return _c_einsum(self.spec, a, b) if verdict else None

    @staticmethod
    def _spread(x: np.ndarray, letters: str, order: str) -> np.ndarray:
        """``x`` (its axes named by ``letters``) with its axes in ``order``, size 1 if absent."""
        present = [c for c in order if c in letters]
        x = np.transpose(x, [letters.index(c) for c in present])
        return x.reshape([x.shape[present.index(c)] if c in letters else 1 for c in order])

    def _in_order(self, a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> bool:
        return all(
            np.all(_c_einsum(self.spec, a, b) == want)
            for a, b, want in self._probes(a_shape, b_shape)
        )

    def sequential(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The sum in order by construction: ``0.0 + p0``, ``+ p1``, ... one ufunc call each."""
        order = self.summed + self.output
        a, b = self._spread(a, self.inputs[0], order), self._spread(b, self.inputs[1], order)
        total = np.zeros(np.broadcast_shapes(a.shape[1:], b.shape[1:]))
        for a_i, b_i in zip(a, b):  # (both have the summed axis, first)
            total = total + a_i * b_i
        return total

    def _probes(
        self, a_shape: tuple[int, ...], b_shape: tuple[int, ...]
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Inputs on which any other order of the sum, or a fused multiply-add, shows, and the
        sums in order (``a``, ``b``, the result, or an array that broadcasts to it).

        Order: the products of an output are 1.0, then 0.0s with ``L, -L`` (L = 2**53) at
        positions i, i + 1. In order, 1.0 + L rounds to L and the result is 0.0; if L and -L
        meet before the 1.0 joins them, or the 1.0 meets -L first, it is 1.0. Every i from 1 to
        m - 2 is tried, each output of the wider operand trying another (the other operand is
        ones). Fusing: random products with inexact low bits, of many sizes.
        """
        shapes = (a_shape, b_shape)
        sizes = [math.prod(shape) for shape in shapes]
        which = int(sizes[1] > sizes[0])  # the operand with more outputs carries the patterns
        letters, shape = self.inputs[which], shapes[which]
        axis = letters.index(self.summed)
        m = shape[axis]
        rest = sizes[which] // m
        ones = np.ones(shapes[1 - which])
        moved = np.moveaxis(np.empty(shape), axis, 0).shape
        for first in range(1, m - 1, rest):
            pattern = np.zeros((m, rest))
            pattern[0] = 1.0
            at = np.arange(first, min(first + rest, m - 1))
            pattern[at, at - first] = 2.0**53
            pattern[at + 1, at - first] = -(2.0**53)
            want = np.ones(rest)
            want[at - first] = 0.0
            probe = np.ascontiguousarray(np.moveaxis(pattern.reshape(moved), 0, axis))
            want = self._spread(
                want.reshape(moved[1:]), letters.replace(self.summed, ""), self.output
            )
            yield ((probe, ones) if which == 0 else (ones, probe)) + (want,)
        rng = np.random.default_rng(12345)
        a, b = (rng.normal(size=shape) * 2.0 ** rng.integers(-20, 20, shape) for shape in shapes)
        yield a, b, self.sequential(a, b)


#: a layer's chains ``b + w0*x0 + ...`` (W (width, terms), S (terms, batch)), summed over terms
CHAIN_SUMS = SequentialContraction("kj,js->ks")
#: each input's gradient ``0.0 + w*g + ...`` over the neurons (W (width, inputs), G (width, batch))
INPUT_SUMS = SequentialContraction("ki,ks->is")
#: each weight's gradient ``0.0 + g*x + ...`` over the samples (G.T (batch, width), S.T (batch,
#: terms))
PARAMETER_SUMS = SequentialContraction("sk,sj->kj")
#: the same, transposed: (terms, width), for a layer with fewer terms than neurons (einsum's
#: inner loop then runs over the neurons, not over 3 terms: 6x as fast for the first layer)
PARAMETER_SUMS_BY_TERM = SequentialContraction("sk,sj->jk")
CONTRACTIONS = (CHAIN_SUMS, INPUT_SUMS, PARAMETER_SUMS, PARAMETER_SUMS_BY_TERM)


def sum_sequence(values: np.ndarray, start: float | None = None) -> float:
    """``((start + values[0]) + values[1]) + ...`` for a 1-D array: accumulate is sequential."""
    if start is not None:
        first = float(values[0])
        begun = start + first
        if not (begun == first and math.copysign(1.0, begun) == math.copysign(1.0, first)):
            values = values.copy()  # (only when start + values[0] is not values[0] itself)
            values[0] = begun
    return float(np.add.accumulate(values)[-1])  # (cumsum, without its Python wrapper)


# ---- elementwise helpers -----------------------------------------------------------------------


def _each(function: Callable[[float], float], x: np.ndarray) -> np.ndarray:
    """``function`` (a scalar libm function) applied to every element, as the engine does."""
    flat = x.ravel().tolist()
    return np.fromiter(map(function, flat), np.float64, len(flat)).reshape(x.shape)


def _as_array(x: Operand) -> np.ndarray:
    return x if isinstance(x, np.ndarray) else np.asarray(x, dtype=np.float64)


# ---- the ops: forward value, then d(out)/d(input) for each input -------------------------------
# Operands keep the engine's order (self first), so even NaN payloads come out the same.


#: the local derivative 1.0 of "+" and "-" (one object, so a replay can skip ``1.0 * g``)
ONE = 1.0


def add(a: Operand, b: Operand) -> tuple[Operand, float, float]:
    return a + b, ONE, ONE


def mul(a: Operand, b: Operand) -> tuple[Operand, Operand, Operand]:
    return a * b, b, a


def sub(a: Operand, b: Operand) -> tuple[Operand, float, float]:
    return a - b, ONE, -1.0


def div(a: Operand, b: Operand) -> tuple[Operand, Operand, Operand]:
    if np.any(_as_array(b) == 0.0):
        raise ScalarErrorNeeded("division by zero")
    out = a / b
    return out, 1.0 / b, -out / b


def neg(a: Operand) -> tuple[Operand, float]:
    return -a, -1.0


def power(a: Operand, exponent: float) -> tuple[np.ndarray, np.ndarray]:
    x = _as_array(a)
    if (not exponent.is_integer() and np.any(x < 0.0)) or (exponent < 0.0 and np.any(x == 0.0)):
        raise ScalarErrorNeeded(f"no real value for x ** {exponent!r}")
    flat = x.ravel().tolist()
    out = np.array([_power(v, exponent) for v in flat], dtype=np.float64).reshape(x.shape)
    slope = np.array([_power_slope(v, exponent) for v in flat], dtype=np.float64)
    return out, slope.reshape(x.shape)


def tanh(a: Operand) -> tuple[np.ndarray, np.ndarray]:
    t = _each(math.tanh, _as_array(a))
    return t, 1.0 - t * t


def relu(a: Operand) -> tuple[np.ndarray, np.ndarray]:
    x = _as_array(a)
    # the engine: 0.0 if x <= 0.0 else x, slope 1.0 if x > 0.0 else 0.0. maximum keeps NaN and
    # + 0.0 turns a -0.0 into 0.0; the slope stays boolean (True * g is 1.0 * g)
    out = np.maximum(x, 0.0)
    out += 0.0
    return out, np.greater(x, 0.0)


def exp(a: Operand) -> tuple[np.ndarray, np.ndarray]:
    x = _as_array(a)
    try:
        e = _each(math.exp, x)
    except OverflowError:  # the engine's _exp turns an overflow into +inf
        e = _each(_exp, x)
    return e, e


def log(a: Operand) -> tuple[np.ndarray, np.ndarray]:
    x = _as_array(a)
    if not np.all(x > 0.0):
        raise ScalarErrorNeeded("log of a number <= 0")
    return _each(math.log, x), 1.0 / x


def sigmoid(a: Operand) -> tuple[np.ndarray, np.ndarray]:
    x = _as_array(a)
    upper = x >= 0.0
    # the engine's two forms: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) otherwise (NaN takes the
    # second); exp only ever sees a non-positive argument, so it cannot overflow
    e = _each(math.exp, np.where(upper, -x, x))
    s = np.where(upper, 1.0 / (1.0 + e), e / (1.0 + e))
    return s, s * (1.0 - s)


#: op name (``Value._op``) -> function of the input value(s)
BINARY: dict[str, Callable[..., tuple]] = {"+": add, "*": mul, "-": sub, "/": div}
UNARY: dict[str, Callable[..., tuple]] = {
    "neg": neg,
    "tanh": tanh,
    "ReLU": relu,
    "exp": exp,
    "log": log,
    "sigmoid": sigmoid,
}
#: the same unary ops with numpy's own (SIMD) functions: within an ulp, for exact=False
FAST_UNARY: dict[str, Callable[..., tuple]] = {
    **UNARY,
    "tanh": lambda a: (lambda t: (t, 1.0 - t * t))(np.tanh(a)),
    "exp": lambda a: (lambda e: (e, e))(np.exp(a)),
}
