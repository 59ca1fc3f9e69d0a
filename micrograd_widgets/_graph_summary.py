"""What a GraphWidget draws, worked out apart from the widget: module scopes, folding, budget.

Two pure steps, no widget state:

* :func:`index_graph` -- once per root: the Values in topological order (the graph's only sort),
  the module scopes (neuron, layer, model) their parameters belong to, and each Value's scope.
* :func:`summarize` -- each time a group is folded or opened: the units the view lays out (Values,
  folded groups, one "more" node for what is cut), the edges between them and the module boxes,
  as an immutable :class:`GraphSummary`.

Big graphs stay small on the wire: groups start folded when the whole graph would not fit in
``max_nodes`` (:func:`initial_collapse`), and whatever still does not fit is cut, keeping the units
nearest the output, with a note saying what was hidden and how to see more.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .engine import Value
from .nn import Module
from .stepper import node_names

#: Layout directions (Graphviz's rankdir), for GraphWidget and draw_dot alike: inputs left of
#: the output ("LR", the default), above it ("TB"), right of it ("RL") or below it ("BT").
RANKDIRS = ("LR", "TB", "RL", "BT")
# A parameter label that names its module: pairs like "layers.0." then "w.<i>" or "b".
_PARAM_LABEL = re.compile(r"^((?:[A-Za-z_]\w*\.\d+\.)+)(?:w\.\d+|b)$")
#: Opening groups by hand may draw more than max_nodes, but never more than this (the browser
#: lays out 2,000 nodes in ~0.2 s; much beyond that gets slow and unreadable).
HARD_LIMIT = 3000


def _cost(value: Value) -> int:
    """Nodes the view draws for a Value: its box, plus an op bubble if an op made it."""
    return 2 if value._a is not None else 1


@dataclass(frozen=True)
class Scope:
    """A module (neuron, layer, model) that nodes can be grouped under."""

    path: str  # dotted name, e.g. "layers.0.neurons.3" ("" for the model itself)
    title: str
    parent: int  # scope id, -1 for a top-level scope
    depth: int
    children: tuple[int, ...]


@dataclass(frozen=True)
class GraphIndex:
    """One root's graph: its Values in topological order and their module scopes."""

    root: Value
    values: tuple[Value, ...]
    index: Mapping[Value, int]  # value -> position in ``values``
    scopes: tuple[Scope, ...]  # parents before children
    value_scope: tuple[int, ...]  # per value: its scope id, -1 outside every module
    direct_cost: tuple[int, ...]  # per scope: drawn nodes of the values directly in it
    outside_cost: int  # drawn nodes of the values outside every module
    grouped_by_model: bool  # scopes come from a Module (else from parameter labels)
    names: tuple[str, ...]  # per value: its label, or its op and count in its module (tanh·3)

    def name(self, i: int) -> str:
        """How value ``i`` is called in the drawing, the step-through and the details."""
        return self.names[i]

    def name_of(self, value: Value) -> str:
        return self.name(self.index[value])

    def scope_id(self, path: str) -> int:
        for sid, scope in enumerate(self.scopes):
            if scope.path == path:
                return sid
        known = ", ".join(repr(s.path) for s in self.scopes[:8]) or "none (pass model=)"
        raise KeyError(f"no module scope {path!r} in this graph; scopes: {known}")


@dataclass(frozen=True)
class Unit:
    """One thing the view lays out: a Value, a folded group, or the summary of what was cut."""

    kind: Literal["value", "group", "more"]
    box: int  # index into GraphSummary.boxes of the innermost open module around it, -1 none
    value: int = -1  # value index (kind "value")
    scope: int = -1  # scope id (kind "group")
    count: int = 0  # values inside (kinds "group" and "more")


@dataclass(frozen=True)
class Edge:
    """Unit ``src`` feeds unit ``dst``; between two Values, as input ``position`` of ``value``."""

    src: int
    dst: int
    value: int = -1  # the consuming Value's index, -1 for an edge to or from a group
    position: int = -1


@dataclass(frozen=True)
class Box:
    """An open module drawn as a frame around its units."""

    scope: int
    parent: int  # the box around it, -1 for none


