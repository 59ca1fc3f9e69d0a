"""Backpropagation one node at a time, with the arithmetic of every chain-rule step in words.

>>> from micrograd_widgets.engine import Value
>>> from micrograd_widgets.stepper import BackwardStepper
>>> a, b = Value(2.0, label="a"), Value(3.0, label="b")
>>> out = a * b; out.label = "out"
>>> stepper = BackwardStepper(out)
>>> stepper.step()
['out.grad = 1.0  (seed: ∂out/∂out = 1)', 'a.grad += b.data × out.grad = 3.0 × 1.0 = 3.0', \
'b.grad += a.data × out.grad = 2.0 × 1.0 = 2.0']

The steps are the nodes ``backward()`` visits, in its order, each applied by the engine's own
:meth:`Value.propagate`; the derivative of each op is written from :attr:`Value.DERIVATIVE_TEXT`.
Exhausting the steps leaves every grad as ``root.backward()`` does (on zeroed grads). The
:class:`~micrograd_widgets.graph.GraphWidget` shows this state; nothing here knows about widgets.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .engine import ChainRuleTerm, Value, derivative_text

__all__ = [
    "BackwardStepper",
    "GradCheck",
    "RecordedStep",
    "finite_difference",
    "fresh_grads",
    "node_names",
    "recompute_forward",
    "record_backward",
]

COMPLETE = "Backward pass complete: every grad is final. Reset grads to start again."
#: what an unlabelled node without an op (an input or a constant) is called
LEAF = "leaf"


def node_names(values: Sequence[Value], prefixes: Sequence[str] | None = None) -> list[str]:
    """A name for each of ``values`` (in topological order): its label, or else its op and count.

    An unlabelled node is called ``<op>·<k>``: ``tanh·3`` is the third tanh, counted from the
    inputs (``leaf·k`` for an unlabelled input or constant). ``prefixes[i]`` (e.g.
    ``"layers.0.neurons.3."``) puts node ``i`` in a module: there the count restarts, so the
    neuron's activation reads ``layers.0.neurons.3.tanh·1``.
    """
    counts: dict[tuple[str, str], int] = {}
    names = []
    for i, v in enumerate(values):
        if v.label:
            names.append(v.label)
            continue
        prefix = prefixes[i] if prefixes is not None else ""
        key = (prefix, v._op or LEAF)
        counts[key] = k = counts.get(key, 0) + 1
        names.append(f"{prefix}{key[1]}·{k}")
    return names


def check_step_count(n: object) -> int:
    """``n`` for ``step(n)``: a whole number of steps, at least 1."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(
            f"step(n): n is how many chain-rule steps to apply, a whole number >= 1; got {n!r}"
        )
    return int(n)


def format_number(x: float) -> str:
    """A short, exact-looking number for the step arithmetic (3.0, -0.070651, 1.2e-07)."""
    if not math.isfinite(x):
        return repr(x)
    text = f"{x:.6g}"
    return text if any(ch in text for ch in ".einf") else text + ".0"


