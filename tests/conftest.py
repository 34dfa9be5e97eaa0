"""Test isolation: offscreen Qt, temp settings/data dir, in-memory keyring, no leaked threads."""

from __future__ import annotations

import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring  # noqa: E402
import pytest  # noqa: E402
from keyring.backend import KeyringBackend  # noqa: E402


class MemoryKeyring(KeyringBackend):
    """A secure-looking keyring that lives in memory for one test."""

    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Every test gets its own data dir, and never sees a real API key."""
    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("LOWDASH_DATA_DIR", str(path))
    monkeypatch.delenv("LOWDASH_API_KEY", raising=False)
    return path


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail a test that leaves a Python thread (other than daemon servers' workers) running."""
    before = set(threading.enumerate())
    yield
    leaked = [
        t for t in threading.enumerate()
        if t not in before and t.is_alive() and not t.daemon
    ]
    for thread in leaked:
        thread.join(timeout=2)
    leaked = [t for t in leaked if t.is_alive()]
    assert not leaked, f"test left threads running: {leaked}"


@pytest.fixture(scope="session")
def qapp_cls():
    from lowdash_desktop.app import LowdashApp

    return LowdashApp


@pytest.fixture(scope="session")
def qapp_args():
    return ["lowdash-tests"]


@pytest.fixture(autouse=True)
def isolated_qt(request, tmp_path):
    """For GUI tests: QSettings in a temp folder, and no QThread or window left behind."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from lowdash_desktop.sync.worker import SyncController

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "settings"))
    yield
    running = [c for c in list(SyncController.live) if c.thread_running()]
    for controller in running:
        controller.shutdown()
    open_windows = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    for widget in open_windows:
        widget.close()
    assert not running, "test left a sync thread running"
    assert not open_windows, f"test left top-level windows open: {open_windows}"


@pytest.fixture
def demo_platform():
    """A small demo platform on a free loopback port."""
    from lowdash_desktop.demo import DemoPlatform

    platform = DemoPlatform(seed=11, generations=600)
    platform.start()
    yield platform
    platform.stop()


@pytest.fixture
def tls_platform(tmp_path):
    """A demo platform behind HTTPS with a self-signed certificate: (platform, url, cert)."""
    import ssl
    import subprocess

    from lowdash_desktop.demo import DemoPlatform

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    platform = DemoPlatform(seed=3, generations=100)
    platform.start()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    platform._server.socket = context.wrap_socket(platform._server.socket, server_side=True)
    yield platform, platform.base_url.replace("http://", "https://"), cert
    platform.stop()
