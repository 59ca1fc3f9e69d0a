"""The package's own threads (training, trailing frames, a followed graph's refresh) make way
for the kernel.

A kernel answers a cell on its main thread; when every core is busy -- training flat out, frames
being built, the browser drawing them -- that thread waits its turn like any other. Our worker
threads lower their own CPU priority (on Linux a thread's nice value is its own), so the
scheduler runs the kernel's thread and the browser first and gives the workers what is left. On
an idle machine they still get a whole core: nothing is slowed down but the competition.
"""

from __future__ import annotations

import os
import sys
import threading

#: the nice value our worker threads take (0 = as the kernel; higher = they yield more)
WORKER_NICE = 10


def make_way_for_the_kernel() -> None:
    """Lower the calling thread's CPU priority to :data:`WORKER_NICE` (Linux only; elsewhere a
    process-wide nice value would slow the kernel too, so nothing is done)."""
    if sys.platform != "linux" or WORKER_NICE <= 0:
        return
    try:
        thread = threading.get_native_id()
        now = os.getpriority(os.PRIO_PROCESS, thread)
        if now < WORKER_NICE:  # (never raise it back: an unprivileged process cannot)
            os.setpriority(os.PRIO_PROCESS, thread, WORKER_NICE)
    except (OSError, AttributeError):  # not allowed here (a sandbox): run as we are
        pass
