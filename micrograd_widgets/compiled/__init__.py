"""Compiled training: trace one sample's graph once, replay it over the whole batch, bit for bit.

The scalar engine builds the same graph for every sample of every step -- ~84,000 ``Value``
nodes for the seed demo -- and walks it node by node. A compiled step records that graph once
(one sample through the model, the loss on a few probe scores) and replays it with numpy over
the whole batch: a layer's neurons become one block of ``(width, batch)`` arrays, the loss's
per-sample terms become arrays, and the sums over samples and parameters become single calls.

It is the *same computation*: every op is the engine's, elementwise; every sum is added in the
order ``backward()`` adds it (``0.0`` + sample 0's contribution + sample 1's + ... + the
penalty's); the transcendental functions are libm's, as in the engine. Loss, scores and every
gradient come out bit for bit equal to the scalar engine's. With ``exact=False`` the layers use
matrix multiplies instead: faster, within ~1e-12 relative, no longer bit for bit.

A model with k outputs (``MLP(2, [.., k])``, k classes) compiles as a stack of dense layers; its
scores are then ``(batch, k)`` logits and the loss is the library's softmax cross-entropy, which
reads ``.data`` (each sample's largest logit) and so is replayed by its own exact array code
(:mod:`._softmax`, checked against the scalar engine when compiled), following the order in which
``backward()`` visits each sample's logits (it depends on the sample's class). The compiled step
returns the gradients; the update itself is the Trainer's optimizer's, the same for both engines.

What a trace cannot stand for is refused with :class:`CompileError` (a
:class:`~micrograd_widgets.train.Trainer` with ``engine="auto"`` then warns and stays on the
scalar engine): code that reads ``.data`` while it builds the model's graph (it could branch per
sample), random numbers drawn while computing (dropout), constants that change between samples
(data baked in), a Value that is not a parameter but shared by every sample, weight tying, an op
the compiler does not know. A loss that reads ``.data`` or a custom loss function is run on the
scalar engine each step with the compiled scores as leaves -- exact, because a score's gradient
comes from the loss alone. The library's log loss reads it too (it branches per sample to avoid
overflow) but has its own exact array replay (:mod:`._log_loss`), as cross-entropy has.

>>> from micrograd_widgets import MLP, datasets
>>> from micrograd_widgets.compiled import compile_step
>>> data = datasets.moons(100, noise=0.1, seed=0)
>>> model = MLP(2, [16, 16, 1], seed=1)
>>> step = compile_step(model, model.parameters(), data.X, loss="svm", regularization="l2")
>>> out = step.forward(data.X, data.y)   # at the model's current weights
>>> round(out.loss, 6), out.scores.shape, out.backward().shape   # loss, scores, every gradient
(0.893125, (100,), (337,))

``repr(step)`` says what was compiled (ops per sample, the layers as arrays, numpy calls per step).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import losses
from ..engine import Value, gc_paused
from . import _kernels as K
from ._graph import same_float
from ._model import (
    DenseProgram,
    GenericModelProgram,
    build_model_program,
    library_modules,
    trace_model,
)
from ._objective import ObjectiveProgram, ObjectiveState, compile_objective
from ._trace import CompileError

__all__ = ["CompileError", "CompiledStep", "Forward", "compile_step"]

_DATA = operator.attrgetter("data")


def _probe_rows(X: np.ndarray) -> np.ndarray:
    """Two different rows of ``X`` to trace on (a shifted copy if all rows are the same)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"X must be a non-empty 2-D array of shape (n, features), got {X.shape}")
    for row in X[1:]:
        if not np.array_equal(row, X[0]):
            return np.stack([X[0], row])
    return np.stack([X[0], X[0] + 0.5])


@dataclass
class Forward:
    """One compiled forward pass: the loss and scores now, every gradient on :meth:`backward`."""

    step: CompiledStep
    loss: float
    scores: np.ndarray
    model_state: object
    objective_state: ObjectiveState

    def backward(self) -> np.ndarray:
        """Every parameter's gradient, as ``zero_grad(); loss.backward()`` leaves it."""
        with np.errstate(all="ignore"):  # inf and NaN propagate, as in the engine
            return self._backward()

    def _backward(self) -> np.ndarray:
        step = self.step
        dscores, order, penalty, output_order = step.objective.backward(
            self.objective_state, step.index
        )
        grads = np.zeros(step.count)
        if not step.objective.data_first:
            for contribution in penalty:
                grads = grads + contribution
        if output_order is None:
            step.model.backward(self.model_state, dscores, order, grads)
        else:  # k outputs (only a dense stack compiles with them)
            step.model.backward(self.model_state, dscores, order, grads, output_order)  # type: ignore[call-arg]
        if step.objective.data_first:
            for contribution in penalty:
                grads = grads + contribution
        return grads


