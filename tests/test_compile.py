"""The compiled training step against the scalar engine: bit for bit, or a visible fallback.

Every comparison is bitwise (``struct.pack``), so 0.0 and -0.0 differ; NaN equals NaN (the
payload of a NaN is not part of the contract: Python never shows it).
"""

import itertools
import math
import random
import struct
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micrograd_widgets import MLP, Layer, Module, Neuron, Trainer, Value, datasets, losses
from micrograd_widgets.compiled import CompileError, compile_step
from micrograd_widgets.train import TrainingDiverged

ACTIVATIONS = ["relu", "tanh", "sigmoid", "none"]
LOSSES = ["svm", "log", "mse"]
PENALTIES = ["l2", "l1", None]


def bits(x: float) -> bytes:
    return struct.pack("<d", float(x))


def same(a: float, b: float) -> bool:
    return bits(a) == bits(b) or (math.isnan(a) and math.isnan(b))


def assert_same_state(compiled: Trainer, scalar: Trainer, where: str = "") -> None:
    """Every parameter value and grad, every history entry, bit for bit."""
    assert compiled.engine == "compiled", compiled.engine.reason
    assert scalar.engine == "scalar"
    for name, p, q in zip(compiled.parameter_names, compiled.parameters, scalar.parameters):
        assert same(p.data, q.data), f"{where} {name}.data: {p.data!r} vs {q.data!r}"
        assert same(p.grad, q.grad), f"{where} {name}.grad: {p.grad!r} vs {q.grad!r}"
    assert len(compiled.history) == len(scalar.history)
    for a, b in zip(compiled.history, scalar.history):
        assert a.keys() == b.keys()
        for key in a:
            assert same(a[key], b[key]), f"{where} history {key}: {a[key]!r} vs {b[key]!r}"
    assert compiled.steps_done == scalar.steps_done
    assert compiled.status == scalar.status and compiled.message == scalar.message
    assert np.array_equal(compiled.last_update, scalar.last_update, equal_nan=True)


def pair(make_model, data, **kwargs) -> tuple[Trainer, Trainer]:
    """Two trainers from the same seed: one compiled, one scalar."""
    kwargs.setdefault("seed", 0)  # the mini-batch sampler's
    return (
        Trainer(make_model(), data, engine="compiled", **kwargs),
        Trainer(make_model(), data, engine="scalar", **kwargs),
    )


def step_both(compiled: Trainer, scalar: Trainer, steps: int) -> None:
    """``steps`` steps on each; a divergence must happen on both, with the same message."""
    for k in range(steps):
        outcomes = []
        for trainer in (compiled, scalar):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    trainer.step()
                outcomes.append("ok")
            except TrainingDiverged as error:
                outcomes.append(str(error))
        assert outcomes[0] == outcomes[1]
        assert_same_state(compiled, scalar, f"step {k}:")
        if outcomes[0] != "ok":
            return


# ---- bit for bit ---------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("regularization", PENALTIES)
def test_every_activation_loss_and_penalty_is_bit_for_bit(activation, loss, regularization):
    data = datasets.moons(40, noise=0.2, seed=3)
    compiled, scalar = pair(
        lambda: MLP(2, [6, 5, 1], activation=activation, seed=7),
        data,
        loss=loss,
        regularization=regularization,
        alpha=1e-2,
        lr=0.1,
    )
    if loss == "log":  # replayed on arrays (compiled/_log_loss.py), not run on the scalar engine
        assert compiled.tape.objective.log_loss is not None, repr(compiled.tape)
    step_both(compiled, scalar, 4)
    assert compiled.steps_done == 4  # (not diverged: every step compared)


def test_the_seed_demo_is_bit_for_bit_for_many_steps():
    data = datasets.moons(128, noise=0.1, seed=0)
    compiled, scalar = pair(lambda: MLP(2, [16, 16, 1], seed=1), data)
    for _ in range(12):
        compiled.step()
        scalar.step()
    assert_same_state(compiled, scalar)
    assert compiled.history[-1]["accuracy"] > 0.8


def test_relu_exactly_at_zero_and_the_hinge_exactly_at_zero():
    # x0 == x1 and w = (1, -1), b = 0: the first neuron's pre-activation is exactly 0.0 (and
    # -0.0 where x = -x); the output is exactly 1.0, so y = +1 samples sit on the hinge's kink
    X = np.array([[0.5, 0.5], [-1.25, -1.25], [0.0, 0.0], [-0.0, 0.0], [2.0, -1.0], [1.0, 3.0]])
    y = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])

    def model():
        m = MLP(2, [2, 1], seed=0)
        first, second = m.layers[0].neurons
        first.w[0].data, first.w[1].data, first.b.data = 1.0, -1.0, 0.0
        second.w[0].data, second.w[1].data, second.b.data = -0.0, 0.0, -0.0
        out = m.layers[1].neurons[0]
        out.w[0].data, out.w[1].data, out.b.data = 0.0, 0.0, 1.0
        return m

    compiled, scalar = pair_xy(model, X, y, regularization="l1", lr=0.5)
    probe = compiled.model.layers[0].neurons[0]([0.5, 0.5])
    assert probe.data == 0.0  # the relu's input really is zero
    step_both(compiled, scalar, 3)


def pair_xy(make_model, X, y, **kwargs):
    kwargs.setdefault("seed", 0)
    return (
        Trainer(make_model(), X, y, engine="compiled", **kwargs),
        Trainer(make_model(), X, y, engine="scalar", **kwargs),
    )


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_saturated_tanh_and_sigmoid(activation):
    # weights of ±40 and inputs up to ±25: pre-activations in the hundreds, where tanh is ±1
    # and sigmoid 0 or 1 exactly (and e^-x underflows); gradients through them are exactly 0
    data = datasets.blobs(30, seed=2)

    def model():
        m = MLP(2, [4, 3, 1], activation=activation, seed=5)
        for p in m.layers[0].parameters():
            p.data *= 40.0
        return m

    X = data.X * 10.0
    compiled, scalar = pair_xy(model, X, data.y, lr=0.1)
    step_both(compiled, scalar, 3)


