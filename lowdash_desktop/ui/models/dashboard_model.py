"""The dock figures of the dashboard, computed off the UI thread from the cache."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ...store import rollup
from ...store.cache import Cache
from ...store.queries import HistoryFilter
from ..background import BackgroundCall

if TYPE_CHECKING:
    from ...store import aggregates


def _compute(path: Path, query: aggregates.DashboardQuery) -> aggregates.DashboardFigures:
    # loaded here, off the UI thread and after the first paint: its dataclasses cost the
    # start ~16 M instructions
    from ...store import aggregates

    cache = Cache.open_reader(path)
    try:
        rollup.ensure(cache.conn)  # seconds once on a big cache from before it; else a check
        return aggregates.dashboard(cache.conn, query)
    finally:
        cache.close()


class DashboardModel(QObject):
    """Holds what the docks show (scope, day mode, range) and emits fresh figures."""

    figuresReady = Signal(object)  # aggregates.DashboardFigures
    choicesReady = Signal(object)  # {field: [values]} for the filter bar
    failed = Signal(str)

    def __init__(self, cache_path: Path, parent: QObject | None = None):
        super().__init__(parent)
        self._path = cache_path
        self.scope = HistoryFilter()
        self.utc = False
        self.spend_days = 30
        self.top_n = 5
        self.figures: aggregates.DashboardFigures | None = None
        self._seq = 0
        self._calls: dict[int, BackgroundCall] = {}
        self._closed = False
        self._held = False
        self._wanted: set[str] = set()

    def hold(self) -> None:
        """Queue refreshes instead of starting them (while the first paint is under way)."""
        self._held = True

    def release(self) -> None:
        """Start the refreshes asked for while held."""
        self._held = False
        wanted, self._wanted = self._wanted, set()
        if "figures" in wanted:
            self.refresh()
        if "choices" in wanted:
            self.refresh_choices()

    def close(self) -> None:
        """Drop answers still on their way (the window is closing)."""
        self._closed = True

    @property
    def pending(self) -> bool:
        """True while the newest refresh has not answered yet (or waits for the first paint)."""
        return self._seq in self._calls or "figures" in self._wanted

    def query(self) -> aggregates.DashboardQuery:
        from ...store import aggregates

        return aggregates.DashboardQuery(
            now_ms=time.time_ns() // 1_000_000, utc=self.utc, scope=self.scope,
            spend_days=self.spend_days, top_n=self.top_n,
        )

    def set_scope(self, flt: HistoryFilter) -> None:
        """Model/provider/region/key restrictions (dates and id text do not apply to docks)."""
        scope = HistoryFilter(
            model=flt.model, provider=flt.provider, region=flt.region, key_id=flt.key_id
        )
        if scope != self.scope:
            self.scope = scope
            self.refresh()

    def set_utc(self, utc: bool) -> None:
        if utc != self.utc:
            self.utc = utc
            self.refresh()

    def set_spend_days(self, days: int) -> None:
        if days != self.spend_days:
            self.spend_days = days
            self.refresh()

    def refresh(self) -> None:
        """Recompute in the background; only the newest answer is delivered."""
        if self._held:
            self._wanted.add("figures")
            return
        self._seq += 1
        seq = self._seq
        query = self.query()
        call = BackgroundCall(lambda: _compute(self._path, query), self)
        call.done.connect(lambda figures: self._on_done(seq, figures))
        call.error.connect(lambda exc: self._on_error(seq, exc))
        self._calls[seq] = call
        call.start()

    def busy(self) -> bool:
        """True while figures are being computed."""
        return bool(self._calls)

    def refresh_choices(self) -> None:
        """Distinct models/providers/regions/keys, read in the background (a full scan)."""
        if self._held:
            self._wanted.add("choices")
            return
        path = self._path

        def read() -> dict[str, list[str]]:
            from ...store import aggregates

            cache = Cache.open_reader(path)
            try:
                return aggregates.filter_choices(cache.conn)
            finally:
                cache.close()

        call = BackgroundCall(read, self)
        call.done.connect(lambda v: None if self._closed else self.choicesReady.emit(v))
        call.done.connect(lambda _v: call.deleteLater())
        call.error.connect(lambda exc: None if self._closed else self.failed.emit(str(exc)))
        call.start()

    def _finish(self, seq: int) -> bool:
        call = self._calls.pop(seq, None)
        if call is not None:
            call.deleteLater()
        return seq == self._seq and not self._closed

    def _on_done(self, seq: int, figures: aggregates.DashboardFigures) -> None:
        if self._finish(seq):
            self.figures = figures
            self.figuresReady.emit(figures)

    def _on_error(self, seq: int, exc: Exception) -> None:
        if self._finish(seq):
            self.failed.emit(str(exc))
