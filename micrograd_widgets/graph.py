"""GraphWidget: the live computation graph of a Value, with a backward step-through.

Python is the source of truth; the browser view only draws what it is sent:

* ``topology`` (a dict, sent only when the root or the grouping changes): the nodes the view lays
  out, the edges between them, and the module-scope boxes they sit in. A change re-lays out.
* ``numbers`` (a Float64 buffer, sent on every refresh): data and grad per node, then the local
  derivative per edge. A change recolours the nodes and rewrites their numbers, keeping the
  layout, so refreshing after a training step is cheap.
* ``step_state``: where the step-through is and the arithmetic of the last step.

Big graphs are summarised here before anything is sent: nodes are grouped by module scope
(``layers.0.neurons.3`` ...) from the parameters' dotted names, groups start collapsed when the
whole graph would exceed ``max_nodes``, and whatever still does not fit is cut (the nodes
nearest the output are kept) with a note saying what was hidden and how to see more.
"""

from __future__ import annotations

import math
import os
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import traitlets

from ._widget import BaseWidget, asset
from .engine import ChainRuleTerm, Value
from .nn import Module

__all__ = ["GraphWidget"]

_RANKDIRS = ("LR", "TB", "RL", "BT")
# A parameter label that names its module: pairs like "layers.0." then "w.<i>" or "b".
_PARAM_LABEL = re.compile(r"^((?:[A-Za-z_]\w*\.\d+\.)+)(?:w\.\d+|b)$")
_MAX_SVG_CHARS = 50_000_000
# Opening groups by hand may draw more than max_nodes, but never more than this (the browser
# lays out 2,000 nodes in ~0.2 s; much beyond that gets slow and unreadable).
_HARD_LIMIT = 3000


def _fmt(x: float) -> str:
    """A short, exact-looking number for the step arithmetic (3.0, -0.070651, 1.2e-07)."""
    if not math.isfinite(x):
        return repr(x)
    text = f"{x:.6g}"
    return text if any(ch in text for ch in ".einf") else text + ".0"


@dataclass
class _Scope:
    """A module (neuron, layer, model) that nodes can be grouped under."""

    path: str
    title: str
    parent: int  # scope id, -1 for a top-level scope
    depth: int
    children: list[int] = field(default_factory=list)


@dataclass
class _Unit:
    """One thing the view lays out: a Value, a collapsed group, or the 'cut' summary."""

    kind: str  # "value" | "group" | "more"
    box: int = -1  # index into boxes of the innermost expanded scope around it
    value: int = -1  # value index (kind "value")
    scope: int = -1  # scope id (kind "group")
    count: int = 0  # values inside (kind "group" / "more")


