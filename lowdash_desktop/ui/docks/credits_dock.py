"""Credit balance dock: what is left, big; this month's spend, small; Top up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QPushButton, QVBoxLayout, QWidget

from .. import formatting

if TYPE_CHECKING:
    from ...api.models import Credits
    from ...session.answers import CreditsPreview


class CreditsDock(QDockWidget):
    """Shows the cached /credits snapshot."""

    def __init__(self, parent=None):
        super().__init__(self.tr("Credit balance"), parent)
        self.setObjectName("dock_credits")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        self.balance = QLabel("—", body)
        self.balance.setObjectName("balance")
        self.balance.setAccessibleName(self.tr("Credit balance"))
        font = self.balance.font()
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        self.balance.setFont(font)
        self.spent = QLabel(self.tr("Spent this month: —"), body)
        self.spent.setAccessibleName(self.tr("Spent this month"))
        self.spent.setWordWrap(True)  # wraps in a narrow dock instead of being cut off
        self.topup = QPushButton(self.tr("Top up…"), body)
        self.topup.setAccessibleName(self.tr("Top up credits in the browser"))
        self.topup.setEnabled(False)
        self.topup.clicked.connect(self._open_topup)
        layout.addWidget(self.balance)
        # "as of 14:05" under the balance when it is the cached one and no sync is fresh
        self.as_of = QLabel(body)
        self.as_of.setObjectName("balance_as_of")
        self.as_of.setAccessibleName(self.tr("Balance as of"))
        self.as_of.setWordWrap(True)
        self.as_of.hide()
        layout.addWidget(self.as_of)
        self.runway = QLabel(body)
        self.runway.setObjectName("runway")
        self.runway.setAccessibleName(self.tr("Credit runway"))
        self.runway.setWordWrap(True)
        self.runway.hide()  # until the first runway is computed
        # every wrapped line gets its height (it was cut to "Runway: 0.0 c… a projection r…"
        # in a short dock): the label's minimum follows its lines at its width
        self.runway.installEventFilter(self)
        layout.addWidget(self.spent)
        layout.addWidget(self.runway)
        layout.addWidget(self.topup, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        self.setWidget(body)
        self._topup_url: str | None = None
        self.copy_dialog = None  # the checkout address shown to copy when no browser opened

    def show_credits(self, credits: Credits | CreditsPreview | None) -> None:
        if credits is None:
            return
        currency = credits.currency
        balance = credits.balance
        self.balance.setText(formatting.money(balance, currency, places=2))
        colour = "#c62828" if balance < 0 else ""
        self.balance.setStyleSheet(f"color: {colour};" if colour else "")
        self.balance.setToolTip(
            self.tr("Negative balance: top up to keep requests flowing.") if balance < 0 else ""
        )
        spent = formatting.money(credits.spent_this_month, currency, places=2)
        # a no-break space: when the dock is narrow the amount wraps with its currency, not
        # leaving "EUR" alone on the last line
        self.spent.setText(
            self.tr("Spent this month (UTC): {0}").format(spent.replace(" ", "\u00a0"))
        )
        self._topup_url = credits.topup_url
        self.topup.setEnabled(bool(self._topup_url))

    def show_as_of(self, when: str | None, why: str = "") -> None:
        """Say when the balance shown was fetched ('as of 14:05'); None: it is current."""
        self.as_of.setText(self.tr("as of {0}").format(when) if when else "")
        self.as_of.setToolTip(why)
        self.as_of.setVisible(bool(when))

    def show_loading(self) -> None:
        """A first sync is filling an empty cache: no projection from what it has read so far
        (a backfill read oldest first said "No spend in the last 7 days" while loading)."""
        self._first_sync = True
        if getattr(self, "_runway", None) is not None:
            self.show_runway(self._runway)

    def end_loading(self) -> None:
        """The first sync has ended: the projection from the whole history, if one was made."""
        self._first_sync = False
        if getattr(self, "_runway", None) is not None:
            self.show_runway(self._runway)

    def show_runway(self, runway) -> None:
        """How long the balance lasts at this week's pace, as a range (insight.runway)."""
        from ..runway_watcher import days_text

        self._runway = runway
        text = days_text(runway)
        if getattr(self, "_first_sync", False) or (text is None and runway.history_days <= 0):
            # no spend history read yet (a first sync under way): no projection, not
            # "0.0 days of history"
            line = self.tr("Runway: waiting for data.")
        elif text is not None:
            line = self.tr("Lasts {0} at this week's pace").format(text)
        elif runway.balance is not None and runway.history_days < 7:
            line = self.tr("Runway: {0} days of history; a projection needs 7.").format(
                formatting.number(runway.history_days, 1))
        elif runway.note:
            line = runway.note
        else:
            line = ""
        if runway.below_threshold:
            line += "\n" + self.tr("At or below the low-balance threshold.")
        self.runway.setText(line.strip())
        self._fit_runway()
        self.runway.setToolTip(line.strip() + "\n\n" + self.tr(
            "This week's spend per day (generations' costs; a top-up is not spend). The range "
            "runs from the lower to the higher of the 30-day pace and this week's pace give or "
            "take two standard errors of its daily spends."))
        self.runway.setVisible(bool(line.strip()))

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if watched is self.runway and event.type() == QEvent.Type.Resize:
            self._fit_runway()
        return super().eventFilter(watched, event)

    def _fit_runway(self) -> None:
        label = self.runway
        need = label.heightForWidth(label.width()) if label.width() > 0 else -1
        if need > 0 and label.minimumHeight() != need:
            label.setMinimumHeight(need)

    def _open_topup(self) -> None:
        if self._topup_url:
            from PySide6.QtCore import QUrl  # its enums are built on first use: not at start

            from ..dialogs.credits_dialog import open_in_browser

            self.copy_dialog = open_in_browser(QUrl(self._topup_url), self.tr("the checkout"), self)
