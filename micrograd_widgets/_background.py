"""Running a Trainer's steps: paced, in the cell (:func:`run_in_cell`) or on a background thread
(:class:`BackgroundRun`), and stopping them all cleanly (interpreter exit, kernel interrupts,
:func:`stop_all`).

One background thread per trainer, a daemon that holds only a weak reference to it between steps,
so a trainer nobody refers to any more is collected and its thread ends.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import numbers
import signal
import threading
import time
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._threads import make_way_for_the_kernel

if TYPE_CHECKING:
    from ._run_controls import RunControls
    from ._train_record import History

log = logging.getLogger("micrograd_widgets")

#: How long stop() waits for the training thread to finish its current step.
STOP_TIMEOUT_S = 10.0
#: A paced trainer re-checks its speed, pause and stop at least this often while it waits.
PACE_SLICE_S = 0.05


class TrainingDiverged(RuntimeError):
    """The loss or the gradients became NaN or infinite (or the loss blew up); training stopped."""


def check_speed(speed: object) -> float | None:
    if speed is None or speed == "max":
        return None
    if isinstance(speed, bool) or not isinstance(speed, numbers.Real) or not math.isfinite(speed):
        raise ValueError(
            f"speed must be a number of steps per second > 0, or None / 'max' for as fast as "
            f"possible, got {speed!r}"
        )
    if speed <= 0:
        raise ValueError(f"speed must be > 0 steps per second (or None / 'max'), got {speed!r}")
    return float(speed)


class Pace:
    """Steps per second for a trainer's runs (None: as fast as possible)."""

    def __init__(self, speed: object) -> None:
        self.speed = check_speed(speed)
        self.last_step_at = -math.inf  # monotonic time the last paced step started

    def until_next_step(self) -> float:
        """Seconds until ``speed`` allows the next step (0 when flat out or already due)."""
        if self.speed is None:
            return 0.0
        return self.last_step_at + 1.0 / self.speed - time.monotonic()

    def step_starts(self) -> None:
        self.last_step_at = time.monotonic()


class BackgroundRun:
    """The background thread of one trainer, its stop and run (not paused) events, and the step
    it should stop at. Holds no reference to the trainer: each call is given it."""

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None
        self.stop_event = threading.Event()
        self.run_event = threading.Event()
        self.target_steps: int | None = None

    @property
    def is_running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, trainer: RunControls, steps: int | None) -> None:
        self.target_steps = None if steps is None else trainer.steps_done + int(steps)
        if self.is_running:
            self.resume(trainer)
            return
        self.stop_event, self.run_event = threading.Event(), threading.Event()
        stop, run = self.stop_event, self.run_event
        run.set()

        def wake_to_exit(_collected: weakref.ref[RunControls]) -> None:
            stop.set()  # the trainer is gone: wake a waiting (paused) thread, so it ends
            run.set()

        self.thread = threading.Thread(
            target=_training_loop,
            args=(weakref.ref(trainer, wake_to_exit), stop, run),
            name=f"micrograd-trainer-{id(trainer):x}",
            daemon=True,  # never keeps the interpreter alive
        )
        LIVE_TRAINERS.add(trainer)
        _install_interrupt_hooks()
        trainer._set_status("running", "")
        self.thread.start()

    def pause(self, trainer: RunControls) -> None:
        if not self.is_running:
            return
        self.run_event.clear()
        if threading.current_thread() is not self.thread:
            with trainer.lock:  # the step in flight holds the lock; wait for it
                pass
        trainer._set_status("paused")

    def resume(self, trainer: RunControls) -> None:
        if not self.is_running:
            self.start(trainer, None)
            return
        self.run_event.set()
        trainer._set_status("running")

    def stop(self, trainer: RunControls, timeout: float, reason: str) -> None:
        thread = self.thread
        self.signal_stop()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("micrograd-widgets: training thread still busy after %.1f s", timeout)
        # the thread marks itself stopped as it ends: the reason is still ours to give
        if thread is not None and (
            trainer.status in ("running", "paused") or (reason and trainer.status == "stopped")
        ):
            trainer._set_status("stopped", reason or None)
        self.thread = None if thread is None or not thread.is_alive() else thread

    def signal_stop(self) -> None:
        """Ask the thread to end after its step (safe from a signal handler)."""
        self.stop_event.set()
        self.run_event.set()  # wake a paused thread so it sees the stop

    def wait(self, timeout: float | None) -> bool:
        thread = self.thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()


def _training_loop(
    trainer_ref: weakref.ref[RunControls], stop: threading.Event, run: threading.Event
) -> None:
    """The background thread: holds the trainer only during a step, so it can be collected."""
    make_way_for_the_kernel()
    while not stop.is_set():
        if not run.wait(timeout=0.2) or stop.is_set():
            continue
        trainer = trainer_ref()
        if trainer is None:  # the trainer was garbage-collected: nothing left to train
            return
        wait = trainer._pace.until_next_step()
        if wait > 0:  # paced by trainer.speed: wait without holding the trainer, in short
            del trainer  # slices, so a new speed, a pause or a stop takes effect at once
            stop.wait(min(wait, PACE_SLICE_S))
            continue
        try:
            target = trainer._background.target_steps
            if target is not None and trainer.steps_done >= target:
                trainer._set_status("stopped")
                return
            trainer._pace.step_starts()
            trainer._step(only_while=run)  # skipped if paused while waiting for the lock
        except TrainingDiverged:
            return
        except Exception as exc:  # shown by the widgets; the thread ends cleanly
            log.exception("micrograd-widgets: training step failed")
            trainer._set_status("error", f"Training stopped: {type(exc).__name__}: {exc}")
            return
        finally:
            del trainer
        # hand the GIL to the kernel's thread between steps: a compiled step takes well under
        # a millisecond, and a thread that never waits would keep the kernel from answering
        time.sleep(0)
    trainer = trainer_ref()
    if trainer is not None and trainer.status in ("running", "paused"):
        trainer._set_status("stopped")  # e.g. stopped by a kernel interrupt


