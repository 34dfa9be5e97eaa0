"""Invoices rendered locally: every figure is in the PDF text, pages numbered, CJK embedded."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from decimal import Decimal

import pypdf
import pytest

from lowdash_desktop.api.connection import Connection
from lowdash_desktop.export.invoice_pdf import (
    MissingGlyphsError,
    format_amount,
    format_money,
    has_cjk_font,
    render_invoice_pdf,
)
from lowdash_desktop.rules.currency import minor_digits
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.sync.engine import SyncEngine

POINTS_PER_MM = 72 / 25.4


@pytest.fixture
def invoices(demo_platform, tmp_path) -> list[dict]:
    cache, _ = Cache.open(tmp_path / "cache.sqlite3")
    try:
        with Connection(demo_platform.base_url, demo_platform.api_key).client() as client:
            SyncEngine(client, cache).run()
        return cache.invoices()
    finally:
        cache.close()


def squash(text: str) -> str:
    """Text without whitespace, NFKC (a PDF may map a CJK glyph to its compatibility form)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def page_texts(path) -> list[str]:
    return [squash(page.extract_text()) for page in pypdf.PdfReader(path).pages]


def fonts(path) -> set[str]:
    names = set()
    for page in pypdf.PdfReader(path).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_demo_has_a_long_and_a_non_latin_invoice(invoices):
    assert len(invoices) >= 3
    assert max(len(i["lines"]) for i in invoices) >= 60
    assert any(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", i["buyer"]["name"]) for i in invoices)


@pytest.mark.parametrize("page_size", ["A4", "Letter"])
def test_every_figure_is_in_the_pdf(qapp, invoices, tmp_path, page_size):
    for body in invoices:
        out = tmp_path / f"{body['number']}-{page_size}.pdf"
        pages = render_invoice_pdf(body, out, page_size)
        texts = page_texts(out)
        assert len(texts) == pages
        whole = "".join(texts)
        cur = body["currency"]
        for expected in (
            "Invoice",
            body["number"],
            body["seller"]["name"],
            body["seller"]["vat_id"],
            body["buyer"]["name"],
            body["buyer"]["address"],
            f"Period{body['period_start']}–{body['period_end']}",
            "Issued" + body["issued_at"][:10],
            "Subtotal" + format_money(Decimal(body["subtotal"]), cur),
            "Tax" + format_money(Decimal(body["tax"]), cur),
            "Total" + format_money(Decimal(body["total"]), cur),
        ):
            assert squash(expected) in whole, expected
        # each line: description, quantity, unit price and amount, in one row, in order
        position = 0
        for line in body["lines"]:
            row = squash(
                line["description"]
                + format_amount(Decimal(line["quantity"]))
                + format_amount(Decimal(line["unit_price"]))
                + format_amount(Decimal(line["amount"]), minor_digits(cur))
            )
            found = whole.find(row, position)
            assert found >= 0, line
            position = found + len(row)
        # page numbers and the repeated table header on every page
        header = squash(f"Description Quantity Unit price ({cur}) Amount ({cur})")
        for number, text in enumerate(texts, start=1):
            assert text.endswith(squash(f"Page {number} of {pages}")), text[-40:]
            assert header in text
        sums = sum((Decimal(line["amount"]) for line in body["lines"]), Decimal(0))
        assert sums == Decimal(body["subtotal"])
        assert Decimal(body["subtotal"]) + Decimal(body["tax"]) == Decimal(body["total"])


def test_long_invoice_spans_pages_and_page_size_is_honoured(qapp, invoices, tmp_path):
    long_one = max(invoices, key=lambda i: len(i["lines"]))
    a4 = tmp_path / "a4.pdf"
    letter = tmp_path / "letter.pdf"
    assert render_invoice_pdf(long_one, a4, "A4") >= 2
    assert render_invoice_pdf(long_one, letter, "Letter") >= 2
    width, height = (float(v) for v in pypdf.PdfReader(a4).pages[0].mediabox[2:])
    assert abs(width - 210 * POINTS_PER_MM) < 1 and abs(height - 297 * POINTS_PER_MM) < 1
    width, height = (float(v) for v in pypdf.PdfReader(letter).pages[0].mediabox[2:])
    assert abs(width - 612) < 1 and abs(height - 792) < 1
    # the totals never stand alone: the last page also has at least one line item
    last = page_texts(a4)[-1]
    assert squash(long_one["lines"][-1]["description"]) in last


def test_non_latin_names_use_an_embedded_cjk_font(qapp, invoices, tmp_path):
    assert has_cjk_font(), "install a CJK font (Debian: fonts-noto-cjk) to render CJK names"
    out = tmp_path / "cjk.pdf"
    render_invoice_pdf(invoices[0], out)
    assert any("CJK" in name or "Han" in name for name in fonts(out)), fonts(out)
    assert squash("株式会社ロウダッシュ") in page_texts(out)[0]
    assert squash("東京都渋谷区渋谷2-21-1") in page_texts(out)[0]


def test_a_failed_render_leaves_nothing_behind(qapp, invoices, tmp_path):
    out = tmp_path / "kept.pdf"
    out.write_bytes(b"old")
    with pytest.raises(ValueError):
        render_invoice_pdf(invoices[0], out, "A3")
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".part"] == []


