"""_graph_summary: scopes, folding and the node budget, without a widget or a comm."""

import dataclasses
import random

import numpy as np
import pytest
from helpers import lecture_expression

from micrograd_widgets import MLP, GraphWidget, Neuron, Value
from micrograd_widgets._graph_summary import (
    HARD_LIMIT,
    index_graph,
    initial_collapse,
    summarize,
)


def batch_loss(n=32, sizes=(16, 16, 1)):
    rng = random.Random(0)
    m = MLP(2, list(sizes), seed=0)
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(n)]
    losses = [(1 + -rng.choice([-1.0, 1.0]) * m(x)).relu() for x in X]
    return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in m.parameters()), m


def cost(summary, unit):
    value = summary.graph.values[unit.value] if unit.kind == "value" else None
    return 2 if value is not None and value._prev else 1


def test_a_small_graph_is_drawn_whole_as_an_immutable_summary():
    L = lecture_expression()
    graph = index_graph(L)
    assert [v.label for v in graph.values] == [v.label for v in L.topological_order()]
    assert graph.scopes == () and set(graph.value_scope) == {-1}
    summary = summarize(graph, initial_collapse(graph, 300), 300)
    assert [graph.name(u.value) for u in summary.units] == [v.label for v in graph.values]
    assert summary.cut == 0 and summary.boxes == () and summary.note == ""
    assert summary.graph.values[summary.units[summary.root_unit].value] is L
    # every input of every value is an edge, with its position
    units = summary.units
    edges = {(units[e.src].value, units[e.dst].value, e.position) for e in summary.edges}
    expected = {
        (graph.index[child], i, k)
        for i, v in enumerate(graph.values)
        for k, child in enumerate(v._prev)
    }
    assert edges == expected
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.cut = 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.units[0].box = 3


def test_set_root_sorts_the_graph_once(monkeypatch):
    calls = []
    original = Value.topological_order

    def counted(self):
        calls.append(self)
        return original(self)

    monkeypatch.setattr(Value, "topological_order", counted)
    L = lecture_expression()
    w = GraphWidget(L)
    assert calls == [L]
    w.root = L * 2.0
    assert len(calls) == 2
    w.run()  # the step-through reuses the widget's order
    assert len(calls) == 2 and w.finished


def test_a_neuron_is_one_scope_with_its_parameters_and_unnamed_constants():
    n = Neuron(2, activation="tanh", seed=1)
    out = n([Value(1.0, label="x1"), Value(-2.0, label="x2")]) * 3.0
    graph = index_graph(out, n)
    assert [s.path for s in graph.scopes] == [""]
    inside = {graph.name(i) for i, s in enumerate(graph.value_scope) if s == 0}
    outside = {graph.name(i) for i, s in enumerate(graph.value_scope) if s < 0}
    assert {"w.0", "w.1", "b"} <= inside
    assert {"x1", "x2"} <= outside  # shared inputs stay outside the module
    assert graph.name_of(out) in outside  # "* 3.0" happens outside the neuron


def test_scopes_nest_like_the_modules_from_the_model_or_from_labels():
    m = MLP(2, [3, 2, 1], seed=0)
    out = m([0.5, -1.0])
    by_model = index_graph(out, m)
    for name, p in m.named_parameters():
        p.label = name
    by_label = index_graph(m([0.5, -1.0]))
    # from labels: the same layers and neurons, but no box for the model itself
    assert {s.path for s in by_model.scopes} - {""} == {s.path for s in by_label.scopes}
    assert len(by_label.scopes) == len(by_model.scopes) - 1 == 3 + 3 + 2 + 1
    assert by_model.scopes[0].path == "" and by_model.scopes[0].title == repr(m)
    assert by_model.scopes[1].title == f"layers.0 · {m.layers[0]!r}"
    for graph in (by_model, by_label):
        for sid, scope in enumerate(graph.scopes):
            assert scope.parent < sid  # parents first
            if scope.parent >= 0:
                assert sid in graph.scopes[scope.parent].children
                assert scope.depth == graph.scopes[scope.parent].depth + 1
                assert scope.path.startswith(graph.scopes[scope.parent].path)
    with pytest.raises(KeyError, match=r"no module scope 'layers\.7'"):
        by_model.scope_id("layers.7")
    assert by_model.scopes[by_model.scope_id("layers.1.neurons.0")].path == "layers.1.neurons.0"


def test_initial_collapse_opens_what_fits():
    out, m = batch_loss(n=1, sizes=(4, 1))
    graph = index_graph(out, m)
    assert initial_collapse(graph, 10_000) == frozenset()
    collapsed = initial_collapse(graph, 40)
    assert collapsed and summarize(graph, collapsed, 40).drawn_cost <= 40
    # a group is folded only if all of its children are too (folding goes top-down)
    for sid in range(len(graph.scopes)):
        if sid in collapsed:
            assert all(child in collapsed for child in graph.scopes[sid].children)


