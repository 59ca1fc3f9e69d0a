"""Writing files so that a failure leaves nothing half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path


def write_atomically(path: Path, data: bytes, error: type[Exception] = OSError) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename it:
    readers see the old file or the new one, never half of it; a failure leaves nothing and
    raises ``error`` naming the path and why."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise error(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException as exc:
        Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise error(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
        raise


def checked_output_path(
    path: str | os.PathLike[str], suffixes: Sequence[str], error: type[Exception] = ValueError
) -> Path:
    """``path`` as a Path, after checking its extension, that its folder exists and that it is
    not a folder; else ``error`` saying which."""
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise error(
            f"cannot write {str(out)!r}: expected a file name ending in "
            f"{' or '.join(suffixes)}, got {out.suffix or 'no extension'!r}"
        )
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise error(f"cannot write {str(out)!r}: the folder {str(folder)!r} does not exist")
    if out.is_dir():
        raise error(f"cannot write {str(out)!r}: it is a folder")
    return out
