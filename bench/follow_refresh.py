"""A followed sample graph (GraphWidget.follow) on the seed demo: what one refresh costs in
Python, and what following costs training.

    .venv/bin/python bench/follow_refresh.py

Seed demo: moons(128, noise=0.1, seed=0), MLP(2, [16, 16, 1], seed=1), SVM loss, compiled
engine. Prints the median of ``refreshes`` rebuilds of sample 0's graph (forward pass, backward,
numbers and step state set on the widget) with the trainer idle, then training steps per second
on the background thread for ``seconds`` with and without a followed graph (refreshing at its
default 10 per second), and the refreshes' median while training runs.
"""

from __future__ import annotations

import statistics
import time

from micrograd_widgets import MLP, GraphWidget, Trainer, datasets


def seed_trainer() -> Trainer:
    return Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(128, noise=0.1, seed=0))


def steps_per_second(trainer: Trainer, seconds: float) -> float:
    start_steps, start = trainer.steps_done, time.perf_counter()
    trainer.start()
    time.sleep(seconds)
    trainer.pause()
    return (trainer.steps_done - start_steps) / (time.perf_counter() - start)


def main(refreshes: int = 100, seconds: float = 5.0) -> None:
    trainer = seed_trainer()
    graph = GraphWidget.follow(trainer, sample=0)
    for _ in range(10):  # warm up
        graph._refresh_followed()
    graph._refresh_ms.clear()
    for _ in range(refreshes):
        graph._refresh_followed()
    idle = statistics.median(graph.refresh_times_ms)
    values = len(graph._graph.values)
    print(f"refresh of sample 0's graph ({values} Values), trainer idle: median {idle:.2f} ms")

    graph._refresh_ms.clear()
    with_graph = steps_per_second(trainer, seconds)
    busy = statistics.median(graph.refresh_times_ms) if graph.refresh_times_ms else float("nan")
    refreshed = len(graph.refresh_times_ms)
    trainer.stop()
    graph.close()

    plain = seed_trainer()
    without = steps_per_second(plain, seconds)
    plain.stop()
    print(f"training, no followed graph:   {without:,.0f} steps/s")
    print(
        f"training, followed graph:      {with_graph:,.0f} steps/s "
        f"({refreshed / seconds:.1f} refreshes/s, median {busy:.2f} ms while training runs)"
    )


if __name__ == "__main__":
    main()
