"""TrainerWidget: what the training widgets (DecisionBoundary, GradientHeatmap) share.

A training widget follows a :class:`~micrograd_widgets.train.Trainer`: after each of its events
the widget computes a frame of state in Python and sends it, throttled, to the view. This base
holds the parts that are the same for every such widget:

* a send lock and a :class:`~micrograd_widgets._throttle.FrameThrottle` around the subclass's
  ``_send_frame`` (at most ``max_fps`` frames a second reach the browser);
* the trainer subscription, every event handled under a guard: a failure goes to the widget's
  error banner and never stops training;
* one idempotent :meth:`TrainerWidget.close`: it unsubscribes, and stops the trainer only when
  no other open widget still shows it (widgets of one trainer are recorded here, per trainer);
* the ``step`` / ``status`` / ``message`` traits and curve downsampling (:func:`downsample_rows`).

A subclass validates its arguments, calls ``super().__init__(trainer, max_fps=..., **traits)``,
sets up its own state, sends its first frame and then calls :meth:`_follow_trainer`.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import traitlets

from ._throttle import FrameThrottle, check_max_fps
from ._widget import BaseWidget
from .train import Trainer, TrainerEvent

__all__ = ["MAX_CURVE_POINTS", "TrainerWidget", "downsample_rows"]

#: the most curve points sent per frame (long runs are downsampled to this)
MAX_CURVE_POINTS = 256

# trainer -> its open widgets: close() stops a trainer only when the last of them closes
_open_widgets: weakref.WeakKeyDictionary[Trainer, weakref.WeakSet[TrainerWidget]] = (
    weakref.WeakKeyDictionary()
)
_open_widgets_lock = threading.Lock()


def downsample_rows(rows: np.ndarray, limit: int) -> np.ndarray:
    """At most ``limit`` evenly spaced rows, always keeping the first and the last."""
    if len(rows) <= limit:
        return rows
    index = np.unique(np.linspace(0, len(rows) - 1, limit).round().astype(int))
    return rows[index]


class TrainerWidget(BaseWidget):
    """Base of the widgets that show a Trainer live; see the module docstring.

    ``trainer`` may be None for a widget that shows a bare model (it then never subscribes).
    """

    #: steps done at the last frame (for a bare model: how many times it was refreshed)
    step = traitlets.Int(0).tag(sync=True)
    #: the trainer's status: "idle", "running", "paused", "stopped", "diverged" or "error"
    status = traitlets.Unicode("idle").tag(sync=True)
    #: why training stopped on its own, e.g. divergence ("" = nothing to say)
    message = traitlets.Unicode("").tag(sync=True)

    def __init__(self, trainer: Trainer | None, *, max_fps: float = 30.0, **kwargs: Any) -> None:
        check_max_fps(max_fps)  # before the widget exists: a bad rate leaves no half-open widget
        super().__init__(**kwargs)
        self.trainer = trainer
        self._send_lock = threading.RLock()  # frames come from the training thread and the kernel's
        self._throttle = FrameThrottle(self._send_frame, max_fps)
        self._unsubscribe: Callable[[], None] | None = None

    def _send_frame(self) -> None:
        """Set the traits from the current state of the trainer (or model), in one message."""
        raise NotImplementedError

    def _handle_trainer_event(self, event: TrainerEvent) -> None:
        """React to one trainer event (a step, a status change, new data, a reset)."""
        raise NotImplementedError

    @property
    def frames_sent(self) -> int:
        """Frames sent to the browser so far (throttled)."""
        return self._throttle.sent

    def _follow_trainer(self) -> None:
        """Subscribe to the trainer's events and record this widget as showing it."""
        if self.trainer is None:
            return
        with _open_widgets_lock:
            _open_widgets.setdefault(self.trainer, weakref.WeakSet()).add(self)
        self._unsubscribe = self.trainer.observe(self._guarded_trainer_event)

    def _guarded_trainer_event(self, event: TrainerEvent) -> None:
        try:
            self._handle_trainer_event(event)
        except Exception as exc:  # never let a drawing problem stop training
            self._show_error("trainer event", exc)

    def close(self) -> None:
        """Close the widget: unsubscribe, and stop its trainer unless another open widget still
        shows it. Closing again does nothing more."""
        with _open_widgets_lock:
            unsubscribe = getattr(self, "_unsubscribe", None)
            self._unsubscribe = None
            others = _open_widgets.get(self.trainer) if unsubscribe is not None else None
            if others is not None:
                others.discard(self)
        if unsubscribe is not None:
            unsubscribe()
            self._throttle.cancel()
            if not others:
                self.trainer.stop()  # type: ignore[union-attr]  # subscribed, so not None
        super().close()
