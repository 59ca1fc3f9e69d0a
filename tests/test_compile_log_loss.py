"""The log loss replayed on arrays (compiled/_log_loss.py) against the scalar engine, bit for bit.

``losses.log_loss`` branches per sample on ``z.data > 0``; the compiled step replays both
branches on arrays and must give the scalar engine's loss, score gradients, parameter
gradients and history to the bit -- or refuse the replay (then the loss runs on the scalar
engine each step, exact all the same).
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compile import ACTIVATIONS, PENALTIES, assert_same_state, bits, pair, step_both

from micrograd_widgets import MLP, Trainer, datasets
from micrograd_widgets.compiled import _objective, compile_step
from micrograd_widgets.compiled._log_loss import LogLossHead, scalar_log_loss

REPLAYED = "loss: log loss, the engine's ops on arrays"


def pair_xy(make_model, X, y, **kwargs):
    kwargs.setdefault("seed", 0)
    return (
        Trainer(make_model(), X, y, engine="compiled", **kwargs),
        Trainer(make_model(), X, y, engine="scalar", **kwargs),
    )


def assert_replayed(trainer: Trainer) -> None:
    assert trainer.tape.objective.log_loss is not None, repr(trainer.tape)


@pytest.fixture
def fresh_objectives():
    """compile_objective remembers its results: forget them around a test that patches it."""
    _objective._compile_objective_cached.cache_clear()
    yield
    _objective._compile_objective_cached.cache_clear()


# ---- the head alone ---------------------------------------------------------------------------


def test_the_head_matches_the_scalar_engine_on_random_and_extreme_scores():
    head = LogLossHead.compile()  # (checks itself against the scalar engine on probes)
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 17, 128):
        scores = rng.normal(size=n) * rng.choice([1e-3, 1.0, 40.0, 900.0], size=n)
        scores[rng.random(n) < 0.2] = 0.0
        scores[rng.random(n) < 0.1] = -0.0
        y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        loss, grads, sequence = scalar_log_loss(scores, y)
        state = head.forward(scores, y)
        dscores, order = head.backward(state)
        assert bits(state.loss) == bits(loss)
        assert [bits(g) for g in dscores] == [bits(g) for g in grads]
        assert np.array_equal(np.arange(n) if order is None else order, sequence)


def test_the_head_leaves_non_finite_scores_and_bad_labels_to_the_scalar_engine():
    head = LogLossHead.compile()
    y = np.array([1.0, -1.0, 1.0])
    assert head.forward(np.array([0.5, 2.0, -1.0]), y) is not None
    for bad in (math.inf, -math.inf, math.nan):
        assert head.forward(np.array([0.5, bad, -1.0]), y) is None
    assert head.forward(np.array([0.5, 2.0, -1.0]), np.array([1.0, 0.0, 1.0])) is None
    assert head.forward(np.array([0.5, 2.0]), y) is None
    assert head.forward(np.zeros(0), np.zeros(0)) is None


# ---- training, compiled vs scalar -------------------------------------------------------------


# (every activation × penalty with the log loss: test_compile.py's
# test_every_activation_loss_and_penalty_is_bit_for_bit)


def test_scores_of_exactly_zero_and_of_800_are_bit_for_bit():
    # a score is w·x + b: with w = 1 and b = 0 it is x itself, so scores of exactly 0.0 (and
    # 0.0 + -0.0), and of ±800, where the branch not taken would overflow exp
    X = np.array([[0.0], [-0.0], [800.0], [-800.0], [0.5], [-3.0], [800.0], [-800.0], [0.0]])
    y = np.array([1.0, -1.0, 1.0, 1.0, -1.0, 1.0, -1.0, -1.0, -1.0])

    def make():
        model = MLP(1, [1], activation="none", seed=0)
        model.layers[0].neurons[0].w[0].data = 1.0
        model.layers[0].neurons[0].b.data = 0.0
        return model

    compiled, scalar = pair_xy(make, X, y, loss="log", lr=1e-3, regularization=None)
    assert_replayed(compiled)
    scores = compiled.tape.forward(X, y).scores
    assert [bits(s) for s in scores] == [bits(v) for v in X[:, 0] + 0.0]
    z = -y * scores
    assert np.any(z == 0.0) and np.any(z == 800.0) and np.any(z == -800.0)
    step_both(compiled, scalar, 3)
    assert compiled.steps_done == 3
    # -800 · +1 costs 800 (z > 0 with exp(-z) = 0): the loss is large and finite
    assert 100 < compiled.history[0]["loss"] < math.inf


def test_saturated_scores_in_a_deeper_model_are_bit_for_bit():
    data = datasets.blobs(30, seed=2)

    def make():
        model = MLP(2, [4, 1], activation="tanh", seed=5)
        for p in model.layers[-1].parameters():
            p.data *= 300.0  # scores in the hundreds: exp(-|z|) underflows
        return model

    compiled, scalar = pair(make, data, loss="log", lr=1e-4)
    assert_replayed(compiled)
    assert np.abs(compiled.tape.forward(data.X, data.y).scores).max() > 200
    step_both(compiled, scalar, 3)


def test_mini_batches_and_a_test_split():
    data = datasets.moons(60, noise=0.2, seed=1, test_size=0.25)
    compiled, scalar = pair(
        lambda: MLP(2, [8, 8, 1], seed=2), data, batch_size=7, seed=11, loss="log"
    )
    assert_replayed(compiled)
    step_both(compiled, scalar, 5)


def test_a_batch_of_one():
    data = datasets.xor(20, seed=4)
    compiled, scalar = pair(lambda: MLP(2, [5, 1], seed=3), data, batch_size=1, loss="log")
    step_both(compiled, scalar, 4)


def test_added_and_removed_points_need_no_retrace():
    data = datasets.moons(30, noise=0.1, seed=6)
    compiled, scalar = pair(lambda: MLP(2, [8, 1], seed=4), data, loss="log", alpha=1e-3)
    step_both(compiled, scalar, 2)
    tape = compiled.tape
    for trainer in (compiled, scalar):
        trainer.add_point(0.3, -0.2, 1)
        trainer.add_point(-1.0, 0.9, -1)
        trainer.add_point(0.0, 0.0, 1)
        trainer.remove_nearest(0.5, 0.5)
    step_both(compiled, scalar, 3)
    assert compiled.tape is tape
    assert_replayed(compiled)


def test_a_step_with_non_finite_scores_runs_the_loss_on_the_scalar_engine():
    data = datasets.moons(20, seed=0)
    compiled, scalar = pair(lambda: MLP(2, [3, 1], activation="none", seed=1), data, loss="log")
    step_both(compiled, scalar, 1)
    tape = compiled.tape
    for trainer in (compiled, scalar):
        trainer.parameters[0].data = math.inf  # infinite scores: the loss is inf on both
    step_both(compiled, scalar, 1)  # (diverges on both, with the same message)
    assert compiled.status == "diverged" and "the loss is inf" in compiled.message
    state = tape.forward(compiled.X, compiled.y).objective_state
    assert state.log_loss is None and state.data is not None  # this step: the hybrid's
    for trainer in (compiled, scalar):
        trainer.reset()
    step_both(compiled, scalar, 2)  # finite again: back on the arrays
    assert compiled.tape is tape
    assert tape.forward(compiled.X, compiled.y).objective_state.log_loss is not None
    for trainer in (compiled, scalar):
        trainer.parameters[0].data = math.nan  # NaN scores: log(NaN) raises on both engines
        with pytest.raises(ValueError, match="log is defined only for positive numbers"):
            trainer.step()
    assert_same_state(compiled, scalar)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    widths=st.lists(st.integers(1, 5), min_size=0, max_size=2),
    activation=st.sampled_from(ACTIVATIONS),
    regularization=st.sampled_from(PENALTIES),
    alpha=st.sampled_from([0.0, 1e-4, 0.03]),
    n=st.integers(1, 20),
    nin=st.integers(1, 3),
    scale=st.sampled_from([0.1, 1.0, 30.0, 400.0]),
    seed=st.integers(0, 10_000),
    batch=st.one_of(st.none(), st.integers(1, 8)),
)
def test_hypothesis_models_are_bit_for_bit(
    widths, activation, regularization, alpha, n, nin, scale, seed, batch
):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, nin)) * scale
    X[rng.random(X.shape) < 0.15] = 0.0  # exact zeros: zero scores and relu at 0
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)

    def model():
        return MLP(nin, [*widths, 1], activation=activation, seed=seed)

    compiled, scalar = pair_xy(
        model, X, y, loss="log", regularization=regularization, alpha=alpha, lr=0.5,
        batch_size=batch, seed=seed,
    )  # fmt: skip
    assert_replayed(compiled)
    step_both(compiled, scalar, 3)


def test_compile_step_forward_and_backward_match_one_scalar_backward():
    data = datasets.circles(25, seed=3)
    model = MLP(2, [6, 1], activation="tanh", seed=2)
    step = compile_step(model, model.parameters(), data.X, loss="log", regularization="l1")
    out = step.forward(data.X, data.y)
    grads = out.backward()
    scores = [model(list(row)) for row in data.X.tolist()]
    from micrograd_widgets import losses

    total = losses.total_loss(scores, data.y, model.parameters(), loss="log", regularization="l1")
    model.zero_grad()
    total.backward()
    assert bits(out.loss) == bits(total.data)
    assert [bits(g) for g in grads] == [bits(p.grad) for p in model.parameters()]


# ---- what the tape says, and the compile-time check --------------------------------------------


def test_the_tape_says_the_log_loss_is_replayed_on_arrays():
    trainer = Trainer(MLP(2, [16, 16, 1], seed=0), datasets.moons(128, seed=0), loss="log")
    text = repr(trainer.tape)
    assert REPLAYED in text and "_softplus" in text
    assert "loss: on the scalar engine" not in text
    assert "loss replayed on arrays)" in text


def _off_by_one_ulp(monkeypatch, where: str) -> None:
    """Make the replay's loss (forward) or one score's gradient (backward) one ulp off."""
    if where == "forward":
        original = LogLossHead.forward

        def forward(self, scores, y):
            state = original(self, scores, y)
            if state is not None:
                state.loss = math.nextafter(state.loss, math.inf)
            return state

        monkeypatch.setattr(LogLossHead, "forward", forward)
    else:
        original_backward = LogLossHead.backward

        def backward(self, state):
            dscores, order = original_backward(self, state)
            dscores[-1] = math.nextafter(dscores[-1], math.inf)
            return dscores, order

        monkeypatch.setattr(LogLossHead, "backward", backward)


@pytest.mark.parametrize("where", ["forward", "backward"])
def test_a_replay_one_ulp_off_is_refused_and_the_loss_runs_on_the_scalar_engine(
    monkeypatch, fresh_objectives, where
):
    _off_by_one_ulp(monkeypatch, where)
    data = datasets.moons(30, noise=0.3, seed=2)
    compiled, scalar = pair(lambda: MLP(2, [5, 5, 1], seed=8), data, loss="log")
    text = repr(compiled.tape)
    assert compiled.tape.objective.log_loss is None
    assert "loss: on the scalar engine" in text and REPLAYED not in text
    assert "no array replay: the replayed log loss differs from the scalar engine's" in text
    step_both(compiled, scalar, 3)  # the hybrid: still exact


def test_without_the_compile_time_check_a_replay_one_ulp_off_would_train_differently(
    monkeypatch, fresh_objectives
):
    # (what the check above guards against: the ulp would reach the weights)
    _off_by_one_ulp(monkeypatch, "backward")
    monkeypatch.setattr(LogLossHead, "_check_against_the_scalar_engine", lambda self: None)
    data = datasets.moons(30, noise=0.3, seed=2)
    compiled, scalar = pair(lambda: MLP(2, [5, 5, 1], seed=8), data, loss="log")
    assert_replayed(compiled)
    compiled.step()
    scalar.step()
    assert any(bits(p.grad) != bits(q.grad) for p, q in zip(compiled.parameters, scalar.parameters))
