"""How many bytes each widget adds to a saved notebook, when widget state is saved.

Runs the example notebooks top to bottom with nbclient, saving widget state as JupyterLab's
"Save Widget State Automatically" setting does (``store_widget_state=True``), and reports, per
widget type: how many there are and the bytes of each one's saved model (JSON, with its binary
buffers base64-encoded as in the file), split into the bundled front-end (``_esm`` + ``_css``,
the same in every instance) and the rest (the widget's own state: graph, frames, recording).
Also the notebook's size with and without the saved state.

    .venv/bin/python bench/saved_widget_state.py            # the notebooks as written (~1 min)
    .venv/bin/python bench/saved_widget_state.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

import nbformat
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
BUNDLE_KEYS = ("_esm", "_css")


def widget_type(model: dict) -> str:
    state = model.get("state", {})
    return state.get("_anywidget_id", "").rsplit(".", 1)[-1] or state.get("_model_name", "?")


def measure(name: str) -> dict:
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}},
        store_widget_state=True,
    ).execute()  # fmt: skip
    with_state = len(nbformat.writes(nb).encode())
    models = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    nb.metadata.pop("widgets", None)
    without_state = len(nbformat.writes(nb).encode())
    per_type: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for model in models.values():
        total = len(json.dumps(model, separators=(",", ":")).encode())
        state = model["state"]
        bundle = sum(len(json.dumps(state[k]).encode()) for k in BUNDLE_KEYS if k in state)
        per_type[widget_type(model)].append((total, bundle))
    return {"notebook": name, "bytes_with_state": with_state, "bytes_without_state": without_state,
            "widgets": dict(per_type)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results = [measure(name) for name in sorted(p.name for p in EXAMPLES.glob("*.ipynb"))]
    by_type: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for r in results:
        print(
            f"{r['notebook']}: {r['bytes_without_state']:,} bytes without widget state, "
            f"{r['bytes_with_state']:,} with it"
        )
        for kind, sizes in r["widgets"].items():
            by_type[kind] += sizes
    print("\nper widget (bytes in the saved notebook):")
    for kind, sizes in sorted(by_type.items()):
        totals = [t for t, _ in sizes]
        own = [t - b for t, b in sizes]
        print(
            f"  {kind:<18} n={len(sizes):<3} total median {statistics.median(totals):>9,.0f} "
            f"(min {min(totals):,}, max {max(totals):,}); of which bundle "
            f"{statistics.median([b for _, b in sizes]):,.0f}, own state median "
            f"{statistics.median(own):,.0f} (max {max(own):,})"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
