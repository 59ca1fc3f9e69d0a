"""Small 2-D classification datasets: binary with labels in {-1, +1}, or k classes 0..k-1.

Every generator takes ``n`` (number of points), ``noise``, ``seed`` and ``test_size`` and returns a
:class:`Dataset`:

>>> from micrograd_widgets.datasets import moons
>>> data = moons(128, noise=0.1, seed=1)
>>> X, y = data                      # unpacks to the training split, like make_moons
>>> data.X.shape, data.y[:3]
((128, 2), array([...]))

>>> from micrograd_widgets.datasets import moons
>>> split = moons(200, test_size=0.25, seed=1)
>>> split.X.shape, split.X_test.shape
((150, 2), (50, 2))

``noise`` is the standard deviation of Gaussian noise added to each coordinate (for ``blobs`` it
is the spread of each blob). ``test_size`` is a fraction in [0, 1) or a whole number of points;
with 0 (the default) ``X_test`` and ``y_test`` are empty ``(0, 2)`` / ``(0,)`` arrays.

**Labels.** Two classes keep the seed's SVM convention, -1 and +1 (the sign of a single score is the
class). Three or more classes (``spiral(classes=k)``, ``blobs(centers=k)``, ``yinyang()``) are
numbered 0, 1, ..., k-1, the class index a softmax / cross-entropy model predicts with argmax.
Either way ``y`` is float64 (one dtype for every dataset and for points a user adds by clicking;
the k-class values are whole numbers, ``y.astype(int)`` gives indices) and ``Dataset.classes``
says how many classes there are, so nobody has to guess from the labels:

>>> import numpy as np
>>> from micrograd_widgets.datasets import spiral
>>> data = spiral(300, classes=3, seed=0)
>>> data.classes, np.unique(data.y)
(3, array([0., 1., 2.]))

Classes are as balanced as ``n`` allows (sizes differ by at most one), every class has at least one
training point (otherwise a clear error), and the same arguments give the same points.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Dataset",
    "blobs",
    "circles",
    "label_values",
    "moons",
    "spiral",
    "xor",
    "yinyang",
    "yinyang_class",
]


@dataclass(frozen=True)
class Dataset:
    """Points ``X`` (n, 2) float64 and labels ``y`` (n,) float64, plus a test split.

    ``classes`` is the number of classes: 2 means labels -1 / +1, k >= 3 means labels 0..k-1
    (:func:`label_values`).
    """

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str = ""
    classes: int = 2

    def __post_init__(self) -> None:
        _check_classes("classes", self.classes)

    @property
    def has_test(self) -> bool:
        return len(self.y_test) > 0

    def __iter__(self) -> Iterator[np.ndarray]:
        # `X, y = moons(...)` reads like the seed's `X, y = make_moons(...)`
        yield self.X
        yield self.y

    def __repr__(self) -> str:
        counts = f"{len(self.y)} train, {len(self.y_test)} test points"
        if self.classes != 2:
            counts = f"{self.classes} classes, {counts}"
        return f"Dataset({self.name or 'data'}: {counts})"


def label_values(classes: int) -> np.ndarray:
    """Each class's label, in class order: ``[-1, +1]`` for 2 classes, else ``[0, ..., k-1]``."""
    k = _check_classes("classes", classes)
    return np.array([-1.0, 1.0]) if k == 2 else np.arange(k, dtype=np.float64)


# ---- argument checks ---------------------------------------------------------------------------


def _check_n(n: object, minimum: int = 2) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ValueError(f"n must be an integer >= {minimum} (number of points), got {n!r}")
    return int(n)


def _check_classes(name: str, classes: object, what: str = "the number of classes") -> int:
    if isinstance(classes, bool) or not isinstance(classes, numbers.Integral) or classes < 2:
        raise ValueError(f"{name} must be an integer >= 2 ({what}), got {classes!r}")
    return int(classes)


