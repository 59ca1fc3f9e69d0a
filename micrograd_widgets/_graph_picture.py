"""A GraphWidget's drawing in matplotlib, from its synced state (``topology`` and ``numbers``).

The view lays the graph out in the browser; this draws the same units, edges and numbers in
Python, so there is a picture with no view open (``graph.snapshot()``, ``graph.to_svg(...)``).
Its layout is a plain layered one: each unit's rank is its longest path from an input, each
Value made by an op gets its op bubble one column before it (as the view and ``draw_dot`` do),
and a few barycentre sweeps order each column to keep edges short. It follows ``rankdir``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from ._picture_scale import PictureError, diverging

__all__ = ["graph_figure", "layered_positions"]

#: barycentre sweeps when ordering the columns
SWEEPS = 4
#: the largest drawing (inches) before the text gets too small to matter
MAX_INCHES = 24.0


def _ranks(n_units: int, edges: list[tuple[int, int]]) -> list[int]:
    """Longest path from a source, per unit (the edges form a DAG, sources are inputs)."""
    incoming: dict[int, list[int]] = defaultdict(list)
    outgoing: dict[int, list[int]] = defaultdict(list)
    for src, dst in edges:
        incoming[dst].append(src)
        outgoing[src].append(dst)
    indegree = [len(incoming[u]) for u in range(n_units)]
    rank = [0] * n_units
    queue = [u for u in range(n_units) if indegree[u] == 0]
    while queue:
        u = queue.pop()
        for v in outgoing[u]:
            rank[v] = max(rank[v], rank[u] + 1)
            indegree[v] -= 1
            if indegree[v] == 0:
                queue.append(v)
    return rank


def _barycentre(
    u: int, col: int, neighbours: dict, column: dict[int, int], order: dict[int, float]
) -> float:
    """Mean row of ``u``'s neighbours in other columns (its own row if it has none)."""
    near = [order[n] for n in neighbours[u] if column[n] != col]
    return sum(near) / len(near) if near else order[u]


def layered_positions(
    units: list[dict[str, Any]], edges: list[tuple[int, int]]
) -> tuple[dict[int, tuple[float, float]], dict[int, tuple[float, float]]]:
    """(column, row) per unit, and per unit made by an op its op bubble's (column, row).
    Columns run from the inputs (0) to the output; rows are centred on 0."""
    rank = _ranks(len(units), edges)
    # an input sits just before its first consumer (a later layer's weight is not drawn far
    # left of it with the data)
    consumers: dict[int, list[int]] = defaultdict(list)
    sources = set(range(len(units))) - {dst for _, dst in edges}
    for src, dst in edges:
        consumers[src].append(dst)
    for u in sources:
        if consumers[u]:
            rank[u] = min(rank[v] for v in consumers[u]) - 1
    column = {u: 2 * rank[u] for u in range(len(units))}
    has_op = {u for u, unit in enumerate(units) if unit.get("kind") == "value" and unit.get("op")}
    by_column: dict[int, list[int]] = defaultdict(list)
    for u in sorted(column, key=lambda u: (column[u], u)):
        by_column[column[u]].append(u)
    neighbours: dict[int, list[int]] = defaultdict(list)
    for src, dst in edges:
        neighbours[src].append(dst)
        neighbours[dst].append(src)
    order: dict[int, float] = {}
    for members in by_column.values():
        for i, u in enumerate(members):
            order[u] = i - (len(members) - 1) / 2
    columns = sorted(by_column)
    for sweep in range(SWEEPS):
        for c in columns if sweep % 2 == 0 else reversed(columns):
            members = by_column[c]
            members.sort(key=lambda u, c=c: _barycentre(u, c, neighbours, column, order))
            for i, u in enumerate(members):
                order[u] = i - (len(members) - 1) / 2
    positions = {u: (float(column[u]), float(order[u])) for u in range(len(units))}
    bubbles = {u: (column[u] - 1.0, order[u]) for u in has_op}
    return positions, bubbles


def _text(x: float) -> str:
    if not math.isfinite(x):
        return "–"
    return f"{x:.4g}"


