"""A small PNG writer: numpy RGB pixels in, PNG bytes out, with zlib only (no Pillow).

For the notebook output's picture (``_pictures.output_png``), which must be cheap on every
display. A picture with at most 256 colours is written as a palette PNG (one byte a pixel,
compresses well); others as 8-bit RGB. Every row uses filter type 0 (none).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["png_bytes"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: IHDR colour types
RGB, PALETTE = 2, 3


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _palette(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(colours (m, 3), index per pixel (h, w) uint8), or None for more than 256 colours."""
    packed = (
        pixels[..., 0].astype(np.uint32) << 16
        | pixels[..., 1].astype(np.uint32) << 8
        | pixels[..., 2].astype(np.uint32)
    )
    colours, index = np.unique(packed, return_inverse=True)
    if len(colours) > 256:
        return None
    rgb = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1).astype(np.uint8)
    return rgb, index.reshape(pixels.shape[:2]).astype(np.uint8)


def png_bytes(pixels: np.ndarray, level: int = 9) -> bytes:
    """PNG bytes of ``pixels``, an (height, width, 3) uint8 RGB array (a palette PNG when it
    has at most 256 colours)."""
    pixels = np.asarray(pixels)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(
            f"png_bytes needs an (height, width, 3) uint8 RGB array, got shape {pixels.shape} "
            f"of {pixels.dtype}"
        )
    height, width = pixels.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f"png_bytes needs at least one pixel, got {width}×{height}")
    indexed = _palette(pixels)
    if indexed is not None:
        colours, rows = indexed
        colour_type, extra = PALETTE, [_chunk(b"PLTE", colours.tobytes())]
    else:
        rows, colour_type, extra = pixels.reshape(height, width * 3), RGB, []
    # each scanline starts with its filter type byte: 0, none
    raw = np.hstack([np.zeros((height, 1), np.uint8), rows.reshape(height, -1)])
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"".join(
        [
            SIGNATURE,
            _chunk(b"IHDR", header),
            *extra,
            _chunk(b"IDAT", zlib.compress(np.ascontiguousarray(raw).tobytes(), level)),
            _chunk(b"IEND", b""),
        ]
    )
