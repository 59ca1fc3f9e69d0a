"""Resident memory over 5,000 seed-demo training steps, with both training widgets attached.

The widgets have no front-end here, so this measures the Python side: the engine's graphs, the
trainer's history and the boundary widget's recorded frames. About 5-10 minutes:

    .venv/bin/python bench/memory_5000_steps.py
"""

import time

from micrograd_widgets import MLP, DecisionBoundary, GradientHeatmap, Trainer, datasets


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def main() -> None:
    trainer = Trainer(MLP(2, [16, 16, 1], seed=0), datasets.moons(128, noise=0.1, seed=0))
    boundary, _heatmap = DecisionBoundary(trainer), GradientHeatmap(trainer)
    start = time.perf_counter()
    print(f"step     0: RSS {rss_mb():6.1f} MB", flush=True)
    for _ in range(10):
        trainer.run(500)
        print(
            f"step {trainer.steps_done:5d}: RSS {rss_mb():6.1f} MB, "
            f"{time.perf_counter() - start:5.0f} s, "
            f"accuracy {trainer.history[-1]['accuracy']:.3f}, "
            f"recorded frames {len(boundary.recording) / 1e3:.0f} kB",
            flush=True,
        )


if __name__ == "__main__":
    main()
