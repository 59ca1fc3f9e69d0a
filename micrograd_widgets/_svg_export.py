"""A GraphWidget's SVG exports: the requests sent to the view and the files written from its
replies (:meth:`GraphWidget.save_svg`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SvgExport", "SvgRequests"]

_MAX_SVG_CHARS = 50_000_000


@dataclass
class SvgExport:
    """What :meth:`GraphWidget.save_svg` returns: the file, and whether the view has written it.

    The file is written when the displayed view replies, after the cell that asked has finished;
    ``written`` turns True then (look at it, or at the object's repr, in a later cell).
    """

    path: Path
    written: bool = False

    def __repr__(self) -> str:
        if self.written:
            return f"SvgExport({str(self.path)!r}: written)"
        return (
            f"SvgExport({str(self.path)!r}: written when the view replies, after this cell "
            "finishes; the widget must be displayed)"
        )


class SvgRequests:
    """The SVG exports asked of the view and not answered yet, by request number."""

    def __init__(self) -> None:
        self._pending: dict[int, SvgExport] = {}
        self._next = 0

    def ask(self, path: object) -> tuple[int, SvgExport]:
        """A new request for ``path`` (checked: a file name in an existing folder)."""
        if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
            raise TypeError(f"save_svg(path): path must be a file name (str or Path), got {path!r}")
        target = Path(path).expanduser().resolve()
        if target.is_dir():
            raise IsADirectoryError(f"cannot save the SVG: {target} is a folder; give a file name")
        if not target.parent.is_dir():
            raise FileNotFoundError(f"cannot save the SVG: folder {target.parent} does not exist")
        request, self._next = self._next, self._next + 1
        export = self._pending[request] = SvgExport(target)
        return request, export

    def answer(self, request: object, svg: object) -> SvgExport | None:
        """Write the view's reply to its request's file; None for a stale or repeated reply."""
        export = self._pending.pop(request, None)  # type: ignore[arg-type]
        if export is None:
            return None  # a second view answering the same request, or a stale reply
        if not isinstance(svg, str) or not svg.lstrip().startswith(("<svg", "<?xml")):
            raise ValueError("export: the view did not send an SVG document")
        if len(svg) > _MAX_SVG_CHARS:
            raise ValueError(f"export: the SVG is larger than {_MAX_SVG_CHARS:,} characters")
        # Write beside the target, then rename: nobody ever sees a half-written file.
        partial = export.path.with_name(f".{export.path.name}.partial")
        partial.write_text(svg, encoding="utf-8")
        os.replace(partial, export.path)
        export.written = True
        return export
