"""RunControls: a training run's state and the controls that change it, apart from what a step
computes.

A :class:`~micrograd_widgets.train.Trainer` *is* a RunControls: it adds the data, the
configuration and what one step computes (``_step``, ``reset``). This class holds what any
stepped run has -- its status and message, its observers, its pace -- and its controls: ``run``
in the cell, ``start`` / ``pause`` / ``resume`` / ``stop`` / ``wait`` on a background thread
(the thread itself is :class:`~._background.BackgroundRun`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ._background import (
    STOP_TIMEOUT_S,
    BackgroundRun,
    Pace,
    TrainingDiverged,
    check_speed,
    run_in_cell,
)
from ._train_record import History, Observers
from ._training_data import is_count

if TYPE_CHECKING:
    from .train import Trainer

__all__ = ["EventKind", "RunControls", "Status", "TrainerEvent"]

Status = Literal["idle", "running", "paused", "stopped", "diverged", "error"]
EventKind = Literal["step", "status", "data", "reset"]


@dataclass(frozen=True)
class TrainerEvent:
    """What observers receive: ``kind`` is "step", "status", "data" or "reset"."""

    kind: EventKind
    trainer: Trainer
    record: dict[str, float] | None = None


class RunControls:
    """The status of a run, its observers, its pace and its controls (in the cell and in the
    background). A subclass provides ``_step`` (one step under :attr:`lock`) and ``history``."""

    history: History

    def __init__(self, speed: float | str | None) -> None:
        self._pace = Pace(speed)
        #: re-entrant, held for the whole of each step: changes land between two steps
        self.lock = threading.RLock()
        self._start_over()
        self._observers = Observers()
        self._background = BackgroundRun()

    def _start_over(self) -> None:
        """The state of a run that has not begun (when made, and after a reset)."""
        self.steps_done = 0
        self.status: Status = "idle"
        self.message = ""  # why training stopped on its own (divergence, an error)

    def _step(self, only_while: threading.Event | None = None) -> dict[str, float] | None:
        """:meth:`step`, skipped (None) unless ``only_while`` is set once :attr:`lock` is held."""
        raise NotImplementedError

    def step(self) -> dict[str, float]:
        """One training step (loss, ``backward()``, the optimizer's update); returns its record.

        The record is the step's history entry. Raises :class:`TrainingDiverged` if the loss or a
        gradient is NaN or infinite, or the loss grew past ``divergence_factor`` times the first
        step's (the parameters are then left as they were before this step).
        """
        record = self._step()
        assert record is not None  # only a background step (with `only_while`) is ever skipped
        return record

    # ---- status and observers ---------------------------------------------------------------

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    def observe(self, callback: Callable[[TrainerEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` after every step and change; returns a function to unsubscribe.

        Step events arrive on the training thread (or the caller's, for ``step``/``run``).
        """
        return self._observers.subscribe(callback)

    def _notify(self, kind: EventKind, record: dict[str, float] | None = None) -> None:
        # (every RunControls is a Trainer: the event hands observers the whole of it)
        self._observers.notify(TrainerEvent(kind, self, record))  # type: ignore[arg-type]

    def _set_status(self, status: Status, message: str | None = None) -> None:
        self.status = status
        if message is not None:
            self.message = message
        self._notify("status")

    # ---- pace and controls ------------------------------------------------------------------

    @property
    def speed(self) -> float | None:
        """Steps per second for :meth:`start` and :meth:`run` (e.g. 1, 10, 30), or None: as fast
        as possible (given as None or "max")."""
        return self._pace.speed

    @speed.setter
    def speed(self, value: float | str | None) -> None:
        self._pace.speed = check_speed(value)

    def run(self, steps: int) -> History:
        """Train ``steps`` steps in the calling thread (blocks, like the seed's loop).

        Paced by :attr:`speed` when set; observers (widgets) update as it goes. Stops early, with
        a warning, if training diverges.
        """
        if not is_count(steps, 0):
            raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
        if self.is_running:
            raise RuntimeError("this trainer is training in the background; call stop() first")
        if self.diverged:
            raise TrainingDiverged(self.message + " (call reset() to start again)")
        return run_in_cell(self, steps)

    @property
    def is_running(self) -> bool:
        """True while the background thread exists (running or paused)."""
        return self._background.is_running

    def start(self, steps: int | None = None) -> None:
        """Train on a background thread (forever, or ``steps`` more steps); returns at once."""
        if steps is not None and not is_count(steps, 1):
            raise ValueError(f"steps must be None (until stopped) or a positive int, got {steps!r}")
        if self.diverged:
            raise TrainingDiverged(self.message + " (call reset() to start again)")
        self._background.start(self, steps)

    def pause(self) -> None:
        """Pause after the current step (waits for it, so no step lands after this returns)."""
        self._background.pause(self)

    def resume(self) -> None:
        """Continue a paused background run."""
        self._background.resume(self)

    def stop(self, timeout: float = STOP_TIMEOUT_S, *, reason: str = "") -> None:
        """Stop the background thread and wait (up to ``timeout`` s) for it to end.

        ``reason``, if given, becomes :attr:`message` (widgets show it), e.g. why the package
        stopped a trainer nobody could see any more.
        """
        self._background.stop(self, timeout, reason)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until background training ends (``start(steps)`` done, stopped or diverged).

        Returns False if it still runs after ``timeout`` seconds. Do not call it while paused
        with no one to resume: it would wait for the timeout.
        """
        return self._background.wait(timeout)
