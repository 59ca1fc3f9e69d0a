"""Frame throttling shared by the training widgets: at most ``max_fps`` frames a second.

Training may step hundreds of times a second; the browser needs a frame only now and then, and
jupyter_server drops messages past 1000 a second. A widget hands its ``send`` to a
:class:`FrameThrottle` and asks for a frame after every change; the throttle sends the first at
once and the latest one after a short wait, so the view is never stale and never flooded.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from ._threads import make_way_for_the_kernel

__all__ = ["IDLE_EXIT_S", "MAX_FPS", "FrameThrottle", "check_max_fps"]

log = logging.getLogger("micrograd_widgets")


#: the most frames per second any widget sends to the browser
MAX_FPS = 30
#: a throttle's worker thread ends after this many seconds without a trailing frame to send
IDLE_EXIT_S = 2.0


def check_max_fps(max_fps: float) -> None:
    """Widgets call this before they are built, so a bad rate never leaves half a widget open."""
    if not 0 < max_fps <= MAX_FPS:
        raise ValueError(f"max_fps must be in (0, {MAX_FPS}], got {max_fps!r}")


class FrameThrottle:
    """Rate-limit a widget's ``send()`` to ``max_fps``: leading edge at once, the last one later.

    However fast training steps, at most ``max_fps`` frames per second go to the browser, and the
    latest state is always sent in the end (by a trailing frame), so a paused view is never stale.
    Calls are serialized, so frames from the training thread and the kernel's thread never mix.

    Trailing frames are sent by one worker thread per throttle, started when first needed and
    ended after IDLE_EXIT_S without requests: a thread per trailing frame (``threading.Timer``)
    cost ~0.7 ms per call at a few dozen frames a second.
    """

    def __init__(self, send: Callable[[], None], max_fps: float = 30.0) -> None:
        check_max_fps(max_fps)
        self._send = send
        self.interval = 1.0 / max_fps
        # _lock guards the bookkeeping only; _sending serializes the sends themselves, so a
        # request from the training thread never waits for a frame another thread computes
        self._lock = threading.RLock()
        self._sending = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._last = -math.inf
        self._due: float | None = None  # when the pending trailing frame is due; None: none
        self._worker: threading.Thread | None = None
        self.sent = 0

    @property
    def pending(self) -> bool:
        """True while a trailing frame waits to be sent."""
        return self._due is not None

    def __call__(self) -> None:
        """Ask for a frame of the current state."""
        with self._lock:
            if self._due is not None:
                return  # the pending trailing frame will show this state too
            due = self._last + self.interval
            if due > time.monotonic():
                self._due = due
                if self._worker is None:
                    self._worker = threading.Thread(
                        target=self._send_trailing_frames, name="mgw-frame-throttle", daemon=True
                    )
                    self._worker.start()
                else:
                    self._wake.notify()
                return
            self._count_frame(time.monotonic())
        self._emit()

    def _send_trailing_frames(self) -> None:
        make_way_for_the_kernel()
        while True:
            with self._lock:
                if not self._wait_for_due_frame():
                    self._worker = None  # nothing asked for a while: a request starts another
                    return
            self._emit()

    def _wait_for_due_frame(self) -> bool:
        """Wait (lock held) until the trailing frame is due and count it; False after
        IDLE_EXIT_S with none asked for."""
        while True:
            if self._due is None:
                self._wake.wait(IDLE_EXIT_S)
                if self._due is None:
                    return False
                continue
            now = time.monotonic()
            if self._due > now:
                self._wake.wait(self._due - now)  # woken early by cancel(): look again
                continue
            due, self._due = self._due, None
            # count from when the frame was due, not from when the (busy) interpreter let this
            # thread run: lateness then does not pile up, and frames still average <= max_fps
            self._count_frame(due if now - due < self.interval else now)
            return True

    def _count_frame(self, at: float) -> None:
        self._last = at
        self.sent += 1

    def _emit(self) -> None:
        with self._sending:
            try:
                self._send()
            except Exception:
                log.exception("micrograd-widgets: sending a frame failed")

    def flush(self) -> None:
        """Send now (and drop a pending trailing frame): for state changes such as pause."""
        with self._lock:
            self.cancel()
            self._count_frame(time.monotonic())
        self._emit()

    def cancel(self) -> None:
        """Drop the pending trailing frame, if any."""
        with self._lock:
            if self._due is not None:
                self._due = None
                self._wake.notify()
