import hashlib
import math
from functools import partial

import numpy as np
import pytest

from micrograd_widgets import datasets
from micrograd_widgets.datasets import Dataset

GENERATORS = [
    datasets.moons,
    datasets.circles,
    datasets.blobs,
    datasets.xor,
    datasets.spiral,
    partial(datasets.yinyang, classes=2),
]
# the k-class generators, with their class count
MULTICLASS = [
    (partial(datasets.spiral, classes=3), 3),
    (partial(datasets.spiral, classes=5), 5),
    (partial(datasets.blobs, centers=3), 3),
    (partial(datasets.blobs, centers=4), 4),
    (datasets.yinyang, 3),
]


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


# ---- existing outputs are pinned: the k-class work must not move a single bit -----------------

PINNED = [
    ("circles", {"n": 128, "seed": 1}, "6f1abc4c35a161546c4a03ba931677ca"),
    (
        "circles",
        {"n": 77, "noise": 0.1, "seed": 5, "factor": 0.3, "test_size": 10},
        "cb97a193a1ea16f293618a806e08ea71",
    ),
    ("blobs", {"n": 128, "seed": 2}, "8922df3232819aa20949cd4df3f4a6a4"),
    (
        "blobs",
        {"n": 51, "noise": 0.3, "seed": 4, "test_size": 0.2},
        "4ca0ff29e14c6350e488cbef1e07caaf",
    ),
    ("xor", {"n": 128, "seed": 0}, "4653d81f10be25fec47cfee94478de29"),
    (
        "xor",
        {"n": 99, "noise": 0.0, "seed": 9, "test_size": 0.3},
        "1ae544e7d0129685427c9896b8428166",
    ),
    ("spiral", {"n": 128, "seed": 0}, "573904c6869ef40a70da73800743577a"),
    (
        "spiral",
        {"n": 121, "noise": 0.1, "seed": 11, "turns": 2.5, "test_size": 0.25},
        "2713c8be78a313b8838a0ab62f9d5196",
    ),
]


@pytest.mark.parametrize(("name", "kwargs", "digest"), PINNED)
def test_binary_outputs_are_bit_for_bit_what_they_were(name, kwargs, digest):
    # digests taken from the generators before k classes existed (commit a0622fc)
    data = getattr(datasets, name)(**kwargs)
    h = hashlib.sha256()
    for a in (data.X, data.y, data.X_test, data.y_test):
        h.update(a.tobytes())
    assert h.hexdigest()[:32] == digest
    assert data.classes == 2
    # the explicit binary class count is the same call
    extra = {"centers": 2} if name == "blobs" else {"classes": 2} if name == "spiral" else {}
    if extra:
        again = getattr(datasets, name)(**kwargs, **extra)
        np.testing.assert_array_equal(again.X, data.X)
        np.testing.assert_array_equal(again.y, data.y)


# ---- k classes -----------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "k"), MULTICLASS)
def test_k_classes_are_numbered_balanced_and_counted(make, k):
    data = make(101, seed=3)
    assert data.classes == k
    assert data.X.shape == (101, 2) and data.y.dtype == np.float64
    values, counts = np.unique(data.y, return_counts=True)
    np.testing.assert_array_equal(values, np.arange(k, dtype=np.float64))
    np.testing.assert_array_equal(values, datasets.label_values(k))
    assert counts.max() - counts.min() <= 1 and counts.sum() == 101
    assert f"{k} classes" in repr(data)


@pytest.mark.parametrize(("make", "k"), MULTICLASS)
def test_k_classes_reproduce_and_split(make, k):
    a, b, c = make(60, seed=7), make(60, seed=7), make(60, seed=8)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    split = make(200, seed=1, test_size=0.25)
    assert split.X.shape == (150, 2) and split.X_test.shape == (50, 2)
    assert split.classes == k
    assert set(np.unique(split.y)) == set(range(k))  # every class has training points
    assert set(np.unique(split.y_test)) <= set(range(k))


