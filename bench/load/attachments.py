"""Two distinct, valid PDFs of about 1 MB each (a page of text and a noise image that does not compress)."""

from __future__ import annotations

import io
import os
import sys

from PIL import Image
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas


def make(path: str, title: str) -> None:
    noise = Image.frombytes("RGB", (480, 555), os.urandom(480 * 555 * 3))
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=LETTER)
    pdf.drawString(72, 720, title)
    pdf.drawImage(ImageReader(noise), 72, 100, width=460, height=440)
    pdf.showPage()
    pdf.save()
    with open(path, "wb") as fh:
        fh.write(buf.getvalue())
    print(f"{path}: {len(buf.getvalue()) / 1e6:.2f} MB")


if __name__ == "__main__":
    for n, target in enumerate(sys.argv[1:], 1):
        make(target, f"Antecedente {n} de la solicitud (prueba de carga)")
