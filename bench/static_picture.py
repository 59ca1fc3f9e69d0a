"""What the notebook output's static picture costs per display of a widget.

Every display of a DecisionBoundary or GradientHeatmap puts a small ``image/png`` of the view in
its output (``BaseWidget._repr_mimebundle_``). This times ``_repr_mimebundle_()`` with and
without that picture, so the difference is the picture's cost:

* **first** display -- in a fresh Python process per widget kind (what a lecturer's first
  training cell pays, imports included);
* **later** displays -- the median of the next ``--repeat`` displays in that process.

The seed demo's setup: moons(128, noise=0.1), MLP(2, [16, 16, 1]) trained 20 steps, a 100×100
boundary; and a 3-class spiral (MLP(2, [16, 16, 3]), cross-entropy) for the k-class picture.

    .venv/bin/python bench/static_picture.py             # ~15 s
    .venv/bin/python bench/static_picture.py --repeat 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CHILD = r"""
import base64, json, statistics, sys, time
from micrograd_widgets import MLP, DecisionBoundary, GradientHeatmap, Trainer, datasets

kind, repeat, picture = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
if kind == "boundary-3-classes":
    data = datasets.spiral(120, classes=3, seed=0)
    trainer = Trainer(MLP(2, [16, 16, 3], seed=1), data, loss="cross_entropy")
else:
    trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(128, noise=0.1, seed=0))
trainer.run(20)
widget = GradientHeatmap(trainer) if kind == "heatmap" else DecisionBoundary(trainer)
widget.static_picture = picture
times = []
for _ in range(1 + repeat):
    start = time.perf_counter()
    data, _ = widget._repr_mimebundle_()
    times.append(time.perf_counter() - start)
png = base64.b64decode(data.get("image/png", ""))
print(json.dumps({
    "first": times[0], "later": statistics.median(times[1:]), "png_bytes": len(png),
    "matplotlib_imported": "matplotlib" in sys.modules,
}))
widget.close()
"""

KINDS = ("boundary", "heatmap", "boundary-3-classes")


def run(kind: str, repeat: int, picture: bool) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(repeat), "1" if picture else "0"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="later displays timed (median)")
    args = parser.parse_args()
    print(f"{'widget':20} {'first (ms)':>22} {'later (ms)':>22} {'PNG':>8}  matplotlib")
    print(f"{'':20} {'with / without / +':>22} {'with / without / +':>22}")
    for kind in KINDS:
        started = time.perf_counter()
        with_picture = run(kind, args.repeat, picture=True)
        without = run(kind, args.repeat, picture=False)
        first = [1000 * with_picture["first"], 1000 * without["first"]]
        later = [1000 * with_picture["later"], 1000 * without["later"]]
        print(
            f"{kind:20} {first[0]:7.0f} /{first[1]:6.0f} /{first[0] - first[1]:+6.0f}"
            f" {later[0]:7.1f} /{later[1]:6.1f} /{later[0] - later[1]:+6.1f}"
            f" {with_picture['png_bytes']:7,d}B  {with_picture['matplotlib_imported']}"
            f"   ({time.perf_counter() - started:.0f} s)"
        )


if __name__ == "__main__":
    main()
