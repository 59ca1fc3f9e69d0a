"""3-class spiral with a compiled ``Trainer``: steps and seconds to >= 95 % training accuracy,
side by side with the scalar engine's time per step.

The run: ``datasets.spiral(300, classes=3, seed=0)``, ``MLP(2, [32, 32, 3], seed=s)`` (1,251
parameters, ReLU), ``Trainer(..., loss="cross_entropy", optimizer="adam", lr=0.05)`` (default
L2 penalty 1e-4, full batch, ``engine="auto"``: compiled). A step's accuracy is measured before
its update (as ``Trainer.history`` records it); "steps" is the number of updates applied when the
history first reads >= 95 %, "seconds" the wall time of those steps (``Trainer.step()`` whole:
metrics, history, observers), plus the trace + compile at construction, given apart.

Side by side, from the same weights: the scalar engine (``engine="scalar"``, the graph of Values
every step) and the compiled step with the cross-entropy head on the scalar engine (a custom
loss calling ``losses.cross_entropy_loss``: what the compiled engine does when it cannot replay
the loss on arrays). Their first steps are checked bit for bit against the compiled run (every
weight, gradient and history entry) before anything is timed.

    .venv/bin/python bench/multiclass_trainer.py                # seeds 0-4, a few minutes
    .venv/bin/python bench/multiclass_trainer.py --quick        # a small smoke run, seconds

Results go to ``bench/results/multiclass_trainer[_quick].json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import struct
import sys
import time
from pathlib import Path

import numpy as np

from micrograd_widgets import MLP, Trainer, datasets, losses

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET = 0.95


def cross_entropy_on_the_scalar_engine(outputs, y):
    """The library's cross-entropy as a custom loss: the compiled step runs it on Values."""
    return losses.cross_entropy_loss(outputs, y)


def make_trainer(widths, seed, data, lr, **kwargs):
    return Trainer(
        MLP(2, widths, seed=seed), data, loss=kwargs.pop("loss", "cross_entropy"),
        optimizer="adam", lr=lr, **kwargs,
    )  # fmt: skip


def bits(trainer: Trainer) -> list[bytes]:
    """Every weight, gradient and history entry, as bytes."""
    numbers = [p.data for p in trainer.parameters] + [p.grad for p in trainer.parameters]
    for record in trainer.history:
        numbers += [v for v in record.values() if v == v]  # (NaN test columns: no split here)
    return [struct.pack("<d", float(v)) for v in numbers]


def median_step_ms(trainer: Trainer, steps: int) -> float:
    times = []
    for _ in range(steps):
        tick = time.perf_counter()
        trainer.step()
        times.append(time.perf_counter() - tick)
    return statistics.median(times) * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--max-steps", type=int, default=3000)
    parser.add_argument("--scalar-steps", type=int, default=5, help="scalar steps to time")
    parser.add_argument("--quick", action="store_true", help="60 points, MLP(2,[8,8,3])")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    n, widths = (60, [8, 8, 3]) if args.quick else (300, [32, 32, 3])
    seeds = args.seeds[:2] if args.quick else args.seeds
    data = datasets.spiral(n, classes=3, seed=0)
    print(
        f"3-class spiral, {n} points; MLP(2, {widths}); Trainer(loss='cross_entropy', "
        f"optimizer='adam', lr={args.lr}); full batch; target {TARGET * 100:.0f} % training "
        f"accuracy; Python {platform.python_version()}, numpy {np.__version__}"
    )

    # ---- the same numbers on every engine, before any timing
    checked = 3
    runs = {
        "compiled": make_trainer(widths, seeds[0], data, args.lr),
        "scalar": make_trainer(widths, seeds[0], data, args.lr, engine="scalar"),
        "compiled, scalar loss head": make_trainer(
            widths, seeds[0], data, args.lr, loss=cross_entropy_on_the_scalar_engine
        ),
    }
    for trainer in runs.values():
        trainer.run(checked)
    reference = bits(runs["compiled"])
    equal = {name: bits(trainer) == reference for name, trainer in runs.items()}
    print(f"bit for bit over {checked} steps vs the compiled Trainer: {equal}")
    if not all(equal.values()):
        return 1

    # ---- time per step, side by side (seed 0, from its first steps)
    per_step = {
        "compiled": median_step_ms(runs["compiled"], 50),
        "compiled, scalar loss head": median_step_ms(runs["compiled, scalar loss head"], 20),
        "scalar": median_step_ms(runs["scalar"], args.scalar_steps),
    }
    for name, ms in per_step.items():
        ratio = per_step["scalar"] / ms
        print(f"  {name:28s} {ms:9.2f} ms/step  ({ratio:7.1f}x the scalar engine)")
    print(f"  engine in use: {runs['compiled'].engine!r}")

    # ---- steps and seconds to the target, compiled
    results = []
    for seed in seeds:
        tick = time.perf_counter()
        trainer = make_trainer(widths, seed, data, args.lr)
        compile_s = time.perf_counter() - tick
        reached = None
        start = time.perf_counter()
        for _ in range(args.max_steps + 1):
            record = trainer.step()
            if record["accuracy"] >= TARGET:
                reached = int(record["step"])  # updates applied before this step's forward
                break
        seconds = time.perf_counter() - start
        results.append(
            {"seed": seed, "steps": reached, "seconds": seconds, "compile_s": compile_s,
             "final_accuracy": record["accuracy"]}
        )  # fmt: skip
        if reached is None:
            print(
                f"  seed {seed}: not reached in {args.max_steps} steps ({record['accuracy']:.3f})"
            )
        else:
            print(
                f"  seed {seed}: {reached} steps, {seconds:.2f} s "
                f"(+ {compile_s * 1e3:.0f} ms trace + compile), "
                f"{reached / seconds:.0f} steps/s"
            )
    done = [r for r in results if r["steps"] is not None]
    summary = {}
    if done:
        steps = [r["steps"] for r in done]
        seconds = [r["seconds"] for r in done]
        summary = {
            "reached": f"{len(done)} of {len(results)}",
            "steps_median": statistics.median(steps),
            "steps_range": [min(steps), max(steps)],
            "seconds_median": statistics.median(seconds),
            "seconds_range": [min(seconds), max(seconds)],
            "scalar_seconds_estimate_median": statistics.median(steps) * per_step["scalar"] / 1e3,
        }
        print(
            f"reached {TARGET * 100:.0f} % on {summary['reached']} seeds: steps median "
            f"{summary['steps_median']:g} ({min(steps)}-{max(steps)}), seconds median "
            f"{summary['seconds_median']:.2f} ({min(seconds):.2f}-{max(seconds):.2f}); "
            f"the scalar engine would take ~{summary['scalar_seconds_estimate_median']:.0f} s"
        )
    args.results_dir.mkdir(parents=True, exist_ok=True)
    name = "multiclass_trainer_quick.json" if args.quick else "multiclass_trainer.json"
    (args.results_dir / name).write_text(
        json.dumps(
            {
                "n": n,
                "widths": widths,
                "lr": args.lr,
                "equal": equal,
                "ms_per_step": per_step,
                "runs": results,
                "summary": summary,
            },
            indent=2,
        )
    )
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
