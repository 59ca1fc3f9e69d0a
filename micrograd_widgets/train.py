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
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import numbers
import os
import signal
import sys
import threading
import time
import uuid
import warnings
import weakref
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from . import losses
from .compiled import CompiledStep, CompileError, compile_step
from .compiled._model import ModelWatch
from .datasets import Dataset
from .engine import Value, gc_paused
from .nn import Module
from .optim import LearningRate, Optimizer, default_schedule, make_optimizer

__all__ = [
    "EngineInUse",
    "History",
    "Trainer",
    "TrainerEvent",
    "TrainingDiverged",
    "default_schedule",
    "stop_all",
]

log = logging.getLogger("micrograd_widgets")

Status = Literal["idle", "running", "paused", "stopped", "diverged", "error"]
EventKind = Literal["step", "status", "data", "reset"]
EngineRequest = Literal["auto", "compiled", "scalar"]
ENGINES = ("auto", "compiled", "scalar")

#: How long stop() waits for the training thread to finish its current step.
STOP_TIMEOUT_S = 10.0
#: A paced trainer re-checks its speed, pause and stop at least this often while it waits.
PACE_SLICE_S = 0.05


class TrainingDiverged(RuntimeError):
    """The loss or the gradients became NaN or infinite (or the loss blew up); training stopped."""


@dataclass(frozen=True)
class TrainerEvent:
    """What observers receive: ``kind`` is "step", "status", "data" or "reset"."""

    kind: EventKind
    trainer: Trainer
    record: dict[str, float] | None = None


class History:
    """Per-step metrics, stored compactly (8 bytes per number) and bounded, so long runs stay small.

    ``history[i]`` is a dict ``{"step", "loss", "accuracy", "test_loss", "test_accuracy", "lr"}``
    (test values are NaN without a test split); ``history.loss`` etc. are numpy arrays.
    As in the seed's loop, a step's loss and accuracies are measured at the parameters *before*
    its update (accuracy on the whole training set, also with mini-batches).

    Bounded: once more than ``max_rows`` rows are stored, every other row older than the last
    ``keep_recent`` is dropped (the first step always stays), as the boundary's recording does.
    So the recent past is complete and older steps are thinned further the older they are;
    ``history[-1]`` is always the latest step, ``len(history)`` counts stored rows (at most
    ``max_rows``; the trainer's ``steps_done`` counts steps) and ``history.step`` says which
    step each row is. A compiled run at thousands of steps a second keeps under 1 MB.
    """

    COLUMNS = ("step", "loss", "accuracy", "test_loss", "test_accuracy", "lr")

    def __init__(self, max_rows: int = 20_000, keep_recent: int = 10_000) -> None:
        if not _is_count(keep_recent, 1) or not _is_count(max_rows, keep_recent + 2):
            raise ValueError(
                f"need 1 <= keep_recent and keep_recent + 2 <= max_rows, got max_rows={max_rows!r},"
                f" keep_recent={keep_recent!r}"
            )
        self.max_rows = int(max_rows)
        self.keep_recent = int(keep_recent)
        self._columns = {name: array("d") for name in self.COLUMNS}

    def append(self, record: dict[str, float]) -> None:
        for name, column in self._columns.items():
            column.append(float(record[name]))
        if len(self._columns["step"]) > self.max_rows:
            self._thin()

    def _thin(self) -> None:
        """Drop every other row before the last ``keep_recent`` (row 0 stays: the first step)."""
        older = len(self._columns["step"]) - self.keep_recent
        for name, column in self._columns.items():
            self._columns[name] = column[0:older:2] + column[older:]

    def clear(self) -> None:
        for column in self._columns.values():
            del column[:]

    def __len__(self) -> int:
        return len(self._columns["step"])

    def __getitem__(self, index: int) -> dict[str, float]:
        return {name: column[index] for name, column in self._columns.items()}

    def __iter__(self) -> Iterator[dict[str, float]]:
        return (self[i] for i in range(len(self)))

    def __getattr__(self, name: str) -> np.ndarray:
        columns = self.__dict__.get("_columns", {})
        if name in columns:
            # tolist() copies in one C call: a numpy view of the array would block the training
            # thread's next append ("cannot resize an array that is exporting buffers")
            return np.array(columns[name].tolist(), dtype=np.float64)
        raise AttributeError(f"History has no column {name!r}; columns: {', '.join(self.COLUMNS)}")

    def __repr__(self) -> str:
        last = f", last={self[-1]}" if len(self) else ""
        return f"History({len(self)} steps{last})"


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


def _check_speed(speed: object) -> float | None:
    if speed is None or speed == "max":
        return None
    if isinstance(speed, bool) or not isinstance(speed, numbers.Real) or not math.isfinite(speed):
        raise ValueError(
            f"speed must be a number of steps per second > 0, or None / 'max' for as fast as "
            f"possible, got {speed!r}"
        )
    if speed <= 0:
        raise ValueError(f"speed must be > 0 steps per second (or None / 'max'), got {speed!r}")
    return float(speed)


def _is_count(value: object, minimum: int) -> bool:
    """True for an integer (not a bool) >= ``minimum``: a step count or a batch size."""
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= minimum


def _as_points(X: object, name: str) -> np.ndarray:
    A = np.array(X, dtype=np.float64)
    if A.ndim != 2 or A.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-D array of shape (n, features), got shape {A.shape}")
    if len(A) == 0:
        raise ValueError(f"{name} is empty (shape {A.shape}): training needs at least one point")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return A


