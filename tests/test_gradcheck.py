"""Property-based gradient checks: backward() against float64 central finite differences.

Hypothesis builds random expressions from every op (``+ - * /`` with Values and numbers on either
side, unary ``-``, ``**``, tanh, relu, exp, log, sigmoid) over up to three inputs, then compares
each input's ``grad`` with ``(f(x + h) - f(x - h)) / 2h``. Points where a finite difference cannot
be trusted are skipped with ``assume``: next to ReLU's kink, overflowing values, near-zero
denominators. Domains are kept valid by construction (log and fractional powers see ``u² + c``).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from micrograd_widgets import Value

UNARY = ["neg", "tanh", "relu", "exp", "sigmoid", "log", "square", "cube", "sqrt", "inverse"]
BINARY = ["add", "sub", "mul", "div"]
# a binary op's right operand: another node, or a plain number on the right or on the left
OPERAND_KINDS = ["node", "number_right", "number_left"]

inputs = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_infinity=False)
constants = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False).filter(lambda c: abs(c) > 0.1)


@st.composite
def programs(draw: st.DrawFn) -> tuple[list[float], list[tuple]]:
    """Starting values for 1-3 inputs and 1-8 steps, each reading earlier nodes by index."""
    xs = draw(st.lists(inputs, min_size=1, max_size=3))
    steps = []
    for i in range(draw(st.integers(1, 8))):
        available = len(xs) + i
        if draw(st.booleans()):
            steps.append(
                ("unary", draw(st.sampled_from(UNARY)), draw(st.integers(0, available - 1)))
            )
        else:
            steps.append(
                (
                    "binary",
                    draw(st.sampled_from(BINARY)),
                    draw(st.integers(0, available - 1)),
                    draw(st.sampled_from(OPERAND_KINDS)),
                    draw(st.integers(0, available - 1)),
                    draw(constants),
                )
            )
    return xs, steps


def positive(u: Value) -> Value:
    return u * u + 0.5  # keeps log and fractional powers in their domain, through * and +


def apply_unary(name: str, u: Value) -> Value:
    if name == "neg":
        return -u
    if name in ("tanh", "relu", "exp", "sigmoid"):
        return getattr(u, name)()
    if name == "log":
        return positive(u).log()
    if name == "square":
        return u**2
    if name == "cube":
        return u**3.0
    if name == "sqrt":
        return positive(u) ** 0.5
    assume(abs(u.data) > 0.1)
    return u**-1


def apply_binary(name: str, left: Value, right: Value | float, right_on_left: bool) -> Value:
    a, b = (right, left) if right_on_left else (left, right)
    if name == "add":
        return a + b
    if name == "sub":
        return a - b
    if name == "mul":
        return a * b
    denominator = b.data if isinstance(b, Value) else b
    assume(abs(denominator) > 0.1)
    return a / b


def evaluate(xs: list[float], steps: list[tuple]) -> tuple[Value, list[Value]]:
    leaves = [Value(x) for x in xs]
    nodes = list(leaves)
    for step in steps:
        if step[0] == "unary":
            _, name, i = step
            nodes.append(apply_unary(name, nodes[i]))
        else:
            _, name, i, kind, j, constant = step
            right = nodes[j] if kind == "node" else constant
            nodes.append(apply_binary(name, nodes[i], right, kind == "number_left"))
        assume(math.isfinite(nodes[-1].data) and abs(nodes[-1].data) < 1e4)
    return nodes[-1], leaves


def forward(xs: list[float], steps: list[tuple]) -> float:
    return evaluate(xs, steps)[0].data


@settings(max_examples=300, deadline=None)
@given(programs())
def test_backward_matches_central_differences(program):
    xs, steps = program
    root, leaves = evaluate(xs, steps)
    order = root.topological_order()
    # a finite difference straddling ReLU's kink measures neither side's slope
    assume(all(abs(n._prev[0].data) > 1e-3 for n in order if n._op == "ReLU"))
    root.backward()
    for i, leaf in enumerate(leaves):
        h = 1e-6 * max(1.0, abs(xs[i]))
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        numeric = (forward(up, steps) - forward(down, steps)) / (2 * h)
        scale = max(1.0, abs(numeric), abs(leaf.grad))
        assert abs(leaf.grad - numeric) <= 1e-4 * scale, (
            f"input {i}: backward gives {leaf.grad!r}, central difference {numeric!r}"
        )


@settings(max_examples=200, deadline=None)
@given(programs())
def test_backward_steps_equal_backward(program):
    xs, steps = program
    root, leaves = evaluate(xs, steps)
    root.backward()
    expected = [leaf.grad for leaf in leaves]
    root2, leaves2 = evaluate(xs, steps)
    for _ in root2.backward_steps():
        pass
    assert [leaf.grad for leaf in leaves2] == expected


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-50, max_value=50, allow_nan=False), st.sampled_from(UNARY[:5]))
def test_unary_forward_values_match_math(x, name):
    expected = {
        "neg": -x,
        "tanh": math.tanh(x),
        "relu": max(x, 0.0),
        "exp": math.exp(x),
        "sigmoid": 1 / (1 + math.exp(-x)),
    }[name]
    assert apply_unary(name, Value(x)).data == pytest.approx(expected, rel=1e-14)


def reference(xs: list[float], steps: list[tuple]) -> float:
    """The same program on plain floats with the math module (the forward pass's oracle)."""
    unary = {
        "neg": lambda u: -u,
        "tanh": math.tanh,
        "relu": lambda u: max(u, 0.0),
        "exp": math.exp,
        "sigmoid": lambda u: 1 / (1 + math.exp(-u)),
        "log": lambda u: math.log(u * u + 0.5),
        "square": lambda u: u**2,
        "cube": lambda u: u**3,
        "sqrt": lambda u: math.sqrt(u * u + 0.5),
        "inverse": lambda u: 1 / u,
    }
    binary = {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
    }
    nodes = list(xs)
    for step in steps:
        if step[0] == "unary":
            nodes.append(unary[step[1]](nodes[step[2]]))
        else:
            _, name, i, kind, j, constant = step
            right = nodes[j] if kind == "node" else constant
            a, b = (right, nodes[i]) if kind == "number_left" else (nodes[i], right)
            nodes.append(binary[name](a, b))
    return nodes[-1]


@settings(max_examples=300, deadline=None)
@given(programs())
def test_forward_matches_plain_float_arithmetic(program):
    xs, steps = program
    root, _ = evaluate(xs, steps)
    assert root.data == pytest.approx(reference(xs, steps), rel=1e-12, abs=1e-12)