def test_mini_batches_and_a_test_split():
    data = datasets.moons(60, noise=0.2, seed=1, test_size=0.25)
    compiled, scalar = pair(
        lambda: MLP(2, [8, 8, 1], seed=2), data, batch_size=7, seed=11, loss="mse"
    )
    step_both(compiled, scalar, 5)


def test_a_batch_of_one():
    data = datasets.xor(20, seed=4)
    compiled, scalar = pair(lambda: MLP(2, [5, 1], seed=3), data, batch_size=1, seed=0)
    step_both(compiled, scalar, 4)


def test_added_and_removed_points_need_no_retrace():
    data = datasets.moons(30, noise=0.1, seed=6)
    compiled, scalar = pair(lambda: MLP(2, [8, 1], seed=4), data)
    step_both(compiled, scalar, 2)
    tape = compiled.tape
    for trainer in (compiled, scalar):
        trainer.add_point(0.3, -0.2, 1)
        trainer.add_point(-1.0, 0.9, -1)
        trainer.remove_nearest(0.0, 0.0)
    step_both(compiled, scalar, 2)
    assert compiled.tape is tape


def test_reset_and_new_weights_need_no_retrace():
    data = datasets.circles(30, seed=6)
    compiled, scalar = pair(lambda: MLP(2, [6, 1], seed=4), data, lr=0.2)
    step_both(compiled, scalar, 2)
    tape = compiled.tape
    for trainer in (compiled, scalar):
        trainer.reset()
        for i, p in enumerate(trainer.parameters):
            p.data = 0.01 * (i % 7) - 0.02
    step_both(compiled, scalar, 2)
    assert compiled.tape is tape


def test_weights_set_between_steps_are_used_even_when_equal_as_floats():
    # the compiled step skips re-reading parameters that still hold the floats it wrote: a
    # -0.0 written over a 0.0 (equal under ==) or a NaN must still be noticed
    data = datasets.moons(20, noise=0.1, seed=2)
    compiled, scalar = pair(lambda: MLP(2, [4, 1], activation="none", seed=5), data, lr=0.1)
    step_both(compiled, scalar, 1)
    for trainer in (compiled, scalar):
        out = trainer.model.layers[1].neurons[0]
        out.b.data = 0.0
        out.w[0].data = 0.25
    step_both(compiled, scalar, 1)
    for trainer in (compiled, scalar):
        out = trainer.model.layers[1].neurons[0]
        for w in out.w:
            w.data = 0.0
        out.b.data = -0.0  # the output is now -0.0 + 0.0*h + ...: its sign is in the score
    step_both(compiled, scalar, 2)


ACTS = st.sampled_from(ACTIVATIONS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    widths=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    activation=ACTS,
    loss=st.sampled_from(LOSSES),
    regularization=st.sampled_from(PENALTIES),
    alpha=st.sampled_from([0.0, 1e-4, 0.03]),
    n=st.integers(2, 25),
    nin=st.integers(1, 3),
    seed=st.integers(0, 10_000),
    batch=st.one_of(st.none(), st.integers(1, 8)),
)
def test_hypothesis_models_are_bit_for_bit(
    widths, activation, loss, regularization, alpha, n, nin, seed, batch
):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, nin)) * rng.choice([0.1, 1.0, 30.0])
    X[rng.random(X.shape) < 0.1] = 0.0  # exact zeros: relu and products at 0
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)

    def model():
        return MLP(nin, [*widths, 1], activation=activation, seed=seed)

    compiled, scalar = pair_xy(
        model, X, y, loss=loss, regularization=regularization, alpha=alpha, lr=0.5,
        batch_size=batch, seed=seed,
    )  # fmt: skip
    step_both(compiled, scalar, 3)


# ---- the same model under compile_step directly ----------------------------------------------


def test_compile_step_forward_and_backward_match_one_scalar_backward():
    data = datasets.moons(50, noise=0.2, seed=9)
    model = MLP(2, [7, 7, 1], activation="tanh", seed=3)
    params = model.parameters()
    step = compile_step(model, params, data.X, loss="mse", regularization="l1", alpha=0.01)
    out = step.forward(data.X, data.y)
    grads = out.backward()
    scores = [model(row) for row in data.X.tolist()]
    total = losses.total_loss(scores, data.y, params, loss="mse", regularization="l1", rate=0.01)
    model.zero_grad()
    total.backward()
    assert bits(out.loss) == bits(total.data)
    assert [bits(s) for s in out.scores] == [bits(s.data) for s in scores]
    assert [bits(g) for g in grads] == [bits(p.grad) for p in params]


def test_a_negative_zero_bias_keeps_its_sign_through_a_large_layer():
    # a layer large enough for einsum (which writes a -0.0 product as 0.0): with b = -0.0 and
    # every w*x = -0.0 the engine's chain stays -0.0 (-0.0 + -0.0), and so must the score
    data = datasets.moons(600, noise=0.1, seed=3)
    model = MLP(2, [16, 1], seed=2)
    out_neuron = model.layers[1].neurons[0]
    out_neuron.b.data = -0.0
    for w in out_neuron.w:
        w.data = -0.0  # times a relu output (+0.0 or more): -0.0
    step = compile_step(model, model.parameters(), data.X)
    out = step.forward(data.X, data.y)
    scores = [model(row) for row in data.X.tolist()]
    assert bits(scores[0].data) == bits(-0.0)
    assert [bits(s) for s in out.scores] == [bits(s.data) for s in scores]
    model.zero_grad()
    losses.total_loss(scores, data.y, model.parameters()).backward()
    assert [bits(g) for g in out.backward()] == [bits(p.grad) for p in model.parameters()]


def test_exact_false_is_within_1e_12_relative():
    data = datasets.moons(128, noise=0.1, seed=0)
    fast, scalar = (
        Trainer(MLP(2, [16, 16, 1], seed=1), data, exact=False),
        Trainer(MLP(2, [16, 16, 1], seed=1), data, engine="scalar"),
    )
    assert fast.engine == "compiled" and "matrix multiplies" in repr(fast.tape)
    for _ in range(5):
        # same parameters on both sides, then one step each: compare loss and gradients
        for p, q in zip(fast.parameters, scalar.parameters):
            p.data = q.data
        fast.step()
        scalar.step()
        a = fast.history[-1]["loss"]
        b = scalar.history[-1]["loss"]
        assert abs(a - b) <= 1e-12 * abs(b)
        ga = np.array([p.grad for p in fast.parameters])
        gb = np.array([p.grad for p in scalar.parameters])
        assert np.max(np.abs(ga - gb)) <= 1e-12 * np.max(np.abs(gb))
        assert not np.array_equal(ga, gb) or True  # equal is allowed, not required


