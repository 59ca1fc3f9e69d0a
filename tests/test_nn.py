"""Unit tests for micrograd_widgets.nn: Module, Neuron, Layer, MLP."""

from __future__ import annotations

import random

import numpy as np
import pytest

from micrograd_widgets import MLP, Layer, Module, Neuron, Value
from micrograd_widgets import nn as nn_module


def test_public_imports():
    assert nn_module.MLP is MLP and nn_module.Neuron is Neuron
    assert issubclass(MLP, Module) and issubclass(Layer, Module) and issubclass(Neuron, Module)
    from micrograd_widgets.engine import Value as EngineValue

    assert EngineValue is Value


def test_seed_mlp_has_337_parameters():
    model = MLP(2, [16, 16, 1])
    assert len(model.parameters()) == 337
    assert all(isinstance(p, Value) for p in model.parameters())


def test_named_parameters_are_dotted_ordered_and_set_as_labels():
    model = MLP(2, [3, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:4] == [
        "layers.0.neurons.0.w.0",
        "layers.0.neurons.0.w.1",
        "layers.0.neurons.0.b",
        "layers.0.neurons.1.w.0",
    ]
    assert names[-1] == "layers.1.neurons.0.b"
    assert len(names) == 3 * 3 + 4
    # order: layer by layer, neuron by neuron, w then b
    expected = [p for layer in model.layers for n in layer.neurons for p in (*n.w, n.b)]
    assert model.parameters() == expected
    assert all(p.label == name for name, p in model.named_parameters())
    # stable: asking again gives the same names for the same objects
    assert list(model.named_parameters()) == list(model.named_parameters())


def test_neuron_names_and_layer_names_are_relative():
    assert [n for n, _ in Neuron(2, seed=0).named_parameters()] == ["w.0", "w.1", "b"]
    assert [n for n, _ in Layer(1, 2, seed=0).named_parameters()] == [
        "neurons.0.w.0",
        "neurons.0.b",
        "neurons.1.w.0",
        "neurons.1.b",
    ]


def test_seed_neuron_example_gradients():
    # the seed's Neuron(4) printed [1.0, 2.0, 3.0, 4.0, 1.0]: d(w·x + b)/d(w, b) = (x, 1)
    n = Neuron(4, activation="none", seed=0)
    y = n([1.0, 2.0, 3.0, 4.0])
    y.backward()
    assert [p.grad for p in n.parameters()] == [1.0, 2.0, 3.0, 4.0, 1.0]


@pytest.mark.parametrize(
    ("activation", "f"),
    [
        ("relu", lambda z: max(z, 0.0)),
        ("tanh", np.tanh),
        ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
        ("none", lambda z: z),
    ],
)
def test_neuron_applies_its_activation(activation, f):
    n = Neuron(3, activation=activation, seed=3)
    x = [0.5, -1.0, 2.0]
    z = sum(wi.data * xi for wi, xi in zip(n.w, x)) + n.b.data
    assert n(x).data == pytest.approx(f(z), rel=1e-12, abs=1e-15)
    assert n.activation == activation


def test_unknown_activation_lists_the_choices():
    with pytest.raises(ValueError, match="'relu', 'tanh', 'sigmoid', 'none'"):
        Neuron(2, activation="gelu")
    with pytest.raises(ValueError, match="gelu"):
        MLP(2, [3, 1], activation="gelu")


def test_neuron_has_w_and_b():
    n = Neuron(3, seed=1)
    assert len(n.w) == 3 and isinstance(n.b, Value)
    assert all(-1.0 <= p.data <= 1.0 for p in n.parameters())


def test_layer_returns_a_bare_value_for_one_output_and_a_list_otherwise():
    single = Layer(4, 1, seed=0)
    assert isinstance(single([1.0, 2.0, 3.0, 4.0]), Value)
    multi = Layer(4, 3, activation="tanh", seed=0)
    out = multi([1.0, 2.0, 3.0, 4.0])
    assert isinstance(out, list) and len(out) == 3
    assert len(multi.neurons) == 3 and multi.activation == "tanh"
    assert (multi.nin, multi.nout) == (4, 3)


def test_mlp_hidden_relu_and_linear_output_by_default():
    model = MLP(2, [4, 4, 1], seed=0)
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "none"]
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    assert [layer.activation for layer in model.layers] == ["tanh", "none"]


def test_mlp_with_a_width_one_hidden_layer_works():
    model = MLP(2, [1, 3, 1], seed=0)
    out = model([1.0, -1.0])
    assert isinstance(out, Value)
    out.backward()
    assert len(model.parameters()) == 3 + 3 * 2 + 4


def test_mlp_with_several_outputs_returns_a_list():
    model = MLP(2, [3, 2], seed=0)
    out = model([1.0, -1.0])
    assert isinstance(out, list) and len(out) == 2
    assert all(isinstance(v, Value) for v in out)


