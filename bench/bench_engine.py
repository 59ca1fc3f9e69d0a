"""Benchmark: one training step of the seed demo, this engine vs. karpathy's micrograd 0.1.0.

The step is the seed blog post's, written the seed's way: make_moons(128, noise=0.1),
MLP(2, [16, 16, 1]), SVM max-margin loss + 1e-4·L2 over the full batch, ``zero_grad()``,
``backward()``, then SGD with the learning rate ``1.0 - 0.9 * k / 100``.

Both engines run in this one process, in alternating rounds, on the same data and from the same
initial weights (karpathy's, copied into ours in parameter order). Before timing, the script
checks that both compute the same loss and the same gradient for every parameter (to 1e-9), also
after a few SGD steps. It reports the median time per step, for the unchanged seed loop and for
the same loop inside ``gc_paused()``, and times ``MLP.predict`` on a 100×100 grid.

    .venv/bin/python bench/bench_engine.py            # full run, about a minute
    .venv/bin/python bench/bench_engine.py --quick    # smoke run: checks + a few steps

Results go to ``bench/results/`` (git-ignored) as JSON and as the printed table.
Exit status 1 if an equality check fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import micrograd
import micrograd.engine
import micrograd.nn
import numpy as np
from sklearn.datasets import make_moons

from micrograd_widgets import engine as ours_engine
from micrograd_widgets import nn as ours_nn

TOLERANCE = 1e-9
TARGET_SPEEDUP = 15.0  # per training step, vs micrograd 0.1.0
TARGET_PREDICT_MS = 20.0
GRID = 100  # predict() is timed on a GRID × GRID grid
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def seed_loss(Value: type, model: Callable, parameters: Callable, X: np.ndarray, y: np.ndarray):
    """The seed post's ``loss()`` (full batch), for either engine."""

    def loss():
        Xb, yb = X, y
        inputs = [list(map(Value, xrow)) for xrow in Xb]

        # forward the model to get scores
        scores = list(map(model, inputs))

        # SVM "max-margin" loss
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))

        # L2 regularization
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in parameters())

        # total loss
        total_loss = data_loss + reg_loss

        # also get accuracy
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    return loss


class Run:
    """One engine's model plus the seed loop's step, counting steps for the lr schedule."""

    def __init__(self, name: str, Value: type, model, X: np.ndarray, y: np.ndarray) -> None:
        self.name = name
        self.model = model
        self.loss = seed_loss(Value, model, model.parameters, X, y)
        self.k = 0

    def step(self) -> float:
        """One seed training step; returns the loss it computed."""
        total_loss, _acc = self.loss()
        self.model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * self.k / 100
        for p in self.model.parameters():
            p.data -= learning_rate * p.grad
        self.k += 1
        return float(total_loss.data)


def make_pair(X: np.ndarray, y: np.ndarray, seed: int) -> tuple[Run, Run]:
    """karpathy's MLP and ours, with ours holding a copy of karpathy's initial weights."""
    random.seed(seed)  # karpathy's Neuron draws from the global generator
    theirs = micrograd.nn.MLP(2, [16, 16, 1])
    ours = ours_nn.MLP(2, [16, 16, 1], seed=seed)
    their_params, our_params = theirs.parameters(), ours.parameters()
    if len(their_params) != len(our_params):
        raise AssertionError(f"{len(their_params)} vs {len(our_params)} parameters")
    for mine, theirs_p in zip(our_params, their_params):
        mine.data = float(theirs_p.data)
    return (
        Run("micrograd 0.1.0", micrograd.engine.Value, theirs, X, y),
        Run("micrograd-widgets", ours_engine.Value, ours, X, y),
    )


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def check_equal(X: np.ndarray, y: np.ndarray, seed: int, steps: int) -> dict:
    """Same loss and same grad for every parameter, from the same weights, for `steps` steps."""
    theirs, ours = make_pair(X, y, seed)
    worst_loss = worst_grad = 0.0
    for _ in range(steps):
        # gradients are compared after backward, before the update changes the weights
        their_loss, their_acc = theirs.loss()
        our_loss, our_acc = ours.loss()
        theirs.model.zero_grad()
        ours.model.zero_grad()
        their_loss.backward()
        our_loss.backward()
        if not close(their_loss.data, our_loss.data) or their_acc != our_acc:
            raise AssertionError(
                f"step {theirs.k}: loss {their_loss.data!r} vs {our_loss.data!r}, "
                f"accuracy {their_acc} vs {our_acc}"
            )
        worst_loss = max(worst_loss, abs(their_loss.data - our_loss.data))
        names = [name for name, _ in ours.model.named_parameters()]
        for name, tp, op in zip(names, theirs.model.parameters(), ours.model.parameters()):
            if not close(float(tp.grad), op.grad):
                raise AssertionError(f"step {theirs.k}: grad of {name}: {tp.grad!r} vs {op.grad!r}")
            worst_grad = max(worst_grad, abs(float(tp.grad) - op.grad))
        for run in (theirs, ours):
            learning_rate = 1.0 - 0.9 * run.k / 100
            for p in run.model.parameters():
                p.data -= learning_rate * p.grad
            run.k += 1
    return {"steps": steps, "max_abs_loss_diff": worst_loss, "max_abs_grad_diff": worst_grad}


