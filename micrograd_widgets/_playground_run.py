"""The Playground's run, apart from the widget: the Trainer a config builds, the points a
click edited (kept in the config as generated points removed and points drawn), the live
settings read back from the trainer, the step limit, and the notes on why a run no longer
matches its config from step 0.

Pure bookkeeping on plain values (the trainer built here is only constructed, not started):
no widget, no thread, tested without a browser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._playground_config import (
    PlaygroundData,
    build_data,
    choices,
    model_sizes,
    trainer_options,
)
from .nn import MLP
from .train import Trainer

__all__ = [
    "PointLedger",
    "RunNotes",
    "build_trainer",
    "limit_message",
    "live_changes",
    "nearest_drawn",
    "steps_left",
]

#: how near (in plane units) a click must be to a drawn point to remove it
REMOVE_RADIUS = 0.1


def build_trainer(config: Mapping[str, Any], data: PlaygroundData) -> Trainer:
    """A new Trainer (step 0) of the config's model and options on ``data``."""
    model = MLP(2, model_sizes(config), activation=config["activation"], seed=config["model_seed"])
    return Trainer(
        model, data.X, data.y, X_test=data.X_test, y_test=data.y_test, **trainer_options(config)
    )


class PointLedger:
    """Which of a config's generated training points a trainer still has, and which it has
    that were drawn: the trainer's points as the config's ``removed`` and ``drawn``."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        generated = [] if config is None else self.generated_points(config)
        self._index = {point: i for i, point in enumerate(generated)}

    @staticmethod
    def generated_points(config: Mapping[str, Any]) -> list[tuple[float, float, float]]:
        """The generated training points (before removals), as (x, y, label) rows."""
        if config["dataset"] == "draw":
            return []
        data = build_data({**config, "removed": [], "drawn": []})
        return [(float(x), float(y), float(lab)) for (x, y), lab in zip(data.X, data.y)]

    def edits(self, X: np.ndarray, y: np.ndarray) -> tuple[list[list[float]], list[int]]:
        """``(drawn, removed)`` for training points ``X``, ``y``: rows that are not a generated
        point (or repeat one) were drawn; generated points missing from them were removed."""
        present: set[int] = set()
        drawn = []
        for (px, py), label in zip(X, y):
            index = self._index.get((float(px), float(py), float(label)))
            if index is None or index in present:
                drawn.append([float(px), float(py), float(label)])
            else:
                present.add(index)
        return drawn, [i for i in range(len(self._index)) if i not in present]


class RunNotes:
    """Why the run no longer matches its config from step 0 (one note per cause), for
    ``to_code``: the first time each cause happened after step 0 is what is said."""

    def __init__(self) -> None:
        self._notes: dict[str, str] = {}

    def lr_changed(self, step: int, *, when: str = "at") -> None:
        if step:
            self._notes.setdefault(
                "lr",
                f"the learning rate was changed {when} step {step}; this code uses the last one "
                "from step 0",
            )

    def points_changed(self, step: int) -> None:
        if step:
            self._notes.setdefault(
                "points",
                f"the points changed at step {step}; this code trains on the last ones from step 0",
            )

    def clear(self) -> None:
        self._notes = {}

    def said(self) -> tuple[str, ...]:
        return tuple(self._notes.values())


def live_changes(config: Mapping[str, Any], lr: Any, speed: float | None) -> dict[str, Any]:
    """The config changes that take a trainer's current ``lr`` and ``speed`` into ``config``
    (the boundary's own lr box and speed menu, or code, may have set them on the trainer).
    A callable rate and a speed the playground does not offer stay out."""
    lr = "schedule" if lr is None else lr
    live_speed: Any = "max" if speed is None else speed
    if live_speed != "max" and float(live_speed).is_integer():
        live_speed = int(live_speed)
    changes: dict[str, Any] = {}
    if not callable(lr) and lr != config["lr"]:
        changes["lr"] = lr
    if live_speed != config["speed"] and live_speed in choices(config)["speed"]:
        changes["speed"] = live_speed
    return changes


def steps_left(config: Mapping[str, Any], steps_done: int) -> int | None:
    """Steps until the config's step limit (None: no limit; 0: reached)."""
    limit = config["max_steps"]
    return None if limit is None else max(0, limit - steps_done)


def limit_message(config: Mapping[str, Any], steps_done: int, status: str) -> str:
    """What to say when a stopped trainer is at the step limit ("" otherwise)."""
    if steps_left(config, steps_done) == 0 and status != "running":
        return f"Reached the step limit ({config['max_steps']}): raise it or reset."
    return ""


def nearest_drawn(drawn: list, x: float, y: float) -> int | None:
    """The index of the drawn point a click at (x, y) removes: the nearest, if within
    :data:`REMOVE_RADIUS` (None otherwise)."""
    if not drawn:
        return None
    distances = [math.hypot(px - x, py - y) for px, py, _ in drawn]
    index = int(np.argmin(distances))
    return index if distances[index] <= REMOVE_RADIUS else None
