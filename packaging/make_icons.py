"""Draw the Lowdash app icon with QPainter at every size, plus .ico and .icns (run once)."""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import (  # noqa: E402
    QColor,
    QGuiApplication,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
)

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"


def draw(size: int) -> QImage:
    """A rounded green tile with a low, descending bar chart and a leaf-like baseline."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)
    inset = s * 0.04
    tile = QRectF(inset, inset, s - 2 * inset, s - 2 * inset)
    gradient = QLinearGradient(tile.topLeft(), tile.bottomRight())
    gradient.setColorAt(0.0, QColor("#2fb67c"))
    gradient.setColorAt(1.0, QColor("#137a5a"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(gradient)
    p.drawRoundedRect(tile, s * 0.2, s * 0.2)
    # three bars stepping down: "low" usage
    p.setBrush(QColor("#ffffff"))
    base = s * 0.74
    width = s * 0.14
    for i, height in enumerate((0.44, 0.30, 0.17)):
        x = s * 0.22 + i * s * 0.2
        p.drawRoundedRect(QRectF(x, base - s * height, width, s * height), s * 0.03, s * 0.03)
    # the dash: a baseline under the bars
    pen = QPen(QColor("#d8f5e6"), max(1.0, s * 0.05))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    path = QPainterPath(QPointF(s * 0.2, s * 0.82))
    path.lineTo(QPointF(s * 0.8, s * 0.82))
    p.drawPath(path)
    p.end()
    return image


def write_ico(target: Path, pngs: list[Path]) -> None:
    """An ICO file whose entries are the PNG files as they are (Windows Vista and later)."""
    blobs = [png.read_bytes() for png in pngs]
    header = struct.pack("<HHH", 0, 1, len(blobs))
    offset = len(header) + 16 * len(blobs)
    entries = b""
    for png, blob in zip(pngs, blobs, strict=True):
        size = int(png.stem.rsplit("-", 1)[1])
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory entry
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
    target.write_bytes(header + entries + b"".join(blobs))


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    images = {size: draw(size) for size in SIZES}
    for size, image in images.items():
        if not image.save(str(OUT / f"lowdash-{size}.png")):
            raise SystemExit(f"could not write the {size} px icon")
    # Windows takes one multi-size .ico (PNG entries keep it small); macOS an .icns
    write_ico(OUT / "lowdash.ico", [OUT / f"lowdash-{size}.png" for size in SIZES if size <= 256])
    images[512].save(str(OUT / "lowdash.icns"))
    print(f"icons written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
