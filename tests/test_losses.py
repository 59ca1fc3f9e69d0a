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


# ---- k classes: softmax cross-entropy, against PyTorch ------------------------------------------

torch = pytest.importorskip("torch")
F = torch.nn.functional


def value_rows(Z):
    return [[Value(float(z)) for z in row] for row in Z]


def torch_cross_entropy(Z, y):
    logits = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy(logits, torch.tensor(np.asarray(y), dtype=torch.int64))
    loss.backward()
    return loss.item(), logits.grad.numpy()


@pytest.mark.parametrize("scale", [1.0, 30.0, 1000.0])
@pytest.mark.parametrize("seed", range(6))
def test_cross_entropy_agrees_with_torch_in_loss_and_every_logit_grad(scale, seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 25)), int(rng.integers(2, 9))
    Z = rng.normal(size=(n, k)) * scale  # scale 1000: |z| ~ 1000, exp(z) alone would overflow
    y = rng.integers(0, k, n)
    rows = value_rows(Z)
    loss = losses.cross_entropy_loss(rows, y)
    loss.backward()
    expected_loss, expected_grads = torch_cross_entropy(Z, y)
    assert math.isfinite(loss.data)
    assert abs(loss.data - expected_loss) <= 1e-10
    grads = np.array([[z.grad for z in row] for row in rows])
    np.testing.assert_allclose(grads, expected_grads, rtol=0, atol=1e-10)
    # the NumPy twin (for test sets) equals the Value version
    assert losses.cross_entropy_loss_np(Z, y) == pytest.approx(loss.data, rel=1e-12, abs=1e-12)


def test_cross_entropy_through_an_mlp_matches_torch_parameter_grads():
    model = MLP(2, [5, 4, 3], seed=3)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(12, 2))
    y = rng.integers(0, 3, 12)
    loss = losses.cross_entropy_loss([model(list(row)) for row in X], y)
    model.zero_grad()
    loss.backward()
    # the same network in torch, from the same weights
    weights = []
    for layer in model.layers:
        Wb = torch.tensor(layer.parameter_matrix(), dtype=torch.float64, requires_grad=True)
        weights.append(Wb)
    A = torch.tensor(X, dtype=torch.float64)
    for i, Wb in enumerate(weights):
        A = A @ Wb[:, :-1].T + Wb[:, -1]
        if i < len(weights) - 1:
            A = torch.relu(A)
    expected = F.cross_entropy(A, torch.tensor(y))
    expected.backward()
    assert abs(loss.data - expected.item()) <= 1e-12
    for layer, Wb in zip(model.layers, weights):
        np.testing.assert_allclose(layer.parameter_matrix("grad"), Wb.grad.numpy(), atol=1e-12)


def test_log_softmax_is_stable_and_shift_invariant():
    z = values([1000.0, 999.0, -1000.0])
    out = losses.log_softmax(z)
    expected = F.log_softmax(torch.tensor([1000.0, 999.0, -1000.0], dtype=torch.float64), dim=0)
    np.testing.assert_allclose([o.data for o in out], expected.numpy(), rtol=1e-15)
    assert sum(math.exp(o.data) for o in out) == pytest.approx(1.0, rel=1e-15)
    small = [o.data for o in losses.log_softmax(values([0.0, -1.0, -2000.0]))]
    assert small == pytest.approx([o.data for o in out], rel=1e-15)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_cross_entropy_of_a_diverged_model_is_nan_not_a_crash(bad):
    rows = [values([0.5, bad, 1.0]), values([0.1, 0.2, 0.3])]
    loss = losses.cross_entropy_loss(rows, [0, 2])
    assert math.isnan(loss.data)
    loss.backward()
    assert all(math.isnan(z.grad) for z in rows[0])
    assert all(math.isfinite(z.grad) for z in rows[1])


def test_cross_entropy_is_a_registered_loss():
    assert losses.DATA_LOSSES["cross_entropy"] is losses.cross_entropy_loss
    assert losses.resolve_loss("cross_entropy") is losses.cross_entropy_loss
    model = MLP(2, [3, 3], seed=0)
    X = [[0.5, -1.0], [1.5, 0.25]]
    plain = losses.cross_entropy_loss([model(x) for x in X], [2, 0])
    total = losses.total_loss(
        [model(x) for x in X], [2, 0], model.parameters(), loss="cross_entropy"
    )
    l2 = 1e-4 * sum(p.data**2 for p in model.parameters())
    assert total.data == pytest.approx(plain.data + l2, rel=1e-14)


def test_two_class_cross_entropy_takes_the_binary_labels_too():
    Z = [[0.3, -0.2], [1.0, 2.0], [-0.5, 0.5]]
    binary = losses.cross_entropy_loss(value_rows(Z), [-1, 1, 1])
    indices = losses.cross_entropy_loss(value_rows(Z), [0, 1, 1])
    assert binary.data == indices.data
    np.testing.assert_array_equal(losses.class_indices([-1, 1, 1.0], 2), [0, 1, 1])
    np.testing.assert_array_equal(losses.class_indices(np.array([2.0, 0.0, 1.0]), 3), [2, 0, 1])


# ---- NumPy twins: the same numbers without a graph --------------------------------------------


def test_every_built_in_loss_has_a_numpy_twin():
    # the Trainer computes test metrics of a built-in loss with its twin
    assert set(losses.NUMPY_DATA_LOSSES) == set(losses.DATA_LOSSES)


