"""Playground: TensorFlow Playground's lesson in one cell, composed of the library's widgets.

>>> from micrograd_widgets import Playground
>>> pg = Playground()                      # moons, MLP(2, [8, 8, 1]), SGD
>>> pg.update(dataset="spiral", hidden=[16, 16], activation="tanh")   # a new trainer, step 0
>>> pg.config = {**pg.config, "noise": 0.2}                         # the whole dict works too
>>> pg                                     # the widget: press play

``pg.config["dataset"]`` is then ``"spiral"``; ``print(pg.to_code())`` prints the Python that
reproduces the run.

One widget with the controls -- data (dataset, classes, noise, train/test split, regenerate, draw
your own), network (+/- layers and neurons), activation, loss, penalty, batch size, learning rate,
optimizer, speed, a step limit, play/pause/step/reset, copy as code -- and, inside it, a
:class:`~micrograd_widgets.boundary.DecisionBoundary` and a
:class:`~micrograd_widgets.heatmap.GradientHeatmap` of its :class:`~micrograd_widgets.train.Trainer`
(the view renders them with anywidget's ``host.getWidget``: JupyterLab, Notebook 7 and marimo).

Changing the data or the network builds a new Trainer (step 0, compiled engine) and new inner
widgets; the learning rate, speed and step limit apply to the running one. Points added or removed
by clicking the boundary are kept in the config (``drawn``, ``removed``) and survive every rebuild.

Lecturer mode: ``pg.config`` is a plain JSON-able dict that round-trips with the UI (set it and
the controls follow; use a control and it changes). ``Playground(config=..., hide=[...],
lock=[...])`` hides controls or shows them disabled; a bad key or value raises a
:class:`ConfigError` naming the key and the values allowed. :meth:`Playground.to_code` (and the
Copy as code button) gives the Python that reproduces the run with the library.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

import traitlets

from ._playground_config import (
    CONTROLS,
    DEFAULTS,
    HELP,
    LIVE_KEYS,
    MAX_LAYERS,
    MAX_NEURONS,
    ConfigError,
    apply_change,
    check_config,
    check_controls,
    check_unlocked,
    choices,
    model_sizes,
)
from ._playground_parts import PlaygroundParts, can_follow
from ._playground_run import RunSettings, drawn_point, nearest_drawn
from ._throttle import FrameThrottle
from ._widget import BaseWidget, asset, click_xy
from .boundary import DecisionBoundary
from .graph import GraphWidget
from .heatmap import GradientHeatmap
from .train import Trainer, TrainerEvent

__all__ = ["ConfigError", "Playground"]

#: the plane the empty "draw your own" pad shows, [xmin, xmax, ymin, ymax]
PAD_EXTENT = [-1.5, 1.5, -1.5, 1.5]


class Playground(BaseWidget):
    """Data, network and training controls around a live DecisionBoundary and GradientHeatmap.

    Args:
        config: settings to start from (keys left out take their defaults, see
            ``Playground.defaults()``).
        hide: controls not shown (names from ``Playground.controls``).
        lock: controls shown but disabled (the view refuses them too).
        max_fps: frames per second of the playground's own status, at most.
    """

    _esm = asset("playground.js")
    _css = asset("playground.css")

    #: the checked config (what ``pg.config`` returns)
    settings = traitlets.Dict({}).tag(sync=True)
    #: the values each select offers now (e.g. the losses for the number of classes)
    options = traitlets.Dict({}).tag(sync=True)
    #: one-line explanation of each control, shown on hover
    help = traitlets.Dict(HELP).tag(sync=True)
    hidden_controls = traitlets.List(traitlets.Unicode()).tag(sync=True)
    locked_controls = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: slot -> "anywidget:<model id>" of the inner widget shown there ("" = none)
    parts = traitlets.Dict({}).tag(sync=True)
    #: why there is no trainer yet ("" when there is one), e.g. too few drawn points
    problem = traitlets.Unicode("").tag(sync=True)
    #: the plane of the draw-your-own pad (shown while there is no trainer)
    pad_extent = traitlets.List(traitlets.Float(), PAD_EXTENT).tag(sync=True)
    #: steps done, the trainer's status and why it stopped (as the inner widgets say)
    step = traitlets.Int(0).tag(sync=True)
    status = traitlets.Unicode("idle").tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    #: the engine the trainer steps with ("compiled" or "scalar") and its last build time, ms
    engine = traitlets.Unicode("").tag(sync=True)
    build_ms = traitlets.Float(0.0).tag(sync=True)
    #: the network editor's limits, and whether a followed sample graph can be shown
    limits = traitlets.Dict({"layers": MAX_LAYERS, "neurons": MAX_NEURONS}).tag(sync=True)

    def __init__(
        self,
        config: dict[str, Any] | None = None,
        *,
        hide: list[str] | None = None,
        lock: list[str] | None = None,
        max_fps: float = 15.0,
        **kwargs: Any,
    ) -> None:
        checked = check_config({} if config is None else config)  # fail before any widget exists
        hidden = check_controls(hide, "hide")
        locked = check_controls(lock, "lock")
        limits = {"layers": MAX_LAYERS, "neurons": MAX_NEURONS, "graph": can_follow(GraphWidget)}
        super().__init__(hidden_controls=hidden, locked_controls=locked, limits=limits, **kwargs)
        self._lock = threading.RLock()
        self._throttle = FrameThrottle(self._send_status, max_fps)
        self._settings = RunSettings(checked)  # the config, kept true to the trainer
        self._parts = PlaygroundParts(  # the trainer and the inner widgets showing it
            self._on_trainer_event, DecisionBoundary, GradientHeatmap, GraphWidget
        )
        self._rebuild()

    # ---- public API ------------------------------------------------------------------------------

    @staticmethod
    def defaults() -> dict[str, Any]:
        """Every config key and its default."""
        return copy.deepcopy(DEFAULTS)

    controls = CONTROLS

    @property
    def trainer(self) -> Trainer | None:
        """The Trainer the playground runs (None while the data is not enough to train on)."""
        return self._parts.trainer

    @property
    def boundary(self) -> DecisionBoundary | None:
        return self._parts.boundary

    @property
    def heatmap(self) -> GradientHeatmap | None:
        return self._parts.heatmap

    @property
    def graph(self) -> GraphWidget | None:
        """The followed sample graph (with ``config["graph"]``, where GraphWidget can follow)."""
        return self._parts.graph

    @property
    def config(self) -> dict[str, Any]:
        """The settings, as a plain JSON-able dict (a copy: set ``pg.config`` to change them)."""
        self._read_back_live_settings()
        return copy.deepcopy(self._settings.config)

    @config.setter
    def config(self, value: dict[str, Any]) -> None:
        self._apply(check_config(value))

    def update(self, **changes: Any) -> None:
        """Change some settings, keeping the others: ``pg.update(noise=0.3, hidden=[4])``."""
        self._apply(check_config(changes, base=self._settings.config))

    def to_code(self) -> str:
        """Python that reproduces this run with the library: the same data (with the points
        drawn and removed), model, seeds and Trainer options, run for the steps done so far."""
        self._read_back_live_settings()
        with self._lock:
            return self._settings.code(self.trainer.steps_done if self.trainer is not None else 0)

    def close(self) -> None:
        """Close the playground, its inner widgets and stop its trainer."""
        if hasattr(self, "_parts"):  # not when __init__ refused its arguments
            self._drop_trainer()
        super().close()

    def _describe(self) -> str:
        c = self._settings.config
        return f"Playground ({c['dataset']}, MLP(2, {model_sizes(c)}), {c['optimizer']})"

    # ---- building ----------------------------------------------------------------------------

    def _apply(self, new: dict[str, Any]) -> None:
        with self._lock:
            old = self._settings.config
            changed = self._settings.replace(new)
            if changed - LIVE_KEYS or self.trainer is None:
                try:
                    self._rebuild()
                except Exception:  # e.g. a model the engine refuses: back to what worked
                    self._settings.replace(old)
                    self._rebuild()
                    raise
                return
            self._settings.set_live(self.trainer, changed)
            if "graph" in changed:
                self._show_graph()
            self._send_settings()
            self._throttle.flush()
            self._parts.refresh_views()

    def _rebuild(self) -> None:
        """A new Trainer and inner widgets for the config (or none, while the data is not
        enough to train on). The old ones are closed."""
        with self._lock:
            started = _now_ms()
            self._drop_trainer()
            self._settings.restarted()
            self._parts.build(self._settings.config)
            with self.hold_sync():
                self._show_graph()
                self.problem = self._parts.problem
                self.engine = "" if self.trainer is None else str(self.trainer.engine)
                self.build_ms = round(_now_ms() - started, 1)
                self._send_settings()
                self._send_status()

    def _show_graph(self) -> None:
        """Follow training sample 0 in a GraphWidget when the config asks for it, or drop it."""
        self._parts.show_graph(self._settings.config["graph"])
        self.parts = self._parts.refs()

    def _drop_trainer(self) -> None:
        with self._lock:
            self._parts.unsubscribe()
            self._throttle.cancel()
            self._parts.close()

    def _read_back_live_settings(self) -> None:
        """Take the rate and speed the trainer has now into the config: the boundary's own lr
        box and speed menu (or code) may have set them on the trainer."""
        trainer = self.trainer
        if trainer is not None and self._settings.live_changes(trainer):
            with self._lock:
                self._settings.take_live(trainer)
                self._send_settings()

    def _send_settings(self) -> None:
        with self.hold_sync():
            self.settings = copy.deepcopy(self._settings.config)
            self.options = choices(self._settings.config)

    def _send_status(self) -> None:
        trainer = self.trainer
        self._read_back_live_settings()
        with self.hold_sync():
            self.step, self.status, self.message = self._settings.status(trainer)

    # ---- trainer events ----------------------------------------------------------------------

    def _on_trainer_event(self, event: TrainerEvent) -> None:
        trainer = event.trainer
        if trainer is not self.trainer:
            return
        try:
            if event.kind == "step":
                if self._settings.steps_left(trainer.steps_done) == 0 and trainer.is_running:
                    trainer.stop()  # e.g. started from the boundary's own play button
                self._throttle()
            elif event.kind == "data":  # a click added or removed a point: keep it in the config
                with trainer.lock:
                    X, y = trainer.X.copy(), trainer.y.copy()
                with self._lock:
                    self._settings.take_points(X, y, trainer.steps_done)
                    self._send_settings()
                self._throttle()
            else:
                if event.kind == "reset":
                    self._settings.reset()
                self._throttle.flush()
        except Exception as exc:  # never stop training over the playground's status line
            self._show_error("trainer event", exc)

    # ---- messages from the view --------------------------------------------------------------

    def _on_set(self, content: dict, buffers: list[bytes]) -> None:
        key = content.get("key")
        if not isinstance(key, str):
            raise ConfigError(f"a set message needs a key, got {content!r:.120}")
        check_unlocked(key, self.locked_controls)
        try:
            self._apply(apply_change(self._settings.config, key, content.get("value")))
        finally:  # applied or refused: the controls show what Python holds
            self._send_settings()
            self.send({"type": "settled", "key": key})  # that box shows what Python holds

    def _on_regenerate(self, content: dict, buffers: list[bytes]) -> None:
        check_unlocked("regenerate", self.locked_controls)
        config = self._settings.config
        self._apply(apply_change(config, "data_seed", config["data_seed"] + 1))

    def _on_play(self, content: dict, buffers: list[bytes]) -> None:
        check_unlocked("play", self.locked_controls)
        trainer = self._parts.require_trainer()
        left = self._settings.steps_left(trainer.steps_done)
        if trainer.status == "diverged":
            self.message = trainer.message + " Press reset to start again."
        elif left == 0:
            self._throttle.flush()  # at the step limit: the status line says so
        else:
            trainer.start(left)

    def _on_pause(self, content: dict, buffers: list[bytes]) -> None:
        check_unlocked("pause", self.locked_controls)
        self._parts.require_trainer().pause()

    def _on_step(self, content: dict, buffers: list[bytes]) -> None:
        check_unlocked("step", self.locked_controls)
        trainer = self._parts.require_trainer()
        if trainer.status == "running":
            trainer.pause()
        if self._settings.steps_left(trainer.steps_done) == 0:
            self._throttle.flush()
            return
        trainer.step()

    def _on_reset(self, content: dict, buffers: list[bytes]) -> None:
        check_unlocked("reset", self.locked_controls)
        self._parts.require_trainer().reset()

    def _on_code(self, content: dict, buffers: list[bytes]) -> None:
        check_unlocked("code", self.locked_controls)
        self.send({"type": "code", "code": self.to_code()})

    def _on_add_point(self, content: dict, buffers: list[bytes]) -> None:
        """A click on the draw-your-own pad (shown while there is no trainer)."""
        check_unlocked("drawn", self.locked_controls)
        point = drawn_point(content)
        if self.trainer is not None:  # the boundary has the data now: add it there
            self.trainer.add_point(*point)
            return
        self.update(drawn=[*self._settings.config["drawn"], point])

    def _on_remove_point(self, content: dict, buffers: list[bytes]) -> None:
        check_unlocked("drawn", self.locked_controls)
        drawn = self._settings.config["drawn"]
        index = nearest_drawn(drawn, *click_xy("remove_point", content))
        if index is not None:
            self.update(drawn=drawn[:index] + drawn[index + 1 :])


def _now_ms() -> float:
    return time.perf_counter() * 1000
