"""The compiler's view of a traced graph: the tape ``linearize`` writes, how often each node is
used, and the dense layers ``plan_dense`` reads off a tape (the orders backward() visits them in).

tests/test_compile.py checks that compiled steps equal the scalar engine's, bit for bit; these
check the pieces against the graph itself, node by node.
"""

from __future__ import annotations

import pytest

from micrograd_widgets import MLP, Layer, Neuron, Value
from micrograd_widgets.compiled import CompileError
from micrograd_widgets.compiled._graph import Tape, linearize
from micrograd_widgets.compiled._model import BlockPlan, plan_dense

OPS = {"+", "*", "-", "/", "neg", "**", "tanh", "ReLU", "exp", "log", "sigmoid"}


def assert_describes(tape: Tape, params: dict, inputs: dict) -> None:
    """Every entry of ``tape`` says what its node is, and points at its node's inputs."""
    position = {id(node): i for i, node in enumerate(tape.nodes)}
    for i, node in enumerate(tape.nodes):
        if node._a is None:
            assert tape.op[i] == "" and tape.a[i] == tape.b[i] == -1
            if node in params:
                assert (tape.kind[i], tape.arg[i]) == ("param", params[node])
            elif node in inputs:
                assert (tape.kind[i], tape.arg[i]) == ("input", inputs[node])
            else:
                assert (tape.kind[i], tape.arg[i]) == ("const", node.data)
            continue
        assert tape.kind[i] == "op"
        assert tape.a[i] == position[id(node._a)] < i
        assert tape.b[i] == (-1 if node._b is None else position[id(node._b)])
        if node._op.startswith("**"):
            assert tape.op[i] == "**" and tape.arg[i] == float(node._op[2:])
        else:
            assert (tape.op[i], tape.arg[i]) == (node._op, None)


def every_op(x: Value, y: Value, w: Value) -> Value:
    """A graph with each op the compiler knows, leaves used more than once, and a constant."""
    s = (x * w + y).tanh() - (x / w).relu()
    t = (-s).exp() + (y * y).log() + (s**3).sigmoid() + x ** (-0.5) + 2.0
    return t * w + s


def test_the_tape_lists_the_engines_order_and_describes_every_node():
    x, y, w = Value(0.7), Value(-1.3), Value(0.4)
    root = every_op(x, y, w)
    tape = linearize(root, params={w: 0}, inputs={x: 0, y: 1}, traced=False)
    assert [id(n) for n in tape.nodes] == [id(n) for n in root.topological_order()]
    assert set(tape.op) - {""} == OPS
    assert tape.outputs == [len(tape) - 1]
    assert_describes(tape, {w: 0}, {x: 0, y: 1})


def test_several_roots_are_walked_as_a_node_above_them_would_walk_them():
    model = MLP(3, [4, 3], seed=2)  # three outputs
    x = [Value(0.5), Value(-1.0), Value(2.0)]
    roots = model(x)
    params = {p: i for i, p in enumerate(model.parameters())}
    inputs = {leaf: k for k, leaf in enumerate(x)}
    tape = linearize(roots, params=params, inputs=inputs, traced=False)
    # the engine's DFS walks a node's b input first: from here, roots 0, 1, 2, then the two "+"
    above = (roots[2] + roots[1]) + roots[0]
    assert [id(n) for n in tape.nodes] == [id(n) for n in above.topological_order()[:-2]]
    assert tape.outputs == [tape.nodes.index(r) for r in roots]
    assert_describes(tape, params, inputs)


def test_a_cut_is_a_leaf_of_the_given_kind_and_its_inputs_are_not_walked():
    x, w = Value(1.5), Value(-0.5)
    hidden = (x * w).tanh()  # only reachable through the cut
    cut = hidden * 3.0
    root = cut + x * w
    cuts = {cut: ("fold", "data")}
    tape = linearize(root, params={w: 0}, inputs={x: 0}, cuts=cuts, traced=False)
    i = tape.nodes.index(cut)
    assert (tape.kind[i], tape.arg[i], tape.op[i], tape.a[i], tape.b[i]) == (
        "fold", "data", "", -1, -1
    )  # fmt: skip
    # every other node keeps its place in the engine's order
    behind_the_cut = {id(hidden), id(hidden._a), id(cut._b)}
    expected = [id(n) for n in root.topological_order() if id(n) not in behind_the_cut]
    assert [id(n) for n in tape.nodes] == expected


