"""What every widget shares: its bundled assets, an error banner, and one message router."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anywidget
import traitlets

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("micrograd_widgets")
#: What a front-end without the widget shows (GitHub, a saved notebook without widget state).
TEXT_REPR = (
    "{what} (live widget: run the cell to see it; to keep it in a saved notebook, turn on "
    "Settings → Save Widget State Automatically in JupyterLab before saving)"
)


def asset(name: str) -> Path | str:
    """Path of a bundled asset; if the JS build is missing, a module that says so in the cell."""
    path = STATIC / name
    if path.exists():
        return path
    if name.endswith(".css"):
        return ""
    message = (
        f"micrograd-widgets: the front-end bundle {name} is missing. Reinstall the package "
        "(pip install micrograd-widgets) or, in a source checkout, run "
        "`npm install && npm run build`."
    )
    return (
        "export default { render({ el }) { const p = document.createElement('pre'); "
        f"p.textContent = {message!r}; el.append(p); }} }};"
    )


class BaseWidget(anywidget.AnyWidget):
    """An anywidget whose views send user actions as custom messages ``{"type": ..., ...}``.

    Each message type ``t`` is handled by a method ``_on_t(content, buffers)``; the ``_on_``
    prefix is reserved for view messages. A failing handler never raises into the kernel's comm
    machinery: its error is shown in the widget's banner.

    One rule for the banner, in every widget: it shows the latest failure until the next view
    message is handled without one, which clears it. Handlers never clear ``error`` themselves.
    """

    #: Text shown in the widget's error banner ("" hides it).
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_msg(self._route_message)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)  # (data, metadata), or None once closed
        if bundle is not None:
            # text/plain is all a front-end without the widget shows: say what would be here
            bundle[0]["text/plain"] = TEXT_REPR.format(what=self._describe())
        return bundle

    def _describe(self) -> str:
        """What this widget shows, in a few words, for its text repr."""
        return type(self).__name__

    def _route_message(self, _widget: object, content: Any, buffers: list[bytes]) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        handler = getattr(self, f"_on_{kind}", None) if isinstance(kind, str) else None
        if handler is None:
            self.error = f"unknown message from the view: {content!r:.200}"
            return
        try:
            handler(content, buffers)
        except Exception as exc:  # shown in the widget; the kernel and its state stay intact
            self._show_error(f"{kind} handler", exc)
        else:
            self.error = ""  # the user's last action worked: an older failure no longer applies

    def _show_error(self, where: str, exc: Exception) -> None:
        """Log ``exc`` (with its traceback) and show it in the banner."""
        log.exception("micrograd-widgets: %s failed", where, exc_info=exc)
        self.error = f"{type(exc).__name__}: {exc}"
