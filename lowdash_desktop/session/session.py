"""One open account: its cache, its sync, its schedule, and what the platform last told us.

The window, the tray, the account menu and the dialogs are handed the Session, never the
window: they read the account's state through its typed accessors (validated once with the
api models) and hear about changes through its signals.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ..api.connection import Connection
from ..store.cache import Cache, CountAhead
from ..store.db import OpenReport
from ..sync.worker import SyncController
from .answers import CachedAnswers
from .scheduler import SyncScheduler, watch_network

if TYPE_CHECKING:
    from ..api.models import Account
    from ..sync.engine import SyncResult

log = logging.getLogger(__name__)


class Session(CachedAnswers, QObject):
    """The cache file of one account, its connection, and everything that works on them.

    Built by `open_session` (the cache is checked and repaired there, before any window);
    `open()` opens the reader connection and the sync thread, `close()` ends them.
    """

    started = Signal()  # a sync began
    progress = Signal(object)  # a running sync's SyncProgress
    changed = Signal(str)  # a cached answer of the platform changed ("credits", "keys", ...)
    synced = Signal(object)  # a sync completed: its SyncResult
    failed = Signal(str, object)  # a sync failed: message, partial SyncResult
    offline = Signal(bool)  # True when the platform could not be reached, False when it could
    connectionChanged = Signal()  # signed in or out, a key rotated, network settings applied
    noticeChanged = Signal()  # the problem the window shows (offline, an error) came or went
    accountChanged = Signal()  # the account's label or demo state changed (the title follows)
    # a key of another account was signed in with: the application opens that account
    otherAccountRequested = Signal(object, object)  # Connection, api Account

    def __init__(
        self,
        cache_path: Path,
        connection: Connection | None,
        account_label: str = "",
        demo: bool = False,
        open_report: OpenReport | None = None,
        notes: list[str] | None = None,
        keyring_url: str | None = None,
        sync_on_open: bool = False,
        count_ahead: CountAhead | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.cache_path = cache_path
        self._connection = connection
        self.account_label = account_label
        self.demo = demo
        self.open_report = open_report
        self.notes = list(notes or [])
        # a known account whose key is still in the keyring: the window reads it after its
        # first paint (loading keyring and asking the OS store takes 0.2 s and more, or waits
        # on an unlock prompt), then signs in and syncs; with no key there, it offers sign-in
        self.keyring_url = keyring_url
        self.sync_on_open = sync_on_open  # sync once the window has painted
        self.count_ahead = count_ahead  # the row count, taken while the window is built
        self.cache: Cache | None = None
        self.sync: SyncController | None = None
        self.scheduler: SyncScheduler | None = None
        self._closed = False
        self._offline: bool | None = None  # None: no sync this run (the cache's record holds)
        self._notice: str | None = None
        self._watchers: list = []

    def take_count(self) -> int | None:
        """The count taken ahead (once: later counts must see later writes), else None."""
        ahead, self.count_ahead = self.count_ahead, None
        return ahead.result() if ahead is not None else None

    # -- the connection -------------------------------------------------------------------
    @property
    def connection(self) -> Connection | None:
        return self._connection

    @connection.setter
    def connection(self, connection: Connection | None) -> None:
        changed = connection != self._connection
        self._connection = connection
        if changed:
            self.connectionChanged.emit()

    @property
    def signed_in(self) -> bool:
        return self._connection is not None

    # -- life -------------------------------------------------------------------------------
    def open(self, page_limit: int = 500) -> None:
        """Open the UI thread's reader connection, the sync thread and the schedule."""
        if self.cache is not None:
            return
        self.cache = Cache.open_reader(self.cache_path)
        self.sync = SyncController(self.cache_path, page_limit, parent=self)
        self.scheduler = SyncScheduler(self.sync_now, parent=self)
        # the schedule hears first: a listener of `synced` reads its next due time
        self.sync.started.connect(self.scheduler.sync_started)
        self.sync.finished.connect(self.scheduler.sync_finished)
        self.sync.failed.connect(self.scheduler.sync_failed)
        self.sync.finished.connect(self._on_synced)
        self.sync.failed.connect(self._on_failed)
        # everything above the session hears of syncs here, never from the controller
        self.sync.started.connect(self.started)
        self.sync.progress.connect(self.progress)

    def add_watcher(self, watcher) -> None:
        """Own a watcher of this account (alerts, runway, insight): closed with the session.

        The watchers live in ui/ (they notify through the tray); the session only needs their
        `close()`, so it takes them here instead of importing them."""
        self._watchers.append(watcher)

    @property
    def watchers(self) -> list:
        return list(self._watchers)

    def start_schedule(self) -> None:
        """Start the automatic refresh's clock (the first sync is started by the window)."""
        if self.scheduler is not None and not self._closed:
            self.scheduler.start()

    def watch_network(self) -> bool:
        """Let the OS's network reports speed up or hold back the schedule."""
        return self.scheduler is not None and watch_network(self.scheduler)

    @property
    def closed(self) -> bool:
        """True once `close()` ran: nothing may read the cache any more."""
        return self._closed

    def close(self) -> None:
        """Stop the schedule, cancel and join the sync, close the cache; safe to repeat."""
        if self._closed:
            return
        self._closed = True
        for watcher in self._watchers:
            close = getattr(watcher, "close", None)
            if close is not None:
                close()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.sync is not None:
            self.sync.shutdown()
        if self.cache is not None:
            self.cache.close()

    # -- syncing ----------------------------------------------------------------------------
    def sync_now(self, full_resync: bool = False) -> bool:
        """Start a sync now (False when signed out, closed, or one is running)."""
        if self._connection is None or self.sync is None or self._closed:
            return False
        return self.sync.sync_now(self._connection, full_resync=full_resync)

    def _on_synced(self, result: SyncResult) -> None:
        self._set_offline(False)
        for name in result.snapshots_changed:
            self.changed.emit(name)
        self.synced.emit(result)

    def _on_failed(self, message: str, result: SyncResult) -> None:
        if result.error_kind != "cancelled":
            self._set_offline(result.error_kind == "offline")
        for name in result.snapshots_changed:
            self.changed.emit(name)
        self.failed.emit(message, result)

    def _set_offline(self, offline: bool) -> None:
        before, self._offline = self._offline, offline
        if before != offline:
            self.offline.emit(offline)

    def is_offline(self) -> bool:
        """The platform could not be reached at the last sync (this run's, or the cache's
        record of the last one before a sync has run)."""
        if self._offline is not None:
            return self._offline
        if self.cache is None:
            return False
        return (self.cache.get_meta("last_sync_error") or "").startswith("Offline")

    def last_sync_error(self) -> str | None:
        return self.cache.get_meta("last_sync_error") if self.cache is not None else None

    def rename(self, label: str, demo: bool | None = None) -> None:
        """Another name for the account (signed in again), or no longer the demo platform."""
        before = (self.account_label, self.demo)
        self.account_label = label
        if demo is not None:
            self.demo = demo
        if (self.account_label, self.demo) != before:
            self.accountChanged.emit()

    # -- the problem on show ------------------------------------------------------------------
    @property
    def notice(self) -> str | None:
        """What is wrong now, in the words the window shows (offline, a refused key, damage)."""
        return self._notice

    def set_notice(self, text: str | None) -> None:
        text = text or None
        if text != self._notice:
            self._notice = text
            self.noticeChanged.emit()

    # -- opening another account ------------------------------------------------------------------
    def request_other_account(self, connection: Connection, info: Account) -> None:
        """A key of another account was signed in with: ask the application to open it."""
        self.otherAccountRequested.emit(connection, info)

    # -- work off the UI thread -------------------------------------------------------------------
    def open_worker_reader(self) -> Cache:
        """A connection of its own for the calling worker thread (SQLite connections stay in
        the thread that opened them); the caller closes it. Dialogs use this instead of
        knowing where the cache lives."""
        return Cache.open_reader(self.cache_path)