def graph_figure(widget: Any) -> Any:
    """A Figure of the graph ``widget`` draws: value boxes (name, data, grad; coloured by grad
    as in the view), op bubbles, folded groups and what was cut, with their edges."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

    topology = dict(widget.topology or {})
    units: list[dict[str, Any]] = list(topology.get("units", []))
    if not units:
        raise PictureError("this GraphWidget has nothing drawn yet")
    edges = [(int(e[0]), int(e[1])) for e in topology.get("edges", [])]
    numbers = np.frombuffer(bytes(widget.numbers), dtype="<f8")
    n = len(units)
    data = numbers[:n] if numbers.size >= 2 * n else np.full(n, np.nan)
    grad = numbers[n : 2 * n] if numbers.size >= 2 * n else np.full(n, np.nan)
    finite = np.abs(grad[np.isfinite(grad)])
    scale = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    positions, bubbles = layered_positions(units, edges)

    horizontal = getattr(widget, "rankdir", "LR") in ("LR", "RL")
    flip = getattr(widget, "rankdir", "LR") in ("RL", "BT")
    step_along, step_across = (2.0, 0.9) if horizontal else (1.6, 3.6)

    def place(column: float, row: float) -> tuple[float, float]:
        along = (-column if flip else column) * step_along
        across = -row * step_across
        return (along, across) if horizontal else (across, -along)

    columns = max(p[0] for p in positions.values()) + 1
    rows = max(sum(1 for p in positions.values() if p[0] == c) for c in range(int(columns)))
    width_in = (columns * 1.1 + 1.5) if horizontal else (rows * 2.2 + 1)
    height_in = (rows * 0.55 + 1) if horizontal else (columns * 0.8 + 1)
    zoom = min(1.0, MAX_INCHES / max(width_in, height_in))
    fig = Figure(figsize=(width_in * zoom, height_in * zoom), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_aspect("equal")
    font = 7 * max(zoom, 0.5)
    box_w, box_h = 1.7, 0.6

    anchor: dict[int, tuple[float, float]] = {}
    for u, unit in enumerate(units):
        x, y = place(*positions[u])
        anchor[u] = (x, y)
        kind = unit.get("kind")
        if kind == "value":
            colour = diverging(np.array(grad[u]), scale) if math.isfinite(grad[u]) else None
            face = tuple(colour) if colour is not None else (0.97, 0.97, 0.97)
            text_colour = "#fff" if colour is not None and colour.mean() < 0.55 else "#111"
            text = f"{unit.get('short') or unit.get('name')}\ndata {_text(data[u])}\n"
            text += f"grad {_text(grad[u])}"
            edge = "#111" if u == topology.get("root") else "#666"
            width = 1.6 if u == topology.get("root") else 0.8
        elif kind == "group":
            face, text_colour, edge, width = (0.92, 0.92, 0.92), "#111", "#666", 0.8
            title = unit.get("title") or unit.get("name")
            text = f"{title}\n{unit.get('count', 0)} values (folded)"
        else:
            face, text_colour, edge, width = (1, 1, 1), "#666", "#999", 0.8
            text = f"… {unit.get('count', 0)} more"
        ax.add_patch(
            FancyBboxPatch(
                (x - box_w / 2, y - box_h / 2), box_w, box_h,
                boxstyle="round,pad=0.02,rounding_size=0.08", facecolor=face, edgecolor=edge,
                linewidth=width, linestyle="--" if kind == "more" else "-", zorder=2,
            )
        )  # fmt: skip
        ax.text(x, y, text, ha="center", va="center", fontsize=font, color=text_colour, zorder=3)
    bubble_at: dict[int, tuple[float, float]] = {}
    for u, (column, row) in bubbles.items():
        x, y = place(column, row)
        bubble_at[u] = (x, y)
        ax.add_patch(Circle((x, y), 0.22, facecolor="#fff", edgecolor="#666", lw=0.8, zorder=2))
        ax.text(x, y, str(units[u]["op"]), ha="center", va="center", fontsize=font, zorder=3)
        ax.add_patch(_arrow(FancyArrowPatch, (x, y), anchor[u]))
    for src, dst in edges:
        ax.add_patch(_arrow(FancyArrowPatch, anchor[src], bubble_at.get(dst, anchor[dst])))
    xs = [p[0] for p in [*anchor.values(), *bubble_at.values()]]
    ys = [p[1] for p in [*anchor.values(), *bubble_at.values()]]
    ax.set_xlim(min(xs) - box_w, max(xs) + box_w)
    ax.set_ylim(min(ys) - box_h * 1.2, max(ys) + box_h * 1.2)
    note = topology.get("note") or ""
    if note:
        ax.set_title(note, fontsize=font, loc="left")
    return fig


def _arrow(cls: Any, start: tuple[float, float], end: tuple[float, float]) -> Any:
    return cls(
        start, end, arrowstyle="-|>", mutation_scale=7, color="#777", lw=0.7,
        shrinkA=12, shrinkB=12, zorder=1,
    )  # fmt: skip
