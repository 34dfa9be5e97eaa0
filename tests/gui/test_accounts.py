"""Sign out / sign in from the Account menu, and what a key without 'manage' may do."""

from __future__ import annotations

from lowdash_desktop import accounts
from lowdash_desktop.api.connection import Connection
from lowdash_desktop.app import open_session
from lowdash_desktop.secrets.keystore import SERVICE
from lowdash_desktop.ui.main_window import MainWindow


def make_window(qtbot, data_dir, platform, key: str):
    account = accounts.remember(data_dir, platform.base_url, "acc_demo", "ops@example.com")
    session = open_session(data_dir, Connection(platform.base_url, key), account)
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    return window


def test_account_menu_lists_the_operations(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform, demo_platform.api_key)
    texts = [a.text() for a in window.account_menu.menu.actions() if not a.isSeparator()]
    assert texts == [
        "&Keys…",
        "&Credits && receipts…",
        "Auto-&routing…",
        "Sign &in…",
        "Sign &out",
    ]
    # every setting in one menu: this computer's, the account's, the eco baseline
    settings = [a.text() for a in window.settings_menu.actions() if not a.isSeparator()]
    assert settings == ["&Preferences…", "&Account settings…", "&Eco baseline…"]
    assert window.account_menu.settings_action in window.settings_menu.actions()
    keys = window.account_menu.open_keys()
    qtbot.waitUntil(lambda: not keys.runner.busy, timeout=20_000)
    assert keys.reason is None and keys.new_button.isEnabled()
    keys.close()
    window.quit_app()


def test_read_only_key_shows_manage_actions_disabled_with_reason(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform, demo_platform.read_only_key)
    reason = window.account_menu.manage_reason()
    assert reason and "lacks the 'manage' scope" in reason
    assert window.account_menu.keys_action.toolTip() == reason
    keys = window.account_menu.open_keys()
    assert not keys.new_button.isEnabled() and keys.note.isVisible()  # from the cache at once
    qtbot.waitUntil(lambda: not keys.runner.busy, timeout=20_000)
    keys.close()
    routing = window.account_menu.open_routing()
    qtbot.waitUntil(lambda: not routing.runner.busy, timeout=20_000)
    assert not routing.ok_button.isEnabled()
    routing.close()
    settings = window.account_menu.open_settings()
    qtbot.waitUntil(lambda: not settings.runner.busy, timeout=20_000)
    assert not settings.save_button.isEnabled() and not settings.delete_button.isEnabled()
    settings.close()
    window.quit_app()


def test_sign_out_removes_only_the_key(qtbot, data_dir, demo_platform, memory_keyring):
    window = make_window(qtbot, data_dir, demo_platform, demo_platform.api_key)
    base_url = window.session.connection.base_url
    window.account_menu.keystore.set(base_url, demo_platform.api_key)
    assert memory_keyring.store[(SERVICE, base_url)] == demo_platform.api_key
    rows = window.table_model.rowCount()
    window.account_menu.sign_out()
    assert (SERVICE, base_url) not in memory_keyring.store
    assert window.session.connection is None
    assert accounts.find(data_dir, base_url) is not None, "the account is remembered"
    assert window.table_model.rowCount() == rows, "the cache stays readable"
    assert not window.sync_now()
    assert window.account_menu.sign_in_action.isVisible()
    assert not window.account_menu.sign_out_action.isVisible()
    # signing in again with the same account's key resumes syncing in the same window
    dialog = window.account_menu.sign_in()
    dialog.key.setText(demo_platform.api_key)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        dialog.buttons.accepted.emit()
    assert window.session.connection is not None
    assert memory_keyring.store[(SERVICE, base_url)] == demo_platform.api_key
    window.quit_app()


def test_rotating_the_apps_own_key_keeps_it_signed_in(
    qtbot, data_dir, demo_platform, memory_keyring
):
    window = make_window(qtbot, data_dir, demo_platform, demo_platform.api_key)
    keys = window.account_menu.open_keys()
    qtbot.waitUntil(lambda: not keys.runner.busy, timeout=20_000)
    own = next(k for k in keys.model.keys if k.prefix == keys.model.current_prefix)
    keys.select_keys([own.id])
    confirm = keys.rotate_selected()
    with qtbot.waitSignal(keys.ownKeyRotated, timeout=20_000) as rotated:
        confirm.ok_button.click()
    secret = rotated.args[0]
    assert secret != demo_platform.api_key and demo_platform.secrets[secret] == own.id
    assert window.session.connection.api_key == secret
    assert memory_keyring.store[(SERVICE, demo_platform.base_url)] == secret
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as synced:
        window.sync_now()
    assert synced.args == [True], "the next sync signs in with the new secret"
    keys.child.close()
    keys.close()
    window.quit_app()


# -- start-up: a known account's key is read from the keyring after the first paint --------------
def _start_args(base_url: str):
    import argparse

    return argparse.Namespace(base_url=base_url)


