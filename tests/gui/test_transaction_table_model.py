"""The lazy history model: counts, windows, sort and filter, all done in SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from lowdash_desktop.api.models import Generation
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.store.rows import generation_row
from lowdash_desktop.ui.models.transaction_table_model import (
    COLUMNS,
    ID_ROLE,
    PAGE_SIZE,
    TransactionTableModel,
)

T0 = datetime(2026, 10, 1, tzinfo=UTC)
MODELS = ["mistral/small", "meta/llama-70b", "openai/gpt-mini"]


def row(i: int) -> tuple:
    return generation_row(Generation.model_validate({
        "id": f"gen_{i:06d}", "revision": 1,
        "created_at": (T0 + timedelta(seconds=37 * i)).isoformat(),
        "model": "lowrouter/auto", "resolved_model": MODELS[i % 3], "provider": "ovh",
        "region": "fr-par", "key_id": "key_a",
        "tokens": {"prompt": i, "completion": 2 * i, "total": 3 * i},
        "cost": {"amount": f"{(i * 7919) % 10007 / 1e6:.6f}", "currency": "EUR"},
    }))


@pytest.fixture
def cache(tmp_path):
    cache, _ = Cache.open(tmp_path / "c.sqlite3")
    cache.apply_page([row(i) for i in range(5000)], [], "c")
    yield cache
    cache.close()


def col(key: str) -> int:
    return next(i for i, c in enumerate(COLUMNS) if c[0] == key)


def test_counts_all_rows_but_reads_only_windows(qtbot, cache):
    model = TransactionTableModel(cache.conn)
    assert model.rowCount() == 5000
    newest = model.index(0, col("created_at")).data(ID_ROLE)
    assert newest == "gen_004999"
    assert model.index(4999, 0).data(ID_ROLE) == "gen_000000"
    assert model.loaded_pages <= 2, "only the touched windows are loaded"
    assert PAGE_SIZE < 5000


def test_sort_by_cost_matches_python_sort(qtbot, cache):
    model = TransactionTableModel(cache.conn)
    model.sort(col("cost"), Qt.SortOrder.DescendingOrder)
    shown = [model.index(r, col("cost")).data(ID_ROLE) for r in range(20)]
    from decimal import Decimal

    rows = [row(i) for i in range(5000)]
    expected = sorted(rows, key=lambda r: (Decimal(r[17]), r[0]), reverse=True)
    # ties on cost break by insertion order (rowid), which here follows the index i
    assert [Decimal(cache.generation(g)["cost"]) for g in shown] == [
        Decimal(r[17]) for r in expected[:20]
    ]


def test_filter_by_model_and_id_text(qtbot, cache):
    model = TransactionTableModel(cache.conn)
    with qtbot.waitSignal(model.countChanged) as blocker:
        model.set_filter(model.history_filter.with_(model="meta/llama-70b"))
    assert blocker.args == [sum(1 for i in range(5000) if i % 3 == 1)]
    assert {model.index(r, col("model")).data() for r in range(50)} == {"meta/llama-70b"}
    model.set_filter(model.history_filter.with_(model=None, text="gen_00012"))
    assert model.rowCount() == 10


def test_display_formats(qtbot, cache):
    model = TransactionTableModel(cache.conn)
    model.sort(col("created_at"), Qt.SortOrder.AscendingOrder)
    assert model.index(1, col("total_tokens")).data() == "3"
    assert model.index(1, col("cost")).data().endswith(" EUR")
    header = model.headerData(col("created_at"), Qt.Orientation.Horizontal,
                              Qt.ItemDataRole.DisplayRole)
    assert header.startswith("Time (")


def test_cells_show_small_carbon_and_the_locales_separators(qtbot, tmp_path):
    """A carbon figure of 0.000412 g never reads '0.000'; counts and money use the locale."""
    from PySide6.QtCore import QLocale

    raw = {"id": "gen_eco", "created_at": T0.isoformat(), "model": "m", "resolved_model": "m",
           "tokens": {"prompt": 7621, "completion": 121, "total": 7742},
           "cost": {"amount": "1234.000428", "currency": "EUR"},
           "eco": {"energy_wh": {"value": 0.001}, "carbon_g": {"value": 0.000412}}}
    small = dict(raw, id="gen_tiny", eco={"energy_wh": {"value": 0.0},
                                          "carbon_g": {"value": 1e-300}})
    store, _ = Cache.open(tmp_path / "l.sqlite3")
    store.apply_page([generation_row(Generation.model_validate(r)) for r in (raw, small)],
                     [], "c")
    previous = QLocale()
    try:
        model = TransactionTableModel(store.conn)
        model.sort(col("created_at"))
        by_id = {model.index(r, 0).data(ID_ROLE): r for r in range(2)}
        cell = lambda gid, key: model.index(by_id[gid], col(key)).data()  # noqa: E731
        assert cell("gen_eco", "carbon_g") == "0.000412"
        assert len(cell("gen_tiny", "carbon_g")) <= 12  # bounded, whatever the figure
        QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
        model = TransactionTableModel(store.conn)
        model.sort(col("created_at"))
        by_id = {model.index(r, 0).data(ID_ROLE): r for r in range(2)}
        assert cell("gen_eco", "prompt_tokens") == "7.621"
        assert cell("gen_eco", "cost") == "1.234,000428 EUR"
        assert cell("gen_eco", "carbon_g") == "0,000412"
    finally:
        QLocale.setDefault(previous)
        store.close()


def test_keys_show_by_name_with_id_and_prefix_on_hover_and_still_sort(qtbot, tmp_path):
    from lowdash_desktop.ui.key_labels import KeyLabels

    cache, _ = Cache.open(tmp_path / "k.sqlite3")
    rows = []
    for i, key in enumerate(["key_zz", "key_aa", "key_gone"] * 4):
        rows.append(generation_row(Generation.model_validate({
            "id": f"gen_{i:03d}", "revision": 1,
            "created_at": (T0 + timedelta(seconds=i)).isoformat(), "model": "m",
            "key_id": key, "tokens": {"prompt": 1, "completion": 1, "total": 2},
            "cost": {"amount": "0.1", "currency": "EUR"},
        })))
    cache.apply_page(rows, [], "c")
    cache.save_snapshot("keys", [
        {"id": "key_zz", "name": "Production", "prefix": "lr_live_8f3a"},
        {"id": "key_aa", "name": "Staging", "prefix": "lr_live_01bc"},
    ])
    model = TransactionTableModel(cache.conn)
    key = col("key_id")
    assert model.index(0, key).data() == "key_gone", "ids until the key list is given"
    with qtbot.waitSignal(model.dataChanged):
        model.set_key_labels(KeyLabels.from_snapshot(cache.snapshot("keys")))
    shown = {model.index(r, key).data(ID_ROLE): model.index(r, key).data() for r in range(12)}
    assert shown["gen_009"] == "Production" and shown["gen_010"] == "Staging"
    by_id = {model.index(r, key).data(Qt.ItemDataRole.UserRole + 2): model.index(r, key).data()
             for r in range(12)}
    assert by_id == {"key_zz": "Production", "key_aa": "Staging", "key_gone": "key_gone"}
    tips = {model.index(r, key).data(): model.index(r, key).data(Qt.ItemDataRole.ToolTipRole)
            for r in range(12)}
    assert "key_zz" in tips["Production"] and "lr_live_8f3a" in tips["Production"]
    assert "revoked" in tips["key_gone"]
    model.sort(key, Qt.SortOrder.AscendingOrder)  # grouped by key, in SQL, as before
    order = [model.index(r, key).data() for r in range(12)]
    assert order == ["Staging"] * 4 + ["key_gone"] * 4 + ["Production"] * 4
    cache.close()
