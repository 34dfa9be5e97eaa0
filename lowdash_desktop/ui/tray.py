"""The tray / menu-bar icon: there while the app runs; also how native notifications appear."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from ..session import settings as stored
from ..session.session import Session
from ..store.cache import Cache
from . import formatting
from .background import BackgroundCall

log = logging.getLogger(__name__)

KEEP_IN_TRAY_KEY = stored.KEEP_IN_TRAY.key


def local_midnight_ms(now: datetime | None = None) -> int:
    """Epoch milliseconds of the last local midnight (the start of 'today' on screen)."""
    local = (now or datetime.now().astimezone()).astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp() * 1000)


@dataclass
class TrayFigures:
    """What the tray shows, already formatted for reading."""

    balance: str | None
    today_spend: str
    today_tokens: int
    last_sync: str
    alert: str | None
    today_known: bool = True  # False until the first sum over today's rows has come back


class TrayIcon(QSystemTrayIcon):
    """Icon with a menu; `notify()` shows a native notification where the platform has one.

    Today's totals are summed on a worker thread (a query over today's rows can take tens of
    milliseconds on a big cache); `refresh()` redraws at once from the last sums and asks for
    new ones, and `totalsUpdated` fires when they arrive.

    The figures, the schedule and the problem on show come from `session`; `window` is what
    the menu shows, hides and syncs (through its public `raise_and_show` and `sync_now`);
    `quit_app` ends the application (default: QApplication.quit).
    """

    totalsUpdated = Signal()

    def __init__(self, session: Session, window, *, quit_app: Callable[[], None] | None = None):
        super().__init__(window)
        self.session = session
        self.window = window
        self._quit_app = quit_app or QApplication.quit
        self._alert: str | None = None
        self.runway_line: str | None = None  # "Runway: about 23 days (18–31)", from the watcher
        self._totals: dict[str, tuple[Decimal, int, int]] | None = None
        self._summing = False
        self._sum_again = False
        icon = QApplication.windowIcon()
        if icon.isNull():
            from PySide6.QtWidgets import QStyle  # its type costs ~15 ms to load: only here

            icon = window.style().standardIcon(QStyle.StandardPixmap.SP_ComputerIcon)
        self.setIcon(QIcon(icon))
        self.setToolTip("Lowdash")
        self.menu = QMenu()  # a tray icon is no widget: the menu goes when the icon does
        self.destroyed.connect(self.menu.deleteLater)
        self.balance_action = self._info_action()
        self.today_action = self._info_action()
        self.last_sync_action = self._info_action()
        self.schedule_action = self._info_action()
        self.alert_action = self._info_action()
        self.menu.addSeparator()
        self.open_action = self.menu.addAction(self.tr("Open Lowdash"), window.raise_and_show)
        self.sync_action = self.menu.addAction(self.tr("Sync now"), window.sync_now)
        self.pause_action = self.menu.addAction(self.tr("Pause sync"))
        self.pause_action.setCheckable(True)
        self.pause_action.toggled.connect(self._set_paused)
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction(self.tr("Quit"), self._quit)
        self.setContextMenu(self.menu)
        self.activated.connect(self._on_activated)
        self.notifications: list[tuple[str, str]] = []  # what was shown, newest last
        self._connect_session()
        self.redraw()  # the window asks for today's sums once it has painted

    def _info_action(self):
        action = self.menu.addAction("")
        action.setEnabled(False)  # figures, not commands
        return action

    def _connect_session(self) -> None:
        session = self.session
        if session.sync is not None:
            session.started.connect(self.redraw)
            session.synced.connect(self.refresh)  # new rows: sum today again
            session.failed.connect(self.redraw)
        if session.scheduler is not None:
            session.scheduler.stateChanged.connect(self.redraw)
        session.noticeChanged.connect(self.redraw)

    @property
    def scheduler(self):
        return self.session.scheduler

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def notify(self, title: str, text: str) -> None:
        """One native notification (recorded, so the window and tests can see it)."""
        self.notifications.append((title, text))
        if self.available() and self.supportsMessages():
            self.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 10_000)

    # -- alerts -----------------------------------------------------------------------------
    def set_alert(self, text: str | None) -> None:
        """Show (or, with None, clear) an alert in the tooltip and menu, e.g. a low balance."""
        self._alert = text or None
        self.redraw()

    def active_alert(self, balance: Decimal | None = None) -> str | None:
        """The alert to show: one set by set_alert, a sync problem, or a negative balance."""
        if self._alert:
            return self._alert
        if self.session.notice:
            return self.session.notice
        if balance is not None and balance < 0:
            return self.tr("Negative balance: top up to keep requests flowing.")
        return None

    # -- figures --------------------------------------------------------------------------
    def figures(
        self,
        now: datetime | None = None,
        totals: dict[str, tuple[Decimal, int, int]] | None = None,
        *,
        summed: bool = False,
    ) -> TrayFigures:
        """Balance, today's spend and tokens, last sync and alert, from the cache.

        Without `totals` (and not `summed`) today's rows are summed here, on this thread.
        """
        cache = self.session.cache
        credits = self.session.credits_preview()  # before the first paint too
        currency = credits.currency if credits else ""
        balance = credits.balance if credits else None
        known = True
        if totals is None and not summed:
            from ..store.aggregates import today_totals  # its dataclasses: not before the paint

            totals = today_totals(cache.conn, local_midnight_ms(now))
        elif totals is None:
            totals, known = {}, False
        if not totals:
            spend = formatting.money(Decimal(0), currency, places=2)
        else:
            spend = " + ".join(
                formatting.money(cost, cur or currency) for cur, (cost, _t, _n) in totals.items()
            )
        now_ms = int(now.timestamp() * 1000) if now else None
        return TrayFigures(
            balance=formatting.money(balance, currency, places=2) if balance is not None else None,
            today_spend=spend,
            today_tokens=sum(t for _c, t, _n in totals.values()),
            last_sync=formatting.ago(cache.last_sync_ms, now_ms),
            alert=self.active_alert(balance),
            today_known=known,
        )

    def menu_lines(self, figures: TrayFigures) -> list[str]:
        """The figure lines at the top of the menu (and, joined, the tooltip)."""
        lines = [
            self.tr("Balance: {0}").format(figures.balance or self.tr("not synced yet")),
            self.tr("Today: {0} · {1} tokens").format(
                figures.today_spend, formatting.tokens(figures.today_tokens)
            )
            if figures.today_known
            else self.tr("Today: adding up…"),
            self.tr("Last synced: {0}").format(figures.last_sync),
        ]
        if self.scheduler is not None:
            lines.append(self.scheduler.status_text())
        if figures.alert:
            lines.append(self.tr("⚠ {0}").format(figures.alert))
        return lines

    def tooltip_text(self, figures: TrayFigures) -> str:
        """The tooltip: the app name and the figure lines."""
        lines = self.menu_lines(figures)
        if self.runway_line:
            lines.insert(1, self.runway_line)
        return "\n".join(["Lowdash", *lines])

    def show_runway(self, runway) -> None:
        """The runway's line in the tooltip (none while nothing is projected)."""
        from .runway_watcher import days_text

        text = days_text(runway)
        self.runway_line = None if text is None else self.tr("Runway: {0}").format(text)
        self.redraw()

    def refresh(self, *_args: object) -> None:
        """Redraw the tooltip and menu now, and sum today's rows again in the background."""
        self.redraw()
        self._sum_today()

    def _sum_today(self) -> None:
        if self.session.closed:
            return
        if self._summing:  # one sum at a time; the latest request runs after it
            self._sum_again = True
            return
        self._summing = True
        path, since = self.session.cache_path, local_midnight_ms()

        def total() -> dict[str, tuple[Decimal, int, int]]:
            from ..store.aggregates import today_totals

            reader = Cache.open_reader(path)
            try:
                return today_totals(reader.conn, since)
            finally:
                reader.close()

        call = BackgroundCall(total, self)
        call.done.connect(self._summed)
        call.error.connect(self._sum_failed)
        call.start()

    def _summed(self, totals: dict[str, tuple[Decimal, int, int]]) -> None:
        self._totals = totals
        self._sum_done()
        self.totalsUpdated.emit()

    def _sum_failed(self, exc: Exception) -> None:
        log.warning("tray: could not sum today's generations: %s", exc)
        self._sum_done()

    def _sum_done(self) -> None:
        self._summing = False
        self.redraw()
        if self._sum_again:
            self._sum_again = False
            self._sum_today()

    def redraw(self) -> None:
        """Update the tooltip and menu from the last sums (no database work for today)."""
        if self.session.closed:
            return
        figures = self.figures(totals=self._totals, summed=True)
        lines = self.menu_lines(figures)
        actions = [self.balance_action, self.today_action, self.last_sync_action]
        scheduler = self.scheduler
        if scheduler is not None:
            actions.append(self.schedule_action)
        self.schedule_action.setVisible(scheduler is not None)
        for action, line in zip(actions, lines, strict=False):
            action.setText(line)
        self.alert_action.setVisible(bool(figures.alert))
        self.alert_action.setText(lines[-1] if figures.alert else "")
        self.setToolTip(self.tooltip_text(figures))
        self.pause_action.setEnabled(scheduler is not None)
        if scheduler is not None and self.pause_action.isChecked() != scheduler.paused:
            self.pause_action.blockSignals(True)
            self.pause_action.setChecked(scheduler.paused)
            self.pause_action.blockSignals(False)

    # -- commands ---------------------------------------------------------------------------
    def _set_paused(self, paused: bool) -> None:
        if self.scheduler is not None:
            self.scheduler.set_paused(paused)

    def _quit(self) -> None:
        self._quit_app()

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        # macOS opens the menu on a click; elsewhere a click shows or hides the window
        if reason == QSystemTrayIcon.ActivationReason.Trigger and sys.platform != "darwin":
            if self.window.isVisible() and not self.window.isMinimized():
                self.window.hide()
            else:
                self.window.raise_and_show()


def keep_in_tray(settings: QSettings | None = None) -> bool:
    """Whether closing the window keeps Lowdash in the tray (default: yes, if there is a tray)."""
    if not TrayIcon.available():
        return False
    return stored.KEEP_IN_TRAY.get(settings)


def close_to_tray(window, tray: TrayIcon) -> bool:
    """Hide the window into the tray instead of quitting, if so chosen; True if hidden.

    The first time, a notification explains where the app went and where to change it.
    """
    if not keep_in_tray():
        return False
    window.hide()
    if not stored.CLOSE_EXPLAINED.get():
        stored.CLOSE_EXPLAINED.set(True)
        tray.notify(
            window.tr("Lowdash is still running"),
            window.tr(
                "Closing the window keeps Lowdash in the tray, refreshing on schedule. "
                "Use Quit in the tray menu to exit, or turn this off in Preferences."
            ),
        )
    return True
