"""Train an MLP with the Value engine, in the cell or on a background thread.

>>> from micrograd_widgets import MLP, Trainer, datasets
>>> data = datasets.moons(128, noise=0.1, seed=0)
>>> trainer = Trainer(MLP(2, [16, 16, 1], seed=1), data)
>>> trainer.run(32)              # blocking, like the seed's loop
>>> trainer.history[-1]["accuracy"]
>>> trainer.start()              # or in the background: the kernel stays responsive
>>> trainer.pause(); trainer.resume(); trainer.stop()

Every step computes the loss of the seed's demo loop, its gradients by ``backward()``, and
applies an optimizer (:mod:`micrograd_widgets.optim`: the seed's SGD by default, or momentum,
Adam, AdamW). Binary models have one output (labels -1 / +1); a model with k outputs learns k
classes (labels 0..k-1) with ``loss="cross_entropy"``. By default (``engine="auto"``) it does
so with a *compiled* step (:mod:`micrograd_widgets.compiled`): one sample's graph, traced once
and replayed with numpy over the batch -- the same numbers bit for bit, a few thousand times
faster. ``engine="scalar"`` builds the graph of :class:`~micrograd_widgets.engine.Value` nodes
every step, as the seed does; ``trainer.engine`` says which one runs and ``trainer.tape`` shows
what was compiled. Widgets subscribe with :meth:`Trainer.observe`; one trainer can drive
several widgets.

Threading: one background thread per trainer, a daemon that holds only a weak reference to it
between steps, and a re-entrant ``trainer.lock`` held for the whole of each step, so a point added
from a click (or any other change of the model or data) lands between two steps.

Lifetime of background training (re-running cells makes new trainers while old ones live on):

* one trainer per model: making a Trainer for a model that another trainer is training in
  the background stops the older one (its widgets say why);
* a trainer nobody can see or reach stops: once it has been shown in a widget, when none of
  its widgets has a view left and no name in the notebook refers to it (directly, inside a
  list/tuple/set/dict, or as the ``.trainer`` of a named object), it is stopped with a
  message saying why. A trainer never shown in a widget is freed with its last reference;
* ``micrograd_widgets.stop_all()`` stops every background trainer.

The Trainer is a :class:`~._run_controls.RunControls` (its status, observers, speed and the
run / start / pause / resume / stop / wait controls: ``_run_controls``) that adds what a step
computes, and it is composed of parts that live apart from it: the checks it is made with
(``_train_setup``), the data (``_training_data``), the measurements (``_train_metrics``), the
engine (``_engine_choice``), the optimizer (``_train_optimizer``), the record of its steps and its
observers (``_train_record``), the background thread (``_background``).
"""

from __future__ import annotations

import math
import threading
import uuid
from typing import Any, Literal

import numpy as np

from . import losses
from ._background import PACE_SLICE_S, STOP_TIMEOUT_S, TrainingDiverged, stop_all
from ._engine_choice import EngineChoice, EngineInUse, EngineRequest, ScalarTape, compute_batch
from ._run_controls import RunControls, TrainerEvent
from ._train_metrics import Metrics
from ._train_optimizer import OptimizerChoice
from ._train_record import History, StepLog
from ._train_setup import (
    check_batch_size,
    check_divergence_factor,
    check_model,
    data_arrays,
    resolve_loss,
    stop_older_trainers,
)
from ._training_data import TrainingData, model_outputs
from .compiled import CompiledStep
from .datasets import Dataset
from .engine import Value, gc_paused
from .nn import Module
from .optim import LearningRate, Optimizer, default_schedule

__all__ = [
    "EngineInUse",
    "History",
    "Trainer",
    "TrainerEvent",
    "TrainingDiverged",
    "default_schedule",
    "stop_all",
]

# re-exported: where they were before the split (widgets and tests import them from here)
__all__ += ["PACE_SLICE_S", "STOP_TIMEOUT_S", "ScalarTape"]