def test_label_values_follow_the_convention():
    np.testing.assert_array_equal(datasets.label_values(2), [-1.0, 1.0])
    np.testing.assert_array_equal(datasets.label_values(4), [0.0, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="classes must be an integer >= 2"):
        datasets.label_values(1)


def test_k_spiral_arms_are_rotated_copies():
    turns = 1.25
    data = datasets.spiral(300, noise=0.0, seed=0, classes=3, turns=turns)
    radius = np.hypot(data.X[:, 0], data.X[:, 1])
    assert np.all(radius <= 1.0 + 1e-12) and np.all(radius >= math.sqrt(0.02) - 1e-12)
    angle = np.arctan2(data.X[:, 1], data.X[:, 0])
    for j in range(3):
        arm = data.y == j
        # on arm j: angle = 2π·turns·radius + 2π·j/3 (mod 2π)
        phase = angle[arm] - 2 * np.pi * turns * radius[arm] - 2 * np.pi * j / 3
        np.testing.assert_allclose(np.cos(phase), 1.0, atol=1e-9)


def test_k_blobs_sit_on_a_circle_2_sqrt2_apart():
    for k in (3, 4, 6):
        data = datasets.blobs(200 * k, noise=0.0, seed=0, centers=k)
        centres = np.array([data.X[data.y == j][0] for j in range(k)])
        for j in range(k):
            assert np.all(data.X[data.y == j] == centres[j])  # noise 0: every point on its centre
        gaps = np.hypot(*(centres - np.roll(centres, -1, axis=0)).T)
        np.testing.assert_allclose(gaps, 2 * math.sqrt(2))
        np.testing.assert_allclose(np.hypot(*centres.T), math.sqrt(2) / math.sin(math.pi / k))
        assert math.degrees(math.atan2(centres[0, 1], centres[0, 0])) == pytest.approx(-135.0)


def test_yinyang_geometry():
    cls3 = partial(datasets.yinyang_class, classes=3)
    cls2 = partial(datasets.yinyang_class, classes=2)
    probes = np.array(
        [
            [-0.5, 0.0],  # left half: yin
            [0.5, 0.0],  # right half: yang
            [0.25, 0.5],  # right, but in the upper head: yin
            [-0.25, -0.5],  # left, but in the lower head: yang
            [0.0, 0.5],  # the dot in yin's head
            [0.0, -0.5],  # the dot in yang's head
        ]
    )
    np.testing.assert_array_equal(cls3(probes), [0, 1, 0, 1, 2, 2])
    np.testing.assert_array_equal(cls2(probes), [0, 1, 0, 1, 1, 0])
    for classes in (2, 3):
        data = datasets.yinyang(600, noise=0.0, seed=2, classes=classes)
        assert np.all(np.hypot(data.X[:, 0], data.X[:, 1]) <= 1.0)
        index = (data.y > 0).astype(int) if classes == 2 else data.y.astype(int)
        np.testing.assert_array_equal(datasets.yinyang_class(data.X, classes=classes), index)
    # the dots hold as many points as each half, inside radius dot_radius of the head centres
    dots = datasets.yinyang(90, noise=0.0, seed=0, dot_radius=0.1)
    dot_points = dots.X[dots.y == 2]
    assert len(dot_points) == 30
    assert np.all(
        np.minimum(
            np.hypot(dot_points[:, 0], dot_points[:, 1] - 0.5),
            np.hypot(dot_points[:, 0], dot_points[:, 1] + 0.5),
        )
        < 0.1
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: datasets.spiral(10, classes=1), "classes must be an integer >= 2"),
        (lambda: datasets.spiral(10, classes=0), "classes must be an integer >= 2"),
        (lambda: datasets.spiral(10, classes=2.5), "classes must be an integer >= 2"),
        (lambda: datasets.spiral(10, classes=True), "classes must be an integer >= 2"),
        (lambda: datasets.spiral(10, classes="3"), "classes must be an integer >= 2"),
        (
            lambda: datasets.blobs(10, centers=1),
            "centers must be an integer >= 2 \\(the number of blobs",
        ),
        (lambda: datasets.blobs(10, centers=None), "centers must be an integer"),
        (lambda: datasets.yinyang(10, classes=4), "classes must be 2 \\(yin, yang\\) or 3"),
        (lambda: datasets.yinyang(10, classes=3.0), "classes must be 2"),
        (
            lambda: datasets.yinyang(10, dot_radius=0.5),
            "dot_radius must be a number in \\(0, 0.5\\)",
        ),
        (lambda: datasets.yinyang(10, dot_radius=0), "dot_radius must be"),
        (lambda: datasets.yinyang_class(np.zeros(3)), "shape \\(n, 2\\)"),
        (lambda: datasets.spiral(2, classes=3), "n=2 is too small for 3 classes.*n >= 3"),
        (lambda: datasets.blobs(4, centers=5), "n=4 is too small for 5 classes"),
        # a class with no points left for training
        (lambda: datasets.spiral(4, classes=3, test_size=2), "leaves class . with no training"),
        (lambda: datasets.blobs(5, centers=5, test_size=1), "leaves class . with no training"),
        (
            lambda: Dataset(
                np.zeros((2, 2)), np.zeros(2), np.zeros((0, 2)), np.zeros(0), classes=1
            ),
            "classes must be an integer >= 2",
        ),
    ],
)
def test_bad_class_arguments_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
