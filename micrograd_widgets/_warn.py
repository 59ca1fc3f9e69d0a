"""Warnings that point at the user's line (their cell), not at the package's internals."""

from __future__ import annotations

import os
import sys
import threading
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def stacklevel_outside_package() -> int:
    """``warnings.warn``'s stacklevel, for the caller of this function, that points at the first
    frame outside this package: the user's cell, not train.py. Level 1 (the warning's own
    line) when no such frame calls in, as on the background training thread."""
    frame = sys._getframe(1)  # the function that calls warnings.warn: stacklevel 1
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE_DIR + os.sep
    ):
        frame = frame.f_back
        level += 1
    if frame is None or frame.f_code.co_filename == threading.__file__:
        return 1
    return level


def warn_user(message: str, category: type[Warning]) -> None:
    """``warnings.warn(message, category)`` at the first line outside this package."""
    warnings.warn(message, category, stacklevel=stacklevel_outside_package())
