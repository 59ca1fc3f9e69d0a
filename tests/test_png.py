"""The small PNG writer (micrograd_widgets/_png.py): decoded back, the pixels are the ones given."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest

from micrograd_widgets._png import png_bytes


def decode(png: bytes) -> tuple[np.ndarray, int]:
    """RGB pixels and IHDR colour type of an 8-bit PNG with filter-0 rows (what png_bytes
    writes), checking every chunk's CRC."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + data), f"bad CRC in {kind!r}"
        chunks.append((kind, data))
        offset += 12 + length
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    width, height, depth, colour_type, *_ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8
    raw = zlib.decompress(b"".join(data for kind, data in chunks if kind == b"IDAT"))
    channels = 3 if colour_type == 2 else 1
    rows = np.frombuffer(raw, np.uint8).reshape(height, 1 + width * channels)
    assert np.all(rows[:, 0] == 0)  # filter type 0 on every row
    if colour_type == 2:
        return rows[:, 1:].reshape(height, width, 3), colour_type
    assert colour_type == 3
    (palette,) = [data for kind, data in chunks if kind == b"PLTE"]
    colours = np.frombuffer(palette, np.uint8).reshape(-1, 3)
    return colours[rows[:, 1:]], colour_type


def test_few_colours_make_a_palette_png_with_the_same_pixels():
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, size=(40, 3), dtype=np.uint8)
    pixels = colours[rng.integers(0, 40, size=(23, 31))]
    pixels[0, 0] = [0, 0, 0]
    pixels[-1, -1] = [255, 255, 255]
    decoded, colour_type = decode(png_bytes(pixels))
    assert colour_type == 3
    np.testing.assert_array_equal(decoded, pixels)


def test_many_colours_make_an_rgb_png_with_the_same_pixels():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(17, 29, 3), dtype=np.uint8)  # ~500 colours
    decoded, colour_type = decode(png_bytes(pixels))
    assert colour_type == 2
    np.testing.assert_array_equal(decoded, pixels)


@pytest.mark.parametrize("colours", [3, 256, 257])
def test_pillow_reads_the_same_pixels(colours):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(colours)
    palette = rng.permutation(256**3)[:colours]
    table = np.stack([palette >> 16, (palette >> 8) & 255, palette & 255], 1).astype(np.uint8)
    pixels = table[np.arange(40 * 41).reshape(40, 41) % colours]
    picture = Image.open(io.BytesIO(png_bytes(pixels)))
    assert picture.mode == ("P" if colours <= 256 else "RGB")
    np.testing.assert_array_equal(np.asarray(picture.convert("RGB")), pixels)


def test_one_pixel_and_bad_input():
    decoded, _ = decode(png_bytes(np.array([[[1, 2, 3]]], np.uint8)))
    assert decoded.tolist() == [[[1, 2, 3]]]
    with pytest.raises(ValueError, match=r"\(height, width, 3\) uint8 RGB array, got shape"):
        png_bytes(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"uint8 RGB array, got shape \(4, 4, 3\) of float64"):
        png_bytes(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="at least one pixel"):
        png_bytes(np.zeros((0, 4, 3), np.uint8))
