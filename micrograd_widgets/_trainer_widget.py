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

Lifetime (the policy, also in the README): a widget whose views are all gone (its cell re-run or
cleared) drops its trainer subscription and computes nothing; a view attaching again
re-subscribes it and sends a fresh frame. A trainer nobody can see or reach stops: once one of
its widgets has been shown, when none of them has a live view any more and no name in the
notebook's namespace refers to it (see :func:`trainer_is_named`), it is stopped with a message
saying why. This is checked when a view detaches, when a widget closes and after every cell (a
re-run cell rebinds ``trainer`` only after the old views went). A trainer never shown in a
widget is not touched.

A subclass validates its arguments, calls ``super().__init__(trainer, max_fps=..., **traits)``,
sets up its own state, sends its first frame and then calls :meth:`_follow_trainer`.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import traitlets

from ._throttle import FrameThrottle, check_max_fps
from ._widget import BaseWidget
from .train import Trainer, TrainerEvent

__all__ = ["MAX_CURVE_POINTS", "TrainerWidget", "downsample_rows", "trainer_is_named"]

#: the most curve points sent per frame (long runs are downsampled to this)
MAX_CURVE_POINTS = 256

# trainer -> its open widgets: close() stops a trainer only when the last of them closes
_open_widgets: weakref.WeakKeyDictionary[Trainer, weakref.WeakSet[TrainerWidget]] = (
    weakref.WeakKeyDictionary()
)
_open_widgets_lock = threading.RLock()

#: why an unseen, unnamed trainer was stopped (its widgets show it if a view comes back)
ORPHAN_MESSAGE = (
    "Stopped: no view of this trainer's widgets is left and no name in the notebook refers to "
    "it (its cell was re-run or cleared). Call start() on it again to go on."
)
# names IPython binds to its own history (outputs, inputs), not the user's
_IPYTHON_HISTORY = re.compile(r"_+|_\d+|_i+|_i\d+|_[oid]h|In|Out")
#: containers longer than this are not searched for a trainer (the check runs after every cell)
MAX_SEARCHED_ITEMS = 10_000


def downsample_rows(rows: np.ndarray, limit: int) -> np.ndarray:
    """At most ``limit`` evenly spaced rows, always keeping the first and the last."""
    if len(rows) <= limit:
        return rows
    index = np.unique(np.linspace(0, len(rows) - 1, limit).round().astype(int))
    return rows[index]


