"""The Keys window against the demo platform over HTTP: every operation and its error paths."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from lowdash_desktop.api.connection import Connection
from lowdash_desktop.ui.dialogs.bulk_edit_dialog import BulkEditDialog
from lowdash_desktop.ui.dialogs.key_secret_dialog import KeySecretDialog
from lowdash_desktop.ui.dialogs.keys_dialog import KeyFormDialog, KeysDialog


def open_keys(qtbot, platform, key: str | None = None) -> KeysDialog:
    dialog = KeysDialog(Connection(platform.base_url, key or platform.api_key), currency="EUR")
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.runner.finished, timeout=20_000):
        assert dialog.refresh()
    return dialog


def key_named(dialog: KeysDialog, name: str):
    return next(k for k in dialog.model.keys if k.name == name)


def platform_key(platform, name: str) -> dict | None:
    return next((k for k in platform.keys.values() if k["name"] == name), None)


def submit(qtbot, form) -> None:
    """Click OK and wait until the write came back (success or failure)."""
    with qtbot.waitSignal(form.runner.finished, timeout=20_000):
        form.ok_button.click()
        assert form.status.in_flight, "progress shows while the write is in flight"


def test_list_shows_every_key_with_its_figures(qtbot, demo_platform):
    dialog = open_keys(qtbot, demo_platform)
    assert dialog.model.rowCount() == len(demo_platform.keys)
    assert dialog.reason is None and dialog.new_button.isEnabled()
    production = key_named(dialog, "Production")
    assert dialog.model.current_prefix == production.prefix
    row = dialog.model.row_of(production.id)
    texts = [dialog.model.index(row, c).data() for c in range(dialog.model.columnCount())]
    assert texts[0] == "Production (this app)" and texts[3] == "Active"
    assert "manage" in texts[2] and texts[4] == "No limit"
    staging = key_named(dialog, "Staging")
    row = dialog.model.row_of(staging.id)
    assert dialog.model.index(row, 4).data() == "25.00 EUR"
    assert dialog.model.index(row, 5).data() == "monthly"
    assert dialog.model.index(row, 6).data().endswith("EUR")
    dialog.close()


def test_create_shows_secret_once_and_never_logs_it(qtbot, demo_platform, caplog, data_dir):
    caplog.set_level(logging.DEBUG)
    dialog = open_keys(qtbot, demo_platform)
    form = dialog.new_key()
    assert isinstance(form, KeyFormDialog)
    form.name.setText("Nightly export")
    form.scope_boxes["read"].setChecked(True)
    form.limit.setText("12.50")
    form.reset.setCurrentIndex(1)  # daily
    form.expires.setChecked(True)
    submit(qtbot, form)
    secret_dialog = dialog.child
    assert isinstance(secret_dialog, KeySecretDialog) and secret_dialog.isVisible()
    secret = secret_dialog.secret.text()
    assert secret.startswith("lr-live-") and len(secret) == 48
    assert "you will not see this again" in secret_dialog.warning.text()
    secret_dialog.copy_button.click()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == secret
    stored = platform_key(demo_platform, "Nightly export")
    assert stored["scopes"] == ["inference", "read"]
    assert stored["credit_limit"] == "12.50" and stored["limit_reset"] == "daily"
    assert stored["expires_at"] is not None
    assert key_named(dialog, "Nightly export").prefix == secret[:12]
    secret_dialog.close()
    assert secret_dialog.secret.text() == "", "the secret is dropped when the dialog closes"
    assert secret not in caplog.text
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), f"secret written to {path}"
    QGuiApplication.clipboard().clear()
    dialog.close()


def test_create_conflict_and_validation_keep_the_form(qtbot, demo_platform):
    dialog = open_keys(qtbot, demo_platform)
    form = dialog.new_key()
    form.name.setText("Staging")
    submit(qtbot, form)
    assert form.isVisible(), "the form stays open and filled"
    assert form.name.text() == "Staging"
    assert "HTTP 409" in form.status.text
    assert "a key named 'Staging' already exists" in form.status.text
    # local validation explains before sending
    form.limit.setText("-3")
    form.ok_button.click()
    assert not form.runner.busy
    assert form.status.text == "The credit limit cannot be negative."
    # the platform's 422 is shown verbatim (a name longer than the platform allows)
    form.limit.clear()
    form.name.setMaxLength(200)
    form.name.setText("x" * 150)
    submit(qtbot, form)
    assert "HTTP 422" in form.status.text and "at most 100 characters" in form.status.text
    form.close()
    dialog.close()


def test_edit_and_enable_disable(qtbot, demo_platform):
    dialog = open_keys(qtbot, demo_platform)
    batch = key_named(dialog, "Staging")
    dialog.select_keys([batch.id])
    form = dialog.edit_selected()
    assert form is not None and not form.expires.isEnabled()
    form.name.setText("Staging (EU)")
    form.limit.setText("40")
    assert form.changes() == {"name": "Staging (EU)", "credit_limit": 40}
    submit(qtbot, form)
    assert not form.isVisible()
    assert platform_key(demo_platform, "Staging (EU)")["credit_limit"] == "40.00"
    dialog.select_keys([batch.id])
    assert dialog.toggle_button.text() == "Disable"
    with qtbot.waitSignal(dialog.runner.finished, timeout=20_000):
        assert dialog.toggle_selected()
    assert platform_key(demo_platform, "Staging (EU)")["disabled"] is True
    assert dialog.status_of(batch.id) == "disabled"
    assert dialog.toggle_button.text() == "Enable"
    with qtbot.waitSignal(dialog.runner.finished, timeout=20_000):
        assert dialog.toggle_selected()
    assert platform_key(demo_platform, "Staging (EU)")["disabled"] is False
    dialog.close()


def test_rotate_confirms_and_shows_the_new_secret(qtbot, demo_platform):
    dialog = open_keys(qtbot, demo_platform)
    staging = key_named(dialog, "Staging")
    dialog.select_keys([staging.id])
    confirm = dialog.rotate_selected()
    assert "stops working" in confirm.text_label.text()
    submit(qtbot, confirm)
    secret_dialog = dialog.child
    assert isinstance(secret_dialog, KeySecretDialog)
    new_secret = secret_dialog.secret.text()
    assert key_named(dialog, "Staging").prefix == new_secret[:12] != staging.prefix
    assert demo_platform.secrets[new_secret] == staging.id
    secret_dialog.close()
    dialog.close()


def test_revoke_needs_the_name_typed(qtbot, demo_platform):
    dialog = open_keys(qtbot, demo_platform)
    staging = key_named(dialog, "Staging")
    dialog.select_keys([staging.id])
    confirm = dialog.revoke_selected()
    assert not confirm.ok_button.isEnabled()
    confirm.typed.setText("staging")
    assert not confirm.ok_button.isEnabled(), "the exact name, case included"
    confirm.typed.setText("Staging")
    assert confirm.ok_button.isEnabled()
    submit(qtbot, confirm)
    assert not confirm.isVisible()
    assert platform_key(demo_platform, "Staging") is None
    assert dialog.model.row_of(staging.id) == -1
    dialog.close()


def test_read_only_key_sees_manage_disabled_with_reason(qtbot, demo_platform):
    dialog = open_keys(qtbot, demo_platform, key=demo_platform.read_only_key)
    assert dialog.model.rowCount() == len(demo_platform.keys)
    assert dialog.reason and "lacks the 'manage' scope" in dialog.reason
    assert dialog.note.isVisible()
    dialog.select_keys([key_named(dialog, "Staging").id])
    for button in dialog.manage_buttons:
        assert not button.isEnabled()
        assert "manage" in button.toolTip()
    dialog.close()


def test_insufficient_scope_from_the_platform_is_shown_verbatim(qtbot, demo_platform):
    # the app could not tell the key's scopes: the platform's 403 is what the user sees
    form = KeyFormDialog(Connection(demo_platform.base_url, demo_platform.read_only_key))
    qtbot.addWidget(form)
    form.show()
    form.name.setText("sneaky")
    submit(qtbot, form)
    assert "HTTP 403" in form.status.text
    assert "this API key lacks the 'manage' scope" in form.status.text
    assert form.name.text() == "sneaky"
    form.close()


@pytest.mark.parametrize("action", ["disable", "set_limit", "set_scopes", "revoke"])
def test_bulk_edit_summary_then_per_key_results(qtbot, demo_platform, action):
    dialog = open_keys(qtbot, demo_platform)
    names = ["Staging", "CI pipeline", "Dashboard (read-only)"]
    dialog.select_keys([key_named(dialog, n).id for n in names])
    bulk = dialog.bulk_edit()
    assert isinstance(bulk, BulkEditDialog) and len(bulk.keys) == 3
    bulk.set_action(action)
    if action == "set_limit":
        bulk.limit.setText("7.5")
        bulk.reset.setCurrentIndex(2)  # weekly
        assert "25.00 EUR monthly → 7.50 EUR weekly" in bulk.summary.toPlainText()
    elif action == "set_scopes":
        bulk.scope_boxes["inference"].setChecked(True)  # add
        bulk.scope_boxes["read"].setChecked(True)  # add; manage stays as each key has it
        assert "inference, read → inference, read" not in bulk.summary.toPlainText()
        assert "scopes unchanged — skipped" in bulk.summary.toPlainText()  # Staging
    elif action == "revoke":
        bulk.ok_button.click()
        assert "to confirm revoking" in bulk.status.text and not bulk.runner.busy
        bulk.confirm.setText("revoke 3 keys")
    else:
        assert "enabled → disabled" in bulk.summary.toPlainText()
    with qtbot.waitSignal(bulk.applied, timeout=20_000) as blocker:
        bulk.ok_button.click()
    results = blocker.args[0]
    assert len(results) == 3 and bulk.result_table.rowCount() == 3
    assert bulk.isVisible(), "results stay on screen"
    for name in names:
        stored = platform_key(demo_platform, name)
        if action == "disable":
            assert stored["disabled"] is True
        elif action == "set_limit":
            assert (stored["credit_limit"], stored["limit_reset"]) == ("7.50", "weekly")
        elif action == "set_scopes":
            assert stored["scopes"] == ["inference", "read"]
        else:
            assert stored is None
    bulk.close()
    dialog.close()


def test_bulk_edit_reports_each_failure(qtbot, demo_platform):
    dialog = open_keys(qtbot, demo_platform)
    staging, ci = key_named(dialog, "Staging"), key_named(dialog, "CI pipeline")
    dialog.select_keys([staging.id, ci.id])
    bulk = dialog.bulk_edit()
    bulk.set_action("disable")
    del demo_platform.keys[ci.id]  # revoked elsewhere meanwhile
    with qtbot.waitSignal(bulk.applied, timeout=20_000) as blocker:
        bulk.ok_button.click()
    results = dict((key_id, message) for key_id, _o, message in blocker.args[0])
    assert results[staging.id] == "Updated"
    assert "HTTP 404" in results[ci.id]
    assert "1 of 2 keys failed" in bulk.status.text
    bulk.close()
    dialog.close()


# -- the key Lowdash itself signs in with (issue 19, item 1) ----------------------------------


def test_disabling_the_apps_own_key_asks_first_in_words(qtbot, demo_platform):
    from PySide6.QtWidgets import QDialogButtonBox

    from lowdash_desktop.ui.dialogs.operation_dialog import ConfirmDialog

    dialog = open_keys(qtbot, demo_platform)
    production = key_named(dialog, "Production")
    dialog.select_keys([production.id])
    assert not dialog.toggle_selected(), "one click does not disable the app's own key"
    assert platform_key(demo_platform, "Production")["disabled"] is False
    confirm = dialog.child
    assert isinstance(confirm, ConfirmDialog) and confirm.isVisible()
    text = confirm.text_label.text()
    assert "Lowdash itself signs in with “Production”" in text
    assert "refuses every request Lowdash makes" in text
    cancel = confirm.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    assert cancel.isDefault() and not confirm.ok_button.isDefault(), "Enter cancels"
    cancel.click()
    assert platform_key(demo_platform, "Production")["disabled"] is False
    # asked again, and confirmed this time
    dialog.select_keys([production.id])
    dialog.toggle_selected()
    confirm = dialog.child
    assert confirm.ok_button.text() == "Disable and lose access"
    submit(qtbot, confirm)
    assert platform_key(demo_platform, "Production")["disabled"] is True
    assert dialog.status_of(production.id) == "disabled"
    dialog.close()


def test_editing_the_apps_own_key_warns_before_cutting_its_access(qtbot, demo_platform):
    dialog = open_keys(qtbot, demo_platform)
    production = key_named(dialog, "Production")
    dialog.select_keys([production.id])
    form = dialog.edit_selected()
    assert not form.guard.isVisible()
    form.limit.setText("0")
    assert form.guard.isVisible(), "warned as the value is typed"
    assert "A credit limit of 0" in form.guard.label.text()
    form.ok_button.click()
    assert not form.runner.busy, "nothing sent without the tick"
    assert "cuts Lowdash's own access" in form.status.text
    form.limit.setText("50")
    assert not form.guard.isVisible()
    form.scope_boxes["manage"].setChecked(False)
    assert "Without the 'manage' scope" in form.guard.label.text()
    form.scope_boxes["read"].setChecked(False)
    assert "Without the 'read' scope" in form.guard.label.text()
    form.ok_button.click()
    assert not form.runner.busy
    assert platform_key(demo_platform, "Production")["scopes"] == ["inference", "read", "manage"]
    form.guard.box.setChecked(True)
    submit(qtbot, form)
    assert not form.isVisible()
    assert platform_key(demo_platform, "Production")["scopes"] == ["inference"]
    dialog.close()


def test_the_same_edit_on_another_key_needs_no_tick(qtbot, demo_platform):
    dialog = open_keys(qtbot, demo_platform)
    staging = key_named(dialog, "Staging")
    dialog.select_keys([staging.id])
    form = dialog.edit_selected()
    form.limit.setText("0")
    form.scope_boxes["read"].setChecked(False)
    assert not form.guard.isVisible()
    submit(qtbot, form)
    assert platform_key(demo_platform, "Staging")["credit_limit"] == "0.00"
    dialog.close()


@pytest.mark.parametrize("action", ["disable", "set_limit", "set_scopes", "revoke"])
def test_bulk_edit_including_the_apps_own_key_asks_first(qtbot, demo_platform, action):
    dialog = open_keys(qtbot, demo_platform)
    production, staging = key_named(dialog, "Production"), key_named(dialog, "Staging")
    dialog.select_keys([production.id, staging.id])
    bulk = dialog.bulk_edit()
    bulk.set_action(action)
    if action == "set_limit":
        bulk.limit.setText("0")
    elif action == "set_scopes":
        bulk.scope_boxes["inference"].setChecked(True)
        bulk.scope_boxes["read"].setChecked(False)  # removed
        bulk.scope_boxes["manage"].setChecked(False)
    elif action == "revoke":
        bulk.confirm.setText("revoke 2 keys")
    assert bulk.guard.isVisible()
    assert "Lowdash itself signs in with “Production”" in bulk.guard.label.text()
    bulk.ok_button.click()
    assert not bulk.runner.busy and "cuts Lowdash's own access" in bulk.status.text
    stored = dict(platform_key(demo_platform, "Production"))
    assert stored["disabled"] is False and stored["scopes"] == ["inference", "read", "manage"]
    bulk.guard.box.setChecked(True)
    with qtbot.waitSignal(bulk.applied, timeout=20_000):
        bulk.ok_button.click()
    after = platform_key(demo_platform, "Production")
    if action == "disable":
        assert after["disabled"] is True
    elif action == "set_limit":
        assert after["credit_limit"] == "0.00"
    elif action == "set_scopes":
        assert after["scopes"] == ["inference"]
    else:
        assert after is None
    bulk.close()
    dialog.close()


def test_bulk_enable_or_a_limit_on_other_keys_needs_no_tick(qtbot, demo_platform):
    dialog = open_keys(qtbot, demo_platform)
    production, staging = key_named(dialog, "Production"), key_named(dialog, "Staging")
    dialog.select_keys([production.id, staging.id])
    bulk = dialog.bulk_edit()
    bulk.set_action("set_limit")
    bulk.limit.setText("80")
    assert not bulk.guard.isVisible()
    bulk.close()
    dialog.select_keys([staging.id])
    bulk = dialog.bulk_edit()
    bulk.set_action("revoke")
    assert not bulk.guard.isVisible()
    bulk.close()
    dialog.close()


def test_revoking_or_rotating_the_apps_own_key_says_what_happens(
    qtbot, demo_platform, monkeypatch
):
    from PySide6.QtWidgets import QDialogButtonBox

    dialog = open_keys(qtbot, demo_platform)
    production = key_named(dialog, "Production")
    dialog.select_keys([production.id])
    confirm = dialog.revoke_selected()
    assert "can no longer sync or change anything until you sign in with another key" in (
        confirm.text_label.text()
    )
    confirm.close()
    confirm = dialog.rotate_selected()
    assert "switches to the new secret at once" in confirm.text_label.text()
    confirm.close()
    dialog.close()
    # a key from the environment cannot follow a rotation: said, and Enter cancels
    monkeypatch.setenv("LOWDASH_API_KEY", demo_platform.api_key)
    dialog = open_keys(qtbot, demo_platform)
    dialog.select_keys([production.id])
    confirm = dialog.rotate_selected()
    assert "the next start is refused until you put the new secret in LOWDASH_API_KEY" in (
        confirm.text_label.text()
    )
    assert confirm.buttons.button(QDialogButtonBox.StandardButton.Cancel).isDefault()
    confirm.close()
    dialog.close()


def test_a_credit_limit_out_of_bounds_is_explained_as_it_is_typed(qtbot, demo_platform):
    dialog = open_keys(qtbot, demo_platform)
    staging = key_named(dialog, "Staging")
    dialog.select_keys([staging.id])
    form = dialog.edit_selected()
    form.limit.setText("1e9")
    assert "at most 1,000,000.00" in form.status.text, "said before Save is pressed"
    assert "at most 1,000,000.00" in form.limit.toolTip()
    form.ok_button.click()
    assert not form.runner.busy
    form.limit.setText("12.345")
    assert "at most two decimals" in form.status.text
    form.limit.setText("1000000")
    assert form.status.text == "" and form.limit.toolTip() == ""
    submit(qtbot, form)
    assert platform_key(demo_platform, "Staging")["credit_limit"] == "1000000.00"
    dialog.select_keys([staging.id])
    bulk = dialog.bulk_edit()
    bulk.set_action("set_limit")
    bulk.limit.setText("1e9")
    assert "at most 1,000,000.00" in bulk.status.text
    bulk.ok_button.click()
    assert not bulk.runner.busy
    bulk.close()
    dialog.close()


def test_after_the_apps_key_is_refused_the_list_says_it_is_the_cached_one(qtbot, demo_platform):
    """Issue 19 (tester): the list still read 'Production (this app) … Active' with New key…
    enabled after the platform refused the app's key."""
    dialog = open_keys(qtbot, demo_platform)
    rows = dialog.model.rowCount()
    platform_key(demo_platform, "Production")["disabled"] = True  # e.g. from the web console
    with qtbot.waitSignal(dialog.runner.finished, timeout=20_000):
        assert dialog.refresh()
    assert dialog.model.rowCount() == rows, "the last list stays"
    assert dialog.note.isVisible()
    assert "Shown as last cached; the platform refused this app's key" in dialog.note.text()
    assert ".." not in dialog.note.text()
    for button in dialog.manage_buttons:
        assert not button.isEnabled()
    dialog.select_keys([key_named(dialog, "Staging").id])
    assert not dialog.edit_button.isEnabled() and not dialog.new_button.isEnabled()
    dialog.close()


