"""Scheduled background refresh: every N minutes, backing off while offline or failing."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from . import settings as stored

log = logging.getLogger(__name__)

INTERVAL_CHOICES = (0, 1, 5, 15, 60)  # minutes; 0 is off
DEFAULT_INTERVAL_MIN = stored.SYNC_INTERVAL.default
SETTINGS_KEY = stored.SYNC_INTERVAL.key
TICK_MS = 15_000  # how often the timer looks at the clock; due times are kept in clock seconds
BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 30 * 60.0


def stored_interval(settings: QSettings | None = None) -> int:
    """The refresh interval in minutes from the settings (one of INTERVAL_CHOICES)."""
    value = stored.SYNC_INTERVAL.get(settings)
    return value if value in INTERVAL_CHOICES else DEFAULT_INTERVAL_MIN


def backoff_delay(failures: int) -> float:
    """Seconds to wait after `failures` consecutive failures: 30 s, 1, 2, 4 ... up to 30 min."""
    if failures <= 0:
        return 0.0
    return min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (failures - 1))


class SyncScheduler(QObject):
    """Decides when the next automatic sync runs; the timer only asks `tick()` to look.

    `start_sync` returns False when a sync is already running (never two at once). `clock`
    returns seconds (monotonic); tests pass a fake clock and call `tick()` directly.
    """

    stateChanged = Signal()

    def __init__(
        self,
        start_sync: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
        interval_min: int | None = None,
        timer: QTimer | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._start_sync = start_sync
        self._clock = clock
        self.interval_min = stored_interval() if interval_min is None else interval_min
        self.paused = False
        self.offline = False
        self.failures = 0
        self.running = False
        self.next_due: float | None = None
        self._timer = timer if timer is not None else QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)
        self._reschedule(self._clock() + self.interval_s if self.interval_min else None)

    # -- settings and user choices ------------------------------------------------------------
    @property
    def interval_s(self) -> float:
        return self.interval_min * 60.0

    def start(self) -> None:
        """Start looking at the clock (the first sync is started by the window itself)."""
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def set_interval(self, minutes: int) -> None:
        """Change the interval (0 = off); the next sync is counted from now."""
        if minutes not in INTERVAL_CHOICES:
            raise ValueError(f"refresh interval must be one of {INTERVAL_CHOICES}")
        self.interval_min = minutes
        if not minutes:
            self._reschedule(None)
        elif not self.failures:
            self._reschedule(self._clock() + self.interval_s)
        else:
            self.stateChanged.emit()

    def set_paused(self, paused: bool) -> None:
        """Pause or resume automatic syncs ("Sync now" keeps working)."""
        if paused == self.paused:
            return
        self.paused = paused
        if not paused and self.interval_min and self.next_due is None:
            self._reschedule(self._clock() + self.interval_s)
        else:
            self.stateChanged.emit()

    # -- what the sync controller reports -----------------------------------------------------
    def sync_started(self) -> None:
        self.running = True
        self.stateChanged.emit()

    def sync_finished(self, _result: object = None) -> None:
        """A sync (scheduled or manual) completed: back to the normal rhythm."""
        self.running = False
        self.failures = 0
        self.offline = False
        self._reschedule(self._clock() + self.interval_s if self.interval_min else None)

    def sync_failed(self, _message: str = "", result: object = None) -> None:
        """A sync failed: back off exponentially; offline also waits for the network to return."""
        self.running = False
        kind = getattr(result, "error_kind", None)
        if kind == "cancelled":
            self._reschedule(self._clock() + self.interval_s if self.interval_min else None)
            return
        self.failures += 1
        self.offline = kind == "offline"
        if not self.interval_min:
            self._reschedule(None)
            return
        delay = max(backoff_delay(self.failures), 0.0)
        if not self.offline:
            # a platform error is not fixed by asking more often than the chosen interval
            delay = max(delay, self.interval_s)
        retry_at = getattr(result, "retry_at", None)
        if isinstance(retry_at, int | float):
            # the platform asked us to wait (Retry-After) until then: not a second sooner
            delay = max(delay, min(retry_at - time.time(), 7 * 86400.0))
        self._reschedule(self._clock() + delay)

    def network_changed(self, online: bool) -> None:
        """The OS says the network went away or came back; when back, sync soon."""
        if online and self.offline:
            log.info("network is back; syncing")
            self.failures = 0
            self.offline = False
            self._reschedule(self._clock() if self.interval_min else None)
            self.tick()
        elif not online and not self.offline:
            # the OS can be wrong about reachability: keep probing, at the back-off pace
            self.offline = True
            self.failures = max(self.failures, 1)
            if self.interval_min:
                self._reschedule(self._clock() + backoff_delay(self.failures))

    def on_reachability(self, reachability: object) -> None:
        """Slot for QNetworkInformation.reachabilityChanged."""
        from PySide6.QtNetwork import QNetworkInformation

        states = QNetworkInformation.Reachability
        if reachability == states.Unknown:
            return
        # Site: a corporate network without the internet can still reach an internal platform
        self.network_changed(reachability in (states.Online, states.Site))

    # -- the timer ----------------------------------------------------------------------------
    def tick(self) -> bool:
        """Start a sync if one is due and allowed; True if one was started."""
        if self.paused or self.running or self.next_due is None:
            return False
        if self._clock() < self.next_due:
            return False
        started = self._start_sync()
        if started:
            self.running = True
            self.stateChanged.emit()
        # not started: a sync is already running (manual); its outcome reschedules
        return started

    def _reschedule(self, due: float | None) -> None:
        self.next_due = due
        self.stateChanged.emit()

    def seconds_until_next(self) -> float | None:
        """Seconds until the next automatic sync, or None when none is planned."""
        if self.next_due is None or self.paused:
            return None
        return max(0.0, self.next_due - self._clock())

    def status_text(self) -> str:
        """One line for the tray menu: off, paused, offline, or when the next sync runs."""
        if not self.interval_min:
            return self.tr("Automatic refresh off")
        if self.paused:
            return self.tr("Automatic refresh paused")
        if self.running:
            return self.tr("Syncing…")
        wait = self.seconds_until_next()
        minutes = max(1, round((wait or 0) / 60))
        if self.offline:
            return self.tr("Offline: retrying in {0} min").format(minutes)
        if self.failures:
            return self.tr("Last sync failed: retrying in {0} min").format(minutes)
        return self.tr("Next sync in {0} min").format(minutes)


def watch_network(scheduler: SyncScheduler) -> bool:
    """Tell the scheduler when the OS reports the network lost or back; False if unsupported."""
    try:
        from PySide6.QtNetwork import QNetworkInformation
    except ImportError:
        return False
    if not QNetworkInformation.loadBackendByFeatures(QNetworkInformation.Feature.Reachability):
        return False
    info = QNetworkInformation.instance()
    if info is None:
        return False
    info.reachabilityChanged.connect(scheduler.on_reachability)
    return True