@pytest.mark.parametrize(
    ("first", "message"),
    [("unknown", "does not know the op 'sin'"), ("two_inputs", "'tanh' has the wrong number")],
)
def test_the_first_node_the_tape_cannot_hold_is_the_one_refused(first, message):
    x = Value(0.25)
    unknown = Value(0.5, (x,), "sin", _local_grads=(1.0,))
    two_inputs = Value(0.5, (x, x), "tanh", _local_grads=(1.0, 1.0))
    later = two_inputs if first == "unknown" else unknown
    root = later + (unknown if first == "unknown" else two_inputs)  # b is walked first
    with pytest.raises(CompileError, match=message):
        linearize(root, inputs={x: 0}, traced=False)


def test_a_traced_tape_refuses_a_node_no_engine_op_made_during_the_trace():
    x = Value(0.25)
    made_before = x * 2.0  # a plain Value: made outside a recording
    with pytest.raises(CompileError, match=r"a node \(op '\*'\) that no engine op made"):
        linearize(made_before + 1.0, inputs={x: 0})


def test_a_power_node_whose_numbers_do_not_match_its_name_is_refused():
    x = Value(2.0)
    fake = Value(8.5, (x,), "**3", _local_grads=(12.0,))  # 2 ** 3 is 8
    with pytest.raises(CompileError, match=r"does not match x \*\* 3\.0"):
        linearize(fake, inputs={x: 0}, traced=False)
    tape = linearize(x**3, inputs={x: 0}, traced=False)
    assert (tape.op[-1], tape.arg[-1]) == ("**", 3.0)


def test_use_counts_count_every_use_of_each_node():
    x, y, w = Value(0.7), Value(-1.3), Value(0.4)
    root = every_op(x, y, w) + x * x  # x used twice by one node too
    tape = linearize(root, params={w: 0}, inputs={x: 0, y: 1}, traced=False)
    counts = tape.use_counts()
    for i, node in enumerate(tape.nodes):
        users = [n for n in tape.nodes for child in (n._a, n._b) if child is node]
        assert counts[i] == len(users), f"node {i} ({tape.describe(i)})"
    assert counts[tape.nodes.index(x)] >= 4


# ---- dense layers ------------------------------------------------------------------------------


def traced(model, inputs: int) -> Tape:
    x = [Value(0.1 * (k + 1)) for k in range(inputs)]
    out = model(x)
    roots = out if isinstance(out, list) else [out]
    params = {p: i for i, p in enumerate(model.parameters())}
    return linearize(roots, params=params, inputs={v: k for k, v in enumerate(x)}, traced=False)


def visiting_order(tape: Tape, reader: BlockPlan, output: int) -> list[int]:
    """The neurons of ``reader`` (columns) in the order backward() visits the products that
    use ``output``: every user of ``output``, from the last on the tape to the first."""
    users = [j for j in range(len(tape)) if output in (tape.a[j], tape.b[j])]
    columns = {p: c for c, unit in enumerate(reader.units) for p in unit.products if p >= 0}
    assert all(u in columns for u in users)
    return [columns[u] for u in sorted(users, reverse=True)]


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLP(2, [4, 3, 1], seed=0),
        lambda: MLP(3, [5, 1], activation="tanh", seed=1),
        lambda: MLP(2, [3, 3, 2], seed=2),  # two outputs: visited last to first
        lambda: MLP(2, [4, 4, 3], activation="sigmoid", output_activation="relu", seed=3),
        lambda: Layer(2, 3, activation="tanh", seed=4),
        lambda: Neuron(3, activation="relu", seed=5),
    ],
)
def test_dense_plans_are_the_models_layers_in_the_orders_backward_visits_them(make):
    model = make()
    inputs = model.nin
    tape = traced(model, inputs)
    plans = plan_dense(tape)
    assert not isinstance(plans, str), plans
    layers = model.layers if isinstance(model, MLP) else [model]
    assert len(plans) == len(layers)
    index = {p: i for i, p in enumerate(model.parameters())}
    for plan, layer in zip(plans, layers):
        neurons = layer.neurons if isinstance(layer, Layer) else [layer]
        # each neuron's parameters in its chain's order: the bias, then w0, w1, ...
        assert [unit.params for unit in plan.units] == [
            [index[n.b]] + [index[w] for w in n.w] for n in neurons
        ]
        assert all(unit.sources[0] == -1 == unit.products[0] for unit in plan.units)
    for i, plan in enumerate(plans[1:], start=1):
        assert plan.producer == i - 1
        below = [unit.output for unit in plans[i - 1].units]
        assert plan.sources == below
        orders = [visiting_order(tape, plan, output) for output in below]
        assert all(order == orders[0] for order in orders)
        identity = list(range(len(plan.units)))
        if orders[0] == identity:
            assert plan.consumer_order is None
        else:
            assert plan.consumer_order.tolist() == orders[0]
    if len(tape.outputs) > 1 and len(plans) > 1:  # the outputs: visited last to first
        assert plans[-1].consumer_order.tolist() == list(range(len(tape.outputs)))[::-1]


