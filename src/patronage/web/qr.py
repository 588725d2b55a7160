"""QR codes drawn on the server as inline SVG (segno): the member's card number, for
the counter's scanner to type into its lookup field. No script, no CDN."""

from __future__ import annotations

import segno
from markupsafe import Markup, escape

SCALE = 6


def card_qr(card_number: str, label: str) -> Markup:
    """A QR code (model 2, error correction M or better) holding exactly ``card_number``."""
    code = segno.make_qr(card_number, error="m")
    svg = code.svg_inline(
        scale=SCALE,
        border=4,
        title=label,
        desc=card_number,
        svgclass="qr",
        dark="#000000",
        omitsize=True,
    )
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))