def test_inputs_may_be_numbers_numpy_or_values():
    model = MLP(2, [4, 1], activation="tanh", seed=5)
    x = [0.3, -0.7]
    from_numbers = model(x).data
    assert model(np.array(x)).data == from_numbers
    assert model([Value(v) for v in x]).data == from_numbers


@pytest.mark.parametrize("module", [Neuron(2, seed=0), Layer(2, 3, seed=0), MLP(2, [3, 1], seed=0)])
def test_wrong_input_length_says_expected_and_got(module):
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        module([1.0, 2.0, 3.0])


def test_bad_sizes_are_rejected():
    with pytest.raises(ValueError, match="nin"):
        Neuron(0)
    with pytest.raises(ValueError, match="layer width"):
        MLP(2, [3, 0])
    with pytest.raises(ValueError, match="non-empty list"):
        MLP(2, [])
    with pytest.raises(
        ValueError, match=r"nouts must be a list of layer widths, got the number 3 .*\[3\]"
    ):
        MLP(2, 3)


@pytest.mark.parametrize("nouts", [None, "16", 2.5, {16: 1}.keys()])
def test_nouts_that_is_not_a_list_says_so(nouts):
    with pytest.raises(
        ValueError, match=r"nouts must be a list of layer widths, e\.g\. \[16, 16, 1\]; got "
    ):
        MLP(2, nouts)


def test_nouts_may_be_a_tuple_or_an_array():
    assert MLP(2, (3, 1), seed=0).nout == 1
    assert MLP(2, np.array([3, 2]), seed=0).nout == 2


def test_seed_and_rng_make_models_reproducible():
    a, b = MLP(2, [5, 1], seed=42), MLP(2, [5, 1], seed=42)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    c = MLP(2, [5, 1], seed=43)
    assert [p.data for p in a.parameters()] != [p.data for p in c.parameters()]
    d, e = MLP(2, [5, 1], rng=random.Random(7)), MLP(2, [5, 1], rng=random.Random(7))
    assert [p.data for p in d.parameters()] == [p.data for p in e.parameters()]
    with pytest.raises(ValueError, match="either seed= or rng="):
        MLP(2, [5, 1], seed=1, rng=random.Random(1))


def test_unseeded_models_follow_the_global_random_seed():
    random.seed(123)
    a = MLP(2, [3, 1])
    random.seed(123)
    b = MLP(2, [3, 1])
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


def test_zero_grad_resets_every_parameter():
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_parameter_matrix_has_bias_last():
    layer = Layer(3, 2, seed=0)
    m = layer.parameter_matrix()
    assert m.shape == (2, 4)
    assert m[1, 3] == layer.neurons[1].b.data and m[0, 2] == layer.neurons[0].w[2].data
    layer.neurons[1].b.grad = 5.0
    assert layer.parameter_matrix("grad")[1, 3] == 5.0
    with pytest.raises(ValueError, match="'data' or 'grad'"):
        layer.parameter_matrix("value")


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "none"])
@pytest.mark.parametrize("nouts", [[8, 8, 1], [5, 3], [1, 3, 1]])
def test_predict_matches_the_value_forward_pass(activation, nouts):
    model = MLP(2, nouts, activation=activation, seed=11)
    X = np.random.default_rng(0).uniform(-3, 3, size=(40, 2))
    predicted = model.predict(X)
    outs = [model(list(row)) for row in X]
    if nouts[-1] == 1:
        assert predicted.shape == (40,)
        expected = np.array([o.data for o in outs])
    else:
        assert predicted.shape == (40, nouts[-1])
        expected = np.array([[v.data for v in o] for o in outs])
    np.testing.assert_allclose(predicted, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "none"])
