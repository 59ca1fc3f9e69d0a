"""Offline HTML: widgets, or a whole notebook, as ONE file that needs no kernel and no network.

>>> from micrograd_widgets import MLP, DecisionBoundary, Trainer, datasets, save_html
>>> trainer = Trainer(MLP(2, [8, 1], seed=1), datasets.moons(64, noise=0.1, seed=0))
>>> boundary = DecisionBoundary(trainer)
>>> history = trainer.run(10)
>>> page = save_html("run.html", boundary)   # save_html("all.html"): every open widget
>>> boundary

The page carries each view's bundled module and CSS once (inlined: no CDN), each widget's saved
state (binary traits base64-encoded, as Jupyter stores them in a notebook) and a small loader
(``static/offline.js``, from ``js/export/``) that renders every widget with a read-only model: its
state is read and changed in the page, and nothing is sent anywhere. So everything a view does
without Python keeps working -- scrubbing a recorded run, hover details, zoom, switching heatmap
modes, stepping through a recorded backward pass -- and the controls that need Python are off,
with a notice that says why.

A notebook is exported whole from the command line::

    python -m micrograd_widgets.export lesson.ipynb -o lesson.html
    python -m micrograd_widgets.export lesson.ipynb -o lesson.html --execute   # run it first

Markdown and code cells, their text and image outputs, and the widgets from the widget state
saved in the notebook. JupyterLab saves that state only with *Settings → Save Widget State
Automatically* on; ``--execute`` (or :func:`execute_notebook`) runs the notebook headless with
nbclient and keeps the state, so a notebook saved without it can still be exported.

Files are written atomically: a failure leaves no half-written page behind.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ._files import checked_output_path as _checked_path
from ._files import write_atomically as _write_file
from ._widget import STATIC, BaseWidget

__all__ = [
    "ExportError",
    "execute_notebook",
    "export_notebook",
    "notebook_html",
    "save_html",
    "widgets_html",
    "write_atomically",
]

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
HTML_SUFFIXES = (".html", ".htm")
SETTING_HINT = (
    "JupyterLab saves widget state only with Settings → Save Widget State Automatically "
    "turned on (then save the notebook again), or run it headless and keep the state with "
    "`python -m micrograd_widgets.export NOTEBOOK -o OUT.html --execute`."
)


class ExportError(ValueError):
    """The input cannot be exported as asked; the message says what was wrong and what to do."""


# ---- writing --------------------------------------------------------------------------------


def checked_output_path(path: str | os.PathLike[str], suffixes: Sequence[str]) -> Path:
    """``path`` as a Path, after checking its extension and that its folder exists."""
    return _checked_path(path, suffixes, ExportError)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`._files.write_atomically`)."""
    _write_file(path, data, ExportError)


# ---- saved widget models --------------------------------------------------------------------


def saved_model(widget: BaseWidget) -> dict[str, Any]:
    """``widget``'s state as Jupyter saves it in a notebook: JSON state, binary traits apart
    as base64 buffers with their paths."""
    from ipywidgets.widgets.widget import _remove_buffers

    if getattr(widget, "comm", None) is None:
        raise ExportError(f"{type(widget).__name__} was closed: there is nothing left to save")
    state, paths, buffers = _remove_buffers(widget.get_state())
    return {
        "model_name": state.get("_model_name", ""),
        "state": state,
        "buffers": [
            {"path": path, "encoding": "base64", "data": base64.b64encode(bytes(buf)).decode()}
            for path, buf in zip(paths, buffers)
        ],
    }


def _drawable(model: dict[str, Any]) -> bool:
    """A saved model the page can draw: an anywidget whose view module is inlined (not a URL)."""
    esm = model.get("state", {}).get("_esm")
    return isinstance(esm, str) and bool(esm.strip()) and not re.match(r"\s*https?://", esm)


def _describe(model: dict[str, Any]) -> str:
    anywidget_id = model.get("state", {}).get("_anywidget_id", "")
    return anywidget_id.rsplit(".", 1)[-1] or model.get("model_name", "widget")


# ---- the page -------------------------------------------------------------------------------