# A fresh process that sees only the fonts of a bare Debian machine (DejaVu, which fontconfig
# itself depends on; nothing with CJK glyphs), renders the Japanese buyer's invoice and prints
# the CJK families Qt knew before the render.
FRESH_RENDER = """
import json, sys
from PySide6.QtGui import QFontDatabase
from lowdash_desktop.export.invoice_pdf import ensure_gui_app, render_invoice_pdf
ensure_gui_app()
print(json.dumps([f for f in QFontDatabase.families() if "CJK" in f or "Han" in f]))
render_invoice_pdf(json.load(open(sys.argv[1], encoding="utf-8")), sys.argv[2])
"""


def bare_fontconfig(folder, font_dirs=("/usr/share/fonts/truetype/dejavu",)) -> dict[str, str]:
    """Environment for a process that sees no installed CJK font (with no `font_dirs`: none)."""
    dirs = "".join(f"<dir>{d}</dir>" for d in font_dirs if os.path.isdir(d))
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig>{dirs}<cachedir>{folder / 'fc-cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    env = dict(os.environ, FONTCONFIG_FILE=str(conf), QT_QPA_PLATFORM="offscreen")
    env.pop("FONTCONFIG_PATH", None)
    return env


def test_cjk_names_are_drawn_on_a_machine_without_a_cjk_font(invoices, tmp_path):
    body = next(i for i in invoices if "株式会社" in i["buyer"]["name"])
    source = tmp_path / "invoice.json"
    source.write_text(json.dumps(body), encoding="utf-8")
    out = tmp_path / "bare.pdf"
    done = subprocess.run(
        [sys.executable, "-c", FRESH_RENDER, str(source), str(out)],
        env=bare_fontconfig(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []  # no CJK font installed, as said
    assert any("NotoSansCJKjp" in name for name in fonts(out)), fonts(out)  # the app's own
    first = page_texts(out)[0]
    # drawn once each (a synthetic bold would draw, and extract, the name twice)
    assert first.count(squash("株式会社ロウダッシュ")) == 1, first[:200]
    assert squash("東京都渋谷区渋谷2-21-1") in first
    assert squash(body["seller"]["vat_id"]) in first


def test_characters_no_font_can_draw_are_named_and_nothing_is_written(qapp, invoices, tmp_path):
    body = dict(invoices[0], buyer=dict(invoices[0]["buyer"], name="ACME \U0010fffd\u0378 KK"))
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(MissingGlyphsError) as refused:
        render_invoice_pdf(body, folder / "boxes.pdf")
    assert "U+10FFFD" in str(refused.value) and "U+0378" in str(refused.value)
    assert refused.value.characters == ["\U0010fffd", "\u0378"]
    assert list(folder.iterdir()) == []


# A container or minimal install may have no font at all. The invoice then uses only the
# fonts the app ships, and every figure must still be text a reader can copy and search (with
# only the CJK face, Qt's PDF writer drew the digits but they extracted as control characters).
NO_FONT_RENDER = """
import json, sys
from PySide6.QtGui import QFontDatabase
from lowdash_desktop.export.invoice_pdf import ensure_gui_app, render_invoice_pdf
ensure_gui_app()
print(json.dumps(QFontDatabase.families()))
for n, body in enumerate(json.load(open(sys.argv[1], encoding="utf-8"))):
    render_invoice_pdf(body, f"{sys.argv[2]}/{n}.pdf")
"""


def test_every_figure_is_text_on_a_machine_with_no_font_at_all(invoices, tmp_path):
    source = tmp_path / "invoices.json"
    source.write_text(json.dumps(invoices), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", NO_FONT_RENDER, str(source), str(out)],
        env=bare_fontconfig(tmp_path, font_dirs=()),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    families = json.loads(done.stdout.splitlines()[0])
    assert not any("Sans Pro" in f or "CJK" in f for f in families), families  # none installed
    for n, body in enumerate(invoices):
        pdf = out / f"{n}.pdf"
        whole = "".join(page_texts(pdf))
        cur = body["currency"]
        for expected in (
            body["number"],
            body["seller"]["vat_id"],
            body["buyer"]["name"],
            "Issued" + body["issued_at"][:10],
            "Total" + format_money(Decimal(body["total"]), cur),
            format_amount(Decimal(body["lines"][-1]["amount"]), minor_digits(cur)),
        ):
            assert squash(expected) in whole, (expected, whole[:300])
        assert any("SourceSansPro" in name for name in fonts(pdf)), fonts(pdf)


def test_amounts_show_at_least_the_currencys_minor_unit_and_every_digit_given():
    # the platform writes a zero line as "0": beside "0.06" it read as a missing figure
    assert format_money(Decimal("0"), "EUR") == "0.00 EUR"
    assert format_money(Decimal("1234.5"), "EUR") == "1,234.50 EUR"
    assert format_money(Decimal("0.000083518"), "EUR") == "0.000083518 EUR"  # never cut
    assert format_money(Decimal("1500"), "JPY") == "1,500 JPY"
    assert format_money(Decimal("2.5"), "BHD") == "2.500 BHD"
    assert format_amount(Decimal("3")) == "3"  # quantities keep what they are
