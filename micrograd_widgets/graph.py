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
  without a kernel (sent whenever training is not running): ``{"version": topology version,
  "steps": [[active unit, [input units], [lines], [[unit, grad after], ...]], ...], "spans": per
  unit [first, last] step of its consumers}``.
* A graph following a trainer (:meth:`GraphWidget.follow`) adds ``link`` (the trainer's
  ``link_id``: views of one trainer share the inspected sample and one timeline in the page,
  js/shared/link.ts; "" following none), ``sample`` (its index; -1 following none),
  ``followed`` (the sample, its inputs and label, the step, its loss) and the recorded run:
  ``recording``, float32 rows [data per unit, grad per unit], one per recorded step (NaN for a
  unit without one value), whose steps are ``recording_steps``.

What is drawn is worked out in :mod:`micrograd_widgets._graph_summary` (module scopes, folding,
the ``max_nodes`` cut) and the step-through in :mod:`micrograd_widgets.stepper`; the traits from
them in :mod:`micrograd_widgets._graph_state`; a followed sample (its graph, recording and
refresh thread) in :mod:`micrograd_widgets._graph_follow`; SVG exports in
:mod:`micrograd_widgets._svg_export`. :class:`~micrograd_widgets._graph_content.GraphContent`
holds their state and answers each change with the traits to send; this class sets them (one
message per change, under its graph lock) and handles the view's messages.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import traitlets

from ._graph_content import GraphContent, Traits, check_options, check_sample
from ._graph_follow import FOLLOW_FPS, Following
from ._graph_state import check_whole
from ._graph_summary import RANKDIRS
from ._svg_export import SvgExport, SvgRequests
from ._widget import BaseWidget, asset
from .engine import Value
from .nn import Module
from .train import Trainer

__all__ = ["GraphWidget", "SvgExport"]

#: the bounds of the drawing area's maximum height, in pixels (it scrolls / pans beyond that)
MIN_HEIGHT, MAX_HEIGHT = 100, 5000


class _Whole(traitlets.Int):
    """An Int trait that refuses floats, bools and numbers out of range with a clear ValueError."""

    def __init__(self, default: int, low: int, high: int | None, meaning: str) -> None:
        super().__init__(default)
        self.low, self.high, self.meaning = low, high, meaning

    def validate(self, obj: Any, value: Any) -> int:
        return check_whole(str(self.name), value, self.low, self.high, self.meaning)


class _SampleIndex(traitlets.Int):
    """The followed sample: a whole number in range (floats, bools, strings refused clearly)."""

    def validate(self, obj: Any, value: Any) -> int:
        return obj._valid_sample(value)