_PAGE_CSS = """
:root { color-scheme: light dark; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  background: var(--jp-layout-color0); color: var(--jp-ui-font-color0); }
body, body[data-jp-theme-name="light"] {
  --jp-layout-color0: #fff; --jp-layout-color1: #fafafa; --jp-layout-color2: #eee;
  --jp-ui-font-color0: #1f1f1f; --jp-ui-font-color2: #666; --jp-border-color1: #c8c8c8;
  --jp-brand-color1: #1976d2; --jp-warn-color0: #e65100; --jp-error-color0: #c62828;
  --mgw-page-code: #f5f5f5; }
body[data-jp-theme-name="dark"] {
  --jp-layout-color0: #111; --jp-layout-color1: #1b1b1b; --jp-layout-color2: #2a2a2a;
  --jp-ui-font-color0: #e6e6e6; --jp-ui-font-color2: #a0a0a0; --jp-border-color1: #4a4a4a;
  --jp-brand-color1: #64b5f6; --jp-warn-color0: #ffb74d; --jp-error-color0: #ef9a9a;
  --mgw-page-code: #1e1e1e; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 20px 48px; }
header { display: flex; gap: 12px; align-items: baseline; justify-content: space-between;
  border-bottom: 1px solid var(--jp-border-color1); margin-bottom: 12px; }
header h1 { font-size: 1.2em; margin: 8px 0; }
.mgw-page-note { color: var(--jp-ui-font-color2); font-size: 0.9em; }
.mgw-page-theme { font: inherit; color: inherit; background: var(--jp-layout-color2);
  border: 1px solid var(--jp-border-color1); border-radius: 4px; padding: 2px 10px;
  cursor: pointer; white-space: nowrap; }
.mgw-cell { margin: 10px 0; }
.mgw-code, .mgw-stream, .mgw-text { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", monospace;
  white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; padding: 8px 10px; }
.mgw-code { background: var(--mgw-page-code); border-left: 3px solid var(--jp-brand-color1); }
.mgw-stream-stderr, .mgw-error-output { background: rgba(198, 40, 40, 0.08); }
.mgw-output { padding: 4px 0 4px 13px; overflow-x: auto; }
.mgw-output img { max-width: 100%; }
.mgw-widget-row { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.mgw-widget-column { display: flex; flex-direction: column; gap: 12px; }
.mgw-offline-widget { min-width: 0; max-width: 100%; }
.mgw-graph-host { flex: 1 1 100%; }
.mgw-offline-problem { color: var(--jp-error-color0); white-space: pre-wrap; }
"""

_THEME_SCRIPT = """
(() => {
  const body = document.body;
  const dark = matchMedia("(prefers-color-scheme: dark)").matches;
  body.dataset.jpThemeName = body.dataset.jpThemeName || (dark ? "dark" : "light");
  const button = document.querySelector(".mgw-page-theme");
  if (button) button.addEventListener("click", () => {
    body.dataset.jpThemeName = body.dataset.jpThemeName === "dark" ? "light" : "dark";
  });
})();
"""


def _script_safe(text: str) -> str:
    """Text that can sit inside a <script> element: no "</script" or "<!--" can end it early."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _style_safe(css: str) -> str:
    """CSS that cannot end its <style> element early."""
    return css.replace("</", "<\\/")


def _json_for_script(data: object) -> str:
    # "<" only occurs inside JSON strings, where \u003c means the same character
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")


def _loader_source() -> str:
    path = STATIC / "offline.js"
    if not path.exists():
        raise ExportError(
            f"the offline loader {path} is missing: reinstall micrograd-widgets, or in a source "
            "checkout run `npm install && npm run build`"
        )
    return path.read_text(encoding="utf-8")


def render_page(title: str, body: str, models: dict[str, dict[str, Any]]) -> str:
    """The whole page: ``body`` (HTML with ``<div data-mgw-widget=ID>`` placeholders) and the
    saved ``models`` by id; every view module and stylesheet is included once."""
    modules: dict[str, dict[str, str]] = {}
    styles: dict[str, str] = {}
    widgets: dict[str, dict[str, Any]] = {}
    for model_id, model in models.items():
        state = dict(model["state"])
        esm, css = state.pop("_esm", ""), state.pop("_css", "")
        key = hashlib.sha256(esm.encode()).hexdigest()[:16]
        modules.setdefault(key, {"esm": esm})
        if isinstance(css, str) and css:
            styles.setdefault(hashlib.sha256(css.encode()).hexdigest()[:16], css)
        widgets[model_id] = {"module": key, "state": state, "buffers": model.get("buffers", [])}
    data = {"modules": modules, "widgets": widgets}
    style_tags = "\n".join(
        f'<style data-mgw-style="{key}">{_style_safe(css)}</style>' for key, css in styles.items()
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="micrograd-widgets">
<title>{html.escape(title)}</title>
<style>{_PAGE_CSS}</style>
{style_tags}
</head>
<body>
<main>
<header><h1>{html.escape(title)}</h1>
<span class="mgw-page-note">Saved page: the widgets are drawn from their saved state, with no
Python behind them.</span>
<button type="button" class="mgw-page-theme" title="Switch light / dark">◐ Theme</button></header>
{body}
</main>
<script>{_THEME_SCRIPT}</script>
<script type="application/json" id="mgw-offline-data">{_json_for_script(data)}</script>
<script type="module">{_script_safe(_loader_source())}</script>
</body>
</html>
"""