# ---- fallbacks: each one visible -------------------------------------------------------------


class ReadsData(MLP):
    """Branches on a value while building its graph: cannot be traced."""

    def __call__(self, x):
        out = super().__call__(x)
        return out * 2.0 if out.data > 0 else out


class GlobalDropout(MLP):
    def __call__(self, x):
        out = super().__call__(x)
        return out * (0.0 if random.random() < 0.01 else 1.0)


class OwnRngDropout(MLP):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rng = random.Random(0)

    def __call__(self, x):
        out = super().__call__(x)
        return out * (0.0 if self.rng.random() < 0.01 else 1.0)


class Counting(MLP):
    """A constant that changes from call to call: hidden state baked into the graph."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return super().__call__(x) * (1.0 + 1e-9 * self.calls)


class UnknownOp(MLP):
    """A node made outside the engine's ops (an op the compiler cannot know)."""

    def __call__(self, x):
        return Value(0.5, (super().__call__(x),), "sin", _local_grads=(1.0,))


class SharedConstant(MLP):
    """Uses a Value that is not a parameter and is shared by every sample's graph."""

    shift = Value(0.25)

    def __call__(self, x):
        return super().__call__(x) + self.shift


@pytest.mark.parametrize(
    ("model_class", "reason"),
    [
        (ReadsData, "reads .data"),
        (GlobalDropout, "random numbers"),
        (OwnRngDropout, "random numbers"),
        (Counting, "differs between two samples"),
        (UnknownOp, "sin"),
        (SharedConstant, "not one of the trainer's parameters"),
    ],
)
def test_untraceable_models_fall_back_with_a_warning(model_class, reason):
    data = datasets.moons(20, noise=0.1, seed=0)
    state = random.getstate()
    with pytest.warns(UserWarning, match="scalar engine") as caught:
        trainer = Trainer(model_class(2, [4, 1], seed=1), data)
    assert reason in str(caught[0].message)
    assert random.getstate() == state  # the trace's random draws were undone
    assert trainer.engine == "scalar" and reason in trainer.engine.reason
    assert reason in repr(trainer.engine) and reason in repr(trainer.tape)
    with pytest.raises(CompileError, match=reason.replace(".", r"\.")):
        Trainer(model_class(2, [4, 1], seed=1), data, engine="compiled")
    # and it trains as the scalar engine does
    reference = Trainer(model_class(2, [4, 1], seed=1), data, engine="scalar")
    random.seed(5)
    trainer.run(2)
    random.seed(5)
    reference.run(2)
    assert [p.data for p in trainer.parameters] == [p.data for p in reference.parameters]


def test_weight_tying_falls_back():
    model = MLP(2, [3, 1], seed=0)
    model.layers[0].neurons[1].w[0] = model.layers[0].neurons[0].w[0]
    with pytest.warns(UserWarning, match="weight tying"):
        trainer = Trainer(model, datasets.moons(20, seed=0))
    assert trainer.engine == "scalar"


def test_the_log_loss_is_replayed_on_arrays_and_stays_exact():
    # (its branch per sample, _softplus reading .data: tests/test_compile_log_loss.py)
    data = datasets.moons(30, noise=0.3, seed=2)
    compiled, scalar = pair(lambda: MLP(2, [5, 5, 1], seed=8), data, loss="log")
    text = repr(compiled.tape)
    assert "loss: log loss, the engine's ops on arrays" in text and "_softplus" in text
    assert "on the scalar engine, the scores as leaves" not in text
    step_both(compiled, scalar, 4)


def test_a_custom_loss_is_called_once_per_step_and_stays_exact():
    calls = []

    def squared_hinge(scores, y):
        calls.append(len(scores))
        terms = [(1 + -yi * s).relu() ** 2 for yi, s in zip(y, scores)]
        return sum(terms[1:], terms[0]) * (1.0 / len(terms))

    data = datasets.moons(25, noise=0.2, seed=1)
    compiled, scalar = pair(lambda: MLP(2, [4, 1], seed=3), data, loss=squared_hinge, batch_size=9)
    assert calls == []  # compiling does not call the user's loss
    step_both(compiled, scalar, 3)
    assert calls == [9] * 6
    assert "custom loss" in repr(compiled.tape)


def test_a_custom_loss_that_sums_samples_backwards_stays_exact():
    def reversed_mean(scores, y):
        terms = [(1 + -yi * s).relu() for yi, s in zip(y, scores)][::-1]
        return sum(terms[1:], terms[0]) * (1.0 / len(terms))

    data = datasets.moons(25, noise=0.2, seed=1)
    compiled, scalar = pair(lambda: MLP(2, [4, 1], seed=3), data, loss=reversed_mean)
    step_both(compiled, scalar, 3)


def test_a_custom_loss_that_uses_the_parameters_falls_back_at_its_first_step():
    model = MLP(2, [3, 1], seed=0)
    scalar_model = MLP(2, [3, 1], seed=0)

    def make_loss(m):
        def loss(scores, y):
            data_loss = losses.svm_loss(scores, y)
            return data_loss + 0.01 * sum((p * p for p in m.parameters()), Value(0.0))

        return loss

    data = datasets.moons(20, seed=0)
    trainer = Trainer(model, data, loss=make_loss(model))
    reference = Trainer(scalar_model, data, loss=make_loss(scalar_model), engine="scalar")
    with pytest.warns(UserWarning, match="uses the model's parameters"):
        trainer.step()
    reference.step()
    assert trainer.engine == "scalar"
    for p, q in zip(trainer.parameters, reference.parameters):
        assert bits(p.grad) == bits(q.grad) and bits(p.data) == bits(q.data)


