"""bench/bench_compile.py --quick runs, and its checks pass: the compiled Trainer.step() equals the
scalar one bit for bit, and exact=False stays within 1e-12 relative.

Only the checks are asserted here, not the timings (those depend on the machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_compile.py"


def test_quick_compile_benchmark_runs_and_its_checks_pass(tmp_path):
    pytest.importorskip("micrograd", reason="the benchmark compares with micrograd==0.1.0")
    pytest.importorskip("torch", reason="the benchmark compares exact=False with torch")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--results-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "compiled == scalar bit for bit for 3 steps" in result.stdout
    results = json.loads((tmp_path / "bench_compile_quick.json").read_text())
    assert results["equality"]["bit_for_bit"] is True
    assert results["fast_max_relative_grad_error"] <= 1e-12
    assert set(results["median_step_ms"]) == {
        "micrograd", "scalar", "compiled", "fast", "torch", "bare"
    }  # fmt: skip
    assert results["spiral"]["steps_per_s"] > 0 and results["spiral"]["compile_ms"] > 0
    assert (tmp_path / "bench_compile_quick.txt").read_text().startswith("seed training step")
