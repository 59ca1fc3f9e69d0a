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

__all__ = ["MAX_FPS", "FrameThrottle", "check_max_fps"]

log = logging.getLogger("micrograd_widgets")


#: the most frames per second any widget sends to the browser
MAX_FPS = 30


def check_max_fps(max_fps: float) -> None:
    """Widgets call this before they are built, so a bad rate never leaves half a widget open."""
    if not 0 < max_fps <= MAX_FPS:
        raise ValueError(f"max_fps must be in (0, {MAX_FPS}], got {max_fps!r}")


class FrameThrottle:
    """Rate-limit a widget's ``send()`` to ``max_fps``: leading edge at once, the last one later.

    However fast training steps, at most ``max_fps`` frames per second go to the browser, and the
    latest state is always sent in the end (by a short timer), so a paused view is never stale.
    Calls are serialized, so frames from the training thread and the kernel's thread never mix.
    """

    def __init__(self, send: Callable[[], None], max_fps: float = 30.0) -> None:
        check_max_fps(max_fps)
        self._send = send
        self.interval = 1.0 / max_fps
        self._lock = threading.RLock()
        self._last = -math.inf
        self._timer: threading.Timer | None = None
        self.sent = 0

    def __call__(self) -> None:
        """Ask for a frame of the current state."""
        with self._lock:
            wait = self._last + self.interval - time.monotonic()
            if wait <= 0 and self._timer is None:
                self._emit()
            elif self._timer is None:
                due = self._last + self.interval
                self._timer = threading.Timer(max(wait, 0.0), self._on_timer, (due,))
                self._timer.daemon = True
                self._timer.start()

    def _on_timer(self, due: float) -> None:
        with self._lock:
            self._timer = None
            # count from when the frame was due, not from when the (busy) interpreter let the
            # timer run: lateness then does not pile up, and frames still average <= max_fps
            now = time.monotonic()
            self._emit(due if now - due < self.interval else now)

    def _emit(self, at: float | None = None) -> None:
        self._last = time.monotonic() if at is None else at
        self.sent += 1
        try:
            self._send()
        except Exception:
            log.exception("micrograd-widgets: sending a frame failed")

    def flush(self) -> None:
        """Send now (and drop a pending trailing frame): for state changes such as pause."""
        with self._lock:
            self.cancel()
            self._emit()

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