def _check_n_for(n: object, classes: int) -> int:
    """``n`` points for ``classes`` classes: at least one point per class (and at least 2)."""
    if not isinstance(n, bool) and isinstance(n, numbers.Integral) and 2 <= n < classes:
        raise ValueError(
            f"n={n!r} is too small for {classes} classes: every class needs at least one point; "
            f"expected n >= {classes}"
        )
    return _check_n(n)


def _check_noise(noise: object) -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise ValueError(f"noise must be a non-negative number, got {noise!r}")
    value = float(noise)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return value


def _check_seed(seed: object) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
    return int(seed)


def _test_count(test_size: object, n: int) -> int:
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise ValueError(
            f"test_size must be a fraction in [0, 1) or a whole number of points, got {test_size!r}"
        )
    if isinstance(test_size, numbers.Integral) and test_size >= 1:
        count = int(test_size)
    elif 0 <= float(test_size) < 1:
        count = round(float(test_size) * n)
    else:
        raise ValueError(
            f"test_size must be a fraction in [0, 1) or a whole number of points, got {test_size!r}"
        )
    if count > n - 2:
        raise ValueError(
            f"test_size={test_size!r} leaves {n - count} of {n} points for training; "
            "at least 2 are needed"
        )
    return count


def _finish(
    name: str,
    X: np.ndarray,
    class_index: np.ndarray,
    test_size: object,
    rng: np.random.Generator,
    classes: int = 2,
) -> Dataset:
    """Class indices -> labels ({0,1} -> {-1,+1} for two classes), shuffle, split off the test
    points; refuses a split that leaves a class without training points."""
    n = len(X)
    n_test = _test_count(test_size, n)
    order = rng.permutation(n)
    X = np.ascontiguousarray(X[order], dtype=np.float64)
    index = class_index[order]
    y = index.astype(np.float64) * 2.0 - 1.0 if classes == 2 else index.astype(np.float64)
    cut = n - n_test
    missing = sorted(set(range(classes)) - set(index[:cut].astype(int).tolist()))
    if missing:
        label = label_values(classes)[missing[0]]
        raise ValueError(
            f"test_size={test_size!r} leaves class {label:g} with no training points "
            f"({n - n_test} training points for {classes} classes); "
            "use more points or a smaller test_size"
        )
    return Dataset(X[:cut], y[:cut], X[cut:], y[cut:], name, classes)