# ---- in the cell ---------------------------------------------------------------------------------


def run_in_cell(trainer: RunControls, steps: int) -> History:
    """:meth:`Trainer.run`'s loop: paced steps in the calling thread; an interrupt stops it
    between two steps, with one line saying where."""
    trainer._set_status("running", "")
    interrupted = _Interrupted()
    try:
        with _interrupts_between_steps(interrupted):
            for _ in range(int(steps)):
                wait = trainer._pace.until_next_step()
                while wait > 0 and not interrupted.is_set():  # paced by trainer.speed
                    time.sleep(min(wait, PACE_SLICE_S))
                    wait = trainer._pace.until_next_step()
                if interrupted.is_set():
                    raise KeyboardInterrupt
                trainer._pace.step_starts()
                trainer.step()
                if interrupted.is_set():
                    raise KeyboardInterrupt
    except TrainingDiverged:
        return trainer.history
    except KeyboardInterrupt:
        # one short line instead of a traceback into the engine's internals
        trainer._set_status("stopped")
        raise KeyboardInterrupt(_interrupt_message(trainer, interrupted)) from None
    except BaseException:
        trainer._set_status("stopped")
        raise
    trainer._set_status("stopped")
    return trainer.history


def _interrupt_message(trainer: RunControls, interrupted: _Interrupted) -> str:
    k = trainer.steps_done
    if interrupted.cut_short:
        return (
            f"Trainer.run interrupted twice, inside the step after step {k}: that step was "
            "cut short, so its update may be partly applied (reset() starts again)"
        )
    return (
        f"Trainer.run stopped after step {k}: the model is as after that step "
        "(run() or start() goes on from there)"
    )


class _Interrupted(threading.Event):
    """Set by the first interrupt (SIGINT) during :meth:`Trainer.run`; ``cut_short`` once a
    second one raised inside a step."""

    cut_short = False


@contextlib.contextmanager
def _interrupts_between_steps(interrupted: _Interrupted) -> Iterator[None]:
    """While training in the cell, an interrupt ("Interrupt kernel", Ctrl-C) lands between two
    steps: the first only sets the event and the step in flight finishes (so the model is as
    after a whole step); a second one raises at once, for a step that takes too long.

    Only in the main thread, and only over a Python-level SIGINT handler (as in IPython and
    ipykernel while a cell runs); elsewhere interrupts behave as usual.
    """
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if in_main else None
    if not callable(previous):
        yield
        return

    def on_sigint(signum: int, frame: Any) -> None:
        if interrupted.is_set():
            interrupted.cut_short = True
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        interrupted.set()

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# ---- clean shutdown: interpreter exit and kernel interrupts -----------------------------------

LIVE_TRAINERS: weakref.WeakSet[RunControls] = weakref.WeakSet()
_hooks_installed = False


def stop_all(timeout: float = 2.0) -> int:
    """Stop every trainer that trains in the background (in this kernel); returns how many.

    For trainers you lost the name of, e.g. after re-running cells:
    ``micrograd_widgets.stop_all()``. Each waits up to ``timeout`` seconds for its current step.
    """
    stopped = 0
    for trainer in list(LIVE_TRAINERS):
        if trainer.is_running:
            trainer.stop(timeout, reason="Stopped by stop_all().")
            stopped += 1
    return stopped


atexit.register(stop_all)


def _signal_stop_all() -> None:
    # from a signal handler: only flag the threads; they finish their step and exit
    for trainer in list(LIVE_TRAINERS):
        trainer._background.signal_stop()


def _install_interrupt_hooks() -> None:
    """Make "Interrupt kernel" stop background training (best effort; IPython/ipykernel only).

    During a cell, an interrupt raises KeyboardInterrupt there: a post_run_cell hook sees it.
    Between cells ipykernel ignores SIGINT, restoring ``kernel.saved_sigint_handler`` after each
    cell; chaining a handler there makes an idle-time interrupt stop training too.
    """
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def after_cell(result: Any) -> None:
        if isinstance(getattr(result, "error_in_exec", None), KeyboardInterrupt):
            stop_all()

    shell.events.register("post_run_cell", after_cell)
    kernel = getattr(shell, "kernel", None)
    if kernel is not None and hasattr(kernel, "saved_sigint_handler"):
        previous = kernel.saved_sigint_handler

        def on_sigint(signum: int, frame: Any) -> None:
            _signal_stop_all()
            if callable(previous):
                previous(signum, frame)

        kernel.saved_sigint_handler = on_sigint
