"""Our worker threads make way for the kernel's thread: lower priority, theirs alone."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from micrograd_widgets import MLP, Trainer, _threads, datasets
from micrograd_widgets._throttle import FrameThrottle

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="a thread's own nice value")


def nice_of(native_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, native_id)


@linux_only
def test_the_training_thread_runs_below_the_kernel_and_the_caller_is_untouched():
    main_before = nice_of(threading.get_native_id())
    trainer = Trainer(MLP(2, [4, 1], seed=0), datasets.moons(32, seed=0), lr=0.05, speed=50)
    trainer.start()
    try:
        thread = trainer._background.thread
        assert thread is not None
        deadline = 200
        while trainer.steps_done < 2 and deadline:  # the thread has set its priority by then
            threading.Event().wait(0.01)
            deadline -= 1
        assert nice_of(thread.native_id) == max(main_before, _threads.WORKER_NICE)
    finally:
        trainer.stop()
    assert nice_of(threading.get_native_id()) == main_before


@linux_only
def test_the_frame_throttles_worker_runs_below_the_kernel():
    seen: list[int] = []
    throttle = FrameThrottle(lambda: seen.append(nice_of(threading.get_native_id())), max_fps=20)
    throttle()  # sent at once, on this thread
    throttle()  # too soon: the worker thread sends it
    deadline = 200
    while len(seen) < 2 and deadline:
        threading.Event().wait(0.01)
        deadline -= 1
    main = nice_of(threading.get_native_id())
    assert seen[0] == main
    assert seen[-1] == max(main, _threads.WORKER_NICE)


def test_nothing_is_raised_where_priorities_cannot_be_changed(monkeypatch):
    def refuse(*_args):
        raise PermissionError("not here")

    monkeypatch.setattr(os, "setpriority", refuse)
    done = []
    worker = threading.Thread(target=lambda: (_threads.make_way_for_the_kernel(), done.append(1)))
    worker.start()
    worker.join()
    assert done == [1]
