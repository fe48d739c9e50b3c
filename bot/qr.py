"""QR codes of member codes, as PNG bytes made locally (segno, no image library needed).

segno (about 1 MB) is imported by the first QR code made, not by every bot process.
"""

from __future__ import annotations

import io


def qr_png(text: str, scale: int = 8) -> bytes:
    """A PNG of `text` as a QR code with a quiet zone, large enough to scan from a phone."""
    import segno

    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(text: str, scale: int = 6) -> str:
    """An inline SVG of `text` as a QR code with a quiet zone, for a page to show."""
    import segno

    return str(segno.make_qr(text, error="m").svg_inline(scale=scale, border=4, omitsize=True))
