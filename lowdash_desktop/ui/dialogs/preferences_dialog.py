"""Preferences: refresh interval, tray and login behaviour, CA bundle, and a connection test."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ... import autostart
from ...api import errors
from ...api.client import RetryPolicy
from ...session import scheduler
from ...session import settings as stored
from ...session.session import Session
from .. import formatting, network, tray
from ..background import BackgroundCall
from ..widgets.grow_to_fit import grow_to_fit

log = logging.getLogger(__name__)

MINIMIZED_AT_LOGIN_KEY = stored.MINIMIZED_AT_LOGIN.key


class PreferencesDialog(QDialog):
    """The app's settings; applied to the open account's session on OK."""

    def __init__(
        self,
        session: Session | None = None,
        backend: autostart.Autostart | None = None,
        parent=None,
    ):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Preferences"))
        self.session = session
        self.backend = backend
        self._call: BackgroundCall | None = None
        settings = stored.store()
        layout = QVBoxLayout(self)
        form = QFormLayout()

        self.interval = QComboBox(self)
        self.interval.setAccessibleName(self.tr("Automatic refresh"))
        for minutes in scheduler.INTERVAL_CHOICES:
            label = self.tr("Off") if not minutes else self.tr("Every {0} min").format(minutes)
            self.interval.addItem(label, minutes)
        self.interval.setCurrentIndex(
            scheduler.INTERVAL_CHOICES.index(scheduler.stored_interval(settings))
        )
        form.addRow(self.tr("Automatic refresh"), self.interval)

        self.keep_in_tray = QCheckBox(self.tr("Keep running in the tray when the window closes"))
        self.keep_in_tray.setChecked(tray.keep_in_tray(settings))
        if not tray.TrayIcon.available():
            self.keep_in_tray.setEnabled(False)
            self.keep_in_tray.setToolTip(
                self.tr("This desktop has no system tray, so closing the window quits Lowdash.")
            )
        form.addRow("", self.keep_in_tray)

        self.at_login = QCheckBox(self.tr("Start minimised at login"))
        self.at_login.setChecked(self._autostart_enabled())
        where = self._autostart_location()
        if where:
            self.at_login.setToolTip(self.tr("Entry: {0}").format(where))
        form.addRow("", self.at_login)

        ca_row = QWidget(self)
        ca_layout = QHBoxLayout(ca_row)
        ca_layout.setContentsMargins(0, 0, 0, 0)
        self.ca_bundle = QLineEdit(network.stored_ca_bundle(settings) or "", ca_row)
        self.ca_bundle.setPlaceholderText(self.tr("Built-in trust store"))
        self.ca_bundle.setAccessibleName(self.tr("Custom CA bundle"))
        browse = QPushButton(self.tr("Browse…"), ca_row)
        browse.clicked.connect(self._browse_ca)
        ca_layout.addWidget(self.ca_bundle, 1)
        ca_layout.addWidget(browse)
        form.addRow(self.tr("Custom CA bundle (PEM)"), ca_row)
        ca_note = QLabel(
            self.tr(
                "Added to the built-in trust store, e.g. for a corporate TLS proxy. "
                "Certificates are always verified. Proxies come from the environment "
                "(HTTPS_PROXY, NO_PROXY) or the system settings."
            ),
            self,
        )
        ca_note.setWordWrap(True)
        ca_note.setObjectName("ca_note")
        form.addRow("", ca_note)
        # why the typed bundle cannot be used, under the field while it is typed: saved
        # silently, /etc/passwd failed every sync afterwards with an X509 error
        self.ca_error = QLabel(self)
        self.ca_error.setObjectName("ca_error")
        self.ca_error.setWordWrap(True)
        self.ca_error.setStyleSheet("color: #c62828;")
        self.ca_error.setAccessibleName(self.tr("Problem with the CA bundle"))
        self.ca_error.hide()
        form.addRow("", self.ca_error)
        layout.addLayout(form)

        test_row = QHBoxLayout()
        self.test_button = QPushButton(self.tr("Test connection"), self)
        self.test_button.clicked.connect(self.test_connection)
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        layout.addLayout(test_row)
        self.test_result = QLabel(self)
        self.test_result.setWordWrap(True)
        self.test_result.setAccessibleName(self.tr("Connection test result"))
        layout.addWidget(self.test_result)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c62828;")
        layout.addWidget(self.message)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ca_bundle.textChanged.connect(lambda _t: self._show_ca_problem())
        self._show_ca_problem()

    # -- autostart ------------------------------------------------------------------------
    def _autostart(self) -> autostart.Autostart | None:
        if self.backend is None:
            try:
                self.backend = autostart.for_platform()
            except ImportError:  # e.g. no winreg
                return None
        return self.backend

    def _autostart_enabled(self) -> bool:
        backend = self._autostart()
        return bool(backend and backend.is_enabled())

    def _autostart_location(self) -> str:
        backend = self._autostart()
        return backend.location() if backend else ""

    # -- CA bundle and the connection test ------------------------------------------------
    def _browse_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Choose a CA bundle"),
            self.ca_bundle.text(),
            self.tr("Certificates (*.pem *.crt *.cer);;All files (*)"),
        )
        if path:
            self.ca_bundle.setText(path)

    def _ca_text(self) -> str:
        return self.ca_bundle.text().strip()

    def ca_problem(self) -> str:
        """Why the typed CA bundle cannot be used, in a sentence ("" when it can): the
        command line's check (`--ca-bundle`), in the user's words."""
        from ...netconfig import ca_bundle_problem

        path = self._ca_text()
        problem = ca_bundle_problem(str(Path(path).expanduser()) if path else None)
        if problem is None:
            return ""
        kind, detail = problem
        return {
            "missing": self.tr("No file at this path."),
            "folder": self.tr("This is a folder: choose the PEM file in it."),
            "special": self.tr("This is not a regular file."),
            "too_large": self.tr("This file is too large to be a CA bundle."),
            "no_certificate": self.tr(
                "This file holds no PEM certificate (a CA bundle is text with "
                "“-----BEGIN CERTIFICATE-----” blocks)."
            ),
        }.get(kind, self.tr("This file cannot be read: {0}.").format(detail))

    def _show_ca_problem(self) -> str:
        problem = self.ca_problem()
        self.ca_error.setText(problem)
        self.ca_error.setVisible(bool(problem))
        if problem and self.layout() is not None:  # the note takes a line: the help text above it was clipped to make room
            self._grow_to_fit()
        self.ok_button.setEnabled(not problem)
        self.ok_button.setToolTip(
            self.tr("Correct or clear the CA bundle first.") if problem else ""
        )
        return problem

    def _check_ca(self) -> bool:
        if self._show_ca_problem():
            self.ca_bundle.setFocus()
            return False
        self.message.clear()
        return True

    def _connection(self):
        return self.session.connection if self.session is not None else None

    def test_connection(self) -> None:
        """Ask the platform for the balance with these settings; say which proxy and CA."""
        connection = self._connection()
        if connection is None:
            self.test_result.setText(self.tr("Not signed in: nothing to test."))
            return
        if not self._check_ca():
            return
        conn, config = network.configured(connection, self._ca_text())
        described = config.describe()
        self.test_button.setEnabled(False)
        self.test_result.setText(self.tr("Testing… {0}").format(described))
        self._grow_to_fit()

        def call() -> str:
            with conn.client(retry=RetryPolicy(attempts=1)) as client:
                credits = client.credits()
            return formatting.money(credits.balance, credits.currency)  # '487.32 EUR'

        self._call = BackgroundCall(call, self)
        self._call.done.connect(
            lambda balance: self._tested(
                self.tr("Connected: the platform answered (balance {0}).").format(balance),
                described,
            )
        )
        self._call.error.connect(lambda exc: self._tested(self._describe_error(exc), described))
        self._call.start()

    def _tested(self, outcome: str, described: str) -> None:
        self.test_button.setEnabled(True)
        # describe() is also a log line; on screen it is a sentence with its full stop
        self.test_result.setText(f"{outcome}\n{described.rstrip('.')}.")
        self._grow_to_fit()

    def _grow_to_fit(self) -> None:
        """A longer result grows the window: the lines above it were squashed to make room
        (the CA bundle's help text cut mid-line)."""
        grow_to_fit(self)

    def _describe_error(self, exc: BaseException) -> str:
        if isinstance(exc, errors.AuthError):
            return self.tr("Failed: the platform refused the API key.")
        if isinstance(exc, errors.ApiError):
            return self.tr("Failed: {0}").format(exc)
        return self.tr("Failed: {0}: {1}").format(type(exc).__name__, exc)

    # -- applying -------------------------------------------------------------------------
    def accept(self) -> None:
        if not self._check_ca():
            return
        self.apply()
        super().accept()

    def apply(self) -> None:
        """Store the settings and apply them to the open account's schedule and connection."""
        minutes = int(self.interval.currentData())
        stored.SYNC_INTERVAL.set(minutes)
        session = self.session
        if session is not None and session.scheduler is not None:
            session.scheduler.set_interval(minutes)
        if self.keep_in_tray.isEnabled():
            stored.KEEP_IN_TRAY.set(self.keep_in_tray.isChecked())
        self._apply_autostart()
        ca = self._ca_text()
        stored.CA_BUNDLE.set(ca)
        if session is not None and session.connection is not None:
            session.connection, config = network.configured(session.connection, ca)
            log.info("network settings applied: %s", config.describe())

    def _apply_autostart(self) -> None:
        backend = self._autostart()
        wanted = self.at_login.isChecked()
        if backend is None or wanted == backend.is_enabled():
            return
        try:
            autostart.set_enabled(wanted, backend)
        except OSError as exc:
            log.warning("could not change start at login: %s", exc)
            self.message.setText(self.tr("Could not change start at login: {0}").format(exc))
            return
        stored.MINIMIZED_AT_LOGIN.set(wanted)
