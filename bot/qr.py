"""QR codes of member codes, as PNG bytes made locally (segno, no image library needed)."""

from __future__ import annotations

import io

import segno


def qr_png(text: str, scale: int = 8) -> bytes:
    """A PNG of `text` as a QR code with a quiet zone, large enough to scan from a phone."""
    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(text: str, scale: int = 6) -> str:
    """An inline SVG of `text` as a QR code with a quiet zone, for a page to show."""
    return str(segno.make_qr(text, error="m").svg_inline(scale=scale, border=4, omitsize=True))