def test_a_custom_module_is_compiled_node_by_node():
    class Linear(Module):
        def __init__(self):
            self.w, self.b = [Value(0.5), Value(-0.25)], Value(0.1)

        def __call__(self, x):
            return (self.w[0] * x[0] + self.w[1] * x[1] + self.b).tanh() * 3.0

        def named_parameters(self):
            yield from (("w.0", self.w[0]), ("w.1", self.w[1]), ("b", self.b))

    data = datasets.moons(30, noise=0.1, seed=0)
    compiled, scalar = pair(Linear, data, lr=0.1, batch_size=8, seed=1)
    assert "replayed one by one" in repr(compiled.tape)
    step_both(compiled, scalar, 4)


# ---- errors, NaN and divergence ----------------------------------------------------------------


class DividesByInput(MLP):
    def __call__(self, x):
        return super().__call__(x) / x[1]


class LogOfInput(MLP):
    def __call__(self, x):
        return (super().__call__(x) * 0.0 + x[1]).log()


@pytest.mark.parametrize(
    ("model_class", "error", "bad"),
    [(DividesByInput, ZeroDivisionError, 0.0), (LogOfInput, ValueError, -2.0)],
)
def test_engine_errors_are_the_scalar_engines(model_class, error, bad):
    X = np.array([[0.5, 1.0], [0.25, 2.0], [1.5, 3.0], [-0.5, 1.5]])
    y = np.array([1.0, -1.0, 1.0, -1.0])
    messages = []
    for engine in ("compiled", "scalar"):
        trainer = Trainer(model_class(2, [3, 1], seed=0), X, y, engine=engine)
        trainer.step()
        trainer.add_point(0.75, bad, 1)
        before = [p.data for p in trainer.parameters]
        with pytest.raises(error) as caught:
            trainer.step()
        messages.append(str(caught.value))
        assert [p.data for p in trainer.parameters] == before
        assert trainer.steps_done == 1
    assert messages[0] == messages[1]


def test_divergence_stops_at_the_same_step_with_the_same_message():
    data = datasets.moons(64, seed=0)
    compiled, scalar = pair(lambda: MLP(2, [16, 16, 1], seed=1), data, lr=100.0)
    for trainer in (compiled, scalar):
        with pytest.warns(RuntimeWarning, match="Training diverged at step"):
            trainer.run(20)
    assert compiled.status == "diverged"
    assert_same_state(compiled, scalar)


def test_nan_and_inf_propagate_as_in_the_engine():
    data = datasets.moons(20, seed=0)
    compiled, scalar = pair(lambda: MLP(2, [3, 1], activation="none", seed=1), data)
    for trainer in (compiled, scalar):
        trainer.parameters[0].data = math.inf
        with (
            pytest.raises(TrainingDiverged, match=r"the loss is (nan|inf)"),
            pytest.warns(RuntimeWarning),
        ):
            trainer.step()
    assert_same_state(compiled, scalar)  # same message, no update, grads untouched
    for trainer in (compiled, scalar):
        trainer.reset()
        trainer.parameters[1].data = 1e300  # finite weights, overflowing activations
        with pytest.raises(TrainingDiverged), pytest.warns(RuntimeWarning):
            trainer.step()
    assert_same_state(compiled, scalar)


def test_an_infinite_gradient_with_a_finite_loss_stops_before_the_update_on_both_engines():
    """score = w2 * (w1 . x + b1) + b2 with w1 = b1 = 0: the loss is finite, but w1's gradient
    is w2 * x * g = 1e300 * 1e10 * g = inf. The step stops with no update, every p.grad left as
    backward() leaves it (the compiled step writes them itself), every p.data untouched."""
    X = np.array([[1e10, 1.0], [-1e10, 2.0]])
    y = np.array([1.0, -1.0])

    def model():
        mlp = MLP(2, [1, 1], activation="none", seed=0)
        for p, value in zip(mlp.parameters(), [0.0, 0.0, 0.0, 1e300, 0.5]):
            p.data = value
        return mlp

    compiled, scalar = pair_xy(model, X, y, regularization=None)
    for trainer in (compiled, scalar):
        with (
            pytest.raises(TrainingDiverged, match="a gradient is NaN or infinite"),
            pytest.warns(RuntimeWarning),
        ):
            trainer.step()
        assert math.isinf(trainer.parameters[0].grad)
        assert [p.data for p in trainer.parameters] == [0.0, 0.0, 0.0, 1e300, 0.5]
    assert_same_state(compiled, scalar)


# ---- retracing ----------------------------------------------------------------------------------


def test_changes_to_activation_loss_or_penalty_retrace():
    data = datasets.moons(30, noise=0.1, seed=6)
    compiled, scalar = pair(lambda: MLP(2, [5, 4, 1], seed=4), data)
    step_both(compiled, scalar, 1)
    seen = [compiled.tape]  # (kept alive, so no two ids can coincide)
    changes = [
        lambda t: setattr(t.model.layers[1].neurons[2], "activation", "tanh"),
        lambda t: setattr(t, "loss", losses.mse_loss),
        lambda t: setattr(t, "regularization", "l1"),
        lambda t: setattr(t, "alpha", 0.05),
        lambda t: setattr(t, "batch_size", 9),
    ]
    for change in changes:
        change(compiled)
        change(scalar)
        step_both(compiled, scalar, 1)
        seen.append(compiled.tape)
    assert len({id(tape) for tape in seen}) == 5  # a retrace each, not for the batch size


def test_replacing_a_weight_object_is_noticed():
    data = datasets.moons(20, seed=0)
    trainer = Trainer(MLP(2, [3, 1], seed=0), data)
    trainer.step()
    trainer.model.layers[0].neurons[0].w[1] = Value(0.5)  # not among trainer.parameters
    with pytest.warns(UserWarning, match="not one of the trainer's parameters"):
        assert trainer.engine == "scalar"