class GraphWidget(BaseWidget):
    """The computation graph behind ``root``, live in the notebook.

    ``GraphWidget(L)`` draws every Value (label, data, grad; coloured by grad) and every op.
    ``refresh()`` redraws the numbers after Python changed them (e.g. another ``backward()``),
    keeping the layout. ``step()`` / ``run()`` / ``reset_grads()`` walk backpropagation one
    node at a time (also as buttons). ``model=`` groups nodes by module (neuron, layer);
    ``max_nodes`` bounds what is drawn. ``save_svg(path)`` exports the current drawing.
    """

    _esm = asset("graph.js")
    _css = asset("graph.css")

    topology = traitlets.Dict().tag(sync=True)
    numbers = traitlets.Bytes(b"").tag(sync=True)
    step_state = traitlets.Dict().tag(sync=True)
    #: the node shown in the detail panel (index into topology["units"]), -1 for none
    selected = traitlets.Int(-1).tag(sync=True)
    rankdir = traitlets.Enum(_RANKDIRS, default_value="LR").tag(sync=True)
    font_size = traitlets.Int(13).tag(sync=True)
    #: maximum height of the drawing area in pixels (it scrolls / pans beyond that)
    height = traitlets.Int(520).tag(sync=True)

    def __init__(
        self,
        root: Value,
        *,
        model: Module | None = None,
        max_nodes: int = 300,
        rankdir: str = "LR",
        font_size: int = 13,
        height: int = 520,
        **kwargs: Any,
    ) -> None:
        if rankdir not in _RANKDIRS:
            raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
        if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 10:
            raise ValueError(f"max_nodes must be an integer >= 10, got {max_nodes!r}")
        if (
            isinstance(font_size, bool)
            or not isinstance(font_size, int)
            or not 6 <= font_size <= 48
        ):
            raise ValueError(f"font_size must be an integer from 6 to 48, got {font_size!r}")
        super().__init__(rankdir=rankdir, font_size=font_size, height=height, **kwargs)
        self.max_nodes = max_nodes
        self._svg_requests: dict[int, Path] = {}
        self._next_request = 0
        #: the file the last save_svg() wrote (None until a view has answered)
        self.last_saved_svg: Path | None = None
        self.set_root(root, model=model)

    # ---- public API ----------------------------------------------------------------------

    @property
    def root(self) -> Value:
        return self._root

    @root.setter
    def root(self, root: Value) -> None:
        self.set_root(root, model=self._model)

    def set_root(self, root: Value, model: Module | None = None) -> None:
        """Show a new graph (re-lays out); ``model`` groups its nodes by module scope."""
        if not isinstance(root, Value):
            raise TypeError(
                f"GraphWidget expects a Value (the output node), got {type(root).__name__}"
            )
        if model is not None and not isinstance(model, Module):
            raise TypeError(
                f"model must be a Module (Neuron, Layer, MLP), got {type(model).__name__}"
            )
        self._root = root
        self._model = model
        self._values = root.topological_order()
        self._index = {v: i for i, v in enumerate(self._values)}
        self._build_scopes()
        self._budget = self.max_nodes  # grows when the user opens a group (up to _HARD_LIMIT)
        self._collapsed = self._initial_collapse()
        self._steps = [v for v in root.backward_order() if v._prev]
        self._cursor = 0  # steps applied
        self._seeded = False
        with self.hold_sync():
            self._send_topology()
            self._send_numbers()
            self._set_step_state([], active=None)

    def refresh(self) -> None:
        """Redraw data, grads and colours from the Values (the layout stays)."""
        self._send_numbers()

    def step(self, n: int = 1) -> list[str]:
        """Apply the next ``n`` chain-rule steps of backpropagation; return their arithmetic."""
        lines: list[str] = []
        active: Value | None = None
        for _ in range(n):
            if self.finished:
                break
            active, step_lines = self._apply_step()
            lines.extend(step_lines)
        return self._show_steps(lines, active)

    def run(self) -> None:
        """Apply all remaining steps: the grads then equal those of ``root.backward()``."""
        active: Value | None = None
        lines: list[str] = []
        while not self.finished:
            active, lines = self._apply_step()
        self._show_steps(lines, active)

    def _show_steps(self, lines: list[str], active: Value | None) -> list[str]:
        """Send the new grads and the arithmetic of the steps just applied (``active``: the last
        node stepped, None if there was nothing left to apply); returns the lines shown."""
        if active is None:
            lines = ["Backward pass complete: every grad is final. Reset grads to start again."]
        with self.hold_sync():
            self._send_numbers()
            self._set_step_state(lines, active)
        return lines

    def reset_grads(self) -> None:
        """Zero the grad of every node in the graph and restart the step-through."""
        for v in self._values:
            v.grad = 0.0
        self._cursor = 0
        self._seeded = False
        with self.hold_sync():
            self._send_numbers()
            self._set_step_state([], active=None)

    @property
    def finished(self) -> bool:
        """True when the step-through has applied every step."""
        return self._seeded and self._cursor >= len(self._steps)

    @property
    def selected_value(self) -> Value | None:
        """The Value shown in the detail panel (None for none, or for a group)."""
        if 0 <= self.selected < len(self._units) and self._units[self.selected].kind == "value":
            return self._values[self._units[self.selected].value]
        return None

    def expand(self, scope: str) -> None:
        """Open the group of module ``scope`` (e.g. ``"layers.0.neurons.3"``); re-lays out."""
        self._open(self._scope_id(scope))

    def collapse(self, scope: str) -> None:
        """Fold the nodes of module ``scope`` into one box; re-lays out."""
        self._fold(self._scope_id(scope))

    @property
    def scopes(self) -> list[str]:
        """The module scopes nodes are grouped by ("" is the model itself)."""
        return [s.path for s in self._scopes]

    def save_svg(self, path: str | Path) -> None:
        """Save the drawing as a standalone SVG file at ``path``.

        The browser view holds the drawing, and a Python call cannot wait for its reply inside
        the same cell: this asks the displayed view for its SVG and returns at once; the file is
        written when the reply arrives (right after the cell finishes). The toolbar's "Save SVG"
        button downloads the same file from the browser.
        """
        target = Path(path).expanduser().resolve()
        if not target.parent.is_dir():
            raise FileNotFoundError(f"cannot save the SVG: folder {target.parent} does not exist")
        request = self._next_request
        self._next_request += 1
        self._svg_requests[request] = target
        self.send({"type": "export_svg", "request": request})
        print(
            f"GraphWidget: asked the view for its SVG; {target} is written when the view replies "
            "(after this cell finishes; the widget must be displayed)."
        )

    # ---- messages from the view --------------------------------------------------------

    def _on_step(self, _content: dict, _buffers: list[bytes]) -> None:
        self.step()

    def _on_run(self, _content: dict, _buffers: list[bytes]) -> None:
        self.run()

    def _on_reset(self, _content: dict, _buffers: list[bytes]) -> None:
        self.reset_grads()

    def _on_select(self, content: dict, _buffers: list[bytes]) -> None:
        unit = content.get("unit")
        if not isinstance(unit, int) or not -1 <= unit < len(self._units):
            raise ValueError(f"select: expected a node index from -1 to {len(self._units) - 1}")
        self.selected = unit

    def _on_toggle(self, content: dict, _buffers: list[bytes]) -> None:
        scope = content.get("scope")
        if not isinstance(scope, int) or not 0 <= scope < len(self._scopes):
            raise ValueError(f"toggle: expected a group index from 0 to {len(self._scopes) - 1}")
        if scope in self._collapsed:
            self._open(scope)
        else:
            self._fold(scope)

    def _fold(self, scope: int) -> None:
        self._collapsed.add(scope)
        self._send_topology_and_numbers()

    def _open(self, scope: int) -> None:
        """Unfold a group; what the user opens is drawn even beyond max_nodes (up to a limit)."""
        if scope in self._collapsed:
            self._collapsed.discard(scope)
            extra = self._direct_cost[scope] + len(self._scopes[scope].children)
            self._budget = min(_HARD_LIMIT, max(self._budget, self._drawn_cost + extra))
        self._send_topology_and_numbers()

    def _on_svg(self, content: dict, _buffers: list[bytes]) -> None:
        target = self._svg_requests.pop(content.get("request"), None)  # type: ignore[arg-type]
        if target is None:
            return  # a second view answering the same request, or a stale reply
        svg = content.get("svg")
        if not isinstance(svg, str) or not svg.lstrip().startswith(("<svg", "<?xml")):
            raise ValueError("export: the view did not send an SVG document")
        if len(svg) > _MAX_SVG_CHARS:
            raise ValueError(f"export: the SVG is larger than {_MAX_SVG_CHARS:,} characters")
        # Write beside the target, then rename: nobody ever sees a half-written file.
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(svg, encoding="utf-8")
        os.replace(partial, target)
        self.last_saved_svg = target

    # ---- module scopes -----------------------------------------------------------------

    def _build_scopes(self) -> None:
        """Find the module scopes of the parameters, then give every node a scope (or -1)."""
        self._scopes: list[_Scope] = []
        by_path: dict[str, int] = {}
        param_scope: dict[Value, int] = {}

        def scope_for(chain: list[tuple[str, str]]) -> int:
            parent = -1
            for path, title in chain:
                sid = by_path.get(path)
                if sid is None:
                    sid = len(self._scopes)
                    by_path[path] = sid
                    depth = self._scopes[parent].depth + 1 if parent >= 0 else 0
                    self._scopes.append(_Scope(path, title, parent, depth))
                    if parent >= 0:
                        self._scopes[parent].children.append(sid)
                parent = sid
            return parent

        if self._model is not None:
            for name, p in self._model.named_parameters():
                if p in self._index:  # parameters this graph does not use get no box
                    param_scope[p] = scope_for(_module_chain(self._model, name))
        else:
            for v in self._values:
                match = None if v._prev else _PARAM_LABEL.match(v.label)
                if match:
                    parts = match.group(1).rstrip(".").split(".")
                    paths = [".".join(parts[: i + 2]) for i in range(0, len(parts), 2)]
                    param_scope[v] = scope_for([(path, path) for path in paths])

        # A node that uses parameters directly belongs to their module; any other node to the
        # innermost module around all of its inputs (-1: outside every module).
        scope = [-1] * len(self._values)
        for i, v in enumerate(self._values):
            if not v._prev:
                scope[i] = param_scope.get(v, -1)
                continue
            direct = [param_scope[c] for c in v._prev if c in param_scope]
            inputs = direct or [scope[self._index[c]] for c in v._prev]
            s = inputs[0]
            for other in inputs[1:]:
                s = self._common_scope(s, other)
            scope[i] = s
        # An unnamed constant used only inside one module (a float input wrapped per use) belongs
        # there; named inputs (x1, ...) stay outside, as the module's inputs.
        consumer_scopes: dict[int, set[int]] = {}
        for i, v in enumerate(self._values):
            for child in v._prev:
                c = self._index[child]
                unnamed_constant = not child._prev and not child.label and child not in param_scope
                if unnamed_constant and scope[c] < 0:
                    consumer_scopes.setdefault(c, set()).add(scope[i])
        for c, scopes in consumer_scopes.items():
            if len(scopes) == 1 and min(scopes) >= 0 and self._values[c] is not self._root:
                scope[c] = scopes.pop()
        self._value_scope = scope

    def _common_scope(self, a: int, b: int) -> int:
        if a < 0 or b < 0:
            return -1
        scopes = self._scopes
        while scopes[a].depth > scopes[b].depth:
            a = scopes[a].parent
        while scopes[b].depth > scopes[a].depth:
            b = scopes[b].parent
        while a != b:
            a, b = scopes[a].parent, scopes[b].parent
        return a

    def _scope_id(self, path: str) -> int:
        for sid, s in enumerate(self._scopes):
            if s.path == path:
                return sid
        known = ", ".join(repr(s.path) for s in self._scopes[:8]) or "none (pass model=)"
        raise KeyError(f"no module scope {path!r} in this graph; scopes: {known}")

    def _initial_collapse(self) -> set[int]:
        """Everything open if it fits in max_nodes; else open groups top-down while they fit."""
        direct_cost = [0] * len(self._scopes)
        outside_cost = 0
        for i, v in enumerate(self._values):
            cost = 2 if v._prev else 1
            if self._value_scope[i] >= 0:
                direct_cost[self._value_scope[i]] += cost
            else:
                outside_cost += cost
        self._direct_cost = direct_cost
        full = outside_cost + sum(direct_cost) + len(self._scopes)
        if full <= self.max_nodes:
            return set()
        collapsed = set(range(len(self._scopes)))
        top = [sid for sid, s in enumerate(self._scopes) if s.parent < 0]
        cost = outside_cost + len(top)
        queue = deque(top)
        while queue:
            sid = queue.popleft()
            extra = direct_cost[sid] + len(self._scopes[sid].children)  # box replaces the node
            if cost + extra <= self.max_nodes:
                cost += extra
                collapsed.discard(sid)
                queue.extend(self._scopes[sid].children)
        return collapsed

    # ---- what the view draws -----------------------------------------------------------

    def _build_units(self) -> None:
        """Turn values + collapsed scopes into the nodes, edges and boxes the view lays out."""
        values, scopes = self._values, self._scopes
        # the outermost collapsed scope around each scope (-1 if none), and the innermost open one
        folded_into = [-1] * len(scopes)
        open_box_scope = [-1] * len(scopes)
        for sid, s in enumerate(scopes):  # parents are created before children
            p = s.parent
            folded_into[sid] = folded_into[p] if p >= 0 and folded_into[p] >= 0 else -1
            if folded_into[sid] < 0 and sid in self._collapsed:
                folded_into[sid] = sid
            open_box_scope[sid] = (
                sid if folded_into[sid] < 0 else (open_box_scope[p] if p >= 0 else -1)
            )

        self._open_box_count = sum(1 for f in folded_into if f < 0)
        units: list[_Unit] = []
        group_unit: dict[int, int] = {}
        unit_of = [-1] * len(values)
        for i in range(len(values)):
            sid = self._value_scope[i]
            fold = folded_into[sid] if sid >= 0 else -1
            if fold >= 0:
                u = group_unit.get(fold)
                if u is None:
                    u = group_unit[fold] = len(units)
                    units.append(_Unit("group", scope=fold))
                units[u].count += 1
            else:
                u = len(units)
                units.append(_Unit("value", value=i))
            unit_of[i] = u

        # edges child -> parent; value-to-value edges keep (parent value, input position)
        edges: list[tuple[int, int, int, int]] = []  # (src unit, dst unit, value, position)
        seen_group_edges: set[tuple[int, int]] = set()
        for i, v in enumerate(values):
            dst = unit_of[i]
            for k, child in enumerate(v._prev):
                src = unit_of[self._index[child]]
                if src == dst:
                    continue
                if units[src].kind == "value" and units[dst].kind == "value":
                    edges.append((src, dst, i, k))
                elif (src, dst) not in seen_group_edges:
                    seen_group_edges.add((src, dst))
                    edges.append((src, dst, -1, -1))

        root_unit = unit_of[self._index[self._root]]
        units, edges, unit_map, cut = self._cut_to_budget(units, edges, root_unit)
        unit_of = [unit_map[u] for u in unit_of]

        # boxes: open scopes that still contain something, nested like the modules
        box_of_scope: dict[int, int] = {}
        boxes: list[int] = []

        def box_for(sid: int) -> int:
            if sid < 0:
                return -1
            if sid not in box_of_scope:
                box_for(scopes[sid].parent)
                box_of_scope[sid] = len(boxes)
                boxes.append(sid)
            return box_of_scope[sid]

        for unit in units:
            if unit.kind == "value":
                sid = self._value_scope[unit.value]
                unit.box = box_for(open_box_scope[sid] if sid >= 0 else -1)
            elif unit.kind == "group":
                parent = scopes[unit.scope].parent
                unit.box = box_for(open_box_scope[parent] if parent >= 0 else -1)

        self._units, self._edges, self._unit_of, self._boxes = units, edges, unit_of, boxes
        self._root_unit = unit_map[root_unit]
        self._cut = cut

    def _cut_to_budget(
        self, units: list[_Unit], edges: list[tuple[int, int, int, int]], root_unit: int
    ) -> tuple[list[_Unit], list[tuple[int, int, int, int]], list[int], int]:
        """Keep the units nearest the root within max_nodes; summarise the rest in one node."""

        def cost(u: _Unit) -> int:
            return 2 if u.kind == "value" and self._values[u.value]._prev else 1

        total = sum(cost(u) for u in units) + self._open_box_count  # boxes are drawn too
        self._drawn_cost = min(total, self._budget)
        if total <= self._budget:
            return units, edges, list(range(len(units))), 0
        inputs: list[list[int]] = [[] for _ in units]
        for src, dst, *_ in edges:
            inputs[dst].append(src)
        keep = [False] * len(units)
        budget = self._budget - 1  # room for the summary node
        queue = deque([root_unit])
        keep[root_unit] = True
        budget -= cost(units[root_unit])
        while queue:  # breadth-first from the output: the last operations stay visible
            u = queue.popleft()
            for src in inputs[u]:
                if not keep[src] and cost(units[src]) <= budget:
                    keep[src] = True
                    budget -= cost(units[src])
                    queue.append(src)
        new_index = [-1] * len(units)
        kept: list[_Unit] = []
        cut_values = 0
        for u, unit in enumerate(units):
            if keep[u]:
                new_index[u] = len(kept)
                kept.append(unit)
            else:
                cut_values += unit.count if unit.kind == "group" else 1
        more = len(kept)
        kept.append(_Unit("more", count=cut_values))
        new_edges: list[tuple[int, int, int, int]] = []
        from_more: set[int] = set()
        for src, dst, value, pos in edges:
            if not keep[dst]:
                continue
            if keep[src]:
                new_edges.append((new_index[src], new_index[dst], value, pos))
            elif new_index[dst] not in from_more:
                from_more.add(new_index[dst])
                new_edges.append((more, new_index[dst], -1, -1))
        unit_map = [new_index[u] if keep[u] else more for u in range(len(units))]
        return kept, new_edges, unit_map, cut_values

    def _name(self, value_index: int) -> str:
        return self._values[value_index].label or f"#{value_index}"

    def _send_topology(self) -> None:
        self._build_units()
        self._group_output = self._group_outputs()
        scopes = self._scopes
        units_json: list[dict[str, Any]] = []
        for unit in self._units:
            if unit.kind == "value":
                v = self._values[unit.value]
                name = self._name(unit.value)
                # inside its module's box, "layers.0.neurons.3.w.1" reads as "w.1"
                prefix = scopes[self._boxes[unit.box]].path + "." if unit.box >= 0 else ""
                short = name[len(prefix) :] if prefix != "." and name.startswith(prefix) else name
                units_json.append(
                    {
                        "kind": "value",
                        "name": name,
                        "short": short,
                        "label": v.label,
                        "op": v._op,
                        "box": unit.box,
                    }
                )
            elif unit.kind == "group":
                s = scopes[unit.scope]
                units_json.append(
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
                units_json.append({"kind": "more", "count": unit.count, "box": -1})
        edges_json = [
            [src, dst, self._local_formula(value, pos) if value >= 0 else ""]
            for src, dst, value, pos in self._edges
        ]
        boxes_json = [
            {
                "scope": sid,
                "name": scopes[sid].path or scopes[sid].title,
                "title": scopes[sid].title,
                "parent": self._boxes.index(scopes[sid].parent) if scopes[sid].parent >= 0 else -1,
            }
            for sid in self._boxes
        ]
        shown = sum(1 for u in self._units if u.kind == "value")
        notes = []
        folded = sum(1 for u in self._units if u.kind == "group")
        if folded:
            notes.append(
                f"{folded} module group(s) are folded: click a dashed box to open it "
                "(or widget.expand(name))."
            )
        if self._cut:
            more = (
                "fold groups or raise max_nodes"
                if self._model is not None
                else "pass model= to group by module, or raise max_nodes"
            )
            notes.append(
                f"{self._cut:,} of {len(self._values):,} nodes are not drawn (limit max_nodes="
                f"{self._budget}); shown: the {len(self._units) - 1:,} nodes nearest the output. "
                f"To see more, {more}."
            )
        previous = self.topology.get("version", 0) if self.topology else 0
        self.selected = -1
        self.topology = {
            "version": previous + 1,
            "units": units_json,
            "edges": edges_json,
            "boxes": boxes_json,
            "root": self._root_unit,
            "total": len(self._values),
            "shown": shown,
            "note": " ".join(notes),
        }

    def _send_numbers(self) -> None:
        """Data and grad per unit, then the local derivative per edge, as one Float64 buffer."""
        n_units, n_edges = len(self._units), len(self._edges)
        out = np.full(2 * n_units + n_edges, np.nan)
        group_output = self._group_output  # found once per topology: refresh stays O(drawn)
        for u, unit in enumerate(self._units):
            i = unit.value if unit.kind == "value" else group_output.get(u, -1)
            if i >= 0:
                v = self._values[i]
                out[u], out[n_units + u] = v.data, v.grad
        for e, (_src, _dst, value, pos) in enumerate(self._edges):
            if value >= 0:
                out[2 * n_units + e] = self._values[value]._local_grads[pos]
        self.numbers = out.astype("<f8").tobytes()

    def _group_outputs(self) -> dict[int, int]:
        """For each folded group with exactly one value used outside it: that value's index."""
        outputs: dict[int, set[int]] = {}
        for i, v in enumerate(self._values):
            for child in v._prev:
                c = self._index[child]
                cu = self._unit_of[c]
                if cu != self._unit_of[i] and self._units[cu].kind == "group":
                    outputs.setdefault(cu, set()).add(c)
        root = self._index[self._root]
        ru = self._unit_of[root]
        if self._units[ru].kind == "group":
            outputs.setdefault(ru, set()).add(root)
        return {u: next(iter(s)) for u, s in outputs.items() if len(s) == 1}

    def _send_topology_and_numbers(self) -> None:
        with self.hold_sync():
            self._send_topology()
            self._send_numbers()
            self._set_step_state(self.step_state.get("lines", []), self._last_active)

    # ---- backward step-through ---------------------------------------------------------

    def _apply_step(self) -> tuple[Value, list[str]]:
        lines = []
        if not self._seeded:
            self._seeded = True
            self._root.grad = 1.0
            name = self._name(self._index[self._root])
            lines.append(f"{name}.grad = 1.0  (seed: ∂{name}/∂{name} = 1)")
            if any(v.grad != 0.0 for v in self._values if v is not self._root):
                lines.append(
                    "note: grads were not zero, so this pass adds to them (as backward() does); "
                    "Reset grads first for a fresh pass."
                )
            if not self._steps:
                return self._root, lines
        node = self._steps[self._cursor]
        self._cursor += 1
        lines.extend(self._explain(node, node.propagate()))
        return node, lines

    def _explain(self, node: Value, terms: list[ChainRuleTerm]) -> list[str]:
        i = self._index[node]
        out = self._name(i)
        lines = []
        for k, term in enumerate(terms):
            child = self._name(self._index[term.child])
            line = (
                f"{child}.grad += {self._local_formula(i, k)} × {out}.grad = "
                f"{_fmt(term.local_grad)} × {_fmt(term.out_grad)} = {_fmt(term.contribution)}"
            )
            if term.grad_before != 0.0:
                line += f"  →  {child}.grad = {_fmt(term.grad_before)} + " + (
                    f"{_fmt(term.contribution)} = {_fmt(term.grad_after)}"
                )
            lines.append(line)
        return lines

    def _local_formula(self, value_index: int, position: int) -> str:
        """d(node)/d(input) written with names, e.g. ``b.data`` for the ``a`` input of ``a*b``."""
        node = self._values[value_index]
        op, prev = node._op, node._prev
        out = self._name(value_index)
        x = self._name(self._index[prev[position]])
        other = self._name(self._index[prev[1 - position]]) if len(prev) == 2 else ""
        if op == "+":
            return "1"
        if op == "-":
            return "1" if position == 0 else "-1"
        if op == "*":
            return f"{other}.data"
        if op == "/":
            return f"1/{other}.data" if position == 0 else f"-{out}.data/{x}.data"
        if op == "neg":
            return "-1"
        if op.startswith("**"):
            n = op[2:]
            return f"{n}·{x}.data^({n}-1)"
        formulas = {
            "tanh": f"(1 - {out}.data²)",
            "ReLU": f"[{x}.data > 0]",
            "exp": f"{out}.data",
            "log": f"1/{x}.data",
            "sigmoid": f"{out}.data·(1 - {out}.data)",
        }
        return formulas.get(op, f"∂{out}/∂{x}")

    def _set_step_state(self, lines: list[str], active: Value | None) -> None:
        self._last_active = active
        unit_of_value = self._unit_of
        active_unit = unit_of_value[self._index[active]] if active is not None else -1
        children = (
            sorted({unit_of_value[self._index[c]] for c in active._prev} - {active_unit})
            if active is not None
            else []
        )
        upcoming = self._steps[self._cursor] if self._seeded and not self.finished else None
        if not self._seeded and self._steps:
            upcoming = self._steps[0]
        self.step_state = {
            "done": self._cursor,
            "total": len(self._steps),
            "seeded": self._seeded,
            "finished": self.finished,
            "active": active_unit,
            "children": children,
            "lines": list(lines),
            "next": self._name(self._index[upcoming]) if upcoming is not None else "",
        }


def _module_chain(model: Module, name: str) -> list[tuple[str, str]]:
    """The modules on the way to parameter ``name``: [(path, title), ...], model first."""
    chain = [("", repr(model))]
    obj: Any = model
    parts = name.split(".")
    for i, part in enumerate(parts[:-1]):
        try:
            obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
        except (AttributeError, IndexError, KeyError, TypeError):
            break
        if isinstance(obj, Module):
            path = ".".join(parts[: i + 1])
            chain.append((path, f"{path} · {obj!r}"))
    return chain
