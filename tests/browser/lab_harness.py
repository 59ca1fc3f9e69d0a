"""Helpers the browser tests import: a notebook open in JupyterLab and its kernel."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "tests" / "artifacts" / "screenshots"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class CellError(AssertionError):
    pass


@dataclass
class NotebookSession:
    """One open notebook in JupyterLab, with its kernel."""

    page: object  # playwright.sync_api.Page
    name: str
    test_name: str
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    # ---- running code ----------------------------------------------------------------------

    def run_all(self) -> None:
        """Start running every cell (does not wait: see NOTES.md)."""
        self.page.evaluate(
            "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
        )

    def wait_for_cells(self, timeout_s: float = 120) -> None:
        """Wait until every code cell has run, then fail with the traceback if one raised."""
        self.page.wait_for_function(
            """() => {
                const cells = window.__mgwPanel.content.widgets.filter(c => c.model.type === 'code');
                return cells.every(c => typeof c.model.executionCount === 'number'
                                        && c.promptNode.textContent.indexOf('*') < 0);
            }""",
            timeout=timeout_s * 1000,
        )
        errors = self.cell_errors()
        if errors:
            raise CellError("a notebook cell raised:\n" + "\n\n".join(errors))

    def cell_errors(self) -> list[str]:
        return self.page.evaluate(
            """() => {
                const errs = [];
                for (const c of window.__mgwPanel.content.widgets) {
                    if (c.model.type !== 'code') continue;
                    const outs = c.model.outputs;
                    for (let i = 0; i < outs.length; i++) {
                        const o = outs.get(i).toJSON();
                        if (o.output_type === 'error')
                            errs.push(o.ename + ': ' + o.evalue + '\\n' + (o.traceback || []).join('\\n'));
                    }
                }
                return errs;
            }"""
        )

    def execute(self, code: str, timeout_s: float = 120) -> str:
        """Run ``code`` in the notebook's kernel (not as a cell); return what it printed."""
        result = self.page.evaluate(
            """async ([code, timeoutMs]) => {
                const kernel = window.__mgwPanel.sessionContext.session.kernel;
                const future = kernel.requestExecute({code, store_history: false, stop_on_error: false});
                let out = '', err = null;
                future.onIOPub = (msg) => {
                    const t = msg.header.msg_type, c = msg.content;
                    if (t === 'stream') out += c.text;
                    else if (t === 'execute_result') out += c.data['text/plain'] + '\\n';
                    else if (t === 'error') err = c.ename + ': ' + c.evalue + '\\n' + c.traceback.join('\\n');
                };
                const timer = new Promise((_, reject) =>
                    setTimeout(() => reject(new Error('kernel did not answer in time')), timeoutMs));
                await Promise.race([future.done, timer]);
                return {out, err};
            }""",
            [code, int(timeout_s * 1000)],
        )
        if result["err"]:
            raise CellError(ANSI.sub("", result["err"]))
        return result["out"]

    def eval(self, expression: str) -> str:
        """repr() of a Python expression evaluated in the kernel."""
        return self.execute(f"print(repr(({expression})))").strip()

    # ---- looking at it -----------------------------------------------------------------------

    def screenshot(self, name: str, locator: object | None = None) -> Path:
        """Save a PNG under tests/artifacts/screenshots/ (the whole page, or one element)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}-{name}.png"
        (locator or self.page).screenshot(path=str(path))
        return path

    def set_theme(self, theme: str) -> None:
        """Switch JupyterLab's theme, e.g. "JupyterLab Dark" or "JupyterLab Light"."""
        self.page.evaluate(
            "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
        )
        self.page.wait_for_function(
            "(theme) => document.body.dataset.jpThemeName === theme", arg=theme, timeout=20000
        )

    def shutdown(self) -> None:
        # The page may already be gone; the server is stopped at session end anyway.
        with contextlib.suppress(Exception):
            self.page.evaluate("() => window.__mgwPanel.sessionContext.shutdown()")
