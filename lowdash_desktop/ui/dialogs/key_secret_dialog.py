"""Shows a new key secret exactly once, with a copy button; forgets it when closed."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...api.models import KeyWithSecret


class KeySecretDialog(QDialog):
    """The one and only display of a secret: never logged, stored or put anywhere else."""

    def __init__(
        self,
        created: KeyWithSecret,
        rotated: bool = False,
        own_key: bool = False,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle(self.tr("New secret for “{0}”").format(created.key.name))
        layout = QVBoxLayout(self)
        if rotated:
            intro = self.tr(
                "The key “{0}” was rotated. Its old secret has stopped working; here is the new "
                "one."
            ).format(created.key.name)
        else:
            intro = self.tr("The key “{0}” was created. Here is its secret.").format(
                created.key.name
            )
        head = QLabel(intro, self)
        head.setWordWrap(True)
        layout.addWidget(head)
        row = QHBoxLayout()
        self.secret = QLineEdit(created.secret, self)
        self.secret.setReadOnly(True)
        self.secret.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.secret.setAccessibleName(self.tr("Secret of the key"))
        self.secret.setMinimumWidth(
            self.secret.fontMetrics().horizontalAdvance(created.secret) + 24
        )
        self.copy_button = QPushButton(self.tr("Copy"), self)
        self.copy_button.setAccessibleName(self.tr("Copy the secret to the clipboard"))
        self.copy_button.clicked.connect(self.copy)
        row.addWidget(self.secret, 1)
        row.addWidget(self.copy_button)
        layout.addLayout(row)
        warning = QLabel(
            self.tr(
                "<b>Copy it now: you will not see this again.</b> Lowdash does not keep it, and "
                "the platform only stores a fingerprint of it."
            ),
            self,
        )
        warning.setWordWrap(True)
        warning.setStyleSheet("color: #8a4b00;")
        layout.addWidget(warning)
        self.warning = warning
        if own_key:
            own = QLabel(
                self.tr(
                    "This is the key Lowdash signs in with: Lowdash now uses the new secret "
                    "(kept in the system key store) and the old one no longer works."
                ),
                self,
            )
            own.setWordWrap(True)
            layout.addWidget(own)
        self.copied = QLabel(self)
        layout.addWidget(self.copied)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("I have copied it"))
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.secret.text())
        self.copied.setText(self.tr("Copied to the clipboard."))

    def done(self, result: int) -> None:  # noqa: D401 - Qt override
        """Forget the secret as the dialog closes."""
        self.secret.clear()
        super().done(result)
