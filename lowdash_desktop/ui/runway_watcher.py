"""The runway off the UI thread: figures for the credits dock and tray, and its warning.

The warning is one native notification when the balance lasts fewer days than the number set
(`insight/runway_alert_days` in QSettings, 14 by default, 0 turns it off); it is not announced
again, even after a restart, until the condition has cleared (like the balance warnings).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QSettings, Signal

from ..insight.runway import Runway, below_days, runway_from_cache
from ..session import settings as stored
from ..store.cache import Cache
from . import formatting
from .background import BackgroundCall

log = logging.getLogger(__name__)

ALERT_DAYS_KEY = stored.RUNWAY_ALERT_DAYS.key
DEFAULT_ALERT_DAYS = stored.RUNWAY_ALERT_DAYS.default
NOTIFIED_META = "runway_notified"


def alert_days(settings: QSettings | None = None) -> int:
    """The number of days under which the runway is announced (0: never)."""
    return max(0, stored.RUNWAY_ALERT_DAYS.get(settings))


def _tr(text: str) -> str:
    return QCoreApplication.translate("RunwayWatcher", text)


def days_text(r: Runway) -> str | None:
    """'about 23 days (18–31)' at this week's pace, or None when nothing is projected."""
    if r.days is None or (r.balance is not None and r.balance <= 0):
        return None  # used up: the note says so, never 'about 0 days (0–0)'
    span = r.days
    # below two days, in hours: a balance that lasts 8 hours is not '0 days'
    hours = (span.high if span.high is not None else span.value) < 2
    scale = 24.0 if hours else 1.0
    low = formatting.count(round(span.low * scale))
    if span.high is None:
        rng = _tr("{0} or more").format(low)
    else:
        rng = _tr("{0}–{1}").format(low, formatting.count(round(span.high * scale)))
    words = _tr("about {0} hours ({1})") if hours else _tr("about {0} days ({1})")
    return words.format(formatting.count(round(span.value * scale)), rng)


def _compute(path: Path, now_ms: int) -> Runway:
    cache = Cache.open_reader(path)
    try:
        return runway_from_cache(cache.conn, now_ms)
    finally:
        cache.close()


class RunwayWatcher(QObject):
    """Computes the runway in the background after each sync; emits it; warns once."""

    runwayReady = Signal(object)  # insight.runway.Runway

    def __init__(self, cache: Cache, notify: Callable[[str, str], None], parent=None):
        super().__init__(parent)
        self.cache = cache
        self.notify = notify
        self.runway: Runway | None = None
        self._call: BackgroundCall | None = None
        self._again = False

    def refresh(self) -> None:
        """Compute again (one at a time; the latest request runs after the current one)."""
        if self._call is not None:
            self._again = True
            return
        call = BackgroundCall(lambda: _compute(self.cache.path, time.time_ns() // 1_000_000), self)
        call.done.connect(self._done)
        call.error.connect(self._failed)
        self._call = call
        call.start()

    def _finish(self) -> None:
        if self._call is not None:
            self._call.deleteLater()
            self._call = None
        if self._again:
            self._again = False
            self.refresh()

    def _failed(self, exc: Exception) -> None:
        log.warning("runway: %s", exc)
        self._finish()

    def _done(self, runway: Runway) -> None:
        try:
            self.check(runway)
        except sqlite3.ProgrammingError:  # the window closed its cache while this ran
            self._again = False
            self._finish()
            return
        self.runway = runway
        self.runwayReady.emit(runway)
        self._finish()

    def check(self, runway: Runway, settings: QSettings | None = None) -> bool:
        """Announce the runway once when it is under the days set; True when announced now."""
        limit = alert_days(settings)
        under = below_days(runway, limit)
        was = self.cache.get_meta(NOTIFIED_META) == "1"
        if under and not was:
            self.notify(
                _tr("Lowdash: credit runs low"),
                _tr("At this week's pace the balance lasts {0}, under the {1}-day warning.").format(days_text(runway), formatting.count(limit)),
            )
        if under != was:
            try:
                self.cache.set_meta(NOTIFIED_META, "1" if under else None)
            except Exception as exc:  # a busy cache must not lose the warning itself
                log.warning("cannot record the runway warning: %s", exc)
        return under and not was
