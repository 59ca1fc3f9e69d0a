"""Small 2-D binary classification datasets with labels in {-1, +1}.

Every generator takes ``n`` (number of points), ``noise``, ``seed`` and ``test_size`` and returns a
:class:`Dataset`:

>>> data = moons(128, noise=0.1, seed=1)
>>> X, y = data                      # unpacks to the training split, like make_moons
>>> data.X.shape, data.y[:3]
((128, 2), array([...]))
>>> split = moons(200, test_size=0.25, seed=1)
>>> split.X.shape, split.X_test.shape
((150, 2), (50, 2))

``noise`` is the standard deviation of Gaussian noise added to each coordinate (for ``blobs`` it
is the spread of each blob). ``test_size`` is a fraction in [0, 1) or a whole number of points;
with 0 (the default) ``X_test`` and ``y_test`` are empty ``(0, 2)`` / ``(0,)`` arrays.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["Dataset", "blobs", "circles", "moons", "spiral", "xor"]


@dataclass(frozen=True)
class Dataset:
    """Points ``X`` (n, 2) float64 and labels ``y`` (n,) float64 in {-1, +1}, plus a test split."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str = ""

    @property
    def has_test(self) -> bool:
        return len(self.y_test) > 0

    def __iter__(self) -> Iterator[np.ndarray]:
        # `X, y = moons(...)` reads like the seed's `X, y = make_moons(...)`
        yield self.X
        yield self.y

    def __repr__(self) -> str:
        counts = f"{len(self.y)} train, {len(self.y_test)} test points"
        return f"Dataset({self.name or 'data'}: {counts})"


# ---- argument checks ---------------------------------------------------------------------------


def _check_n(n: object, minimum: int = 2) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ValueError(f"n must be an integer >= {minimum} (number of points), got {n!r}")
    return int(n)


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
    name: str, X: np.ndarray, labels01: np.ndarray, test_size: object, rng: np.random.Generator
) -> Dataset:
    """Labels {0,1} -> {-1,+1}, shuffle, split off the test points."""
    n = len(X)
    n_test = _test_count(test_size, n)
    order = rng.permutation(n)
    X = np.ascontiguousarray(X[order], dtype=np.float64)
    y = labels01[order].astype(np.float64) * 2.0 - 1.0
    cut = n - n_test
    return Dataset(X[:cut], y[:cut], X[cut:], y[cut:], name)


def _noisy(X: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    return X + rng.normal(scale=noise, size=X.shape) if noise > 0 else X


def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


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
    n: int = 128, noise: float = 0.5, seed: int | None = None, *, test_size: float | int = 0.0
) -> Dataset:
    """Two Gaussian blobs centred at (-1, -1) (label -1) and (1, 1) (label +1); std = ``noise``."""
    n, noise, seed = _check_n(n), _check_noise(noise), _check_seed(seed)
    _test_count(test_size, n)
    rng = np.random.default_rng(seed)
    n_neg, n_pos = _halves(n)
    centres = np.r_[np.tile([-1.0, -1.0], (n_neg, 1)), np.tile([1.0, 1.0], (n_pos, 1))]
    labels = np.r_[np.zeros(n_neg), np.ones(n_pos)]
    return _finish("blobs", _noisy(centres, noise, rng), labels, test_size, rng)


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
    test_size: float | int = 0.0,
) -> Dataset:
    """Two interleaved spiral arms, ``turns`` revolutions each (label -1 and +1)."""
    n, noise, seed = _check_n(n), _check_noise(noise), _check_seed(seed)
    if isinstance(turns, bool) or not isinstance(turns, numbers.Real) or not 0 < turns <= 10:
        raise ValueError(f"turns must be a number in (0, 10], got {turns!r}")
    _test_count(test_size, n)
    rng = np.random.default_rng(seed)
    n_a, n_b = _halves(n)
    arms = []
    for count, phase in ((n_a, 0.0), (n_b, np.pi)):
        t = np.sqrt(rng.uniform(0.02, 1.0, count))  # sqrt: even density along the arm
        angle = 2 * np.pi * float(turns) * t + phase
        arms.append(np.c_[t * np.cos(angle), t * np.sin(angle)])
    labels = np.r_[np.zeros(n_a), np.ones(n_b)]
    return _finish("spiral", _noisy(np.vstack(arms), noise, rng), labels, test_size, rng)