def _as_labels(y: object, n: int, name: str, outputs: int = 1) -> np.ndarray:
    """Labels as float64: -1 / +1 for a one-output model, class numbers for ``outputs`` >= 2."""
    try:
        labels = np.array(y, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numeric labels, got {y!r:.80}") from None
    if len(labels) != n:
        raise ValueError(f"{name} has {len(labels)} labels for {n} points; expected one per point")
    if outputs >= 2:
        try:
            losses.class_indices(labels, outputs)
        except ValueError as error:
            raise ValueError(f"{name}: {error} (the model has {outputs} outputs)") from None
        return labels
    if not np.all(np.isin(labels, (-1.0, 1.0))):
        bad = labels[~np.isin(labels, (-1.0, 1.0))][0]
        raise ValueError(
            f"{name} must hold labels -1 or +1 (as in the seed: y = y * 2 - 1), got {bad!r}"
        )
    return labels


def _label_values(outputs: int, *labels: np.ndarray) -> np.ndarray:
    """The labels a trainer's points may carry, in class order: -1 / +1 for one output,
    0..k-1 for k outputs -- for k = 2 the data's own convention (-1 / +1 unless a 0 occurs)."""
    if outputs == 1:
        return np.array([-1.0, 1.0])
    if outputs == 2 and not any(np.any(y == 0) for y in labels):
        return np.array([-1.0, 1.0])
    return np.arange(outputs, dtype=np.float64)


#: the binary data losses: one score per example, whose sign is the class
BINARY_LOSSES = ("svm", "log", "mse")


def _builtin_loss_name(loss: losses.DataLoss) -> str | None:
    """The name of a built-in data loss (by identity), None for the user's own function."""
    for name, function in losses.DATA_LOSSES.items():
        if function is loss:
            return name
    return None


def _check_outputs_fit_loss(outputs: int, builtin: str | None) -> None:
    """A clear error for a model whose outputs do not fit the loss, saying what to use."""
    if outputs >= 2 and builtin in BINARY_LOSSES:
        raise ValueError(
            f"loss={builtin!r} is a binary loss (one score per example, labels -1 / +1), but the "
            f"model has {outputs} outputs: use loss='cross_entropy' for {outputs} classes, or a "
            "model with one output (e.g. MLP(2, [16, 16, 1])) for a binary loss"
        )
    if outputs == 1 and builtin == "cross_entropy":
        raise ValueError(
            "loss='cross_entropy' needs one output per class, but the model has one output: use "
            "a model with k >= 2 outputs (e.g. MLP(2, [16, 16, 3]) for 3 classes, labels "
            "0..k-1), or a binary loss ('svm', 'log', 'mse') for this one-output model"
        )


class Trainer:
    """Train ``model`` on points ``X`` (n, nin) with labels ``y``: binary or k classes.

    Binary (the seed): a model with one output, its sign the class, labels -1 / +1, and a loss
    "svm", "log" or "mse". k classes: a model with k >= 2 outputs (``MLP(2, [16, 16, k])``),
    labels 0..k-1 (for k = 2 also -1 / +1) and ``loss="cross_entropy"``; the predicted class is
    the argmax of the k outputs. :attr:`classes` says which (2 for a binary trainer).

    Args:
        model: an :class:`~micrograd_widgets.nn.MLP` (or any Module mapping a row to one Value,
            or to a list of k Values for k classes).
        X: training points, or a :class:`~micrograd_widgets.datasets.Dataset` (then leave ``y``,
            ``X_test`` and ``y_test`` out: they come from it).
        y: training labels: -1 or +1 (one output), 0..k-1 (k outputs).
        X_test, y_test: optional held-out points, evaluated (without training) every step.
        loss: "svm" (the seed's max-margin loss), "log", "mse" (one output),
            "cross_entropy" (k outputs), or ``f(outputs, y) -> Value``.
        regularization: "l2" (the seed's), "l1" or None; ``alpha`` is its rate (seed: 1e-4).
        optimizer: "sgd" (the seed's ``p.data -= lr * p.grad``), "momentum" (SGD, momentum
            0.9), "adam", "adamw", or an :class:`~micrograd_widgets.optim.Optimizer` built over
            ``model.parameters()`` (then leave ``lr`` out: it has its own). ``trainer.optimizer``
            is the Optimizer object (its ``state_arrays()``, ``update_rule``, ``lr``);
            :meth:`set_optimizer` switches between steps.
        lr: the learning rate: None for the optimizer's default -- for SGD and momentum the
            seed's schedule ``1.0 - 0.9·k/100`` (held at 0.1 after step 100), for Adam and AdamW
            PyTorch's 1e-3 --, a number for a constant rate, or a function ``k -> rate``.
            ``trainer.lr`` is the optimizer's; setting it (None: the seed's schedule) changes
            the rate from the next step.
        batch_size: None for full batch (the seed), or the size of a random mini-batch per step.
        seed: seeds the mini-batch sampler.
        divergence_factor: training stops as diverged when the loss is NaN or infinite, or grows
            to more than this many times the first step's loss.
        engine: "auto" (default: the compiled step, or the scalar engine with a warning saying
            why when the model or loss cannot be compiled), "compiled" (raise
            :class:`~micrograd_widgets.compiled.CompileError` instead of falling back) or
            "scalar" (build the graph of Values every step, as the seed does). Either engine
            gives the same numbers, bit for bit.
        exact: False lets the compiled step use matrix multiplies: faster, gradients within
            ~1e-12 relative instead of bit for bit.
        speed: steps per second for :meth:`start` and :meth:`run` (e.g. 1, 10, 30), or None /
            "max" for as fast as possible. Changeable at any time: ``trainer.speed = 5``.

    Lifetime of background training (re-running cells makes new trainers while old ones live on):

    * one trainer per model: making a Trainer for a model that another trainer is training in
      the background stops the older one (its widgets say why);
    * a trainer nobody can see or reach stops: once it has been shown in a widget, when none of
      its widgets has a view left and no name in the notebook refers to it (directly, inside a
      list/tuple/set/dict, or as the ``.trainer`` of a named object), it is stopped with a
      message saying why. A trainer never shown in a widget is freed with its last reference;
    * ``micrograd_widgets.stop_all()`` stops every background trainer.
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
        if engine not in ENGINES:
            raise ValueError(f"engine must be 'auto', 'compiled' or 'scalar', got {engine!r}")
        if not isinstance(exact, bool):
            raise ValueError(f"exact must be True or False, got {exact!r}")
        if not isinstance(model, Module) or not callable(model):
            kind = type(model).__name__
            raise TypeError(f"model must be a callable Module such as MLP, got {kind}")
        if isinstance(X, Dataset):
            if y is not None or X_test is not None or y_test is not None:
                raise ValueError("pass either a Dataset or X and y (and X_test, y_test), not both")
            X, y, X_test, y_test = X.X, X.y, X.X_test, X.y_test
        if y is None:
            raise ValueError("y (the labels) is required when X is an array")
        self.model = model
        nout = getattr(model, "nout", 1)
        if isinstance(nout, bool) or not isinstance(nout, numbers.Integral) or nout < 1:
            raise ValueError(f"the model's nout must be a positive int, got {nout!r}")
        #: how many outputs the model has: 1 (binary, a score's sign) or k (k classes)
        self.outputs = int(nout)
        self.loss = losses.resolve_loss(loss)
        self.loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", "custom")
        self._builtin_loss = _builtin_loss_name(self.loss)
        _check_outputs_fit_loss(self.outputs, self._builtin_loss)
        self.X = _as_points(X, "X")
        self.y = _as_labels(y, len(self.X), "y", self.outputs)
        nin = getattr(model, "nin", self.X.shape[1])
        if self.X.shape[1] != nin:
            raise ValueError(f"X has {self.X.shape[1]} features but the model expects {nin}")
        if (X_test is None) != (y_test is None):
            raise ValueError("pass both X_test and y_test, or neither")
        if X_test is not None and len(X_test) > 0:
            self.X_test = _as_points(X_test, "X_test")
            self.y_test = _as_labels(y_test, len(self.X_test), "y_test", self.outputs)
            if self.X_test.shape[1] != self.X.shape[1]:
                raise ValueError("X_test must have as many features as X")
        else:
            self.X_test = np.zeros((0, self.X.shape[1]))
            self.y_test = np.zeros(0)
        self.label_values = _label_values(self.outputs, self.y, self.y_test)
        self.regularization = losses.check_regularization(regularization)
        self.alpha = losses.check_rate(alpha)
        if batch_size is not None and not _is_count(batch_size, 1):
            raise ValueError(
                f"batch_size must be None (full batch) or a positive int, got {batch_size!r}"
            )
        self.batch_size = None if batch_size is None else int(batch_size)
        self._rng = np.random.default_rng(seed)
        if not (isinstance(divergence_factor, (int, float)) and divergence_factor > 1):
            raise ValueError(f"divergence_factor must be a number > 1, got {divergence_factor!r}")
        self.divergence_factor = float(divergence_factor)

        self.lock = threading.RLock()
        # views of this trainer find each other in the page by this id (js/shared/link.ts)
        self.link_id = f"mgw-trainer-{uuid.uuid4().hex[:12]}"
        self.history = History()
        self.steps_done = 0
        self.status: Status = "idle"
        self.message = ""  # why training stopped on its own (divergence, an error)
        self.parameters: list[Value] = model.parameters()
        self.parameter_names: list[str] = [name for name, _ in model.named_parameters()]
        # weight tying (one Value twice in the list): the optimizer updates each Value once
        first: dict[Value, int] = {}
        for i, p in enumerate(self.parameters):
            first.setdefault(p, i)
        self._distinct = None if len(first) == len(self.parameters) else list(first.values())
        self._optimizer: Optimizer = make_optimizer(
            optimizer, list(first), **({} if lr is None else {"lr": lr})
        )
        self.last_update = np.zeros(len(self.parameters))  # the change the last step applied
        self._initial = [p.data for p in self.parameters]  # for reset()
        self._observers: list[Callable[[TrainerEvent], None]] = []
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._run_event = threading.Event()
        self._target_steps: int | None = None
        self._warned = False
        self.speed = speed  # validated by the property setter
        self._last_step_at = -math.inf  # monotonic time the last paced step started
        self._engine_request: str = engine
        self.exact = exact
        # the compiled step and what it was compiled for; None: the scalar engine
        self._compiled: CompiledStep | None = None
        self._compiled_for: tuple | None = None
        self._watch: ModelWatch | None = None
        self._fallback_reason = ""
        if engine != "scalar":
            with self.lock:
                self._ensure_engine(stacklevel=4)  # a fallback warns here, at construction
        self._stop_older_trainers()

    def _stop_older_trainers(self) -> None:
        """One trainer per model: two trainers updating the same weights corrupt each other, so
        making a trainer for a model stops any other trainer training it in the background."""
        for other in list(_LIVE_TRAINERS):
            if other is not self and other.model is self.model and other.is_running:
                other.stop(
                    reason="Stopped: a new Trainer was made for this model (one trainer per "
                    "model: two would update the same weights)."
                )

    # ---- configuration -----------------------------------------------------------------------

    @property
    def lr(self) -> LearningRate:
        """The optimizer's learning rate: None (the seed's schedule), a constant, or a function
        ``k -> rate``. Setting it (checked) changes the rate from the next step."""
        return self.optimizer.lr

    @lr.setter
    def lr(self, value: LearningRate) -> None:
        self.optimizer.lr = value

    @property
    def optimizer(self) -> Optimizer:
        """The :class:`~micrograd_widgets.optim.Optimizer` that applies every update (its
        ``state_arrays()``, ``update_rule``, ``lr``). Assign a name or an Optimizer to switch:
        ``trainer.optimizer = "adam"`` (see :meth:`set_optimizer`)."""
        return self._optimizer

    @optimizer.setter
    def optimizer(self, value: str | Optimizer) -> None:
        self.set_optimizer(value)

    def set_optimizer(self, optimizer: str | Optimizer, **options: Any) -> Optimizer:
        """Switch to another optimizer between two steps; returns it.

        ``optimizer``: "sgd", "momentum", "adam", "adamw" (``options`` go to its constructor,
        e.g. ``lr=0.01``; left out, its defaults) or an Optimizer built over
        ``model.parameters()``. It starts fresh: no momentum or running averages, and its own
        step count from 0 (the seed's schedule and Adam's bias correction start again); the
        weights and the history go on from where they are.
        """
        with self.lock:
            parameters = self._optimizer.parameters
            self._optimizer = make_optimizer(optimizer, parameters, **options)
        self._notify("status")
        return self._optimizer

    @property
    def classes(self) -> int:
        """How many classes the model tells apart: 2 for a one-output (binary) model, else k."""
        return max(self.outputs, 2)

    @property
    def speed(self) -> float | None:
        """Steps per second for :meth:`start` and :meth:`run`; None: as fast as possible."""
        return self._speed

    @speed.setter
    def speed(self, value: float | str | None) -> None:
        self._speed = _check_speed(value)

    @property
    def engine(self) -> EngineInUse:
        """``"compiled"`` or ``"scalar"``: what the next step runs on (``.reason``: why "auto"
        fell back). Retraces first if the model, loss or penalty changed since the last step."""
        with self.lock:
            if self._engine_request != "scalar":
                self._ensure_engine()
            value = "compiled" if self._compiled is not None else "scalar"
            return EngineInUse(value, self._engine_request, self._fallback_reason)

    @engine.setter
    def engine(self, value: EngineRequest) -> None:
        if value not in ENGINES:
            raise ValueError(f"engine must be 'auto', 'compiled' or 'scalar', got {value!r}")
        with self.lock:
            self._engine_request = value
            self._compiled_for = None  # decide again
            self._compiled = None
            self._fallback_reason = ""
            if value != "scalar":
                self._ensure_engine(stacklevel=4)

    @property
    def tape(self) -> CompiledStep | ScalarTape:
        """The compiled step, printable (what was traced and how it is replayed), or a note
        saying why this trainer runs on the scalar engine."""
        with self.lock:
            if self._engine_request != "scalar":
                self._ensure_engine()
            if self._compiled is not None:
                return self._compiled
            return ScalarTape(self._fallback_reason)

    def _compile_key(self) -> tuple:
        """What the compiled step was built for, besides the model (watched separately)."""
        return (
            id(self.model), self.loss, self.regularization, self.alpha, self.exact,
            id(self.parameters), len(self.parameters),
        )  # fmt: skip

    def _ensure_engine(self, stacklevel: int = 3) -> CompiledStep | None:
        """The compiled step for the next step (tracing again if something it depends on
        changed), or None for the scalar engine. Call with the lock held."""
        if self._engine_request == "scalar":
            return None
        key = self._compile_key()
        if key == self._compiled_for:
            if self._compiled is None:  # fell back for this model and loss: stay, warn once
                return None
            if self._watch is not None and self._watch.unchanged(self.model):
                return self._compiled
        self._compiled, self._compiled_for, self._fallback_reason = None, None, ""
        try:
            self._watch = ModelWatch(self.model)
            self._compiled = compile_step(
                self.model, self.parameters, self.X, loss=self.loss,
                regularization=self.regularization, alpha=self.alpha, exact=self.exact,
            )  # fmt: skip
        except CompileError as error:
            if self._engine_request == "compiled":
                raise
            self._fallback_reason = str(error)
            warnings.warn(
                f"Trainer: the compiled engine cannot run this model and loss ({error}); "
                "training on the scalar engine instead (same numbers, slower)",
                UserWarning,
                stacklevel=stacklevel,
            )
        self._compiled_for = key
        return self._compiled

    def _fall_back(self, error: CompileError) -> None:
        """A compiled step found mid-step that it cannot go on: scalar engine from now on."""
        if self._engine_request == "compiled":
            raise error
        self._compiled = None
        self._fallback_reason = str(error)
        warnings.warn(
            f"Trainer: the compiled engine cannot run this model and loss ({error}); training "
            "on the scalar engine instead (same numbers, slower)",
            UserWarning,
            stacklevel=4,
        )

    def learning_rate(self, k: int | None = None) -> float:
        """The rate used at step ``k`` (default: the next step), as the optimizer computes it."""
        return self.optimizer.learning_rate(self.optimizer.steps_done if k is None else k)

    # ---- observers -----------------------------------------------------------------------------

    def observe(self, callback: Callable[[TrainerEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` after every step and change; returns a function to unsubscribe.

        Step events arrive on the training thread (or the caller's, for ``step``/``run``).
        """
        if not callable(callback):
            raise TypeError("callback must be callable")
        self._observers.append(callback)

        def unsubscribe() -> None:
            if callback in self._observers:
                self._observers.remove(callback)

        return unsubscribe

    def _notify(self, kind: EventKind, record: dict[str, float] | None = None) -> None:
        event = TrainerEvent(kind, self, record)
        for callback in list(self._observers):
            try:
                callback(event)
            except Exception:  # a broken observer must not stop training
                log.exception("micrograd-widgets: trainer observer failed")

    def _set_status(self, status: Status, message: str | None = None) -> None:
        self.status = status
        if message is not None:
            self.message = message
        self._notify("status")

    # ---- one step ------------------------------------------------------------------------------

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    def _batch(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.X)
        if self.batch_size is None or self.batch_size >= n:
            return self.X, self.y
        rows = self._rng.choice(n, size=self.batch_size, replace=False)
        return self.X[rows], self.y[rows]

    def _penalty_value(self) -> float:
        data = np.array([p.data for p in self.parameters])
        return losses.numpy_penalty(self.regularization, data, self.alpha)

    def _scores(self, X: np.ndarray) -> np.ndarray:
        """The model's outputs for the rows of ``X``, without building a graph where it can:
        shape (n,) for one output, (n, k) for k."""
        predict = getattr(self.model, "predict", None)
        if predict is None:  # a Module that maps a row to Values but has no numpy forward pass
            return self._output_array([self.model(row) for row in X.tolist()], len(X))
        scores = np.asarray(predict(X), dtype=np.float64)
        return scores.ravel() if self.outputs == 1 else scores.reshape(len(X), self.outputs)

    def _output_array(self, outputs: list, n: int) -> np.ndarray:
        """The forward values of the model's outputs (a Value, or a list of k, per row)."""
        if self.outputs == 1:
            return np.array([v.data for v in outputs], dtype=np.float64)
        rows = [[v.data for v in row] for row in outputs]
        return np.array(rows, dtype=np.float64).reshape(n, self.outputs)

    def _test_metrics(self) -> tuple[float, float]:
        if len(self.y_test) == 0:
            return math.nan, math.nan
        if self._builtin_loss is not None:  # a built-in loss, fast in numpy
            scores = self._scores(self.X_test)
            data_loss = losses.numpy_data_loss(self._builtin_loss, scores, self.y_test)
        else:  # a custom loss: evaluate it on the Value engine (forward only)
            values = [self.model(row) for row in self.X_test.tolist()]
            data_loss = self.loss(values, self.y_test).data
            scores = self._output_array(values, len(values))
        return data_loss + self._penalty_value(), losses.accuracy(scores, self.y_test)

    def confusion_matrix(self, split: Literal["train", "test"] = "train") -> np.ndarray:
        """``(classes, classes)`` counts at the current weights: row = true class, column =
        predicted class (argmax of the outputs, or the score's sign for one output), classes in
        :attr:`label_values` order. ``split``: "train" or "test" (zeros without a test split)."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        with self.lock:
            X, y = (self.X, self.y) if split == "train" else (self.X_test, self.y_test)
            if len(y) == 0:
                return np.zeros((self.classes, self.classes), dtype=np.int64)
            scores = self._scores(X)
        return losses.confusion_matrix(scores, y, self.classes)

    def evaluate(
        self, X: np.ndarray | None = None, y: np.ndarray | None = None
    ) -> dict[str, float]:
        """Loss and accuracy at the *current* weights, on ``X``, ``y`` (default: the training
        set), by a numpy forward pass (no graph): ``{"loss": ..., "accuracy": ...}``.

        The history's metrics are each step's, measured before its update; these describe the
        model as it is now (what a picture of its decision boundary shows). The loss is the data
        loss plus the penalty, NaN for a custom loss (it has no numpy twin) or when the scores
        are not finite.
        """
        with self.lock:
            X = self.X if X is None else X
            y = self.y if y is None else y
            scores = self._scores(X)
            penalty = self._penalty_value()
        finite = bool(np.all(np.isfinite(scores)))
        loss = math.nan
        if finite and self._builtin_loss is not None:
            with np.errstate(over="ignore"):
                loss = losses.numpy_data_loss(self._builtin_loss, scores, y) + penalty
        accuracy = losses.accuracy(scores, y) if finite else math.nan
        return {"loss": float(loss), "accuracy": float(accuracy)}

    def _diverge(self, k: int, what: str, lr: float) -> None:
        message = (
            f"Training diverged at step {k}: {what} (learning rate {lr:.4g}). "
            "Lower the learning rate and reset."
        )
        self._set_status("diverged", message)
        if not self._warned:
            self._warned = True
            warnings.warn(message, RuntimeWarning, stacklevel=_stacklevel_outside_package())

    def step(self) -> dict[str, float]:
        """One training step (loss, ``backward()``, the optimizer's update); returns its
        history record.

        Raises :class:`TrainingDiverged` if the loss or a gradient is NaN or infinite, or the loss
        grew past ``divergence_factor`` times the first step's (the parameters are then left as
        they were before this step).
        """
        record = self._step()
        assert record is not None  # only a background step (with `only_while`) is ever skipped
        return record

    def _step(self, only_while: threading.Event | None = None) -> dict[str, float] | None:
        """:meth:`step`; with ``only_while``, skipped (None) unless that event is set once the
        lock is held -- so a step cannot land after :meth:`pause` cleared it and took the lock.
        """
        problem = ""  # why this step diverged, if it did
        # gc_paused: the step's graph is acyclic and freed (del below) before the block ends, so
        # the cyclic collector has nothing to find in it; skipping its scans halves a step.
        with self.lock, gc_paused():
            if only_while is not None and not only_while.is_set():
                return None
            if self.status == "diverged":
                raise TrainingDiverged(self.message)
            k = self.steps_done
            lr = self.optimizer.learning_rate()  # the rate of the optimizer's next step
            Xb, yb = self._batch()
            compiled = self._ensure_engine()
            if compiled is not None:
                try:
                    theta = compiled.read_parameters()
                    # the gradients are set as p.grad below, where the scalar step runs backward()
                    loss_value, scores, grads = compiled.step(Xb, yb, theta)
                except CompileError as error:  # e.g. a custom loss that uses the parameters
                    compiled = self._fall_back(error)
            if compiled is None:
                scores = [self.model(row) for row in Xb.tolist()]
                total = losses.total_loss(
                    scores,
                    yb,
                    self.parameters,
                    loss=self.loss,
                    regularization=self.regularization,
                    rate=self.alpha,
                )
                loss_value = total.data
            initial = self.history[0]["loss"] if len(self.history) else None
            if not math.isfinite(loss_value):
                problem = f"the loss is {loss_value}"
            elif initial is not None and loss_value > self.divergence_factor * max(initial, 1e-3):
                # e.g. lr = 100 with the SVM loss: finite, but 1e36 -- nothing left to learn
                problem = f"the loss grew from {initial:.4g} to {loss_value:.4g}"
            else:
                if self.batch_size is not None and len(yb) < len(self.y):
                    train_accuracy = losses.accuracy(self._scores(self.X), self.y)
                elif compiled is not None and self.outputs == 1:
                    # losses.accuracy's arithmetic, on the score array
                    train_accuracy = float(np.mean((scores > 0) == (yb > 0)))
                elif compiled is not None:  # (batch, k) outputs: the argmax
                    train_accuracy = losses.accuracy(scores, yb)
                else:
                    train_accuracy = losses.accuracy(self._output_array(scores, len(yb)), yb)
                test_loss, test_accuracy = self._test_metrics()  # same parameters as the loss
                if compiled is None:
                    self.model.zero_grad()
                    total.backward()
                    grads = np.fromiter(
                        (p.grad for p in self.parameters), np.float64, len(self.parameters)
                    )
                if not np.all(np.isfinite(grads)):
                    problem = "a gradient is NaN or infinite"
                    if compiled is not None:
                        for p, grad in zip(self.parameters, grads.tolist()):
                            p.grad = grad  # as zero_grad() and backward() leave it
            if not problem:
                if compiled is not None:
                    compiled.write_grads(grads)  # as zero_grad() and backward() leave them
                # the same update for both engines: the optimizer reads the data and writes it
                self.last_update = self._apply_update(grads)
                record = {
                    "step": float(k),
                    "loss": loss_value,
                    "accuracy": train_accuracy,
                    "test_loss": test_loss,
                    "test_accuracy": test_accuracy,
                    "lr": lr,
                }
                self.history.append(record)
                self.steps_done = k + 1
            del scores  # free the graph now, not when the next step rebinds the names
            if compiled is None:
                del total
        # observers run outside the lock: they may take it (to read the model) from other threads
        if problem:
            self._diverge(k, problem, lr)
            raise TrainingDiverged(self.message)
        self._notify("step", record)
        return record

    def _apply_update(self, grads: np.ndarray) -> np.ndarray:
        """The optimizer's step from ``grads`` (one per entry of :attr:`parameters`); returns
        the change of each entry."""
        if self._distinct is None:
            return self.optimizer.step(grads=grads)
        change = self.optimizer.step(grads=grads[self._distinct])
        position = {p: i for i, p in enumerate(self.optimizer.parameters)}
        return change[[position[p] for p in self.parameters]]

    def _until_next_step(self) -> float:
        """Seconds until ``speed`` allows the next step (0 when flat out or already due)."""
        speed = self._speed
        if speed is None:
            return 0.0
        return self._last_step_at + 1.0 / speed - time.monotonic()

    def run(self, steps: int) -> History:
        """Train ``steps`` steps in the calling thread (blocks, like the seed's loop).

        Stops early, with a warning, if training diverges. Observers (widgets) update as it goes.
        Paced by :attr:`speed` (steps per second) when set.
        """
        if not _is_count(steps, 0):
            raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
        if self.is_running:
            raise RuntimeError("this trainer is training in the background; call stop() first")
        if self.status == "diverged":
            raise TrainingDiverged(self.message + " (call reset() to start again)")
        self._set_status("running", "")
        interrupted = _Interrupted()
        try:
            with _interrupts_between_steps(interrupted):
                for _ in range(int(steps)):
                    wait = self._until_next_step()
                    while wait > 0 and not interrupted.is_set():  # paced by trainer.speed
                        time.sleep(min(wait, PACE_SLICE_S))
                        wait = self._until_next_step()
                    if interrupted.is_set():
                        raise KeyboardInterrupt
                    self._last_step_at = time.monotonic()
                    self.step()
                    if interrupted.is_set():
                        raise KeyboardInterrupt
        except TrainingDiverged:
            return self.history
        except KeyboardInterrupt:
            # one short line instead of a traceback into the engine's internals
            self._set_status("stopped")
            raise KeyboardInterrupt(self._interrupt_message(interrupted)) from None
        except BaseException:
            self._set_status("stopped")
            raise
        self._set_status("stopped")
        return self.history

    def _interrupt_message(self, interrupted: _Interrupted) -> str:
        k = self.steps_done
        if interrupted.cut_short:
            return (
                f"Trainer.run interrupted twice, inside the step after step {k}: that step was "
                "cut short, so its update may be partly applied (reset() starts again)"
            )
        return (
            f"Trainer.run stopped after step {k}: the model is as after that step "
            "(run() or start() goes on from there)"
        )

    # ---- background training --------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """True while the background thread exists (running or paused)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, steps: int | None = None) -> None:
        """Train on a background thread (forever, or ``steps`` more steps); returns at once."""
        if steps is not None and not _is_count(steps, 1):
            raise ValueError(f"steps must be None (until stopped) or a positive int, got {steps!r}")
        if self.status == "diverged":
            raise TrainingDiverged(self.message + " (call reset() to start again)")
        self._target_steps = None if steps is None else self.steps_done + int(steps)
        if self.is_running:
            self.resume()
            return
        self._stop_event, self._run_event = threading.Event(), threading.Event()
        stop, run = self._stop_event, self._run_event
        run.set()

        def wake_to_exit(_collected: weakref.ref[Trainer]) -> None:
            stop.set()  # the trainer is gone: wake a waiting (paused) thread, so it ends
            run.set()

        self._thread = threading.Thread(
            target=_training_loop,
            args=(weakref.ref(self, wake_to_exit), stop, run),
            name=f"micrograd-trainer-{id(self):x}",
            daemon=True,  # never keeps the interpreter alive
        )
        _LIVE_TRAINERS.add(self)
        _install_interrupt_hooks()
        self._set_status("running", "")
        self._thread.start()

    def pause(self) -> None:
        """Pause after the current step (waits for it, so no step lands after this returns)."""
        if not self.is_running:
            return
        self._run_event.clear()
        if threading.current_thread() is not self._thread:
            with self.lock:  # the step in flight holds the lock; wait for it
                pass
        self._set_status("paused")

    def resume(self) -> None:
        """Continue a paused background run."""
        if not self.is_running:
            self.start()
            return
        self._run_event.set()
        self._set_status("running")

    def stop(self, timeout: float = STOP_TIMEOUT_S, *, reason: str = "") -> None:
        """Stop the background thread and wait (up to ``timeout`` s) for it to end.

        ``reason``, if given, becomes :attr:`message` (widgets show it), e.g. why the package
        stopped a trainer nobody could see any more.
        """
        thread = self._thread
        self._stop_event.set()
        self._run_event.set()  # wake a paused thread so it sees the stop
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("micrograd-widgets: training thread still busy after %.1f s", timeout)
        # the thread marks itself stopped as it ends: the reason is still ours to give
        if thread is not None and (
            self.status in ("running", "paused") or (reason and self.status == "stopped")
        ):
            self._set_status("stopped", reason or None)
        self._thread = None if thread is None or not thread.is_alive() else thread

    def wait(self, timeout: float | None = None) -> bool:
        """Block until background training ends (``start(steps)`` done, stopped or diverged).

        Returns False if it is still running after ``timeout`` seconds. Do not call it while
        paused with no one to resume: it would wait for the timeout.
        """
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def reset(self) -> None:
        """Stop, restore the initial parameters, reset the optimizer and clear the history."""
        self.stop()
        with self.lock:
            for p, value in zip(self.parameters, self._initial):
                p.data = value
                p.grad = 0.0
            self.optimizer.reset()  # step count 0, no momentum / running averages
            self.history.clear()
            self.steps_done = 0
            self.last_update = np.zeros(len(self.parameters))
            self.status = "idle"
            self.message = ""
            self._warned = False
        self._notify("reset")

    # ---- data ------------------------------------------------------------------------------------

    def add_point(self, x: float, y: float, label: float) -> int:
        """Add a training point (between steps if training runs); returns the new point count.

        ``label`` is one of :attr:`label_values` (-1 / +1 for one output, 0..k-1 for k)."""
        row = np.array([[x, y]], dtype=np.float64)
        if self.X.shape[1] != 2:
            raise ValueError("add_point needs 2-D data (the model has 2 inputs)")
        if not np.all(np.isfinite(row)):
            raise ValueError(f"point coordinates must be finite numbers, got ({x!r}, {y!r})")
        allowed = self.label_values.tolist()
        if (
            isinstance(label, bool)
            or not isinstance(label, numbers.Real)
            or float(label) not in allowed
        ):
            if allowed == [-1.0, 1.0]:
                expected = "-1 or +1"
            else:
                expected = f"one of {', '.join(f'{v:g}' for v in allowed)}"
            raise ValueError(
                f"label must be {expected} (this trainer's {self.classes} classes), got {label!r}"
            )
        with self.lock:
            self.X = np.vstack([self.X, row])
            self.y = np.append(self.y, float(label))
            count = len(self.y)
        self._notify("data")
        return count

    def remove_nearest(self, x: float, y: float, radius: float = math.inf) -> int | None:
        """Remove the training point nearest (x, y) if within ``radius``; returns its index."""
        with self.lock:
            if len(self.y) <= 2:
                raise ValueError("cannot remove a point: at least 2 training points must remain")
            distances = np.hypot(self.X[:, 0] - x, self.X[:, 1] - y)
            index = int(np.argmin(distances))
            if distances[index] > radius:
                return None
            self.X = np.delete(self.X, index, axis=0)
            self.y = np.delete(self.y, index)
        self._notify("data")
        return index

    def __repr__(self) -> str:
        return (
            f"Trainer({self.model!r}, {len(self.y)} points, loss={self.loss_name!r}, "
            f"step {self.steps_done}, {self.status})"
        )


