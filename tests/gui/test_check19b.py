"""What the independent check of issue 19 found in a real X session (offscreen where it can be
proven offscreen): keys by name, a spike click that replaces the search, and the rest."""

from __future__ import annotations

from .test_insight_views import click_row, open_window, seeded_cache, wait_insight


def test_a_spike_click_names_the_key_and_replaces_the_search(qtbot, tmp_path):
    path = tmp_path / "cache.sqlite3"
    seeded_cache(path)
    window = open_window(qtbot, path)
    wait_insight(qtbot, window)
    window.search.setText("gen_no_such_id")  # an earlier search still in place
    qtbot.waitUntil(
        lambda: window.table_model.history_filter.text == "gen_no_such_id", timeout=5_000
    )
    dialog = window.insight_menu.open("alerts")
    key_row = next(
        r for r in range(dialog.alerts.rowCount()) if dialog.alerts.item(r, 0).text() == "Key"
    )
    click_row(qtbot, dialog.alerts, key_row)
    # the spike's generations, not "No generations match"
    assert window.search.text() == ""
    qtbot.waitUntil(lambda: window.table_model.rowCount() == 2, timeout=10_000)
    assert window.table_model.history_filter.text is None
    status = window.sync_label.text()
    assert "“batch”" in status and "search" in status, status
    # the eco panel names the key, never its id
    eco = window.eco_dock
    assert "batch" in eco.windowTitle() and "key_b" not in eco.windowTitle(), eco.windowTitle()
    qtbot.waitUntil(
        lambda: eco.report is not None and eco.report.scope.get("key_id") == "key_b", timeout=20_000
    )
    assert "Actual (batch)" in eco.actual_label.text(), eco.actual_label.text()
    assert "key_b" not in eco.actual_label.text()
    assert "key_b" in eco.actual_label.toolTip()  # the id and prefix on hover
    dialog.close()
    window.close()