class BackwardStepper:
    """Where a step-through of ``root``'s backward pass is, and the arithmetic last shown.

    Args:
        root: the output node; its grad is seeded with 1.0 by the first step.
        values: ``root.topological_order()``, if the caller has it already (one sort per graph).
        name: how a node is called in the text (default: :func:`node_names`, its label or e.g.
            ``tanh·3``).
    """

    def __init__(
        self,
        root: Value,
        values: Sequence[Value] | None = None,
        name: Callable[[Value], str] | None = None,
    ) -> None:
        self.root = root
        self.values = root.topological_order() if values is None else values
        if name is None:
            name = dict(zip(self.values, node_names(self.values))).__getitem__
        self.name = name
        #: the nodes whose chain rule is applied, in the order backward() applies them
        self.steps: list[Value] = [v for v in reversed(self.values) if v._a is not None]
        #: node -> its step number, 1 for the root's step (leaves have none: nothing to push)
        self.step_of: dict[Value, int] = {v: k + 1 for k, v in enumerate(self.steps)}
        # node -> the step numbers of its consumers, first and last: its grad is not computed
        # before the first has run, and final after the last
        self._consumer_steps: dict[Value, tuple[int, int]] = {}
        for v in self.steps:
            k = self.step_of[v]
            for child in v._prev:
                first, last = self._consumer_steps.get(child, (k, k))
                self._consumer_steps[child] = (min(first, k), max(last, k))
        self.done = 0  # steps applied
        self.seeded = False  # root.grad set to 1.0
        #: the node of the last step shown (None: nothing shown, or the pass is complete)
        self.active: Value | None = None
        #: the arithmetic of the last steps shown
        self.lines: list[str] = []
        #: node -> (its grad before this pass's first contribution, [(from node, contribution)])
        self.received: dict[Value, tuple[float, list[tuple[Value, float]]]] = {}

    @property
    def finished(self) -> bool:
        """True when every step has been applied."""
        return self.seeded and self.done >= len(self.steps)

    def consumer_span(self, value: Value) -> tuple[int, int]:
        """The step numbers of ``value``'s first and last consumer ((0, 0) for the root)."""
        return self._consumer_steps.get(value, (0, 0))

    @property
    def upcoming(self) -> Value | None:
        """The node the next step applies the chain rule at (None when finished)."""
        if self.finished:
            return None
        return self.steps[self.done] if self.steps else None

    def step(self, n: int = 1) -> list[str]:
        """Apply the next ``n`` steps; return (and keep, in ``lines``) their arithmetic."""
        n = check_step_count(n)
        lines: list[str] = []
        active: Value | None = None
        for _ in range(n):
            if self.finished:
                break
            active, step_lines = self._apply()
            lines.extend(step_lines)
        return self._show(lines, active)

    def run(self) -> list[str]:
        """Apply all remaining steps; the lines kept are those of the last one."""
        active: Value | None = None
        lines: list[str] = []
        while not self.finished:
            active, lines = self._apply()
        return self._show(lines, active)

    def reset(self) -> None:
        """Zero every grad in the graph and start over."""
        for v in self.values:
            v.grad = 0.0
        self.done = 0
        self.seeded = False
        self.active = None
        self.lines = []
        self.received = {}

    def restart(self, note: str = "") -> None:
        """Start the step-through over without touching any grad (they were changed elsewhere:
        they count as computed until a step is applied); ``note`` is its line."""
        self.done, self.seeded, self.active = 0, False, None
        self.lines = [note] if note else []
        self.received = {}

    def mark_complete(self, note: str = "") -> None:
        """Record that the grads now are a whole backward pass made elsewhere (``backward()``):
        the step-through is finished, with ``note`` as its line."""
        self.done, self.seeded, self.active = len(self.steps), True, None
        self.lines = [note] if note else []
        self.received = {}

    def grad_status(self, value: Value) -> str:
        """Where ``value``'s grad is in the step-through: "pending" (no contribution has landed
        yet: not computed, which is not the same as 0), "partial" (more are to come) or
        "final"."""
        if self.finished:
            return "final"
        if not self.seeded:
            return "pending"
        if value is self.root:
            return "final"
        first, last = self._consumer_steps.get(value, (0, 0))
        if self.done < first:
            return "pending"
        return "partial" if self.done < last else "final"

    def grad_sum(self, value: Value) -> str:
        """How ``value``'s grad was summed in this step-through, one ``+=`` per consumer:
        ``a.grad = 0 + 0.3 (from n1) + -0.2 (from n2) = 0.1`` ("" before any landed)."""
        start, parts = self.received.get(value, (0.0, []))
        if not parts:
            return ""
        fmt = format_number
        terms = " + ".join(f"{fmt(c)} (from {self.name(n)})" for n, c in parts)
        start_text = "0" if start == 0.0 else fmt(start)
        return f"{self.name(value)}.grad = {start_text} + {terms} = {fmt(value.grad)}"

    def _show(self, lines: list[str], active: Value | None) -> list[str]:
        if active is None:  # nothing was left to apply
            lines = [COMPLETE]
        self.active, self.lines = active, lines
        return lines

    def _apply(self) -> tuple[Value, list[str]]:
        lines = []
        if not self.seeded:
            self.seeded = True
            self.root.grad = 1.0
            name = self.name(self.root)
            lines.append(f"{name}.grad = 1.0  (seed: ∂{name}/∂{name} = 1)")
            if any(v.grad != 0.0 for v in self.values if v is not self.root):
                lines.append(
                    "note: grads were not zero, so this pass adds to them (as backward() does); "
                    "Reset grads first for a fresh pass."
                )
            if not self.steps:
                return self.root, lines
        node = self.steps[self.done]
        self.done += 1
        lines.extend(self.explain(node, node.propagate()))
        return node, lines

    def explain(self, node: Value, terms: list[ChainRuleTerm]) -> list[str]:
        """One line per input: ``child.grad += local × out.grad = numbers`` (and the sum, if the
        child's grad was not zero before)."""
        out = self.name(node)
        inputs = [self.name(child) for child in node._prev]
        fmt = format_number
        lines = []
        for k, term in enumerate(terms):
            child = inputs[k]
            local = derivative_text(node._op, out, inputs, k)
            line = (
                f"{child}.grad += {local} × {out}.grad = "
                f"{fmt(term.local_grad)} × {fmt(term.out_grad)} = {fmt(term.contribution)}"
            )
            start, parts = self.received.setdefault(term.child, (term.grad_before, []))
            parts.append((node, term.contribution))
            if len(parts) > 1 or start != 0.0:  # a reused node: say how its grad adds up
                sum_terms = " + ".join(f"{fmt(c)} (from {self.name(n)})" for n, c in parts)
                start_text = "0" if start == 0.0 else fmt(start)
                line += f"  →  {child}.grad = {start_text} + {sum_terms} = {fmt(term.grad_after)}"
            lines.append(line)
        return lines


