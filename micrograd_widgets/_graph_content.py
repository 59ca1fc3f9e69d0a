"""What a GraphWidget shows, kept apart from the widget, as trait values.

:class:`GraphContent` turns a root Value into the graph
(:class:`~micrograd_widgets._graph_summary.GraphIndex`, one topological sort), what is drawn of it
(:class:`~micrograd_widgets._graph_summary.GraphSummary`: module scopes, folded groups, the
``max_nodes`` cut) and its step-through (:class:`~micrograd_widgets.stepper.BackwardStepper`);
it owns the followed sample (:class:`~micrograd_widgets._graph_follow.Following`) of a graph made
by ``GraphWidget.follow``. Every change it makes answers with the traits to send, a dict
``{trait name: value}`` that the widget sets in one message. It holds no widget and no comm
(tested without one); the widget calls it under its graph lock.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from ._graph_follow import Following, complete_note, innermost_scopes
from ._graph_state import gradient_check, replay_state, step_state, topology_state
from ._graph_summary import (
    RANKDIRS,
    GraphIndex,
    GraphSummary,
    index_graph,
    initial_collapse,
    summarize,
)
from .engine import Value
from .nn import Module
from .stepper import BackwardStepper
from .train import Trainer

__all__ = [
    "INTERNAL_TRAITS",
    "REFRESHED",
    "GraphContent",
    "Traits",
    "check_options",
    "check_sample",
]

#: trait values to send at once: {trait name: value}
Traits = dict[str, Any]
#: traits the widget itself keeps: not something to pass in
INTERNAL_TRAITS = frozenset(
    {
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
)
#: the step lines after refresh() found grads computed outside the step-through
REFRESHED = "Redrawn from the Values, grads as Python left them: Step adds a new pass to them."


def check_options(rankdir: object, options: Collection[str], trait_names: Collection[str]) -> None:
    """Refuse a ``rankdir`` that is not one of :data:`RANKDIRS` and keyword ``options`` that are
    not the widget's settable traits (a misspelt ``heigth=300`` would otherwise pass silently)."""
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    unknown = sorted((set(options) - set(trait_names)) | (set(options) & INTERNAL_TRAITS))
    if unknown:
        raise TypeError(
            f"GraphWidget got unexpected keyword argument(s) {', '.join(unknown)}; expected "
            "model, max_nodes, rankdir, font_size, height (or ipywidgets' layout)"
        )


def check_sample(following: Following | None, value: object) -> int:
    """The ``sample`` trait's value: a sample of the followed trainer, or -1 following none."""
    if following is None:
        if value == -1 and isinstance(value, int) and not isinstance(value, bool):
            return -1
        raise ValueError(
            "sample is the followed training sample: make the graph with "
            "GraphWidget.follow(trainer, sample=...) to follow one"
        )
    return following.source.check(value)


