"""What a Trainer checks when it is made, apart from it: the model, its loss, where the data comes
from, the batch size and the divergence factor (each with an error saying what was expected), and
the rule "one trainer per model" (:func:`stop_older_trainers`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import losses
from ._background import LIVE_TRAINERS
from ._training_data import builtin_loss_name, check_outputs_fit_loss, is_count
from .datasets import Dataset
from .nn import Module

if TYPE_CHECKING:
    from .train import Trainer

Arrays = tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]


def check_model(model: object) -> Module:
    if not isinstance(model, Module) or not callable(model):
        kind = type(model).__name__
        raise TypeError(f"model must be a callable Module such as MLP, got {kind}")
    return model


def resolve_loss(
    loss: str | losses.DataLoss, outputs: int
) -> tuple[losses.DataLoss, str, str | None]:
    """The loss function, its name (a custom function's ``__name__``) and the built-in loss it
    is (None for the user's own), checked against the model's ``outputs``."""
    function = losses.resolve_loss(loss)
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", "custom")
    builtin = builtin_loss_name(function)
    check_outputs_fit_loss(outputs, builtin)
    return function, name, builtin


def data_arrays(
    X: np.ndarray | Dataset,
    y: np.ndarray | None,
    X_test: np.ndarray | None,
    y_test: np.ndarray | None,
) -> Arrays:
    """``X, y, X_test, y_test``, taken from ``X`` when it is a Dataset (then the others must be
    left out)."""
    if not isinstance(X, Dataset):
        return X, y, X_test, y_test
    if y is not None or X_test is not None or y_test is not None:
        raise ValueError("pass either a Dataset or X and y (and X_test, y_test), not both")
    return X.X, X.y, X.X_test, X.y_test


def check_batch_size(batch_size: object) -> int | None:
    if batch_size is None:
        return None
    if not is_count(batch_size, 1):
        raise ValueError(
            f"batch_size must be None (full batch) or a positive int, got {batch_size!r}"
        )
    return int(batch_size)  # type: ignore[call-overload]


def check_divergence_factor(factor: object) -> float:
    if not (isinstance(factor, (int, float)) and factor > 1):
        raise ValueError(f"divergence_factor must be a number > 1, got {factor!r}")
    return float(factor)


def stop_older_trainers(trainer: Trainer) -> None:
    """One trainer per model: two trainers updating the same weights corrupt each other, so
    making a trainer for a model stops any other trainer training it in the background."""
    for other in list(LIVE_TRAINERS):
        if other is not trainer and other.model is trainer.model and other.is_running:
            other.stop(
                reason="Stopped: a new Trainer was made for this model (one trainer per "
                "model: two would update the same weights)."
            )
