"""Which engine a Trainer steps with: the compiled step when its model and loss can be traced,
else the scalar engine (with a warning saying why, or an error for ``engine="compiled"``).

The compiled step is kept while what it was compiled for stays the same, and traced again when
the model (watched by :class:`~micrograd_widgets.compiled._model.ModelWatch`), the loss, the
penalty or ``exact`` change. Added points, new weights and another batch size need no retrace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np

from . import losses
from ._training_data import output_array
from ._warn import warn_user
from .compiled import CompiledStep, CompileError, compile_step
from .compiled._model import ModelWatch

if TYPE_CHECKING:
    from .optim import Optimizer
    from .train import Trainer

EngineRequest = Literal["auto", "compiled", "scalar"]
ENGINES = ("auto", "compiled", "scalar")


class EngineInUse(str):
    """Which engine a Trainer steps with: ``"compiled"`` or ``"scalar"`` (compare it as a str).

    ``requested`` is what was asked for ("auto", "compiled" or "scalar"); ``reason`` says why
    "auto" fell back to the scalar engine ("" when it did not).
    """

    requested: str
    reason: str

    def __new__(cls, value: str, requested: str = "auto", reason: str = "") -> EngineInUse:
        engine = super().__new__(cls, value)
        engine.requested = requested
        engine.reason = reason
        return engine

    def __repr__(self) -> str:
        return str.__repr__(self) + (f" (fell back: {self.reason})" if self.reason else "")


class ScalarTape:
    """What ``trainer.tape`` is when the trainer steps on the scalar engine: no tape, and why."""

    engine = "scalar"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def summary(self) -> str:
        why = self.reason or 'engine="scalar" was asked for'
        return (
            "No tape: this trainer builds every sample's graph of Values each step (the scalar "
            f"engine), because {why}."
        )

    def __repr__(self) -> str:
        return self.summary()


def check_request(engine: object) -> EngineRequest:
    if engine not in ENGINES:
        raise ValueError(f"engine must be 'auto', 'compiled' or 'scalar', got {engine!r}")
    return engine  # type: ignore[return-value]


def _fallback_warning(error: CompileError) -> None:
    warn_user(
        f"Trainer: the compiled engine cannot run this model and loss ({error}); training on "
        "the scalar engine instead (same numbers, slower)",
        UserWarning,
    )


class EngineChoice:
    """The engine one trainer asked for and the compiled step it uses (None: scalar engine).

    Every method is called with the trainer's lock held.
    """

    def __init__(self, request: EngineRequest, exact: bool) -> None:
        self.request = check_request(request)
        if not isinstance(exact, bool):
            raise ValueError(f"exact must be True or False, got {exact!r}")
        self.exact = exact
        self.compiled: CompiledStep | None = None
        self.reason = ""  # why "auto" fell back to the scalar engine
        self._compiled_for: tuple | None = None
        self._watch: ModelWatch | None = None

    def ask(self, request: EngineRequest) -> None:
        """Switch to ``request``; the next :meth:`ensure` decides again."""
        self.request = check_request(request)
        self.compiled, self._compiled_for, self.reason = None, None, ""

    def in_use(self, trainer: Trainer) -> EngineInUse:
        if self.request != "scalar":
            self.ensure(trainer)
        value = "compiled" if self.compiled is not None else "scalar"
        return EngineInUse(value, self.request, self.reason)

    def tape(self, trainer: Trainer) -> CompiledStep | ScalarTape:
        if self.request != "scalar":
            self.ensure(trainer)
        return self.compiled if self.compiled is not None else ScalarTape(self.reason)

    def _key(self, trainer: Trainer) -> tuple:
        """What the compiled step was built for, besides the model (watched separately)."""
        return (
            id(trainer.model), trainer.loss, trainer.regularization, trainer.alpha, self.exact,
            id(trainer.parameters), len(trainer.parameters),
        )  # fmt: skip

    def ensure(self, trainer: Trainer) -> CompiledStep | None:
        """The compiled step for the next step (tracing again if something it depends on
        changed), or None for the scalar engine."""
        if self.request == "scalar":
            return None
        key = self._key(trainer)
        if key == self._compiled_for:
            if self.compiled is None:  # fell back for this model and loss: stay, warn once
                return None
            if self._watch is not None and self._watch.unchanged(trainer.model):
                return self.compiled
        self.compiled, self._compiled_for, self.reason = None, None, ""
        try:
            self._watch = ModelWatch(trainer.model)
            self.compiled = compile_step(
                trainer.model, trainer.parameters, trainer.X, loss=trainer.loss,
                regularization=trainer.regularization, alpha=trainer.alpha, exact=self.exact,
            )  # fmt: skip
        except CompileError as error:
            if self.request == "compiled":
                raise
            self.reason = str(error)
            _fallback_warning(error)
        self._compiled_for = key
        return self.compiled

    def fall_back(self, error: CompileError) -> None:
        """A compiled step found mid-step that it cannot go on: scalar engine from now on."""
        if self.request == "compiled":
            raise error
        self.compiled = None
        self.reason = str(error)
        _fallback_warning(error)


class BatchResult:
    """One batch's loss and scores, its gradients on demand, and the update from them.

    ``grads()`` is asked only when the loss did not diverge; then either ``update()`` (every
    gradient finite) or ``keep_grads()`` (no update follows). Afterwards every ``p.grad`` and
    ``p.data`` is as the seed's loop (``zero_grad()``, ``backward()``, the update) leaves it,
    whichever engine ran.
    """

    def __init__(
        self,
        loss: float,
        scores: np.ndarray,
        grads: Callable[[], np.ndarray],
        compiled: CompiledStep | None = None,
        theta: np.ndarray | None = None,
    ) -> None:
        self.loss = loss
        self.scores = scores  # (n,) for one output, (n, k) for k
        self.grads = grads
        self._step = compiled
        self._theta = theta

    def update(self, optimizer: Optimizer, grads: np.ndarray) -> np.ndarray:
        """The optimizer's step from ``grads`` (the optimizer's parameters are the Trainer's, in
        order); returns the change of each parameter."""
        if self._step is None or self._theta is None:  # the scalar engine
            return optimizer.step(grads=grads)
        # the compiled step holds the weights as an array already: update the array, then write
        # each parameter's data and grad in one pass (instead of read, write, read, write)
        new = optimizer.update(self._theta, grads)
        self._step.write_parameters(grads, new)
        return new - self._theta

    def keep_grads(self, grads: np.ndarray) -> None:
        """No update follows (a gradient is not finite): leave every ``p.grad`` as
        ``backward()`` does (the scalar engine's backward wrote them already)."""
        if self._step is not None:
            self._step.write_grads(grads)


def compute_batch(
    choice: EngineChoice, trainer: Trainer, X: np.ndarray, y: np.ndarray
) -> BatchResult:
    """Loss, scores and (lazily) gradients of one batch at the current weights, on the engine
    ``choice`` picks: the same numbers either way."""
    compiled = choice.ensure(trainer)
    if compiled is not None:
        theta = compiled.read_parameters()
        try:
            loss, scores, grads = compiled.step(X, y, theta)
        except CompileError as error:  # e.g. a custom loss that uses the parameters
            choice.fall_back(error)
        else:
            return BatchResult(loss, scores, lambda: grads, compiled, theta)
    # the scalar engine: the seed's loop, one graph of Values per sample
    outputs = [trainer.model(row) for row in X.tolist()]
    total = losses.total_loss(
        outputs, y, trainer.parameters, loss=trainer.loss,
        regularization=trainer.regularization, rate=trainer.alpha,
    )  # fmt: skip

    def backward() -> np.ndarray:
        trainer.model.zero_grad()
        total.backward()
        grads = (p.grad for p in trainer.parameters)
        return np.fromiter(grads, np.float64, len(trainer.parameters))

    scores = output_array(outputs, len(y), trainer.outputs)
    return BatchResult(total.data, scores, backward)