@dataclass(frozen=True)
class GraphSummary:
    """What the view lays out for one graph, one set of folded groups and one node budget."""

    graph: GraphIndex
    collapsed: frozenset[int]  # folded scope ids
    budget: int  # the most nodes drawn (max_nodes, raised by opening groups)
    units: tuple[Unit, ...]
    edges: tuple[Edge, ...]
    boxes: tuple[Box, ...]  # parents before children
    unit_of: tuple[int, ...]  # per value: the unit that draws it (a group, or "more" if cut)
    root_unit: int
    cut: int  # values not drawn at all
    drawn_cost: int  # nodes drawn, boxes included
    group_output: Mapping[int, int]  # folded group unit -> its one value used outside it

    @property
    def shown(self) -> int:
        """Values drawn as themselves."""
        return sum(1 for u in self.units if u.kind == "value")

    @property
    def note(self) -> str:
        """What the drawing leaves out and how to see it ("" when everything is drawn)."""
        notes = []
        folded = sum(1 for u in self.units if u.kind == "group")
        if folded:
            notes.append(
                f"{folded} module group(s) are folded: click a dashed box to open it "
                "(or widget.expand(name))."
            )
        if self.cut:
            more = (
                "fold groups or raise max_nodes"
                if self.graph.grouped_by_model
                else "pass model= to group by module, or raise max_nodes"
            )
            notes.append(
                f"{self.cut:,} of {len(self.graph.values):,} nodes are not drawn (limit "
                f"max_nodes={self.budget}); shown: the {len(self.units) - 1:,} nodes nearest the "
                f"output. To see more, {more}."
            )
        return " ".join(notes)

    def numbers(self) -> np.ndarray:
        """Data and grad per unit, then the local derivative per edge (NaN where none), read
        from the Values now: O(drawn), so refreshing after every training step stays cheap."""
        values = self.graph.values
        n_units = len(self.units)
        out = np.full(2 * n_units + len(self.edges), np.nan)
        for u, unit in enumerate(self.units):
            i = unit.value if unit.kind == "value" else self.group_output.get(u, -1)
            if i >= 0:
                out[u], out[n_units + u] = values[i].data, values[i].grad
        for e, edge in enumerate(self.edges):
            if edge.value >= 0:
                out[2 * n_units + e] = values[edge.value]._local_grads[edge.position]
        return out

    def opened(self, scope: int) -> tuple[frozenset[int], int]:
        """The folded scopes and the budget once ``scope`` is opened: what the user opens is
        drawn even beyond max_nodes (up to :data:`HARD_LIMIT`)."""
        if scope not in self.collapsed:
            return self.collapsed, self.budget
        extra = self.graph.direct_cost[scope] + len(self.graph.scopes[scope].children)
        return self.collapsed - {scope}, min(HARD_LIMIT, max(self.budget, self.drawn_cost + extra))


# ---- index_graph: scopes, once per root -------------------------------------------------------


def index_graph(root: Value, model: Module | None = None) -> GraphIndex:
    """Sort ``root``'s graph once and find the module scope of every Value.

    Scopes come from ``model``'s parameter names, or else from parameter labels that name their
    module (``layers.0.neurons.3.w.1``).
    """
    values = tuple(root.topological_order())
    index = {v: i for i, v in enumerate(values)}
    builder = _ScopeBuilder()
    param_scope: dict[Value, int] = {}
    if model is not None:
        for name, p in model.named_parameters():
            if p in index:  # parameters this graph does not use get no box
                param_scope[p] = builder.scope_for(_module_chain(model, name))
    else:
        for v in values:
            match = None if v._prev else _PARAM_LABEL.match(v.label)
            if match:
                parts = match.group(1).rstrip(".").split(".")
                paths = [".".join(parts[: i + 2]) for i in range(0, len(parts), 2)]
                param_scope[v] = builder.scope_for([(path, path) for path in paths])
    scopes = builder.frozen()
    value_scope = _value_scopes(root, values, index, scopes, param_scope)
    # an unlabelled node inside a module is counted there: "layers.0.neurons.3.tanh·1"
    prefixes = [f"{scopes[s].path}." if s >= 0 and scopes[s].path else "" for s in value_scope]
    direct_cost = [0] * len(scopes)
    outside_cost = 0
    for v, sid in zip(values, value_scope):
        if sid >= 0:
            direct_cost[sid] += _cost(v)
        else:
            outside_cost += _cost(v)
    return GraphIndex(
        root=root,
        values=values,
        index=index,
        scopes=scopes,
        value_scope=tuple(value_scope),
        direct_cost=tuple(direct_cost),
        outside_cost=outside_cost,
        grouped_by_model=model is not None,
        names=tuple(node_names(values, prefixes)),
    )


