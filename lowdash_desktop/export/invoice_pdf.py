"""An invoice rendered locally as a paged PDF with Qt (QPdfWriter + QPainter), offline."""

from __future__ import annotations

import importlib
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QLineF, QMarginsF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
)

from ..api.models import Invoice, Party
from ..rules.currency import minor_digits
from ..safe_text import visible
from .atomic import discard, temp_path_for

PAGE_SIZES: dict[str, QPageSize.PageSizeId] = {
    "A4": QPageSize.PageSizeId.A4,
    "Letter": QPageSize.PageSizeId.Letter,
}
RESOLUTION = 300
LATIN_FAMILIES = (
    "Noto Sans",
    "DejaVu Sans",
    "Segoe UI",
    "Helvetica Neue",
    "Arial",
    "Liberation Sans",
)
# Families with CJK glyphs, tried in order; Qt falls back to the next family per missing glyph.
CJK_FAMILIES = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Source Han Sans",
    "Noto Sans JP",
    "Yu Gothic",
    "Meiryo",
    "Microsoft YaHei",
    "Hiragino Sans",
    "Hiragino Kaku Gothic ProN",
    "PingFang SC",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
)
MARGIN_PT = 50.0
FOOTER_PT = 28.0
GREY = QColor(90, 90, 90)
RULE = QColor(170, 170, 170)
SHADE = QColor(242, 242, 242)

_app_holder: list[QGuiApplication] = []


def tr(text: str) -> str:
    """Translate a label of the rendered invoice."""
    return QCoreApplication.translate("InvoicePdf", text)


def ensure_gui_app() -> QGuiApplication:
    """The running QGuiApplication, or a new offscreen one for headless rendering."""
    app = QGuiApplication.instance()
    if app is None:
        app = QGuiApplication(["lowdash", "-platform", "offscreen"])
        _app_holder.append(app)
    if not isinstance(app, QGuiApplication):
        raise RuntimeError("rendering a PDF needs a QGuiApplication, not a QCoreApplication")
    return app


# The fonts the app ships, so an invoice looks the same on every machine and a bare one (no
# fonts at all, as in many containers) still gets every figure drawn and copyable as text:
# - Latin: Source Sans Pro regular and bold, TrueType (© Adobe, SIL Open Font License 1.1, PyPI
#   package font-source-sans-pro). First in the family list because Qt's PDF writer embeds the
#   CJK font below without a usable text mapping for its digits: with only that font, an
#   invoice's numbers, amounts and VAT ids drew correctly but extracted as control characters
#   (pdftotext gave "LR-" for "LR-2026-0042").
# - CJK: Noto Sans CJK JP regular and bold (OFL 1.1, packages noto-cjk-sans-jp-regular and
#   -bold): Japanese, Chinese and Korean names are drawn on a machine without a CJK font (a real
#   bold face: Qt's synthetic bold draws each glyph twice, which doubles the name in the PDF's
#   text).
# Registered with Qt for this process at the first render.
BUNDLED_LATIN_MODULE = "font_source_sans_pro"
BUNDLED_LATIN_FILES = ("SourceSansPro-Regular.ttf", "SourceSansPro-Bold.ttf")
BUNDLED_CJK_MODULES = ("noto_cjk_sans_jp_regular", "noto_cjk_sans_jp_bold")
_bundled_families: list[str] | None = None


class MissingGlyphsError(ValueError):
    """The invoice has characters that no font available to the app can draw."""

    def __init__(self, characters: list[str]):
        self.characters = characters
        named = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in characters[:12])
        more = f" and {len(characters) - 12} more" if len(characters) > 12 else ""
        super().__init__(
            f"no font on this computer can draw {named}{more}; "
            "install a font that has them and export again"
        )


def _bundled_font_paths() -> list[str | Path]:
    """The font files the app ships (Latin first), as far as their packages are installed."""
    paths: list[str | Path] = []
    try:
        latin = importlib.import_module(BUNDLED_LATIN_MODULE)
        folder = Path(str(latin.__file__)).parent / "files"
        paths += [folder / name for name in BUNDLED_LATIN_FILES]
    except (ImportError, TypeError):
        pass
    for name in BUNDLED_CJK_MODULES:
        try:
            paths.append(importlib.import_module(name).FONT_PATH)
        except (ImportError, AttributeError):
            continue
    return paths


