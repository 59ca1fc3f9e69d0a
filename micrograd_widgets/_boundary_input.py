"""What comes into a DecisionBoundary, checked apart from it: its integer options and the
view's click messages (plain values in, plain values or a clear error out; no widget imports)."""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "INT_OPTIONS",
    "check_options",
    "click_label",
    "lr_value",
    "removal_radius",
    "selected_index",
]

#: DecisionBoundary's integer options and their allowed ranges (inclusive)
INT_OPTIONS = {
    "resolution": (2, 1000),
    "record_every": (1, 10**6),
    "max_recorded": (2, 10_000),
    "recording_resolution": (2, 200),
    "neuron_resolution": (2, 100),
}


def check_options(neurons: object, **integers: object) -> None:
    """Raise ValueError naming the first integer option out of its INT_OPTIONS range (in the
    order given), then a ``neurons`` that is not a bool."""
    for name, value in integers.items():
        low, high = INT_OPTIONS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    if not isinstance(neurons, bool):
        raise ValueError(f"neurons must be True or False, got {neurons!r}")


def click_label(label: Any, classes: int, label_values: Any = None) -> Any:
    """The label an ``add_point`` click gives the trainer. k classes (``classes`` ≥ 2): the view
    sends a class number in 0..k-1, given in the trainer's convention (``label_values[label]``
    when it has them: -1 / +1 for 2 outputs on binary data). One score: -1 / +1 as ints, anything
    else as sent (the trainer refuses it)."""
    if not classes:
        return int(label) if label in (-1, 1) else label
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < classes:
        raise ValueError(f"add_point needs a class label in 0..{classes - 1}, got {label!r}")
    return float(label_values[label]) if label_values is not None else label


def lr_value(value: Any) -> float | None:
    """The rate a ``set_lr`` message asks for: None (empty box: the default schedule) or a
    number (the trainer checks its range); a clear error for anything else."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"learning rate must be a number > 0, got {value!r}") from None


def selected_index(index: Any) -> int:
    """The point a ``select`` message picks: its index, or -1 for none (null)."""
    if index is None:
        return -1
    if isinstance(index, bool) or not isinstance(index, int):
        raise ValueError(f"select needs an integer point index or null, got {index!r}")
    return index


def removal_radius(extent: list[float]) -> float:
    """How near a remove click must be to a point: about a point's size on screen."""
    xmin, xmax, ymin, ymax = extent
    return 0.04 * math.hypot(xmax - xmin, ymax - ymin)
