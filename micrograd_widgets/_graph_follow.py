"""Following one training sample of a Trainer for a GraphWidget (:meth:`GraphWidget.follow`).

:class:`Following` owns everything a followed graph needs besides its traits: the sample's loss
graph built on a private copy of the model (:class:`SampleSource`), the trainer subscription, the
recorded weights (:class:`~micrograd_widgets._graph_summary.WeightRecording`) and their graph
numbers, and the refresh thread that rebuilds the graph after training steps. It holds no
reference to the widget: the thread calls the widget's pass through a weak method, and the widget
turns what this computes into traits.
"""

from __future__ import annotations

import copy
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._graph_state import check_whole
from ._graph_summary import (
    GraphIndex,
    GraphSummary,
    WeightRecording,
    same_structure,
    sample_loss_graph,
)
from ._threads import make_way_for_the_kernel
from ._throttle import check_max_fps
from .engine import Value, backward_through
from .nn import Module
from .train import Trainer, TrainerEvent

__all__ = ["FOLLOW_FPS", "Following", "SampleSource", "complete_note", "innermost_scopes"]

#: while training runs, the recording is synced to the view at most this often (seconds)
RECORDING_SYNC_S = 2.0
#: recorded frames whose numbers are worked out per pass of the refresh thread, while training
#: runs and while it does not
FRAMES_PER_PASS_RUNNING, FRAMES_PER_PASS_IDLE = 1, 20
#: after a pass that took w seconds the refresh thread rests at least this many times w: it uses
#: at most a ninth of a core, so training (on its own thread, sharing the GIL) keeps its pace
REST_FACTOR = 8.0
#: refreshes of a followed graph per second at most (the frame budget)
FOLLOW_FPS = 10.0