def fresh_cache(path: Path) -> None:
    """Delete a cache and its WAL files (the demo starts from scratch every time)."""
    for suffix in ("", "-wal", "-shm"):
        target = Path(str(path) + suffix)
        if target.exists():
            target.unlink()


def upgrade_cache(root: Path, account) -> OpenReport:
    """Open (migrating, compacting) and close the account's cache: the slow part of opening an
    older cache, for a worker thread; `open_session(..., upgraded=report)` goes on from it."""
    cache, report = Cache.open(account.cache_path(root))
    cache.close()
    return report


def open_session(root: Path, connection: Connection | None, account, demo: bool = False,
                 upgraded: OpenReport | None = None):
    """Open the account's cache (repairing or migrating it) and describe it as a Session.

    `upgraded`: what `upgrade_cache` reported, when it opened the cache first (its notes, the
    safety copy's path among them, are the session's too)."""
    path = account.cache_path(root)
    if demo:
        fresh_cache(path)
    cache, report = Cache.open(path)
    cache.close()
    if upgraded is not None:
        report.notes[:0] = upgraded.notes
        report.safety_copy = report.safety_copy or upgraded.safety_copy
        report.migrated_from = report.migrated_from or upgraded.migrated_from
        report.moved_aside = report.moved_aside or upgraded.moved_aside
    return Session(
        cache_path=path,
        connection=connection,
        account_label=account.label,
        demo=demo,
        open_report=report,
        notes=list(report.notes),
    )
