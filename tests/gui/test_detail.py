"""The detail window: full record, routing trace fetched online, from the cache offline."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from lowdash_desktop.store.cache import Cache
from lowdash_desktop.ui.dialogs import transaction_detail as td
from tests.gui.test_dashboard import make_window, synced_window

SHOTS = Path("/tmp/shots")


def open_row(qtbot, window, row: int) -> td.TransactionDetail:
    """Select a row and press Enter, as a user would."""
    gen_id = window.table_model.generation_id(row)
    window.table.setFocus()
    window.table.setCurrentIndex(window.table_model.index(row, 0))
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    return window.details[gen_id]


def test_trace_online_matches_platform(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    gen_id = window.table_model.generation_id(0)
    with qtbot.waitSignal(window.table.activated):
        dialog = open_row(qtbot, window, 0)
    if dialog.trace_state == td.FETCHING:
        with qtbot.waitSignal(dialog.traceShown, timeout=30_000) as blocker:
            pass
        assert blocker.args == [td.FETCHED]
    truth = demo_platform.generation(gen_id)
    routing = truth["routing"]
    assert dialog.routing["picked"] == routing["picked"]
    assert dialog.routing["reason"] == routing["reason"]
    assert dialog.considered.rowCount() == len(routing["considered"])
    for row, c in enumerate(routing["considered"]):
        assert dialog.considered.item(row, 0).text().startswith(c["provider"])
        assert dialog.considered.item(row, 3).text() == c["price_per_mtok"]
        rejected = (c["rejected_because"] or "").replace("_", " ")
        assert dialog.considered.item(row, 6).text() == rejected
    assert [dialog.attempts.item(r, 3).text() for r in range(dialog.attempts.rowCount())] == [
        str(a["status"]) for a in routing["attempts"]
    ]
    assert routing["picked"] in dialog.trace_summary.text()
    # the record itself, and nothing of prompt or response
    texts = " ".join(w.text() for w in dialog.findChildren(type(dialog.id_label)))
    assert truth["resolved_model"] in texts and truth["model"] in texts
    assert f"{truth['tokens']['total']:,}" in texts and truth["cost"]["amount"] in texts
    if truth.get("eco"):
        assert truth["eco"]["methodology_version"] in texts
        from lowdash_desktop.ui import formatting

        energy = truth["eco"]["energy_wh"]
        shown = formatting.energy_range(energy["value"], energy["low"], energy["high"])
        assert shown in texts, "the energy with its range, three significant digits"
        if energy["low"] != energy["high"]:  # a real range never reads as a zero-width one
            low, _, high = shown.partition("(")[2].rstrip(")").partition(" – ")
            assert low.split()[0] != high.split()[0]
        assert truth["eco"]["confidence"] in texts
    else:
        assert "No eco estimate" in texts
    assert "prompt text" not in texts.lower() and "response" not in texts.lower()
    dialog.copy_id()
    assert QApplication.clipboard().text() == gen_id
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "detail.png"))
    cache = Cache.open_reader(window.session.cache_path)
    assert cache.generation(gen_id)["routing"]["picked"] == routing["picked"]
    cache.close()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    window.close()


def test_two_windows_side_by_side(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    first = window.open_detail(window.table_model.generation_id(0))
    second = window.open_detail(window.table_model.generation_id(1))
    assert first is not second and first.isVisible() and second.isVisible()
    assert not first.isModal() and not second.isModal()
    assert window.open_detail(first.gen_id) is first, "the same row raises its window"
    for dialog in (first, second):
        if dialog.trace_state == td.FETCHING:
            with qtbot.waitSignal(dialog.traceShown, timeout=30_000):
                pass
    first.close()
    second.close()
    window.close()


def test_trace_offline_from_cache_or_clear_note(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    fetched_id = window.table_model.generation_id(0)
    never_id = window.table_model.generation_id(3)
    dialog = window.open_detail(fetched_id)
    with qtbot.waitSignal(dialog.traceShown, timeout=30_000) as blocker:
        pass
    assert blocker.args == [td.FETCHED]
    routing = demo_platform.generation(fetched_id)["routing"]
    dialog.close()
    window.close()
    demo_platform.stop()
    window = make_window(qtbot, data_dir, demo_platform)
    cached = window.open_detail(fetched_id)
    assert cached.trace_state == td.CACHED
    assert "From the cache" in cached.trace_note.text()
    assert cached.considered.rowCount() == len(routing["considered"])
    never = window.open_detail(never_id)
    if never.trace_state == td.FETCHING:
        with qtbot.waitSignal(never.traceShown, timeout=60_000):
            pass
    assert never.trace_state == td.NEVER_FETCHED
    assert "never fetched" in never.trace_note.text()
    assert never.considered.rowCount() == 0 and never.retry_button.isVisibleTo(never)
    cached.close()
    never.close()
    window.close()


def test_keys_by_name_in_the_table_and_the_detail(qtbot, data_dir, demo_platform):
    """Issue 19 item 8: the names the Keys dialog shows, not 'key_mPH3TjZ3S…'."""
    from lowdash_desktop.ui.models.transaction_table_model import KEY_COLUMN

    window = synced_window(qtbot, data_dir, demo_platform)
    keys = {k["id"]: k for k in window.cache.snapshot("keys")[0]}
    model = window.table_model
    shown = [(model.index(r, KEY_COLUMN).data(Qt.ItemDataRole.UserRole + 2),
              model.index(r, KEY_COLUMN).data()) for r in range(50)]
    named = [(kid, text) for kid, text in shown if kid in keys]
    assert named, "the demo's generations are made with listed keys"
    for kid, text in named:
        assert text == keys[kid]["name"] and not text.startswith("key_")
    row = next(r for r in range(50) if shown[r][0] in keys)
    tip = model.index(row, KEY_COLUMN).data(Qt.ItemDataRole.ToolTipRole)
    assert shown[row][0] in tip and keys[shown[row][0]]["prefix"] in tip
    dialog = window.open_detail(model.generation_id(row))
    key = keys[shown[row][0]]
    assert dialog.key_label.text() == f"{key['name']} ({key['prefix']}…)"
    assert key["id"] in dialog.key_label.toolTip()
    dialog.close()
    window.close()
