"""A tiny neural-network library on top of :class:`~micrograd_widgets.engine.Value`.

``Module`` → ``Neuron`` → ``Layer`` → ``MLP``, as in the lecture. Parameters are ordered layer by
layer, neuron by neuron, ``w`` then ``b``, and each has a stable dotted name such as
``layers.0.neurons.3.w.1`` (also set as the parameter's ``label``, so graphs show it).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from .engine import Value

__all__ = ["ACTIVATIONS", "MLP", "Layer", "Module", "Neuron"]

InputRow = Sequence[float] | Sequence[Value]

# activation name -> (on a Value, on a numpy array). The array function takes ``out=``, the
# array to write the result into (numpy's meaning; ``out=z`` computes in place); "none" gives
# ``z`` back, so it only takes ``out=z``.
ACTIVATIONS: dict[str, tuple[Callable[[Value], Value], Callable[..., np.ndarray]]] = {
    "relu": (Value.relu, lambda z, out=None: np.maximum(z, 0.0, out=out)),
    "tanh": (Value.tanh, np.tanh),
    "sigmoid": (
        Value.sigmoid,
        # 1 / (1 + e^-z) without overflow
        lambda z, out=None: np.exp(-np.logaddexp(0.0, -z), out=out),
    ),
    "none": (lambda v: v, lambda z, out=None: z),
}


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        choices = ", ".join(repr(a) for a in ACTIVATIONS)
        raise ValueError(f"unknown activation {activation!r}; expected one of {choices}")
    return activation


def _check_size(name: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def _check_inputs(who: str, x: object, nin: int) -> None:
    if not hasattr(x, "__len__") or isinstance(x, (str, bytes)):
        raise TypeError(
            f"{who} expected a list of {nin} inputs (numbers or Values), got {type(x).__name__}"
        )
    if len(x) != nin:
        raise ValueError(f"{who} expected {nin} inputs, got {len(x)}")


def _as_batch(who: str, X: object, nin: int) -> np.ndarray:
    """``X`` as a float64 ``(n, nin)`` array, or a clear error saying what shape was expected."""
    A = np.asarray(X, dtype=np.float64)
    if A.ndim == 1 and nin == A.shape[0]:
        raise ValueError(
            f"{who} expects a 2-D array of shape (n, {nin}); got one row of shape "
            f"{A.shape} — use X.reshape(1, -1)"
        )
    if A.ndim != 2 or A.shape[1] != nin:
        raise ValueError(f"{who} expects an array of shape (n, {nin}), got {A.shape}")
    return A


def _parameter_matrix(neurons: Sequence[Neuron], attr: str) -> np.ndarray:
    """``(len(neurons), nin + 1)`` array of each neuron's ``w`` then ``b``, read afresh."""
    if attr not in ("data", "grad"):
        raise ValueError(f"attr must be 'data' or 'grad', got {attr!r}")
    # one flat list, then a reshape: half the time of a list per neuron (every frame reads it).
    # Never cached: anyone may change a weight through ``p.data``.
    if attr == "data":
        flat = [p.data for n in neurons for p in (*n.w, n.b)]
    else:
        flat = [p.grad for n in neurons for p in (*n.w, n.b)]
    return np.array(flat, dtype=np.float64).reshape(len(neurons), -1)


def _layer_forward(A: np.ndarray, Wb: np.ndarray, activation: str) -> tuple[np.ndarray, np.ndarray]:
    """One layer on a batch: its pre-activations ``A·Wᵀ + b`` and its outputs, ``(n, nout)``."""
    pre = A @ Wb[:, :-1].T
    pre += Wb[:, -1]  # in place: one (n, nout) array less to allocate on a 10,000-point grid
    return pre, ACTIVATIONS[activation][1](pre)


def _layer_output(
    A: np.ndarray, Wb: np.ndarray, activation: str, out: np.ndarray | None = None
) -> np.ndarray:
    """:func:`_layer_forward`'s outputs alone (the same numbers), computed in place: in ``out``
    if given (a reused buffer: no fresh pages to fault in), else in one new array."""
    out = np.matmul(A, Wb[:, :-1].T, out=out)
    out += Wb[:, -1]
    return ACTIVATIONS[activation][1](out, out=out)