def _noisy(X: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    return X + rng.normal(scale=noise, size=X.shape) if noise > 0 else X


def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def _class_sizes(n: int, classes: int) -> list[int]:
    """``n`` split into ``classes`` sizes differing by at most one (the later ones larger, so two
    classes give ``_halves(n)``)."""
    return [n * (j + 1) // classes - n * j // classes for j in range(classes)]


# ---- generators --------------------------------------------------------------------------------


def moons(
    n: int = 128, noise: float = 0.1, seed: int | None = None, *, test_size: float | int = 0.0
) -> Dataset:
    """Two interleaving half circles (scikit-learn's ``make_moons``), as in the seed demo."""
    from sklearn.datasets import make_moons

    n, noise, seed = _check_n(n), _check_noise(noise), _check_seed(seed)
    _test_count(test_size, n)  # fail before any work
    rng = np.random.default_rng(seed)
    X, labels = make_moons(n_samples=n, noise=noise, random_state=int(rng.integers(2**31)))
    return _finish("moons", X, labels, test_size, rng)


def circles(
    n: int = 128,
    noise: float = 0.05,
    seed: int | None = None,
    *,
    factor: float = 0.5,
    test_size: float | int = 0.0,
) -> Dataset:
    """A small circle (label +1) inside a large one (label -1); ``factor`` = inner/outer radius."""
    n, noise, seed = _check_n(n), _check_noise(noise), _check_seed(seed)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ValueError(f"factor must be in (0, 1) (inner / outer radius), got {factor!r}")
    _test_count(test_size, n)
    rng = np.random.default_rng(seed)
    n_outer, n_inner = _halves(n)
    angles = rng.uniform(0, 2 * np.pi, n)
    radius = np.r_[np.ones(n_outer), np.full(n_inner, float(factor))]
    X = np.c_[radius * np.cos(angles), radius * np.sin(angles)]
    labels = np.r_[np.zeros(n_outer), np.ones(n_inner)]
    return _finish("circles", _noisy(X, noise, rng), labels, test_size, rng)


def blobs(
    n: int = 128,
    noise: float = 0.5,
    seed: int | None = None,
    *,
    centers: int = 2,
    test_size: float | int = 0.0,
) -> Dataset:
    """Gaussian blobs, one class each; std = ``noise``.

    Two blobs are centred at (-1, -1) (label -1) and (1, 1) (label +1). ``centers=k`` >= 3 puts k
    blobs (labels 0..k-1) evenly on a circle around the origin, blob j at angle 225° + j·360°/k,
    with radius √2 / sin(180°/k) so that neighbouring centres are 2√2 apart -- the distance
    between the two binary blobs, which are the k = 2 case of the same rule.
    """
    k = _check_classes("centers", centers, "the number of blobs, one class each")
    n, noise, seed = _check_n_for(n, k), _check_noise(noise), _check_seed(seed)
    _test_count(test_size, n)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n, k)
    if k == 2:
        points = [(-1.0, -1.0), (1.0, 1.0)]  # exactly, as ever (the rule gives ±1 up to rounding)
    else:
        radius = math.sqrt(2.0) / math.sin(math.pi / k)
        angles = [math.radians(225.0) + 2.0 * math.pi * j / k for j in range(k)]
        points = [(radius * math.cos(a), radius * math.sin(a)) for a in angles]
    centres = np.vstack([np.tile(point, (size, 1)) for point, size in zip(points, sizes)])
    labels = np.repeat(np.arange(k), sizes)
    return _finish("blobs", _noisy(centres, noise, rng), labels, test_size, rng, k)


def xor(
    n: int = 128, noise: float = 0.1, seed: int | None = None, *, test_size: float | int = 0.0
) -> Dataset:
    """Points uniform in [-1, 1]²; label +1 where x·y > 0 (the XOR of the two signs)."""
    n, noise, seed = _check_n(n), _check_noise(noise), _check_seed(seed)
    _test_count(test_size, n)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    labels = (X[:, 0] * X[:, 1] > 0).astype(np.float64)  # labelled before the noise
    return _finish("xor", _noisy(X, noise, rng), labels, test_size, rng)


def spiral(
    n: int = 128,
    noise: float = 0.05,
    seed: int | None = None,
    *,
    turns: float = 1.5,
    classes: int = 2,
    test_size: float | int = 0.0,
) -> Dataset:
    """Interleaved spiral arms, one per class, ``turns`` revolutions each.

    Arm j starts near the origin and winds out to radius 1, rotated by j·360°/``classes``: two arms
    (labels -1 and +1) face each other, ``classes=k`` >= 3 gives k arms labelled 0..k-1.
    """
    k = _check_classes("classes", classes)
    n, noise, seed = _check_n_for(n, k), _check_noise(noise), _check_seed(seed)
    if isinstance(turns, bool) or not isinstance(turns, numbers.Real) or not 0 < turns <= 10:
        raise ValueError(f"turns must be a number in (0, 10], got {turns!r}")
    _test_count(test_size, n)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n, k)
    arms = []
    for j, count in enumerate(sizes):
        phase = np.pi if k == 2 and j == 1 else 2 * np.pi * j / k  # the same angle, exactly as ever
        t = np.sqrt(rng.uniform(0.02, 1.0, count))  # sqrt: even density along the arm
        angle = 2 * np.pi * float(turns) * t + phase
        arms.append(np.c_[t * np.cos(angle), t * np.sin(angle)])
    labels = np.repeat(np.arange(k), sizes)
    return _finish("spiral", _noisy(np.vstack(arms), noise, rng), labels, test_size, rng, k)


#: yinyang geometry: the figure's radius, its two "heads" (half its radius) and the default dots
YINYANG_RADIUS = 1.0
_HEAD_RADIUS = YINYANG_RADIUS / 2


def _is_yinyang_classes(classes: object) -> bool:
    return (
        not isinstance(classes, bool)
        and isinstance(classes, numbers.Integral)
        and classes in (2, 3)
    )


