"""Helpers the browser tests import: a notebook open in JupyterLab (or Notebook 7) and its kernel,
and ways to read and wait on what the widgets' views show.

Waiting: JupyterLab's kernel-status indicator is not reliable enough to wait on ("idle" was wrong
in one run of two), so the tests wait on ``data-*`` attributes the views set themselves (a frame
counter, a layout counter, the step shown) with :func:`wait_attr`, never on sleeps.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

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
        """Start running every cell, without waiting: JupyterLab's run-all command resolves only
        after every cell ends, so awaiting it here would block; :meth:`wait_for_cells` waits."""
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

    def run_cell(self, index: int, wait: bool = True, timeout_s: float = 120) -> None:
        """Run code cell ``index`` again, as a lecturer re-runs a cell (its output is cleared
        first); with ``wait``, until it ends, failing with its traceback if it raised."""
        before = self.page.evaluate(
            "(i) => window.__mgwPanel.content.widgets[i].model.executionCount", index
        )
        self.page.evaluate(
            """(i) => {
                const notebook = window.__mgwPanel.content;
                notebook.activeCellIndex = i;
                notebook.deselectAll();
                window.jupyterapp.commands.execute('notebook:run-cell');
            }""",
            index,
        )
        if not wait:
            return
        self.page.wait_for_function(
            """([i, before]) => {
                const c = window.__mgwPanel.content.widgets[i];
                return typeof c.model.executionCount === 'number'
                    && c.model.executionCount !== before
                    && c.promptNode.textContent.indexOf('*') < 0;
            }""",
            arg=[index, before],
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


# The panel of the notebook at `path` once its kernel exists (JupyterLab and Notebook 7 alike).
_FIND_PANEL = """(path) => {
    const app = window.jupyterapp;
    if (!app || !app.shell) return false;
    for (const w of app.shell.widgets('main')) {
        if (w.context && w.context.path === path && w.sessionContext
            && w.sessionContext.session && w.sessionContext.session.kernel) {
            window.__mgwPanel = w;
            return true;
        }
    }
    return false;
}"""

# page.evaluate has no timeout of its own: race the kernel's readiness against one.
_KERNEL_READY = """async (timeoutMs) => {
    const ctx = window.__mgwPanel.sessionContext;
    const ready = (async () => {
        await ctx.ready;
        await ctx.session.kernel.info;
        await window.__mgwPanel.context.ready;
    })();
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error(
        'no kernel connection: ' + ctx.session.kernel.connectionStatus)), timeoutMs));
    await Promise.race([ready, late]);
}"""


def write_notebook(path: Path, cells: list[str]) -> None:
    """A notebook of code cells, with the kernelspec that keeps "Select Kernel" from blocking."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, str(path))


def open_notebook_page(
    browser: object,
    url: str,
    notebook_path: str,
    name: str,
    test_name: str,
    viewport: tuple[int, int],
    timeout_s: float,
    kernel_timeout_s: float,
) -> tuple[object, NotebookSession]:
    """Open ``url`` in a new browser context; return it with a session once the kernel is ready."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.set_default_timeout(timeout_s * 1000)
    session = NotebookSession(page=page, name=name, test_name=test_name)

    def on_dialog(dialog: object) -> None:
        session.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on(
        "console",
        lambda msg: session.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.goto(url)
    page.wait_for_function(_FIND_PANEL, arg=notebook_path)
    page.evaluate(_KERNEL_READY, int(kernel_timeout_s * 1000))
    return context, session


def close_notebook_pages(
    opened: Iterable[tuple[object, NotebookSession]], failed: bool, failure_name: str = "failure"
) -> None:
    """Shut down each session's kernel and close its context (screenshot first on failure)."""
    for context, session in opened:
        if failed:
            with contextlib.suppress(Exception):
                session.screenshot(failure_name.format(name=session.name))
        session.shutdown()
        context.close()


# ---- reading and waiting on what the views show ----------------------------------------------

# Every drawn value node of a GraphWidget: name, the numbers shown, and its highlight state.
READ_GRAPH_NODES = """(root) => [...root.querySelectorAll('g.mgw-gvalue')].map(g => ({
    unit: Number(g.dataset.unit),
    name: g.querySelector('.mgw-gname').textContent,
    data: g.querySelector('.mgw-gdata').textContent,
    grad: g.querySelector('.mgw-ggrad').textContent,
    title: g.querySelector(':scope > title').textContent,
    active: g.classList.contains('is-active'),
    child: g.classList.contains('is-child'),
}))"""


