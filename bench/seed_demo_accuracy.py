"""Training accuracy of the seed demo over 10 init seeds, after 32 and after 100 steps.

make_moons(128, noise=0.1), MLP(2, [16, 16, 1]), the seed's SVM loss + 1e-4·L2 and its learning
rate schedule, full batch, trained with Trainer (the Value engine). About a minute:

    .venv/bin/python bench/seed_demo_accuracy.py
"""

import statistics

import numpy as np

from micrograd_widgets import MLP, Trainer, datasets


def main() -> None:
    data = datasets.moons(128, noise=0.1, seed=0)
    after = {32: [], 100: []}
    for init_seed in range(10):
        trainer = Trainer(MLP(2, [16, 16, 1], seed=init_seed), data)
        for steps in after:
            trainer.run(steps - trainer.steps_done)
            correct = (trainer.model.predict(data.X) > 0) == (data.y > 0)
            after[steps].append(float(np.mean(correct)))
    for steps, accuracies in after.items():
        listed = ", ".join(f"{a * 100:.2f}" for a in accuracies)
        median = statistics.median(accuracies) * 100
        print(f"{steps:3d} steps, seeds 0-9: {listed} % -> median {median:.2f} %")


if __name__ == "__main__":
    main()
