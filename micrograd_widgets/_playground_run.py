"""The Playground's run, apart from the widget: the Trainer a config builds, the points a
click edited (kept in the config as generated points removed and points drawn), the live
settings read back from the trainer, the step limit, and the notes on why a run no longer
matches its config from step 0 -- kept together for the widget by :class:`RunSettings`.

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
    check_config,
    choices,
    model_sizes,
    to_code,
    trainer_options,
)
from .nn import MLP
from .train import Trainer

__all__ = [
    "PointLedger",
    "RunNotes",
    "RunSettings",
    "build_trainer",
    "drawn_point",
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


def drawn_point(content: Mapping[str, Any]) -> list[float]:
    """The ``[x, y, label]`` of an ``add_point`` click on the draw-your-own pad, checked."""
    x, y, label = content.get("x"), content.get("y"), content.get("label")
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (x, y, label)):
        raise ValueError(f"add_point needs numeric x, y and label, got {content!r:.120}")
    return [float(x), float(y), float(label)]  # type: ignore[arg-type]


class RunSettings:
    """The config a Playground's run follows, kept true to its trainer, and what changed since
    step 0: a rate or speed set on the trainer (by the boundary's own lr box and speed menu, or
    code) and the points a click added or removed are taken into the config, so a rebuild keeps
    them; the notes say what :meth:`code` cannot replay from step 0.

    Bookkeeping on plain values (of a trainer it only reads and sets the rate and speed); the
    owner serialises the calls that change it (the Playground holds its lock).
    """

    def __init__(self, config: dict[str, Any]) -> None:
        #: the checked config (what ``pg.config`` returns a copy of)
        self.config = config
        self._points = PointLedger()  # the generated points of the config, by each rebuild
        self._notes = RunNotes()  # why the run no longer matches the config from step 0

    def replace(self, new: dict[str, Any]) -> set[str]:
        """Make the checked ``new`` the config; returns the keys whose value changed."""
        changed = {key for key in new if new[key] != self.config[key]}
        self.config = new
        return changed

    def restarted(self) -> None:
        """A new trainer of the config, at step 0: nothing to note; its generated points."""
        self._notes.clear()
        self._points = PointLedger(self.config)

    def reset(self) -> None:
        """The trainer went back to step 0 on the same data: nothing to note any more."""
        self._notes.clear()

    def set_live(self, trainer: Trainer, changed: set[str]) -> None:
        """Set the config's rate and speed (those in ``changed``) on the running ``trainer``."""
        options = trainer_options(self.config)
        if "lr" in changed:
            trainer.lr = options["lr"]
            self._notes.lr_changed(trainer.steps_done)
        if "speed" in changed:
            trainer.speed = options["speed"]

    def live_changes(self, trainer: Trainer) -> dict[str, Any]:
        """The config changes that take ``trainer``'s rate and speed in (:func:`live_changes`)."""
        return live_changes(self.config, trainer.lr, trainer.speed)

    def take_live(self, trainer: Trainer) -> None:
        """Take ``trainer``'s rate and speed into the config (what :meth:`live_changes` says)."""
        changes = self.live_changes(trainer)
        if "lr" in changes:
            self._notes.lr_changed(trainer.steps_done, when="by")
        if changes:
            self.config = check_config(changes, base=self.config)

    def take_points(self, X: np.ndarray, y: np.ndarray, steps_done: int) -> None:
        """Record the trainer's points ``X``, ``y`` (after a click added or removed one) in the
        config, as generated points removed and points drawn, so a rebuild keeps them."""
        self.config["drawn"], self.config["removed"] = self._points.edits(X, y)
        self._notes.points_changed(steps_done)

    def steps_left(self, steps_done: int) -> int | None:
        """Steps until the config's step limit (None: no limit; 0: reached)."""
        return steps_left(self.config, steps_done)

    def status(self, trainer: Trainer | None) -> tuple[int, str, str]:
        """The steps done, the status and the message to show for ``trainer`` (or none): the
        trainer's own, or that it reached the step limit."""
        if trainer is None:
            return 0, "idle", ""
        limit = limit_message(self.config, trainer.steps_done, trainer.status)
        return trainer.steps_done, trainer.status, limit or trainer.message

    def code(self, steps: int) -> str:
        """Python that reproduces the run for ``steps`` steps (see :func:`to_code`), with a
        comment for each change since step 0 it does not replay."""
        return to_code(self.config, steps, self._notes.said())
