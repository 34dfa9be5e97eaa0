"""The insight figures off the UI thread: spikes, spend by key and periods, and the spike warning.

After each sync (and when the spike minimum changes) the whole `insight.report.Insight` is
computed on a worker thread from the cache and emitted for the Alerts, Spend by key and Periods
views and the spend chart. A spike that ended in the last 24 hours is announced once natively;
what was announced is kept in the cache (`spikes_notified`), so a restart does not announce it
again, and a spike that grows over later hours (same key or model, overlapping hours) is the
same spike. Older spikes are listed in the Alerts view, never announced.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QSettings, Signal

from ..session import settings as stored
from ..store.cache import Cache
from . import formatting
from .background import BackgroundCall

log = logging.getLogger(__name__)

SPIKE_MIN_KEY = stored.SPIKE_MIN_AMOUNT.key  # a decimal string in the account's currency
DEFAULT_SPIKE_MIN = stored.SPIKE_MIN_AMOUNT.default
WINDOW_DAYS = 30  # the window of the spikes and of spend by key
NOTIFIED_META = "spikes_notified"  # JSON [[scope, id, start_ms, end_ms], ...]


def _tr(text: str) -> str:
    return QCoreApplication.translate("InsightWatcher", text)


def spike_min_nanos(settings: QSettings | None = None) -> int:
    """The smallest hourly spend that can be a spike, in nano-units (the default if unreadable)."""
    from ..insight.command import parse_amount  # Qt-free, cheap

    text = stored.SPIKE_MIN_AMOUNT.get(settings)
    try:
        return parse_amount(text or DEFAULT_SPIKE_MIN)
    except ValueError:
        return parse_amount(DEFAULT_SPIKE_MIN)


def _compute(path: Path, now_ms: int, min_nanos: int):
    from ..insight.report import insight
    from ..insight.spikes import SpikeRule

    cache = Cache.open_reader(path)
    try:
        return insight(cache.conn, now_ms, WINDOW_DAYS, SpikeRule(min_amount=min_nanos))
    finally:
        cache.close()


def hours_text(start_ms: int, end_ms: int, with_zone: bool = False) -> str:
    """'2026-12-02 14:00–16:00' (local time; the end's date too when it is another day),
    with the zone ('… CET') where the hours stand alone, as in the Alerts list."""
    start, end = formatting.local_time(start_ms), formatting.local_time(end_ms)
    same_day = start[:10] == end[:10] or end[11:19] == "00:00:00" and end_ms - start_ms <= 86_400_000
    text = f"{start[:16]}–{end[11:16] if same_day else end[:16]}"
    if with_zone:
        text += " " + (formatting.from_ms(start_ms).astimezone().tzname() or "")
    return text.strip()


def spike_text(ins, spike) -> str:
    """'key “batch” 14:00–16:00: 12.40 EUR (expected 0.35 EUR)', in the user's locale."""
    from ..store.rows import nanos_to_money

    scope = _tr("key") if spike.scope == "key" else _tr("model")
    when = hours_text(spike.start_ms, spike.end_ms)
    return _tr("{0} “{1}”, {2}: {3} (expected {4})").format(
        scope, ins.spike_name(spike), when,
        formatting.money(nanos_to_money(spike.spend), ins.currency),
        formatting.money(nanos_to_money(spike.expected), ins.currency),
    )


class InsightWatcher(QObject):
    """Computes the insight in the background; emits it; announces each new spike once."""

    insightReady = Signal(object)  # insight.report.Insight

    def __init__(self, cache_path: Path, cache: Cache | None,
                 notify: Callable[[str, str], None], parent=None):
        super().__init__(parent)
        self.cache_path = cache_path
        self.cache = cache  # where the announced spikes are recorded (None: nowhere)
        self.notify = notify
        self.insight = None
        self._call: BackgroundCall | None = None
        self._again = False
        self._closed = False

    def close(self) -> None:
        """Drop answers still on their way (the window is closing)."""
        self._closed = True

    def refresh(self) -> None:
        """Compute again (one at a time; the latest request runs after the current one)."""
        if self._closed:
            return
        if self._call is not None:
            self._again = True
            return
        path, now_ms, min_nanos = self.cache_path, time.time_ns() // 1_000_000, spike_min_nanos()
        call = BackgroundCall(lambda: _compute(path, now_ms, min_nanos), self)
        call.done.connect(self._done)
        call.error.connect(self._failed)
        self._call = call
        call.start()

    @property
    def busy(self) -> bool:
        return self._call is not None

    def _finish(self) -> None:
        if self._call is not None:
            self._call.deleteLater()
            self._call = None
        if self._again and not self._closed:
            self._again = False
            self.refresh()

    def _failed(self, exc: Exception) -> None:
        log.warning("insight: %s", exc)
        self._finish()

    def _done(self, ins) -> None:
        if self._closed:
            self._finish()
            return
        try:
            self.check(ins)
        except sqlite3.ProgrammingError:  # the window closed its cache while this ran
            self._again = False
        self.insight = ins
        self.insightReady.emit(ins)
        self._finish()

    # -- the spike warning -------------------------------------------------------------------
    def notified(self) -> list[tuple[str, str, int, int]]:
        if self.cache is None:
            return []
        try:
            raw = json.loads(self.cache.get_meta(NOTIFIED_META) or "[]")
            return [(str(s), str(i), int(a), int(b)) for s, i, a, b in raw]
        except (ValueError, TypeError):
            return []

    def check(self, ins) -> list:
        """Announce the spikes of the last 24 hours not announced yet; returns them."""
        # the rule loads with the first insight, after the first paint
        from ..rules.alerts import spike_marks_to_keep, spikes_to_announce

        before = self.notified()
        fresh = spikes_to_announce(ins.spikes, ins.now_ms, before)
        if len(fresh) == 1:
            self.notify(_tr("Lowdash: spend spike"), spike_text(ins, fresh[0]))
        elif fresh:
            self.notify(_tr("Lowdash: {0} spend spikes").format(formatting.count(len(fresh))),
                        "\n".join(spike_text(ins, s) for s in fresh[:5]))
        keep = spike_marks_to_keep(ins.spikes, before, ins.now_ms, ins.days)
        if self.cache is not None and keep != set(before):
            try:
                self.cache.set_meta(NOTIFIED_META, json.dumps(sorted(keep)))
            except sqlite3.ProgrammingError:
                raise
            except Exception as exc:  # a busy cache must not lose the warning itself
                log.warning("cannot record the announced spikes: %s", exc)
        return fresh
