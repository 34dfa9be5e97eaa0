"""Guard against Qt binding releases that drop references to True/None while charts redraw.

PySide6 6.12.0 does: every pyqtgraph item added and removed costs True a few references, and
an app that refreshes its charts all day dies with "Fatal Python error: bool_dealloc".
"""

from __future__ import annotations

import gc
import sys
import time

from lowdash_desktop.store import aggregates
from lowdash_desktop.ui.docks.spend_dock import SpendDock
from lowdash_desktop.ui.docks.top_models_dock import TopModelsDock


def test_chart_redraws_keep_true_and_none_alive(qtbot, demo_platform, tmp_path):
    from lowdash_desktop.api.connection import Connection
    from lowdash_desktop.store.cache import Cache
    from lowdash_desktop.sync.engine import SyncEngine

    cache, _ = Cache.open(tmp_path / "c.sqlite3")
    with Connection(demo_platform.base_url, demo_platform.api_key).client() as client:
        SyncEngine(client, cache).run()
    figures = aggregates.dashboard(
        cache.conn, aggregates.DashboardQuery(now_ms=int(time.time() * 1000))
    )
    cache.close()
    top, spend = TopModelsDock(), SpendDock()
    qtbot.addWidget(top)
    qtbot.addWidget(spend)
    top.show_figures(figures)
    spend.show_figures(figures)
    gc.collect()
    before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(30):
        top.show_figures(figures)
        spend.show_figures(figures)
    gc.collect()
    after = sys.getrefcount(True), sys.getrefcount(None)
    assert after[0] >= before[0] - 10, f"True lost {before[0] - after[0]} references"
    assert after[1] >= before[1] - 10, f"None lost {before[1] - after[1]} references"