class _ScopeBuilder:
    """Scopes as they are found, parents first."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.titles: list[str] = []
        self.parents: list[int] = []
        self.depths: list[int] = []
        self.children: list[list[int]] = []
        self.by_path: dict[str, int] = {}

    def scope_for(self, chain: list[tuple[str, str]]) -> int:
        """The id of the innermost scope of ``chain`` [(path, title), outermost first]."""
        parent = -1
        for path, title in chain:
            sid = self.by_path.get(path)
            if sid is None:
                sid = self.by_path[path] = len(self.paths)
                self.paths.append(path)
                self.titles.append(title)
                self.parents.append(parent)
                self.depths.append(self.depths[parent] + 1 if parent >= 0 else 0)
                self.children.append([])
                if parent >= 0:
                    self.children[parent].append(sid)
            parent = sid
        return parent

    def frozen(self) -> tuple[Scope, ...]:
        return tuple(
            Scope(path, title, parent, depth, tuple(children))
            for path, title, parent, depth, children in zip(
                self.paths, self.titles, self.parents, self.depths, self.children
            )
        )


def _value_scopes(
    root: Value,
    values: tuple[Value, ...],
    index: Mapping[Value, int],
    scopes: tuple[Scope, ...],
    param_scope: Mapping[Value, int],
) -> list[int]:
    """Each value's scope: a node that uses parameters directly belongs to their module; any
    other node to the innermost module around all of its inputs (-1: outside every module)."""
    scope = [-1] * len(values)
    for i, v in enumerate(values):
        if not v._prev:
            scope[i] = param_scope.get(v, -1)
            continue
        direct = [param_scope[c] for c in v._prev if c in param_scope]
        inputs = direct or [scope[index[c]] for c in v._prev]
        s = inputs[0]
        for other in inputs[1:]:
            s = _common_scope(scopes, s, other)
        scope[i] = s
    # An unnamed constant used only inside one module (a float input wrapped per use) belongs
    # there; named inputs (x1, ...) stay outside, as the module's inputs.
    consumer_scopes: dict[int, set[int]] = {}
    for i, v in enumerate(values):
        for child in v._prev:
            c = index[child]
            unnamed_constant = not child._prev and not child.label and child not in param_scope
            if unnamed_constant and scope[c] < 0:
                consumer_scopes.setdefault(c, set()).add(scope[i])
    for c, consumers in consumer_scopes.items():
        if len(consumers) == 1 and min(consumers) >= 0 and values[c] is not root:
            scope[c] = consumers.pop()
    return scope


def _common_scope(scopes: tuple[Scope, ...], a: int, b: int) -> int:
    if a < 0 or b < 0:
        return -1
    while scopes[a].depth > scopes[b].depth:
        a = scopes[a].parent
    while scopes[b].depth > scopes[a].depth:
        b = scopes[b].parent
    while a != b:
        a, b = scopes[a].parent, scopes[b].parent
    return a


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


def initial_collapse(graph: GraphIndex, max_nodes: int) -> frozenset[int]:
    """Everything open if it fits in ``max_nodes``; else open groups top-down while they fit."""
    scopes = graph.scopes
    if graph.outside_cost + sum(graph.direct_cost) + len(scopes) <= max_nodes:
        return frozenset()
    collapsed = set(range(len(scopes)))
    top = [sid for sid, s in enumerate(scopes) if s.parent < 0]
    cost = graph.outside_cost + len(top)
    queue = deque(top)
    while queue:
        sid = queue.popleft()
        extra = graph.direct_cost[sid] + len(scopes[sid].children)  # the box replaces the node
        if cost + extra <= max_nodes:
            cost += extra
            collapsed.discard(sid)
            queue.extend(scopes[sid].children)
    return frozenset(collapsed)


# ---- summarize: units, edges and boxes, each time the folding changes --------------------------


def summarize(graph: GraphIndex, collapsed: Set[int], budget: int) -> GraphSummary:
    """The units, edges and boxes the view lays out, with the scopes in ``collapsed`` folded and
    at most ``budget`` nodes drawn (the units nearest the root are kept)."""
    values, scopes, index = graph.values, graph.scopes, graph.index
    collapsed = frozenset(collapsed)
    # the outermost folded scope around each scope (-1 if none), and the innermost open one
    folded_into = [-1] * len(scopes)
    open_box_scope = [-1] * len(scopes)
    for sid, s in enumerate(scopes):  # parents come before children
        p = s.parent
        folded_into[sid] = folded_into[p] if p >= 0 and folded_into[p] >= 0 else -1
        if folded_into[sid] < 0 and sid in collapsed:
            folded_into[sid] = sid
        open_box_scope[sid] = sid if folded_into[sid] < 0 else (open_box_scope[p] if p >= 0 else -1)
    open_box_count = sum(1 for f in folded_into if f < 0)

    # one unit per value outside folded groups, one per folded group (kind, value or scope, count)
    kinds: list[Literal["value", "group", "more"]] = []
    ids: list[int] = []  # value index (kind "value") or scope id (kind "group")
    counts: list[int] = []
    group_unit: dict[int, int] = {}
    unit_of = [-1] * len(values)
    for i in range(len(values)):
        sid = graph.value_scope[i]
        fold = folded_into[sid] if sid >= 0 else -1
        if fold >= 0:
            u = group_unit.get(fold)
            if u is None:
                u = group_unit[fold] = len(kinds)
                kinds.append("group")
                ids.append(fold)
                counts.append(0)
            counts[u] += 1
        else:
            u = len(kinds)
            kinds.append("value")
            ids.append(i)
            counts.append(0)
        unit_of[i] = u

    # edges input -> consumer; value-to-value edges keep (consumer value, input position)
    edges: list[Edge] = []
    seen_group_edges: set[tuple[int, int]] = set()
    for i, v in enumerate(values):
        dst = unit_of[i]
        for k, child in enumerate(v._prev):
            src = unit_of[index[child]]
            if src == dst:
                continue
            if kinds[src] == "value" and kinds[dst] == "value":
                edges.append(Edge(src, dst, i, k))
            elif (src, dst) not in seen_group_edges:
                seen_group_edges.add((src, dst))
                edges.append(Edge(src, dst))

    def unit_cost(u: int) -> int:
        return _cost(values[ids[u]]) if kinds[u] == "value" else 1

    root_unit = unit_of[index[graph.root]]
    total = sum(unit_cost(u) for u in range(len(kinds))) + open_box_count  # boxes are drawn too
    keep = _nearest_the_root(edges, root_unit, len(kinds), unit_cost, budget, total)
    # renumber what is kept; what is cut points at one "more" unit at the end
    new_index = [-1] * len(kinds)
    kept: list[int] = []
    cut = 0
    for u in range(len(kinds)):
        if keep[u]:
            new_index[u] = len(kept)
            kept.append(u)
        else:
            cut += counts[u] if kinds[u] == "group" else 1
    more = len(kept) if cut else -1
    if cut:
        kept_edges: list[Edge] = []
        from_more: set[int] = set()
        for e in edges:
            if not keep[e.dst]:
                continue
            if keep[e.src]:
                kept_edges.append(Edge(new_index[e.src], new_index[e.dst], e.value, e.position))
            elif new_index[e.dst] not in from_more:
                from_more.add(new_index[e.dst])
                kept_edges.append(Edge(more, new_index[e.dst]))
        edges = kept_edges
        unit_of = [new_index[u] if keep[u] else more for u in unit_of]

    # boxes: open scopes that still contain something, nested like the modules
    box_of_scope: dict[int, int] = {}
    boxes: list[Box] = []

    def box_for(sid: int) -> int:
        if sid < 0:
            return -1
        if sid not in box_of_scope:
            parent = box_for(scopes[sid].parent)
            box_of_scope[sid] = len(boxes)
            boxes.append(Box(sid, parent))
        return box_of_scope[sid]

    units: list[Unit] = []
    for u in kept:
        if kinds[u] == "value":
            sid = graph.value_scope[ids[u]]
            units.append(Unit("value", box_for(open_box_scope[sid] if sid >= 0 else -1), ids[u]))
        else:
            parent = scopes[ids[u]].parent
            box = box_for(open_box_scope[parent] if parent >= 0 else -1)
            units.append(Unit("group", box, scope=ids[u], count=counts[u]))
    if cut:
        units.append(Unit("more", -1, count=cut))

    return GraphSummary(
        graph=graph,
        collapsed=collapsed,
        budget=budget,
        units=tuple(units),
        edges=tuple(edges),
        boxes=tuple(boxes),
        unit_of=tuple(unit_of),
        root_unit=unit_of[index[graph.root]],
        cut=cut,
        drawn_cost=min(total, budget),
        group_output=_group_outputs(graph, units, unit_of),
    )


def _nearest_the_root(
    edges: list[Edge],
    root_unit: int,
    n_units: int,
    cost: Callable[[int], int],
    budget: int,
    total: int,
) -> list[bool]:
    """Which units to keep: all if ``total`` fits in ``budget``; else breadth-first from the
    root while they fit (the last operations stay visible), leaving room for the "more" node."""
    if total <= budget:
        return [True] * n_units
    inputs: list[list[int]] = [[] for _ in range(n_units)]
    for e in edges:
        inputs[e.dst].append(e.src)
    keep = [False] * n_units
    room = budget - 1 - cost(root_unit)  # 1: the summary node
    keep[root_unit] = True
    queue = deque([root_unit])
    while queue:
        u = queue.popleft()
        for src in inputs[u]:
            if not keep[src] and cost(src) <= room:
                keep[src] = True
                room -= cost(src)
                queue.append(src)
    return keep


def _group_outputs(graph: GraphIndex, units: list[Unit], unit_of: list[int]) -> dict[int, int]:
    """For each folded group with exactly one value used outside it: that value's index (the
    group then shows its data and grad)."""
    outputs: dict[int, set[int]] = {}
    for i, v in enumerate(graph.values):
        for child in v._prev:
            c = graph.index[child]
            cu = unit_of[c]
            if cu != unit_of[i] and units[cu].kind == "group":
                outputs.setdefault(cu, set()).add(c)
    root = graph.index[graph.root]
    if units[unit_of[root]].kind == "group":
        outputs.setdefault(unit_of[root], set()).add(root)
    return {u: next(iter(s)) for u, s in outputs.items() if len(s) == 1}


# ---- one training sample's loss graph ----------------------------------------------------------


def sample_loss_graph(
    model: Module,
    loss: Callable[[list[Any], list[float]], Value],
    x: Sequence[float],
    label: float,
) -> Value:
    """The loss graph of one sample: ``model``'s forward pass on inputs ``x`` (leaves labelled
    ``x0``, ``x1``, ...) and the data loss of that one sample, ``loss([output], [label])`` --
    for the built-in losses, that sample's term (binary: its svm / log / mse term; k classes:
    its cross-entropy). The output is labelled ``score`` (``score.k`` for k outputs) and the
    root ``loss``.

    A loss that cannot be taken of one sample (it raises, or does not return a Value) raises
    ValueError saying why.
    """
    inputs = [Value(float(xi), label=f"x{i}") for i, xi in enumerate(x)]
    output = model(inputs)
    outputs = output if isinstance(output, list) else [output]
    for k, out in enumerate(outputs):
        if not isinstance(out, Value):
            raise ValueError(f"the model returned {type(out).__name__}, not a Value per output")
        if not out.label:
            out.label = "score" if len(outputs) == 1 else f"score.{k}"
    name = getattr(loss, "__name__", "the loss")
    try:
        root = loss([output], [label])
    except Exception as exc:
        raise ValueError(
            f"cannot split {name} per sample: computing it on one sample raised "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(root, Value):
        raise ValueError(
            f"cannot split {name} per sample: on one sample it returned "
            f"{type(root).__name__}, not a Value"
        )
    if root._a is not None and not root.label:
        root.label = "loss"
    return root


def same_structure(old: Sequence[Value], new: Sequence[Value]) -> bool:
    """True if two graphs of one model and loss (in topological order) have the same ops and
    labels node for node: what changes between two samples' graphs, if anything, is a branch
    of the loss on a forward value (``_softplus``), which changes the ops. O(n), no dicts: it
    runs on every refresh of a followed graph."""
    return len(old) == len(new) and all(
        a._op == b._op and a.label == b.label and (a._b is None) == (b._b is None)
        for a, b in zip(old, new)
    )


# ---- the recorded run of a followed graph ------------------------------------------------------


class WeightRecording:
    """The weights at recorded training steps, and one sample's graph numbers at each.

    Steps are recorded every ``every``-th step; past ``max_frames`` every other frame is dropped
    and ``every`` doubles (as the DecisionBoundary's recording does), so the recording always
    spans the whole run within a fixed size. The weights are kept (8 bytes per parameter per
    frame), so the numbers of another sample can be worked out for every recorded step; the
    numbers are per Value of the graph, float32 (data, then grad).

    Thread-safe: the training thread asks :meth:`wants` and adds weights, the refresh thread
    fills in the numbers.
    """

    def __init__(self, max_frames: int = 120, every: int = 1) -> None:
        self.max_frames = max_frames
        self.every = self._initial_every = every
        self.steps: list[int] = []
        self.weights: list[np.ndarray] = []
        self.numbers: list[np.ndarray | None] = []  # per frame: (2, n_values) float32
        self._lock = threading.Lock()

    def wants(self, step: int) -> bool:
        """True if weights after ``step`` steps are to be recorded."""
        return step % self.every == 0 and (not self.steps or step > self.steps[-1])

    def add(self, step: int, weights: Sequence[float]) -> None:
        with self._lock:
            if self.steps and step <= self.steps[-1]:
                return
            self.steps.append(step)
            self.weights.append(np.array(weights, dtype=np.float64))
            self.numbers.append(None)
            if len(self.steps) > self.max_frames:
                # keep every other frame and record half as often: the whole run, in the cap
                self.steps, self.weights = self.steps[::2], self.weights[::2]
                self.numbers = self.numbers[::2]
                self.every *= 2

    def clear(self) -> None:
        with self._lock:
            self.steps, self.weights, self.numbers = [], [], []
            self.every = self._initial_every

    def forget_numbers(self) -> None:
        """Another sample (or another graph): every frame's numbers are to be worked out again."""
        with self._lock:
            self.numbers = [None] * len(self.steps)

    def missing(self) -> list[tuple[int, np.ndarray]]:
        """(step, weights) of the frames whose numbers are not worked out yet."""
        with self._lock:
            return [(s, w) for s, w, n in zip(self.steps, self.weights, self.numbers) if n is None]

    def set_numbers(self, step: int, data: np.ndarray, grad: np.ndarray) -> None:
        with self._lock:
            for k, s in enumerate(self.steps):
                if s == step:
                    self.numbers[k] = np.stack([data, grad]).astype(np.float32)

    def per_unit(self, value_of_unit: Sequence[int]) -> tuple[list[int], bytes]:
        """The frames with numbers, as the view reads them: their steps, and float32 rows of
        [data per unit, grad per unit] (NaN for a unit that shows no single value)."""
        index = np.asarray(value_of_unit, dtype=np.int64)
        with self._lock:
            done = [(s, n) for s, n in zip(self.steps, self.numbers) if n is not None]
        if not done:
            return [], b""
        rows = np.full((len(done), 2, len(index)), np.nan, dtype=np.float32)
        drawn = index >= 0
        for k, (_, numbers) in enumerate(done):
            rows[k][:, drawn] = numbers[:, index[drawn]]
        return [s for s, _ in done], rows.astype("<f4").tobytes()