def test_switching_engines():
    data = datasets.moons(20, seed=0)
    trainer = Trainer(MLP(2, [3, 1], seed=0), data, engine="scalar")
    assert trainer.engine == "scalar" and "asked for" in repr(trainer.tape)
    trainer.engine = "auto"
    assert trainer.engine == "compiled"
    with pytest.raises(ValueError, match="engine must be"):
        trainer.engine = "gpu"
    with pytest.raises(ValueError, match="engine must be"):
        Trainer(MLP(2, [3, 1]), data, engine="fast")
    with pytest.raises(ValueError, match="exact must be"):
        Trainer(MLP(2, [3, 1]), data, exact="yes")


# ---- the tape, for teaching ---------------------------------------------------------------------


def test_the_tape_summarises_what_was_compiled():
    trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(128, noise=0.1, seed=0))
    text = repr(trainer.tape)
    assert "layer 2: 16 neurons × (16 outputs of the layer below + bias), relu" in text
    assert "loss: 3 ops per sample" in text
    assert "penalty: 1 op per parameter (337)" in text
    assert "numpy calls per step" in text
    assert "0.0 + samples 0, 1, 2, ... then the penalty" in text
    tape = trainer.tape
    assert tape.nodes_per_sample == 643
    assert tape.scalar_nodes(128) > 80_000
    assert 20 < tape.numpy_calls < 200


def test_compile_step_refuses_bad_arguments():
    model = MLP(2, [3, 1], seed=0)
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="regularization rate"):
        compile_step(model, model.parameters(), X, alpha=-1)
    with pytest.raises(ValueError, match="unknown loss"):
        compile_step(model, model.parameters(), X, loss="hinge")
    with pytest.raises(ValueError, match="2-D array"):
        compile_step(model, model.parameters(), np.zeros(3))


# ---- speed and bounded history ------------------------------------------------------------------


def test_speed_is_validated():
    trainer = Trainer(MLP(2, [3, 1], seed=0), datasets.moons(10, seed=0))
    assert trainer.speed is None
    for good, expected in ((10, 10.0), (0.5, 0.5), ("max", None), (None, None)):
        trainer.speed = good
        assert trainer.speed == expected
    for bad in (0, -1, math.nan, math.inf, "fast", True, [10]):
        with pytest.raises(ValueError, match="speed must be"):
            trainer.speed = bad
    with pytest.raises(ValueError, match="speed must be"):
        Trainer(MLP(2, [3, 1]), datasets.moons(10, seed=0), speed=-5)


def test_speed_paces_run_and_start():
    import time

    trainer = Trainer(MLP(2, [3, 1], seed=0), datasets.moons(10, seed=0), speed=20)
    t0 = time.monotonic()
    trainer.run(4)
    assert time.monotonic() - t0 >= 3 / 20  # three waits of 1/20 s at least
    trainer.speed = 5
    trainer.start()
    time.sleep(0.3)
    trainer.speed = None  # flat out from now on: the waiting thread notices within 50 ms
    time.sleep(0.3)
    trainer.stop()
    assert trainer.steps_done > 4 + 5


def test_history_keeps_recent_steps_whole_and_thins_old_ones():
    from micrograd_widgets.train import History

    history = History(max_rows=10, keep_recent=4)
    for k in range(40):
        history.append({name: float(k) for name in History.COLUMNS})
    assert len(history) <= 10
    steps = history.step.tolist()
    assert steps[0] == 0.0 and steps[-4:] == [36.0, 37.0, 38.0, 39.0]
    assert steps == sorted(steps) and history[-1]["loss"] == 39.0
    with pytest.raises(ValueError, match="keep_recent"):
        History(max_rows=3, keep_recent=4)


def test_a_long_run_keeps_the_history_bounded():
    trainer = Trainer(MLP(2, [2, 1], seed=0), datasets.moons(8, seed=0), lr=0.01)
    trainer.history.max_rows, trainer.history.keep_recent = 50, 20
    trainer.run(300)
    assert len(trainer.history) <= 50 and trainer.steps_done == 300
    assert trainer.history[-1]["step"] == 299.0 and trainer.history[0]["step"] == 0.0


# ---- the pieces the guarantees rest on -----------------------------------------------------------


def test_the_library_forward_reads_no_data_and_draws_no_random_numbers():
    """Unmodified MLP/Layer/Neuron are traced once, without watching: this is why that's safe."""
    import dis

    from micrograd_widgets import nn

    functions = [nn.MLP.__call__, nn.Layer.__call__, nn.Neuron.__call__, nn._check_inputs]
    for function in functions:
        for instruction in dis.get_instructions(function):
            assert instruction.argval not in ("data", "random", "rng", "getattr", "setattr"), (
                function.__qualname__,
                instruction,
            )
    for name, (on_value, _) in nn.ACTIVATIONS.items():
        if name != "none":
            assert on_value.__module__ == "micrograd_widgets.engine"


def test_sums_are_sequential():
    from micrograd_widgets.compiled import _kernels as K

    assert K.SEQUENTIAL_REDUCE
    stack = np.full((200, 3, 2), 2.0**-53)
    stack[0] = 1.0
    assert np.all(K.sum_rows(stack.copy()) == 1.0)
    assert np.all(K.sum_rows(stack[:, :1, :1].copy()) == 1.0)  # one column: accumulate
    assert K.sum_sequence(stack[:, 0, 0].copy()) == 1.0
    assert bits(K.sum_rows(np.array([[-0.0, -0.0]]), start=0.0)[0]) == bits(0.0)


def test_an_einsum_is_used_for_a_sum_only_where_it_adds_in_order():
    """The per-shape check of SequentialContraction agrees with brute force on every small shape:
    it accepts einsum exactly where it matches the products summed in order (by accumulate) on
    random inputs, and refuses it where it does not (e.g. one sample, where numpy sums the
    chain with SIMD lanes)."""
    from micrograd_widgets.compiled import _kernels as K

    rng = np.random.default_rng(0)
    verdicts = []
    for contraction in K.CONTRACTIONS:
        for m in range(1, 8):
            for o1, o2 in itertools.product(range(1, 4), repeat=2):
                shapes = ((o1, m), (m, o2)) if contraction is K.CHAIN_SUMS else ((m, o1), (m, o2))
                in_order = True
                for _ in range(100):
                    a, b = (rng.normal(size=s) * 2.0 ** rng.integers(-30, 30, s) for s in shapes)
                    got = contraction(a, b)
                    if got is None:
                        break
                    in_order = np.array_equal(got, contraction.sequential(a, b))
                    if not in_order:
                        break
                assert in_order, f"{contraction.spec} {shapes}: einsum used but out of order"
                verdicts.append(got is not None)
                if got is None:  # refused: then einsum must really disagree somewhere
                    assert any(
                        not np.all(np.einsum(contraction.spec, a, b) == want)
                        for a, b, want in contraction._probes(*shapes)
                    )
    assert any(verdicts) and not all(verdicts)  # both answers occur here (numpy 2.x, x86-64)


