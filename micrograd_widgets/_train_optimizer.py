"""Which optimizer a Trainer applies, apart from it: built from a name or checked, switched between
steps, and over each distinct parameter once -- with weight tying one Value sits twice in
``model.parameters()``, and updating it twice per step would apply its gradient twice. It keeps
the initial weights too: :meth:`OptimizerChoice.restart` (a reset) starts from them again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .engine import Value
from .optim import LearningRate, Optimizer, make_optimizer

if TYPE_CHECKING:
    from ._engine_choice import BatchResult


class OptimizerChoice:
    """The trainer's current :class:`~micrograd_widgets.optim.Optimizer` (:attr:`current`) over
    the distinct entries of ``parameters``, the translation between the trainer's gradient
    and change arrays (one number per entry of ``parameters``) and the optimizer's, and the
    weights the parameters started from."""

    def __init__(
        self, parameters: list[Value], optimizer: str | Optimizer, lr: LearningRate
    ) -> None:
        self.parameters = parameters
        self.initial = [p.data for p in parameters]  # for restart()
        first: dict[Value, int] = {}
        for i, p in enumerate(parameters):
            first.setdefault(p, i)
        # None: no Value is shared, the arrays need no translation (the usual case)
        self._distinct = None if len(first) == len(parameters) else list(first.values())
        self.current: Optimizer = make_optimizer(
            optimizer, list(first), **({} if lr is None else {"lr": lr})
        )

    def switch(self, optimizer: str | Optimizer, **options: Any) -> Optimizer:
        """A fresh optimizer (by name with ``options``, or one given) over the same parameters."""
        self.current = make_optimizer(optimizer, self.current.parameters, **options)
        return self.current

    def restart(self) -> None:
        """The initial weights again, every gradient 0, and the optimizer's state reset (step
        count 0, no momentum or running averages)."""
        for p, value in zip(self.parameters, self.initial):
            p.data = value
            p.grad = 0.0
        self.current.reset()

    def step(self, batch: BatchResult, grads: np.ndarray) -> np.ndarray:
        """The optimizer's step from the batch's gradients (one per parameter entry); returns
        the change of each entry. Without shared Values the batch applies it (a compiled one
        updates its weight array and writes each Value's data and grad in one pass)."""
        if self._distinct is None:
            return batch.update(self.current, grads)
        return self.spread(self.current.step(grads=self.distinct(grads)))

    def distinct(self, grads: np.ndarray) -> np.ndarray:
        """The trainer's gradients (one per parameter entry) as the optimizer takes them."""
        return grads if self._distinct is None else grads[self._distinct]

    def spread(self, change: np.ndarray) -> np.ndarray:
        """The optimizer's change of each distinct Value as the change of each parameter entry."""
        if self._distinct is None:
            return change
        position = {p: i for i, p in enumerate(self.current.parameters)}
        return change[[position[p] for p in self.parameters]]