def test_boxes_are_the_open_scopes_nested_with_their_parents():
    m = MLP(2, [4, 4, 1], seed=0)
    out = m([0.5, -1.0])
    graph = index_graph(out, m)
    summary = summarize(graph, frozenset(), 10_000)
    assert len(summary.boxes) == len(graph.scopes)  # nothing folded: every module has a box
    for i, box in enumerate(summary.boxes):
        parent_scope = graph.scopes[box.scope].parent
        assert box.parent < i
        assert (summary.boxes[box.parent].scope if box.parent >= 0 else -1) == parent_scope
    for unit in summary.units:  # a parameter sits in its neuron's box
        name = graph.name(unit.value)
        if name.endswith(".b"):
            assert graph.scopes[summary.boxes[unit.box].scope].path == name[: -len(".b")]


def test_a_folded_group_counts_its_values_and_shows_its_one_output():
    m = MLP(2, [4, 1], seed=0)
    out = m([0.5, -1.0])
    out.backward()
    graph = index_graph(out, m)
    neuron = graph.scope_id("layers.0.neurons.2")
    summary = summarize(graph, {neuron}, 10_000)
    groups = [u for u, unit in enumerate(summary.units) if unit.kind == "group"]
    assert len(groups) == 1
    (group,) = groups
    inside = [i for i, s in enumerate(graph.value_scope) if s == neuron]
    assert summary.units[group].count == len(inside)
    assert all(summary.unit_of[i] == group for i in inside)
    output = summary.group_output[group]  # the neuron's activation, used by the next layer
    assert graph.values[output]._op == "ReLU"
    numbers = summary.numbers()
    n = len(summary.units)
    assert numbers[group] == graph.values[output].data
    assert numbers[n + group] == graph.values[output].grad
    assert "1 module group(s) are folded" in summary.note


def test_a_big_graph_is_cut_to_the_units_nearest_the_output():
    loss, _ = batch_loss(n=8)
    graph = index_graph(loss)  # no model: nothing to fold, so the budget cuts
    summary = summarize(graph, frozenset(), 100)
    kinds = [u.kind for u in summary.units]
    assert kinds.count("more") == 1 and kinds[-1] == "more"
    assert summary.drawn_cost == 100
    assert sum(cost(summary, u) for u in summary.units) <= 100
    assert summary.units[-1].count == summary.cut == len(graph.values) - summary.shown
    assert summary.units[summary.root_unit].value == graph.index[loss]
    # every kept unit feeds a kept unit: the kept part is connected to the output
    feeds = {e.src for e in summary.edges if summary.units[e.dst].kind != "more"}
    assert feeds | {summary.root_unit} >= set(range(len(summary.units) - 1))
    assert "not drawn (limit max_nodes=100)" in summary.note
    assert "pass model= to group by module" in summary.note
    # cut values all point at the "more" unit
    more = len(summary.units) - 1
    assert sum(1 for u in summary.unit_of if u == more) == summary.cut


def test_no_empty_more_unit_when_only_the_boxes_overflow():
    m = MLP(2, [2, 1], seed=0)
    out = m([0.5, -1.0])
    graph = index_graph(out, m)
    whole = summarize(graph, frozenset(), 10_000)
    units_cost = sum(cost(whole, u) for u in whole.units)
    assert whole.drawn_cost - units_cost >= 2  # boxes are counted in the budget too
    squeezed = summarize(graph, frozenset(), units_cost + 1)
    assert squeezed.cut == 0 and all(u.kind != "more" for u in squeezed.units)
    assert "not drawn" not in squeezed.note


def test_opening_a_group_raises_the_budget_up_to_the_hard_limit():
    loss, m = batch_loss(n=4)
    graph = index_graph(loss, m)
    collapsed = initial_collapse(graph, 50)
    summary = summarize(graph, collapsed, 50)
    scope = next(iter(sorted(collapsed)))
    now_collapsed, budget = summary.opened(scope)
    assert scope not in now_collapsed and now_collapsed == collapsed - {scope}
    extra = graph.direct_cost[scope] + len(graph.scopes[scope].children)
    assert budget == min(HARD_LIMIT, max(50, summary.drawn_cost + extra))
    assert summarize(graph, frozenset(), 50).opened(scope) == (frozenset(), 50)  # already open
    # a cut drawing (drawn_cost = budget) that opens more would pass the hard limit: it stops there
    neuron = graph.scope_id("layers.1.neurons.0")
    wide = summarize(graph, {neuron}, HARD_LIMIT)
    assert wide.cut and wide.drawn_cost == HARD_LIMIT
    assert wide.opened(neuron) == (frozenset(), HARD_LIMIT)


def test_numbers_hold_data_grad_and_local_derivatives():
    L = lecture_expression()
    L.backward()
    graph = index_graph(L)
    summary = summarize(graph, frozenset(), 300)
    n, numbers = len(summary.units), summary.numbers()
    assert numbers.shape == (2 * n + len(summary.edges),)
    for u, unit in enumerate(summary.units):
        v = graph.values[unit.value]
        assert (numbers[u], numbers[n + u]) == (v.data, v.grad)
    for k, e in enumerate(summary.edges):
        assert numbers[2 * n + k] == graph.values[e.value]._local_grads[e.position]
    assert not np.isnan(numbers).any()
