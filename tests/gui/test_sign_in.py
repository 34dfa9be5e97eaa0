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
    qtbot.waitUntil(lambda: not dialog.checking, timeout=20_000)
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


# -- sign-in goes out the way every later request does: Preferences' CA bundle, the OS proxy ---
def test_sign_in_trusts_the_ca_bundle_from_preferences(qtbot, tls_platform, memory_keyring):
    from PySide6.QtCore import QSettings

    from lowdash_desktop.ui import network

    platform, url, cert = tls_platform
    try:
        dialog = SignInDialog(KeyStore(), url)
        qtbot.addWidget(dialog)
        dialog.key.setText(platform.api_key)
        dialog.try_sign_in()  # the built-in trust store does not know this server
        qtbot.waitUntil(lambda: not dialog.checking, timeout=20_000)
        assert "could not be verified" in dialog.message.text()
        QSettings().setValue(network.CA_BUNDLE_KEY, str(cert))  # Preferences → CA bundle
        with qtbot.waitSignal(dialog.accepted, timeout=20_000):
            dialog.try_sign_in()
        assert dialog.account.email == platform.account["email"]
        assert dialog.connection.ca_bundle == str(cert)
    finally:
        QSettings().remove(network.CA_BUNDLE_KEY)


def test_sign_in_goes_through_the_os_proxy(qtbot, monkeypatch):
    import socket
    import threading

    from lowdash_desktop.ui import network

    seen: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def proxy() -> None:  # answers every tunnel request with a refusal, after noting it
        while not stop.is_set():
            try:
                conn, _addr = listener.accept()
            except TimeoutError:
                continue
            with conn:
                seen.append(conn.recv(4096))
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=proxy, daemon=True)
    thread.start()
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(network, "system_proxy_for", lambda url: f"http://127.0.0.1:{port}")
    dialog = SignInDialog(KeyStore(), "https://api.lowrouter.example/v1")
    qtbot.addWidget(dialog)
    dialog.key.setText("lr-live-" + "p" * 40)
    dialog.try_sign_in()
    qtbot.waitUntil(lambda: not dialog.checking, timeout=60_000)
    stop.set()
    thread.join(timeout=5)
    listener.close()
    assert seen and seen[0].startswith(b"CONNECT api.lowrouter.example:443 ")
    assert dialog.message.text(), "the refusal is explained"
    assert dialog.result() != SignInDialog.DialogCode.Accepted
    assert dialog.network_config.proxy_source == "system"


# -- issue 19 item 10: cancel at any time, a refused port at once, the key can be shown ------
def test_a_refused_port_on_this_machine_is_reported_at_once_in_words(qtbot):
    import socket
    import time

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dialog = SignInDialog(KeyStore(), f"http://127.0.0.1:{port}/v1")
    qtbot.addWidget(dialog)
    dialog.key.setText("lr-live-" + "z" * 40)
    started = time.monotonic()
    with qtbot.waitSignal(dialog.checkFinished, timeout=5_000) as blocker:
        dialog.try_sign_in()
    assert blocker.args == [False]
    assert time.monotonic() - started < 1.5, "not retried with back-off (took 4-7 s)"
    text = dialog.message.text()
    assert f"Nothing is listening at 127.0.0.1:{port}" in text
    assert "ConnectError" not in text
    assert dialog.result() != SignInDialog.DialogCode.Accepted


def test_cancel_works_while_the_key_is_being_checked(qtbot, memory_keyring):
    import socket

    from PySide6.QtWidgets import QDialogButtonBox

    silent = socket.create_server(("127.0.0.1", 0))  # accepts the connection, never answers
    try:
        port = silent.getsockname()[1]
        dialog = SignInDialog(KeyStore(), f"http://127.0.0.1:{port}/v1")
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.key.setText("lr-live-" + "s" * 40)
        dialog.try_sign_in()
        assert dialog.checking and dialog.message.text() == "Checking the key…"
        cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        assert cancel.isEnabled() and not dialog.ok_button.isEnabled()
        client = dialog.check_client
        with qtbot.waitSignal(dialog.rejected, timeout=1_000):
            cancel.click()
        assert not dialog.checking and not dialog.isVisible()
        assert client.cancel_event.is_set(), "the check's request is cut, not left running"
        assert dialog.connection is None and not memory_keyring.store
        # and the cut request ends at once, though the server never answers
        from lowdash_desktop.ui import background

        qtbot.waitUntil(lambda: not background.in_flight(), timeout=5_000)
    finally:
        silent.close()


def test_the_typed_key_can_be_shown_and_hidden_and_has_focus(qtbot):
    from PySide6.QtWidgets import QLineEdit

    dialog = SignInDialog(KeyStore(), "http://127.0.0.1:1/v1")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.focusWidget() is dialog.key
    dialog.key.setText("lr-live-secret")
    assert dialog.key.echoMode() == QLineEdit.EchoMode.Password
    assert dialog.show_key in dialog.key.actions()
    dialog.show_key.trigger()
    assert dialog.key.echoMode() == QLineEdit.EchoMode.Normal
    assert dialog.show_key.text() == "Hide the key"
    dialog.show_key.trigger()
    assert dialog.key.echoMode() == QLineEdit.EchoMode.Password