class _Interrupted(threading.Event):
    """Set by the first interrupt (SIGINT) during :meth:`Trainer.run`; ``cut_short`` once a
    second one raised inside a step."""

    cut_short = False


@contextlib.contextmanager
def _interrupts_between_steps(interrupted: _Interrupted) -> Iterator[None]:
    """While training in the cell, an interrupt ("Interrupt kernel", Ctrl-C) lands between two
    steps: the first only sets the event and the step in flight finishes (so the model is as
    after a whole step); a second one raises at once, for a step that takes too long.

    Only in the main thread, and only over a Python-level SIGINT handler (as in IPython and
    ipykernel while a cell runs); elsewhere interrupts behave as usual.
    """
    previous = signal.getsignal(signal.SIGINT) if _in_main_thread() else None
    if not callable(previous):
        yield
        return

    def on_sigint(signum: int, frame: Any) -> None:
        if interrupted.is_set():
            interrupted.cut_short = True
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        interrupted.set()

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _stacklevel_outside_package() -> int:
    """``warnings.warn``'s stacklevel, for the caller of this function, that points at the first
    frame outside this package: the user's cell, not train.py. Level 1 (the warning's own
    line) when no such frame calls in, as on the background training thread."""
    frame = sys._getframe(1)  # the function that calls warnings.warn: stacklevel 1
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE_DIR + os.sep
    ):
        frame = frame.f_back
        level += 1
    if frame is None or frame.f_code.co_filename == threading.__file__:
        return 1
    return level


