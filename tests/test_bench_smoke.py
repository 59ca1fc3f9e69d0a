"""bench/bench_engine.py --quick runs, and its equality checks against micrograd 0.1.0 pass.

Only the checks are asserted here, not the timings (those depend on the machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_engine.py"


def test_quick_benchmark_runs_and_matches_micrograd(tmp_path):
    pytest.importorskip("micrograd", reason="the benchmark compares with micrograd==0.1.0")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--results-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "same loss and grads for 2 steps" in result.stdout
    results = json.loads((tmp_path / "bench_engine_quick.json").read_text())
    assert results["equality"]["max_abs_loss_diff"] <= 1e-9
    assert results["equality"]["max_abs_grad_diff"] <= 1e-9
    assert results["predict_max_abs_diff_vs_value"] <= 1e-10
    assert set(results["median_step_ms"]) == {"theirs", "ours", "ours_paused"}
    assert (tmp_path / "bench_engine_quick.txt").read_text().startswith("seed training step")
