"""Every snippet a user can copy runs as written in a plain interpreter (issue 7, item 1).

The browser test (``browser/test_snippets_browser.py``) also checks what each shows in a real
notebook; this one runs on every test run and says at once which snippet raises.
"""

from __future__ import annotations

import json
import subprocess
import sys

from snippets import SNIPPETS

RUNNER = r"""
import json, sys, traceback
import micrograd_widgets
failures = []
for where, code in json.load(sys.stdin):
    try:
        exec(compile(code, where, "exec"), {"__name__": "__main__"})
    except Exception:
        failures.append(where + ":\n" + code + "\n" + traceback.format_exc(limit=3))
    finally:
        micrograd_widgets.stop_all() if hasattr(micrograd_widgets, "stop_all") else None
print(json.dumps(failures))
"""


def test_snippets_are_collected_from_the_readme_and_every_module() -> None:
    wheres = [s.where for s in SNIPPETS]
    assert any(w.startswith("README.md") for w in wheres)
    assert any(w.startswith("micrograd_widgets.compiled") for w in wheres), wheres


def test_every_snippet_runs_as_written(tmp_path) -> None:
    payload = json.dumps(
        [(s.where, s.code) for s in SNIPPETS if not s.code.lstrip().startswith("%")]
    )
    done = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=payload,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    failures = json.loads(done.stdout.strip().splitlines()[-1])
    assert not failures, "\n\n".join(failures)
