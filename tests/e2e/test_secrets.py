"""Guarantee 6: the key never reaches a file, logs redact it, http:// and TLS rules hold."""

from __future__ import annotations

import inspect
import logging

import pytest

from lowdash_desktop import accounts, logsetup
from lowdash_desktop.api import errors
from lowdash_desktop.api.client import LowrouterClient
from lowdash_desktop.api.connection import Connection
from lowdash_desktop.app import open_session
from lowdash_desktop.export.csv_export import export_csv
from lowdash_desktop.export.invoice_pdf import render_invoice_pdf
from lowdash_desktop.secrets import KeyStore
from lowdash_desktop.ui.dialogs.sign_in_dialog import SignInDialog
from lowdash_desktop.ui.dialogs.transaction_detail import TransactionDetail
from lowdash_desktop.ui.main_window import MainWindow


@pytest.fixture
def file_logging(tmp_path):
    """The app's logging set-up, as verbose as it gets, into a temp log folder."""
    root = logging.getLogger()
    level = root.level
    path = logsetup.setup_logging(tmp_path / "logs", level=logging.DEBUG)
    for name in ("httpx", "httpcore", "lowdash_desktop"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield path
    for handler in list(root.handlers):
        if handler.get_name() == "lowdash-file" or handler is logsetup.recent_errors:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name in ("httpx", "httpcore", "lowdash_desktop"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_scripted_session_leaves_no_key_anywhere(
    qtbot, tmp_path, data_dir, demo_platform, memory_keyring, file_logging
):
    key = demo_platform.api_key
    secret_part = key.removeprefix("lr-live-")
    assert len(secret_part) == 40
    keystore = KeyStore()
    # sign in through the dialog
    dialog = SignInDialog(keystore, demo_platform.base_url)
    qtbot.addWidget(dialog)
    dialog.key.setText(key)
    with qtbot.waitSignal(dialog.accepted, timeout=20_000):
        dialog.try_sign_in()
    entry = accounts.remember(data_dir, dialog.connection.base_url, dialog.account.id,
                              dialog.account.email)
    session = open_session(data_dir, dialog.connection, entry)
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as blocker:
        window.sync_now()
    assert blocker.args == [True]
    # open a detail (its routing trace is fetched with the key)
    gen_id = window.cache.conn.execute("SELECT id FROM generations LIMIT 1").fetchone()[0]
    detail = TransactionDetail(session, gen_id, session.connection, window)
    with qtbot.waitSignal(detail.traceShown, timeout=20_000):
        detail.show()
    detail.close()
    # exports
    exports = tmp_path / "exports"
    exports.mkdir()
    assert export_csv(window.cache.conn, exports / "history.csv") > 0
    invoice = window.cache.invoices()[0]
    assert render_invoice_pdf(invoice, exports / "invoice.pdf") >= 1
    # a careless log line with the header in it
    logging.getLogger("lowdash_desktop.test").warning(
        "request headers %s; retrying with %s", {"Authorization": f"Bearer {key}"}, key
    )
    # sign out
    window.account_menu.sign_out()
    assert keystore.get(demo_platform.base_url) is None
    window.close()
    for handler in logging.getLogger().handlers:
        handler.flush()
    log_text = file_logging.read_text("utf-8")
    assert "HTTP Request: GET" in log_text, "the requests were logged (without the key)"
    assert "[REDACTED]" in log_text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite3" for p in files) and any(p.suffix == ".ini" for p in files)
    assert (exports / "history.csv").stat().st_size > 0
    leaks = [
        str(p.relative_to(tmp_path)) for p in files
        if key.encode() in p.read_bytes() or secret_part.encode() in p.read_bytes()
        or secret_part.encode("utf-16-le") in p.read_bytes()
    ]
    assert not leaks, f"the key leaked into {leaks}"


def test_authorization_header_redacted_in_every_log_path(file_logging):
    key = "lr-live-" + "Ab3" * 13 + "x"
    log = logging.getLogger("lowdash_desktop.api.client")
    log.info("sending %r", {"authorization": f"Bearer {key}"})
    log.info("raw header line: Authorization: Bearer %s", key)
    try:
        raise errors.AuthError(f"refused Bearer {key}")
    except errors.AuthError:
        log.exception("boom")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = file_logging.read_text("utf-8")
    assert key not in text and key[8:] not in text
    assert text.count("[REDACTED]") >= 3
    assert all(key not in line for line in logsetup.recent_errors.records)


def test_plain_http_to_remote_refused_everywhere(qtbot):
    for url in ("http://api.lowrouter.example/v1", "http://10.0.0.5:8080/v1",
                "http://[2001:db8::1]/v1"):
        with pytest.raises(errors.InvalidBaseUrl, match="Refusing plain http://"):
            Connection(url, "lr-live-" + "a" * 40)
        with pytest.raises(errors.InvalidBaseUrl):
            LowrouterClient(url, "lr-live-" + "a" * 40)
    for url in ("http://127.0.0.1:9/v1", "http://localhost:9/v1", "http://[::1]:9/v1"):
        Connection(url, "k")


def test_tls_verification_cannot_be_turned_off_custom_ca_works(tmp_path, tls_platform):
    for api in (LowrouterClient.__init__, Connection.__init__, Connection.client):
        params = inspect.signature(api).parameters
        assert not {"verify", "insecure", "verify_ssl", "no_verify"} & set(params)
    platform, url, cert = tls_platform
    with Connection(url, platform.api_key).client() as client:
        with pytest.raises(errors.TlsError, match="could not be verified"):
            client.account()
    with Connection(url, platform.api_key, ca_bundle=str(cert)).client() as client:
        assert client.account().email == platform.account["email"]
    with pytest.raises(errors.ApiError, match="CA bundle not found"):
        LowrouterClient(url, platform.api_key, ca_bundle=tmp_path / "missing.pem")
