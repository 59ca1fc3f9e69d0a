"""Writing files so that a failure leaves nothing half-written."""

from __future__ import annotations

import os
import tempfile
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
