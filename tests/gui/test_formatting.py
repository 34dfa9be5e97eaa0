"""One formatter per kind of quantity, in the user's locale (QLocale), on screen only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import QLocale

from lowdash_desktop.sync.engine import SyncResult
from lowdash_desktop.ui import formatting


@pytest.fixture
def german(qapp):
    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    yield
    QLocale.setDefault(before)


def test_figures_in_the_default_locale(qapp) -> None:
    assert formatting.money(Decimal("487.321258152"), "EUR") == "487.32 EUR"
    assert formatting.money("0.000123", "EUR") == "0.000123 EUR"  # never '0.00' for a cost
    assert formatting.money("0.000000512", "EUR", full=True) == "0.000000512 EUR"
    assert formatting.money("1500", "JPY") == "1,500 JPY"
    assert formatting.energy(0.007123) == "0.00712 Wh"
    assert formatting.energy_range(0.00712, 0.00712, 0.00712) == "0.00712 Wh"
    assert formatting.carbon(4160.0) == "4.16 kg CO₂e"
    assert formatting.count(3139) == "3,139"


def test_figures_in_a_german_locale(german) -> None:
    assert formatting.money(Decimal("1234.5"), "EUR") == "1.234,50 EUR"
    assert formatting.number(1234.5, 1) == "1.234,5"
    assert formatting.energy(0.007123) == "0,00712 Wh"
    assert formatting.energy_range(448.0, 332.0, 564.0) == "448 Wh (332 – 564 Wh)"
    assert formatting.carbon(82.6) == "82,6 g CO₂e"
    assert formatting.count(3_000_000) == "3.000.000"
    assert formatting.local_time(1_779_969_600_000).startswith("28.05.26")  # noon UTC


def test_the_sync_summary_says_what_each_count_counts(qapp) -> None:
    result = SyncResult(pages=7, received=3139, changed=3139)
    assert formatting.sync_summary(result, 3000) == (
        "3,139 feed entries in 7 pages: 3,000 new generations, 139 updates"
    )
    quiet = SyncResult(pages=1, received=0, changed=0)
    assert formatting.sync_summary(quiet, 0) == "0 feed entries in 1 page, 0 new or updated"


def test_chart_axes_and_compact_figures_in_the_locale(german) -> None:
    """The spend chart's axis numbers and the top-models figures follow the locale, as the
    text beside them does ('0,008', not '0.008'; '140k', not '140,00k')."""
    from lowdash_desktop.ui.widgets.chart_style import _locale_ticks

    assert _locale_ticks([0.002, 0.004, 0.008], 1.0, 0.002) == ["0,002", "0,004", "0,008"]
    assert _locale_ticks([0, 10, 20], 1.0, 10) == ["0", "10", "20"]
    assert formatting.compact(140_000) == "140k"
    assert formatting.compact(45_600) == "45,6k"
    assert formatting.compact(1_234_567) == "1,23M"