class GraphWidget(BaseWidget):
    """The computation graph behind ``root``, live in the notebook.

    ``GraphWidget(L)`` draws every Value (label, data, grad; coloured by grad) and every op; an
    unlabelled node is called by its op and count (``tanh·3``: the third tanh from the inputs)
    in the drawing, the step-through and the details. It opens on its output, shrunk to the
    cell's width no further than readable text (scroll for the rest; Fit does the same).
    ``refresh()`` redraws the numbers after Python changed them (e.g. another ``backward()``),
    keeping the layout. ``step()`` / ``run()`` / ``reset_grads()`` walk backpropagation one node
    at a time (also as buttons): each op node carries its step number (the backward order), a
    grad not computed yet shows as "grad —" (hatched, unlike a grad of 0), a reused node lists
    each ``+=`` contribution as it lands, and the edge being applied shows ``upstream × local =
    contribution``; without a kernel (a saved notebook, a kernel shut down) Step / Run / Reset
    replay the recorded pass in the page. ``check_gradient(name)`` (or the details panel's
    *Check numerically*) puts a leaf's central finite difference beside its autograd grad.
    ``model=`` groups nodes by module (neuron, layer); ``max_nodes`` bounds what is drawn;
    ``save_svg(path)`` exports the drawing. :meth:`follow` makes a graph of one training
    sample's loss, redrawn as the trainer steps, on the trainer's one timeline.
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
    height = _Whole(520, MIN_HEIGHT, MAX_HEIGHT, "the drawing's maximum height in pixels").tag(
        sync=True
    )
    #: the most nodes drawn for a new root (groups opened by hand may draw more); not synced
    max_nodes = _Whole(300, 10, None, "how many nodes to draw")
    # link, sample, followed, recording(_steps), replay: see the module docstring
    link = traitlets.Unicode("").tag(sync=True)
    sample = _SampleIndex(-1).tag(sync=True)
    followed = traitlets.Dict().tag(sync=True)
    #: the last numeric check: unit, autograd, numeric, h, relative_error, note
    check = traitlets.Dict().tag(sync=True)
    recording = traitlets.Bytes(b"").tag(sync=True)
    recording_steps = traitlets.List(traitlets.Int()).tag(sync=True)
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
        check_options(rankdir, kwargs, self.trait_names())
        self._graph_lock = threading.RLock()  # see "one writer at a time" below
        super().__init__(
            max_nodes=max_nodes, rankdir=rankdir, font_size=font_size, height=height, **kwargs
        )
        self._svg_requests = SvgRequests()
        #: the file the last save_svg() wrote (None until a view has answered)
        self.last_saved_svg: Path | None = None
        self._content = GraphContent(root, model, self.max_nodes)
        self._apply(self._content.layout)

    # ---- one writer at a time: a followed graph's traits change from its refresh thread and the
    # kernel's. ipywidgets' hold_sync() is not thread-safe: a trait set on one thread while the
    # other holds sync is sent only at some later hold_sync (seen: a stale recording in the view),
    # so every trait change and every held block takes the graph lock.

    @contextlib.contextmanager
    def hold_sync(self) -> Iterator[None]:
        with self._graph_lock, super().hold_sync():
            yield

    def notify_change(self, change: Any) -> None:
        # no lock yet while traitlets builds the widget
        with getattr(self, "_graph_lock", None) or contextlib.nullcontext():
            super().notify_change(change)

    def _apply(self, change: Callable[..., Traits | Iterable[Traits]], *args: Any) -> None:
        """Call ``change`` (a GraphContent method) under the graph lock and set the traits it
        returns ({name: value}, or a list or iterator of them): one message per dict."""
        with self._graph_lock:
            result = change(*args)
            for traits in [result] if isinstance(result, dict) else result:
                with self.hold_sync():
                    for name, value in traits.items():
                        setattr(self, name, value)

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
        svm / log / mse term; k classes: its cross-entropy) at the current weights, the
        parameters as leaves named by their dotted names, the grads those of that sample's loss.
        It is rebuilt after every training step, at most ``max_fps`` times a second, on a thread
        of its own (training only wakes it; weights are read under ``trainer.lock``).

        The run is recorded for the one timeline of the trainer's views: the weights every
        ``record_every``-th step, up to ``max_recorded`` frames (then every other one is dropped
        and the interval doubles, as the boundary's recording does); the view gets the graph's
        numbers at each (float32 data and grad per drawn unit: 8 bytes × units × frames, about
        40 KB for the seed net's folded graph). Scrubbing a linked view's timeline shows the
        recorded step at or before it, also in a saved notebook without a kernel. Set
        ``g.sample`` to follow another sample, or pick one in a linked view (the boundary's
        Inspect). Step-through works while training is paused. ``options``: ``max_nodes``,
        ``rankdir``, ``font_size``, ``height``.
        """
        following = Following(trainer, sample, max_fps, record_every, max_recorded)
        root, info = following.first_graph()
        widget = cls(root, model=following.source.shadow, **options)
        widget._apply(widget._content.start_following, following, info)
        following.start(widget._background_pass, name=f"mgw-graph-follow-{id(widget):x}")
        widget._apply(widget._content.fold_innermost, widget.max_nodes)
        return widget

    @property
    def trainer(self) -> Trainer | None:
        """The trainer this graph follows (None for a plain graph)."""
        return self._content.trainer

    @property
    def refresh_times_ms(self) -> list[float]:
        """How long the last refreshes of a followed graph took, in ms (build, backward, send)."""
        return self._content.refresh_times_ms

    def _valid_sample(self, value: object) -> int:
        content = getattr(self, "_content", None)  # None while traitlets builds the widget
        return check_sample(content.following if content is not None else None, value)

    @traitlets.observe("sample")
    def _sample_changed(self, change: dict) -> None:
        if self._content.following is not None and change["old"] != -1:
            self._apply(self._content.new_sample, self.sample, self.max_nodes)

    def _background_pass(self) -> None:
        """One pass of the refresh thread (:meth:`GraphContent.followed_pass`), if seen."""
        if self.ever_viewed and not self.live_views:
            return  # nobody sees it: skip the work
        try:
            with self._graph_lock:  # the sample read and its pass in one hold
                self._apply(self._content.followed_pass, self.sample, self.max_nodes)
        except Exception as exc:  # shown in the banner; the next step tries again
            self._show_error("refresh of the followed sample", exc)

    # ---- public API ----------------------------------------------------------------------

    @property
    def root(self) -> Value:
        return self._content.graph.root

    @root.setter
    def root(self, root: Value) -> None:
        self.set_root(root, model=self._content.model)

    def set_root(self, root: Value, model: Module | None = None) -> None:
        """Show a new graph (re-lays out); ``model`` groups its nodes by module scope."""
        self._apply(self._content.set_root, root, model, self.max_nodes)

    def refresh(self) -> None:
        """Redraw data, grads and colours from the Values (the layout stays). A followed graph
        is rebuilt at the trainer's current weights now, and its recording brought up to date
        (it otherwise catches up on its own thread, a moment after the steps)."""
        with self._graph_lock:  # the sample read and its refresh in one hold
            self._apply(self._content.refreshed, self.sample, self.max_nodes)

    def step(self, n: int = 1) -> list[str]:
        """Apply the next ``n`` (>= 1) chain-rule steps of backprop; return their arithmetic."""
        with self._graph_lock:
            self._apply(self._content.step, n)
            return self._content.stepper.lines

    def run(self) -> None:
        """Apply all remaining steps: the grads then equal those of ``root.backward()``."""
        self._apply(self._content.run)

    def reset_grads(self) -> None:
        """Zero the grad of every node in the graph and restart the step-through."""
        self._apply(self._content.reset)

    @property
    def finished(self) -> bool:
        """True when the step-through has applied every step."""
        return self._content.stepper.finished

    @property
    def selected_value(self) -> Value | None:
        """The Value shown in the detail panel (None for none, or for a group)."""
        return self._content.value_at(self.selected)

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: dict) -> int:
        n = self._content.unit_count if hasattr(self, "_content") else 0
        return check_whole("selected", proposal["value"], -1, n - 1, "a node index, -1 for none")

    def check_gradient(self, node: str | Value) -> dict[str, Any]:
        """The numeric check of a leaf (an input or a parameter, by name or Value): autograd's
        d(root)/d(leaf) of a fresh backward pass beside the central finite difference, and their
        relative error (see :func:`~micrograd_widgets.stepper.finite_difference` for how h is
        chosen). Also shown in the view's detail panel."""
        self._apply(self._content.check, node)
        return dict(self.check)

    def expand(self, scope: str) -> None:
        """Open the group of module ``scope`` (e.g. ``"layers.0.neurons.3"``); re-lays out."""
        self._apply(self._content.expand, scope)

    def collapse(self, scope: str) -> None:
        """Fold the nodes of module ``scope`` into one box; re-lays out."""
        self._apply(self._content.collapse, scope)

    @property
    def scopes(self) -> list[str]:
        """The module scopes nodes are grouped by ("" is the model itself)."""
        return [s.path for s in self._content.graph.scopes]

    def save_svg(self, path: str | Path) -> SvgExport:
        """Save the drawing as a standalone SVG file at ``path``; returns an :class:`SvgExport`.

        A cell cannot wait for its view's reply: this asks the displayed view and returns at
        once; the file is written when the reply arrives, right after the cell (see SvgExport).
        The toolbar's "Save SVG" button downloads the same file from the browser.
        """
        request, export = self._svg_requests.ask(path)
        self.send({"type": "export_svg", "request": request})
        return export

    def _describe(self) -> str:
        return self._content.describe()

    # ---- messages from the view ----------------------------------------------------------

    def _on_step(self, _content: dict, _buffers: list[bytes]) -> None:
        self.step()

    def _on_run(self, _content: dict, _buffers: list[bytes]) -> None:
        self.run()

    def _on_reset(self, _content: dict, _buffers: list[bytes]) -> None:
        self.reset_grads()

    def _on_select(self, content: dict, _buffers: list[bytes]) -> None:
        self.selected = self._content.selectable(content.get("unit"))

    def _on_check(self, content: dict, _buffers: list[bytes]) -> None:
        self.check_gradient(self._content.checkable(content.get("unit")))

    def _on_toggle(self, content: dict, _buffers: list[bytes]) -> None:
        self._apply(self._content.toggle, content.get("scope"))

    def _on_follow_sample(self, content: dict, _buffers: list[bytes]) -> None:
        index = self._content.sample_to_follow(content.get("index"))
        if index is not None:
            self.sample = index  # validated: a bad index shows in the banner

    def _on_svg(self, content: dict, _buffers: list[bytes]) -> None:
        export = self._svg_requests.answer(content.get("request"), content.get("svg"))
        if export is not None:
            self.last_saved_svg = export.path

    def _views_changed(self, event: str) -> None:
        if self.live_views:
            self._content.wake()  # a followed graph may have missed steps while no view showed it

    def close(self) -> None:
        """Close the widget; a followed trainer is no longer watched (training goes on)."""
        if getattr(self, "_content", None) is not None:
            self._content.stop_following()
        super().close()