def forward_with(
    matrices: Sequence[np.ndarray],
    activations: Sequence[str],
    X: np.ndarray,
    workspace: dict[tuple[int, int, int], np.ndarray] | None = None,
) -> np.ndarray:
    """``predict`` from parameter matrices read earlier (``layer.parameter_matrix()`` of each
    layer), with the same numbers: a frame reads the weights once, under the trainer's lock,
    and evaluates them on its point sets after releasing it. Shape ``(n,)`` for one output,
    ``(n, nout)`` otherwise.

    ``workspace``: a dict the caller keeps for one point set it evaluates again and again (a
    decision boundary's grid), holding the layers' buffers between calls. Not thread-safe: one
    caller at a time per workspace. The result is always a fresh array.
    """
    A = np.asarray(X, dtype=np.float64)
    for index, (Wb, activation) in enumerate(zip(matrices, activations)):
        out = None
        if workspace is not None:
            key = (index, len(A), len(Wb))
            out = workspace.get(key)
            if out is None:
                out = workspace[key] = np.empty((len(A), len(Wb)))
        A = _layer_output(A, Wb, activation, out)
    result = A[:, 0] if A.shape[1] == 1 else A
    return result.copy() if workspace is not None else result


def _make_rng(seed: int | None, rng: random.Random | None) -> random.Random:
    if seed is not None and rng is not None:
        raise ValueError("pass either seed= or rng=, not both")
    if rng is not None:
        if not isinstance(rng, random.Random):
            raise TypeError(f"rng must be a random.Random, got {type(rng).__name__}")
        return rng
    if seed is None:
        seed = random.getrandbits(64)  # from the global generator, so random.seed() still works
    return random.Random(seed)


class Module:
    """Base class: something with parameters whose grads can be zeroed."""

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """Yield ``(dotted_name, parameter)`` in the canonical parameter order."""
        return iter(())

    def parameters(self) -> list[Value]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def _label_parameters(self) -> None:
        for name, p in self.named_parameters():
            p.label = name