# ---- forward re-evaluation and the numeric check ---------------------------------------------

# op -> how the engine computes it from the node's inputs (a, b) and the number in "**3"; the
# results' data and local derivatives are copied into the node, so no op's maths is repeated here
_FORWARD: dict[str, Callable[[Value, Value | None, float], Value]] = {
    "+": lambda a, b, n: a + b,  # type: ignore[operator]
    "*": lambda a, b, n: a * b,  # type: ignore[operator]
    "-": lambda a, b, n: a - b,  # type: ignore[operator]
    "/": lambda a, b, n: a / b,  # type: ignore[operator]
    "neg": lambda a, b, n: -a,
    "**": lambda a, b, n: a**n,
    "tanh": lambda a, b, n: a.tanh(),
    "ReLU": lambda a, b, n: a.relu(),
    "exp": lambda a, b, n: a.exp(),
    "log": lambda a, b, n: a.log(),
    "sigmoid": lambda a, b, n: a.sigmoid(),
}


def recompute_forward(values: Sequence[Value]) -> None:
    """Recompute every op node's data and local derivatives from its inputs, in place.

    ``values`` is the graph in topological order (inputs first). Each node is recomputed by the
    engine's own op on its inputs, so the numbers are the engine's. An op this does not know
    raises ValueError naming it.
    """
    for v in values:
        a = v._a
        if a is None:
            continue
        op, n = v._op, 0.0
        compute = _FORWARD.get(op)
        if compute is None and op.startswith("**"):
            compute, n = _FORWARD["**"], float(op[2:])
        if compute is None:
            raise ValueError(f"cannot re-evaluate op {op!r}: it is not one of the engine's ops")
        result = compute(a, v._b, n)
        v.data, v._da, v._db = result.data, result._da, result._db


