import numpy as np
import pytest

from micrograd_widgets import datasets
from micrograd_widgets.datasets import Dataset

GENERATORS = [datasets.moons, datasets.circles, datasets.blobs, datasets.xor, datasets.spiral]


@pytest.mark.parametrize("make", GENERATORS)
def test_shapes_labels_and_both_classes(make):
    data = make(101, noise=0.1, seed=3)
    assert isinstance(data, Dataset)
    assert data.X.shape == (101, 2) and data.X.dtype == np.float64
    assert data.y.shape == (101,)
    assert set(np.unique(data.y)) == {-1.0, 1.0}
    assert data.X_test.shape == (0, 2) and data.y_test.shape == (0,)
    assert not data.has_test
    X, y = data  # unpacks like make_moons
    assert X is data.X and y is data.y


@pytest.mark.parametrize("make", GENERATORS)
def test_seed_reproduces_and_differs(make):
    a, b, c = make(50, seed=7), make(50, seed=7), make(50, seed=8)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)


@pytest.mark.parametrize("make", GENERATORS)
def test_split_by_fraction_and_count(make):
    data = make(200, seed=1, test_size=0.25)
    assert data.X.shape == (150, 2) and data.X_test.shape == (50, 2)
    assert len(data.y) == 150 and len(data.y_test) == 50
    assert data.has_test
    whole = make(200, seed=1, test_size=30)
    assert len(whole.y_test) == 30 and len(whole.y) == 170
    # the split points are distinct from the training points
    train = {tuple(r) for r in data.X}
    assert not any(tuple(r) in train for r in data.X_test)


def test_noise_free_geometry():
    moons = datasets.moons(200, noise=0.0, seed=0)
    # make_moons: label -1 on the unit circle around (0, 0), +1 around (1, 0.5)
    r_neg = np.hypot(moons.X[moons.y < 0, 0], moons.X[moons.y < 0, 1])
    r_pos = np.hypot(moons.X[moons.y > 0, 0] - 1, moons.X[moons.y > 0, 1] - 0.5)
    np.testing.assert_allclose(r_neg, 1.0)
    np.testing.assert_allclose(r_pos, 1.0)

    circles = datasets.circles(100, noise=0.0, seed=0, factor=0.3)
    radius = np.hypot(circles.X[:, 0], circles.X[:, 1])
    np.testing.assert_allclose(radius[circles.y > 0], 0.3)
    np.testing.assert_allclose(radius[circles.y < 0], 1.0)

    xor = datasets.xor(100, noise=0.0, seed=0)
    np.testing.assert_array_equal(xor.y, np.where(xor.X[:, 0] * xor.X[:, 1] > 0, 1.0, -1.0))

    spiral = datasets.spiral(100, noise=0.0, seed=0)
    assert np.all(np.hypot(spiral.X[:, 0], spiral.X[:, 1]) <= 1.0 + 1e-12)

    blobs = datasets.blobs(400, noise=0.3, seed=0)
    np.testing.assert_allclose(blobs.X[blobs.y > 0].mean(axis=0), [1, 1], atol=0.1)
    np.testing.assert_allclose(blobs.X[blobs.y < 0].mean(axis=0), [-1, -1], atol=0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 1}, "n must be an integer >= 2"),
        ({"n": 10.5}, "n must be an integer"),
        ({"n": True}, "n must be an integer"),
        ({"noise": -0.1}, "noise must be a finite number >= 0"),
        ({"noise": float("nan")}, "noise must be a finite number"),
        ({"noise": "big"}, "noise must be a non-negative number"),
        ({"seed": -1}, "seed must be None or a non-negative integer"),
        ({"seed": 1.5}, "seed must be None"),
        ({"test_size": 1.0}, "test_size must be a fraction in"),
        ({"test_size": -0.2}, "test_size must be a fraction in"),
        ({"n": 10, "test_size": 9}, "leaves 1 of 10 points"),
    ],
)
@pytest.mark.parametrize("make", GENERATORS)
def test_bad_arguments_say_what_was_expected(make, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make(**kwargs)


def test_shape_parameters_are_checked():
    with pytest.raises(ValueError, match="factor must be in"):
        datasets.circles(10, factor=1.5)
    with pytest.raises(ValueError, match="turns must be a number in"):
        datasets.spiral(10, turns=0)


def test_repr_counts_points():
    assert (
        repr(datasets.xor(40, seed=0, test_size=0.25)) == "Dataset(xor: 30 train, 10 test points)"
    )