def time_steps(run: Run, steps: int, paused: bool) -> list[float]:
    """Seconds per step for `steps` consecutive seed steps after one untimed warm-up step.

    A fresh collection first, so neither engine pays for garbage the other left behind; the
    warm-up step then leaves the heap as a long training loop has it (micrograd's previous graph
    is garbage waiting for the collector).
    """
    gc.collect()
    times = []
    if paused:
        with ours_engine.gc_paused():
            run.step()  # warm-up
            start = time.perf_counter()
            for _ in range(steps):
                t0 = time.perf_counter()
                run.step()
                times.append(time.perf_counter() - t0)
        # charge leaving the block (the collector resumes) to the last step
        times[-1] += time.perf_counter() - start - sum(times)
    else:
        run.step()  # warm-up
        for _ in range(steps):
            t0 = time.perf_counter()
            run.step()
            times.append(time.perf_counter() - t0)
    return times


def time_predict(model: ours_nn.MLP, X: np.ndarray, repeats: int) -> tuple[float, float]:
    """Median seconds for predict() on a GRID×GRID grid, and its max deviation from Value."""
    xs = np.linspace(X[:, 0].min() - 1, X[:, 0].max() + 1, GRID)
    ys = np.linspace(X[:, 1].min() - 1, X[:, 1].max() + 1, GRID)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        scores = model.predict(grid)
        times.append(time.perf_counter() - t0)
    sample = grid[:: len(grid) // 50]
    deviation = max(
        abs(model(list(point)).data - score)
        for point, score in zip(sample, scores[:: len(grid) // 50])
    )
    return statistics.median(times), deviation


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: checks + a few steps")
    parser.add_argument("--rounds", type=int, default=4, help="alternating timing rounds")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    their_steps, our_steps = (1, 2) if args.quick else (3, 10)

    X, y = make_moons(n_samples=128, noise=0.1, random_state=args.seed)
    y = y * 2 - 1  # labels -1 / +1, as in the seed

    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}: micrograd 0.1.0 vs micrograd-widgets"
    )
    try:
        equality = check_equal(X, y, args.seed, steps=2 if args.quick else 5)
    except AssertionError as error:
        print(f"EQUALITY CHECK FAILED: {error}")
        return 1
    print(
        f"same loss and grads for {equality['steps']} steps: max |Δloss| = "
        f"{equality['max_abs_loss_diff']:.1e}, max |Δgrad| = {equality['max_abs_grad_diff']:.1e}"
    )

    theirs, ours = make_pair(X, y, args.seed)
    _, ours_paused = make_pair(X, y, args.seed)
    samples: dict[str, list[float]] = {"theirs": [], "ours": [], "ours_paused": []}
    for r in range(rounds):
        # alternate who goes first, so neither always runs on a warmer (or fuller) heap
        jobs = [
            ("theirs", theirs, their_steps, False),
            ("ours", ours, our_steps, False),
            ("ours_paused", ours_paused, our_steps, True),
        ]
        for key, run, steps, paused in jobs if r % 2 == 0 else reversed(jobs):
            samples[key] += time_steps(run, steps, paused)
        print(f"round {r + 1}/{rounds} done", flush=True)

    median_ms = {key: 1000 * statistics.median(times) for key, times in samples.items()}
    predict_s, predict_dev = time_predict(ours.model, X, repeats=5 if args.quick else 30)
    results = {
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],  # other work on the machine skews timings
        "quick": args.quick,
        "steps_timed": {key: len(times) for key, times in samples.items()},
        "median_step_ms": median_ms,
        "speedup": median_ms["theirs"] / median_ms["ours"],
        "speedup_gc_paused": median_ms["theirs"] / median_ms["ours_paused"],
        "predict_grid_ms": 1000 * predict_s,
        "predict_max_abs_diff_vs_value": predict_dev,
        "equality": equality,
    }
    lines = [
        "",
        f"{'seed training step (median)':<40}{'ms/step':>10}{'speed-up':>10}",
        f"{'micrograd 0.1.0':<40}{median_ms['theirs']:>10.1f}{1.0:>9.1f}×",
        f"{'micrograd-widgets':<40}{median_ms['ours']:>10.1f}{results['speedup']:>9.1f}×",
        f"{'micrograd-widgets in gc_paused()':<40}{median_ms['ours_paused']:>10.1f}"
        f"{results['speedup_gc_paused']:>9.1f}×",
        "",
        f"predict() on a {GRID}×{GRID} grid: {results['predict_grid_ms']:.2f} ms "
        f"(max |Δ| vs Value forward {predict_dev:.1e})",
        "",
        f"targets: ≥ {TARGET_SPEEDUP:.0f}× per step: plain loop "
        f"{verdict(results['speedup'] >= TARGET_SPEEDUP)}, in gc_paused() "
        f"{verdict(results['speedup_gc_paused'] >= TARGET_SPEEDUP)}; predict ≤ "
        f"{TARGET_PREDICT_MS:.0f} ms {verdict(results['predict_grid_ms'] <= TARGET_PREDICT_MS)}",
    ]
    table = "\n".join(lines)
    print(table)
    if predict_dev > 1e-10:
        print("PREDICT CHECK FAILED")
        return 1

    args.results_dir.mkdir(parents=True, exist_ok=True)
    stem = "bench_engine_quick" if args.quick else "bench_engine"
    (args.results_dir / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.results_dir / f"{stem}.txt").write_text(table.lstrip() + "\n")
    print(f"\nwrote {args.results_dir / stem}.json and .txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
