"""Sign in with a base URL and an API key, checked against GET /account."""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from ...api import errors
from ...api.connection import Connection
from ...api.models import Account
from ...api.urls import DEFAULT_BASE_URL
from ...secrets import KeyStore
from .. import formatting, network
from ..background import BackgroundCall


class SignInDialog(QDialog):
    """Asks for the platform address and key; accepts only once the platform said yes.

    Cancel works at any time (a check in flight is cut); a refused connection on this machine
    is reported at once, not retried; the typed key can be shown."""

    checkFinished = Signal(bool)  # noqa: N815 (Qt naming) True: the platform said yes

    def __init__(
        self,
        keystore: KeyStore,
        base_url: str | None = None,
        parent=None,
        *,
        key: str | None = None,
        remember: bool = True,
    ):
        super().__init__(parent)
        self.remember = remember
        self.setWindowTitle(self.tr("Sign in to lowrouter"))
        self.keystore = keystore
        self.connection: Connection | None = None
        self.network_config = None  # the proxy and CA bundle the check went out with
        self.account: Account | None = None
        self._call: BackgroundCall | None = None
        self._client = None  # the check's client while it runs (cancelled by Cancel)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.url = QLineEdit(base_url or DEFAULT_BASE_URL, self)
        self.url.setAccessibleName(self.tr("Platform address"))
        self.key = QLineEdit(self)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("lr-live-…")
        self.key.setAccessibleName(self.tr("API key"))
        if key:
            self.key.setText(key)
        self.show_key = QAction(self.tr("Show the key"), self.key)
        self.show_key.setCheckable(True)
        self.show_key.setIcon(self.style().standardIcon(
            self.style().StandardPixmap.SP_FileDialogContentsView))
        self.show_key.toggled.connect(self._show_key_toggled)
        self.key.addAction(self.show_key, QLineEdit.ActionPosition.TrailingPosition)
        form.addRow(self.tr("Platform address"), self.url)
        form.addRow(self.tr("API key"), self.key)
        layout.addLayout(form)
        self.store_note = QLabel(keystore.describe(), self)
        self.store_note.setWordWrap(True)
        layout.addWidget(self.store_note)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c62828;")
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Sign in"))
        self.buttons.accepted.connect(self.try_sign_in)
        self.buttons.rejected.connect(self.reject)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())
        # the key is what is missing (from the banner's "Sign in with another key" too)
        self.key.setFocus(Qt.FocusReason.OtherFocusReason)

    def offer_demo(self, connection: Connection) -> None:
        """A window started with --demo: a way back to the demo platform, whose key is never
        shown (after a sign-out there was none)."""
        from PySide6.QtWidgets import QPushButton

        button = QPushButton(self.tr("Use the demo platform"), self)
        button.setObjectName("use_demo")
        button.setToolTip(self.tr("Sign in to the demo platform this Lowdash started ({0}).")
                          .format(connection.base_url))

        def use() -> None:
            self.url.setText(connection.base_url)
            self.key.setText(connection.api_key)
            self.try_sign_in()

        button.clicked.connect(lambda _c=False: use())
        self.buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        self.demo_button = button

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if not self.checking:
            self.key.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def _show_key_toggled(self, shown: bool) -> None:
        self.key.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_key.setText(self.tr("Hide the key") if shown else self.tr("Show the key"))
        self.show_key.setToolTip(self.show_key.text())

    @property
    def checking(self) -> bool:
        """A key check is in flight."""
        return self._call is not None

    @property
    def check_client(self):
        """The running key check's client (None when none runs): what Cancel cuts."""
        return self._client

    def reject(self) -> None:
        """Cancel, at any time: a check in flight is cut and its answer ignored."""
        if self._call is not None:
            self._stop_check()
            self._set_busy(False)
            self.message.setText(self.tr("Sign-in cancelled."))
            self.checkFinished.emit(False)
        super().reject()

    def _stop_check(self) -> None:
        call, client = self._call, self._client
        self._call, self._client = None, None
        if call is not None:
            for signal in (call.done, call.error):
                try:
                    signal.disconnect()
                except (RuntimeError, TypeError):
                    pass
        if client is not None:
            client.cancel()

    def try_sign_in(self) -> None:
        self.message.clear()
        key = self.key.text().strip()
        if not key:
            self.message.setText(self.tr("Enter your API key."))
            return
        try:
            connection = Connection(self.url.text(), key)
        except errors.ApiError as exc:
            self.message.setText(str(exc))
            return
        # the same way out as every later request: the env/OS proxy and the CA bundle chosen
        # in Preferences (a corporate TLS proxy would otherwise refuse the very first check)
        connection, config = network.configured(connection)
        self.network_config = config
        self._set_busy(True)

        from ...api.client import RetryPolicy

        # a refused connection on this machine is an answer: nothing listens there, and
        # backing off and asking again only makes the user wait (4-7 s) for the same news
        local = _is_loopback(connection.base_url)
        try:
            client = connection.client(retry=RetryPolicy(attempts=1) if local else None)
        except errors.ApiError as exc:  # a CA bundle that is no PEM: said, not a traceback
            self._set_busy(False)
            self.message.setStyleSheet("color: #c62828;")
            self.message.setText(str(exc))
            return
        self._client = client

        def check() -> Account:
            with client:
                return client.account()

        self._call = BackgroundCall(check, self)
        self._call.done.connect(lambda account: self._signed_in(connection, account))
        self._call.error.connect(lambda exc: self._failed(exc, connection.base_url))
        self._call.start()

    def _set_busy(self, busy: bool) -> None:
        self.ok_button.setEnabled(not busy)  # Cancel stays: it cuts the check
        self.url.setEnabled(not busy)
        self.key.setEnabled(not busy)
        if busy:
            self.message.setStyleSheet("")
            self.message.setText(self.tr("Checking the key…"))

    def _signed_in(self, connection: Connection, account: Account) -> None:
        self._call = self._client = None
        self._set_busy(False)
        self.checkFinished.emit(True)
        self.connection = connection
        self.account = account
        if self.remember:
            self.keystore.set(connection.base_url, connection.api_key)
        self.accept()

    def _failed(self, exc: Exception, base_url: str = "") -> None:
        self._call = self._client = None
        self._set_busy(False)
        self.message.setStyleSheet("color: #c62828;")
        if isinstance(exc, errors.AuthError):
            text = formatting.sentence(self.tr("The platform refused this key: {0}").format(exc))
        elif isinstance(exc, errors.NetworkError) and _refused(exc) and _is_loopback(base_url):
            parts = urlsplit(base_url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            text = self.tr(
                "Nothing is listening at {0}:{1}. Is the platform (or lowdash demo-server) "
                "running on this computer, and is the port right?"
            ).format(parts.hostname, port)
        elif isinstance(exc, errors.NetworkError) and _refused(exc):
            text = self.tr("Cannot reach the platform at {0}: the connection was refused."
                           ).format(base_url)
        else:
            text = str(exc)
        self.message.setText(text)
        self.key.setFocus(Qt.FocusReason.OtherFocusReason)
        self.checkFinished.emit(False)


def _is_loopback(base_url: str) -> bool:
    from ...api.urls import is_loopback_host

    return is_loopback_host(urlsplit(base_url).hostname or "")


def _refused(exc: BaseException) -> bool:
    """The connection itself was refused (httpx's ConnectError: nothing listening)."""
    cause = exc.__cause__
    return type(cause).__name__ == "ConnectError"