def bundled_font_families() -> list[str]:
    """Register the app's own fonts with Qt (once per process); their family names, Latin
    first, or [] when the font packages are missing (the app then uses the installed fonts)."""
    global _bundled_families
    if _bundled_families is not None:
        return _bundled_families
    families: list[str] = []
    for path in _bundled_font_paths():
        try:
            if os.path.isfile(str(path)):
                font_id = QFontDatabase.addApplicationFont(str(path))
            else:  # inside a zip: hand Qt the bytes
                font_id = QFontDatabase.addApplicationFontFromData(Path(path).read_bytes())
        except OSError:
            continue
        if font_id >= 0:
            families += [
                f for f in QFontDatabase.applicationFontFamilies(font_id) if f not in families
            ]
    _bundled_families = families
    return families


def font_families() -> list[str]:
    """The app's own families (Latin, then CJK), then installed ones for what they lack."""
    bundled = bundled_font_families()
    installed = set(QFontDatabase.families())
    own_latin = [f for f in bundled if f not in CJK_FAMILIES]
    own_cjk = [f for f in bundled if f in CJK_FAMILIES]
    latin = own_latin or [f for f in LATIN_FAMILIES if f in installed][:1]
    cjk = [f for f in CJK_FAMILIES if f in installed and f not in bundled]
    return latin + own_cjk + cjk


def has_cjk_font() -> bool:
    """Whether a font with CJK glyphs is available (the app's own, or one installed)."""
    bundled_font_families()
    installed = set(QFontDatabase.families())
    return any(f in installed for f in CJK_FAMILIES)


def missing_characters(texts: list[str], font: QFont) -> list[str]:
    """The characters of `texts` that `font` (with Qt's fallbacks) cannot draw, in order."""
    metrics = QFontMetricsF(font)
    seen: set[str] = set()
    missing: list[str] = []
    for text in texts:
        for ch in text:
            if ch in seen:
                continue
            seen.add(ch)
            if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
                continue
            if not metrics.inFontUcs4(ord(ch)):
                missing.append(ch)
    return missing


def format_amount(value: Decimal | float | int, places: int = 0) -> str:
    """Exact digits with thousands separators, at least `places` decimals, never fewer digits
    than given: Decimal('1234.5') -> '1,234.50' with 2 places; '0.000083518' stays whole."""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if value.is_finite() and isinstance(exponent, int) and -exponent < places:
            value = value.quantize(Decimal(1).scaleb(-places))
        return format(value, ",f")
    if isinstance(value, int):
        return f"{value:,}"
    return repr(value)


def format_money(value: Decimal, currency: str) -> str:
    """'1,234.50 EUR': at least the currency's minor unit ('0' from the platform reads
    '0.00 EUR', as the amounts beside it do), every digit the platform gave."""
    return f"{format_amount(value, minor_digits(currency))} {currency}"


def _day(value: date | datetime) -> str:
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def _party_lines(party: Party) -> list[str]:
    lines = [party.name] if party.name else []
    if isinstance(party.address, list):
        lines += [str(a) for a in party.address if a]
    elif party.address:
        lines += [a.strip() for a in str(party.address).splitlines() if a.strip()]
    if party.vat_id:
        lines.append(tr("VAT ID: {0}").format(party.vat_id))
    if party.email:
        lines.append(party.email)
    return lines


@dataclass
class _Text:
    rect: QRectF
    text: str
    font: QFont
    flags: int
    color: QColor | None = None


@dataclass
class _Page:
    texts: list[_Text] = field(default_factory=list)
    rules: list[QLineF] = field(default_factory=list)
    fills: list[QRectF] = field(default_factory=list)


