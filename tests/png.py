"""Reading a PNG's header without an imaging library."""

from __future__ import annotations

import struct

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk; AssertionError when `data` is no PNG."""
    assert data[:8] == SIGNATURE, data[:8]
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    assert (length, kind) == (13, b"IHDR")
    assert data[-8:-4] == b"IEND"
    return width, height


def coloured_share(data: bytes) -> float:
    """The share of a PNG's pixels in a saturated colour (bars, lines, markers): axes, grid
    and text are black, grey or white, so an empty chart scores about 0."""
    import io

    from matplotlib.image import imread

    pixels = imread(io.BytesIO(data), format="png")[..., :3]
    spread = pixels.max(axis=2) - pixels.min(axis=2)
    return float((spread > 0.25).mean())