class GraphContent:
    """The graph of ``root`` (grouped by ``model``'s module scopes), what is drawn of it (at most
    ``max_nodes`` nodes at first) and its step-through; the traits each change sends.

    The methods that change what is shown return the traits to send: :meth:`set_root`, the
    folding (:meth:`expand`, :meth:`collapse`, :meth:`toggle`, :meth:`fold_innermost`), the
    step-through (:meth:`step`, :meth:`run`, :meth:`reset`) and, for a followed sample,
    :meth:`start_following`, :meth:`rebuilt`, :meth:`refreshed`, :meth:`new_sample`,
    :meth:`followed_pass`. The last three yield the traits one message at a time: a rebuild is
    timed until the widget has sent its traits (:attr:`refresh_times_ms`).
    """

    def __init__(self, root: Value, model: Module | None, max_nodes: int) -> None:
        #: the followed training sample (None for a plain graph), see :meth:`start_following`
        self.following: Following | None = None
        #: the version of the last topology made (the replay names the one it belongs to)
        self.version = 0
        self._build(root, model, max_nodes)

    def _build(self, root: Value, model: Module | None, max_nodes: int) -> None:
        if not isinstance(root, Value):
            raise TypeError(
                f"GraphWidget expects a Value (the output node), got {type(root).__name__}"
            )
        if model is not None and not isinstance(model, Module):
            raise TypeError(
                f"model must be a Module (Neuron, Layer, MLP), got {type(model).__name__}"
            )
        self.model = model
        self.graph: GraphIndex = index_graph(root, model)  # the graph's one topological sort
        self.stepper = BackwardStepper(root, self.graph.values, self.graph.name_of)
        if self.following is not None:  # a followed sample: one folded box per neuron
            collapsed = innermost_scopes(self.graph)
        else:
            collapsed = initial_collapse(self.graph, max_nodes)
        self.summary: GraphSummary = summarize(self.graph, collapsed, max_nodes)

    # ---- what is drawn -------------------------------------------------------------------

    def set_root(self, root: Value, model: Module | None, max_nodes: int) -> Traits:
        """Show the graph of a new ``root`` (checked first: nothing changes if it is refused)."""
        self._build(root, model, max_nodes)
        return self.layout()

    def show(self, collapsed: frozenset[int], budget: int) -> Traits:
        """Draw the graph with the scopes ``collapsed`` folded, at most ``budget`` nodes."""
        self.summary = summarize(self.graph, collapsed, budget)
        return self.layout()

    def expand(self, scope: str) -> Traits:
        """Open the group of module ``scope`` (a dotted name)."""
        return self._open(self._scope_id("expand", scope))

    def collapse(self, scope: str) -> Traits:
        """Fold the nodes of module ``scope`` (a dotted name) into one box."""
        return self._fold(self._scope_id("collapse", scope))

    def toggle(self, scope: object) -> Traits:
        """Open the group of scope id ``scope`` if it is folded, else fold it (the view's click)."""
        count = len(self.graph.scopes)
        if not isinstance(scope, int) or not 0 <= scope < count:
            raise ValueError(f"toggle: expected a group index from 0 to {count - 1}")
        return self._open(scope) if scope in self.summary.collapsed else self._fold(scope)

    def _open(self, scope_id: int) -> Traits:
        return self.show(*self.summary.opened(scope_id))

    def _fold(self, scope_id: int) -> Traits:
        return self.show(self.summary.collapsed | {scope_id}, self.summary.budget)

    def fold_innermost(self, max_nodes: int) -> Traits:
        """Fold the modules with no module inside (a followed graph: one box per neuron)."""
        return self.show(innermost_scopes(self.graph), max_nodes)

    def _scope_id(self, method: str, scope: object) -> int:
        if not isinstance(scope, str):
            raise TypeError(
                f"{method}(scope): scope is a module's dotted name such as "
                f"'layers.0.neurons.3' (see .scopes), got {type(scope).__name__}: {scope!r}"
            )
        return self.graph.scope_id(scope)

    @property
    def unit_count(self) -> int:
        """How many units (nodes, folded groups, "more") are drawn."""
        return len(self.summary.units)

    def value_at(self, unit: int) -> Value | None:
        """The Value drawn as unit ``unit`` (None for none, or for a group)."""
        units = self.summary.units
        if 0 <= unit < len(units) and units[unit].kind == "value":
            return self.graph.values[units[unit].value]
        return None

    def selectable(self, unit: object) -> int:
        """``unit`` if the view may select it: a drawn unit's index, or -1 for none."""
        count = self.unit_count
        if not isinstance(unit, int) or not -1 <= unit < count:
            raise ValueError(f"select: expected a node index from -1 to {count - 1}")
        return unit

    def checkable(self, unit: object) -> Value:
        """The leaf drawn as unit ``unit``, which the view asks to check numerically."""
        value = self.value_at(unit) if isinstance(unit, int) else None
        if value is None:
            raise ValueError("check: expected the index of a drawn node")
        if value._a is not None:
            raise ValueError("the numeric check perturbs a leaf (an input or a parameter)")
        return value

    def describe(self) -> str:
        """The graph in a few words, for the widget's text repr."""
        graph = self.graph
        return f"GraphWidget of {graph.name(len(graph.values) - 1)}, {len(graph.values):,} nodes"

    # ---- traits ---------------------------------------------------------------------------

    def layout(self) -> Traits:
        """Everything to send once the drawing changed (the view re-lays out): a followed graph's
        recorded frames for the new units, no selection, the topology (a new version), the
        numbers and the step-through, and the replay unless training runs."""
        traits = self.recording()
        topology = topology_state(self.summary, self.stepper.step_of)
        self.version += 1
        traits.update(selected=-1, topology={"version": self.version, **topology})
        traits.update(self.numbers_and_steps())
        if not self.training:
            traits.update(self.replay())
        return traits

    def numbers_and_steps(self, followed: Mapping[str, Any] | None = None) -> Traits:
        """The ``numbers`` and ``step_state`` traits, read from the Values now; with ``followed``
        (what :class:`Following` says of the sample) also the ``followed`` trait."""
        traits: Traits = {}
        if followed is not None:
            traits["followed"] = {**followed, "loss": self.graph.root.data}
        traits["numbers"] = self.summary.numbers().astype("<f8").tobytes()
        traits["step_state"] = step_state(self.graph, self.summary, self.stepper)
        return traits

    def replay(self) -> Traits:
        """The ``replay`` trait: the backward pass recorded step by step, for the last topology."""
        if self.following is not None:
            self.following.replay_stale = False
        return {"replay": replay_state(self.graph, self.summary, self.stepper, self.version)}

    def recording(self) -> Traits:
        """A followed graph's ``recording`` and ``recording_steps`` for the drawn units ({} for a
        plain graph)."""
        if self.following is None:
            return {}
        steps, rows = self.following.recording_rows(self.summary)
        return {"recording": rows, "recording_steps": steps}

    def check(self, node: str | Value) -> Traits:
        """The ``check`` trait: the numeric check of a leaf, by name or Value."""
        return {"check": gradient_check(self.graph, self.summary, node)}

    # ---- the step-through -----------------------------------------------------------------

    def step(self, n: int = 1) -> Traits:
        """Apply the next ``n`` chain-rule steps (their lines: ``stepper.lines``)."""
        self._check_can_step()
        self.stepper.step(n)
        return self.numbers_and_steps()

    def run(self) -> Traits:
        """Apply all remaining steps."""
        self._check_can_step()
        self.stepper.run()
        return self.numbers_and_steps()

    def reset(self) -> Traits:
        """Zero every grad of the graph and start the step-through over."""
        self._check_can_step()
        self.stepper.reset()
        return self.numbers_and_steps()

    def _check_can_step(self) -> None:
        if self.training:
            raise RuntimeError(
                "the step-through works on the followed graph while training is paused (it is "
                "rebuilt after every training step): pause the trainer first"
            )

    # ---- a followed sample ----------------------------------------------------------------

    @property
    def trainer(self) -> Trainer | None:
        """The followed trainer (None for a plain graph)."""
        return self.following.trainer if self.following is not None else None

    @property
    def training(self) -> bool:
        """True while the followed trainer trains (its graph is rebuilt after every step)."""
        return self.following is not None and self.following.running

    @property
    def refresh_times_ms(self) -> list[float]:
        """How long the last refreshes of a followed graph took, in ms (build, backward, send)."""
        return list(self.following.refresh_ms) if self.following is not None else []

    def start_following(self, following: Following, info: Mapping[str, Any]) -> Traits:
        """Follow ``following``'s sample, whose graph (with its grads) this shows; ``info`` is
        what :meth:`Following.first_graph` said of it."""
        self.following = following
        self.stepper.mark_complete(complete_note(info))
        traits: Traits = {"link": following.trainer.link_id, "sample": following.first}
        return {**traits, **self.numbers_and_steps(info)}

    def sample_to_follow(self, index: object) -> object | None:
        """The sample a linked view's selection (``index``) asks to follow; None to stay: a plain
        graph follows no sample (the selection is not for it), a cleared selection keeps the
        last one shown. Checked when it is set as the ``sample`` trait."""
        return index if self.following is not None else None

    def rebuilt(self, sample: int, max_nodes: int) -> Traits:
        """The followed ``sample``'s graph rebuilt at the trainer's current weights; laid out
        anew (at most ``max_nodes``) only if its structure changed."""
        following = self.following
        assert following is not None, "rebuilt() is for a followed graph"
        root, info = following.rebuild(self.graph.values, sample)
        traits: Traits = {}
        if root is not None:  # another structure: lay the new graph out
            traits = self.set_root(root, following.source.shadow, max_nodes)
        self.stepper.mark_complete(complete_note(info))
        return {**traits, **self.numbers_and_steps(info)}

    def _timed_rebuild(self, sample: int, max_nodes: int) -> Iterator[Traits]:
        """:meth:`rebuilt`'s traits; resumed once the widget has sent them, so the time kept in
        :attr:`refresh_times_ms` is the whole refresh (build, backward, send)."""
        assert self.following is not None, "a rebuild is for a followed graph"
        start = time.perf_counter()
        yield self.rebuilt(sample, max_nodes)
        self.following.refresh_ms.append((time.perf_counter() - start) * 1000)

    def new_sample(self, sample: int, max_nodes: int) -> Iterator[Traits]:
        """After the followed sample changed to ``sample``: its graph rebuilt; the recorded steps'
        numbers are worked out anew for it, on the refresh thread; the recording so far."""
        assert self.following is not None, "new_sample() is for a followed graph"
        yield from self._timed_rebuild(sample, max_nodes)
        self.following.recording.forget_numbers()
        traits = self.recording()
        self.following.wake.set()
        yield traits

    def followed_pass(self, sample: int, max_nodes: int) -> Iterator[Traits]:
        """One pass of the refresh thread: the live graph rebuilt if a step (or a reset, or new
        data) landed, then some recorded frames' numbers, the recording when due."""
        assert self.following is not None, "followed_pass() is for a followed graph"
        if self.following.take_changes():
            yield from self._timed_rebuild(sample, max_nodes)
        yield from self.recorded_frames(sample)

    def recorded_frames(self, sample: int) -> list[Traits]:
        """One pass of the refresh thread over the recording: some recorded frames' numbers of
        ``sample``; the messages to send: the recording when due, the replay once training
        stopped."""
        assert self.following is not None, "recorded_frames() is for a followed graph"
        sync, replay = self.following.record_frames(self.graph.values, sample)
        return ([self.recording()] if sync else []) + ([self.replay()] if replay else [])

    def refreshed(self, sample: int, max_nodes: int) -> Iterator[Traits]:
        """The messages of ``GraphWidget.refresh()``: a followed graph rebuilt at the current
        weights, then its whole recording of ``sample`` and its replay; a plain graph's numbers
        and step-through from the Values as they are, with its replay."""
        if self.following is not None:
            yield from self._timed_rebuild(sample, max_nodes)
            self.following.record_all(self.graph.values, sample)
            yield from [self.recording(), self.replay()]
            return
        # the Values changed outside the step-through (e.g. a backward()): its place in the
        # pass no longer says which grads are computed; the Values do
        if self.stepper.seeded:
            self.stepper.restart(REFRESHED)
        # the data may have changed: so have the recorded steps
        yield {**self.numbers_and_steps(), **self.replay()}

    def wake(self) -> None:
        """Wake a followed graph's refresh thread (it may have missed steps while unseen)."""
        if self.following is not None:
            self.following.wake.set()

    def stop_following(self) -> None:
        """No longer watch the followed trainer (training goes on); its refresh thread ends."""
        if self.following is not None:
            self.following.stop()