@pytest.mark.parametrize(("activation", "loss"), [("relu", "svm"), ("tanh", "log")])
def test_with_every_einsum_sum_refused_the_step_is_still_bit_for_bit(monkeypatch, activation, loss):
    """The fallback (every product, then summed in order) stays exact on its own."""
    from micrograd_widgets.compiled import _kernels as K

    contractions = K.CONTRACTIONS
    for contraction in contractions:
        monkeypatch.setattr(contraction, "_in_order", lambda a_shape, b_shape: False)
        monkeypatch.setattr(contraction, "verdicts", {})
    compiled, scalar = pair(
        lambda: MLP(2, [6, 5, 1], activation=activation, seed=7),
        datasets.moons(40, noise=0.2, seed=3),
        loss=loss,
        alpha=1e-2,
    )
    step_both(compiled, scalar, 3)
    assert compiled.steps_done == 3
    assert all(set(c.verdicts.values()) == {False} for c in contractions)  # (all were asked)


def test_the_tape_order_is_the_engines_topological_order():
    from micrograd_widgets.compiled._graph import linearize

    model = MLP(3, [4, 4, 1], seed=0)
    x = [Value(0.5), Value(-1.0), Value(2.0)]
    out = losses.svm_loss([model(x)], [1.0])
    tape = linearize(out, traced=False)
    assert [id(n) for n in tape.nodes] == [id(n) for n in out.topological_order()]


def test_a_trace_does_not_disturb_scalar_work_on_another_thread():
    import threading

    data = datasets.moons(40, seed=0)
    results = []

    def scalar_steps():
        trainer = Trainer(MLP(2, [8, 8, 1], seed=3), data, engine="scalar")
        trainer.run(3)
        results.append([bits(p.data) for p in trainer.parameters])

    thread = threading.Thread(target=scalar_steps)
    thread.start()
    for _ in range(5):  # custom models are traced with the watching engine hook on
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Trainer(Counting(2, [4, 1], seed=1), data)
    thread.join()
    reference = Trainer(MLP(2, [8, 8, 1], seed=3), data, engine="scalar")
    reference.run(3)
    assert results == [[bits(p.data) for p in reference.parameters]]


@pytest.mark.parametrize(
    "make",
    [
        lambda: Layer(2, 1, activation="tanh", seed=3),
        lambda: Neuron(2, activation="none", seed=4),
        lambda: MLP(2, [5, 1], output_activation="sigmoid", seed=6),
    ],
)
def test_a_bare_layer_a_neuron_and_an_output_activation(make):
    data = datasets.moons(25, noise=0.2, seed=5)
    compiled, scalar = pair(make, data, loss="mse", lr=0.2)
    assert "layer 1:" in repr(compiled.tape)
    step_both(compiled, scalar, 3)


# ---- k classes: cross-entropy, and every optimizer -------------------------------------------