class Neuron(Module):
    """``activation(w · x + b)`` with weights and bias drawn uniformly from [-1, 1]."""

    def __init__(
        self,
        nin: int,
        activation: str = "relu",
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.nin = _check_size("nin", nin)
        self.activation = _check_activation(activation)
        rng = _make_rng(seed, rng)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(self.nin)]
        self.b = Value(rng.uniform(-1, 1))
        self._label_parameters()

    def __call__(self, x: InputRow) -> Value:
        _check_inputs("Neuron", x, self.nin)
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi  # xi may be a number or a Value
        return ACTIVATIONS[self.activation][0](act)

    @property
    def nout(self) -> int:
        """One output: a Neuron can stand wherever a one-output model is expected."""
        return 1

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for i, wi in enumerate(self.w):
            yield f"w.{i}", wi
        yield "b", self.b

    def parameter_matrix(self, attr: str = "data") -> np.ndarray:
        """``(1, nin + 1)`` array of ``w`` then ``b`` (``attr``: data or grad), like a Layer's."""
        return _parameter_matrix([self], attr)

    def preactivations(self, X: np.ndarray | Sequence[Sequence[float]]) -> list[np.ndarray]:
        """``[w · x + b]`` for every row of ``X`` (one ``(n, 1)`` array), before the activation."""
        A = _as_batch("Neuron.preactivations", X, self.nin)
        return [_layer_forward(A, self.parameter_matrix(), self.activation)[0]]

    def predict(self, X: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Vectorized numpy forward pass over an ``(n, nin)`` array: shape ``(n,)``; no graph."""
        A = _as_batch("Neuron.predict", X, self.nin)
        return _layer_forward(A, self.parameter_matrix(), self.activation)[1][:, 0]

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons, each seeing all ``nin`` inputs."""

    def __init__(
        self,
        nin: int,
        nout: int,
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
        **kwargs: str,
    ) -> None:
        self.nin = _check_size("nin", nin)
        self.nout = _check_size("nout", nout)
        rng = _make_rng(seed, rng)
        self.neurons = [Neuron(self.nin, rng=rng, **kwargs) for _ in range(self.nout)]
        self._label_parameters()

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def __call__(self, x: InputRow) -> Value | list[Value]:
        _check_inputs("Layer", x, self.nin)
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for i, neuron in enumerate(self.neurons):
            for name, p in neuron.named_parameters():
                yield f"neurons.{i}.{name}", p

    def parameter_matrix(self, attr: str = "data") -> np.ndarray:
        """``(nout, nin + 1)`` array of each neuron's ``w`` then ``b`` (``attr``: data or grad)."""
        return _parameter_matrix(self.neurons, attr)

    def preactivations(self, X: np.ndarray | Sequence[Sequence[float]]) -> list[np.ndarray]:
        """Every neuron's ``w · x + b`` for every row of ``X``: one ``(n, nout)`` array."""
        A = _as_batch("Layer.preactivations", X, self.nin)
        return [_layer_forward(A, self.parameter_matrix(), self.activation)[0]]

    def predict(self, X: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Vectorized numpy forward pass; shape ``(n,)`` for one neuron, ``(n, nout)`` otherwise."""
        A = _as_batch("Layer.predict", X, self.nin)
        out = _layer_forward(A, self.parameter_matrix(), self.activation)[1]
        return out[:, 0] if self.nout == 1 else out

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: hidden layers use ``activation``, the last layer is linear."""

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        *,
        activation: str = "relu",
        output_activation: str = "none",
        seed: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.nin = _check_size("nin", nin)
        if isinstance(nouts, (int, np.integer)):
            raise ValueError(
                f"nouts must be a list of layer widths, got the number {nouts!r} "
                f"(for one layer of that width write [{nouts!r}])"
            )
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, (Sequence, np.ndarray)):
            raise ValueError(
                f"nouts must be a list of layer widths, e.g. [16, 16, 1]; got {nouts!r}"
            )
        if len(nouts) == 0:
            raise ValueError(
                "nouts must be a non-empty list of layer widths, e.g. [16, 16, 1]; got []"
            )
        sizes = [self.nin] + [_check_size("layer width", n) for n in nouts]
        _check_activation(activation)
        _check_activation(output_activation)
        self.activation = activation
        rng = _make_rng(seed, rng)
        last = len(nouts) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                rng=rng,
                activation=output_activation if i == last else activation,
            )
            for i in range(len(nouts))
        ]
        self._label_parameters()

    @property
    def nout(self) -> int:
        return self.layers[-1].nout

    def __call__(self, x: InputRow) -> Value | list[Value]:
        _check_inputs("MLP", x, self.nin)
        out: Sequence[float] | Sequence[Value] = x
        for layer in self.layers:
            r = layer(out)
            out = [r] if isinstance(r, Value) else r
        return out[0] if len(out) == 1 else list(out)

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for i, layer in enumerate(self.layers):
            for name, p in layer.named_parameters():
                yield f"layers.{i}.{name}", p

    def predict(self, X: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Vectorized numpy forward pass over an ``(n, nin)`` array; builds no graph.

        Returns shape ``(n,)`` for one output, ``(n, nout)`` otherwise.
        """
        A = _as_batch("predict", X, self.nin)
        matrices = [layer.parameter_matrix() for layer in self.layers]
        return forward_with(matrices, [layer.activation for layer in self.layers], A)

    def preactivations(self, X: np.ndarray | Sequence[Sequence[float]]) -> list[np.ndarray]:
        """Each layer's pre-activations ``w · x + b`` (before its activation) for every row of
        ``X``: one ``(n, nout)`` array per layer, computed with numpy (no graph).

        A ReLU neuron whose column is ``<= 0`` for every row of the training data is dead: it
        outputs 0 and passes no gradient back for any of those points.
        """
        A = _as_batch("preactivations", X, self.nin)
        result = []
        for layer in self.layers:
            pre, A = _layer_forward(A, layer.parameter_matrix(), layer.activation)
            result.append(pre)
        return result

    def __repr__(self) -> str:
        widths = [layer.nout for layer in self.layers]
        return f"MLP({self.nin}, {widths}, activation={self.activation!r})"
