"""Real-browser harness: JupyterLab on a free local port, driven by Playwright in headless Chromium.

Fixtures:
    lab       -- (session) a running JupyterLab: ``.url``, ``.token``, ``.root`` (notebook folder).
    browser   -- (session) headless Chromium (Debian's /usr/bin/chromium, or $MGW_CHROMIUM).
    notebook  -- factory: ``nb = notebook(cells, name="x")`` writes a notebook of code cells, opens it
                 in JupyterLab, runs all cells and returns a :class:`NotebookSession`.
    notebook7 -- factory: ``nb = notebook7(cells, name)``, the same in Notebook 7 (its /notebooks/
                 pages, served by the same server), run through Notebook 7's own Run menu.

Why it is done this way:
* JupyterLab runs with its config, data, runtime, settings and workspace folders (and IPython's)
  in a temp folder, so nothing from the machine's own Jupyter setup leaks in, and with
  ``--expose-app-in-browser`` (Notebook 7 needs its own flag for it) so tests can reach
  ``window.jupyterapp``. The "Jupyter news?" toast is disabled in ``labconfig/page_config.json``:
  it would cover the widgets in screenshots.
* Chromium runs without a sandbox (tests may run as root), without a GPU, and with its background
  networking (updates, sync, QUIC) off: the test machine has no internet, and without those flags
  Chromium keeps trying to reach it.
* Tests wait on ``data-*`` attributes the views set (see lab_harness), never on sleeps or the
  kernel's "idle" state, which was wrong in one run of two.
* A failing test leaves a screenshot of each page it opened in tests/artifacts/screenshots/.
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
#: Notebook 7 tests: one UI action or wait should take seconds (cells get their own timeout)
NOTEBOOK7_ACTION_TIMEOUT_S = 30


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


class _OpenedPages:
    """The notebook pages one test opens; closed at its end, with a screenshot if it failed."""

    def __init__(self, lab: Lab, browser: object, request: pytest.FixtureRequest) -> None:
        self.lab, self.browser, self.request = lab, browser, request
        self.test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        self.opened: list[tuple[object, NotebookSession]] = []

    def open(
        self,
        cells: list[str],
        name: str,
        page_path: str,
        test_name: str,
        viewport: tuple[int, int],
        timeout_s: float,
    ) -> NotebookSession:
        """Write ``name``.ipynb, open ``page_path`` (with the token added) and wait for its kernel."""
        write_notebook(self.lab.root / f"{name}.ipynb", cells)
        separator = "&" if "?" in page_path else "?"
        context, session = open_notebook_page(
            self.browser,
            f"{self.lab.url}{page_path}{separator}token={self.lab.token}",
            f"{name}.ipynb",
            name,
            test_name,
            viewport,
            timeout_s,
            kernel_timeout_s=timeout_s,
        )
        self.opened.append((context, session))
        return session

    def close(self, failure_name: str = "failure") -> None:
        report = getattr(self.request.node, "rep_call", None)  # set by pytest_runtest_makereport
        failed = report is not None and report.failed
        close_notebook_pages(self.opened, failed=failed, failure_name=failure_name)


@pytest.fixture
def notebook(
    lab: Lab, browser: object, request: pytest.FixtureRequest
) -> Iterator[Callable[..., NotebookSession]]:
    pages = _OpenedPages(lab, browser, request)

    def open_notebook(
        cells: list[str],
        name: str | None = None,
        run: bool = True,
        wait: bool = True,
        viewport: tuple[int, int] = (1280, 900),
        timeout_s: float = 120,
    ) -> NotebookSession:
        name = name or f"{pages.test_name}-{len(pages.opened)}"
        page_path = f"/lab/workspaces/{name}/tree/{name}.ipynb?reset"
        session = pages.open(cells, name, page_path, pages.test_name, viewport, timeout_s)
        if run:
            session.run_all()
            if wait:
                session.wait_for_cells(timeout_s)
        return session

    yield open_notebook
    pages.close()


@pytest.fixture
def notebook7(
    lab: Lab, browser: object, request: pytest.FixtureRequest
) -> Iterator[Callable[..., NotebookSession]]:
    pages = _OpenedPages(lab, browser, request)

    def open_notebook(cells: list[str], name: str, timeout_s: float = 120) -> NotebookSession:
        page_path = f"/notebooks/{name}.ipynb"
        session = pages.open(
            cells, name, page_path, "notebook7", (1280, 900), NOTEBOOK7_ACTION_TIMEOUT_S
        )
        page = session.page
        # Run the cells the way a Notebook 7 user does: through its menu bar.
        page.locator("#jp-MainMenu .lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
        session.wait_for_cells(timeout_s)
        return session

    yield open_notebook
    pages.close(failure_name="{name}-failure")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    # Remember each phase's outcome so the fixture can screenshot failures.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
