"""What a Trainer keeps of its steps, apart from it: the bounded :class:`History` of per-step
metrics, the :class:`Observers` told of each step and change, and :class:`StepLog`, which checks
a step's loss against the first step's and makes the step's history entry.

Nothing here holds the trainer: events are built by the trainer and handed in.
"""

from __future__ import annotations

import logging
import math
from array import array
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ._training_data import is_count
from ._warn import warn_user

log = logging.getLogger("micrograd_widgets")


class History:
    """Per-step metrics, stored compactly (8 bytes per number) and bounded, so long runs stay small.

    ``history[i]`` is a dict ``{"step", "loss", "accuracy", "test_loss", "test_accuracy", "lr"}``
    (test values are NaN without a test split); ``history.loss`` etc. are numpy arrays.
    As in the seed's loop, a step's loss and accuracies are measured at the parameters *before*
    its update (accuracy on the whole training set, also with mini-batches).

    Bounded: once more than ``max_rows`` rows are stored, every other row older than the last
    ``keep_recent`` is dropped (the first step always stays), as the boundary's recording does.
    So the recent past is complete and older steps are thinned further the older they are;
    ``history[-1]`` is always the latest step, ``len(history)`` counts stored rows (at most
    ``max_rows``; the trainer's ``steps_done`` counts steps) and ``history.step`` says which
    step each row is. A compiled run at thousands of steps a second keeps under 1 MB.
    """

    COLUMNS = ("step", "loss", "accuracy", "test_loss", "test_accuracy", "lr")

    def __init__(self, max_rows: int = 20_000, keep_recent: int = 10_000) -> None:
        if not is_count(keep_recent, 1) or not is_count(max_rows, keep_recent + 2):
            raise ValueError(
                f"need 1 <= keep_recent and keep_recent + 2 <= max_rows, got max_rows={max_rows!r},"
                f" keep_recent={keep_recent!r}"
            )
        self.max_rows = int(max_rows)
        self.keep_recent = int(keep_recent)
        self._columns = {name: array("d") for name in self.COLUMNS}

    def append(self, record: dict[str, float]) -> None:
        for name, column in self._columns.items():
            column.append(float(record[name]))
        if len(self._columns["step"]) > self.max_rows:
            self._thin()

    def _thin(self) -> None:
        """Drop every other row before the last ``keep_recent`` (row 0 stays: the first step)."""
        older = len(self._columns["step"]) - self.keep_recent
        for name, column in self._columns.items():
            self._columns[name] = column[0:older:2] + column[older:]

    def clear(self) -> None:
        for column in self._columns.values():
            del column[:]

    def __len__(self) -> int:
        return len(self._columns["step"])

    def __getitem__(self, index: int) -> dict[str, float]:
        return {name: column[index] for name, column in self._columns.items()}

    def __iter__(self) -> Iterator[dict[str, float]]:
        return (self[i] for i in range(len(self)))

    def __getattr__(self, name: str) -> np.ndarray:
        columns = self.__dict__.get("_columns", {})
        if name in columns:
            # tolist() copies in one C call: a numpy view of the array would block the training
            # thread's next append ("cannot resize an array that is exporting buffers")
            return np.array(columns[name].tolist(), dtype=np.float64)
        raise AttributeError(f"History has no column {name!r}; columns: {', '.join(self.COLUMNS)}")

    def __repr__(self) -> str:
        last = f", last={self[-1]}" if len(self) else ""
        return f"History({len(self)} steps{last})"


class Observers(list):
    """A trainer's subscribers, in the order they subscribed (a list: ``len``, ``==``, ``in``).

    :meth:`notify` calls each with the event; one that raises is logged and skipped, so a broken
    observer never stops training (a ``KeyboardInterrupt`` is not an ``Exception``: it goes on).
    """

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Add ``callback``; returns a function that removes it again (once; later calls do
        nothing)."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        self.append(callback)

        def unsubscribe() -> None:
            if callback in self:
                self.remove(callback)

        return unsubscribe

    def notify(self, event: object) -> None:
        for callback in list(self):  # a copy: a callback may unsubscribe itself
            try:
                callback(event)
            except Exception:  # a broken observer must not stop training
                log.exception("micrograd-widgets: trainer observer failed")


class StepLog:
    """Each step's entry in the :class:`History`, the check that training diverged, and its
    warning, said once until :meth:`clear` (a reset)."""

    def __init__(self) -> None:
        self.history = History()
        self._warned = False

    def divergence(self, loss: float, factor: float) -> str:
        """Why a step with this loss diverged ("" if it did not): the loss is not finite, or
        grew to more than ``factor`` times the first step's."""
        history = self.history
        initial = history[0]["loss"] if len(history) else None
        if not math.isfinite(loss):
            return f"the loss is {loss}"
        if initial is not None and loss > factor * max(initial, 1e-3):
            # e.g. lr = 100 with the SVM loss: finite, but 1e36 -- nothing left to learn
            return f"the loss grew from {initial:.4g} to {loss:.4g}"
        return ""

    @staticmethod
    def diverged_message(k: int, what: str, lr: float) -> str:
        return (
            f"Training diverged at step {k}: {what} (learning rate {lr:.4g}). "
            "Lower the learning rate and reset."
        )

    def warn_once(self, message: str) -> None:
        """A ``RuntimeWarning`` pointing at the user's line, the first time training diverges."""
        if not self._warned:
            self._warned = True
            warn_user(message, RuntimeWarning)

    def append(
        self, k: int, loss: float, metrics: tuple[float, float, float], lr: float
    ) -> dict[str, float]:
        """Step ``k``'s entry (``metrics``: training accuracy, test loss, test accuracy, all
        measured before its update), added to the history; returns it."""
        accuracy, test_loss, test_accuracy = metrics
        record = {
            "step": float(k),
            "loss": loss,
            "accuracy": accuracy,
            "test_loss": test_loss,
            "test_accuracy": test_accuracy,
            "lr": lr,
        }
        self.history.append(record)
        return record

    def clear(self) -> None:
        self.history.clear()
        self._warned = False
