"""GraphWidget: the live computation graph of a Value, with a backward step-through.

Python is the source of truth; the browser view only draws what it is sent:

* ``topology`` (a dict, sent only when the root or the grouping changes): the nodes the view lays
  out, the edges between them, and the module-scope boxes they sit in. A change re-lays out.
* ``numbers`` (a Float64 buffer, sent on every refresh): data and grad per node, then the local
  derivative per edge. A change recolours the nodes and rewrites their numbers, keeping the
  layout, so refreshing after a training step is cheap.
* ``step_state``: where the step-through is, the arithmetic of the last step, each grad's state
  (not computed yet, partial, final) and how each reused node's grad summed (``+=``).
* ``replay``: the whole backward pass recorded step by step, so the view steps through it
  without a kernel (sent whenever training is not running).
* A graph following a trainer (:meth:`GraphWidget.follow`) adds ``link`` (the trainer's
  ``link_id``: views of one trainer share the inspected sample and one timeline in the page),
  ``sample``, ``followed`` (which sample, at which step, its loss) and the recorded run
  (``recording``, ``recording_steps``).

What is drawn is worked out in :mod:`micrograd_widgets._graph_summary` (module scopes, folding,
the ``max_nodes`` cut) and the step-through in :mod:`micrograd_widgets.stepper`; this class holds
their state, turns it into traits and handles the view's messages.
"""

from __future__ import annotations

import contextlib
import copy
import numbers
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import traitlets

from ._graph_summary import (
    RANKDIRS,
    GraphIndex,
    GraphSummary,
    WeightRecording,
    index_graph,
    initial_collapse,
    same_structure,
    sample_loss_graph,
    summarize,
)
from ._throttle import check_max_fps
from ._widget import BaseWidget, asset
from .engine import Value, derivative_text
from .nn import Module
from .stepper import BackwardStepper, finite_difference, record_backward
from .train import Trainer, TrainerEvent

__all__ = ["GraphWidget", "SvgExport"]

_MAX_SVG_CHARS = 50_000_000
#: the drawing area's maximum height, in pixels (it scrolls beyond that)
MIN_HEIGHT, MAX_HEIGHT = 100, 5000
# traits the widget itself keeps: not something to pass in
_INTERNAL_TRAITS = {
    "topology",
    "numbers",
    "step_state",
    "selected",
    "error",
    "link",
    "sample",
    "followed",
    "check",
    "recording",
    "recording_steps",
    "replay",
}
#: the recorded backward pass is shipped for graphs with at most this many steps (it holds each
#: step's lines: ~150 bytes a step)
MAX_REPLAY_STEPS = 5000
#: while training runs, the recording is synced to the view at most this often (seconds)
RECORDING_SYNC_S = 2.0
#: recorded frames whose numbers are worked out per pass of the refresh thread, while training
#: runs and while it does not
FRAMES_PER_PASS_RUNNING, FRAMES_PER_PASS_IDLE = 1, 20
#: after a pass that took w seconds the refresh thread rests at least this many times w: it uses
#: at most a ninth of a core, so training (on its own thread, sharing the GIL) keeps its pace
REST_FACTOR = 8.0
#: the step lines after refresh() found grads computed outside the step-through
REFRESHED = "Redrawn from the Values, grads as Python left them: Step adds a new pass to them."
#: refreshes of a followed graph per second at most (the frame budget)
FOLLOW_FPS = 10.0
_STATUS_CODE = {"pending": "p", "partial": "s", "final": "f"}


