"""_throttle: the frame rate limit shared by the training widgets."""

import logging
import math
import time

import pytest
from helpers import wait_for

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
    assert len(sent) == 1 and throttle._timer is not None
    throttle.flush()
    assert len(sent) == 2 and throttle._timer is None
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
