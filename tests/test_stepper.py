"""stepper: backpropagation one node at a time, without a widget or a comm."""

import pytest
from helpers import lecture_expression

from micrograd_widgets import GraphWidget, Value
from micrograd_widgets.stepper import COMPLETE, BackwardStepper, format_number, node_names


def grads(root):
    return {v.label: v.grad for v in root.topological_order()}


def test_steps_are_backwards_op_nodes_in_its_order_and_end_at_its_grads():
    L = lecture_expression()
    reference = lecture_expression()
    reference.backward()
    stepper = BackwardStepper(L)
    assert [v.label for v in stepper.steps] == [v.label for v in L.backward_order() if v._prev]
    assert stepper.upcoming is L and not stepper.seeded and not stepper.finished
    visited = []
    while not stepper.finished:
        assert stepper.upcoming is not None
        visited.append(stepper.upcoming.label)
        stepper.step()
        assert stepper.active.label == visited[-1]
    assert visited == ["L", "d", "e"] and stepper.done == 3
    assert stepper.upcoming is None
    assert grads(L) == grads(reference)


def test_the_lines_show_the_chain_rule_arithmetic():
    L = lecture_expression()
    stepper = BackwardStepper(L)
    assert stepper.step() == [
        "L.grad = 1.0  (seed: ∂L/∂L = 1)",
        "d.grad += f.data × L.grad = -2.0 × 1.0 = -2.0",
        "f.grad += d.data × L.grad = 4.0 × 1.0 = 4.0",
    ]
    assert stepper.step(2) == [
        "e.grad += 1 × d.grad = 1.0 × -2.0 = -2.0",
        "c.grad += 1 × d.grad = 1.0 × -2.0 = -2.0",
        "a.grad += b.data × e.grad = -3.0 × -2.0 = 6.0",
        "b.grad += a.data × e.grad = 2.0 × -2.0 = -4.0",
    ]
    assert stepper.lines[-1] == "b.grad += a.data × e.grad = 2.0 × -2.0 = -4.0"
    assert stepper.finished
    assert stepper.step() == [COMPLETE] and stepper.active is None  # nothing left to apply


def test_run_keeps_the_last_steps_lines_and_reset_starts_over():
    L = lecture_expression()
    stepper = BackwardStepper(L)
    lines = stepper.run()
    assert stepper.finished and lines == stepper.lines
    assert lines[0].startswith("a.grad += b.data × e.grad")  # the last node stepped: e
    assert stepper.active.label == "e"
    stepper.reset()
    assert all(g == 0.0 for g in grads(L).values())
    assert (stepper.done, stepper.seeded, stepper.active, stepper.lines) == (0, False, None, [])
    assert stepper.run()[0].startswith("a.grad")


def test_accumulating_into_a_nonzero_grad_shows_the_sum_and_a_note():
    a = Value(2.0, label="a")
    y = a * a
    y.label = "y"
    lines = BackwardStepper(y).step()
    assert "a.grad += a.data × y.grad = 2.0 × 1.0 = 2.0" in lines
    assert (
        "a.grad += a.data × y.grad = 2.0 × 1.0 = 2.0  →  "
        "a.grad = 0 + 2.0 (from y) + 2.0 (from y) = 4.0"
    ) in lines  # a reused node: each += as it lands
    stepper = BackwardStepper(y)  # grads are not zero now
    assert "grads were not zero" in stepper.step()[1]
    assert a.grad == 8.0


def test_a_leaf_root_is_seeded_and_done():
    x = Value(3.0, label="x")
    stepper = BackwardStepper(x)
    assert stepper.steps == [] and stepper.upcoming is None
    assert stepper.step() == ["x.grad = 1.0  (seed: ∂x/∂x = 1)"]
    assert stepper.finished and x.grad == 1.0


def test_unlabelled_nodes_are_named_by_op_and_count_or_by_the_callers_names():
    a = Value(2.0, label="a")
    out = (a * 3.0).tanh()
    values = out.topological_order()
    lines = BackwardStepper(out, values).step()
    assert lines[0] == "tanh·1.grad = 1.0  (seed: ∂tanh·1/∂tanh·1 = 1)"
    assert lines[1].startswith("*·1.grad += (1 - tanh·1.data²) × tanh·1.grad = ")
    named = BackwardStepper(out, values, name=lambda v: "out" if v is out else "z")
    named.reset()
    assert named.step()[1].startswith("z.grad += (1 - out.data²) × out.grad")


def test_node_names_count_each_op_from_the_inputs_and_restart_inside_a_module():
    x = Value(1.0, label="x")
    h1 = (x * 2.0).tanh()
    h2 = (h1 * 3.0).tanh()
    values = h2.topological_order()
    names = dict(zip(values, node_names(values)))
    assert [names[v] for v in (x, h1._a, h1, h2._a, h2)] == ["x", "*·1", "tanh·1", "*·2", "tanh·2"]
    assert sorted(names[v] for v in values if not v._prev and not v.label) == ["leaf·1", "leaf·2"]
    prefixes = ["n1." if v in (h2, h2._a) else "" for v in values]
    scoped = dict(zip(values, node_names(values, prefixes)))
    assert (scoped[h2], scoped[h2._a], scoped[h1]) == ("n1.tanh·1", "n1.*·1", "tanh·1")


@pytest.mark.parametrize("n", [0, -3, 2.0, "1", True, None])
def test_step_takes_a_whole_number_of_steps(n):
    L = lecture_expression()
    stepper = BackwardStepper(L)
    with pytest.raises(
        ValueError, match=r"n is how many chain-rule steps to apply, a whole number >= 1"
    ):
        stepper.step(n)
    assert (stepper.done, stepper.seeded, stepper.lines, L.grad) == (0, False, [], 0.0)


def test_the_text_of_each_derivative_comes_from_the_engines_table(monkeypatch):
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    out = a * b
    out.label = "out"
    monkeypatch.setitem(Value.DERIVATIVE_TEXT, "*", ("∂out/∂a[{b}]", "∂out/∂b[{a}]"))
    assert BackwardStepper(out).step()[1:] == [
        "a.grad += ∂out/∂a[b] × out.grad = 3.0 × 1.0 = 3.0",
        "b.grad += ∂out/∂b[a] × out.grad = 2.0 × 1.0 = 2.0",
    ]
    out.grad = a.grad = b.grad = 0.0
    w = GraphWidget(out)  # the drawing's edges read the same table
    assert sorted(text for *_, text in w.topology["edges"]) == ["∂out/∂a[b]", "∂out/∂b[a]"]


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (3.0, "3.0"),
        (-0.0706508248531642, "-0.0706508"),
        (1.2e-07, "1.2e-07"),
        (1e21, "1e+21"),
        (float("inf"), "inf"),
        (float("nan"), "nan"),
        (12345678.0, "1.23457e+07"),
    ],
)
def test_numbers_are_short(x, text):
    assert format_number(x) == text
