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


def test_a_file_that_is_no_ca_bundle_is_refused_where_it_is_typed(
    qtbot, data_dir, demo_platform, tmp_path
):
    from lowdash_desktop import autostart
    from lowdash_desktop.ui import network
    from lowdash_desktop.ui.dialogs.preferences_dialog import PreferencesDialog

    from .test_tray_preferences import make_window

    window = make_window(qtbot, data_dir, demo_platform)
    dialog = PreferencesDialog(window, backend=autostart.XdgAutostart(tmp_path))
    qtbot.addWidget(dialog)
    dialog.show()
    not_pem = tmp_path / "passwd"
    not_pem.write_text("root:x:0:0:root:/root:/bin/bash\n")
    dialog.ca_bundle.setText(str(not_pem))
    # said under the field as it is typed, and OK refuses it (the CLI exits 2 on the same file)
    assert "holds no PEM certificate" in dialog.ca_error.text()
    assert dialog.ca_error.isVisible() and not dialog.ok_button.isEnabled()
    dialog.accept()
    assert dialog.isVisible() and network.stored_ca_bundle() is None
    dialog.ca_bundle.setText("")  # the built-in trust store again
    assert not dialog.ca_error.isVisible() and dialog.ok_button.isEnabled()
    dialog.reject()
    window.close()


def test_a_bad_ca_bundle_during_sync_is_a_tls_error_pointing_to_preferences(
    qtbot, data_dir, demo_platform, tmp_path, caplog
):
    import dataclasses

    from .test_main_window import make_window

    not_pem = tmp_path / "passwd"
    not_pem.write_text("root:x:0:0:root:/root:/bin/bash\n")
    window = make_window(qtbot, data_dir, demo_platform)
    session = window.session
    # stored by an older version, or edited by hand: the sync meets it
    session.connection = dataclasses.replace(session.connection, ca_bundle=str(not_pem))
    with qtbot.waitSignal(window.sync.failed, timeout=30_000) as blocker:
        window.sync_now()
    message, result = blocker.args
    assert result.error_kind == "tls"
    assert "holds no PEM certificate" in message and "unexpectedly" not in message
    assert window.banner.isVisible() or not window.banner.isHidden()
    assert window.banner.button.text() == "Open Preferences…"
    assert "crashed" not in caplog.text and "Traceback" not in caplog.text
    window.close()