class Following:
    """One followed sample of a trainer: its source, recording, refresh thread and timings.

    Made by :meth:`GraphWidget.follow` (which checks the arguments in this order: ``max_fps``,
    ``record_every``, ``max_recorded``, the trainer, the sample); :meth:`start` subscribes to the
    trainer and starts the thread, :meth:`stop` ends both.
    """

    def __init__(
        self,
        trainer: Trainer,
        sample: object,
        max_fps: float,
        record_every: object,
        max_recorded: object,
    ) -> None:
        check_max_fps(max_fps)
        every = check_whole("record_every", record_every, 1, None, "steps between frames")
        frames = check_whole("max_recorded", max_recorded, 2, 10_000, "frames kept")
        self.source = SampleSource(trainer)
        #: the sample followed first
        self.first = self.source.check(sample)
        self.interval = 1.0 / max_fps
        self.recording = WeightRecording(frames, every)
        #: how long the last refreshes took, in ms (build, backward, send)
        self.refresh_ms: deque[float] = deque(maxlen=500)
        #: the live graph changed since the replay was last sent
        self.replay_stale = False
        self.wake, self.stop_event = threading.Event(), threading.Event()
        self._waker = _Waker(self.wake, self.recording)
        self._recording_synced_at = 0.0
        self._unsynced_frames = False
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def trainer(self) -> Trainer:
        return self.source.trainer

    @property
    def running(self) -> bool:
        return self.source.trainer.status == "running"

    def first_graph(self) -> tuple[Value, dict[str, Any]]:
        """The first sample's loss graph with its grads, its weights the recording's first frame."""
        root, info = self.source.build(self.first)
        root.backward()
        self.recording.add(info["step"], [p.data for p in self.source.params])
        return root, info

    def start(self, background_pass: Callable[[], None], name: str) -> None:
        """Watch the trainer; call ``background_pass`` (a bound method, held weakly) on a thread
        called ``name`` when a step lands, at most once per ``interval``."""
        self._unsubscribe = self.trainer.observe(self._waker)
        self.wake.set()  # the first recorded frame's numbers
        threading.Thread(
            target=_refresh_loop,
            args=(weakref.WeakMethod(background_pass), self.wake, self.stop_event, self.interval),
            name=name,
            daemon=True,
        ).start()

    def stop(self) -> None:
        """No longer watch the trainer (training goes on); the refresh thread ends."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.stop_event.set()
        self.wake.set()

    def take_changes(self) -> bool:
        """Start the recording again if the trainer was reset; True if the live graph needs a
        rebuild (the weights or the data changed)."""
        waker = self._waker
        if waker.reset:
            waker.reset = False
            self.recording.clear()
            self.recording.add(self.trainer.steps_done, self.source.read_weights())
        dirty, waker.dirty = waker.dirty, False
        return dirty

    def rebuild(self, live: Sequence[Value], sample: int) -> tuple[Value | None, dict[str, Any]]:
        """The sample's graph at the current weights: copied into ``live`` (the shown graph's
        values) when it has the same structure (None returned), else the new root to show."""
        root, info = self.source.build(sample)
        values = root.topological_order()
        _backward_in_order(values)
        self.replay_stale = True
        if not same_structure(live, values):
            return root, info  # e.g. a loss that branches on the score: lay the new graph out
        # the same graph with new numbers: keep the layout, copy the numbers over
        for old, new in zip(live, values):
            old.data, old._da, old._db, old.grad = new.data, new._da, new._db, new.grad
        return None, info

    def record_frames(self, live: Sequence[Value], sample: int) -> tuple[bool, bool]:
        """Work out some recorded frames' numbers (more later: the thread is woken again);
        return (sync the recording now, send the replay now)."""
        waker, running = self._waker, self.running
        per_pass = FRAMES_PER_PASS_RUNNING if running else FRAMES_PER_PASS_IDLE
        missing = self.recording.missing()
        for step, weights in missing[:per_pass]:
            self.record_frame(step, weights, live, sample)
        if len(missing) > per_pass:
            self.wake.set()  # more to do: come back after the rest
        due = time.monotonic() - self._recording_synced_at > RECORDING_SYNC_S
        sync = (self._unsynced_frames and (due or not running)) or (
            not running and waker.status_changed
        )
        # training stopped: the graph's backward pass, for no kernel
        replay = not running and (waker.status_changed or self.replay_stale)
        waker.status_changed = False
        return sync, replay

    def record_all(self, live: Sequence[Value], sample: int) -> None:
        """Work out every recorded frame's numbers still missing."""
        for step, weights in self.recording.missing():
            self.record_frame(step, weights, live, sample)

    def record_frame(
        self, step: int, weights: np.ndarray, live: Sequence[Value], sample: int
    ) -> None:
        """The sample's graph numbers at recorded weights (NaN if its graph differs from
        ``live``). Call it under the graph's lock: the live graph's leaves are the private
        model's parameters, put back after."""
        params = self.source.params
        saved = [(p.data, p.grad) for p in params]
        try:
            root, _info = self.source.build(sample, weights)
            values = root.topological_order()
            _backward_in_order(values)
            n = len(values)
            if same_structure(live, values):
                data = np.fromiter((v.data for v in values), np.float64, n)
                grad = np.fromiter((v.grad for v in values), np.float64, n)
            else:
                data = grad = np.full(len(live), np.nan)
        finally:
            for p, (d, g) in zip(params, saved):
                p.data, p.grad = d, g
        self.recording.set_numbers(step, data, grad)
        self._unsynced_frames = True

    def recording_rows(self, summary: GraphSummary) -> tuple[list[int], bytes]:
        """The ``recording_steps`` and ``recording`` traits for the drawn ``summary``."""
        value_of_unit = [
            u.value if u.kind == "value" else summary.group_output.get(k, -1)
            for k, u in enumerate(summary.units)
        ]
        steps, rows = self.recording.per_unit(value_of_unit)
        self._recording_synced_at = time.monotonic()
        self._unsynced_frames = False
        return steps, rows