def test_a_known_account_opens_before_its_key_is_read_then_signs_in_and_syncs(
    qtbot, data_dir, demo_platform, memory_keyring, monkeypatch
):
    from lowdash_desktop import app
    from lowdash_desktop.secrets import KeyStore

    account = accounts.remember(data_dir, demo_platform.base_url, "acc_demo", "ops@example.com")
    KeyStore().set(demo_platform.base_url, demo_platform.api_key)
    reads = []
    real_get = KeyStore.get
    monkeypatch.setattr(KeyStore, "get", lambda self, url: reads.append(url) or real_get(self, url))
    connection, entry = app._choose_account(data_dir, _start_args(demo_platform.base_url))
    assert connection is None and entry == account and reads == [], "no keyring before the window"
    session = open_session(data_dir, None, entry)
    session.keyring_url = entry.base_url
    window = MainWindow(session, lazy=True)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.storedKeyRead, timeout=20_000) as read:
        window.show()  # the first paint starts the read
    assert read.args == [True] and reads == [demo_platform.base_url]
    assert window.session.connection.api_key == demo_platform.api_key
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as synced:
        pass
    assert synced.args == [True] and window.table_model.rowCount() > 0
    qtbot.waitUntil(lambda: hasattr(window, "account_menu"), timeout=20_000)
    assert window.account_menu.sign_out_action.isVisible()
    assert not window.account_menu.sign_in_action.isVisible()
    window.quit_app()


def test_a_known_account_without_a_stored_key_is_browsed_and_offered_the_sign_in(
    qtbot, data_dir, demo_platform, memory_keyring
):
    account = accounts.remember(data_dir, demo_platform.base_url, "acc_demo", "ops@example.com")
    session = open_session(data_dir, None, account)
    session.keyring_url = account.base_url
    window = MainWindow(session, lazy=True)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.storedKeyRead, timeout=20_000) as read:
        window.show()
    assert read.args == [False] and window.session.connection is None
    assert "Not signed in" in window.sync_label.text()
    qtbot.waitUntil(lambda: "sign_in" in getattr(
        getattr(window, "account_menu", None), "dialogs", {}), timeout=20_000)
    dialog = window.account_menu.dialogs["sign_in"]
    assert dialog.isVisible()
    dialog.key.setText(demo_platform.api_key)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as synced:
        dialog.try_sign_in()
    assert synced.args == [True] and window.session.connection is not None
    assert memory_keyring.get_password(SERVICE, demo_platform.base_url) == demo_platform.api_key
    window.quit_app()


def test_an_environment_key_signs_a_known_account_in_without_the_keyring(
    qtbot, data_dir, demo_platform, monkeypatch  # qtbot: QSettings in a temp folder
):
    from lowdash_desktop import app

    accounts.remember(data_dir, demo_platform.base_url, "acc_demo", "ops@example.com")
    monkeypatch.setenv("LOWDASH_API_KEY", demo_platform.api_key)
    monkeypatch.setattr("lowdash_desktop.secrets.KeyStore.get", lambda *_a: 1 / 0)
    connection, entry = app._choose_account(data_dir, _start_args(demo_platform.base_url))
    assert connection.api_key == demo_platform.api_key and entry.base_url == demo_platform.base_url


def test_a_window_opened_signed_in_syncs_once_it_has_painted(qtbot, data_dir, demo_platform):
    account = accounts.remember(data_dir, demo_platform.base_url, "acc_demo", "ops@example.com")
    session = open_session(data_dir, Connection(demo_platform.base_url, demo_platform.api_key),
                           account)
    session.sync_on_open = True
    window = MainWindow(session, lazy=True)
    qtbot.addWidget(window)
    started = []
    window.sync.started.connect(lambda: started.append(True))
    qtbot.wait(50)  # events run, but nothing has painted: no sync competes with the first paint
    assert started == []
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as synced:
        window.show()
    assert synced.args == [True] and started == [True]
    assert window.table_model.rowCount() > 0
    window.quit_app()


def test_a_key_of_another_account_opens_that_account_in_a_window_of_its_own(
    qtbot, qapp, data_dir, demo_platform
):
    """The account menu's session asks; the application opens the other account's cache in a
    new window and the old window steps aside (the menu no longer imports the app)."""
    from types import SimpleNamespace

    account = accounts.remember(data_dir, demo_platform.base_url, "acc_demo", "ops@example.com")
    window = MainWindow(open_session(  # not given to qtbot: the application deletes it
        data_dir, Connection(demo_platform.base_url, demo_platform.api_key), account))
    window.show()
    qapp.track(window)
    other = SimpleNamespace(id="acc_other", email="other@example.com", name="Other")
    connection = Connection(demo_platform.base_url, demo_platform.api_key)
    try:
        window.session.request_other_account(connection, other)
        new = qapp.windows[-1]
        qtbot.addWidget(new)
        assert new is not window and window.shut_down and not window.isVisible()
        assert window not in qapp.windows
        assert new.session.cache_path == accounts.find(
            data_dir, demo_platform.base_url).cache_path(data_dir)
        assert new.session.cache_path != window.session.cache_path
        assert new.windowTitle() == "Lowdash — other@example.com"
        with qtbot.waitSignal(new.syncFinished, timeout=60_000):
            pass  # the new window syncs its own cache at once
        new.close()
    finally:
        qapp.windows.clear()