def _training_loop(
    trainer_ref: weakref.ref[Trainer], stop: threading.Event, run: threading.Event
) -> None:
    """The background thread: holds the trainer only during a step, so it can be collected."""
    while not stop.is_set():
        if not run.wait(timeout=0.2) or stop.is_set():
            continue
        trainer = trainer_ref()
        if trainer is None:  # the trainer was garbage-collected: nothing left to train
            return
        wait = trainer._until_next_step()
        if wait > 0:  # paced by trainer.speed: wait without holding the trainer, in short
            del trainer  # slices, so a new speed, a pause or a stop takes effect at once
            stop.wait(min(wait, PACE_SLICE_S))
            continue
        try:
            target = trainer._target_steps
            if target is not None and trainer.steps_done >= target:
                trainer._set_status("stopped")
                return
            trainer._last_step_at = time.monotonic()
            trainer._step(only_while=run)  # skipped if paused while waiting for the lock
        except TrainingDiverged:
            return
        except Exception as exc:  # shown by the widgets; the thread ends cleanly
            log.exception("micrograd-widgets: training step failed")
            trainer._set_status("error", f"Training stopped: {type(exc).__name__}: {exc}")
            return
        finally:
            del trainer
        # hand the GIL to the kernel's thread between steps: a compiled step takes well under
        # a millisecond, and a thread that never waits would keep the kernel from answering
        time.sleep(0)
    trainer = trainer_ref()
    if trainer is not None and trainer.status in ("running", "paused"):
        trainer._set_status("stopped")  # e.g. stopped by a kernel interrupt