def _placeholder(model_id: str, model: dict[str, Any]) -> str:
    what = html.escape(_describe(model))
    return (
        f'<div class="mgw-offline-widget" data-mgw-widget="{html.escape(model_id)}">'
        f'<span class="mgw-page-note">{what} (drawn by the page\'s script)</span></div>'
    )


# ---- save_html ------------------------------------------------------------------------------


def _live_widgets() -> list[BaseWidget]:
    from ipywidgets.widgets.widget import _instances

    return [
        w
        for w in list(_instances.values())
        if isinstance(w, BaseWidget) and getattr(w, "comm", None) is not None
    ]


def widgets_html(widgets: Iterable[BaseWidget], title: str = "micrograd-widgets") -> str:
    """The offline page of ``widgets`` (one after another, wrapping side by side when wide)."""
    models: dict[str, dict[str, Any]] = {}
    for index, widget in enumerate(widgets):
        if not isinstance(widget, BaseWidget):
            raise ExportError(
                "save_html draws micrograd-widgets widgets (GraphWidget, DecisionBoundary, "
                f"GradientHeatmap, ...); argument {index + 1} is a {type(widget).__name__}"
            )
        models[f"w{index}"] = saved_model(widget)
    if not models:
        raise ExportError(
            "no widget to save: pass the widgets, save_html(path, boundary, ...), or make and "
            "show some first (with none named, save_html saves every open one)"
        )
    body = (
        '<div class="mgw-widget-row">'
        + "".join(_placeholder(model_id, model) for model_id, model in models.items())
        + "</div>"
    )
    return render_page(title, body, models)


def save_html(path: str | os.PathLike[str], *widgets: BaseWidget, title: str | None = None) -> Path:
    """Write ``widgets`` (every open micrograd-widgets widget when none is named) to ``path`` as
    one self-contained HTML page that needs no kernel and no network; returns the path.

    Raises :class:`ExportError` (a ``ValueError``) for a path not ending in ``.html``/``.htm``,
    a missing or unwritable folder, a closed widget, or nothing to save; no file is written then.
    """
    out = checked_output_path(path, HTML_SUFFIXES)
    chosen = list(widgets) if widgets else _live_widgets()
    page = widgets_html(chosen, title=title or out.stem)
    write_atomically(out, page.encode("utf-8"))
    return out


# ---- notebooks ------------------------------------------------------------------------------


def _read_notebook(path: Path) -> dict[str, Any]:
    if path.suffix.lower() != ".ipynb":
        raise ExportError(f"{str(path)!r} is not a notebook: expected a .ipynb file")
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"no notebook at {str(path)!r}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"cannot read the notebook {str(path)!r}: {exc}") from exc
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ExportError(f"{str(path)!r} is not a Jupyter notebook (no list of cells)")
    if nb.get("nbformat", 4) < 4:
        raise ExportError(f"{str(path)!r} is an nbformat 3 notebook; save it again as version 4")
    return nb


def _text(value: object) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _markdown(source: str) -> str:
    try:
        import mistune
    except ImportError:  # no Markdown renderer: show the source as text
        return f'<pre class="mgw-text">{html.escape(source)}</pre>'
    # escape=True: raw HTML in a cell is shown as text, never run
    return str(mistune.create_markdown(escape=True, plugins=["strikethrough", "table"])(source))


def _image(mime: str, data: object) -> str:
    if mime == "image/svg+xml":
        payload = base64.b64encode(_text(data).encode()).decode()
    else:
        payload = _text(data).replace("\n", "")
    return f'<img alt="output" src="data:{mime};base64,{html.escape(payload)}">'


def _widget_html(
    model_id: str, models: dict[str, dict[str, Any]], used: set[str], depth: int = 0
) -> str:
    """A widget output: our view's placeholder, or an ipywidgets box (HBox, VBox) of them laid
    out as a row or a column; "" for anything else (its text/plain is shown instead)."""
    model = models.get(model_id)
    if model is None or depth > 20:
        return ""
    if _drawable(model):
        used.add(model_id)
        return _placeholder(model_id, model)
    children = model.get("state", {}).get("children")
    if not isinstance(children, list):
        return ""
    inner = "".join(
        _widget_html(child.removeprefix("IPY_MODEL_"), models, used, depth + 1)
        for child in children
        if isinstance(child, str)
    )
    column = (
        model.get("model_name") == "VBoxModel"
        or model.get("state", {}).get("_model_name") == "VBoxModel"
    )
    kind = "mgw-widget-column" if column else "mgw-widget-row"
    return f'<div class="{kind}">{inner}</div>' if inner else ""