class _Layout:
    """Places every piece of the invoice on pages; painting happens once the count is known."""

    def __init__(self, invoice: Invoice, writer: QPdfWriter, page_pt: tuple[float, float]):
        self.inv = invoice
        self.device = writer
        self.k = RESOLUTION / 72.0
        self.width = page_pt[0] * self.k
        self.height = page_pt[1] * self.k
        self.left = MARGIN_PT * self.k
        self.right = self.width - MARGIN_PT * self.k
        self.top = MARGIN_PT * self.k
        self.bottom = self.height - (MARGIN_PT + FOOTER_PT) * self.k
        families = font_families()
        self.body = self._font(families, 9.5)
        self.small = self._font(families, 8)
        self.bold = self._font(families, 9.5, bold=True)
        self.title = self._font(families, 22, bold=True)
        self.big_bold = self._font(families, 11, bold=True)
        self.pages: list[_Page] = []
        self.y = 0.0
        inner = self.right - self.left
        # description | quantity | unit price | amount
        self.cols = [0.47 * inner, 0.11 * inner, 0.22 * inner, 0.20 * inner]
        self.pad = 4 * self.k

    @staticmethod
    def _font(families: list[str], size: float, bold: bool = False) -> QFont:
        font = QFont()
        if families:
            font.setFamilies(families)
        font.setPointSizeF(size)
        font.setBold(bold)
        font.setStyleHint(QFont.StyleHint.SansSerif)
        # no ligatures: Qt's PDF writer has no text for a ligature glyph, so "microsoft" drawn
        # with Source Sans Pro's "ft" extracted as "microso?"; an invoice must copy as it reads
        for tag in ("liga", "clig", "dlig"):
            font.setFeature(QFont.Tag(tag), 0)
        return font

    def pt(self, value: float) -> float:
        return value * self.k

    def text_height(self, text: str, font: QFont, width: float) -> float:
        metrics = QFontMetricsF(font, self.device)
        flags = int(Qt.AlignmentFlag.AlignLeft) | int(Qt.TextFlag.TextWordWrap)
        return metrics.boundingRect(QRectF(0, 0, width, 1e7), flags, text).height()

    def new_page(self) -> _Page:
        page = _Page()
        self.pages.append(page)
        self.y = self.top
        return page

    @property
    def page(self) -> _Page:
        return self.pages[-1]

    def put(
        self,
        x: float,
        width: float,
        text: str,
        font: QFont,
        align: Qt.AlignmentFlag,
        color: QColor | None = None,
    ) -> float:
        """Place wrapped text at the current y; returns its height."""
        height = self.text_height(text, font, width)
        flags = int(align) | int(Qt.AlignmentFlag.AlignTop) | int(Qt.TextFlag.TextWordWrap)
        self.page.texts.append(_Text(QRectF(x, self.y, width, height), text, font, flags, color))
        return height

    # -- sections --------------------------------------------------------------------------
    def build(self) -> list[_Page]:
        self.new_page()
        self.heading()
        self.parties()
        self.details()
        self.table_header()
        last = len(self.inv.lines) - 1
        for i, line in enumerate(self.inv.lines):
            # the last row moves with the totals so they never stand alone on a page
            reserve = self.totals_height() if i == last else 0.0
            self.table_row(line.description, line.quantity, line.unit_price, line.amount, reserve)
        self.totals()
        return self.pages

    def heading(self) -> None:
        inv = self.inv
        inner = self.right - self.left
        height = self.put(
            self.left, inner / 2, tr("Invoice"), self.title, Qt.AlignmentFlag.AlignLeft
        )
        right = self.left + inner / 2
        saved = self.y
        self.y += self.pt(4)
        self.y += self.put(right, inner / 2, inv.number, self.big_bold, Qt.AlignmentFlag.AlignRight)
        self.put(
            right,
            inner / 2,
            self.status_label(inv.status),
            self.body,
            Qt.AlignmentFlag.AlignRight,
            GREY,
        )
        self.y = saved + max(height, self.pt(30)) + self.pt(14)

    @staticmethod
    def status_label(status: str) -> str:
        labels = {"paid": tr("Paid"), "open": tr("Open (unpaid)"), "void": tr("Void")}
        return labels.get(status, status)

    def parties(self) -> None:
        inner = self.right - self.left
        col = inner / 2 - self.pt(10)
        start = self.y
        bottoms = []
        for x, label, party in (
            (self.left, tr("From"), self.inv.seller),
            (self.left + inner / 2 + self.pt(10), tr("Bill to"), self.inv.buyer),
        ):
            self.y = start
            self.y += self.put(x, col, label.upper(), self.small, Qt.AlignmentFlag.AlignLeft, GREY)
            self.y += self.pt(2)
            for i, text in enumerate(_party_lines(party)):
                font = self.bold if i == 0 else self.body
                self.y += self.put(x, col, text, font, Qt.AlignmentFlag.AlignLeft)
            bottoms.append(self.y)
        self.y = max(bottoms) + self.pt(16)

    def details(self) -> None:
        inv = self.inv
        rows = [
            (tr("Invoice number"), inv.number),
            (tr("Issued"), inv.issued_at.strftime("%Y-%m-%d %H:%M UTC")),
            (tr("Period"), f"{_day(inv.period_start)} – {_day(inv.period_end)}"),
            (tr("Currency"), inv.currency),
            (tr("Status"), self.status_label(inv.status)),
        ]
        label_w = self.pt(95)
        for label, value in rows:
            self.put(self.left, label_w, label, self.body, Qt.AlignmentFlag.AlignLeft, GREY)
            self.y += self.put(
                self.left + label_w, self.pt(300), value, self.body, Qt.AlignmentFlag.AlignLeft
            )
            self.y += self.pt(1.5)
        self.y += self.pt(14)

    def _row(self, cells: list[str], font: QFont, shade: bool) -> float:
        """Height of one table row with these cells."""
        height = 0.0
        for text, width in zip(cells, self.cols, strict=True):
            height = max(height, self.text_height(text, font, width - 2 * self.pad))
        return height + 2 * self.pad

    def _place_row(self, cells: list[str], font: QFont, shade: bool, height: float) -> None:
        x = self.left
        if shade:
            self.page.fills.append(QRectF(self.left, self.y, self.right - self.left, height))
        saved = self.y
        self.y += self.pad
        for i, (text, width) in enumerate(zip(cells, self.cols, strict=True)):
            align = Qt.AlignmentFlag.AlignLeft if i == 0 else Qt.AlignmentFlag.AlignRight
            self.put(x + self.pad, width - 2 * self.pad, text, font, align)
            x += width
        self.y = saved + height

    def header_cells(self) -> list[str]:
        cur = self.inv.currency
        return [
            tr("Description"),
            tr("Quantity"),
            tr("Unit price ({0})").format(cur),
            tr("Amount ({0})").format(cur),
        ]

    def table_header(self) -> None:
        cells = self.header_cells()
        height = self._row(cells, self.bold, False)
        self._place_row(cells, self.bold, False, height)
        self.page.rules.append(QLineF(self.left, self.y, self.right, self.y))
        self.rows_on_page = 0

    def continued(self) -> None:
        """Start a new page that repeats the table header."""
        self.new_page()
        self.y += self.put(
            self.left,
            self.right - self.left,
            tr("Invoice {0} (continued)").format(self.inv.number),
            self.bold,
            Qt.AlignmentFlag.AlignLeft,
        )
        self.y += self.pt(8)
        self.table_header()

    def table_row(
        self, description: str, quantity: Any, unit: Decimal, amount: Decimal, reserve: float
    ) -> None:
        cells = [description, format_amount(quantity), format_amount(unit),
                 format_amount(amount, minor_digits(self.inv.currency))]
        height = self._row(cells, self.body, False)
        if self.y + height + reserve > self.bottom:
            self.continued()
        shade = self.rows_on_page % 2 == 1
        self._place_row(cells, self.body, shade, height)
        self.rows_on_page += 1

    def total_rows(self) -> list[tuple[str, str, QFont]]:
        inv = self.inv
        return [
            (tr("Subtotal"), format_money(inv.subtotal, inv.currency), self.body),
            (tr("Tax"), format_money(inv.tax, inv.currency), self.body),
            (tr("Total"), format_money(inv.total, inv.currency), self.big_bold),
        ]

    def totals_height(self) -> float:
        return self.pt(14) + sum(
            self.text_height(v, f, self.cols[2] + self.cols[3]) + self.pt(4)
            for _, v, f in self.total_rows()
        )

    def totals(self) -> None:
        rows = self.total_rows()
        if self.y + self.totals_height() > self.bottom:  # only when there are no lines at all
            self.continued()
        self.page.rules.append(QLineF(self.left, self.y, self.right, self.y))
        self.y += self.pt(8)
        label_x = self.left + self.cols[0] + self.pad
        label_w = self.cols[1]
        value_x = label_x + label_w
        value_w = self.right - self.pad - value_x
        for i, (label, value, font) in enumerate(rows):
            if i == len(rows) - 1:
                self.page.rules.append(QLineF(label_x - self.pad, self.y, self.right, self.y))
                self.y += self.pt(4)
            self.put(label_x, label_w, label, font, Qt.AlignmentFlag.AlignLeft)
            self.y += self.put(value_x, value_w, value, font, Qt.AlignmentFlag.AlignRight)
            self.y += self.pt(4)


