import math

import numpy as np
import pytest

from micrograd_widgets import MLP, Value, losses


def values(xs):
    return [Value(float(x)) for x in xs]


SCORES = [0.3, -1.7, 2.5, 0.0, -0.2]
LABELS = [1, -1, -1, 1, 1]


def numeric_grads(loss_fn, xs, y, eps=1e-6):
    grads = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += eps
        down[i] -= eps
        grads.append((loss_fn(values(up), y).data - loss_fn(values(down), y).data) / (2 * eps))
    return grads


@pytest.mark.parametrize(
    ("name", "formula"),
    [
        ("svm", lambda s, y: np.mean(np.maximum(0, 1 - y * s))),
        ("log", lambda s, y: np.mean(np.log1p(np.exp(-y * s)))),
        ("mse", lambda s, y: np.mean((s - y) ** 2)),
    ],
)
def test_data_losses_match_their_formula_and_backpropagate(name, formula):
    fn = losses.DATA_LOSSES[name]
    scores = values(SCORES)
    loss = fn(scores, LABELS)
    assert loss.data == pytest.approx(formula(np.array(SCORES), np.array(LABELS)))
    loss.backward()
    # SCORES avoid the hinge's kink (y·s = 1), so finite differences are exact enough
    expected = numeric_grads(fn, SCORES, LABELS)
    assert [s.grad for s in scores] == pytest.approx(expected, abs=1e-6)


def test_log_loss_is_stable_for_huge_margins():
    scores = values([1000.0, -1000.0])
    loss = losses.log_loss(scores, [-1, -1])  # one badly wrong, one very right
    assert loss.data == pytest.approx(500.0)
    loss.backward()
    assert scores[0].grad == pytest.approx(0.5)  # d/ds mean(softplus(s)) = sigmoid(1000) / 2
    assert scores[1].grad == pytest.approx(0.0, abs=1e-300)


def test_penalties_values_and_gradients():
    params = values([0.5, -2.0, 0.0])
    l2 = losses.l2_penalty(params, 0.1)
    assert l2.data == pytest.approx(0.1 * (0.25 + 4.0))
    l2.backward()
    assert [p.grad for p in params] == pytest.approx([0.1, -0.4, 0.0])
    params = values([0.5, -2.0, 0.0])
    l1 = losses.l1_penalty(params, 0.1)
    assert l1.data == pytest.approx(0.25)
    l1.backward()
    assert [p.grad for p in params] == pytest.approx([0.1, -0.1, 0.0])


def test_total_loss_is_the_seeds_loss():
    model = MLP(2, [4, 4, 1], seed=0)
    X = np.array([[0.1, 0.2], [-1.0, 0.5], [0.7, -0.3]])
    y = np.array([1, -1, 1])
    scores = [model(list(map(Value, row))) for row in X]
    # the seed's loss(), verbatim
    seed_losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(seed_losses) * (1.0 / len(seed_losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    seed_total = data_loss + reg_loss
    fresh_scores = [model(list(row)) for row in X]  # a separate graph: grads must not mix
    ours = losses.total_loss(fresh_scores, y, model.parameters())
    assert ours.data == pytest.approx(seed_total.data, rel=1e-12)
    model.zero_grad()
    seed_total.backward()
    seed_grads = [p.grad for p in model.parameters()]
    model.zero_grad()
    ours.backward()
    assert [p.grad for p in model.parameters()] == pytest.approx(seed_grads, rel=1e-12)


def test_total_loss_without_regularization_and_with_a_custom_loss():
    scores = values(SCORES)
    plain = losses.total_loss(scores, LABELS, values([5.0]), regularization=None)
    assert plain.data == pytest.approx(losses.svm_loss(values(SCORES), LABELS).data)

    def first_score(s, y):
        return s[0] * 1.0

    assert losses.total_loss(scores, LABELS, loss=first_score, regularization=None).data == 0.3


def test_accuracy_counts_sign_agreement():
    assert losses.accuracy(values(SCORES), LABELS) == pytest.approx(2 / 5)  # 0.0 counts as -1
    assert losses.accuracy(np.array([1.0, -1.0]), [1, -1]) == 1.0
    assert math.isnan(losses.accuracy([], []))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: losses.svm_loss(values([1.0]), [0]), "labels must be -1 or \\+1"),
        (lambda: losses.mse_loss(values([1.0, 2.0]), [1]), "2 scores but 1 labels"),
        (lambda: losses.log_loss([], []), "zero examples"),
        (lambda: losses.l2_penalty(values([1.0]), -1), "rate must be >= 0"),
        (lambda: losses.l1_penalty(values([1.0]), float("inf")), "finite number"),
        (lambda: losses.resolve_loss("hinge"), "unknown loss 'hinge'"),
        (lambda: losses.check_regularization("l3"), "unknown regularization 'l3'"),
        (lambda: losses.accuracy([1.0], [1, 1]), "1 scores but 2 labels"),
    ],
)
def test_bad_input_is_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---- NumPy twins: the same numbers without a graph --------------------------------------------