def test_predict_sees_a_weight_changed_by_hand_and_forward_with_matches_it(activation):
    model = MLP(2, [6, 6, 2], activation=activation, seed=3)
    X = np.random.default_rng(2).uniform(-2, 2, size=(50, 2))
    before = model.predict(X)
    matrices = [layer.parameter_matrix() for layer in model.layers]
    activations = [layer.activation for layer in model.layers]
    assert np.array_equal(nn_module.forward_with(matrices, activations, X), before)
    model.layers[-1].neurons[0].b.data += 1.0  # nothing is cached: the next predict sees it
    after = model.predict(X)
    np.testing.assert_allclose(after[:, 0], before[:, 0] + 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(after[:, 1], before[:, 1])
    # matrices read earlier keep describing the weights they were read at
    assert np.array_equal(nn_module.forward_with(matrices, activations, X), before)


def test_predict_builds_no_graph_and_checks_its_input():
    model = MLP(2, [4, 1], seed=0)
    grads_before = [p.grad for p in model.parameters()]
    out = model.predict([[0.0, 1.0], [1.0, 0.0]])
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert [p.grad for p in model.parameters()] == grads_before
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        model.predict(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="reshape"):
        model.predict(np.zeros(2))


@pytest.mark.parametrize("activation", ["relu", "tanh", "none"])
def test_a_neuron_and_a_layer_predict_like_their_value_forward_pass(activation):
    X = np.random.default_rng(1).uniform(-3, 3, size=(30, 3))
    neuron = Neuron(3, activation=activation, seed=4)
    assert neuron.nout == 1
    assert neuron.parameter_matrix().shape == (1, 4)
    np.testing.assert_allclose(
        neuron.predict(X), [neuron(list(row)).data for row in X], rtol=0, atol=1e-12
    )
    wide, single = Layer(3, 4, activation=activation, seed=4), Layer(3, 1, seed=4)
    assert wide.predict(X).shape == (30, 4) and single.predict(X).shape == (30,)
    expected = np.array([[v.data for v in wide(list(row))] for row in X])
    np.testing.assert_allclose(wide.predict(X), expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match=r"Neuron.predict expects an array of shape \(n, 3\)"):
        neuron.predict(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="reshape"):
        wide.predict(np.zeros(3))


def test_preactivations_are_each_layers_w_x_plus_b_before_its_activation():
    model = MLP(2, [5, 4, 1], seed=7)
    X = np.random.default_rng(2).uniform(-2, 2, size=(25, 2))
    pre = model.preactivations(X)
    assert [z.shape for z in pre] == [(25, 5), (25, 4), (25, 1)]
    for row, x in enumerate(X.tolist()):
        inputs = x
        for layer, z in zip(model.layers, pre):
            acts = [sum((w * xi for w, xi in zip(n.w, inputs)), n.b) for n in layer.neurons]
            np.testing.assert_allclose(z[row], [a.data for a in acts], rtol=0, atol=1e-12)
            inputs = [a.relu() if layer.activation == "relu" else a for a in acts]
    np.testing.assert_allclose(pre[-1][:, 0], model.predict(X), rtol=0, atol=1e-12)  # linear out
    neuron = Neuron(2, seed=1)
    [z] = neuron.preactivations(X)
    np.testing.assert_allclose(np.maximum(z[:, 0], 0), neuron.predict(X), rtol=0, atol=1e-12)
    assert Layer(2, 3, seed=1).preactivations(X)[0].shape == (25, 3)
    with pytest.raises(ValueError, match=r"preactivations expects an array of shape \(n, 2\)"):
        model.preactivations(np.zeros((3, 4)))


def test_sgd_steps_reduce_the_seed_loss():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 2))
    y = np.where(X[:, 0] + X[:, 1] > 0, 1, -1)
    model = MLP(2, [8, 1], seed=0)

    def loss():
        scores = [model(list(x)) for x in X]
        losses = [(1 + -yi * s).relu() for yi, s in zip(y, scores)]
        return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())

    first = loss().data
    for k in range(10):
        total = loss()
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
    assert loss().data < first


def test_a_bare_number_instead_of_a_list_is_a_clear_type_error():
    with pytest.raises(TypeError, match="expected a list of 1 inputs"):
        MLP(1, [2, 1], seed=0)(0.5)


# ---- several outputs: one logit per class ------------------------------------------------------


@pytest.mark.parametrize("nouts", [[32, 32, 3], [3, 2], [1, 3], [4, 1, 5]])
def test_multi_output_forward_and_predict_agree(nouts):
    model = MLP(2, nouts, seed=4)
    X = np.random.default_rng(2).normal(size=(25, 2)) * 2
    predicted = model.predict(X)
    assert predicted.shape == (25, nouts[-1]) and model.nout == nouts[-1]
    outs = [model(list(row)) for row in X]
    assert all(isinstance(o, list) and len(o) == nouts[-1] for o in outs)
    forward = np.array([[v.data for v in o] for o in outs])
    np.testing.assert_allclose(predicted, forward, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(predicted.argmax(axis=1), forward.argmax(axis=1))
    assert model.predict(np.zeros((0, 2))).shape == (0, nouts[-1])


def test_multi_output_mlp_learns_three_blobs_with_cross_entropy():
    from micrograd_widgets import datasets, losses

    data = datasets.blobs(60, noise=0.4, seed=0, centers=3)
    model = MLP(2, [8, 3], seed=0)

    def loss():
        return losses.cross_entropy_loss([model(list(x)) for x in data.X], data.y)

    first = loss().data
    for _ in range(15):
        total = loss()
        model.zero_grad()
        total.backward()
        assert all(p.grad != 0.0 for p in model.layers[-1].parameters())  # every logit is trained
        for p in model.parameters():
            p.data -= 0.1 * p.grad
    assert loss().data < 0.5 * first
    assert losses.accuracy(model.predict(data.X), data.y) >= 0.9