# ---- clean shutdown: interpreter exit and kernel interrupts -----------------------------------

_LIVE_TRAINERS: weakref.WeakSet[Trainer] = weakref.WeakSet()
_hooks_installed = False


def stop_all(timeout: float = 2.0) -> int:
    """Stop every trainer that trains in the background (in this kernel); returns how many.

    For trainers you lost the name of, e.g. after re-running cells:
    ``micrograd_widgets.stop_all()``. Each waits up to ``timeout`` seconds for its current step.
    """
    stopped = 0
    for trainer in list(_LIVE_TRAINERS):
        if trainer.is_running:
            trainer.stop(timeout, reason="Stopped by stop_all().")
            stopped += 1
    return stopped


atexit.register(stop_all)


def _signal_stop_all() -> None:
    # from a signal handler: only flag the threads; they finish their step and exit
    for trainer in list(_LIVE_TRAINERS):
        trainer._stop_event.set()
        trainer._run_event.set()


def _install_interrupt_hooks() -> None:
    """Make "Interrupt kernel" stop background training (best effort; IPython/ipykernel only).

    During a cell, an interrupt raises KeyboardInterrupt there: a post_run_cell hook sees it.
    Between cells ipykernel ignores SIGINT, restoring ``kernel.saved_sigint_handler`` after each
    cell; chaining a handler there makes an idle-time interrupt stop training too.
    """
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def after_cell(result: Any) -> None:
        if isinstance(getattr(result, "error_in_exec", None), KeyboardInterrupt):
            stop_all()

    shell.events.register("post_run_cell", after_cell)
    kernel = getattr(shell, "kernel", None)
    if kernel is not None and hasattr(kernel, "saved_sigint_handler"):
        previous = kernel.saved_sigint_handler

        def on_sigint(signum: int, frame: Any) -> None:
            _signal_stop_all()
            if callable(previous):
                previous(signum, frame)

        kernel.saved_sigint_handler = on_sigint
