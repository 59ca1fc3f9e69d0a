"""The Playground's parts, apart from the widget: the Trainer it runs and the widgets inside its
view that show it (a DecisionBoundary, a GradientHeatmap and, when asked, a GraphWidget following
one sample), made together for a config and closed together when it changes.

:class:`PlaygroundParts` is a small helper the Playground owns; it knows nothing of the
Playground's traits or config dict (it gets a checked config and the data it describes), and the
Playground calls it under its own lock. It imports no widget module: the Playground, the one
module that composes widgets, hands it the widget classes to make.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ._playground_config import build_data
from ._playground_run import build_trainer
from .train import Trainer, TrainerEvent

__all__ = ["PlaygroundParts", "can_follow"]


class PlaygroundParts:
    """A Trainer and the inner widgets that show it (or none of them, while the data is not
    enough to train on); ``on_event`` gets the trainer's events while these parts are open.

    ``boundary``, ``heatmap`` and ``graph`` are the widget classes to make:
    ``boundary(trainer)``, ``heatmap(trainer)`` and ``graph.follow(trainer, 0)`` (when the
    graph class has ``follow``, see :func:`can_follow`).

    Made in marimo, the parts are made as part of the cell that made their owner (see
    :func:`as_part_of_cell`), also when a rebuild runs in a message handler.
    """

    def __init__(
        self,
        on_event: Callable[[TrainerEvent], None],
        boundary: type[Any],
        heatmap: type[Any],
        graph: type[Any],
    ) -> None:
        self._on_event = on_event
        self._types = {"boundary": boundary, "heatmap": heatmap, "graph": graph}
        self._home_cell = marimo_cell()  # in marimo, the cell that made the owner
        self._unsubscribe: Callable[[], None] | None = None
        self.trainer: Trainer | None = None
        self.boundary: Any = None
        self.heatmap: Any = None
        self.graph: Any = None
        #: why there is no trainer ("" when there is one, or before the first build)
        self.problem = ""

    def build(self, config: Mapping[str, Any]) -> None:
        """Close the parts shown now; make a new Trainer (step 0) of ``config`` on its data and
        its boundary and heatmap, unless :attr:`problem` says the data cannot be trained on yet.
        The sample graph is left to :meth:`show_graph`."""
        self.close()
        data = build_data(config)
        self.problem = data.problem
        if data.problem:
            return
        trainer = build_trainer(config, data)
        boundary_type = self._types["boundary"]
        with as_part_of_cell(self._home_cell):
            boundary = boundary_type(trainer, **_boundary_options(boundary_type))
            heatmap = self._types["heatmap"](trainer)
        self.trainer, self.boundary, self.heatmap = trainer, boundary, heatmap
        self._unsubscribe = trainer.observe(self._on_event)

    def require_trainer(self) -> Trainer:
        """The trainer, or a ValueError saying why there is none (e.g. too few drawn points)."""
        if self.trainer is None:
            raise ValueError(self.problem or "there is no trainer yet")
        return self.trainer

    def show_graph(self, wanted: bool) -> None:
        """Follow training sample 0 in a GraphWidget when ``wanted`` (and there is a trainer,
        and the library's GraphWidget can follow one), or drop the one shown."""
        graph_type = self._types["graph"]
        wanted = wanted and self.trainer is not None and can_follow(graph_type)
        if wanted and self.graph is None:
            with as_part_of_cell(self._home_cell):
                self.graph = graph_type.follow(self.trainer, 0)
        elif not wanted and self.graph is not None:
            self.graph.close()
            self.graph = None

    def refs(self) -> dict[str, str]:
        """Slot -> how anywidget's ``host.getWidget`` names the widget shown there ("" = none)."""
        return {
            "boundary": _ref(self.boundary),
            "heatmap": _ref(self.heatmap),
            "graph": _ref(self.graph),
        }

    def refresh_views(self) -> None:
        """Send the boundary and heatmap fresh (a new rate set on the trainer is no trainer
        event: show it now)."""
        for widget in (self.boundary, self.heatmap):
            if widget is not None:
                widget._refresh_view()

    def unsubscribe(self) -> None:
        """Stop passing the trainer's events on (closing does this too, first)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def close(self) -> None:
        """Close the inner widgets and stop the trainer; the parts are then empty."""
        self.unsubscribe()
        for widget in (self.graph, self.boundary, self.heatmap):
            if widget is not None:
                widget.close()  # the last one stops the trainer
        if self.trainer is not None:
            self.trainer.stop()
        self.trainer = self.boundary = self.heatmap = self.graph = None


def can_follow(graph_type: type[Any]) -> bool:
    """Whether the graph widget class can follow a trainer's sample (``GraphWidget.follow``)."""
    return callable(getattr(graph_type, "follow", None))


def marimo_cell() -> Any:
    """The marimo cell running now (None outside marimo, or between cells)."""
    if "marimo" not in sys.modules:  # never import marimo into a Jupyter kernel
        return None
    try:
        from marimo._runtime.context import get_context

        return get_context().cell_id
    except Exception:  # not in a marimo runtime, or its internals moved
        return None


@contextlib.contextmanager
def as_part_of_cell(cell: Any) -> Iterator[None]:
    """Run the block as part of marimo cell ``cell`` (a no-op elsewhere).

    marimo opens a widget's comm (and serves its ES module) only while a cell runs: a widget made
    in a message handler, as a rebuild's inner widgets are, failed with an AssertionError in
    marimo 0.25. Making them as part of the playground's own cell also ties them to its life:
    re-running that cell disposes them with it.
    """
    if cell is None or marimo_cell() is not None:
        yield
        return
    from marimo._runtime.context import get_context

    with get_context().with_cell_id(cell):
        yield


def _ref(widget: Any) -> str:
    """How anywidget's ``host.getWidget`` names a widget in the page."""
    return "" if widget is None else f"anywidget:{widget.model_id}"


def _boundary_options(boundary_type: type[Any]) -> dict[str, Any]:
    """Options the boundary offers: per-neuron thumbnails, and no run controls of its own (the
    Playground's toolbar runs the trainer, and its config must stay the one source of the lr)."""
    options: dict[str, Any] = {}
    if "neurons" in inspect.signature(boundary_type).parameters:
        options["neurons"] = True
    if hasattr(boundary_type, "run_controls"):
        options["run_controls"] = False
    return options