class TapeBuilder:
    """A tape written by hand, node by node, in the order the test chooses."""

    def __init__(self) -> None:
        self.tape = Tape()

    def leaf(self, kind: str, arg: object) -> int:
        return self._add(kind, "", -1, -1, arg)

    def op(self, op: str, a: int, b: int = -1) -> int:
        return self._add("op", op, a, b, None)

    def _add(self, kind: str, op: str, a: int, b: int, arg: object) -> int:
        t = self.tape
        t.kind.append(kind)
        t.op.append(op)
        t.a.append(a)
        t.b.append(b)
        t.arg.append(arg)
        return len(t.kind) - 1


def two_layers(product_order: str, extra_use: bool = False) -> Tape:
    """inputs x0, x1 -> layer H (2 neurons, relu) -> layer N (2 neurons) -> one output neuron.

    ``product_order``: for each output of H, which of N's neurons (A, B) has the later product
    on the tape ("AB": B's for both; "mixed": B's for h0, A's for h1).
    """
    t = TapeBuilder()
    params = iter(range(100))
    x = [t.leaf("input", 0), t.leaf("input", 1)]
    h = []
    for _ in range(2):
        chain = t.leaf("param", next(params))
        for xi in x:
            chain = t.op("+", chain, t.op("*", t.leaf("param", next(params)), xi))
        h.append(t.op("ReLU", chain))
    # N's neurons: their bias and weights first, then the products in the chosen order
    biases = [t.leaf("param", next(params)) for _ in range(2)]
    weights = [[t.leaf("param", next(params)) for _ in h] for _ in range(2)]
    order = {"AB": [(0, 0), (1, 0), (0, 1), (1, 1)], "mixed": [(0, 0), (1, 0), (1, 1), (0, 1)]}
    products = {}
    for neuron, source in order[product_order]:
        products[neuron, source] = t.op("*", weights[neuron][source], h[source])
    outputs = []
    for neuron in range(2):
        chain = biases[neuron]
        for source in range(2):
            chain = t.op("+", chain, products[neuron, source])
        outputs.append(t.op("ReLU", chain))
    chain = t.leaf("param", next(params))
    for out in outputs:
        chain = t.op("+", chain, t.op("*", t.leaf("param", next(params)), out))
    t.tape.outputs = [chain]
    if extra_use:  # one more neuron reading H (tanh: a layer of its own), last on the tape
        extra = t.leaf("param", next(params))
        for source in h:
            extra = t.op("+", extra, t.op("*", t.leaf("param", next(params)), source))
        t.op("tanh", extra)
    return t.tape


def test_a_hand_written_tape_plans_its_layers_in_the_order_backward_visits_them():
    tape = two_layers("AB")
    plans = plan_dense(tape)
    assert not isinstance(plans, str), plans
    assert [len(p.units) for p in plans] == [2, 2, 1]
    # backward() visits the later product first: B's (column 1), then A's, for both outputs
    for output in plans[1].sources:
        assert visiting_order(tape, plans[1], output) == [1, 0]
    assert plans[1].consumer_order.tolist() == [1, 0]


def test_a_layer_whose_neurons_backward_visits_in_two_orders_is_not_dense():
    assert plan_dense(two_layers("mixed")) == (
        "backward visits the next layer's neurons in different orders"
    )


def test_a_layer_output_used_outside_the_next_layers_products_is_not_dense():
    reason = plan_dense(two_layers("AB", extra_use=True))
    assert reason == "a layer's output is used outside the next layer's products"


def test_a_parameter_used_twice_is_not_dense():
    x = [Value(0.5), Value(1.5)]
    neuron = Neuron(2, activation="tanh", seed=0)
    neuron.w[1] = neuron.w[0]
    tape = linearize(
        neuron(x), params={p: i for i, p in enumerate([*neuron.w[:1], neuron.b])},
        inputs={v: k for k, v in enumerate(x)}, traced=False,
    )  # fmt: skip
    assert plan_dense(tape) == "a parameter is used in more than one place"
