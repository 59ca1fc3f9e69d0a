"""Helpers shared by the unit tests (the browser tests have theirs in tests/browser/lab_harness)."""

from __future__ import annotations

import time
from collections.abc import Callable

from micrograd_widgets import Value


def lecture_expression() -> Value:
    """L = (a*b + c) * f with a, b, c, f = 2, -3, 10, -2, labelled like the lecture."""
    a, b, c, f = (Value(x, label=n) for x, n in ((2.0, "a"), (-3.0, "b"), (10.0, "c"), (-2.0, "f")))
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return L


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Return once ``condition()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)
