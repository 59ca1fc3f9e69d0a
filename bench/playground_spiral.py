"""The Playground's numbers: how fast a change builds a new trainer, and how many steps and
seconds a 3-class spiral takes to reach >= 95 % training accuracy with Adam, compiled.

The run is what the Playground builds from this config (``_playground_config``: the same data,
model and Trainer options as the widget, without the widget):
``datasets.spiral(300, noise=0.05, seed=0, classes=3)`` (all points for training),
``MLP(2, [32, 32, 3], activation="relu", seed=s)``, ``Trainer(loss="cross_entropy",
optimizer="adam", lr=0.05, regularization=None)``, full batch, ``engine="auto"`` (compiled).
Accuracy is each step's own, measured before its update (``trainer.history``); "steps" is the
number of updates applied when it first reads >= 95 %, "seconds" the wall time of those steps.

"rebuild" is what a click on a data or network control costs in Python before the widgets draw:
the data, the model and the Trainer with its compiled step (median of ``--repeats``).

    .venv/bin/python bench/playground_spiral.py                 # init seeds 0-4
    .venv/bin/python bench/playground_spiral.py --quick         # one seed, a smoke run

Results go to ``bench/results/playground_spiral[_quick].json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

from micrograd_widgets import MLP, Trainer
from micrograd_widgets._playground_config import (
    build_data,
    check_config,
    model_sizes,
    trainer_options,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET = 0.95
CONFIG = {
    "dataset": "spiral",
    "classes": 3,
    "n": 300,
    "noise": 0.05,
    "test_ratio": 0.0,
    "hidden": [32, 32],
    "activation": "relu",
    "loss": "cross_entropy",
    "penalty": "none",
    "optimizer": "adam",
    "lr": 0.05,
    "speed": "max",
}


def build(config: dict) -> Trainer:
    """What the Playground does on a data or network change, minus the widgets."""
    data = build_data(config)
    model = MLP(2, model_sizes(config), activation=config["activation"], seed=config["model_seed"])
    return Trainer(
        model, data.X, data.y, X_test=data.X_test, y_test=data.y_test, **trainer_options(config)
    )


def run(seed: int, max_steps: int) -> dict:
    config = check_config({**CONFIG, "model_seed": seed})
    trainer = build(config)
    engine = str(trainer.engine)
    started = time.perf_counter()
    reached = None
    for _ in range(max_steps):
        record = trainer.step()
        if record["accuracy"] >= TARGET:
            reached = trainer.steps_done - 1  # updates applied before the step that read it
            break
    seconds = time.perf_counter() - started
    return {
        "seed": seed,
        "engine": engine,
        "steps": reached,
        "seconds": seconds if reached is not None else None,
        "ms_per_step": 1000 * seconds / trainer.steps_done,
        "final_accuracy": trainer.history[-1]["accuracy"],
    }


def rebuild_ms(repeats: int) -> float:
    config = check_config({**CONFIG, "model_seed": 0})
    build(config)  # warm: imports, the loss's compiled program
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        build({**config, "hidden": [32, 32 - i % 2]})  # a new network each time, as a click
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--max-steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="one seed, 3 rebuilds")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    seeds, repeats = ([0], 3) if args.quick else (args.seeds, args.repeats)
    runs = [run(seed, args.max_steps) for seed in seeds]
    rebuild = rebuild_ms(repeats)
    for r in runs:
        reached = (
            f"{r['steps']} steps, {r['seconds']:.2f} s"
            if r["steps"] is not None
            else f"not reached in {args.max_steps} steps"
        )
        print(
            f"seed {r['seed']}: {reached} ({r['engine']}, {r['ms_per_step']:.2f} ms/step, "
            f"final accuracy {r['final_accuracy']:.3f})"
        )
    print(f"rebuild (data + MLP(2, [32, 32, 3]) + Trainer, compiled): median {rebuild:.0f} ms")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    name = "playground_spiral_quick.json" if args.quick else "playground_spiral.json"
    (args.results_dir / name).write_text(
        json.dumps(
            {
                "config": CONFIG,
                "target": TARGET,
                "runs": runs,
                "rebuild_ms": rebuild,
                "python": sys.version.split()[0],
                "machine": platform.machine(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