@pytest.mark.parametrize("name", sorted(set(losses.NUMPY_DATA_LOSSES) - {"cross_entropy"}))
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
        (lambda: losses.cross_entropy_loss(value_rows([[1, 2, 3]]), [1.5]), "class numbers.*1.5"),
        (
            lambda: losses.cross_entropy_loss(value_rows([[1, 2, 3]]), [3]),
            "label 3 is out of range for 3 classes",
        ),
        (
            lambda: losses.cross_entropy_loss(value_rows([[1, 2, 3]]), [-1]),
            "-1 / \\+1 are the binary labels",
        ),
        (lambda: losses.cross_entropy_loss(value_rows([[1, 2, 3]]), [math.nan]), "class numbers"),
        (
            lambda: losses.cross_entropy_loss(value_rows([[1, 2]] * 2), [-1, 0]),
            "mix the binary convention",
        ),
        (
            lambda: losses.cross_entropy_loss(values([1.0, 2.0]), [0, 1]),
            "example 0's logits is a Value",
        ),
        (lambda: losses.cross_entropy_loss(value_rows([[1.0]]), [0]), "at least 2 logits"),
        (
            lambda: losses.cross_entropy_loss(value_rows([[1, 2], [1, 2, 3]]), [0, 1]),
            "example 1 has 3 logits",
        ),
        (
            lambda: losses.cross_entropy_loss(value_rows([[1, 2]]), [0, 1]),
            "logits for 1 examples but 2 labels",
        ),
        (lambda: losses.cross_entropy_loss([], []), "zero examples"),
        (lambda: losses.cross_entropy_loss_np(np.zeros((2, 1)), [0, 0]), "k >= 2 classes"),
        (lambda: losses.cross_entropy_loss_np(np.zeros((2, 3)), [0, 5]), "out of range"),
        (lambda: losses.class_indices([0, 1], 1), "classes must be an integer >= 2"),
        (lambda: losses.svm_loss(values([1.0]), [2]), "labels must be -1 or \\+1"),
        (lambda: losses.log_loss(values([1.0]), [0]), "labels must be -1 or \\+1"),
    ],
)
def test_cross_entropy_bad_input_is_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


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


def test_cross_entropy_refuses_logits_that_are_not_values():
    with pytest.raises(TypeError, match="logits must be Values"):
        losses.cross_entropy_loss([[1.0, 2.0]], [0])


# ---- accuracy and the confusion matrix for k classes --------------------------------------------

SCORES3 = np.array(
    [[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 1.0, 5.0], [4.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
)
LABELS3 = [0, 2, 2, 1, 1]  # right, wrong (said 1), right, wrong (said 0), wrong (tie -> 0)


def test_accuracy_uses_argmax_for_k_scores():
    assert losses.accuracy(SCORES3, LABELS3) == pytest.approx(2 / 5)
    as_values = [values(row) for row in SCORES3]  # a k-output model's outputs
    assert losses.accuracy(as_values, LABELS3) == pytest.approx(2 / 5)
    np.testing.assert_array_equal(losses.predicted_classes(SCORES3), [0, 1, 2, 0, 0])
    # two columns: argmax against 0/1 or -1/+1 labels
    assert losses.accuracy(np.array([[0.0, 1.0], [2.0, 1.0]]), [1, -1]) == 1.0
    # an (n, 1) column is one score per example: the sign rule
    assert losses.accuracy(np.array([[0.5], [-0.5], [0.0]]), [1, -1, 1]) == pytest.approx(2 / 3)


def test_confusion_matrix_counts_true_against_predicted():
    counts = losses.confusion_matrix(SCORES3, LABELS3, 3)
    np.testing.assert_array_equal(counts, [[1, 0, 0], [2, 0, 0], [0, 1, 1]])
    assert counts.dtype == np.int64 and counts.sum() == 5
    assert np.trace(counts) / counts.sum() == losses.accuracy(SCORES3, LABELS3)
    # binary: one score each, the sign rule; row/column 0 is label -1
    binary = losses.confusion_matrix(np.array(SCORES), LABELS, 2)
    np.testing.assert_array_equal(binary, [[1, 1], [2, 1]])
    assert np.trace(binary) / binary.sum() == losses.accuracy(values(SCORES), LABELS)
    np.testing.assert_array_equal(
        losses.confusion_matrix(np.zeros((0, 3)), [], 3), np.zeros((3, 3))
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: losses.confusion_matrix(SCORES3, LABELS3, 4), "3 columns but classes=4"),
        (lambda: losses.confusion_matrix(SCORES3, [0, 1], 3), "5 scores but 2 labels"),
        (lambda: losses.confusion_matrix(np.array(SCORES), LABELS, 3), "predicts 2 classes"),
        (lambda: losses.confusion_matrix(SCORES3, [0, 1, 2, 3, 0], 3), "out of range"),
        (lambda: losses.accuracy(SCORES3, [0, 1, 2, 0.5, 1]), "class numbers"),
        (lambda: losses.accuracy([[1.0, 2.0], [1.0]], [0, 1]), "same number of scores"),
    ],
)
def test_k_class_metrics_explain_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_check_rate_returns_a_float():
    assert losses.check_rate(0) == 0.0 and isinstance(losses.check_rate(1), float)
    assert losses.check_rate(np.float32(0.5)) == 0.5
