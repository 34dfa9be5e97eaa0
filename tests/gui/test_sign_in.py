"""Sign-in checks the key against GET /account and keeps it only in the keyring."""

from __future__ import annotations

from lowdash_desktop.secrets import KeyStore
from lowdash_desktop.secrets.keystore import SERVICE
from lowdash_desktop.ui.dialogs.sign_in_dialog import SignInDialog


def test_wrong_key_is_explained(qtbot, demo_platform):
    dialog = SignInDialog(KeyStore(), demo_platform.base_url)
    qtbot.addWidget(dialog)
    dialog.key.setText("lr-live-" + "z" * 40)
    dialog.try_sign_in()
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=20_000)
    assert "refused" in dialog.message.text()
    assert dialog.result() != SignInDialog.DialogCode.Accepted


def test_good_key_goes_to_keyring_only(qtbot, demo_platform, memory_keyring, data_dir):
    dialog = SignInDialog(KeyStore(), demo_platform.base_url)
    qtbot.addWidget(dialog)
    dialog.key.setText(demo_platform.api_key)
    with qtbot.waitSignal(dialog.accepted, timeout=20_000):
        dialog.try_sign_in()
    assert dialog.account.email == demo_platform.account["email"]
    stored = memory_keyring.store[(SERVICE, demo_platform.base_url)]
    assert stored == demo_platform.api_key
    assert not any(
        demo_platform.api_key.encode() in p.read_bytes()
        for p in data_dir.rglob("*") if p.is_file()
    )


def test_plain_http_to_remote_host_refused(qtbot):
    dialog = SignInDialog(KeyStore(), "http://api.lowrouter.example/v1")
    qtbot.addWidget(dialog)
    dialog.key.setText("lr-live-" + "z" * 40)
    dialog.try_sign_in()
    assert "Refusing plain http://" in dialog.message.text()


def test_no_keyring_is_said_plainly(qtbot):
    import keyring.backends.fail

    store = KeyStore(keyring.backends.fail.Keyring())
    assert not store.secure
    dialog = SignInDialog(store, "http://127.0.0.1:1/v1")
    qtbot.addWidget(dialog)
    assert "No secure key store" in dialog.store_note.text()
    assert store.set("x", "secret") is False and store.get("x") == "secret"