_DATA = operator.attrgetter("data")


class CompiledStep:
    """A training step compiled from one traced sample (see the module docstring).

    Call :meth:`forward` with a batch, the labels and the parameter values; the result's
    ``loss`` and ``scores`` are the scalar engine's, and its ``backward()`` returns every
    parameter's gradient. ``repr()`` summarises what was compiled.
    """

    def __init__(
        self,
        model: object,
        parameters: Sequence[Value],
        model_program: DenseProgram | GenericModelProgram,
        objective: ObjectiveProgram,
        *,
        loss: Callable,
        loss_name: str,
        regularization: str | None,
        alpha: float,
        exact: bool,
    ) -> None:
        self.model_ref = model
        self.parameters = list(parameters)
        self.index = {p: i for i, p in enumerate(self.parameters)}
        self.count = len(self.parameters)
        self.model = model_program
        self.objective = objective
        self.loss_function = loss
        self.loss_name = loss_name
        self.regularization = regularization
        self.alpha = alpha
        self.exact = exact

    # ---- running ---------------------------------------------------------------------------

    def read_parameters(self) -> np.ndarray:
        """The parameters' current values, in order (read every step: anyone may set
        ``p.data`` between steps)."""
        return np.fromiter(map(_DATA, self.parameters), np.float64, self.count)

    def write_grads(self, grads: np.ndarray) -> None:
        """Set every parameter's grad, as ``zero_grad()`` and ``backward()`` leave it (the
        optimizer then reads the data and writes the update)."""
        for p, grad in zip(self.parameters, grads.tolist()):
            p.grad = grad

    def write_parameters(self, grads: np.ndarray, data: np.ndarray) -> None:
        """Set every parameter's grad and data (as ``backward()`` and the update leave them)."""
        for p, grad, value in zip(self.parameters, grads.tolist(), data.tolist()):
            p.grad = grad
            p.data = value

    def forward(
        self,
        X: np.ndarray,
        y: np.ndarray,
        theta: np.ndarray | None = None,
        *,
        loss: Callable | None = None,
    ) -> Forward:
        """Loss and scores for the batch ``X`` (n, features) with labels ``y`` (+1/-1, or
        0..k-1 for a model with k outputs; its scores are then (n, k))."""
        theta = self.read_parameters() if theta is None else theta
        try:
            with np.errstate(all="ignore"):  # inf and NaN propagate, as in the engine
                scores, model_state = self.model.forward(X, theta)
                state = self.objective.forward(scores, y, theta, loss)
        except K.ScalarErrorNeeded:
            self._raise_as_scalar(X, y, loss)
            raise
        return Forward(self, state.loss, scores, model_state, state)

    def step(
        self, X: np.ndarray, y: np.ndarray, theta: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """(loss, scores, every gradient) for one batch: :meth:`forward` and its ``backward()``."""
        try:
            with np.errstate(all="ignore"):  # inf and NaN propagate, as in the engine
                scores, model_state = self.model.forward(X, theta)
                state = self.objective.forward(scores, y, theta, None)
                grads = Forward(self, state.loss, scores, model_state, state)._backward()
        except K.ScalarErrorNeeded:
            self._raise_as_scalar(X, y, None)
            raise
        return state.loss, scores, grads

    def _raise_as_scalar(self, X: np.ndarray, y: np.ndarray, loss: Callable | None) -> None:
        """Some element would make an engine op raise: do the step on the scalar engine, so the
        error is exactly the one it raises (same op, same sample, same message)."""
        scores = [self.model_ref(row) for row in X.tolist()]  # type: ignore[operator]
        losses.total_loss(
            scores, y, self.parameters, loss=loss or self.loss_function,
            regularization=self.regularization, rate=self.alpha,
        )  # fmt: skip
        raise RuntimeError(
            "internal error: the compiled step found an invalid operation that the scalar "
            "engine does not raise on; please report it"
        )

    # ---- checking ---------------------------------------------------------------------------

    def check(
        self,
        X: np.ndarray,
        y: np.ndarray,
        loss: Callable | None = None,
        model: object = None,
        parameters: Sequence[Value] | None = None,
    ) -> None:
        """Run the step on the scalar engine and compiled; raise CompileError if they differ.

        ``model``/``parameters`` (default: the compiled ones) run the scalar side, e.g. a copy
        of a custom model; the parameters' grads are left as they were.
        """
        model = self.model_ref if model is None else model
        parameters = self.parameters if parameters is None else list(parameters)
        saved = [p.grad for p in parameters]
        try:
            scores = [model(list(row)) for row in X.tolist()]  # type: ignore[operator]
            total = losses.total_loss(
                scores, y, parameters, loss=loss or self.loss_function,
                regularization=self.regularization, rate=self.alpha,
            )  # fmt: skip
            for p in parameters:
                p.grad = 0.0
            total.backward()
            want = [p.grad for p in parameters]
            want_scores = [
                s.data for row in scores for s in (row if isinstance(row, list) else [row])
            ]
            want_loss = total.data
        finally:
            for p, g in zip(parameters, saved):
                p.grad = g
        theta = np.fromiter(map(_DATA, parameters), np.float64, len(parameters))
        out = self.forward(X, y, theta, loss=loss)
        got = out.backward().tolist()

        def agree(a: float, b: float) -> bool:
            if self.exact:
                return same_float(a, b) or (math.isnan(a) and math.isnan(b))
            return math.isclose(a, b, rel_tol=1e-10, abs_tol=1e-12)

        problems = []
        if not agree(out.loss, want_loss):
            problems.append(f"loss {out.loss!r} vs {want_loss!r}")
        for i, (a, b) in enumerate(zip(out.scores.ravel().tolist(), want_scores)):
            if not agree(a, b):
                problems.append(f"score {i}: {a!r} vs {b!r}")
        for i, (a, b) in enumerate(zip(got, want)):
            if not agree(a, b):
                problems.append(f"grad of parameter {i}: {a!r} vs {b!r}")
        if problems:
            raise CompileError(
                "internal: the compiled step disagrees with the scalar engine on a probe batch ("
                + "; ".join(problems[:3])
                + "); please report it"
            )

    # ---- describing -------------------------------------------------------------------------

    @property
    def nodes_per_sample(self) -> int:
        """Scalar ops the engine builds per sample: the model's and the loss's."""
        return self.model.nodes_per_sample + self.objective.head_ops

    def scalar_nodes(self, batch: int) -> int:
        """Op nodes one scalar-engine step builds at this batch size."""
        ops = self.nodes_per_sample * batch
        ops += self.objective.penalty_ops * self.count
        return ops + sum(1 for k in self.objective.spine.kind if k == "op") + max(batch - 1, 0)

    @property
    def numpy_calls(self) -> int:
        """About how many numpy calls (and engine ops on the spine) one step makes."""
        return self.model.numpy_calls() + self.objective.numpy_calls()

    @property
    def engine(self) -> str:
        return "compiled"

    @property
    def reason(self) -> str:
        return ""

    def summary(self) -> str:
        objective = self.objective
        penalty = (
            "no penalty"
            if self.regularization is None or self.alpha == 0
            else f"{self.regularization} ({self.alpha:g})"
        )
        mode = "exact (bit for bit)" if self.exact else "fast (matrix multiplies, ~1e-12)"
        lines = [
            f"CompiledStep: {self.model_ref!r}, loss {self.loss_name!r}, {penalty}, {mode}",
            f"  one sample's graph: {self.nodes_per_sample:,} scalar ops "
            f"(model {self.model.nodes_per_sample:,}, loss "
            + (
                f"{objective.head_ops})"
                if not objective.hybrid
                else "replayed on arrays)"
                if objective.softmax is not None or objective.log_loss is not None
                else "on the scalar engine)"
            ),
            f"  the scalar engine builds {self.scalar_nodes(128):,} op nodes per step at batch 128",
            "  replayed over the batch as numpy arrays:",
        ]
        lines += [f"    {line}" for line in self.model.describe()]
        if objective.softmax is not None:
            lines.append(
                f"    loss: softmax cross-entropy over {objective.outputs} logits, the engine's "
                "ops on arrays (a step with a non-finite logit: on the scalar engine)"
            )
        elif objective.log_loss is not None:
            lines.append(
                "    loss: log loss, the engine's ops on arrays, each sample on its branch of "
                "_softplus (a step with a non-finite score: on the scalar engine)"
            )
        elif objective.hybrid:
            lines.append(
                f"    loss: on the scalar engine, the scores as leaves ({objective.hybrid_reason})"
            )
        else:
            lines.append(
                f"    loss: {objective.head_ops} ops per sample, then a sum over the samples"
            )
        if objective.penalty is not None:
            lines.append(
                f"    penalty: {objective.penalty_ops} op{'s' * (objective.penalty_ops != 1)} "
                f"per parameter ({self.count}), then a sum over the parameters"
            )
        lines.append(f"  about {self.numpy_calls} numpy calls per step, whatever the batch size")
        first = (
            "the penalty, then samples 0, 1, 2, ..."
            if not objective.data_first
            else ("samples 0, 1, 2, ... then the penalty")
        )
        lines.append(f"  every gradient is summed in backward()'s order: 0.0 + {first}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def compile_step(
    model: object,
    parameters: Sequence[Value],
    X: np.ndarray,
    *,
    loss: str | Callable = "svm",
    regularization: str | None = "l2",
    alpha: float = 1e-4,
    exact: bool = True,
    check: bool | None = None,
) -> CompiledStep:
    """Compile ``total_loss(model(x) for x in batch, y, parameters, ...)`` and its gradients.

    ``X`` supplies sample rows to trace on (any rows of the data). Raises
    :class:`CompileError` with the reason when a trace cannot stand for every step.

    ``check`` runs the compiled step once against the scalar engine on two probe rows and
    refuses it if a single bit differs. By default (None) it runs for everything but a library
    MLP/Layer/Neuron with a built-in loss: those are covered case by case by the test suite,
    and checking would double the trace time of a large model.
    """
    parameters = list(parameters)
    if set(map(type, parameters)) - {Value}:
        odd = next(p for p in parameters if type(p) is not Value)
        raise CompileError(
            f"parameters must be plain Values (got a {type(odd).__name__}): a subclass may "
            "change what an op does"
        )
    if len(set(parameters)) != len(parameters):
        seen: dict[Value, int] = {}
        for i, p in enumerate(parameters):
            if p in seen:
                raise CompileError(
                    f"weight tying: parameters {seen[p]} and {i} are the same Value "
                    f"({p.label or p!r}); backward() adds its gradient from both places and "
                    "the update applies it twice"
                )
            seen[p] = i
    loss_function = losses.resolve_loss(loss)
    names = {function: name for name, function in losses.DATA_LOSSES.items()}
    loss_name = names.get(loss_function) or getattr(loss_function, "__name__", "custom")
    regularization = losses.check_regularization(regularization)
    alpha = losses.check_rate(alpha)
    rows = _probe_rows(X)
    # A trace builds thousands of Values with no cycles among them: the cyclic collector would
    # only re-scan them. Paused until the graph is freed (by reference counting, at `del`).
    with gc_paused():
        tape, check_model, check_parameters = trace_model(model, rows, parameters)
        outputs = len(tape.outputs)
        if outputs > 1 and loss_function in losses.DATA_LOSSES.values():
            if loss_function is not losses.cross_entropy_loss:
                raise CompileError(
                    f"the model has {outputs} outputs but the loss {loss_name!r} takes one "
                    "score per example: use loss='cross_entropy'"
                )
        elif outputs == 1 and loss_function is losses.cross_entropy_loss:
            raise CompileError("cross-entropy needs a model with k >= 2 outputs, one per class")
        model_program = build_model_program(tape, exact=exact)
        del tape
    objective = compile_objective(
        loss_function, regularization, alpha, exact=exact, outputs=outputs
    )
    step = CompiledStep(
        model, parameters, model_program, objective, loss=loss_function, loss_name=loss_name,
        regularization=regularization, alpha=alpha, exact=exact,
    )  # fmt: skip
    builtin_loss = loss_function in losses.DATA_LOSSES.values()
    if check is None:
        check = not (builtin_loss and library_modules(model))
    if check:
        # a custom loss is not called outside training steps; the check uses a built-in one
        if outputs == 1:
            stand_in = None if builtin_loss else losses.svm_loss
            labels = np.array([1.0, -1.0])
        else:
            stand_in = None if builtin_loss else losses.cross_entropy_loss
            labels = np.array([1.0, 0.0])
        step.check(rows, labels, stand_in, check_model, check_parameters)
    return step
