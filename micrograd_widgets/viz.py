"""Static computation-graph drawing with Graphviz, in the style of micrograd's ``draw_dot``.

``draw_dot(root)`` returns a :class:`graphviz.Digraph`: one record node per :class:`Value`
(``label | data | grad``) and a small node per operation between a value and its inputs. Building
the graph and reading ``.source`` need only the ``graphviz`` Python package; rendering (Jupyter
display, ``.render()``, ``.pipe()``) needs the Graphviz ``dot`` program. Without it, the cell shows
how to install it instead of a traceback, and ``render``/``pipe`` raise
:class:`GraphvizNotInstalled` with the same advice. For a drawing that needs no system software
at all, use :class:`micrograd_widgets.GraphWidget`.
"""

from __future__ import annotations

import html
from typing import Any

import graphviz

from ._graph_summary import RANKDIRS
from .engine import Value

__all__ = ["INSTALL_HINT", "ComputationGraph", "GraphvizNotInstalled", "draw_dot", "format_number"]

INSTALL_HINT = (
    "The Graphviz program `dot` was not found, so this graph cannot be rendered here.\n"
    "Install Graphviz (the system package, not only the Python one):\n"
    "  Debian/Ubuntu: sudo apt-get install graphviz\n"
    "  macOS:         brew install graphviz\n"
    "  conda:         conda install -c conda-forge graphviz\n"
    "  Windows:       winget install graphviz  (then restart Jupyter so PATH is updated)\n"
    "The DOT text is still available as `.source`. GraphWidget(root) draws the same graph in "
    "the browser without Graphviz."
)

# characters with a meaning inside a Graphviz record label
_RECORD_SPECIALS = "{}|<>"


class GraphvizNotInstalled(graphviz.ExecutableNotFound):
    """Rendering needs the Graphviz ``dot`` program, which is not on PATH."""

    def __init__(self, original: Exception | None = None) -> None:
        detail = f"\n({original})" if original else ""
        RuntimeError.__init__(self, INSTALL_HINT + detail)


class ComputationGraph(graphviz.Digraph):
    """A :class:`graphviz.Digraph` whose rendering explains how to install Graphviz if missing."""

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        try:
            return super()._repr_mimebundle_(include=include, exclude=exclude, **kwargs)
        except graphviz.ExecutableNotFound:
            return {
                "text/plain": INSTALL_HINT,
                "text/html": f"<pre>{html.escape(INSTALL_HINT)}</pre>",
            }

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().pipe(*args, **kwargs)
        except GraphvizNotInstalled:
            raise
        except graphviz.ExecutableNotFound as exc:
            raise GraphvizNotInstalled(exc) from exc

    def render(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().render(*args, **kwargs)
        except GraphvizNotInstalled:
            raise
        except graphviz.ExecutableNotFound as exc:
            raise GraphvizNotInstalled(exc) from exc


def format_number(x: float) -> str:
    """Four decimals like micrograd; scientific notation where that would hide the value."""
    if x == 0 or (1e-3 <= abs(x) < 1e6):
        return f"{x:.4f}"
    return f"{x:.4g}"


def escape_record_text(text: str) -> str:
    """Escape ``text`` so it shows literally inside a Graphviz record label."""
    text = text.replace("\\", "\\\\")
    for ch in _RECORD_SPECIALS:
        text = text.replace(ch, "\\" + ch)
    # quotes: escaped here so graphviz.quote() leaves them; line breaks become record line breaks
    return text.replace('"', '\\"').replace("\r\n", "\\n").replace("\n", "\\n")


def draw_dot(root: Value, rankdir: str = "LR", format: str = "svg") -> ComputationGraph:
    """Draw the graph that computes ``root``: a record per Value, a small node per op.

    ``rankdir`` is ``"LR"`` (inputs left, output right, the default) or ``"TB"``/``"RL"``/
    ``"BT"``; ``format`` is the output format used by ``.render()``/``.pipe()`` (``svg``, ``png``,
    ...). The walk is iterative, so graphs of any depth work.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot expects a Value (the output node), got {type(root).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")

    dot = ComputationGraph(format=format, graph_attr={"rankdir": rankdir})
    nodes = root.topological_order()  # iterative: no RecursionError on deep graphs
    names = {node: f"n{i}" for i, node in enumerate(nodes)}
    for node in nodes:
        name = names[node]
        label = escape_record_text(node.label)
        dot.node(
            name,
            label=(
                f"{{ {label} | data {format_number(node.data)} | grad {format_number(node.grad)} }}"
            ),
            shape="record",
        )
        if node._op:
            op_name = name + "_op"
            dot.node(op_name, label=node._op)
            dot.edge(op_name, name)
        # micrograd draws each distinct input once (a * a has one edge)
        for child in dict.fromkeys(node._prev):
            dot.edge(names[child], name + "_op")
    return dot
