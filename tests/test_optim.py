"""optim: SGD / momentum / Adam / AdamW against torch.optim (float64), the seed's update bit for
bit, the state arrays, the resolver and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from micrograd_widgets import MLP, Value, losses, optim

torch = pytest.importorskip("torch")

N_PARAMS, N_STEPS = 60, 50

# (ours, torch's, torch state -> our state_arrays names)
CASES = {
    "sgd": (lambda p: optim.SGD(p, lr=0.05), lambda p: torch.optim.SGD(p, lr=0.05), {}),
    "momentum": (
        lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
        {"velocity": lambda s: s["momentum_buffer"]},
    ),
    "adam": (
        lambda p: optim.Adam(p, lr=0.01),
        lambda p: torch.optim.Adam(p, lr=0.01),
        {"m": lambda s: s["exp_avg"], "sqrt_v": lambda s: s["exp_avg_sq"].sqrt()},
    ),
    "adam-tuned": (
        lambda p: optim.Adam(p, lr=0.2, betas=(0.5, 0.8), eps=1e-4),
        lambda p: torch.optim.Adam(p, lr=0.2, betas=(0.5, 0.8), eps=1e-4),
        {"m": lambda s: s["exp_avg"], "sqrt_v": lambda s: s["exp_avg_sq"].sqrt()},
    ),
    "adamw": (
        lambda p: optim.AdamW(p, lr=0.01),
        lambda p: torch.optim.AdamW(p, lr=0.01),
        {"m": lambda s: s["exp_avg"], "sqrt_v": lambda s: s["exp_avg_sq"].sqrt()},
    ),
    "adamw-tuned": (
        lambda p: optim.AdamW(p, lr=0.1, betas=(0.8, 0.99), eps=1e-12, weight_decay=0.5),
        lambda p: torch.optim.AdamW(p, lr=0.1, betas=(0.8, 0.99), eps=1e-12, weight_decay=0.5),
        {"m": lambda s: s["exp_avg"], "sqrt_v": lambda s: s["exp_avg_sq"].sqrt()},
    ),
}


def gradient_sequence(seed=0):
    rng = np.random.default_rng(seed)
    # magnitudes from 1e-4 to 20: Adam's per-weight scaling must hold over all of them
    return rng.normal(size=(N_STEPS, N_PARAMS)) * np.exp(rng.uniform(-9, 3, (N_STEPS, N_PARAMS)))


def initial_weights(seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, N_PARAMS)


@pytest.mark.parametrize("case", list(CASES))
def test_n_steps_agree_with_torch_on_the_same_weights_and_grads(case):
    make_ours, make_torch, state_map = CASES[case]
    w0, grads = initial_weights(), gradient_sequence()
    params = [Value(float(w)) for w in w0]
    ours = make_ours(params)
    weight = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    theirs = make_torch([weight])
    for k in range(N_STEPS):
        for p, g in zip(params, grads[k]):
            p.grad = float(g)
        change = ours.step()
        before = weight.detach().clone()
        weight.grad = torch.tensor(grads[k], dtype=torch.float64)
        theirs.step()
        data = np.array([p.data for p in params])
        expected = weight.detach().numpy()
        np.testing.assert_allclose(data, expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(change, expected - before.numpy(), rtol=1e-9, atol=1e-12)
        state = ours.state_arrays()
        assert set(state) == set(state_map) == set(ours.state_names)
        for name, read in state_map.items():
            torch_state = read(theirs.state[weight]).numpy()
            np.testing.assert_allclose(state[name], torch_state, rtol=1e-10, atol=1e-14)
    assert ours.steps_done == N_STEPS


@pytest.mark.parametrize("case", ["momentum", "adam", "adamw"])
def test_training_an_mlp_with_cross_entropy_tracks_torch(case):
    """The gradients come from loss.backward() here, so weights and grads feed back."""
    make_ours, make_torch, _ = CASES[case]
    model = MLP(2, [6, 3], seed=2)
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(20, 2)), rng.integers(0, 3, 20)
    weights = [
        torch.tensor(layer.parameter_matrix(), dtype=torch.float64, requires_grad=True)
        for layer in model.layers
    ]
    ours, theirs = make_ours(model.parameters()), make_torch(weights)
    for _ in range(30):
        loss = losses.cross_entropy_loss([model(list(x)) for x in X], y)
        ours.zero_grad()
        loss.backward()
        ours.step()
        theirs.zero_grad()
        hidden = torch.relu(torch.tensor(X) @ weights[0][:, :-1].T + weights[0][:, -1])
        logits = hidden @ weights[1][:, :-1].T + weights[1][:, -1]
        torch_loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y))
        torch_loss.backward()
        theirs.step()
        assert abs(loss.data - torch_loss.item()) <= 1e-10
    for layer, W in zip(model.layers, weights):
        np.testing.assert_allclose(layer.parameter_matrix(), W.detach().numpy(), atol=1e-10)


def test_plain_sgd_is_the_seed_update_bit_for_bit():
    """32 steps of the seed's schedule: optimizer vs the seed's own loop, compared with ==."""
    X = np.random.default_rng(0).normal(size=(24, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    seed_model, opt_model = MLP(2, [8, 8, 1], seed=5), MLP(2, [8, 8, 1], seed=5)
    opt = optim.SGD(opt_model.parameters())  # lr=None: the seed's schedule

    def loss(model):
        return losses.total_loss([model(list(x)) for x in X], y, model.parameters())

    for k in range(32):
        total = loss(seed_model)
        seed_model.zero_grad()
        total.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in seed_model.parameters():
            p.data -= learning_rate * p.grad
        total = loss(opt_model)
        opt.zero_grad()
        total.backward()
        assert opt.learning_rate() == learning_rate
        opt.step()
        assert [p.data for p in opt_model.parameters()] == [p.data for p in seed_model.parameters()]


def test_step_with_a_grads_array_equals_step_from_the_values():
    grads = gradient_sequence(4)
    a = [Value(float(w)) for w in initial_weights()]
    b = [Value(float(w)) for w in initial_weights()]
    opt_a, opt_b = optim.AdamW(a, lr=0.05), optim.AdamW(b, lr=0.05)
    for k in range(10):
        for p, g in zip(a, grads[k]):
            p.grad = float(g)
        opt_a.step()
        opt_b.step(grads=grads[k])  # b's Values hold no grads at all
        assert [p.data for p in a] == [p.data for p in b]
    assert all(p.grad == 0.0 for p in b)


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam, optim.AdamW])
def test_update_on_arrays_equals_step_and_leaves_the_values_alone(make):
    grads = gradient_sequence(4)
    a = [Value(float(w)) for w in initial_weights()]
    b = [Value(float(w)) for w in initial_weights()]
    opt_a, opt_b = make(a, lr=0.05), make(b, lr=0.05)
    data = np.array([p.data for p in b])
    for k in range(10):
        change = opt_a.step(grads=grads[k])
        new = opt_b.update(data, grads[k])
        assert [p.data for p in a] == new.tolist()  # the same numbers, bit for bit
        assert np.array_equal(change, new - data)
        data = new
    assert opt_b.steps_done == 10 and [p.data for p in b] == list(initial_weights())
    with pytest.raises(ValueError, match="data must have shape"):
        opt_b.update(data[:-1], grads[0])
    assert opt_b.steps_done == 10


def test_learning_rate_constant_function_schedule_and_live_changes():
    assert [optim.default_schedule(k) for k in (0, 50, 100, 500)] == pytest.approx(
        [1, 0.55, 0.1, 0.1]
    )
    assert optim.default_schedule(100) == optim.default_schedule(10_000)  # held after step 100
    from micrograd_widgets import train

    # the seed schedule lives in optim now; train's copy must say the same until it imports it
    assert all(optim.default_schedule(k) == train.default_schedule(k) for k in range(300))

    p = Value(1.0)
    opt = optim.SGD([p], lr=lambda k: 0.1 / (k + 1))
    for k, expected_rate in enumerate([0.1, 0.05, 0.1 / 3]):
        p.grad = 1.0
        before = p.data
        opt.step()
        assert p.data == before - expected_rate * 1.0
        assert opt.learning_rate(k) == expected_rate
    opt.lr = 0.5  # e.g. from a slider, mid-run
    p.grad = 2.0
    before = p.data
    opt.step()
    assert p.data == before - 0.5 * 2.0


def test_state_arrays_are_copies_and_reset_starts_over():
    params = [Value(float(w)) for w in initial_weights()]
    opt = optim.Adam(params, lr=0.1)
    assert opt.state_names == ("m", "sqrt_v")
    assert all(np.all(a == 0) and a.shape == (N_PARAMS,) for a in opt.state_arrays().values())
    grads = gradient_sequence(5)
    for k in range(5):
        opt.step(grads=grads[k])
    state = opt.state_arrays()
    state["m"][:] = 123.0
    assert not np.any(opt.state_arrays()["m"] == 123.0)
    # reset: a fresh optimizer; the weights are left alone
    after = [p.data for p in params]
    opt.reset()
    assert opt.steps_done == 0 and [p.data for p in params] == after
    fresh = optim.Adam([Value(w) for w in after], lr=0.1)
    for k in range(3):
        opt.step(grads=grads[k])
        fresh.step(grads=grads[k])
    assert [p.data for p in params] == [p.data for p in fresh.parameters]
    assert optim.SGD(params).state_names == ()
    assert optim.SGD(params, momentum=0.5).state_names == ("velocity",)


def test_zero_grad_and_repr_and_update_rule():
    model = MLP(2, [3, 2], seed=0)
    for p in model.parameters():
        p.grad = 1.0
    opt = optim.make_optimizer("adam", model.parameters(), lr=0.01)
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    assert repr(opt) == (
        "Adam(17 parameters, lr=0.01, betas=(0.9, 0.999), eps=1e-08, steps_done=0)"
    )
    assert repr(optim.SGD(model.parameters())) == (
        "SGD(17 parameters, lr=default_schedule, momentum=0.0, steps_done=0)"
    )

    def warmup(k):
        return 0.1

    assert "lr=warmup" in repr(optim.AdamW(model.parameters(), lr=warmup))
    assert "weight_decay=0.01" in repr(optim.AdamW(model.parameters()))
    assert optim.SGD(model.parameters()).update_rule == "w ← w − lr·grad"
    assert "v ← μ·v" in optim.SGD(model.parameters(), momentum=0.9).update_rule
    assert "m̂" in optim.Adam(model.parameters()).update_rule
    assert optim.AdamW(model.parameters()).options() == {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 1e-2,
    }


def test_make_optimizer_by_name_and_by_object():
    params = MLP(2, [3, 1], seed=0).parameters()
    sgd = optim.make_optimizer("sgd", params)
    assert type(sgd) is optim.SGD and sgd.momentum == 0 and sgd.lr is None
    momentum = optim.make_optimizer("momentum", params, lr=0.1)
    assert type(momentum) is optim.SGD and momentum.momentum == 0.9 and momentum.lr == 0.1
    assert optim.make_optimizer("momentum", params, momentum=0.5).momentum == 0.5
    adam = optim.make_optimizer("adam", params)
    assert type(adam) is optim.Adam and adam.lr == 1e-3  # torch's default, not the seed schedule
    adamw = optim.make_optimizer("adamw", params, weight_decay=0.1)
    assert type(adamw) is optim.AdamW and adamw.weight_decay == 0.1
    assert optim.make_optimizer(adamw, params) is adamw
    assert {name: cls.name for name, (cls, _) in optim.OPTIMIZERS.items()} == {
        "sgd": "sgd",
        "momentum": "sgd",
        "adam": "adam",
        "adamw": "adamw",
    }


PARAMS = [Value(1.0), Value(2.0)]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: optim.SGD(PARAMS, lr=0), ValueError, "lr must be a finite number > 0, got 0"),
        (lambda: optim.SGD(PARAMS, lr=-0.1), ValueError, "lr must be a finite number > 0"),
        (lambda: optim.Adam(PARAMS, lr=math.nan), ValueError, "lr must be a finite number > 0"),
        (lambda: optim.Adam(PARAMS, lr=math.inf), ValueError, "lr must be a finite number > 0"),
        (lambda: optim.Adam(PARAMS, lr=True), ValueError, "lr must be None"),
        (lambda: optim.Adam(PARAMS, lr="0.1"), ValueError, "lr must be None"),
        (
            lambda: optim.Adam(PARAMS, betas=(1.0, 0.9)),
            ValueError,
            "betas\\[0\\] must be a number in \\[0, 1\\)",
        ),
        (lambda: optim.Adam(PARAMS, betas=(0.9, -0.1)), ValueError, "betas\\[1\\] must be"),
        (lambda: optim.Adam(PARAMS, betas=(0.9,)), ValueError, "betas must be a pair"),
        (lambda: optim.Adam(PARAMS, betas=0.9), ValueError, "betas must be a pair"),
        (lambda: optim.Adam(PARAMS, eps=-1e-8), ValueError, "eps must be a finite number >= 0"),
        (lambda: optim.Adam(PARAMS, eps=math.nan), ValueError, "eps must be a finite number"),
        (lambda: optim.AdamW(PARAMS, eps=0), ValueError, "eps must be > 0: .*dead ReLU"),
        (lambda: optim.AdamW(PARAMS, weight_decay=-0.01), ValueError, "weight_decay must be"),
        (lambda: optim.SGD(PARAMS, momentum=1.0), ValueError, "momentum must be a number in"),
        (lambda: optim.SGD([]), ValueError, "params is empty"),
        (lambda: optim.SGD([1.0, 2.0]), TypeError, "params\\[0\\] is a float, not a Value"),
        (lambda: optim.SGD(Value(1.0)), TypeError, "params must be a list of Values"),
        (lambda: optim.SGD([PARAMS[0], PARAMS[0]]), ValueError, "more than once"),
        (
            lambda: optim.make_optimizer("rmsprop", PARAMS),
            ValueError,
            "unknown optimizer 'rmsprop'; expected one of 'sgd', 'momentum', 'adam', 'adamw'",
        ),
        (lambda: optim.make_optimizer(None, PARAMS), TypeError, "optimizer must be one of"),
        (
            lambda: optim.make_optimizer("sgd", PARAMS, betas=(0.9, 0.9)),
            ValueError,
            "unknown option 'betas' for optimizer 'sgd'; expected lr, momentum",
        ),
        (
            lambda: optim.make_optimizer(optim.SGD(PARAMS), PARAMS, lr=0.1),
            ValueError,
            "apply when the optimizer is given by name",
        ),
        (
            lambda: optim.make_optimizer(optim.SGD(PARAMS), [Value(1.0)]),
            ValueError,
            "updates other parameters",
        ),
    ],
)
def test_bad_arguments_are_explained(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    ("grads", "message"),
    [
        (np.array([0.1, math.nan]), "the gradient of w1 is nan; no update was applied"),
        (np.array([math.inf, 0.1]), "the gradient of w0 is inf"),
        (np.zeros(3), "grads must be an array of shape \\(2,\\)"),
        (np.zeros((2, 1)), "got shape \\(2, 1\\)"),
    ],
)
def test_bad_grads_change_nothing(grads, message):
    params = [Value(1.0, label="w0"), Value(2.0, label="w1")]
    opt = optim.Adam(params, lr=0.1)
    opt.step(grads=np.array([0.5, -0.5]))
    before = ([p.data for p in params], opt.state_arrays(), opt.steps_done)
    with pytest.raises(ValueError, match=message):
        opt.step(grads=grads)
    after = ([p.data for p in params], opt.state_arrays(), opt.steps_done)
    assert before[0] == after[0] and before[2] == after[2]
    for name in before[1]:
        np.testing.assert_array_equal(before[1][name], after[1][name])


def test_a_bad_rate_from_a_function_changes_nothing():
    p = Value(1.0)
    opt = optim.SGD([p], lr=lambda k: 0.1 if k == 0 else math.nan)
    p.grad = 1.0
    opt.step()
    with pytest.raises(ValueError, match="the learning-rate function gave nan for step 1"):
        opt.step()
    assert p.data == 0.9 and opt.steps_done == 1


def test_hyperparameters_are_checked_on_every_assignment_and_may_change_between_steps():
    p = Value(1.0)
    opt = optim.SGD([p], lr=0.1)
    for name, bad, message in [
        ("lr", 0.0, "lr must be a finite number > 0"),
        ("momentum", 1.5, "momentum must be a number in \\[0, 1\\)"),
    ]:
        with pytest.raises(ValueError, match=message):
            setattr(opt, name, bad)
    assert opt.lr == 0.1 and opt.momentum == 0.0  # a refused value leaves the old one
    p.grad = 1.0
    opt.step()  # plain: no velocity to show
    assert opt.state_arrays() == {}
    opt.momentum = 0.5  # switched on mid-run: v = 0.5·g_prev + g
    opt.step()
    np.testing.assert_array_equal(opt.state_arrays()["velocity"], [1.5])
    assert p.data == (1.0 - 0.1 * 1.0) - 0.1 * 1.5
    adamw = optim.AdamW([Value(1.0)])
    for name, bad in [("betas", (0.9, 1.0)), ("eps", 0.0), ("weight_decay", math.nan)]:
        with pytest.raises(ValueError, match=name):
            setattr(adamw, name, bad)
    adamw.betas = [0.5, 0.6]
    assert adamw.betas == (0.5, 0.6)


def test_optim_is_exported_lazily():
    import subprocess
    import sys

    code = (
        "import sys, micrograd_widgets as m\n"
        "assert 'micrograd_widgets.optim' not in sys.modules\n"
        "assert 'optim' in dir(m) and m.optim.Adam.name == 'adam'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_multiclass_spiral_bench_runs_and_tracks_torch(tmp_path):
    """bench/multiclass_spiral.py --quick: the scalar run reaches the target at torch's step."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "bench" / "multiclass_spiral.py"
    result = subprocess.run(
        [sys.executable, str(script), "--quick", "--seeds", "0", "--results-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = json.loads((tmp_path / "multiclass_spiral_quick.json").read_text())["runs"]
    assert run["reached"] is not None and run["reached"]["steps"] == run["torch_steps"]
    assert run["max_abs_weight_diff_vs_torch"] <= 1e-10
