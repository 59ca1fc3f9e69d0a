"""RunControls on its own: the run's status, observers, pace and controls, with a step that only
counts (no model, no engine), so what is tested is the base a Trainer is built on."""

from __future__ import annotations

import threading
import time

import pytest

from micrograd_widgets._run_controls import RunControls, TrainerEvent
from micrograd_widgets.train import TrainingDiverged


class Counter(RunControls):
    """The smallest run: each step appends its number to the history."""

    model = None  # (stop_older_trainers compares models of live runs)

    def __init__(self, speed: float | str | None = None, fail_at: int | None = None) -> None:
        super().__init__(speed)
        self.history = []  # type: ignore[assignment]
        self.fail_at = fail_at

    def _step(self, only_while: threading.Event | None = None) -> dict[str, float] | None:
        with self.lock:
            if only_while is not None and not only_while.is_set():
                return None
            if self.steps_done == self.fail_at:
                raise ZeroDivisionError("a broken step")
            record = {"step": float(self.steps_done)}
            self.history.append(record)
            self.steps_done += 1
        self._notify("step", record)
        return record


@pytest.fixture
def events():
    return []


def watched(run: Counter, events: list[TrainerEvent]) -> Counter:
    run.observe(events.append)
    return run


def test_run_steps_in_the_cell_and_tells_every_observer(events):
    run = watched(Counter(), events)
    assert run.status == "idle" and not run.is_running
    history = run.run(5)
    assert [r["step"] for r in history] == [0, 1, 2, 3, 4]
    assert run.steps_done == 5 and run.status == "stopped"
    kinds = [e.kind for e in events]
    assert kinds.count("step") == 5 and kinds[0] == "status" and kinds[-1] == "status"
    assert all(e.trainer is run for e in events)
    assert run.step() == {"step": 5.0}  # one more, outside any run


def test_start_with_a_step_count_trains_that_many_in_the_background():
    run = Counter()
    run.start(7)
    assert run.wait(10)
    assert run.steps_done == 7 and run.status == "stopped" and not run.is_running
    run.start(3)  # "steps more", counted from where it is
    assert run.wait(10) and run.steps_done == 10


def test_no_step_lands_after_pause_returns_and_resume_goes_on(events):
    run = watched(Counter(speed=200), events)
    run.start()
    deadline = time.monotonic() + 10
    while run.steps_done < 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    run.pause()
    paused_at = run.steps_done
    time.sleep(0.15)
    assert run.steps_done == paused_at and run.status == "paused" and run.is_running
    run.resume()
    while run.steps_done < paused_at + 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    run.stop(reason="enough")
    assert run.status == "stopped" and run.message == "enough" and not run.is_running
    statuses = [e.trainer.status for e in events if e.kind == "status"]
    assert statuses[-1] == "stopped"


def test_speed_paces_a_run_and_is_checked():
    run = Counter(speed=20)
    started = time.monotonic()
    run.run(5)
    assert time.monotonic() - started >= 4 / 20 - 0.01  # four waits of 1/20 s between five steps
    run.speed = "max"
    assert run.speed is None
    with pytest.raises(ValueError, match="speed must be"):
        run.speed = -1
    with pytest.raises(ValueError, match="speed must be"):
        Counter(speed="fast")


def test_bad_counts_and_a_diverged_run_are_refused_with_a_reason():
    run = Counter()
    with pytest.raises(ValueError, match="steps must be a non-negative integer"):
        run.run(-1)
    with pytest.raises(ValueError, match="positive int"):
        run.start(0)
    run.status, run.message = "diverged", "the loss is NaN"
    assert run.diverged
    with pytest.raises(TrainingDiverged, match=r"the loss is NaN \(call reset"):
        run.run(1)
    with pytest.raises(TrainingDiverged, match="the loss is NaN"):
        run.start()


def test_a_step_that_fails_in_the_background_ends_the_run_and_says_why():
    run = Counter(fail_at=2)
    run.start()
    assert run.wait(10)
    assert run.status == "error" and run.steps_done == 2
    assert run.message == "Training stopped: ZeroDivisionError: a broken step"


def test_unsubscribed_observers_hear_nothing_more(events):
    run = Counter()
    unsubscribe = run.observe(events.append)
    run.step()
    unsubscribe()
    run.step()
    assert [e.kind for e in events] == ["step"]