def _user_namespace() -> dict[str, Any] | None:
    """The notebook's namespace (IPython's ``user_ns``), or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    shell = get_ipython()
    return None if shell is None else shell.user_ns


def _holds(value: object, target: object) -> bool:
    """``value`` is ``target``, holds it as an item (list, tuple, set, dict value), or has it as
    its ``.trainer`` attribute (read from the instance dict only: no property runs)."""
    if value is target:
        return True
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        items = value.values() if isinstance(value, dict) else value
        return len(value) <= MAX_SEARCHED_ITEMS and any(item is target for item in items)
    try:
        attributes = object.__getattribute__(value, "__dict__")
    except Exception:  # no instance dict (slots, builtins)
        return False
    return isinstance(attributes, dict) and attributes.get("trainer") is target


def trainer_is_named(trainer: Trainer, namespace: dict[str, Any] | None = None) -> bool:
    """True if a name in ``namespace`` (default: the notebook's) refers to ``trainer``: directly,
    inside a list/tuple/set/dict value, or as the ``.trainer`` of a named object.

    IPython's history names (``_``, ``_5``, ``Out``, ...) do not count. Outside IPython there is
    no namespace to look in, and the answer is True: nothing is stopped on a guess.
    """
    namespace = _user_namespace() if namespace is None else namespace
    if namespace is None:
        return True
    hidden = _hidden_names()
    for name, value in list(namespace.items()):
        if name in hidden or _IPYTHON_HISTORY.fullmatch(name):
            continue
        if _holds(value, trainer):
            return True
    return False


def _hidden_names() -> set[str]:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return set()
    shell = get_ipython()
    return set(getattr(shell, "user_ns_hidden", ()) or ())


def _stop_if_orphaned(trainer: Trainer) -> bool:
    """Stop ``trainer`` if it was shown, no widget of it has a live view, and no name refers to
    it; returns whether it was stopped."""
    if not trainer.is_running:
        return False
    with _open_widgets_lock:
        widgets = list(_open_widgets.get(trainer, ()))
    if not any(w.ever_viewed for w in widgets) or any(w.live_views for w in widgets):
        return False
    if trainer_is_named(trainer):
        return False
    trainer.stop(reason=ORPHAN_MESSAGE)
    return True


def _stop_orphans_after_cell(_result: object = None) -> None:
    """After every cell: the cell may have rebound the last name of a trainer nobody sees."""
    with _open_widgets_lock:
        trainers = list(_open_widgets.keys())
    for trainer in trainers:
        _stop_if_orphaned(trainer)


_after_cell_hook_installed = False


def _install_after_cell_hook() -> None:
    global _after_cell_hook_installed
    if _after_cell_hook_installed:
        return
    _after_cell_hook_installed = True
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is not None:
        shell.events.register("post_run_cell", _stop_orphans_after_cell)


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
    #: the trainer's ``link_id``: views with the same link share one timeline, hovered neuron and
    #: inspected sample in the page (js/shared/link.ts); "" for a bare model (linked to nothing)
    link = traitlets.Unicode("").tag(sync=True)

    def __init__(self, trainer: Trainer | None, *, max_fps: float = 30.0, **kwargs: Any) -> None:
        check_max_fps(max_fps)  # before the widget exists: a bad rate leaves no half-open widget
        if trainer is not None:
            kwargs.setdefault("link", trainer.link_id)
        super().__init__(**kwargs)
        self.trainer = trainer
        self._send_lock = threading.RLock()  # frames come from the training thread and the kernel's
        self._throttle = FrameThrottle(self._send_frame, max_fps)
        self._unsubscribe: Callable[[], None] | None = None
        self._open = False  # recorded in _open_widgets: between _follow_trainer and close

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

    @property
    def subscribed(self) -> bool:
        """True while the widget follows its trainer's events (it has a view, or never had one)."""
        return self._unsubscribe is not None

    def _follow_trainer(self) -> None:
        """Subscribe to the trainer's events and record this widget as showing it."""
        if self.trainer is None:
            return
        with _open_widgets_lock:
            _open_widgets.setdefault(self.trainer, weakref.WeakSet()).add(self)
            self._open = True
        _install_after_cell_hook()
        self._subscribe()

    def _subscribe(self) -> None:
        with _open_widgets_lock:
            if self._unsubscribe is None and self._open:
                self._unsubscribe = self.trainer.observe(self._guarded_trainer_event)  # type: ignore[union-attr]

    def _drop_subscription(self) -> None:
        with _open_widgets_lock:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
            self._throttle.cancel()

    def _views_changed(self, event: str) -> None:
        if self.trainer is None or not self._open:
            return
        if self.live_views:
            if not self.subscribed:
                self._subscribe()
                self._refresh_view()  # it missed every event while no view showed it
        else:  # the last view went: compute nothing until one comes back
            self._drop_subscription()
            _stop_if_orphaned(self.trainer)

    def _refresh_view(self) -> None:
        """Send everything the view shows, fresh (after a view attached again)."""
        self._throttle.flush()

    def _guarded_trainer_event(self, event: TrainerEvent) -> None:
        try:
            self._handle_trainer_event(event)
        except Exception as exc:  # never let a drawing problem stop training
            self._show_error("trainer event", exc)

    def close(self) -> None:
        """Close the widget: unsubscribe, and stop its trainer unless another open widget still
        shows it (or, if the others have no view left, unless a name still refers to it).
        Closing again does nothing more."""
        with _open_widgets_lock:
            was_open, self._open = getattr(self, "_open", False), False
            others = _open_widgets.get(self.trainer) if was_open else None
            if others is not None:
                others.discard(self)
        if was_open:
            self._drop_subscription()
            if not others:
                self.trainer.stop()  # type: ignore[union-attr]  # it was open, so not None
            else:
                _stop_if_orphaned(self.trainer)  # type: ignore[arg-type]
        super().close()
