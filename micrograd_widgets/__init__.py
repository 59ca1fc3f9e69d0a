"""micrograd-widgets: learn backpropagation inside Jupyter.

A micrograd-style scalar autograd engine (:class:`Value`), a tiny neural-network library
(:class:`Module`, :class:`Neuron`, :class:`Layer`, :class:`MLP`) and anywidget widgets that show
the computation graph, gradient heatmaps and a decision boundary live in a notebook cell.

The widgets and training helpers are imported on first use, so ``from micrograd_widgets import
Value`` stays as light as the engine itself.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .engine import Value
from .nn import MLP, Layer, Module, Neuron

try:
    __version__ = version("micrograd-widgets")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0.0.0"

# public name -> submodule that defines it
_LAZY = {
    "draw_dot": "viz",
    "GraphWidget": "graph",
    "Trainer": "train",
    "stop_all": "train",
    "DecisionBoundary": "boundary",
    "GradientHeatmap": "heatmap",
    "save_html": "export",
    "row": "layout",
    "column": "layout",
    "datasets": None,
    "losses": None,
    "optim": None,
}

__all__ = ["MLP", "Layer", "Module", "Neuron", "Value", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'micrograd_widgets' has no attribute {name!r}")
    module = import_module(f".{_LAZY[name] or name}", __name__)
    value = module if _LAZY[name] is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