class Trainer(RunControls):
    """Train ``model`` on points ``X`` (n, nin) with labels ``y``: binary or k classes.

    Args:
        model: an :class:`~micrograd_widgets.nn.MLP` (or any Module mapping a row to one Value,
            or to a list of k Values for k classes).
        X: training points, or a :class:`~micrograd_widgets.datasets.Dataset` (then leave ``y``,
            ``X_test`` and ``y_test`` out: they come from it).
        y: training labels: -1 or +1 for one output (the seed: its sign is the class), 0..k-1
            for k >= 2 outputs (for k = 2 also -1 / +1; the class is the argmax of the k
            outputs). :attr:`classes` says how many (2 for one output).
        X_test, y_test: optional held-out points, evaluated (without training) every step.
        loss: "svm" (the seed's max-margin loss), "log", "mse" (one output), "cross_entropy"
            (k outputs, e.g. ``MLP(2, [16, 16, k])``), or ``f(outputs, y) -> Value``.
        regularization: "l2" (the seed's), "l1" or None; ``alpha`` is its rate (seed: 1e-4).
        optimizer: "sgd" (the seed's ``p.data -= lr * p.grad``), "momentum" (SGD, momentum
            0.9), "adam", "adamw", or an :class:`~micrograd_widgets.optim.Optimizer` built over
            ``model.parameters()`` (then leave ``lr`` out: it has its own); switched between
            steps: :attr:`optimizer`, :meth:`set_optimizer`.
        lr: None for the optimizer's default -- for SGD and momentum the seed's schedule
            ``1.0 - 0.9·k/100`` (held at 0.1 after step 100), for Adam and AdamW PyTorch's 1e-3
            --, a number for a constant rate, or a function ``k -> rate``. See :attr:`lr`.
        batch_size: None for full batch (the seed), or the size of a random mini-batch per step.
        seed: seeds the mini-batch sampler.
        divergence_factor: training stops as diverged when the loss is NaN or infinite, or grows
            to more than this many times the first step's loss.
        engine: "auto" (the compiled step, or the scalar engine with a warning saying why when
            the model or loss cannot be compiled), "compiled" (raise
            :class:`~micrograd_widgets.compiled.CompileError` instead of falling back) or
            "scalar" (a graph of Values every step, as the seed): the same numbers, bit for bit.
        exact, speed: see :attr:`exact` and :attr:`speed` (both settable at any time).

    Background training also stops when another trainer is made for the same model, or when
    nobody can see or reach a trainer once shown in a widget (:mod:`micrograd_widgets.train`);
    ``micrograd_widgets.stop_all()`` stops them all.
    """

    def __init__(
        self,
        model: Module,
        X: np.ndarray | Dataset,
        y: np.ndarray | None = None,
        *,
        X_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
        loss: str | losses.DataLoss = "svm",
        regularization: str | None = "l2",
        alpha: float = 1e-4,
        optimizer: str | Optimizer = "sgd",
        lr: LearningRate = None,
        batch_size: int | None = None,
        seed: int | None = None,
        divergence_factor: float = 1e6,
        engine: EngineRequest = "auto",
        exact: bool = True,
        speed: float | str | None = None,
    ) -> None:
        self._engines = EngineChoice(engine, exact)  # checks both
        self.model = check_model(model)
        #: how many outputs the model has: 1 (binary, a score's sign) or k (k classes)
        self.outputs = model_outputs(model)
        self.loss, self.loss_name, self._builtin_loss = resolve_loss(loss, self.outputs)
        self._data = TrainingData(model, *data_arrays(X, y, X_test, y_test), self.outputs)
        self.regularization = losses.check_regularization(regularization)
        self.alpha = losses.check_rate(alpha)
        self.batch_size = check_batch_size(batch_size)
        self._rng = np.random.default_rng(seed)
        self.divergence_factor = check_divergence_factor(divergence_factor)
        super().__init__(speed)  # lock, status, observers, pace and background thread

        # views of this trainer find each other in the page by this id (js/shared/link.ts)
        self.link_id = f"mgw-trainer-{uuid.uuid4().hex[:12]}"
        self._log = StepLog()
        self.history: History = self._log.history
        self.parameters: list[Value] = model.parameters()
        self.parameter_names: list[str] = [name for name, _ in model.named_parameters()]
        self._optimizers = OptimizerChoice(self.parameters, optimizer, lr)
        self.last_update = np.zeros(len(self.parameters))  # the change the last step applied
        with self.lock:
            self._engines.ensure(self)  # compiles now (a fallback warns here); scalar: nothing
        stop_older_trainers(self)

    # ---- data --------------------------------------------------------------------------------

    @property
    def X(self) -> np.ndarray:
        """The training points, (n, features); points added by :meth:`add_point` included."""
        return self._data.X

    @property
    def y(self) -> np.ndarray:
        """The training labels: -1 / +1 for one output, 0..k-1 for k (see :attr:`label_values`)."""
        return self._data.y

    @property
    def X_test(self) -> np.ndarray:
        return self._data.X_test

    @property
    def y_test(self) -> np.ndarray:
        return self._data.y_test

    @property
    def label_values(self) -> np.ndarray:
        """The labels a point may carry, in class order (-1, +1 for one output, 0..k-1 for k)."""
        return self._data.label_values

    @property
    def classes(self) -> int:
        """How many classes the model tells apart: 2 for a one-output (binary) model, else k."""
        return self._data.classes

    def add_point(self, x: float, y: float, label: float) -> int:
        """Add a training point (between steps if training runs); returns the new point count.

        ``label`` is one of :attr:`label_values` (-1 / +1 for one output, 0..k-1 for k).
        """
        row = self._data.check_new_point(x, y, label)
        with self.lock:
            count = self._data.add(row, float(label))
        self._notify("data")
        return count

    def remove_nearest(self, x: float, y: float, radius: float = math.inf) -> int | None:
        """Remove the training point nearest (x, y) if within ``radius``; returns its index."""
        with self.lock:
            index = self._data.remove_nearest(x, y, radius)
        self._notify("data")
        return index

    # ---- configuration -----------------------------------------------------------------------

    @property
    def lr(self) -> LearningRate:
        """The optimizer's learning rate (None, a number or ``k -> rate``: as the ``lr``
        argument). Setting it (checked) changes the rate from the next step."""
        return self.optimizer.lr

    @lr.setter
    def lr(self, value: LearningRate) -> None:
        self.optimizer.lr = value

    @property
    def optimizer(self) -> Optimizer:
        """The :class:`~micrograd_widgets.optim.Optimizer` that applies every update (its
        ``state_arrays()``, ``update_rule``, ``lr``). Assign a name or an Optimizer to switch:
        ``trainer.optimizer = "adam"`` (see :meth:`set_optimizer`)."""
        return self._optimizers.current

    @optimizer.setter
    def optimizer(self, value: str | Optimizer) -> None:
        self.set_optimizer(value)

    def set_optimizer(self, optimizer: str | Optimizer, **options: Any) -> Optimizer:
        """Switch to ``optimizer`` between two steps; returns it.

        A name as in the constructor (``options`` go to its constructor, e.g. ``lr=0.01``; left
        out, its defaults) or an Optimizer over ``model.parameters()``. It starts fresh (no
        momentum or running averages, its step count from 0: the seed's schedule and Adam's bias
        correction start again); the weights and the history go on from where they are.
        """
        with self.lock:
            chosen = self._optimizers.switch(optimizer, **options)
        self._notify("status")
        return chosen

    @property
    def engine(self) -> EngineInUse:
        """``"compiled"`` or ``"scalar"``: what the next step runs on (``.reason``: why "auto"
        fell back). Retraces first if the model, loss or penalty changed since the last step."""
        with self.lock:
            return self._engines.in_use(self)

    @engine.setter
    def engine(self, value: EngineRequest) -> None:
        with self.lock:
            self._engines.ask(value)
            self._engines.ensure(self)

    @property
    def exact(self) -> bool:
        """False lets the compiled step use matrix multiplies: faster, gradients within ~1e-12
        relative instead of bit for bit (the default True)."""
        return self._engines.exact

    @exact.setter
    def exact(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"exact must be True or False, got {value!r}")
        self._engines.exact = value  # the next step compiles again for it

    @property
    def tape(self) -> CompiledStep | ScalarTape:
        """The compiled step, printable (what was traced and how it is replayed), or a note
        saying why this trainer runs on the scalar engine."""
        with self.lock:
            return self._engines.tape(self)

    def learning_rate(self, k: int | None = None) -> float:
        """The rate used at step ``k`` (default: the next step), as the optimizer computes it."""
        return self.optimizer.learning_rate(self.optimizer.steps_done if k is None else k)

    # ---- one step ------------------------------------------------------------------------------

    def _metrics(self) -> Metrics:
        """Measurements at the current weights, with the loss and penalty as they are now."""
        return Metrics(
            self.model, self._data, self.outputs, self.parameters, self.loss, self._builtin_loss,
            self.regularization, self.alpha,
        )  # fmt: skip

    def confusion_matrix(self, split: Literal["train", "test"] = "train") -> np.ndarray:
        """``(classes, classes)`` counts at the current weights: row = true class, column =
        predicted class (argmax of the outputs, or the score's sign for one output), classes in
        :attr:`label_values` order. ``split``: "train" or "test" (zeros without a test split)."""
        with self.lock:
            return self._metrics().confusion(split)

    def evaluate(
        self, X: np.ndarray | None = None, y: np.ndarray | None = None
    ) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` at the *current* weights on ``X``, ``y``.

        ``X``, ``y`` default to the training set; a numpy forward pass (no graph): the model as it
        is now (as its decision boundary shows), where the history has each step's, measured
        before its update. The loss is the data loss plus the penalty; NaN for a custom loss (no
        numpy twin) or when the scores are not finite.
        """
        with self.lock:
            return self._metrics().evaluate(X, y)

    def _step(self, only_while: threading.Event | None = None) -> dict[str, float] | None:
        """:meth:`step`; with ``only_while``, skipped (None) unless that event is set once the
        lock is held -- so a step cannot land after :meth:`pause` cleared it and took the lock."""
        # gc_paused: the step's graph is acyclic and freed (when _compute_and_update returns)
        # before the block ends, so the cyclic collector has nothing to find in it; skipping its
        # scans halves a step.
        with self.lock, gc_paused():
            if only_while is not None and not only_while.is_set():
                return None
            if self.diverged:
                raise TrainingDiverged(self.message)
            k = self.steps_done
            lr = self.optimizer.learning_rate()  # the rate of the optimizer's next step
            Xb, yb = self._data.batch(self._rng, self.batch_size)
            loss, problem, metrics = self._compute_and_update(Xb, yb)
            if not problem:
                record = self._log.append(k, loss, metrics, lr)
                self.steps_done = k + 1
        # observers run outside the lock: they may take it (to read the model) from other threads
        if problem:
            message = self._log.diverged_message(k, problem, lr)
            self._set_status("diverged", message)
            self._log.warn_once(message)
            raise TrainingDiverged(self.message)
        self._notify("step", record)
        return record

    def _compute_and_update(
        self, X: np.ndarray, y: np.ndarray
    ) -> tuple[float, str, tuple[float, float, float]]:
        """One batch on the engine, then the optimizer's update: the one place the two meet.

        Returns the batch's loss, why the step diverged ("" if it did not; then, and only then,
        the update was applied) and its metrics (training accuracy, test loss and accuracy)
        measured at the same parameters as the loss, before the update.
        """
        batch = compute_batch(self._engines, self, X, y)  # loss and scores; grads on demand
        problem = self._log.divergence(batch.loss, self.divergence_factor)
        if problem:
            return batch.loss, problem, (math.nan, math.nan, math.nan)
        metrics = self._metrics().of_step(batch.scores, y)  # the weights of the loss
        grads = batch.grads()  # backward(): every p.grad as the seed's loop leaves it
        if not np.isfinite(grads).all():
            batch.keep_grads(grads)  # no update: p.grad as backward() left it, p.data unchanged
            return batch.loss, "a gradient is NaN or infinite", metrics
        # the same update for both engines (a compiled batch applies it to its weight array)
        self.last_update = self._optimizers.step(batch, grads)  # one entry per parameter
        return batch.loss, "", metrics

    def reset(self) -> None:
        """Stop, restore the initial parameters, reset the optimizer and clear the history."""
        self.stop()
        with self.lock:
            self._optimizers.restart()  # the initial weights, a fresh optimizer state
            self._log.clear()  # the history, and the divergence warning is said again
            self.last_update = np.zeros(len(self.parameters))
            self._start_over()  # no steps done, idle, no message
        self._notify("reset")

    def __repr__(self) -> str:
        return (
            f"Trainer({self.model!r}, {len(self.y)} points, loss={self.loss_name!r}, "
            f"step {self.steps_done}, {self.status})"
        )
