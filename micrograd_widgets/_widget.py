"""What every widget shares: its bundled assets, an error banner, one message router, and the
checked coordinates of a click on a plane (the boundary's and the Playground's drawing pad)."""

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


def click_xy(action: str, content: dict) -> tuple[float, float]:
    """The plane coordinates of a click message, checked."""
    x, y = content.get("x"), content.get("y")
    if not all(isinstance(v, (int, float)) for v in (x, y)):
        raise ValueError(f"{action} needs numeric x and y, got {content!r:.120}")
    return float(x), float(y)


class BaseWidget(anywidget.AnyWidget):
    """An anywidget whose views send user actions as custom messages ``{"type": ..., ...}``.

    Each message type ``t`` is handled by a method ``_on_t(content, buffers)``; the ``_on_``
    prefix is reserved for view messages. A failing handler never raises into the kernel's comm
    machinery: its error is shown in the widget's banner.

    One rule for the banner, in every widget: it shows the latest failure until the next view
    message is handled without one, which clears it. Handlers never clear ``error`` themselves.

    Views report their life: the view shell (js/shared/view.ts) sends ``{"type": "view", "event":
    "attached" | "detached", "view": <id>}`` when it renders and when it is removed (its cell
    re-run or cleared, the widget closed). The widget keeps the set of live views
    (:attr:`live_views`) and whether it ever had one (:attr:`ever_viewed`); subclasses react in
    :meth:`_views_changed`. These messages are not user actions: they leave the banner alone.
    """

    #: Text shown in the widget's error banner ("" hides it).
    error = traitlets.Unicode("").tag(sync=True)

    #: put a small PNG of the view (its state when displayed) in the notebook output, for
    #: front-ends without the widget (GitHub, nbviewer); see ``_pictures.output_png``
    static_picture = True

    #: message types that are not user actions, so they neither set nor clear the banner
    _LIFECYCLE_MESSAGES = frozenset({"view"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._live_views: set[str] = set()
        self._ever_viewed = False
        self.on_msg(self._route_message)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)  # (data, metadata), or None once closed
        if bundle is not None:
            # text/plain is all a front-end without the widget shows: say what would be here
            bundle[0]["text/plain"] = TEXT_REPR.format(what=self._describe())
            if self.static_picture:
                # GitHub and nbviewer show this picture (of the state when the cell ran)
                from ._pictures import output_png

                png = output_png(self)
                if png is not None:
                    bundle[0]["image/png"] = png
        return bundle

    def _describe(self) -> str:
        """What this widget shows, in a few words, for its text repr."""
        return type(self).__name__

    @property
    def live_views(self) -> frozenset[str]:
        """Ids of the views of this widget currently on a page."""
        return frozenset(self._live_views)

    @property
    def ever_viewed(self) -> bool:
        """True once a view of this widget has been shown."""
        return self._ever_viewed

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
            if kind not in self._LIFECYCLE_MESSAGES:
                self.error = ""  # the user's last action worked: an older failure no longer applies

    def _on_view(self, content: dict, buffers: list[bytes]) -> None:
        event, view = content.get("event"), content.get("view")
        if event not in ("attached", "detached") or not isinstance(view, str):
            raise ValueError(
                "a view message needs event 'attached' or 'detached' and a view id, "
                f"got {content!r:.120}"
            )
        if event == "attached":
            self._live_views.add(view)
            self._ever_viewed = True
        elif view in self._live_views:
            self._live_views.discard(view)
        else:
            return  # a view we never heard of (e.g. from before a page reload): nothing changed
        self._views_changed(event)

    def _views_changed(self, event: str) -> None:
        """Called after a view attached or detached (``event``); :attr:`live_views` is updated."""

    # ---- pictures (micrograd_widgets/_pictures.py draws them from the synced state) ----------

    def snapshot(self) -> Any:
        """A matplotlib Figure of what the view shows, drawn in Python from the widget's state
        (no displayed view needed). ``to_png`` / ``to_svg`` write it to a file."""
        from ._pictures import snapshot

        return snapshot(self)

    def to_png(self, path: str | Path, dpi: float = 100) -> Path:
        """Write :meth:`snapshot` to ``path`` (.png), atomically; returns the path."""
        from ._pictures import save_figure

        return save_figure(self.snapshot(), path, formats=(".png",), dpi=dpi)

    def to_svg(self, path: str | Path) -> Path:
        """Write :meth:`snapshot` to ``path`` (.svg), atomically; returns the path."""
        from ._pictures import save_figure

        return save_figure(self.snapshot(), path, formats=(".svg",))

    def save_animation(self, path: str | Path, fps: float = 10) -> Path:
        """A DecisionBoundary's recorded run as ``run.gif`` (one frame per recorded step) or
        ``run.mp4`` (needs ffmpeg); other widgets raise a clear error."""
        from ._pictures import save_animation

        return save_animation(self, path, fps=fps)

    def _show_error(self, where: str, exc: Exception) -> None:
        """Log ``exc`` (with its traceback) and show it in the banner."""
        log.exception("micrograd-widgets: %s failed", where, exc_info=exc)
        self.error = f"{type(exc).__name__}: {exc}"
