"""Optimizers over ``Value.data``: SGD (with momentum), Adam and AdamW, as in PyTorch.

The seed's update is one line per parameter, ``p.data -= learning_rate * p.grad``. An optimizer
is that line with a memory of past gradients:

>>> from micrograd_widgets import MLP, datasets, losses, optim
>>> data = datasets.spiral(60, classes=3, seed=0)
>>> model = MLP(2, [16, 16, 3], seed=0)
>>> opt = optim.Adam(model.parameters(), lr=0.01)
>>> for k in range(20):
...     loss = losses.cross_entropy_loss([model(list(x)) for x in data.X], data.y)
...     opt.zero_grad()            # the same as model.zero_grad()
...     loss.backward()
...     opt.step()                 # reads every p.grad, writes every p.data

Each :meth:`Optimizer.step` reads the gradients (from the Values, or an array the caller already
has: ``step(grads=...)``), computes the update with numpy over all parameters at once and writes
the new ``data`` back into the Values. The maths and its order are PyTorch's (``torch.optim.SGD``,
``Adam``, ``AdamW`` with their defaults), so N steps agree with torch in float64 to ~1e-15 on the
same weights and gradients; plain SGD gives bit for bit the seed's ``p.data - lr * p.grad``.

The learning rate is a constant, a function ``k -> rate`` of the step number k = 0, 1, ..., or
None for the seed's schedule :func:`default_schedule`. :func:`make_optimizer` builds one by name
("sgd", "momentum", "adam", "adamw") for the Trainer.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np

from .engine import Value

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamW",
    "LearningRate",
    "Optimizer",
    "default_schedule",
    "make_optimizer",
]

LearningRate = float | Callable[[int], float] | None


def default_schedule(k: int) -> float:
    """The seed's learning-rate decay ``1.0 - 0.9·k/100``, held at 0.1 after step 100.

    The seed runs 32 steps; unclamped, the rate would turn negative at step 112 and climb the loss.
    """
    return 1.0 - 0.9 * min(k, 100) / 100


# how widgets name the schedule; a custom schedule function may carry its own `description`
default_schedule.description = "1 − 0.9·k/100 until step 100, then 0.1"  # type: ignore[attr-defined]


# ---- argument checks ---------------------------------------------------------------------------


def _check_lr(name: str, lr: object) -> LearningRate:
    if lr is None or callable(lr):
        return lr
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise ValueError(
            "lr must be None (the seed's schedule), a number > 0 or a function k -> rate, "
            f"got {lr!r}"
        )
    if not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    return float(lr)


def _check_fraction(name: str, value: object) -> float:
    """A number in [0, 1): a momentum or a beta (the weight of the past in a running average)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def _check_non_negative(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _check_eps(name: str, eps: object) -> float:
    value = _check_non_negative(name, eps)
    if value == 0:
        # PyTorch allows it, but a weight whose gradient has always been 0 (behind a dead ReLU,
        # say) then gets m / √v = 0 / 0 = NaN on its first step
        raise ValueError(
            "eps must be > 0: with eps = 0 a weight whose gradient has always been 0 "
            "(e.g. behind a dead ReLU) would become 0/0 = NaN"
        )
    return value


def _check_betas(name: str, betas: object) -> tuple[float, float]:
    if isinstance(betas, (str, bytes)) or not isinstance(betas, Iterable):
        raise ValueError(f"{name} must be a pair (beta1, beta2), each in [0, 1), got {betas!r}")
    pair = tuple(betas)
    if len(pair) != 2:
        raise ValueError(f"{name} must be a pair (beta1, beta2), each in [0, 1), got {betas!r}")
    return _check_fraction(f"{name}[0]", pair[0]), _check_fraction(f"{name}[1]", pair[1])


class _Hyperparameter:
    """An attribute checked on every assignment, so a slider may change it between steps."""

    def __init__(self, check: Callable[[str, object], Any], doc: str) -> None:
        self.check = check
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        return self if obj is None else obj.__dict__[self.name]

    def __set__(self, obj: object, value: object) -> None:
        obj.__dict__[self.name] = self.check(self.name, value)


def _check_parameters(params: object) -> list[Value]:
    if isinstance(params, Value) or not isinstance(params, Iterable):
        raise TypeError(
            f"params must be a list of Values, e.g. model.parameters(), got {type(params).__name__}"
        )
    parameters = list(params)
    if not parameters:
        raise ValueError("params is empty: an optimizer needs at least one parameter to update")
    for i, p in enumerate(parameters):
        if not isinstance(p, Value):
            raise TypeError(f"params[{i}] is a {type(p).__name__}, not a Value")
    if len({id(p) for p in parameters}) != len(parameters):
        raise ValueError("params lists a Value more than once; it would be updated twice per step")
    return parameters


def _lr_text(lr: LearningRate) -> str:
    if lr is None:
        return "default_schedule"
    if callable(lr):
        return getattr(lr, "__name__", "custom")
    return repr(lr)


# ---- the optimizers ----------------------------------------------------------------------------


class Optimizer:
    """Base class: holds the parameters, the learning rate and the step count.

    A subclass writes :meth:`_update` (the maths, on numpy arrays) and :meth:`_fresh_state`.

    Attributes:
        parameters: the Values it updates, in order (``state_arrays()`` follows this order).
        steps_done: how many steps it has applied; step k uses ``learning_rate(k)``.
    """

    #: the name :func:`make_optimizer` knows it by
    name: ClassVar[str] = ""
    #: the update in symbols (see :attr:`update_rule`)
    rule: ClassVar[str] = ""

    lr = _Hyperparameter(
        _check_lr, "None (the seed's schedule), a constant > 0, or a function ``k -> rate``."
    )

    def __init__(self, params: Iterable[Value], lr: LearningRate) -> None:
        self.parameters = _check_parameters(params)
        self.lr = lr
        self.steps_done = 0
        self._state = self._fresh_state()

    @property
    def update_rule(self) -> str:
        """The update in symbols, e.g. for a tooltip: ``"w ← w − lr·grad"``."""
        return self.rule

    def learning_rate(self, k: int | None = None) -> float:
        """The rate of step ``k`` (default: the next step), checked to be a finite number > 0."""
        k = self.steps_done if k is None else k
        if self.lr is None:
            return default_schedule(k)
        if not callable(self.lr):
            return self.lr
        rate = self.lr(k)
        if (
            isinstance(rate, bool)
            or not isinstance(rate, numbers.Real)
            or not (math.isfinite(rate) and rate > 0)
        ):
            raise ValueError(
                f"the learning-rate function gave {rate!r} for step {k}; "
                "expected a finite number > 0"
            )
        return float(rate)

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (``backward()`` accumulates into leaves)."""
        for p in self.parameters:
            p.grad = 0.0

    def _gradients(self, grads: object) -> np.ndarray:
        n = len(self.parameters)
        if grads is None:
            g = np.fromiter((p.grad for p in self.parameters), np.float64, n)
        else:
            g = np.asarray(grads, dtype=np.float64)
            if g.shape != (n,):
                raise ValueError(
                    f"grads must be an array of shape ({n},), one per parameter in order, "
                    f"got shape {g.shape}"
                )
        finite = np.isfinite(g)
        if not finite.all():
            i = int(np.argmin(finite))
            name = self.parameters[i].label or f"parameter {i}"
            raise ValueError(
                f"the gradient of {name} is {float(g[i])!r}; no update was applied "
                "(the model has diverged: lower the learning rate and start again)"
            )
        return g

    def step(self, grads: np.ndarray | None = None) -> np.ndarray:
        """Apply one update to every parameter's ``data``; returns the change of each (new - old).

        ``grads``: None to read each ``p.grad``, or an array of shape (n,) in parameter order
        (a caller that has the gradients already need not write them into the Values first).
        A NaN or infinite gradient raises ``ValueError`` and changes nothing.
        """
        data = np.array([p.data for p in self.parameters], dtype=np.float64)
        new_data = self.update(data, grads)  # raises (changing nothing) on a bad rate or grad
        for p, value in zip(self.parameters, new_data.tolist()):
            p.data = value
        return new_data - data

    def update(self, data: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """:meth:`step` on arrays: the new values from the current ones (``data``) and the
        gradients, both in parameter order. The Values are not touched -- the caller writes the
        result (the compiled Trainer writes each parameter's data and grad in one pass); the step
        count and the state advance as in :meth:`step`, with the same numbers.
        """
        lr = self.learning_rate()
        g = self._gradients(grads)
        data = np.asarray(data, dtype=np.float64)
        if data.shape != g.shape:
            raise ValueError(f"data must have shape {g.shape}, one per parameter, got {data.shape}")
        new_data, self._state = self._update(data, g, lr, self._state)
        self.steps_done += 1
        return new_data

    def _fresh_state(self) -> dict[str, np.ndarray]:
        return {}

    def _update(
        self, data: np.ndarray, g: np.ndarray, lr: float, state: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The new parameter values and the new state, from the old ones (nothing mutated)."""
        raise NotImplementedError

    @property
    def state_names(self) -> tuple[str, ...]:
        """The keys of :meth:`state_arrays` (known before the first step)."""
        return tuple(self.state_arrays())

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The optimizer's memory as named float64 arrays, one entry per parameter in order."""
        return {}

    def reset(self) -> None:
        """Back to a fresh optimizer: step count 0, state zero. The parameters are not touched."""
        self.steps_done = 0
        self._state = self._fresh_state()

    def options(self) -> dict[str, Any]:
        """The constructor's keyword arguments that make this optimizer (without ``params``)."""
        return {"lr": self.lr}

    def __repr__(self) -> str:
        options = {**self.options(), "lr": _lr_text(self.lr)}
        text = ", ".join(f"{key}={value}" for key, value in options.items())
        return (
            f"{type(self).__name__}({len(self.parameters)} parameters, {text}, "
            f"steps_done={self.steps_done})"
        )


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (``torch.optim.SGD``).

    Without momentum: ``w ← w − lr·g``, exactly the seed's update. With momentum μ, a velocity
    ``v`` (starting at 0) remembers past gradients: ``v ← μ·v + g``, ``w ← w − lr·v``.
    """

    name = "sgd"
    rule = "w ← w − lr·grad"

    momentum = _Hyperparameter(_check_fraction, "μ in [0, 1): how much velocity is kept.")

    def __init__(
        self, params: Iterable[Value], lr: LearningRate = None, momentum: float = 0.0
    ) -> None:
        self.momentum = momentum
        super().__init__(params, lr)

    def _fresh_state(self) -> dict[str, np.ndarray]:
        # kept even without momentum, so momentum may be switched on between steps
        return {"velocity": np.zeros(len(self.parameters))}

    def _update(
        self, data: np.ndarray, g: np.ndarray, lr: float, state: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        velocity = self.momentum * state["velocity"] + g
        if self.momentum == 0:
            return data - lr * g, {"velocity": velocity}  # the seed's update, bit for bit
        return data - lr * velocity, {"velocity": velocity}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """``velocity`` with momentum; nothing for plain SGD, which remembers nothing."""
        if self.momentum == 0:
            return {}
        return {"velocity": self._state["velocity"].copy()}

    def options(self) -> dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum}

    @property
    def update_rule(self) -> str:
        return self.rule if self.momentum == 0 else "v ← μ·v + grad;  w ← w − lr·v"


class Adam(Optimizer):
    """Adam (``torch.optim.Adam``): a step per weight scaled by its own gradient history.

    Running averages of the gradient and of its square, both starting at 0::

        m ← β1·m + (1 − β1)·g          v ← β2·v + (1 − β2)·g²
        m̂ = m / (1 − β1ᵗ)              v̂ = v / (1 − β2ᵗ)        (t = step number, from 1)
        w ← w − lr·m̂ / (√v̂ + ε)

    The bias corrections m̂, v̂ undo the averages' start at 0. Defaults are PyTorch's.
    """

    name = "adam"
    rule = "m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  w ← w − lr·m̂ / (√v̂ + ε)"

    betas = _Hyperparameter(_check_betas, "(β1, β2), each in [0, 1): the averages' memories.")
    eps = _Hyperparameter(_check_eps, "ε > 0, added to √v̂ so no step divides by 0.")

    def __init__(
        self,
        params: Iterable[Value],
        lr: LearningRate = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.betas = betas
        self.eps = eps
        super().__init__(params, lr)

    def _fresh_state(self) -> dict[str, np.ndarray]:
        n = len(self.parameters)
        return {"m": np.zeros(n), "v": np.zeros(n)}

    def _decayed(self, data: np.ndarray, lr: float) -> np.ndarray:
        return data  # Adam's weights are not decayed (AdamW's are)

    def _update(
        self, data: np.ndarray, g: np.ndarray, lr: float, state: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        beta1, beta2 = self.betas
        t = self.steps_done + 1
        m = beta1 * state["m"] + (1 - beta1) * g  # running mean of the gradient
        v = beta2 * state["v"] + (1 - beta2) * (g * g)  # running mean of its square
        step_size = lr / (1 - beta1**t)  # lr · bias correction of m
        denominator = np.sqrt(v) / math.sqrt(1 - beta2**t) + self.eps  # √v̂ + ε
        return self._decayed(data, lr) - step_size * (m / denominator), {"m": m, "v": v}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """``m`` (the gradient's running mean) and ``sqrt_v`` (√ of its square's), as stored:
        not bias-corrected."""
        return {"m": self._state["m"].copy(), "sqrt_v": np.sqrt(self._state["v"])}

    def options(self) -> dict[str, Any]:
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps}


class AdamW(Adam):
    """AdamW (``torch.optim.AdamW``): Adam plus decoupled weight decay.

    Before Adam's step each weight shrinks by a fraction ``lr·weight_decay``:
    ``w ← w·(1 − lr·λ)``, then ``w ← w − lr·m̂ / (√v̂ + ε)``. Unlike an L2 penalty in the loss, the
    decay does not pass through m and v. Defaults are PyTorch's (λ = 0.01).
    """

    name = "adamw"
    rule = "w ← w·(1 − lr·λ);  then Adam: w ← w − lr·m̂ / (√v̂ + ε)"

    weight_decay = _Hyperparameter(
        _check_non_negative, "λ >= 0: the fraction lr·λ shrunk per step."
    )

    def __init__(
        self,
        params: Iterable[Value],
        lr: LearningRate = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        self.weight_decay = weight_decay
        super().__init__(params, lr, betas, eps)

    def _decayed(self, data: np.ndarray, lr: float) -> np.ndarray:
        return data * (1 - lr * self.weight_decay)

    def options(self) -> dict[str, Any]:
        return {**super().options(), "weight_decay": self.weight_decay}


# ---- by name -----------------------------------------------------------------------------------

#: name -> (class, default options): what ``Trainer(optimizer=name)`` can build
OPTIMIZERS: dict[str, tuple[type[Optimizer], dict[str, Any]]] = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
}


def make_optimizer(
    optimizer: str | Optimizer, params: Iterable[Value], **options: Any
) -> Optimizer:
    """An optimizer for ``params`` from a name, or check one the caller built.

    ``optimizer``: "sgd" (the seed's update), "momentum" (SGD with momentum 0.9), "adam",
    "adamw", or an :class:`Optimizer` instance built over the same parameters. ``options`` go to
    the constructor (e.g. ``lr=0.01``, ``momentum=0.5``, ``betas=(0.9, 0.99)``); left out, each
    takes the optimizer's default (SGD: the seed's schedule; Adam/AdamW: PyTorch's lr = 1e-3).
    """
    if isinstance(optimizer, Optimizer):
        if options:
            given = ", ".join(sorted(options))
            raise ValueError(
                f"options ({given}) apply when the optimizer is given by name; this "
                f"{type(optimizer).__name__} has its own (set e.g. its .lr instead)"
            )
        parameters = _check_parameters(params)
        if len(parameters) != len(optimizer.parameters) or any(
            a is not b for a, b in zip(parameters, optimizer.parameters)
        ):
            raise ValueError(
                f"this {type(optimizer).__name__} updates other parameters "
                f"({len(optimizer.parameters)} Values) than the model's ({len(parameters)}): "
                "build it from model.parameters()"
            )
        return optimizer
    names = ", ".join(map(repr, OPTIMIZERS))
    if not isinstance(optimizer, str):
        raise TypeError(
            f"optimizer must be one of {names} or an Optimizer, got {type(optimizer).__name__}"
        )
    if optimizer not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; expected one of {names} or an Optimizer"
        )
    cls, defaults = OPTIMIZERS[optimizer]
    allowed = [name for name in inspect.signature(cls).parameters if name != "params"]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown option {unknown[0]!r} for optimizer {optimizer!r}; expected "
            f"{', '.join(allowed)}"
        )
    return cls(params, **{**defaults, **options})