def _output_html(output: dict[str, Any], models: dict[str, dict[str, Any]], used: set[str]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name", "stdout")
        cls = "mgw-stream mgw-stream-stderr" if name == "stderr" else "mgw-stream"
        return f'<pre class="{cls}">{html.escape(_text(output.get("text")))}</pre>'
    if kind == "error":
        trace = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(output.get("traceback", [])))
        return f'<pre class="mgw-text mgw-error-output">{html.escape(trace)}</pre>'
    data = output.get("data", {})
    view = data.get(WIDGET_VIEW)
    if isinstance(view, dict):
        drawn = _widget_html(str(view.get("model_id")), models, used)
        if drawn:
            return drawn
    for mime in ("image/png", "image/jpeg", "image/gif", "image/svg+xml"):
        if mime in data:
            return _image(mime, data[mime])
    if "text/markdown" in data:
        return _markdown(_text(data["text/markdown"]))
    if "text/plain" in data:
        return f'<pre class="mgw-text">{html.escape(_text(data["text/plain"]))}</pre>'
    return ""


def notebook_html(path: str | os.PathLike[str], *, title: str | None = None) -> str:
    """The offline page of the notebook at ``path``: its cells, their outputs, and our widgets
    drawn from the notebook's saved widget state.

    Raises :class:`ExportError` when the notebook shows widgets whose state was not saved (the
    message names JupyterLab's setting and ``--execute``).
    """
    source = Path(path)
    nb = _read_notebook(source)
    models = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    views = [
        output["data"][WIDGET_VIEW].get("model_id")
        for cell in nb["cells"]
        for output in cell.get("outputs", [])
        if isinstance(output.get("data"), dict) and WIDGET_VIEW in output["data"]
    ]
    missing = [model_id for model_id in views if model_id not in models]
    if views and missing:
        raise ExportError(
            f"{str(source)!r} shows {len(views)} widget(s) but {len(missing)} of them have no "
            f"saved state, so they cannot be drawn. {SETTING_HINT}"
        )
    if not views:
        raise ExportError(
            f"{str(source)!r} has no widget output with saved state (was it run and saved with "
            f"its widgets?). {SETTING_HINT}"
        )
    parts: list[str] = []
    used: set[str] = set()
    for cell in nb["cells"]:
        kind, text = cell.get("cell_type"), _text(cell.get("source"))
        if kind == "markdown":
            parts.append(f'<section class="mgw-cell mgw-markdown">{_markdown(text)}</section>')
        elif kind == "code":
            outputs = "".join(_output_html(o, models, used) for o in cell.get("outputs", []))
            parts.append(
                f'<section class="mgw-cell"><pre class="mgw-code">{html.escape(text)}</pre>'
                + (f'<div class="mgw-output">{outputs}</div>' if outputs else "")
                + "</section>"
            )
        else:  # raw cells: their text
            parts.append(f'<pre class="mgw-cell mgw-text">{html.escape(text)}</pre>')
    drawn = {model_id: models[model_id] for model_id in used}
    return render_page(title or source.stem, "\n".join(parts), drawn)


def execute_notebook(path: str | os.PathLike[str], *, timeout: float = 600) -> dict[str, Any]:
    """Run the notebook at ``path`` headless (nbclient) and return it with its widget state
    saved, as JupyterLab's "Save Widget State Automatically" would keep it."""
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError as exc:
        raise ExportError(
            "running a notebook needs nbclient and nbformat: pip install nbclient nbformat"
        ) from exc
    source = Path(path)
    _read_notebook(source)  # the same clear errors for a bad file
    nb = nbformat.read(source, as_version=4)
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
        resources={"metadata": {"path": str(source.parent.resolve())}},
        store_widget_state=True,
    ).execute()
    return json.loads(nbformat.writes(nb))


def export_notebook(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    execute: bool = False,
    title: str | None = None,
) -> Path:
    """Export the notebook ``source`` to the offline page ``output`` (see the module docstring);
    with ``execute``, run it first and use the widget state of that run."""
    out = checked_output_path(output, HTML_SUFFIXES)
    src = Path(source)
    if execute:
        nb = execute_notebook(src)
        with tempfile.TemporaryDirectory() as folder:
            executed = Path(folder) / src.name
            executed.write_text(json.dumps(nb), encoding="utf-8")
            page = notebook_html(executed, title=title or src.stem)
    else:
        page = notebook_html(src, title=title)
    write_atomically(out, page.encode("utf-8"))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m micrograd_widgets.export",
        description="Export a notebook, with its widgets, as one offline HTML page.",
    )
    parser.add_argument("notebook", help="the .ipynb file")
    parser.add_argument("-o", "--output", help="the .html file (default: next to the notebook)")
    parser.add_argument(
        "--execute",
        action="store_true",
        help="run it first (nbclient), keeping its widget state",
    )
    parser.add_argument("--title", help="the page title (default: the notebook's name)")
    args = parser.parse_args(argv)
    output = args.output or str(Path(args.notebook).with_suffix(".html"))
    try:
        written = export_notebook(args.notebook, output, execute=args.execute, title=args.title)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {written} ({written.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