def test_every_built_in_loss_has_a_numpy_twin():
    # the Trainer computes test metrics of a built-in loss with its twin
    assert set(losses.NUMPY_DATA_LOSSES) == set(losses.DATA_LOSSES)


@pytest.mark.parametrize("name", sorted(losses.NUMPY_DATA_LOSSES))
def test_numpy_data_losses_equal_their_value_twins(name):
    rng = np.random.default_rng(0)
    for scale in (0.1, 1.0, 30.0, 800.0):  # 800: a naive exp(-margin) would overflow
        scores = rng.normal(0.0, scale, 40)
        y = rng.choice([-1.0, 1.0], 40)
        on_values = losses.DATA_LOSSES[name](values(scores), y).data
        assert losses.numpy_data_loss(name, scores, y) == pytest.approx(on_values, rel=1e-12)
        assert losses.numpy_data_loss(name, scores.tolist(), y.tolist()) == pytest.approx(on_values)


@pytest.mark.parametrize("regularization", ["l2", "l1", None])
def test_numpy_penalty_and_its_gradient_equal_the_value_penalty(regularization):
    data = [0.5, -2.0, 0.0, 3.25, -1e-3]
    params = values(data)
    if regularization is None:
        penalty_data, grads = 0.0, [0.0] * len(data)
    else:
        penalty = losses.PENALTIES[regularization](params, 0.01)
        penalty.backward()
        penalty_data, grads = penalty.data, [p.grad for p in params]
    array = np.array(data)
    assert losses.numpy_penalty(regularization, array, 0.01) == pytest.approx(penalty_data)
    np.testing.assert_allclose(
        losses.numpy_penalty_grad(regularization, array, 0.01), grads, rtol=1e-12, atol=0
    )
    assert losses.numpy_penalty(regularization, array, 0.0) == 0.0
    assert not losses.numpy_penalty_grad(regularization, array, 0.0).any()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: losses.numpy_data_loss("hinge", np.zeros(2), [1, -1]), "no NumPy twin"),
        (lambda: losses.numpy_penalty("l3", np.zeros(2), 0.1), "unknown regularization"),
        (lambda: losses.numpy_penalty_grad("l2", np.zeros(2), -1.0), "rate must be >= 0"),
        (lambda: losses.check_rate(True), "finite number >= 0, got True"),
        (lambda: losses.check_rate("0.1"), "finite number >= 0"),
        (lambda: losses.check_rate(math.nan), "finite number >= 0"),
    ],
)
def test_bad_input_to_the_twins_is_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_check_rate_returns_a_float():
    assert losses.check_rate(0) == 0.0 and isinstance(losses.check_rate(1), float)
    assert losses.check_rate(np.float32(0.5)) == 0.5
