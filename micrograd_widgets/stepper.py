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
from collections.abc import Callable, Sequence

from .engine import ChainRuleTerm, Value, derivative_text

__all__ = ["BackwardStepper", "node_names"]

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
        self.done = 0  # steps applied
        self.seeded = False  # root.grad set to 1.0
        #: the node of the last step shown (None: nothing shown, or the pass is complete)
        self.active: Value | None = None
        #: the arithmetic of the last steps shown
        self.lines: list[str] = []

    @property
    def finished(self) -> bool:
        """True when every step has been applied."""
        return self.seeded and self.done >= len(self.steps)

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
            if term.grad_before != 0.0:
                line += f"  →  {child}.grad = {fmt(term.grad_before)} + " + (
                    f"{fmt(term.contribution)} = {fmt(term.grad_after)}"
                )
            lines.append(line)
        return lines
