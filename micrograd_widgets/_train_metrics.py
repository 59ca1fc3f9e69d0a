"""A Trainer's measurements at the current weights, apart from it: the model's scores, the penalty,
the held-out loss and accuracy, a step's metrics, :meth:`Trainer.evaluate` and the confusion
matrix -- numpy forward passes, no graph (a custom loss runs forward on the Value engine).

A :class:`Metrics` is made for each measurement with the loss and penalty the trainer has then,
so changing ``trainer.alpha`` or ``trainer.regularization`` between steps shows in the next one.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from . import losses
from ._training_data import (
    TrainingData,
    current_metrics,
    held_out_metrics,
    model_scores,
    penalty_value,
)
from .engine import Value
from .nn import Module


class Metrics:
    """Measurements of ``model`` on ``data`` for one loss and penalty (the caller holds the
    trainer's lock: the weights and points stay as they are while it measures)."""

    def __init__(
        self,
        model: Module,
        data: TrainingData,
        outputs: int,
        parameters: list[Value],
        loss: losses.DataLoss,
        builtin_loss: str | None,
        regularization: str | None,
        alpha: float,
    ) -> None:
        self.model, self.data, self.outputs = model, data, outputs
        self.parameters = parameters
        self.loss, self.builtin_loss = loss, builtin_loss
        self.regularization, self.alpha = regularization, alpha

    def scores(self, X: np.ndarray) -> np.ndarray:
        return model_scores(self.model, X, self.outputs)

    def penalty(self) -> float:
        return penalty_value(self.parameters, self.regularization, self.alpha)

    def held_out(self) -> tuple[float, float]:
        """(loss, accuracy) on the test split; NaN, NaN without one."""
        data = self.data
        if len(data.y_test) == 0:  # no test split: not even the penalty is needed
            return math.nan, math.nan
        return held_out_metrics(
            self.model, data.X_test, data.y_test, self.outputs, self.loss, self.builtin_loss,
            self.penalty(),
        )  # fmt: skip

    def of_step(self, scores: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
        """A step's accuracy on the whole training set (from the batch's ``scores`` when the
        batch is the whole set) and its test loss and accuracy."""
        if len(y) < len(self.data.y):  # a mini-batch: accuracy on the whole training set
            scores, y = self.scores(self.data.X), self.data.y
        return (losses.accuracy(scores, y), *self.held_out())

    def evaluate(self, X: np.ndarray | None, y: np.ndarray | None) -> dict[str, float]:
        """``{"loss", "accuracy"}`` on ``X``, ``y`` (default: the training set)."""
        X = self.data.X if X is None else X
        y = self.data.y if y is None else y
        return current_metrics(self.scores(X), y, self.builtin_loss, self.penalty())

    def confusion(self, split: Literal["train", "test"]) -> np.ndarray:
        """Counts of (true class, predicted class) on ``split``: zeros for an empty split."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        data, classes = self.data, self.data.classes
        X, y = (data.X, data.y) if split == "train" else (data.X_test, data.y_test)
        if len(y) == 0:
            return np.zeros((classes, classes), dtype=np.int64)
        return losses.confusion_matrix(self.scores(X), y, classes)
