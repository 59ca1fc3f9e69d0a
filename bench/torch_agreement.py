"""How closely softmax cross-entropy and the optimizers agree with PyTorch (float64).

* ``losses.cross_entropy_loss`` vs ``torch.nn.functional.cross_entropy``: loss and every logit
  gradient over random batches (1-24 examples, 2-8 classes) with logits of scale 1, 30 and 1000.
* ``optim.SGD`` / momentum / ``Adam`` / ``AdamW`` vs ``torch.optim``: 200 steps on 500 weights
  from the same starting weights and the same gradient sequence (magnitudes 1e-4 to 20), every
  weight compared after every step.

Printed per comparison: the max absolute error; the normwise relative error
``max|ours - torch| / max|torch|``; and the max elementwise relative error ``|ours - torch| /
|torch|`` over entries with ``|torch| >= 1e-6`` -- large only where a value is a small difference of
big ones (a weight crossing 0, a softmax probability near 1 minus 1), where both sides round.
Takes ~20 s; needs the ``test`` extra (torch):

    .venv/bin/python bench/torch_agreement.py
"""

from __future__ import annotations

import numpy as np
import torch

from micrograd_widgets import Value, losses, optim


def errors(ours: object, theirs: object) -> tuple[float, float, float]:
    """(max abs, normwise relative, max elementwise relative where |torch| >= 1e-6)."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    diff = np.abs(ours - theirs)
    big = np.abs(theirs) >= 1e-6
    elementwise = float(np.max(diff[big] / np.abs(theirs[big]))) if big.any() else 0.0
    scale = float(np.max(np.abs(theirs)))
    return float(np.max(diff)), float(np.max(diff)) / scale if scale else 0.0, elementwise


def worse(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(max(x, y) for x, y in zip(a, b))


def text(e: tuple[float, ...]) -> str:
    return f"max abs {e[0]:.1e}, normwise rel {e[1]:.1e}, elementwise rel {e[2]:.1e}"


def cross_entropy_agreement(scale: float, trials: int = 200) -> tuple[tuple, tuple]:
    rng = np.random.default_rng(int(scale))
    loss_worst = grad_worst = (0.0, 0.0, 0.0)
    for _ in range(trials):
        n, k = int(rng.integers(1, 25)), int(rng.integers(2, 9))
        Z, y = rng.normal(size=(n, k)) * scale, rng.integers(0, k, n)
        rows = [[Value(float(z)) for z in row] for row in Z]
        loss = losses.cross_entropy_loss(rows, y)
        loss.backward()
        logits = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
        expected = torch.nn.functional.cross_entropy(logits, torch.tensor(y))
        expected.backward()
        loss_worst = worse(loss_worst, errors([loss.data], [expected.item()]))
        grads = [[z.grad for z in row] for row in rows]
        grad_worst = worse(grad_worst, errors(grads, logits.grad.numpy()))
    return loss_worst, grad_worst


OPTIMIZERS = {
    "SGD(lr=0.05)": (lambda p: optim.SGD(p, lr=0.05), lambda p: torch.optim.SGD(p, lr=0.05)),
    "SGD(lr=0.05, momentum=0.9)": (
        lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    "Adam(lr=0.01)": (lambda p: optim.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    "AdamW(lr=0.01)": (
        lambda p: optim.AdamW(p, lr=0.01),
        lambda p: torch.optim.AdamW(p, lr=0.01),
    ),
}


def optimizer_agreement(make_ours, make_torch, n=500, steps=200) -> tuple[float, ...]:
    rng = np.random.default_rng(0)
    w0 = rng.uniform(-1, 1, n)
    grads = rng.normal(size=(steps, n)) * np.exp(rng.uniform(-9, 3, (steps, n)))
    params = [Value(float(w)) for w in w0]
    ours = make_ours(params)
    weight = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    theirs = make_torch([weight])
    worst = (0.0, 0.0, 0.0)
    for k in range(steps):
        ours.step(grads=grads[k])
        weight.grad = torch.tensor(grads[k], dtype=torch.float64)
        theirs.step()
        worst = worse(worst, errors([p.data for p in params], weight.detach().numpy()))
    return worst


def main() -> None:
    print(f"torch {torch.__version__}, float64")
    print("cross_entropy_loss vs F.cross_entropy, 200 random batches per scale:")
    for scale in (1.0, 30.0, 1000.0):
        loss_worst, grad_worst = cross_entropy_agreement(scale)
        print(f"  |z| ~ {scale:g}:\n    loss        {text(loss_worst)}")
        print(f"    logit grads {text(grad_worst)}")
    print("optimizers vs torch.optim, 200 steps x 500 weights, every weight after every step:")
    for name, (make_ours, make_torch) in OPTIMIZERS.items():
        print(f"  {name:27s} {text(optimizer_agreement(make_ours, make_torch))}")


if __name__ == "__main__":
    main()
