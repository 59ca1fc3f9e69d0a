"""Real-browser harness: JupyterLab on a free local port, driven by Playwright in headless Chromium.

Fixtures:
    lab       -- (session) a running JupyterLab: ``.url``, ``.token``, ``.root`` (notebook folder).
    notebook  -- factory: ``nb = notebook(cells, name="x")`` writes a notebook of code cells, opens it,
                 runs all cells and returns a :class:`NotebookSession`.

See ../../shared/NOTES.md for why things are done this way (flags, page_config, waiting on
attributes the widgets set rather than on the kernel's "idle").
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lab_harness import (
    NotebookSession,
    close_notebook_pages,
    open_notebook_page,
    write_notebook,
)

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "tests" / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("MGW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
LAB_START_TIMEOUT_S = 90
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_env(base: Path) -> dict[str, str]:
    dirs = {
        "JUPYTER_CONFIG_DIR": base / "config",
        "JUPYTER_DATA_DIR": base / "data",
        "JUPYTER_RUNTIME_DIR": base / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": base / "settings",
        "JUPYTERLAB_WORKSPACES_DIR": base / "workspaces",
        "IPYTHONDIR": base / "ipython",
    }
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    # The "Jupyter news?" toast would cover the widgets in screenshots.
    labconfig = dirs["JUPYTER_CONFIG_DIR"] / "labconfig"
    labconfig.mkdir(exist_ok=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    env = {**os.environ, **{k: str(v) for k, v in dirs.items()}}
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("ANYWIDGET_HMR", None)
    return env


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    root.mkdir()
    port, token = _free_port(), secrets.token_hex(16)
    log = base / "lab.log"
    cmd = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--expose-app-in-browser",
        # Notebook 7's pages are served by their own app, with their own setting.
        "--JupyterNotebookApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    with log.open("wb") as log_file:
        proc = subprocess.Popen(cmd, env=_lab_env(base), stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + LAB_START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"JupyterLab did not start; its log:\n{log.read_text()[-4000:]}")
            time.sleep(0.3)
    yield Lab(url=url, token=token, root=root, log=log)
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium "
            "(scripts/setup.sh installs it; or set MGW_CHROMIUM to a Chromium binary)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def notebook(
    lab: Lab, browser: object, request: pytest.FixtureRequest
) -> Iterator[Callable[..., NotebookSession]]:
    opened: list[tuple[object, NotebookSession]] = []
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def open_notebook(
        cells: list[str],
        name: str | None = None,
        run: bool = True,
        wait: bool = True,
        viewport: tuple[int, int] = (1280, 900),
        timeout_s: float = 120,
    ) -> NotebookSession:
        name = name or f"{test_name}-{len(opened)}"
        write_notebook(lab.root / f"{name}.ipynb", cells)
        context, session = open_notebook_page(
            browser,
            f"{lab.url}/lab/workspaces/{name}/tree/{name}.ipynb?reset&token={lab.token}",
            f"{name}.ipynb",
            name,
            test_name,
            viewport,
            timeout_s,
            kernel_timeout_s=timeout_s,
        )
        opened.append((context, session))
        if run:
            session.run_all()
            if wait:
                session.wait_for_cells(timeout_s)
        return session

    yield open_notebook
    report = getattr(request.node, "rep_call", None)
    close_notebook_pages(opened, failed=report is not None and report.failed)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    # Remember each phase's outcome so the fixture can screenshot failures.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
