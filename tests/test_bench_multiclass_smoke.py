"""bench/multiclass_trainer.py --quick runs, and its checks pass: the compiled k-class Trainer
(cross-entropy replayed on arrays, Adam) equals the scalar engine and the scalar loss head bit
for bit, and the small spiral reaches 95 %.

Only the checks are asserted here, not the timings (those depend on the machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "multiclass_trainer.py"


def test_quick_multiclass_benchmark_runs_and_its_checks_pass(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--scalar-steps", "2", "--results-dir",
         str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads((tmp_path / "multiclass_trainer_quick.json").read_text())
    assert results["equal"] == {
        "compiled": True, "scalar": True, "compiled, scalar loss head": True
    }  # fmt: skip
    assert set(results["ms_per_step"]) == {"compiled", "scalar", "compiled, scalar loss head"}
    assert all(run["steps"] is not None for run in results["runs"])
    assert "engine in use: 'compiled'" in result.stdout