OPTIMIZERS = ["sgd", "momentum", "adam", "adamw"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("regularization", PENALTIES)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_cross_entropy_is_bit_for_bit_for_every_activation_penalty_and_optimizer(
    activation, regularization, optimizer
):
    data = datasets.spiral(36, classes=3, noise=0.3, seed=1, test_size=0.25)
    compiled, scalar = pair(
        lambda: MLP(2, [6, 5, 3], activation=activation, seed=4),
        data,
        loss="cross_entropy",
        regularization=regularization,
        alpha=1e-2,
        optimizer=optimizer,
        lr=0.05,
    )
    step_both(compiled, scalar, 4)
    assert compiled.steps_done == 4
    assert "softmax cross-entropy over 3 logits, the engine's ops on arrays" in str(compiled.tape)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_each_optimizer_is_bit_for_bit_across_the_engines_on_the_seed_demo(optimizer):
    data = datasets.moons(64, noise=0.1, seed=0)
    compiled, scalar = pair(lambda: MLP(2, [8, 8, 1], seed=1), data, optimizer=optimizer)
    step_both(compiled, scalar, 5)
    assert compiled.steps_done == 5
    for name, state in compiled.optimizer.state_arrays().items():
        assert np.array_equal(state, scalar.optimizer.state_arrays()[name]), name


def test_cross_entropy_with_mini_batches_and_five_classes():
    data = datasets.spiral(60, classes=5, seed=2, test_size=0.2)
    compiled, scalar = pair(
        lambda: MLP(2, [7, 5], seed=3), data, loss="cross_entropy", batch_size=9, lr=0.2
    )
    step_both(compiled, scalar, 5)


def test_cross_entropy_with_two_outputs_and_binary_labels():
    data = datasets.moons(30, noise=0.2, seed=5)  # labels -1 / +1
    compiled, scalar = pair(
        lambda: MLP(2, [6, 2], activation="tanh", seed=0), data, loss="cross_entropy"
    )
    step_both(compiled, scalar, 4)


def test_added_points_of_each_class_need_no_retrace_and_stay_exact():
    data = datasets.spiral(24, classes=3, seed=0)
    compiled, scalar = pair(
        lambda: MLP(2, [5, 3], seed=2), data, loss="cross_entropy", optimizer="adam", lr=0.05
    )
    step_both(compiled, scalar, 2)
    tape = compiled.tape
    for label in (2, 0, 1):
        for trainer in (compiled, scalar):
            trainer.add_point(0.3 * label - 0.2, 0.1, label)
        step_both(compiled, scalar, 2)
    assert compiled.tape is tape


def test_large_logits_stay_finite_and_exact():
    data = datasets.spiral(24, classes=3, seed=0)
    assert MLP(2, [4, 3], seed=1).predict(data.X).max() > 0.5  # so below, > 2,000

    def make():
        model = MLP(2, [4, 3], seed=1)
        for p in model.layers[-1].parameters():
            p.data *= 400.0  # logits in the thousands: exp() would overflow without the max
        return model

    compiled, scalar = pair(make, data, loss="cross_entropy", lr=1e-4)
    step_both(compiled, scalar, 3)
    assert compiled.steps_done == 3
    # a wrong class by a margin in the thousands costs that much: large, and finite
    assert 100 < compiled.history[0]["loss"] < math.inf


def test_infinite_logits_diverge_on_both_engines_with_the_same_message():
    data = datasets.spiral(24, classes=3, seed=0)

    def make():
        model = MLP(2, [4, 3], seed=1)
        model.layers[-1].neurons[1].b.data = math.inf
        return model

    compiled, scalar = pair(make, data, loss="cross_entropy")
    step_both(compiled, scalar, 2)
    assert compiled.status == "diverged" and "the loss is nan" in compiled.message


def test_a_one_output_model_with_cross_entropy_does_not_compile():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(CompileError, match="cross-entropy needs a model with k >= 2 outputs"):
        compile_step(model, model.parameters(), np.zeros((2, 2)), loss="cross_entropy")
    model = MLP(2, [3, 3], seed=0)
    with pytest.raises(CompileError, match="3 outputs but the loss 'svm' takes one score"):
        compile_step(model, model.parameters(), np.zeros((2, 2)), loss="svm")


def test_a_k_output_compiled_step_forward_matches_one_scalar_backward():
    data = datasets.spiral(20, classes=4, seed=1)
    model = MLP(2, [5, 4], seed=0)
    step = compile_step(model, model.parameters(), data.X, loss="cross_entropy")
    out = step.forward(data.X, data.y)
    grads = out.backward()
    outputs = [model(list(row)) for row in data.X.tolist()]
    total = losses.total_loss(outputs, data.y, model.parameters(), loss="cross_entropy")
    model.zero_grad()
    total.backward()
    assert out.scores.shape == (20, 4)
    assert bits(out.loss) == bits(total.data)
    assert [bits(v) for v in out.scores.ravel()] == [bits(v.data) for r in outputs for v in r]
    assert [bits(g) for g in grads] == [bits(p.grad) for p in model.parameters()]


def test_tied_logits_and_a_custom_cross_entropy_on_the_scalar_head_stay_exact():
    data = datasets.spiral(24, classes=3, seed=0)

    def make():
        model = MLP(2, [4, 3], seed=1)
        for p in model.layers[-1].parameters():
            p.data = 0.0  # every logit exactly 0.0: a three-way tie for the max
        return model

    compiled, scalar = pair(make, data, loss="cross_entropy", optimizer="momentum", lr=0.1)
    step_both(compiled, scalar, 3)

    def my_cross_entropy(outputs, y):  # a custom loss: run on the scalar engine each step
        return losses.cross_entropy_loss(outputs, y)

    compiled, scalar = pair(
        lambda: MLP(2, [5, 3], seed=2), data, loss=my_cross_entropy, optimizer="adam", lr=0.05
    )
    step_both(compiled, scalar, 3)
    assert "loss: on the scalar engine" in str(compiled.tape)


@pytest.mark.parametrize("k", [2, 3, 4, 7])
def test_the_cross_entropy_replay_matches_the_scalar_engine_for_any_k(k):
    from micrograd_widgets.compiled._softmax import CrossEntropyHead, scalar_cross_entropy

    head = CrossEntropyHead.compile(k)  # checks itself against the scalar engine on probes
    rng = np.random.default_rng(k)
    logits = rng.normal(scale=30.0, size=(50, k))
    logits[::7, 0] = logits[::7, -1]  # ties for the max
    labels = rng.integers(0, k, size=50).astype(float)
    loss, grads, order, output_order = scalar_cross_entropy(logits, labels)
    state = head.forward(logits, labels)
    got, got_order, got_output_order = head.backward(state)
    assert bits(state.loss) == bits(loss)
    assert [bits(v) for v in got.ravel()] == [bits(v) for v in grads.ravel()]
    assert (got_order is None) == (order is None)
    assert np.array_equal(got_output_order, output_order)
    poisoned = logits.copy()
    poisoned[3, 1] = math.inf
    assert head.forward(poisoned, labels) is None  # log_softmax's NaN branch: the scalar head


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    widths=st.lists(st.integers(1, 6), min_size=0, max_size=2),
    k=st.integers(2, 5),
    activation=ACTS,
    regularization=st.sampled_from(PENALTIES),
    alpha=st.sampled_from([0.0, 1e-4, 0.03]),
    optimizer=st.sampled_from(OPTIMIZERS),
    n=st.integers(2, 25),
    nin=st.integers(1, 3),
    seed=st.integers(0, 10_000),
    batch=st.one_of(st.none(), st.integers(1, 8)),
)
def test_hypothesis_k_class_models_are_bit_for_bit(
    widths, k, activation, regularization, alpha, optimizer, n, nin, seed, batch
):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, nin)) * rng.choice([0.1, 1.0, 30.0])
    X[rng.random(X.shape) < 0.1] = 0.0  # exact zeros: relu and products at 0
    y = rng.integers(0, k, size=n).astype(float)

    def model():
        return MLP(nin, [*widths, k], activation=activation, seed=seed)

    compiled, scalar = pair_xy(
        model, X, y, loss="cross_entropy", regularization=regularization, alpha=alpha,
        optimizer=optimizer, lr=0.3, batch_size=batch, seed=seed,
    )  # fmt: skip
    step_both(compiled, scalar, 3)


def test_exact_false_cross_entropy_is_within_1e_12_relative():
    data = datasets.spiral(90, classes=3, seed=0)
    fast = Trainer(MLP(2, [16, 16, 3], seed=1), data, loss="cross_entropy", exact=False)
    scalar = Trainer(MLP(2, [16, 16, 3], seed=1), data, loss="cross_entropy", engine="scalar")
    assert fast.engine == "compiled" and "matrix multiplies" in repr(fast.tape)
    for _ in range(3):
        for p, q in zip(fast.parameters, scalar.parameters):
            p.data = q.data
        fast.step()
        scalar.step()
        a, b = fast.history[-1]["loss"], scalar.history[-1]["loss"]
        assert abs(a - b) <= 1e-12 * abs(b)
        ga = np.array([p.grad for p in fast.parameters])
        gb = np.array([p.grad for p in scalar.parameters])
        assert np.max(np.abs(ga - gb)) <= 1e-12 * np.max(np.abs(gb))


