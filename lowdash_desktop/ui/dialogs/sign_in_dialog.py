"""Sign in with a base URL and an API key, checked against GET /account."""

from __future__ import annotations

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
from .. import network
from ..background import BackgroundCall


class SignInDialog(QDialog):
    """Asks for the platform address and key; accepts only once the platform said yes."""

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
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())

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

        def check() -> Account:
            with connection.client() as client:
                return client.account()

        self._call = BackgroundCall(check, self)
        self._call.done.connect(lambda account: self._signed_in(connection, account))
        self._call.error.connect(self._failed)
        self._call.start()

    def _set_busy(self, busy: bool) -> None:
        self.buttons.setEnabled(not busy)
        self.url.setEnabled(not busy)
        self.key.setEnabled(not busy)
        if busy:
            self.message.setStyleSheet("")
            self.message.setText(self.tr("Checking the key…"))

    def _signed_in(self, connection: Connection, account: Account) -> None:
        self._set_busy(False)
        self.connection = connection
        self.account = account
        if self.remember:
            self.keystore.set(connection.base_url, connection.api_key)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self._set_busy(False)
        self.message.setStyleSheet("color: #c62828;")
        if isinstance(exc, errors.AuthError):
            text = self.tr("The platform refused this key: {0}").format(exc)
        else:
            text = str(exc)
        self.message.setText(text)
