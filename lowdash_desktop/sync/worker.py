"""The thin Qt layer around the sync engine: a worker in a QThread, talking by signals."""

from __future__ import annotations

import logging
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..store.cache import Cache
from ..store.faults import CacheError

if TYPE_CHECKING:
    from ..api.connection import Connection
    from .engine import SyncResult

log = logging.getLogger(__name__)


class SyncWorker(QObject):
    """Runs SyncEngine in its thread; opens its own cache connection for each run."""

    progress = Signal(object)  # SyncProgress
    finished = Signal(object)  # SyncResult
    failed = Signal(str, object)  # message, partial SyncResult

    def __init__(self, cache_path: Path, page_limit: int = 500):
        super().__init__()
        self.cache_path = cache_path
        self.page_limit = page_limit
        self.cancel_event = threading.Event()
        self._client = None  # the client in use, so another thread can cut its socket
        self.full_resync_next = False  # set by the controller for one run

    def abort(self) -> None:
        """Stop the running sync now, even in the middle of a read (callable from any thread)."""
        self.cancel_event.set()
        client = self._client
        if client is not None:
            client.cancel()

    @Slot(object)
    def run(self, connection: Connection) -> None:
        # the engine (httpx, pydantic) loads here, in the sync thread, not during start-up
        from ..api.errors import ApiError, TlsError
        from .engine import SyncEngine, SyncError, SyncResult

        self.cancel_event.clear()
        cache = None
        client = None
        try:
            cache = Cache.open_reader(self.cache_path)
            client = connection.client(cancel_event=self.cancel_event)
            self._client = client
            full, self.full_resync_next = self.full_resync_next, False
            engine = SyncEngine(
                client, cache, page_limit=self.page_limit, on_progress=self.progress.emit,
                cancel_event=self.cancel_event, full_resync=full,
            )
            result = engine.run()
        except SyncError as exc:
            self.failed.emit(exc.message, exc.result)
            return
        except CacheError as exc:  # a full disk, a read-only folder, damage: said plainly
            log.warning("sync stopped: %s", exc)
            result = SyncResult()
            result.error_kind = "disk" if getattr(exc, "kind", None) != "damaged" else "damaged"
            self.failed.emit(str(exc), result)
            return
        except ApiError as exc:  # the client refused its settings (a CA bundle): no crash
            log.warning("sync not started: %s", exc.message)
            result = SyncResult()
            result.error_kind = "tls" if isinstance(exc, TlsError) else "error"
            self.failed.emit(f"Sync failed: {exc.message}", result)
            return
        except Exception as exc:  # the UI must hear about every failure, never a silent thread
            log.exception("sync crashed")
            self.failed.emit(f"Sync failed unexpectedly: {exc}", SyncResult())
            return
        finally:
            self._client = None
            if client is not None:
                client.close()
            if cache is not None:
                cache.close()
        self.finished.emit(result)


class SyncController(QObject):
    """Owns the sync thread: never two syncs at once, cancelled and joined on shutdown."""

    started = Signal()
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str, object)
    _request = Signal(object)
    live: weakref.WeakSet[SyncController] = weakref.WeakSet()

    def __init__(self, cache_path: Path, page_limit: int = 500, parent: QObject | None = None):
        super().__init__(parent)
        SyncController.live.add(self)
        self._thread = QThread()
        self._thread.setObjectName("lowdash-sync")
        self._worker = SyncWorker(cache_path, page_limit)
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.run)
        self._worker.progress.connect(self.progress)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._running = False
        self._shut = False
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._running

    @property
    def page_limit(self) -> int:
        """Generations asked for per feed page (the next sync's; a test asks for small pages)."""
        return self._worker.page_limit

    @page_limit.setter
    def page_limit(self, limit: int) -> None:
        self._worker.page_limit = limit

    def thread_running(self) -> bool:
        return self._thread.isRunning()

    def sync_now(self, connection: Connection, full_resync: bool = False) -> bool:
        """Start a sync unless one is running; True if started.

        `full_resync` reads the feed from its start (the saved position was refused); the
        cached rows are kept.
        """
        if self._running or not self._thread.isRunning():
            return False
        self._worker.full_resync_next = full_resync
        self._running = True
        self.started.emit()
        self._request.emit(connection)
        return True

    def cancel(self) -> None:
        self._worker.abort()

    def _on_finished(self, result: SyncResult) -> None:
        self._running = False
        if not self._shut:  # after shutdown the listeners may have closed their caches
            self.finished.emit(result)

    def _on_failed(self, message: str, result: SyncResult) -> None:
        self._running = False
        if not self._shut:
            self.failed.emit(message, result)

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Cancel any sync (cutting a request in flight) and join the thread; True if in time."""
        self._shut = True
        self._worker.abort()
        self._thread.quit()
        ended = self._thread.wait(timeout_ms)
        if ended:
            self._worker.deleteLater()
        return ended
