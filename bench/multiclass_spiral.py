"""3-class spiral, Adam and softmax cross-entropy on the scalar engine: steps and seconds to reach
>= 95 % training accuracy.

The run: ``datasets.spiral(300, classes=3, seed=0)`` (noise 0.05, 1.5 turns),
``MLP(2, [32, 32, 3], seed=s)`` (1,251 parameters, ReLU), ``optim.Adam(lr=0.05)`` (PyTorch's betas
and eps), ``losses.cross_entropy_loss``, full batch, written as a plain loop on ``Value``: build
the graph, ``zero_grad()``, ``backward()``, ``step()`` -- inside ``gc_paused()``, as ``Trainer``
steps. Accuracy is read from each step's own forward pass, i.e. before that step's update (as
``Trainer.history`` records it); "steps" is the number of updates applied when it first reads
>= 95 %, "seconds" the wall time until then.

With torch installed (the ``test`` extra) the same run is first made in torch, float64, one
thread, from the same weights: it must reach the target at the same step, and the script prints
how far apart the two sets of weights are there (Adam + cross-entropy agreeing over ~100 steps).

    .venv/bin/python bench/multiclass_spiral.py                  # init seeds 0-2, ~15-30 min
    .venv/bin/python bench/multiclass_spiral.py --seeds 0 1 2 3 4
    .venv/bin/python bench/multiclass_spiral.py --quick          # a small smoke run, seconds

Results go to ``bench/results/multiclass_spiral[_quick].json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from micrograd_widgets import MLP, datasets, losses, optim
from micrograd_widgets.engine import gc_paused

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET = 0.95


def torch_reference(model, X, y, lr, max_steps):
    """The same training in torch (float64): (steps to the target or None, weights there)."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    weights = [
        torch.tensor(layer.parameter_matrix(), dtype=torch.float64, requires_grad=True)
        for layer in model.layers
    ]
    opt = torch.optim.Adam(weights, lr=lr)
    inputs, labels = torch.tensor(X), torch.tensor(y.astype(np.int64))
    for k in range(max_steps + 1):
        logits = inputs
        for i, W in enumerate(weights):
            logits = logits @ W[:, :-1].T + W[:, -1]
            if i < len(weights) - 1:
                logits = torch.relu(logits)
        if (logits.argmax(dim=1) == labels).double().mean().item() >= TARGET:
            return k, [W.detach().numpy().copy() for W in weights]
        if k == max_steps:
            break
        loss = torch.nn.functional.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return None, [W.detach().numpy().copy() for W in weights]


def train_scalar(model, X, y, lr, max_steps):
    """The plain Value loop; returns a record of the run."""
    opt = optim.Adam(model.parameters(), lr=lr)
    rows = X.tolist()
    step_seconds = []
    reached = None
    start = time.perf_counter()
    with gc_paused():
        for k in range(max_steps + 1):
            tick = time.perf_counter()
            logits = [model(x) for x in rows]
            loss = losses.cross_entropy_loss(logits, y)
            accuracy = losses.accuracy(logits, y)
            if accuracy >= TARGET:
                reached = {"steps": k, "seconds": time.perf_counter() - start, "loss": loss.data}
                break
            if k == max_steps:
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
            del logits, loss  # free this step's graph inside the timing
            step_seconds.append(time.perf_counter() - tick)
            if k % 25 == 0:
                print(f"    step {k:4d}: accuracy {accuracy * 100:5.1f} %", flush=True)
    return {
        "reached": reached,
        "final_accuracy": accuracy,
        "median_step_s": statistics.median(step_seconds) if step_seconds else None,
        "steps_run": len(step_seconds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="MLP init seeds")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--max-steps", type=int, default=1000)
    parser.add_argument(
        "--quick", action="store_true", help="60 points, MLP(2,[8,8,3]), <= 200 steps"
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)

    n, widths, max_steps = (
        (60, [8, 8, 3], 200) if args.quick else (300, [32, 32, 3], args.max_steps)
    )
    data = datasets.spiral(n, classes=3, seed=0)
    X, y = data.X, data.y
    print(
        f"3-class spiral, {n} points; MLP(2, {widths}); Adam lr={args.lr}; cross-entropy; "
        f"full batch; target {TARGET * 100:.0f} % training accuracy; Python "
        f"{platform.python_version()}"
    )
    runs = []
    ok = True
    for seed in args.seeds:
        reference = torch_reference(MLP(2, widths, seed=seed), X, y, args.lr, max_steps)
        model = MLP(2, widths, seed=seed)
        print(f"  init seed {seed} ({len(model.parameters())} parameters):", flush=True)
        run = {"seed": seed, **train_scalar(model, X, y, args.lr, max_steps)}
        reached = run["reached"]
        if reached:
            line = (
                f"  seed {seed}: {reached['steps']} steps, {reached['seconds']:.1f} s "
                f"({run['median_step_s']:.2f} s/step median), loss {reached['loss']:.4f}"
            )
        else:
            line = (
                f"  seed {seed}: not reached in {max_steps} steps "
                f"(accuracy {run['final_accuracy'] * 100:.1f} %)"
            )
        if reference is not None:
            torch_steps, torch_weights = reference
            ours = [layer.parameter_matrix() for layer in model.layers]
            gap = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, torch_weights))
            run["torch_steps"] = torch_steps
            run["max_abs_weight_diff_vs_torch"] = gap
            same = torch_steps == (reached["steps"] if reached else None)
            line += f"; torch float64: {torch_steps} steps, max |Δw| there {gap:.1e}"
            if not same:
                line += "  <-- DIFFERENT STEP"
                ok = False
        print(line, flush=True)
        runs.append(run)

    done = [r["reached"] for r in runs if r["reached"]]
    if done:
        steps = [r["steps"] for r in done]
        seconds = [r["seconds"] for r in done]
        print(
            f"reached {TARGET * 100:.0f} % on {len(done)} of {len(runs)} seeds: "
            f"steps median {statistics.median(steps):g} (range {min(steps)}-{max(steps)}), "
            f"seconds median {statistics.median(seconds):.0f} "
            f"(range {min(seconds):.0f}-{max(seconds):.0f})"
        )
    args.results_dir.mkdir(parents=True, exist_ok=True)
    name = "multiclass_spiral_quick.json" if args.quick else "multiclass_spiral.json"
    (args.results_dir / name).write_text(
        json.dumps({"n": n, "widths": widths, "lr": args.lr, "runs": runs}, indent=2)
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