def yinyang_class(X: np.ndarray, *, classes: int = 3, dot_radius: float = 0.15) -> np.ndarray:
    """The class index (0, 1 or 2) of each point of ``X`` (n, 2) in the yin-yang figure.

    Geometry (radius 1 around the origin): the S-shaped line is two half circles of radius 1/2
    centred at (0, 1/2) and (0, -1/2). **Yin** (class 0) is the left half x < 0 plus the head
    disc around (0, 1/2), minus the head disc around (0, -1/2); **yang** (class 1) is the rest.
    Each head holds a dot of radius ``dot_radius`` at its centre, of the other colour: with 2
    classes the dot around (0, 1/2) is yang and the one around (0, -1/2) is yin; with 3 classes
    both dots are class 2. Points outside the unit disc get the class of the same rules (the
    generator only draws inside it).
    """
    if not _is_yinyang_classes(classes):
        raise ValueError(f"classes must be 2 or 3, got {classes!r}")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must be an array of shape (n, 2), got shape {X.shape}")
    x, y = X[:, 0], X[:, 1]
    in_upper_head = np.hypot(x, y - _HEAD_RADIUS) < _HEAD_RADIUS
    in_lower_head = np.hypot(x, y + _HEAD_RADIUS) < _HEAD_RADIUS
    yin = ((x < 0) | in_upper_head) & ~in_lower_head
    index = np.where(yin, 0, 1)
    upper_dot = np.hypot(x, y - _HEAD_RADIUS) < dot_radius
    lower_dot = np.hypot(x, y + _HEAD_RADIUS) < dot_radius
    if classes == 3:
        index[upper_dot | lower_dot] = 2
    else:
        index[upper_dot] = 1
        index[lower_dot] = 0
    return index


def yinyang(
    n: int = 128,
    noise: float = 0.02,
    seed: int | None = None,
    *,
    classes: int = 3,
    dot_radius: float = 0.15,
    test_size: float | int = 0.0,
) -> Dataset:
    """The yin-yang figure: yin, yang and (with ``classes=3``, the default) the two dots.

    Points are uniform inside each class's region of the unit disc (see :func:`yinyang_class` for
    the geometry), the same number per class, so the small dots are as well represented as the
    halves. ``classes=3`` labels yin 0, yang 1, dots 2; ``classes=2`` labels yin -1 and yang +1,
    each dot counting with the half it looks like. Noise is added after labelling.
    """
    if not _is_yinyang_classes(classes):
        raise ValueError(
            f"classes must be 2 (yin, yang) or 3 (yin, yang and the dots), got {classes!r}"
        )
    k = int(classes)
    n, noise, seed = _check_n_for(n, k), _check_noise(noise), _check_seed(seed)
    if (
        isinstance(dot_radius, bool)
        or not isinstance(dot_radius, numbers.Real)
        or not 0 < dot_radius < _HEAD_RADIUS
    ):
        raise ValueError(
            f"dot_radius must be a number in (0, {_HEAD_RADIUS}) (the heads' radius), "
            f"got {dot_radius!r}"
        )
    _test_count(test_size, n)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n, k)
    # rejection sampling: uniform points in the disc, each kept if its class still needs points
    kept: list[list[np.ndarray]] = [[] for _ in range(k)]
    needed = list(sizes)
    while any(needed):
        batch = 4 * sum(needed) + 16
        radius = YINYANG_RADIUS * np.sqrt(rng.uniform(0.0, 1.0, batch))  # uniform over the area
        angle = rng.uniform(0.0, 2 * np.pi, batch)
        points = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
        index = yinyang_class(points, classes=k, dot_radius=float(dot_radius))
        for j in range(k):
            take = points[index == j][: needed[j]]
            kept[j].append(take)
            needed[j] -= len(take)
    X = np.vstack([np.vstack(parts) for parts in kept])
    labels = np.repeat(np.arange(k), sizes)
    return _finish("yinyang", _noisy(X, noise, rng), labels, test_size, rng, k)
