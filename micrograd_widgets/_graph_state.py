"""A GraphWidget's synced state, computed apart from the widget: pure functions of what it holds
(the graph's :class:`~micrograd_widgets._graph_summary.GraphIndex`, the drawn
:class:`~micrograd_widgets._graph_summary.GraphSummary` and the
:class:`~micrograd_widgets.stepper.BackwardStepper`) that give the ``topology``, ``step_state``,
``replay`` and ``check`` traits. Tested without a browser.
"""

from __future__ import annotations

import numbers
from typing import Any

from ._graph_summary import GraphIndex, GraphSummary
from .engine import Value, derivative_text
from .stepper import BackwardStepper, finite_difference, record_backward

__all__ = [
    "MAX_REPLAY_STEPS",
    "check_whole",
    "gradient_check",
    "replay_state",
    "step_state",
    "topology_state",
]

#: the recorded backward pass is shipped for graphs with at most this many steps (it holds each
#: step's lines: ~150 bytes a step)
MAX_REPLAY_STEPS = 5000
_STATUS_CODE = {"pending": "p", "partial": "s", "final": "f"}


def check_whole(name: str, value: object, low: int, high: int | None, meaning: str) -> int:
    """``value`` if it is a whole number from ``low`` to ``high``; else a ValueError saying so."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < low
        or (high is not None and value > high)
    ):
        expected = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} is {meaning}: a whole number {expected}; got {value!r}")
    return int(value)


def step_state(graph: GraphIndex, summary: GraphSummary, stepper: BackwardStepper) -> dict:
    """The ``step_state`` trait: where the step-through is, the arithmetic of the last step,
    each unit's grad state and how each reused node's grad summed (``+=``)."""
    unit_of, index = summary.unit_of, graph.index
    active = stepper.active
    active_unit = unit_of[index[active]] if active is not None else -1
    inputs = {unit_of[index[c]] for c in active._prev} if active is not None else set()
    upcoming = stepper.upcoming
    values, units = graph.values, summary.units
    # per unit: p = grad not computed yet, s = partial sum, f = final, - = not a value
    # grads set before any step (a backward() of the caller's) count as computed
    computed = not stepper.seeded and any(v.grad != 0.0 for v in values)
    status = "".join(
        ("f" if computed else _STATUS_CODE[stepper.grad_status(values[u.value])])
        if u.kind == "value"
        else "-"
        for u in units
    )
    sums = {}
    for value in stepper.received:
        unit = unit_of[index[value]]
        if units[unit].kind == "value":
            sums[str(unit)] = stepper.grad_sum(value)
    return {
        "status": status,
        "sums": sums,
        "done": stepper.done,
        "total": len(stepper.steps),
        "seeded": stepper.seeded,
        "finished": stepper.finished,
        "active": active_unit,
        "children": sorted(inputs - {active_unit}),
        "lines": list(stepper.lines),
        "next": stepper.name(upcoming) if upcoming is not None else "",
    }


def replay_state(
    graph: GraphIndex, summary: GraphSummary, stepper: BackwardStepper, version: int
) -> dict:
    """The ``replay`` trait: the graph's backward pass recorded step by step for the view of
    topology ``version`` ({} for a pass longer than :data:`MAX_REPLAY_STEPS`)."""
    if len(stepper.steps) > MAX_REPLAY_STEPS:
        return {}
    unit_of, index, units = summary.unit_of, graph.index, summary.units

    def shown_as(value: Value) -> int:
        """The unit that shows ``value``'s grad: its own, or its folded group's output."""
        u = unit_of[index[value]]
        if units[u].kind == "value" or summary.group_output.get(u) == index[value]:
            return u
        return -1

    steps = []
    for recorded in record_backward(graph.root, graph.values, graph.name_of):
        active = unit_of[index[recorded.node]]
        inputs = sorted({unit_of[index[c]] for c in recorded.inputs} - {active})
        grads = [[u, g] for v, g in recorded.grads if (u := shown_as(v)) >= 0]
        steps.append([active, inputs, list(recorded.lines), grads])
    spans = [[0, 0] for _ in units]
    for u, unit in enumerate(units):
        if unit.kind == "value":
            spans[u] = list(stepper.consumer_span(graph.values[unit.value]))
    return {"version": version, "steps": steps, "spans": spans}


def gradient_check(graph: GraphIndex, summary: GraphSummary, node: str | Value) -> dict[str, Any]:
    """The ``check`` trait for a leaf (by name or Value): autograd's grad of a fresh backward
    pass beside the central finite difference (see
    :func:`~micrograd_widgets.stepper.finite_difference`)."""
    if isinstance(node, Value):
        leaf = node
        if leaf not in graph.index:
            raise ValueError("that Value is not part of this graph")
    elif isinstance(node, str):
        matches = [i for i, name in enumerate(graph.names) if name == node]
        if not matches:
            raise ValueError(f"no node named {node!r} in this graph")
        leaf = graph.values[matches[0]]
    else:
        raise TypeError(f"node must be a node's name or a Value, got {node!r}")
    result = finite_difference(graph.values, leaf)
    return {
        "unit": summary.unit_of[graph.index[leaf]],
        "name": graph.name_of(leaf),
        "autograd": result.autograd,
        "numeric": result.numeric,
        "h": result.h,
        "relative_error": result.relative_error,
        "note": result.note,
    }


def topology_state(summary: GraphSummary, step_of: dict[Value, int]) -> dict[str, Any]:
    """The ``topology`` trait (without its version): units, edges, boxes, what is left out;
    ``step_of`` numbers the op nodes in backward order."""
    graph = summary.graph
    scopes = graph.scopes
    units: list[dict[str, Any]] = []
    for unit in summary.units:
        if unit.kind == "value":
            v = graph.values[unit.value]
            name = graph.name(unit.value)
            # inside its module's box, "layers.0.neurons.3.w.1" reads as "w.1"
            box = scopes[summary.boxes[unit.box].scope].path if unit.box >= 0 else None
            prefix = f"{box}." if box else ""
            short = name[len(prefix) :] if prefix and name.startswith(prefix) else name
            units.append(
                {
                    "kind": "value",
                    "name": name,
                    "short": short,
                    "label": v.label,
                    "op": v._op,
                    "box": unit.box,
                    "order": step_of.get(v, 0),  # its step in the backward pass, 0 for a leaf
                }
            )
        elif unit.kind == "group":
            s = scopes[unit.scope]
            units.append(
                {
                    "kind": "group",
                    "name": s.path or s.title,
                    "title": s.title,
                    "scope": unit.scope,
                    "count": unit.count,
                    "box": unit.box,
                }
            )
        else:
            units.append({"kind": "more", "count": unit.count, "box": -1})
    edges = []
    for e in summary.edges:
        text = ""
        if e.value >= 0:
            node = graph.values[e.value]
            names = [graph.name_of(child) for child in node._prev]
            text = derivative_text(node._op, graph.name(e.value), names, e.position)
        edges.append([e.src, e.dst, text])
    boxes = [
        {
            "scope": box.scope,
            "name": scopes[box.scope].path or scopes[box.scope].title,
            "title": scopes[box.scope].title,
            "parent": box.parent,
        }
        for box in summary.boxes
    ]
    return {
        "units": units,
        "edges": edges,
        "boxes": boxes,
        "root": summary.root_unit,
        "total": len(graph.values),
        "shown": summary.shown,
        "note": summary.note,
    }