def test_the_name_hint_goes_once_a_name_is_typed(qtbot, demo_platform):
    """Issue 19 item 11: 'Give the key a name.' stayed after a name was typed."""
    dialog = open_keys(qtbot, demo_platform)
    form = dialog.new_key()
    form.ok_button.click()
    assert form.status.text == "Give the key a name."
    qtbot.keyClicks(form.name, "CI")
    assert form.status.text == ""
    form.close()
    dialog.close()


def test_bulk_edit_changes_nothing_until_the_user_picks(qtbot, demo_platform):
    dialog = open_keys(qtbot, demo_platform)
    names = ["Production", "Staging", "CI pipeline", "Dashboard (read-only)"]
    keys = [key_named(dialog, n) for n in names]
    dialog.select_keys([k.id for k in keys])
    bulk = dialog.bulk_edit()
    # Change scopes: every scope "as each key has it" at first, so nothing would change
    bulk.set_action("set_scopes")
    summary = bulk.summary.toPlainText()
    assert summary.count("scopes unchanged — skipped") == len(names), summary
    assert not bulk.guard.isVisible() and bulk.validate() == "Nothing would change."
    bulk.scope_boxes["read"].setChecked(True)  # add read, keep the rest of each key's
    for key in keys:
        fields = bulk.change_for(key)[0]
        wanted = sorted(set(key.scopes) | {"read"})
        assert (fields or {"scopes": key.scopes})["scopes"] == [
            s for s in ("inference", "read", "manage") if s in wanted], key.name
    # Set credit limit: no "No limit" preselected: nothing changes until a limit is typed
    bulk.set_action("set_limit")
    assert all(bulk.change_for(k)[0] is None for k in keys)
    assert "→ no limit" not in bulk.summary.toPlainText()
    assert bulk.validate() == "Type the new credit limit, or tick “No limit”."
    # an unusable amount is never previewed as if it would be applied
    bulk.limit.setText("1e9")
    assert "1,000,000,000" not in bulk.summary.toPlainText()
    assert "→" not in bulk.summary.toPlainText()
    assert "at most 1,000,000.00" in bulk.validate()
    bulk.limit.setText("30")
    staging = key_named(dialog, "Staging")
    fields = bulk.change_for(staging)[0]
    assert fields == {"credit_limit": Decimal("30"), "limit_reset": staging.limit_reset}
    bulk.no_limit.setChecked(True)  # removing the limits is a choice of its own
    assert not bulk.limit.isEnabled()
    assert bulk.change_for(staging)[0] == {"credit_limit": None, "limit_reset": None}
    bulk.close()
    dialog.close()


def test_a_negative_limit_is_only_said_to_be_negative(qtbot, demo_platform):
    dialog = open_keys(qtbot, demo_platform)
    dialog.select_keys([key_named(dialog, "Production").id])  # the app's own key
    form = dialog.edit_selected()
    form.limit.setText("-5")
    assert "cannot be negative" in form.status.text
    assert not form.guard.isVisible(), "not also 'A credit limit of 0 lets this key spend nothing'"
    form.limit.setText("0")
    assert form.guard.isVisible() and "A credit limit of 0" in form.guard.label.text()
    form.close()
    dialog.close()


def test_the_credit_limit_says_its_currency(qtbot, demo_platform):
    # "1000" alone: in which currency? the account's, and the form says so beside the field
    from PySide6.QtWidgets import QLabel

    dialog = open_keys(qtbot, demo_platform)
    for form in (dialog.new_key(), None):
        if form is None:
            dialog.select_keys([key_named(dialog, "Staging").id])
            form = dialog.edit_selected()
        units = [w.text() for w in form.findChildren(QLabel, "currency_unit")]
        assert units == ["EUR"], units
        assert form.limit.accessibleDescription() == "In EUR."
        form.close()