def attr(nb: NotebookSession, selector: str, name: str, index: int = 0) -> str | None:
    """The attribute ``name`` (e.g. "data-step") of the index-th element matching ``selector``."""
    return nb.page.locator(selector).nth(index).get_attribute(name)


def wait_attr(
    nb: NotebookSession,
    selector: str,
    js_condition: str,
    index: int = 0,
    timeout_s: float | None = None,
) -> None:
    """Wait until ``js_condition`` (an expression over ``el``, e.g. ``el.dataset.step === '3'``)
    holds for the index-th element matching ``selector`` (default timeout: the page's)."""
    nb.page.wait_for_function(
        f"([sel, i]) => {{ const el = document.querySelectorAll(sel)[i];"
        f" return !!el && ({js_condition}); }}",
        arg=[selector, index],
        **({} if timeout_s is None else {"timeout": timeout_s * 1000}),
    )


def boundary_rates(nb: NotebookSession, seconds: float) -> dict[str, float]:
    """What the (first) DecisionBoundary view did over ``seconds`` of wall time, read in the
    browser: frames drawn and training steps per second, frames drawn, frames received per
    second, draw milliseconds per frame, and the bytes of the last frame."""
    return nb.page.evaluate(
        """async (ms) => {
            const el = document.querySelector('.mgw-boundary');
            const read = () => [el.dataset.framesDrawn, el.dataset.step, el.dataset.framesReceived,
                                el.dataset.drawMsTotal].map(Number);
            const [f0, s0, r0, d0] = read();
            const t0 = performance.now();
            await new Promise((r) => setTimeout(r, ms));
            const [f1, s1, r1, d1] = read();
            const dt = (performance.now() - t0) / 1000;
            return {fps: (f1 - f0) / dt, steps_per_s: (s1 - s0) / dt, frames: f1 - f0,
                    received_per_s: (r1 - r0) / dt,
                    draw_ms_per_frame: (d1 - d0) / Math.max(1, f1 - f0),
                    bytes_per_frame: Number(el.dataset.frameBytes)};
        }""",
        int(seconds * 1000),
    )


def wait_attr_change(
    nb: NotebookSession, selector: str, name: str, old: str | None, index: int = 0
) -> str:
    """Wait until attribute ``name`` of the index-th match is no longer ``old``; return it."""
    nb.page.wait_for_function(
        "([sel, i, name, old]) => { const el = document.querySelectorAll(sel)[i];"
        " return !!el && el.getAttribute(name) !== old; }",
        arg=[selector, index, name, old],
    )
    return attr(nb, selector, name, index)


def shown_number(text: str) -> float:
    """The number in a view's text: 'grad -4' -> -4.0 (the view may use a typographic minus)."""
    return float(text.split(" ", 1)[1].replace("−", "-"))


def graph_nodes(
    nb: NotebookSession, selector: str = ".mgw-graph", index: int = 0
) -> dict[str, dict]:
    """Every drawn value node of a GraphWidget view, by name (see READ_GRAPH_NODES)."""
    nodes = nb.page.locator(selector).nth(index).evaluate(READ_GRAPH_NODES)
    return {n["name"]: n for n in nodes}


def canvas_stats(nb: NotebookSession, selector: str, index: int = 0) -> dict:
    """Painted (non-transparent) pixels, distinct colours and a fingerprint of one canvas."""
    return (
        nb.page.locator(selector)
        .nth(index)
        .evaluate(
            """(canvas) => {
            const {data} = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
            let painted = 0, hash = 0;
            const colours = new Set();
            for (let i = 0; i < data.length; i += 4) {
                if (data[i + 3] === 0) continue;
                painted += 1;
                colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
                hash = (hash * 31 + data[i] + 7 * data[i + 1] + 13 * data[i + 2]) | 0;
            }
            return {painted, total: canvas.width * canvas.height, colours: colours.size, hash};
        }"""
        )
    )


@contextlib.contextmanager
def marimo_server(app: Path, log: Path, timeout_s: float = 60) -> Iterator[str]:
    """``marimo run app`` (headless, no token) on a free local port: yields its URL once it
    answers, stops it after. Fails the test with marimo's log if it does not start."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    import pytest

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [
        sys.executable, "-m", "marimo", "run", app.name, "--headless", "--no-token",
        "--host", "127.0.0.1", f"--port={port}", "--no-sandbox", "--no-check",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=app.parent, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"marimo did not start; its log:\n{log.read_text()[-4000:]}")
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