class SampleSource:
    """Builds one training sample's loss graph of a trainer's model at its current weights.

    The graph is built on a private copy of the model (made once, under the trainer's lock), so
    the trainer's parameters and grads are never touched; each build only reads the weights under
    the lock and copies them in.
    """

    def __init__(self, trainer: Trainer) -> None:
        if not isinstance(trainer, Trainer):
            raise TypeError(
                f"GraphWidget.follow expects a Trainer, got {type(trainer).__name__}; "
                "for a graph of your own Value write GraphWidget(value)"
            )
        with trainer.lock:
            if len(trainer.X) == 0:
                raise ValueError(
                    "the trainer has no training samples to follow: give it data first"
                )
            self.shadow: Module = copy.deepcopy(trainer.model)
        self.trainer = trainer
        self.params = self.shadow.parameters()

    def check(self, sample: object) -> int:
        count = len(self.trainer.X)
        return check_whole("sample", sample, 0, count - 1, "the index of a training sample")

    def read_weights(self) -> list[float]:
        with self.trainer.lock:
            return [p.data for p in self.trainer.parameters]

    def build(
        self, index: int, recorded: Sequence[float] | None = None
    ) -> tuple[Value, dict[str, Any]]:
        """The sample's loss graph at the current weights (or at ``recorded`` ones)."""
        trainer = self.trainer
        with trainer.lock:  # only reading: the weights, the sample, the step
            weights = [p.data for p in trainer.parameters] if recorded is None else recorded
            count = len(trainer.X)
            if index >= count:
                raise ValueError(
                    f"sample {index} is gone: the trainer has {count} samples now (set g.sample)"
                )
            x = [float(v) for v in trainer.X[index]]
            label = float(trainer.y[index])
            step = trainer.steps_done
        for p, w in zip(self.params, weights):
            p.data, p.grad = float(w), 0.0
        root = sample_loss_graph(self.shadow, trainer.loss, x, label)
        binary = getattr(self.shadow, "nout", 1) == 1
        label_text = f"{label:+g}" if binary else f"class {label:g}"
        info = {
            "sample": index,
            "count": count,
            "x": x,
            "label": label,
            "label_text": label_text,
            "step": step,
        }
        return root, info


def _backward_in_order(values: list[Value]) -> None:
    """``values[-1].backward()`` for a graph already sorted (``values``, topological order):
    the same arithmetic in the same order, without sorting again. Its leaves' grads start at 0
    (:meth:`SampleSource.build` zeroes the parameters; the inputs are new)."""
    for v in values:
        v.grad = 0.0
    values[-1].grad = 1.0
    backward_through(values)


def innermost_scopes(graph: GraphIndex) -> frozenset[int]:
    """The modules with no module inside (an MLP's neurons): folded, a followed graph reads as
    one box per neuron, its output's data and grad on it, beside the inputs and the loss."""
    inner = [sid for sid, scope in enumerate(graph.scopes) if not scope.children]
    return frozenset(inner) if len(inner) > 1 else frozenset()


def complete_note(info: dict[str, Any]) -> str:
    return (
        f"Sample {info['sample']} at step {info['step']}: every grad is that of this sample's "
        "loss (a whole backward pass). To step through it, pause training and press Reset grads."
    )


class _Waker:
    """The trainer observer of a followed graph: it wakes the refresh thread and, at a recorded
    step, copies the weights (on the training thread, between steps: ~10 µs for the seed net);
    the graph itself is built on the refresh thread, so training pays next to nothing for it.
    Holds no reference to the widget."""

    def __init__(self, wake: threading.Event, recording: WeightRecording) -> None:
        self.wake, self.recording = wake, recording
        self.dirty = False  # the weights or the data changed: rebuild the live graph
        self.reset = False  # the trainer was reset: start the recording again
        self.status_changed = False  # paused or stopped: sync the recording

    def __call__(self, event: TrainerEvent) -> None:
        if event.kind == "step" and event.record is not None:
            step = int(event.record["step"]) + 1
            if self.recording.wants(step):
                self.recording.add(step, [p.data for p in event.trainer.parameters])
        if event.kind == "reset":
            self.reset = True
        if event.kind == "status":
            self.status_changed = True
        else:
            self.dirty = True
        self.wake.set()


def _refresh_loop(
    background_pass: weakref.WeakMethod,
    wake: threading.Event,
    stop: threading.Event,
    interval: float,
) -> None:
    """Call a followed graph's ``background_pass`` when woken, at most once per ``interval``
    seconds; end when stopped or when the widget is collected."""
    make_way_for_the_kernel()
    while True:
        wake.wait()
        if stop.is_set():
            return
        wake.clear()
        run_pass = background_pass()
        if run_pass is None:
            return
        started = time.monotonic()
        run_pass()
        del run_pass
        work = time.monotonic() - started
        rest = max(interval - work, REST_FACTOR * work)
        if rest > 0 and stop.wait(rest):
            return
