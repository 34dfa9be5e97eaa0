"""The window's Account menu: keys, credits, routing, settings, sign in/out, and sync alerts."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QLabel, QMainWindow, QMenu

from ..secrets import KeyStore
from ..session.session import Session
from .dialogs.operation_dialog import manage_reason
from .notifications import Alert, NotificationWatcher
from .runway_watcher import RunwayWatcher

log = logging.getLogger(__name__)


class AccountMenu(QObject):
    """Owns the Account menu's actions and dialogs; builds the account's alert and runway
    watchers and hands them to the session, which closes them with the account.

    The account's state and its sync news come from `session`; `window` is only where the
    menu, the badge and the dialogs are shown. What else the menu needs is given to it:
    `notify` shows a notification (the tray's), `say` a line in the status bar, `menu` and
    `entries` are the menu and its actions when built earlier (wired to this menu's slots by
    name, MainWindow.ACCOUNT_ENTRIES); without them the menu adds its own.
    """

    # alert settings were saved: the other watchers of the account re-read their thresholds
    alertSettingsSaved = Signal()

    def __init__(
        self,
        session: Session,
        window: QMainWindow,
        keystore: KeyStore | None = None,
        *,
        notify: Callable[[str, str], None],
        say: Callable[[str], None] | None = None,
        menu: QMenu | None = None,
        entries: dict[str, QAction] | None = None,
    ):
        super().__init__(window)
        self.session = session
        self.window = window
        self.keystore = keystore or KeyStore()
        self.dialogs: dict[str, QDialog] = {}
        self._say = say or window.statusBar().showMessage
        self._entries = entries or {}
        menu = menu or window.menuBar().addMenu(self.tr("&Account"))
        self.menu = menu
        self.keys_action = self._action("keys", self.tr("&Keys…"), self.open_keys)
        self.credits_action = self._action(
            "credits", self.tr("&Credits && receipts…"), self.open_credits)
        self.routing_action = self._action("routing", self.tr("Auto-&routing…"), self.open_routing)
        self.settings_action = self._action(
            "settings", self.tr("&Account settings…"), self.open_settings)
        if not self._entries:
            menu.addSeparator()
        self.sign_in_action = self._action("sign_in", self.tr("Sign &in…"), self.sign_in)
        self.sign_out_action = self._action("sign_out", self.tr("Sign &out"), self.ask_sign_out)
        self.badge = QLabel(window)
        self.badge.setObjectName("alert_badge")
        self.badge.setAccessibleName(self.tr("Warnings"))
        self.badge.setStyleSheet(
            "#alert_badge { background: #fff4d6; color: #7a4b00; border: 1px solid #e0b050;"
            " border-radius: 8px; padding: 0 8px; }"
        )
        self.badge.hide()
        window.statusBar().addPermanentWidget(self.badge)
        # Qt parent: this menu, under the window, whose close joins their background work
        self.watcher = NotificationWatcher(session, notify, self)
        self.watcher.alertsChanged.connect(self._show_alerts)
        session.synced.connect(self._after_sync)
        session.failed.connect(self._after_sync)
        session.changed.connect(self._answer_changed)
        session.connectionChanged.connect(self._update_actions)
        self._update_actions()
        self.watcher.check()
        # the runway's figures are shown by whoever listens to `runway.runwayReady` (the
        # window connects its credits dock and its tray); the first answer comes back later
        self.runway = RunwayWatcher(session.cache, notify, self)
        session.synced.connect(self._refresh_runway)
        session.failed.connect(self._refresh_runway)
        session.add_watcher(self.watcher)
        session.add_watcher(self.runway)
        self.runway.refresh()

    def _refresh_runway(self, *_args: object) -> None:
        self.runway.refresh()

    def _answer_changed(self, name: str) -> None:
        if name == "keys":
            self._update_actions()  # the keys snapshot tells what this key may do

    def _after_sync(self, *_args: object) -> None:
        self.watcher.check()

    def _action(self, name: str, text: str, slot) -> QAction:
        if name in self._entries:
            return self._entries[name]  # already wired to `slot` by the window
        action = QAction(text, self.window)
        action.triggered.connect(lambda _=False: slot())
        self.menu.addAction(action)
        return action

    # -- state -------------------------------------------------------------------------------
    @property
    def connection(self):
        return self.session.connection

    def manage_reason(self) -> str | None:
        """Why this window's key cannot manage the account (None if it can or is unknown)."""
        connection = self.connection
        return manage_reason(self.session.keys(), connection.api_key if connection else None)

    def connection_changed(self) -> None:
        """The window signed in or out outside this menu (e.g. with the key read at start)."""
        self._update_actions()

    def _update_actions(self) -> None:
        signed_in = self.connection is not None
        self.sign_in_action.setVisible(not signed_in)
        self.sign_out_action.setVisible(signed_in)
        reason = self.manage_reason()
        for action in (self.keys_action, self.routing_action, self.settings_action):
            action.setToolTip(reason or "")
            action.setStatusTip(reason or "")
        self.menu.setToolTipsVisible(True)

    def _show_alerts(self, alerts: list[Alert]) -> None:
        if not alerts:
            self.badge.hide()
            self.badge.clear()
            return
        self.badge.setText(
            self.tr("⚠ {0} warnings").format(len(alerts))
            if len(alerts) > 1
            else self.tr("⚠ {0}").format(alerts[0].title)
        )
        self.badge.setToolTip("\n".join(a.text for a in alerts))
        self.badge.show()

    # -- dialogs ----------------------------------------------------------------------------
    def _show(self, name: str, dialog: QDialog) -> QDialog:
        old = self.dialogs.get(name)
        if old is not None and old.isVisible():
            old.close()
        self.dialogs[name] = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        dialog.show()
        dialog.raise_()
        return dialog

    def open_keys(self) -> QDialog:
        from .dialogs.keys_dialog import KeysDialog

        dialog = KeysDialog(self.connection, self.session, self.session.currency(), self.window)
        dialog.setWindowFlag(Qt.WindowType.Window)
        dialog.ownKeyRotated.connect(self.adopt_rotated_key)
        if self.connection is None:
            dialog.set_manage_reason(manage_reason(None, None))
        else:
            dialog.refresh()
        return self._show("keys", dialog)

    def adopt_rotated_key(self, secret: str) -> None:
        """The app's own key was rotated: sign in with the new secret from now on."""
        import dataclasses
        import os

        from ..api.connection import API_KEY_ENV
        from ..logsetup import register_secret

        old = self.session.connection
        if old is None:
            return
        register_secret(secret)
        self.session.connection = dataclasses.replace(old, api_key=secret)
        if not os.environ.get(API_KEY_ENV):  # an environment key is never copied
            self.keystore.set(old.base_url, secret)

    def open_credits(self) -> QDialog:
        from .dialogs.credits_dialog import CreditsDialog

        dialog = CreditsDialog(self.connection, self.session, self.window)
        if self.connection is not None:
            dialog.refresh()
        return self._show("credits", dialog)

    def open_routing(self) -> QDialog:
        from .dialogs.routing_dialog import RoutingDialog

        dialog = RoutingDialog(self.connection, self.session, self.window)
        if self.connection is not None:
            dialog.load()
        return self._show("routing", dialog)

    def open_settings(self) -> QDialog:
        from .dialogs.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.connection, self.session, self.window)
        dialog.saved.connect(lambda _s: self.session.sync_now())
        dialog.accountDeleted.connect(self.sign_out)
        dialog.alertsSaved.connect(self._alert_settings_saved)
        if self.connection is not None:
            dialog.load()
        return self._show("settings", dialog)

    def _alert_settings_saved(self) -> None:
        self.runway.refresh()
        self.alertSettingsSaved.emit()

    # -- sign in / out -------------------------------------------------------------------------
    def ask_sign_out(self):
        """Account → Sign out: says what it does and asks first (it was one keypress); Cancel
        is the default. Returns the question (None when not signed in)."""
        from PySide6.QtWidgets import QMessageBox

        if self.connection is None:
            return None
        box = QMessageBox(self.window)
        box.setObjectName("sign_out_question")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Sign out"))
        label = self.session.account_label or self.connection.base_url
        box.setText(self.tr("Sign out of {0}?").format(label))
        if self.session.demo:
            details = self.tr(
                "Lowdash stops syncing with the demo platform. The cached history stays on "
                "this computer and can still be read and exported. To come back, choose "
                "Account → Sign in… and “Use the demo platform”.")
        else:
            details = self.tr(
                "The API key is removed from this computer's key store and Lowdash stops "
                "syncing. The cached history stays on this computer and can still be read and "
                "exported. Signing in again needs the key.")
        box.setInformativeText(details)
        sign_out = box.addButton(self.tr("Sign out"), QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.buttonClicked.connect(lambda b: b is sign_out and self.sign_out())
        box.finished.connect(box.deleteLater)
        box.open()
        return box

    def sign_out(self) -> None:
        """Remove the key from the key store; the account and its cache stay for offline use."""
        connection = self.connection
        if connection is None:
            return
        if self.session.demo:
            # the demo key is never shown: Sign in offers the way back (Use the demo platform)
            self._demo_connection = connection
        self.keystore.delete(connection.base_url)
        self.session.connection = None
        for dialog in self.dialogs.values():
            if dialog.isVisible():
                dialog.close()
        self._say(self.tr("Signed out: the key was removed. Showing the cached history."))
        self._update_actions()

    def sign_in(self) -> QDialog:
        """Sign in again (to this account's platform); another account opens its own cache."""
        from .dialogs.sign_in_dialog import SignInDialog

        cached = self.session.account()
        base_url = self.connection.base_url if self.connection else None
        demo = getattr(self, "_demo_connection", None) if self.session.demo else None
        if demo is None and self.session.demo:
            demo = self.connection
        dialog = SignInDialog(self.keystore, base_url or self._known_base_url()
                              or (demo.base_url if demo else None), self.window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        if demo is not None:
            dialog.offer_demo(demo)

        def accepted() -> None:
            info = dialog.account
            if info is None or dialog.connection is None:
                return
            if cached is not None and cached.id != info.id:
                # its own cache and window: the application opens it, this one steps aside
                self.session.request_other_account(dialog.connection, info)
                return
            self.session.connection = dialog.connection
            # another server now: the title follows the account, not "demo platform"
            leaves_demo = demo is not None and dialog.connection.base_url != demo.base_url
            self.session.rename(info.email or info.name or self.session.account_label,
                                demo=False if leaves_demo else None)
            self._update_actions()
            self.session.sync_now()

        dialog.accepted.connect(accepted)
        dialog.show()
        self.dialogs["sign_in"] = dialog
        return dialog

    def _known_base_url(self) -> str | None:
        from .. import accounts

        root = self.session.cache_path.parents[2]
        for entry in accounts.known(root):
            if entry.cache_path(root) == self.session.cache_path:
                return entry.base_url
        return None

