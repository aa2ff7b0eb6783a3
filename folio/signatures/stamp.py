"""The visible signature as a picture, for providers that draw an image (FirmaGob's AgileSignerConfig layout):
the same content as the PAdES stamp Folio draws itself — the signer's lines, the date, the verification code
and a QR code to the verification page — rendered with Pillow as an opaque RGB PNG (no transparency, so
PDF/A stays clean)."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

SCALE = 3  # pixels per PDF point: crisp when printed
FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
]


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def render_png(*, lines: list[str], url: str, width_pt: int, height_pt: int) -> bytes:
    width, height = max(width_pt, 40) * SCALE, max(height_pt, 30) * SCALE
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, width - 1, height - 1], outline="black", width=SCALE)
    pad = 4 * SCALE
    qr_size = height - 2 * pad
    qr = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(url)
    qr.make(fit=True)
    qr_image = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    image.paste(qr_image.resize((qr_size, qr_size), Image.Resampling.NEAREST), (pad, pad))
    text_x = pad * 2 + qr_size
    available = width - text_x - pad
    size = 8 * SCALE
    clean = [line.replace("\n", " ").strip() for line in lines if line and line.strip()]
    # Shrink the type until every line fits the box.
    while size > 4 * SCALE:
        font = _font(size)
        line_height = int(size * 1.2)
        widest = max((draw.textlength(line, font=font) for line in clean), default=0)
        if widest <= available and line_height * len(clean) <= height - 2 * pad:
            break
        size -= SCALE // 2 or 1
    font = _font(size)
    line_height = int(size * 1.2)
    y = max(pad, (height - line_height * len(clean)) // 2)
    for line in clean:
        draw.text((text_x, y), line, fill="black", font=font)
        y += line_height
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