def fresh_grads(values: Sequence[Value]) -> dict[Value, float]:
    """The grads a fresh ``backward()`` of the last of ``values`` (its root) would give, from
    zero, computed aside: no Value's grad changes."""
    grads = dict.fromkeys(values, 0.0)
    grads[values[-1]] = 1.0
    for node in reversed(values):
        out_grad = grads[node]
        for child, local in zip(node._prev, node._local_grads):
            grads[child] += local * out_grad
    return grads


@dataclass(frozen=True)
class GradCheck:
    """Autograd's d(root)/d(leaf) beside the central finite difference."""

    autograd: float
    numeric: float
    h: float
    relative_error: float
    #: why the difference may not mean much (a ReLU switching within ±h), "" when it does
    note: str = ""


def finite_difference(values: Sequence[Value], leaf: Value, h: float | None = None) -> GradCheck:
    """Check ``leaf``'s grad numerically: ``(L(leaf + h) - L(leaf - h)) / 2h`` against autograd.

    ``values`` is the graph in topological order, its root last. ``L`` is re-evaluated by
    :func:`recompute_forward` (the engine's ops); the graph is left exactly as it was. ``h``
    defaults to ``cbrt(machine epsilon) · max(1, |leaf|)`` (≈ 6e-6 for weights near 1): the
    central difference's truncation error grows as h² and its rounding error as eps/h, and that
    h balances the two. A ReLU whose input changes sign within ±h makes the difference straddle
    a kink; the result then says so in ``note``.
    """
    if leaf._a is not None:
        raise ValueError("the numeric check perturbs a leaf (an input or a parameter), not an op")
    if leaf not in values:
        raise ValueError("the leaf is not part of this graph")
    if h is None:
        h = sys.float_info.epsilon ** (1 / 3) * max(1.0, abs(leaf.data))
    saved = [(v, v.data, v._da, v._db) for v in values]
    root = values[-1]
    original = leaf.data
    try:
        relu_slopes = [v._da for v in values if v._op == "ReLU"]
        leaf.data = original + h
        recompute_forward(values)
        plus, slopes_plus = root.data, [v._da for v in values if v._op == "ReLU"]
        leaf.data = original - h
        recompute_forward(values)
        minus, slopes_minus = root.data, [v._da for v in values if v._op == "ReLU"]
    finally:
        for v, data, da, db in saved:
            v.data, v._da, v._db = data, da, db
    autograd = fresh_grads(values)[leaf]
    numeric = (plus - minus) / (2 * h)
    scale = max(abs(autograd), abs(numeric))
    relative_error = abs(autograd - numeric) / scale if scale > 0 else 0.0
    note = ""
    if slopes_plus != relu_slopes or slopes_minus != relu_slopes:
        note = f"a ReLU switches on or off within ±h = {h:.2g}: the difference spans its kink"
    return GradCheck(autograd, numeric, h, relative_error, note)


# ---- the recorded backward pass, for a view without a kernel ------------------------------------


@dataclass(frozen=True)
class RecordedStep:
    """One step of a recorded backward pass: the node applied, its inputs, the arithmetic shown
    and every grad it changed (node -> grad after)."""

    node: Value
    inputs: tuple[Value, ...]
    lines: tuple[str, ...]
    grads: tuple[tuple[Value, float], ...]


def record_backward(
    root: Value, values: Sequence[Value], name: Callable[[Value], str] | None = None
) -> list[RecordedStep]:
    """Every step of a fresh step-through of ``root`` (from zeroed grads), as
    :class:`BackwardStepper` shows them, recorded so it can be replayed without Python. The
    grads are left exactly as they were."""
    saved = [v.grad for v in values]
    try:
        stepper = BackwardStepper(root, values, name)
        stepper.reset()
        record = []
        while not stepper.finished:
            lines = stepper.step()
            node = stepper.active
            assert node is not None  # a step was applied
            changed = ([root] if not record else []) + list(node._prev)
            record.append(
                RecordedStep(
                    node,
                    node._prev,
                    tuple(lines),
                    tuple((v, v.grad) for v in dict.fromkeys(changed)),
                )
            )
        return record
    finally:
        for v, grad in zip(values, saved):
            v.grad = grad