def _check_whole(name: str, value: object, low: int, high: int | None, meaning: str) -> int:
    """``value`` if it is a whole number from ``low`` to ``high``; else a ValueError saying so."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < low
        or (high is not None and value > high)
    ):
        expected = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} is {meaning}: a whole number {expected}; got {value!r}")
    return int(value)


class _Whole(traitlets.Int):
    """An Int trait that refuses floats, bools and numbers out of range with a clear ValueError."""

    def __init__(self, default: int, low: int, high: int, meaning: str) -> None:
        super().__init__(default)
        self.low, self.high, self.meaning = low, high, meaning

    def validate(self, obj: Any, value: Any) -> int:
        return _check_whole(str(self.name), value, self.low, self.high, self.meaning)


class _SampleIndex(traitlets.Int):
    """The followed sample: a whole number in range (floats, bools, strings refused clearly)."""

    def validate(self, obj: Any, value: Any) -> int:
        return obj._valid_sample(value)


@dataclass
class SvgExport:
    """What :meth:`GraphWidget.save_svg` returns: the file, and whether the view has written it.

    The file is written when the displayed view replies, after the cell that asked has finished;
    ``written`` turns True then (look at it, or at the object's repr, in a later cell).
    """

    path: Path
    written: bool = False

    def __repr__(self) -> str:
        if self.written:
            return f"SvgExport({str(self.path)!r}: written)"
        return (
            f"SvgExport({str(self.path)!r}: written when the view replies, after this cell "
            "finishes; the widget must be displayed)"
        )


class GraphWidget(BaseWidget):
    """The computation graph behind ``root``, live in the notebook.

    ``GraphWidget(L)`` draws every Value (label, data, grad; coloured by grad) and every op.
    An unlabelled node is called by its op and count (``tanh·3``: the third tanh from the
    inputs), the same in the drawing, the step-through and the details. It opens on its output,
    shrunk to the cell's width no further than readable text (scroll for the rest; Fit does the
    same). ``refresh()`` redraws the numbers after Python changed them (e.g. another
    ``backward()``), keeping the layout. ``step()`` / ``run()`` / ``reset_grads()`` walk
    backpropagation one node at a time (also as buttons): each op node carries its step number
    (the backward order), a grad not computed yet shows as "grad —" (hatched, unlike a grad of
    0), a reused node lists each ``+=`` contribution as it lands, and the edge being applied
    shows ``upstream × local = contribution``. ``check_gradient(name)`` (or the details panel's
    *Check numerically*) puts a leaf's central finite difference beside its autograd grad.
    Without a kernel (a saved notebook, a kernel shut down) Step / Run / Reset replay the
    recorded pass in the page. ``model=`` groups nodes by module (neuron, layer); ``max_nodes``
    bounds what is drawn. ``save_svg(path)`` exports the current drawing.

    ``GraphWidget.follow(trainer, sample=k)`` makes a graph of one training sample's loss that
    is redrawn as the trainer steps, switches sample when ``g.sample`` is set or a linked view
    inspects a point, and follows the trainer's one timeline (see :meth:`follow`).
    """

    _esm = asset("graph.js")
    _css = asset("graph.css")

    topology = traitlets.Dict().tag(sync=True)
    numbers = traitlets.Bytes(b"").tag(sync=True)
    step_state = traitlets.Dict().tag(sync=True)
    #: the node shown in the detail panel (index into topology["units"]), -1 for none
    selected = traitlets.Int(-1).tag(sync=True)
    rankdir = traitlets.Enum(RANKDIRS, default_value="LR").tag(sync=True)
    font_size = _Whole(13, 6, 48, "the text size in pixels").tag(sync=True)
    #: maximum height of the drawing area in pixels (it scrolls / pans beyond that)
    height = _Whole(520, MIN_HEIGHT, MAX_HEIGHT, "the drawing's maximum height in pixels").tag(
        sync=True
    )
    #: the followed trainer's ``link_id`` (views of one trainer share a timeline and the
    #: inspected sample in the page, js/shared/link.ts); "" when following nothing
    link = traitlets.Unicode("").tag(sync=True)
    #: the followed training sample's index (-1: this graph follows no trainer)
    sample = _SampleIndex(-1).tag(sync=True)
    #: what the followed graph shows: sample, its inputs and label, the step, the loss
    followed = traitlets.Dict().tag(sync=True)
    #: the last numeric check: unit, autograd, numeric, h, relative_error, note
    check = traitlets.Dict().tag(sync=True)
    #: a followed graph's recorded run: float32 rows [data per unit, grad per unit], one per
    #: recorded step (NaN for a unit without one value); the steps in ``recording_steps``
    recording = traitlets.Bytes(b"").tag(sync=True)
    recording_steps = traitlets.List(traitlets.Int()).tag(sync=True)
    #: the backward pass recorded step by step, so the view steps through it without a kernel:
    #: {"version": topology version, "steps": [[active unit, [input units], [lines], [[unit,
    #: grad after], ...]], ...], "spans": per unit [first, last] step of its consumers}
    replay = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        root: Value,
        *,
        model: Module | None = None,
        max_nodes: int = 300,
        rankdir: str = "LR",
        font_size: int = 13,
        height: int = 520,
        **kwargs: Any,
    ) -> None:
        if rankdir not in RANKDIRS:
            raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
        # a misspelt option (heigth=300) would otherwise be ignored without a word
        unknown = sorted((set(kwargs) - set(self.trait_names())) | (set(kwargs) & _INTERNAL_TRAITS))
        if unknown:
            raise TypeError(
                f"GraphWidget got unexpected keyword argument(s) {', '.join(unknown)}; expected "
                "model, max_nodes, rankdir, font_size, height (or ipywidgets' layout)"
            )
        self.max_nodes = max_nodes
        # the graph's Values change from the refresh thread (following) and the kernel's
        self._graph_lock = threading.RLock()
        self._source: _SampleSource | None = None
        self._replay_stale = False
        super().__init__(rankdir=rankdir, font_size=font_size, height=height, **kwargs)
        self._svg_requests: dict[int, SvgExport] = {}
        self._next_request = 0
        #: the file the last save_svg() wrote (None until a view has answered)
        self.last_saved_svg: Path | None = None
        self.set_root(root, model=model)

    # ---- following one sample of a trainer -------------------------------------------------

    # ---- one writer at a time ----------------------------------------------------------------
    # A followed graph's traits change from its refresh thread and from the kernel's thread.
    # ipywidgets' hold_sync() is not thread-safe: a trait set on one thread while the other
    # holds sync is queued and sent only at some later hold_sync (seen: a stale recording in the
    # view). So every trait change and every held block takes the graph lock.

    @contextlib.contextmanager
    def hold_sync(self) -> Iterator[None]:
        with self._graph_lock, super().hold_sync():
            yield

    def notify_change(self, change: Any) -> None:
        lock = getattr(self, "_graph_lock", None)
        if lock is None:  # while traitlets builds the widget
            super().notify_change(change)
            return
        with lock:
            super().notify_change(change)

    # ---- following one sample of a trainer -------------------------------------------------

    @classmethod
    def follow(
        cls,
        trainer: Trainer,
        sample: int = 0,
        *,
        max_fps: float = FOLLOW_FPS,
        record_every: int = 1,
        max_recorded: int = 120,
        **options: Any,
    ) -> GraphWidget:
        """A new GraphWidget showing the loss graph of training sample ``sample`` of ``trainer``.

        The graph is the model's forward pass on that one sample plus its data loss (binary: its
        svm / log / mse term; k classes: its cross-entropy), at the current weights, with the
        parameters as leaves named by their dotted names; its grads are those of that sample's
        loss. It is rebuilt after every training step, at most ``max_fps`` times a second, on a
        thread of its own (training only wakes it; weights are read under ``trainer.lock``).

        The run is recorded for the one timeline of the trainer's views: the weights every
        ``record_every``-th step, up to ``max_recorded`` frames (then every other one is dropped
        and the interval doubles, as the boundary's recording does); the view gets the graph's
        numbers at each (float32 data and grad per drawn unit: 8 bytes × units × frames, about
        40 KB for the seed net's folded graph). Scrubbing a linked view's timeline shows the
        recorded step at or before it, also in a saved notebook without a kernel.
        Set ``g.sample`` to follow another sample, or pick one in a linked view (the
        DecisionBoundary's Inspect). Step-through works while training is paused. ``options``
        are GraphWidget's (``max_nodes``, ``rankdir``, ``font_size``, ``height``).
        """
        check_max_fps(max_fps)
        record_every = _check_whole("record_every", record_every, 1, None, "steps between frames")
        max_recorded = _check_whole("max_recorded", max_recorded, 2, 10_000, "frames kept")
        source = _SampleSource(trainer)
        index = source.check(sample)
        root, info = source.build(index)
        root.backward()
        widget = cls(root, model=source.shadow, **options)
        widget._recording = WeightRecording(max_recorded, record_every)
        widget._recording.add(info["step"], [p.data for p in source.params])
        widget._start_following(source, index, info, max_fps)
        widget._show(_innermost_scopes(widget._graph), widget.max_nodes)
        return widget

    @property
    def trainer(self) -> Trainer | None:
        """The trainer this graph follows (None for a plain graph)."""
        return self._source.trainer if self._source is not None else None

    @property
    def refresh_times_ms(self) -> list[float]:
        """How long the last refreshes of a followed graph took, in ms (build, backward, send)."""
        return list(self._refresh_ms) if self._source is not None else []

    def _start_following(
        self, source: _SampleSource, index: int, info: dict, max_fps: float
    ) -> None:
        self._source = source
        self._refresh_ms: deque[float] = deque(maxlen=500)
        with self.hold_sync():
            self.link = source.trainer.link_id
            self.sample = index
            self._stepper.mark_complete(_complete_note(info))
            self._send_numbers_and_steps(info)
        wake, stop = threading.Event(), threading.Event()
        self._wake, self._stop_refresh = wake, stop
        self._waker = _Waker(wake, self._recording)
        self._recording_synced_at = 0.0
        self._unsynced_frames = False
        self._unsubscribe_trainer = source.trainer.observe(self._waker)
        wake.set()  # the first recorded frame's numbers
        threading.Thread(
            target=_refresh_loop,
            args=(weakref.ref(self), wake, stop, 1.0 / max_fps),
            name=f"mgw-graph-follow-{id(self):x}",
            daemon=True,
        ).start()

    def _valid_sample(self, value: object) -> int:
        source = getattr(self, "_source", None)
        if source is None:
            if value == -1 and isinstance(value, int) and not isinstance(value, bool):
                return -1
            raise ValueError(
                "sample is the followed training sample: make the graph with "
                "GraphWidget.follow(trainer, sample=...) to follow one"
            )
        return source.check(value)

    @traitlets.observe("sample")
    def _sample_changed(self, change: dict) -> None:
        if self._source is not None and change["old"] != -1:
            self._refresh_followed()
            self._recording.forget_numbers()  # the recorded steps, for this sample
            self._sync_recording()
            self._wake.set()

    def _background_pass(self) -> None:
        """One pass of the refresh thread: the live graph if a step (or a reset, or new data)
        landed, then some recorded frames' numbers, then the recording to the view when due."""
        with self._graph_lock:
            self._background_pass_locked()

    def _background_pass_locked(self) -> None:
        waker, recording = self._waker, self._recording
        if waker.reset:
            waker.reset = False
            recording.clear()
            recording.add(self._source.trainer.steps_done, self._source.read_weights())
        if waker.dirty:
            waker.dirty = False
            self._refresh_followed()
        running = self._source.trainer.status == "running"
        per_pass = FRAMES_PER_PASS_RUNNING if running else FRAMES_PER_PASS_IDLE
        missing = recording.missing()
        for step, weights in missing[:per_pass]:
            self._record_numbers(step, weights)
        if len(missing) > per_pass:
            self._wake.set()  # more to do: come back after the rest
        due = time.monotonic() - self._recording_synced_at > RECORDING_SYNC_S
        if (self._unsynced_frames and (due or not running)) or (
            not running and waker.status_changed
        ):
            self._sync_recording()
        if not running and (waker.status_changed or self._replay_stale):
            self._send_replay()  # training stopped: the graph's backward pass, for no kernel
        waker.status_changed = False

    def _record_numbers(self, step: int, weights: np.ndarray) -> None:
        """The followed sample's graph numbers at recorded weights (NaN if its graph differs)."""
        source = self._source
        with self._graph_lock:
            # the private model's parameters are the live graph's leaves: put them back after
            saved = [(p.data, p.grad) for p in source.params]
            try:
                root, _info = source.build(self.sample, weights)
                values = root.topological_order()
                _backward_in_order(values)
                n = len(values)
                if same_structure(self._graph.values, values):
                    data = np.fromiter((v.data for v in values), np.float64, n)
                    grad = np.fromiter((v.grad for v in values), np.float64, n)
                else:
                    data = grad = np.full(len(self._graph.values), np.nan)
            finally:
                for p, (d, g) in zip(source.params, saved):
                    p.data, p.grad = d, g
            self._recording.set_numbers(step, data, grad)
            self._unsynced_frames = True

    def _send_replay(self) -> None:
        """Record the graph's backward pass step by step for the view (see ``replay``)."""
        self._replay_stale = False
        graph, summary = self._graph, self._summary
        if len(self._stepper.steps) > MAX_REPLAY_STEPS:
            self.replay = {}
            return
        unit_of, index, units = summary.unit_of, graph.index, summary.units

        def shown_as(value: Value) -> int:
            """The unit that shows ``value``'s grad: its own, or its folded group's output."""
            u = unit_of[index[value]]
            if units[u].kind == "value" or summary.group_output.get(u) == index[value]:
                return u
            return -1

        steps = []
        for recorded in record_backward(graph.root, graph.values, graph.name_of):
            active = unit_of[index[recorded.node]]
            inputs = sorted({unit_of[index[c]] for c in recorded.inputs} - {active})
            grads = [[u, g] for v, g in recorded.grads if (u := shown_as(v)) >= 0]
            steps.append([active, inputs, list(recorded.lines), grads])
        spans = [[0, 0] for _ in units]
        consumers = self._stepper._consumer_steps
        for u, unit in enumerate(units):
            if unit.kind == "value":
                spans[u] = list(consumers.get(graph.values[unit.value], (0, 0)))
        self.replay = {"version": self.topology["version"], "steps": steps, "spans": spans}

    def _sync_recording(self) -> None:
        if self._source is None:
            return
        summary = self._summary
        value_of_unit = [
            u.value if u.kind == "value" else summary.group_output.get(k, -1)
            for k, u in enumerate(summary.units)
        ]
        steps, rows = self._recording.per_unit(value_of_unit)
        self._recording_synced_at = time.monotonic()
        self._unsynced_frames = False
        with self.hold_sync():
            self.recording = rows
            self.recording_steps = steps

    def _refresh_followed(self) -> None:
        """Rebuild the followed sample's graph at the current weights and send it."""
        source = self._source
        if source is None:
            return
        start = time.perf_counter()
        with self._graph_lock:
            root, info = source.build(self.sample)
            values = root.topological_order()
            _backward_in_order(values)
            if same_structure(self._graph.values, values):
                # the same graph with new numbers: keep the layout, copy the numbers over
                for old, new in zip(self._graph.values, values):
                    old.data, old._da, old._db, old.grad = new.data, new._da, new._db, new.grad
                self._stepper.mark_complete(_complete_note(info))
                self._send_numbers_and_steps(info)
            else:  # e.g. a loss that branches on the score: lay the new graph out
                with self.hold_sync():
                    self.set_root(root, model=source.shadow)
                    self._stepper.mark_complete(_complete_note(info))
                    self._send_numbers_and_steps(info)
        self._replay_stale = True
        self._refresh_ms.append((time.perf_counter() - start) * 1000)

    def _check_can_step(self) -> None:
        if self._source is not None and self._source.trainer.status == "running":
            raise RuntimeError(
                "the step-through works on the followed graph while training is paused (it is "
                "rebuilt after every training step): pause the trainer first"
            )

    def check_gradient(self, node: str | Value) -> dict[str, Any]:
        """The numeric check of a leaf (an input or a parameter, by name or Value): autograd's
        d(root)/d(leaf) of a fresh backward pass beside the central finite difference, and their
        relative error (see :func:`~micrograd_widgets.stepper.finite_difference` for how h is
        chosen). Also shown in the view's detail panel."""
        with self._graph_lock:
            graph = self._graph
            if isinstance(node, Value):
                leaf = node
                if leaf not in graph.index:
                    raise ValueError("that Value is not part of this graph")
            elif isinstance(node, str):
                matches = [i for i, name in enumerate(graph.names) if name == node]
                if not matches:
                    raise ValueError(f"no node named {node!r} in this graph")
                leaf = graph.values[matches[0]]
            else:
                raise TypeError(f"node must be a node's name or a Value, got {node!r}")
            result = finite_difference(graph.values, leaf)
            self.check = {
                "unit": self._summary.unit_of[graph.index[leaf]],
                "name": graph.name_of(leaf),
                "autograd": result.autograd,
                "numeric": result.numeric,
                "h": result.h,
                "relative_error": result.relative_error,
                "note": result.note,
            }
            return dict(self.check)

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: dict) -> int:
        summary = getattr(self, "_summary", None)
        count = len(summary.units) if summary is not None else 0
        return _check_whole(
            "selected", proposal["value"], -1, count - 1, "a node index, -1 for none"
        )

    @property
    def max_nodes(self) -> int:
        """The most nodes drawn for a new root (groups opened by hand may draw more)."""
        return self._max_nodes

    @max_nodes.setter
    def max_nodes(self, value: int) -> None:
        self._max_nodes = _check_whole("max_nodes", value, 10, None, "how many nodes to draw")

    # ---- public API ----------------------------------------------------------------------

    @property
    def root(self) -> Value:
        return self._graph.root

    @root.setter
    def root(self, root: Value) -> None:
        self.set_root(root, model=self._model)

    def set_root(self, root: Value, model: Module | None = None) -> None:
        """Show a new graph (re-lays out); ``model`` groups its nodes by module scope."""
        if not isinstance(root, Value):
            raise TypeError(
                f"GraphWidget expects a Value (the output node), got {type(root).__name__}"
            )
        if model is not None and not isinstance(model, Module):
            raise TypeError(
                f"model must be a Module (Neuron, Layer, MLP), got {type(model).__name__}"
            )
        self._model = model
        self._graph: GraphIndex = index_graph(root, model)  # the graph's one topological sort
        self._stepper = BackwardStepper(root, self._graph.values, self._graph.name_of)
        if self._source is not None:  # a followed sample: one folded box per neuron
            self._show(_innermost_scopes(self._graph), self.max_nodes)
        else:
            self._show(initial_collapse(self._graph, self.max_nodes), self.max_nodes)

    def refresh(self) -> None:
        """Redraw data, grads and colours from the Values (the layout stays). A followed graph
        is rebuilt at the trainer's current weights now, and its recording brought up to date
        (it otherwise catches up on its own thread, a moment after the steps)."""
        if self._source is not None:
            with self._graph_lock:
                self._refresh_followed()
                for step, weights in self._recording.missing():
                    self._record_numbers(step, weights)
                self._sync_recording()
                self._send_replay()
            return
        with self._graph_lock, self.hold_sync():
            # the Values changed outside the step-through (e.g. a backward()): its place in the
            # pass no longer says which grads are computed; the Values do
            if self._stepper.seeded:
                self._stepper.restart(REFRESHED)
            self._send_numbers_and_steps()
            self._send_replay()  # the data may have changed: so have the recorded steps

    def step(self, n: int = 1) -> list[str]:
        """Apply the next ``n`` chain-rule steps of backpropagation (``n`` >= 1); return their
        arithmetic."""
        self._check_can_step()
        with self._graph_lock:
            lines = self._stepper.step(n)
            self._send_numbers_and_steps()
        return lines

    def run(self) -> None:
        """Apply all remaining steps: the grads then equal those of ``root.backward()``."""
        self._check_can_step()
        with self._graph_lock:
            self._stepper.run()
            self._send_numbers_and_steps()

    def reset_grads(self) -> None:
        """Zero the grad of every node in the graph and restart the step-through."""
        self._check_can_step()
        with self._graph_lock:
            self._stepper.reset()
            self._send_numbers_and_steps()

    @property
    def finished(self) -> bool:
        """True when the step-through has applied every step."""
        return self._stepper.finished

    @property
    def selected_value(self) -> Value | None:
        """The Value shown in the detail panel (None for none, or for a group)."""
        units = self._summary.units
        if 0 <= self.selected < len(units) and units[self.selected].kind == "value":
            return self._graph.values[units[self.selected].value]
        return None

    def expand(self, scope: str) -> None:
        """Open the group of module ``scope`` (e.g. ``"layers.0.neurons.3"``); re-lays out."""
        self._show(*self._summary.opened(self._scope_id("expand", scope)))

    def collapse(self, scope: str) -> None:
        """Fold the nodes of module ``scope`` into one box; re-lays out."""
        sid = self._scope_id("collapse", scope)
        self._show(self._summary.collapsed | {sid}, self._summary.budget)

    def _scope_id(self, method: str, scope: object) -> int:
        if not isinstance(scope, str):
            raise TypeError(
                f"{method}(scope): scope is a module's dotted name such as "
                f"'layers.0.neurons.3' (see .scopes), got {type(scope).__name__}: {scope!r}"
            )
        return self._graph.scope_id(scope)

    @property
    def scopes(self) -> list[str]:
        """The module scopes nodes are grouped by ("" is the model itself)."""
        return [s.path for s in self._graph.scopes]

    def save_svg(self, path: str | Path) -> SvgExport:
        """Save the drawing as a standalone SVG file at ``path``; returns an :class:`SvgExport`.

        The browser view holds the drawing, and a Python call cannot wait for its reply inside
        the same cell: this asks the displayed view for its SVG and returns at once; the file is
        written when the reply arrives (right after the cell finishes), and the returned
        object's ``written`` then turns True. The toolbar's "Save SVG" button downloads the same
        file from the browser.
        """
        if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
            raise TypeError(f"save_svg(path): path must be a file name (str or Path), got {path!r}")
        target = Path(path).expanduser().resolve()
        if target.is_dir():
            raise IsADirectoryError(f"cannot save the SVG: {target} is a folder; give a file name")
        if not target.parent.is_dir():
            raise FileNotFoundError(f"cannot save the SVG: folder {target.parent} does not exist")
        request = self._next_request
        self._next_request += 1
        export = self._svg_requests[request] = SvgExport(target)
        self.send({"type": "export_svg", "request": request})
        return export

    def _describe(self) -> str:
        graph = self._graph
        return f"GraphWidget of {graph.name(len(graph.values) - 1)}, {len(graph.values):,} nodes"

    # ---- messages from the view ----------------------------------------------------------

    def _on_step(self, _content: dict, _buffers: list[bytes]) -> None:
        self.step()

    def _on_run(self, _content: dict, _buffers: list[bytes]) -> None:
        self.run()

    def _on_reset(self, _content: dict, _buffers: list[bytes]) -> None:
        self.reset_grads()

    def _on_select(self, content: dict, _buffers: list[bytes]) -> None:
        unit, count = content.get("unit"), len(self._summary.units)
        if not isinstance(unit, int) or not -1 <= unit < count:
            raise ValueError(f"select: expected a node index from -1 to {count - 1}")
        self.selected = unit

    def _on_check(self, content: dict, _buffers: list[bytes]) -> None:
        unit, units = content.get("unit"), self._summary.units
        if not isinstance(unit, int) or not 0 <= unit < len(units) or units[unit].kind != "value":
            raise ValueError("check: expected the index of a drawn node")
        value = self._graph.values[units[unit].value]
        if value._a is not None:
            raise ValueError("the numeric check perturbs a leaf (an input or a parameter)")
        self.check_gradient(value)

    def _on_follow_sample(self, content: dict, _buffers: list[bytes]) -> None:
        if self._source is None:
            return  # a plain graph follows no sample: a linked view's selection is not for it
        index = content.get("index")
        if index is None:
            return  # the selection was cleared: keep showing the last sample
        self.sample = index  # validated: a bad index shows in the banner

    def _views_changed(self, event: str) -> None:
        if self._source is not None and self.live_views:
            self._wake.set()  # it may have missed steps while no view showed it

    def close(self) -> None:
        """Close the widget; a followed trainer is no longer watched (training goes on)."""
        if getattr(self, "_source", None) is not None:
            self._unsubscribe_trainer()
            self._stop_refresh.set()
            self._wake.set()
        super().close()

    def _on_toggle(self, content: dict, _buffers: list[bytes]) -> None:
        scope, count = content.get("scope"), len(self._graph.scopes)
        if not isinstance(scope, int) or not 0 <= scope < count:
            raise ValueError(f"toggle: expected a group index from 0 to {count - 1}")
        if scope in self._summary.collapsed:
            self._show(*self._summary.opened(scope))
        else:
            self._show(self._summary.collapsed | {scope}, self._summary.budget)

    def _on_svg(self, content: dict, _buffers: list[bytes]) -> None:
        export = self._svg_requests.pop(content.get("request"), None)  # type: ignore[arg-type]
        if export is None:
            return  # a second view answering the same request, or a stale reply
        svg = content.get("svg")
        if not isinstance(svg, str) or not svg.lstrip().startswith(("<svg", "<?xml")):
            raise ValueError("export: the view did not send an SVG document")
        if len(svg) > _MAX_SVG_CHARS:
            raise ValueError(f"export: the SVG is larger than {_MAX_SVG_CHARS:,} characters")
        # Write beside the target, then rename: nobody ever sees a half-written file.
        partial = export.path.with_name(f".{export.path.name}.partial")
        partial.write_text(svg, encoding="utf-8")
        os.replace(partial, export.path)
        export.written = True
        self.last_saved_svg = export.path

    # ---- state -> traits -----------------------------------------------------------------

    def _show(self, collapsed: frozenset[int], budget: int) -> None:
        """Summarise the graph with ``collapsed`` groups folded and send everything."""
        self._summary: GraphSummary = summarize(self._graph, collapsed, budget)
        previous = self.topology.get("version", 0) if self.topology else 0
        with self.hold_sync():
            if getattr(self, "_recording", None) is not None and self._source is not None:
                self._sync_recording()  # the same frames, for the new units
            self.selected = -1
            self.topology = {
                "version": previous + 1,
                **_topology(self._summary, self._stepper.step_of),
            }
            self._send_numbers_and_steps()
            if self._source is None or self._source.trainer.status != "running":
                self._send_replay()

    def _send_numbers(self) -> None:
        self.numbers = self._summary.numbers().astype("<f8").tobytes()

    def _send_numbers_and_steps(self, followed: dict | None = None) -> None:
        stepper, unit_of, index = self._stepper, self._summary.unit_of, self._graph.index
        active = stepper.active
        active_unit = unit_of[index[active]] if active is not None else -1
        inputs = {unit_of[index[c]] for c in active._prev} if active is not None else set()
        upcoming = stepper.upcoming
        values, units = self._graph.values, self._summary.units
        # per unit: p = grad not computed yet, s = partial sum, f = final, - = not a value
        # grads set before any step (a backward() of the caller's) count as computed
        computed = not stepper.seeded and any(v.grad != 0.0 for v in values)
        status = "".join(
            ("f" if computed else _STATUS_CODE[stepper.grad_status(values[u.value])])
            if u.kind == "value"
            else "-"
            for u in units
        )
        sums = {}
        for value in stepper.received:
            unit = unit_of[index[value]]
            if units[unit].kind == "value":
                sums[str(unit)] = stepper.grad_sum(value)
        with self.hold_sync():
            if followed is not None:
                self.followed = {**followed, "loss": self._graph.root.data}
            self._send_numbers()
            self.step_state = {
                "status": status,
                "sums": sums,
                "done": stepper.done,
                "total": len(stepper.steps),
                "seeded": stepper.seeded,
                "finished": stepper.finished,
                "active": active_unit,
                "children": sorted(inputs - {active_unit}),
                "lines": list(stepper.lines),
                "next": stepper.name(upcoming) if upcoming is not None else "",
            }


def _topology(summary: GraphSummary, step_of: dict[Value, int]) -> dict[str, Any]:
    """The ``topology`` trait (without its version): units, edges, boxes, what is left out;
    ``step_of`` numbers the op nodes in backward order."""
    graph = summary.graph
    scopes = graph.scopes
    units: list[dict[str, Any]] = []
    for unit in summary.units:
        if unit.kind == "value":
            v = graph.values[unit.value]
            name = graph.name(unit.value)
            # inside its module's box, "layers.0.neurons.3.w.1" reads as "w.1"
            box = scopes[summary.boxes[unit.box].scope].path if unit.box >= 0 else None
            prefix = f"{box}." if box else ""
            short = name[len(prefix) :] if prefix and name.startswith(prefix) else name
            units.append(
                {
                    "kind": "value",
                    "name": name,
                    "short": short,
                    "label": v.label,
                    "op": v._op,
                    "box": unit.box,
                    "order": step_of.get(v, 0),  # its step in the backward pass, 0 for a leaf
                }
            )
        elif unit.kind == "group":
            s = scopes[unit.scope]
            units.append(
                {
                    "kind": "group",
                    "name": s.path or s.title,
                    "title": s.title,
                    "scope": unit.scope,
                    "count": unit.count,
                    "box": unit.box,
                }
            )
        else:
            units.append({"kind": "more", "count": unit.count, "box": -1})
    edges = []
    for e in summary.edges:
        text = ""
        if e.value >= 0:
            node = graph.values[e.value]
            names = [graph.name_of(child) for child in node._prev]
            text = derivative_text(node._op, graph.name(e.value), names, e.position)
        edges.append([e.src, e.dst, text])
    boxes = [
        {
            "scope": box.scope,
            "name": scopes[box.scope].path or scopes[box.scope].title,
            "title": scopes[box.scope].title,
            "parent": box.parent,
        }
        for box in summary.boxes
    ]
    return {
        "units": units,
        "edges": edges,
        "boxes": boxes,
        "root": summary.root_unit,
        "total": len(graph.values),
        "shown": summary.shown,
        "note": summary.note,
    }


# ---- following a trainer: the sample's graph and the refresh thread ---------------------------


class _SampleSource:
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
        return _check_whole("sample", sample, 0, count - 1, "the index of a training sample")

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
    (:meth:`_SampleSource.build` zeroes the parameters; the inputs are new)."""
    for v in values:
        v.grad = 0.0
    values[-1].grad = 1.0
    for node in reversed(values):
        a = node._a
        if a is not None:
            out_grad = node.grad
            a.grad += node._da * out_grad
            b = node._b
            if b is not None:
                b.grad += node._db * out_grad


def _innermost_scopes(graph: GraphIndex) -> frozenset[int]:
    """The modules with no module inside (an MLP's neurons): folded, a followed graph reads as
    one box per neuron, its output's data and grad on it, beside the inputs and the loss."""
    inner = [sid for sid, scope in enumerate(graph.scopes) if not scope.children]
    return frozenset(inner) if len(inner) > 1 else frozenset()


def _complete_note(info: dict[str, Any]) -> str:
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
    widget_ref: weakref.ref[GraphWidget],
    wake: threading.Event,
    stop: threading.Event,
    interval: float,
) -> None:
    """Refresh a followed graph when woken, at most once per ``interval`` seconds."""
    while True:
        wake.wait()
        if stop.is_set():
            return
        wake.clear()
        widget = widget_ref()
        if widget is None:
            return
        started = time.monotonic()
        if not widget.ever_viewed or widget.live_views:  # nobody sees it: skip the work
            try:
                widget._background_pass()
            except Exception as exc:  # shown in the banner; the next step tries again
                widget._show_error("refresh of the followed sample", exc)
        del widget
        work = time.monotonic() - started
        rest = max(interval - work, REST_FACTOR * work)
        if rest > 0 and stop.wait(rest):
            return