def _paint(layout: _Layout, writer: QPdfWriter) -> None:
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError("could not start writing the PDF")
    try:
        total = len(layout.pages)
        for number, page in enumerate(layout.pages, start=1):
            if number > 1:
                writer.newPage()
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(SHADE)
            for rect in page.fills:
                painter.drawRect(rect)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(RULE)
            for line in page.rules:
                painter.drawLine(line)
            for item in page.texts:
                painter.setFont(item.font)
                painter.setPen(item.color or QColor(0, 0, 0))
                painter.drawText(item.rect, item.flags, item.text)
            _footer(layout, painter, number, total)
    finally:
        painter.end()


def _footer(layout: _Layout, painter: QPainter, number: int, total: int) -> None:
    y = layout.height - (MARGIN_PT + FOOTER_PT / 2) * layout.k
    painter.setPen(RULE)
    painter.drawLine(QLineF(layout.left, y, layout.right, y))
    painter.setPen(GREY)
    painter.setFont(layout.small)
    rect = QRectF(layout.left, y + layout.pt(4), layout.right - layout.left, layout.pt(14))
    left = tr("Invoice {0} · {1}").format(layout.inv.number, layout.inv.seller.name)
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft), left)
    page = tr("Page {0} of {1}").format(number, total)
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignRight), page)