class TwoHeads(Module):
    """A custom module with two outputs: not a stack of library layers."""

    def __init__(self):
        self.body = MLP(2, [4], seed=0)
        self.heads = [Neuron(4, activation="none", seed=1), Neuron(4, activation="none", seed=2)]
        self.nin, self.nout = 2, 2

    def __call__(self, x):
        h = self.body(x)
        return [head(h) * 1.0 for head in self.heads]

    def parameters(self):
        return self.body.parameters() + [p for head in self.heads for p in head.parameters()]

    def named_parameters(self):
        return [(f"p{i}", p) for i, p in enumerate(self.parameters())]


def test_a_custom_multi_output_module_falls_back_with_a_warning_and_trains():
    data = datasets.moons(20, seed=0)
    with pytest.warns(UserWarning, match="compiles only as a stack of dense layers"):
        trainer = Trainer(TwoHeads(), data, loss="cross_entropy")
    assert trainer.engine == "scalar"
    trainer.run(3)
    assert trainer.steps_done == 3 and trainer.confusion_matrix().sum() == 20


# ---- samples whose hinge is satisfied add nothing -------------------------------------------


def spy_on_sample_skipping(monkeypatch) -> list:
    """Record what the dense backward's sample selection returns (None: every sample kept)."""
    from micrograd_widgets.compiled import _model

    calls: list = []
    real = _model._samples_that_add

    def spy(*args):
        kept = real(*args)
        calls.append(kept)
        return kept

    monkeypatch.setattr(_model, "_samples_that_add", spy)
    return calls


@pytest.mark.parametrize("regularization", PENALTIES)
def test_satisfied_hinges_are_left_out_and_every_bit_stays(monkeypatch, regularization):
    calls = spy_on_sample_skipping(monkeypatch)
    data = datasets.moons(128, noise=0.1, seed=0)
    compiled, scalar = pair(
        lambda: MLP(2, [16, 16, 1], seed=1), data, regularization=regularization
    )
    step_both(compiled, scalar, 40)  # the seed demo: most margins are met within ~30 steps
    assert compiled.steps_done == 40
    left_out = [kept for kept in calls if kept is not None]
    assert left_out, "no step left a sample out: the test does not test the skipping"
    assert min(len(kept) for kept in left_out) < 0.5 * len(data.y)


def test_mini_batches_keep_backwards_sample_order_when_samples_are_left_out(monkeypatch):
    calls = spy_on_sample_skipping(monkeypatch)
    data = datasets.moons(96, noise=0.1, seed=2)
    compiled, scalar = pair(lambda: MLP(2, [8, 8, 1], seed=4), data, batch_size=32)
    step_both(compiled, scalar, 60)
    assert any(kept is not None for kept in calls)


def test_no_sample_is_left_out_when_an_activation_is_not_finite(monkeypatch):
    from micrograd_widgets.compiled import _model

    model = MLP(2, [4, 1], seed=0)
    step = compile_step(model, model.parameters(), np.array([[0.0, 1.0], [1.0, 0.0]]))
    X = np.array([[1.0, 2.0], [3.0, -1.0], [np.inf, 0.0], [0.5, 0.5]])
    theta = step.read_parameters()
    dscores = np.array([1.0, 0.0, 0.0, 0.0])  # three samples send only zeros down...
    with np.errstate(all="ignore"):  # (inf - inf in the forward is the point)
        _, state = step.model.forward(X, theta)
        # ...but 0 * inf is NaN: the scalar engine's sums see it, so nothing may be left out
        assert (
            _model._samples_that_add(step.model.blocks, state, dscores, None, np.zeros(step.count))
            is None
        )
        finite = X[[0, 1, 3]]
        _, state = step.model.forward(finite, theta)
        kept = _model._samples_that_add(
            step.model.blocks, state, np.array([0.0, 1.0, 0.0]), None, np.zeros(step.count)
        )
        # sample 1 adds; the others follow (they add only ±0), up to a multiple of 16 samples
        assert kept is not None and kept.tolist() == [1, 0, 2]
        # a sum starting at -0.0 would become +0.0 on adding a +0.0: nothing may be left out
        start = np.zeros(step.count)
        start[0] = -0.0
        assert (
            _model._samples_that_add(
                step.model.blocks, state, np.array([0.0, 1.0, 0.0]), None, start
            )
            is None
        )
        # backward's visiting order is kept among the samples that add
        kept = _model._samples_that_add(
            step.model.blocks,
            state,
            np.array([1.0, 0.0, 2.0]),
            np.array([2, 1, 0]),
            start * 0 + 0.0,
        )
        assert kept.tolist() == [2, 0, 1]


def test_the_samples_kept_come_in_multiples_of_16_the_ones_that_add_first():
    from micrograd_widgets.compiled import _model

    model = MLP(2, [4, 1], seed=0)
    step = compile_step(model, model.parameters(), np.array([[0.0, 1.0], [1.0, 0.0]]))
    X = np.random.default_rng(0).normal(size=(40, 2))
    _, state = step.model.forward(X, step.read_parameters())
    dscores = np.zeros(40)
    adding = [3, 17, 30, 5, 21]
    dscores[adding] = 0.5
    order = np.arange(40)[::-1].copy()  # backward's visiting order
    with np.errstate(divide="ignore"):  # (as in a step: 1/0 is how -0.0 is looked for)
        kept = _model._samples_that_add(
            step.model.blocks, state, dscores, order, np.zeros(step.count)
        )
    assert kept is not None and len(kept) == _model.SAMPLES_IN_STEPS_OF == 16
    assert kept[:5].tolist() == sorted(adding, reverse=True)  # in the visiting order
    assert len(set(kept.tolist())) == 16 and not np.any(dscores[kept[5:]])
