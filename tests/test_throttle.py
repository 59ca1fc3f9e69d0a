"""_throttle: the frame rate limit shared by the training widgets."""

import logging
import math
import threading
import time

import pytest
from helpers import wait_for

from micrograd_widgets import _throttle
from micrograd_widgets._throttle import MAX_FPS, FrameThrottle, check_max_fps


def test_frame_throttle_limits_the_rate_and_sends_the_last_frame():
    sent = []
    throttle = FrameThrottle(lambda: sent.append(time.monotonic()), max_fps=20)
    started = time.monotonic()
    while time.monotonic() - started < 0.5:
        last_request = time.monotonic()
        throttle()
        time.sleep(0.001)
    wait_for(lambda: sent and sent[-1] >= last_request, timeout=1)  # the trailing frame
    assert len(sent) <= 0.5 * 20 + 2
    assert len(sent) >= 0.5 * 20 - 2  # and not much fewer: lateness does not pile up
    # any run of frames averages at most max_fps (one late frame may be followed by a closer one)
    assert (sent[-1] - sent[0]) / (len(sent) - 1) >= 1 / 20 - 0.002


def test_flush_sends_now_and_drops_the_pending_frame():
    sent = []
    throttle = FrameThrottle(lambda: sent.append(time.monotonic()), max_fps=10)
    throttle()  # the leading edge goes at once
    throttle()  # within the interval: a trailing frame is scheduled
    assert len(sent) == 1 and throttle.pending
    throttle.flush()
    assert len(sent) == 2 and not throttle.pending
    time.sleep(0.25)  # longer than the interval: the dropped trailing frame would have come
    assert len(sent) == 2 and throttle.sent == 2


def test_cancel_drops_the_pending_frame():
    sent = []
    throttle = FrameThrottle(lambda: sent.append(1), max_fps=10)
    throttle()
    throttle()
    throttle.cancel()
    time.sleep(0.25)
    assert sent == [1]


def test_a_failing_send_is_logged_and_later_frames_still_go(caplog):
    calls = []

    def send():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("comm closed")

    throttle = FrameThrottle(send, max_fps=30)
    with caplog.at_level(logging.ERROR, logger="micrograd_widgets"):
        throttle()
    assert "sending a frame failed" in caplog.text
    throttle()  # within the interval: sent by the timer
    wait_for(lambda: len(calls) == 2, timeout=1)


@pytest.mark.parametrize("bad", [0, -1, MAX_FPS + 1, math.nan, math.inf])
def test_max_fps_must_be_in_range(bad):
    with pytest.raises(ValueError, match=r"max_fps must be in \(0, 30\]"):
        check_max_fps(bad)
    with pytest.raises(ValueError, match="max_fps must be in"):
        FrameThrottle(lambda: None, bad)


def test_max_fps_at_the_limit_is_accepted():
    check_max_fps(MAX_FPS)
    assert FrameThrottle(lambda: None, MAX_FPS).interval == pytest.approx(1 / MAX_FPS)


def test_trailing_frames_share_one_worker_thread_that_ends_when_idle(monkeypatch):
    monkeypatch.setattr(_throttle, "IDLE_EXIT_S", 0.3)
    sent = []
    throttle = FrameThrottle(lambda: sent.append(time.monotonic()), max_fps=30)
    workers = set()
    started = time.monotonic()
    while time.monotonic() - started < 0.4:
        throttle()
        if throttle._worker is not None:
            workers.add(throttle._worker)
        time.sleep(0.002)
    assert len(sent) >= 8  # trailing frames went out...
    assert len(workers) == 1  # ...all from the one worker, not a thread per frame
    worker = workers.pop()
    wait_for(lambda: not worker.is_alive(), timeout=2)  # idle: the worker ends
    count = len(sent)
    throttle()
    throttle()  # a later trailing frame starts a worker again
    wait_for(lambda: len(sent) == count + 2, timeout=1)


def test_a_request_does_not_wait_for_a_frame_being_sent():
    release = threading.Event()
    sending = threading.Event()

    def slow_send():
        sending.set()
        release.wait(2)

    throttle = FrameThrottle(slow_send, max_fps=30)
    sender = threading.Thread(target=throttle.flush)
    sender.start()
    assert sending.wait(1)
    started = time.monotonic()
    throttle()  # the training thread asks for a frame while another one is computed
    assert time.monotonic() - started < 0.1 and throttle.pending
    release.set()
    sender.join(2)
    wait_for(lambda: throttle.sent == 2 and not throttle.pending, timeout=1)