def _visible_strings(value: Any) -> Any:
    """Every string in a JSON value with its control and bidi characters replaced (U+FFFD);
    line breaks stay line breaks (an address may be one string of lines)."""
    if isinstance(value, str):
        return "\n".join(visible(part) for part in value.replace("\r\n", "\n").split("\n"))
    if isinstance(value, dict):
        return {k: _visible_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_visible_strings(v) for v in value]
    return value


def parse_invoice(body: dict[str, Any] | Invoice) -> Invoice:
    """An Invoice from a cached JSON body (or one already parsed), its platform strings
    made visible: a control or bidi character never reaches the PDF raw."""
    if isinstance(body, Invoice):
        body = body.model_dump()
    return Invoice.model_validate(_visible_strings(body))


def render_invoice_pdf(
    body: dict[str, Any] | Invoice, target: str | os.PathLike[str], page_size: str = "A4"
) -> int:
    """Write the invoice as a PDF at `target` (atomically); returns the number of pages."""
    ensure_gui_app()
    invoice = parse_invoice(body)
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page size must be one of {', '.join(PAGE_SIZES)}")
    target = Path(target)
    tmp_name = temp_path_for(target)
    try:
        writer = QPdfWriter(str(tmp_name))
        size = QPageSize(PAGE_SIZES[page_size])
        writer.setPageLayout(
            QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))
        )
        writer.setResolution(RESOLUTION)
        writer.setTitle(tr("Invoice {0}").format(invoice.number))
        writer.setCreator("Lowdash Desktop")
        points = size.size(QPageSize.Unit.Point)
        layout = _Layout(invoice, writer, (points.width(), points.height()))
        layout.build()
        texts = [item.text for page in layout.pages for item in page.texts]
        missing = missing_characters([*texts, invoice.number, invoice.seller.name], layout.body)
        if missing:  # empty boxes on an invoice are worse than no invoice: say which
            raise MissingGlyphsError(missing)
        _paint(layout, writer)
        layout.device = None
        del writer  # the file is complete and closed once the writer is gone
        os.replace(tmp_name, target)
    except BaseException:
        discard(tmp_name)
        raise
    return len(layout.pages)
