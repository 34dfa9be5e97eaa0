"""Run every figure with its baseline side by side; print a table and one JSON line of ratios."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.cachebuild import bench_cache  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class Figure:
    """One row of the report: ours vs baseline, several runs each."""

    def __init__(self, name: str, unit: str, target: str, check: Callable[[float, float], bool]):
        self.name, self.unit, self.target, self.check = name, unit, target, check
        self.ours: list[float] = []
        self.base: list[float] = []
        # CPU seconds of this process for each run, where a figure measures them
        self.ours_cpu: list[float] = []
        self.base_cpu: list[float] = []

    @property
    def ours_med(self) -> float:
        return statistics.median(self.ours)

    @property
    def base_med(self) -> float | None:
        """None for a figure without a baseline (a target of its own, such as <= 2 s)."""
        return statistics.median(self.base) if self.base else None

    @property
    def ratio(self) -> float | None:
        if self.base_med is None:
            return None
        return self.ours_med / self.base_med if self.base_med else float("inf")

    def met(self) -> bool | None:
        """None for an informative row that has no target of its own."""
        return self.check(self.ours_med, self.base_med)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def timed_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock seconds and this process's CPU seconds (user + sys, every thread): on a
    shared 2-core machine the wall clock moves with the other jobs, the CPU much less."""
    cpu = time.process_time()
    wall = timed(fn)
    return wall, time.process_time() - cpu


# -- cold start and memory ---------------------------------------------------------------------
def compile_ours() -> None:
    """An installed wheel and the frozen app carry byte-compiled modules; an editable checkout
    under PYTHONDONTWRITEBYTECODE=1 would compile ours from source on every start instead."""
    import compileall

    compileall.compile_dir(str(ROOT / "lowdash_desktop"), quiet=1)
    compileall.compile_dir(str(HERE), quiet=1)


def child_env(mode: str, cache: Path | None) -> dict[str, str]:
    """The environment of a start-up child: a fresh data dir (for `app`, holding the known
    account of `cache`, set up before any clock starts, as on a desktop), no saved settings,
    the benchmark key store."""
    data_dir = tempfile.mkdtemp()
    if mode == "app" and cache:
        from benchmarks.startup_child import known_account

        known_account(Path(data_dir), cache)
    env = {
        **os.environ,
        "LOWDASH_DATA_DIR": data_dir,
        "XDG_CONFIG_HOME": tempfile.mkdtemp(),  # QSettings: no saved layout, nothing written
        "PYTHON_KEYRING_BACKEND": "benchmarks.bench_keyring.BenchKeyring",
    }
    env.pop("LOWDASH_API_KEY", None)
    return env


def child(mode: str, cache: Path | None) -> tuple[float, float]:
    """Seconds from spawn to painted window, and RSS (MB) after scrolling."""
    args = [sys.executable, "-m", "benchmarks.startup_child", mode]
    env = child_env(mode, cache)
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    painted = None
    rss = float("nan")
    for line in proc.stdout:
        if line.startswith("painted"):
            painted = time.perf_counter() - started
        elif line.startswith("rss"):
            rss = float(line.split()[1])
    proc.wait()
    if painted is None:
        raise RuntimeError(f"{mode} child did not paint (exit {proc.returncode})")
    return painted, rss


def bench_start_and_memory(cache: Path, repeats: int) -> list[Figure]:
    start = Figure("cold start to painted window", "s", "<= 1.5x bare QMainWindow",
                   lambda o, b: o <= 1.5 * b)
    memory = Figure("RSS, 1M table open and scrolled", "MB", "<= +100 MB over bare",
                    lambda o, b: o - b <= 100)
    # Not a target: Qt alone, showing a window of the app's shape (menus, status bar, a table of
    # 40 rows, four docks of labels), to show how much of the start is Qt's and how much ours.
    shape = Figure("cold start vs Qt-only window of our shape", "s", "informative",
                   lambda o, b: None)
    compile_ours()
    for _ in range(repeats):
        t, r = child("bare", None)
        start.base.append(t)
        memory.base.append(r)
        t, r = child("app", cache)
        start.ours.append(t)
        memory.ours.append(r)
        shape.ours.append(t)
        shape.base.append(child("shape", None)[0])
    return [start, memory, shape]


def counted_child(mode: str, cache: Path | None) -> float:
    """Instructions (millions) a child runs from its first one to its first paint, counted by
    valgrind's callgrind: the same on every run, however busy the machine is."""
    import re
    import shutil

    env = {**child_env(mode, cache), "LOWDASH_BENCH_EXIT_AT_PAINT": "1"}
    out = Path(tempfile.mkdtemp()) / "callgrind.out"
    python = os.path.realpath(sys.executable)  # a launcher script would be counted instead
    proc = subprocess.run(
        [shutil.which("valgrind") or "valgrind", "--tool=callgrind",
         f"--callgrind-out-file={out}", python, "-m", "benchmarks.startup_child", mode],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=900,
    )
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if "painted" not in proc.stdout or not found:
        raise RuntimeError(f"{mode} child under callgrind did not paint: {proc.stderr[-500:]}")
    return int(found.group(1)) / 1e6


def bench_start_instructions(cache: Path) -> list[Figure]:
    """The cold-start figure counted in instructions instead of seconds (informative).

    Wall-clock starts on a shared 2-core VM move by 30% from one run to the next; the
    instruction count to the first paint moves by well under 1%, so a change of a few ms
    shows here when the timed figure cannot see it. Needs valgrind (Debian: valgrind).
    """
    import shutil

    if shutil.which("valgrind") is None:
        print("valgrind not found: skipping the instruction counts (apt-get install valgrind)")
        return []
    start = Figure("cold start, instructions to first paint", "Minstr",
                   "informative (the <= 1.5x target, counted)", lambda o, b: None)
    shape = Figure("instructions vs Qt-only window of our shape", "Minstr", "informative",
                   lambda o, b: None)
    compile_ours()
    bare = counted_child("bare", None)
    ours = counted_child("app", cache)
    start.ours, start.base = [ours], [bare]
    shape.ours, shape.base = [ours], [counted_child("shape", None)]
    return [start, shape]


# -- table ---------------------------------------------------------------------------------
def bench_table(cache: Path, repeats: int) -> list[Figure]:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from lowdash_desktop.store import queries
    from lowdash_desktop.ui.models.transaction_table_model import (
        COLUMNS,
        PAGE_SIZE,
        TransactionTableModel,
    )

    QApplication.instance() or QApplication([])
    conn = sqlite3.connect(cache)
    cols = ", ".join(queries.ROW_COLUMNS)
    model_name = conn.execute(
        "SELECT resolved_model FROM generations GROUP BY 1 ORDER BY count(*) DESC LIMIT 1 OFFSET 3"
    ).fetchone()[0]
    cost_col = next(i for i, c in enumerate(COLUMNS) if c[0] == "cost")
    kept = conn.execute("SELECT 1 FROM meta WHERE key = 'generation_count'").fetchone()
    count_sql = ("SELECT value FROM meta WHERE key = 'generation_count'" if kept
                 else "SELECT count(*) FROM generations")
    numbered = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'names'").fetchone()
    by_model = ("resolved_n = (SELECT nid FROM names WHERE name = ?)" if numbered
                else "resolved_model = ?")
    figures = {
        k: Figure(f"table: {k}", "ms", "<= 2x raw sqlite3 and <= 50 ms",
                  lambda o, b: o <= 2 * b and o <= 0.050)
        for k in ("open", "sort by cost", "filter by model", "jump to last row")
    }

    def raw_first(sql: str, *params) -> None:
        conn.execute(sql, params).fetchall()

    for _ in range(repeats):
        holder: dict = {}

        def open_model(holder: dict = holder) -> None:
            holder["m"] = TransactionTableModel(conn)
            holder["m"].index(0, 0).data()

        figures["open"].ours.append(timed(open_model))
        # Each baseline is the fastest raw SQL for the same answer over the same file: the
        # count the cache keeps (schema 3; a count(*) where it has none), a name filter through
        # its number's index, the last rows read from the other end.
        figures["open"].base.append(timed(lambda: (
            conn.execute(count_sql).fetchone(),
            raw_first(f"SELECT {cols} FROM generations ORDER BY created_at DESC, rowid DESC "
                      f"LIMIT {PAGE_SIZE}"),
        )))
        m = holder["m"]
        figures["sort by cost"].ours.append(timed(lambda m=m: (
            m.sort(cost_col, Qt.SortOrder.DescendingOrder), m.index(0, 0).data())))
        figures["sort by cost"].base.append(timed(lambda: raw_first(
            f"SELECT {cols} FROM generations ORDER BY cost_nanos DESC, rowid DESC "
            f"LIMIT {PAGE_SIZE}")))
        m.sort(0, Qt.SortOrder.DescendingOrder)
        figures["filter by model"].ours.append(timed(lambda m=m: (
            m.set_filter(m.history_filter.with_(model=model_name)), m.index(0, 0).data())))
        figures["filter by model"].base.append(timed(lambda: (
            conn.execute(f"SELECT count(*) FROM generations WHERE {by_model}",
                         (model_name,)).fetchone(),
            raw_first(f"SELECT {cols} FROM generations WHERE {by_model} "
                      f"ORDER BY created_at DESC, rowid DESC LIMIT {PAGE_SIZE}", model_name),
        )))
        m.set_filter(m.history_filter.with_(model=None))
        n = m.rowCount()
        figures["jump to last row"].ours.append(timed(lambda m=m, n=n: m.index(n - 1, 0).data()))
        figures["jump to last row"].base.append(timed(lambda: raw_first(
            f"SELECT {cols} FROM generations ORDER BY created_at ASC, rowid ASC "
            f"LIMIT {PAGE_SIZE}")))
    conn.close()
    for f in figures.values():
        f.ours = [x * 1000 for x in f.ours]
        f.base = [x * 1000 for x in f.base]
        # a 2x ratio of sub-5 ms is noise
        f.check = (lambda o, b: (o <= 2 * b or o <= 5) and o <= 50)
    return list(figures.values())


# -- sync ----------------------------------------------------------------------------------
def start_demo_server(n: int) -> tuple[subprocess.Popen, str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lowdash_desktop", "demo-server", "--port", "0",
         "--generations", str(n), "--seed", "9"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    base_url = proc.stdout.readline().strip()
    key = proc.stdout.readline().strip()
    return proc, base_url, key


def start_fast_server(n: int, order: str) -> tuple[subprocess.Popen, str, str]:
    """The fast demo platform (every feed page rendered before the first is served) in a
    process of its own, so serving costs the client next to nothing and shares no GIL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fast_server", str(n), order],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    base_url = proc.stdout.readline().strip()
    key = proc.stdout.readline().strip()
    entries, seconds = proc.stdout.readline().split()
    print(f"fast platform: {n:,} generations, {int(entries):,} feed entries, {order} order, "
          f"rendered in {float(seconds):.0f} s", flush=True)
    return proc, base_url, key


def raw_download(base_url: str, key: str) -> int:
    """The floor: the whole feed over httpx at limit=1000, each page through json.loads."""
    import httpx

    records = 0
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}) as client:
        cursor = None
        while True:
            params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = json.loads(client.get(f"{base_url}/generations", params=params).content)
            records += len(page["data"])
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return records


def sync_once(base_url: str, key: str) -> tuple[float, float]:
    """One full `lowdash sync` (the engine, as the command runs it) into a new cache: wall
    and CPU seconds."""
    from lowdash_desktop.api.connection import Connection
    from lowdash_desktop.store.cache import Cache
    from lowdash_desktop.sync.engine import SyncEngine

    with tempfile.TemporaryDirectory() as tmp:
        cache, _ = Cache.open(Path(tmp) / "c.sqlite3")
        try:
            with Connection(base_url, key).client() as client:
                engine = SyncEngine(client, cache, page_limit=1000)
                return timed_cpu(engine.run)
        finally:
            cache.close()


SYNC_ORDERS = ("time", "shuffled")


def bench_sync(n: int, repeats: int, orders: tuple[str, ...] = SYNC_ORDERS) -> list[Figure]:
    """The sync of n generations from the fast demo platform (realistic data), in each feed
    order, against the raw floor: httpx + json.loads of the same pages from the same server."""
    figures = []
    for order in orders:
        figure = Figure(f"sync {n:,}, {order} order", "s",
                        "<= 1.5x httpx + json.loads of the same pages", lambda o, b: o <= 1.5 * b)
        proc, base_url, key = start_fast_server(n, order)
        try:
            raw_download(base_url, key)  # warm: the server's first answers, the imports
            for _ in range(repeats):
                wall, cpu = timed_cpu(partial(raw_download, base_url, key))
                figure.base.append(wall)
                figure.base_cpu.append(cpu)
                wall, cpu = sync_once(base_url, key)
                figure.ours.append(wall)
                figure.ours_cpu.append(cpu)
                print(f"  {order}: sync {wall:.2f} s ({cpu:.2f} s CPU), raw "
                      f"{figure.base[-1]:.2f} s ({figure.base_cpu[-1]:.2f} s CPU)", flush=True)
        finally:
            proc.stdin.close()
            proc.wait()
        figures.append(figure)
    return figures


def probe(start: Callable[..., None]) -> float:
    """The longest gap (ms) between ticks of a 5 ms QTimer on the UI thread from `start(loop)`
    until something quits `loop` (a QEventLoop): how long the UI thread could not answer
    meanwhile, the time from the last tick to the end included."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    clock = QElapsedTimer()
    clock.start()
    state = {"gap": 0, "last": 0}

    def tick() -> None:
        now = clock.elapsed()
        state["gap"] = max(state["gap"], now - state["last"])
        state["last"] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    timer.start()
    start(loop)
    loop.exec()
    timer.stop()
    return float(max(state["gap"], clock.elapsed() - state["last"]))


def _responsiveness_round(n: int, base_url: str, key: str, startup: Figure,
                          figure: Figure) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    from lowdash_desktop.api.connection import Connection
    from lowdash_desktop.session.session import Session
    from lowdash_desktop.startup import tune_gc
    from lowdash_desktop.store.cache import Cache
    from lowdash_desktop.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.sqlite3"
        Cache.open(path)[0].close()
        window = MainWindow(Session(path, Connection(base_url, key)), lazy=True)
        window.resize(1280, 820)
        window.show()
        tune_gc()

        after_show = probe(lambda loop: QTimer.singleShot(3000, loop.quit))
        if not startup.ours:  # the first window only: later ones find every module loaded
            startup.ours.append(after_show)
        figure.base.append(probe(lambda loop: QTimer.singleShot(3000, loop.quit)))
        if not startup.base:
            startup.base.append(figure.base[-1])

        def syncing(loop: QEventLoop) -> None:
            window.syncFinished.connect(loop.quit)
            window.sync_now()

        figure.ours.append(probe(syncing))
        window.close()
        window.shutdown()
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone()  # e.g. the tray's sum, before rmtree


def bench_responsiveness(n: int, repeats: int) -> list[Figure]:
    """The real main window syncing n generations, probed by a 5 ms QTimer in the GUI thread."""
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    figure = Figure(f"UI: longest gap while syncing {n:,}", "ms",
                    "<= 50 ms (baseline: same probe, idle window)", lambda o, b: o <= 50)
    startup = Figure("UI: longest gap in the 3 s after show", "ms",
                     "<= 50 ms (baseline: same probe, settled window)", lambda o, b: o <= 50)
    # the fast platform, shuffled: the window syncs as fast as the client can go
    proc, base_url, key = start_fast_server(n, "shuffled")
    try:
        for _ in range(repeats):  # each round: a new window on an empty cache, a full sync
            _responsiveness_round(n, base_url, key, startup, figure)
    finally:
        proc.stdin.close()
        proc.wait()
    return [startup, figure]


# -- csv -----------------------------------------------------------------------------------
def bench_csv(cache: Path, repeats: int) -> list[Figure]:
    from lowdash_desktop.export.csv_export import CSV_COLUMNS, export_csv

    figure = Figure("CSV export of the whole cache", "s", "<= 1.3x sqlite3 CLI .mode csv",
                    lambda o, b: o <= 1.3 * b)
    query = (f"SELECT {', '.join(CSV_COLUMNS)} FROM generations ORDER BY created_at, rowid;")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            out = Path(tmp) / "cli.csv"
            # Each run starts with nothing left to write back: otherwise one side's final fsync
            # (ours makes the file durable; the CLI does not) also waits for the other's 230 MB.
            os.sync()
            with out.open("wb") as sink:
                figure.base.append(timed(lambda sink=sink: subprocess.run(
                    ["sqlite3", "-readonly", "-csv", "-header", str(cache), query],
                    stdout=sink, check=True)))
            os.sync()
            conn = sqlite3.connect(cache)
            figure.ours.append(timed(lambda conn=conn: export_csv(conn, Path(tmp) / "ours.csv")))
            conn.close()
    return [figure]


# -- eco panel and dock figures ---------------------------------------------------------------
WORKER_TARGET_S = 2.0  # issue 21: the dock figures and the eco 30-day report at 10M


def cache_end_ms(cache: Path) -> int:
    """Just after the newest generation: the figures' "now", so that a cache built days ago
    still has its 30 days of history in the windows measured."""
    conn = sqlite3.connect(cache)
    try:
        return conn.execute("SELECT max(created_at) FROM generations").fetchone()[0] + 1
    finally:
        conn.close()


def in_worker(fn: Callable[[], object]) -> tuple[float, float]:
    """Run `fn` as the app runs its dock work, on a BackgroundCall from the UI thread: the
    seconds until its answer reaches the UI thread, and the UI thread's longest gap (ms)."""
    from lowdash_desktop.ui.background import BackgroundCall

    failed: list[BaseException] = []
    started: list[float] = []
    calls: list[BackgroundCall] = []  # kept alive until it has answered

    def start(loop) -> None:
        call = BackgroundCall(fn)
        call.done.connect(loop.quit)
        call.error.connect(lambda exc: (failed.append(exc), loop.quit()))
        calls.append(call)
        started.append(time.perf_counter())
        call.start()

    gap = probe(start)
    seconds = time.perf_counter() - started[0]
    if failed:
        raise RuntimeError(f"the worker failed: {failed[0]!r}")
    return seconds, gap


def bench_eco(cache: Path, repeats: int, raw: bool = True) -> list[Figure]:
    """The eco panel's report over the last 30 days of the cache (from the eco roll-up), on a
    worker as the panel computes it; `raw`: next to SQLite grouping those days' rows the way
    the report needs them, the floor of computing it from the rows (informative: seconds at a
    million rows, a minute at ten)."""
    from PySide6.QtWidgets import QApplication

    from lowdash_desktop.eco import impact
    from lowdash_desktop.store.cache import Cache

    QApplication.instance() or QApplication([])
    target = f"<= {WORKER_TARGET_S:g} s, off the UI thread" + (
        " (baseline: raw grouping)" if raw else "")
    figure = Figure("eco panel: 30-day report, in its worker", "s", target,
                    lambda o, b: o <= WORKER_TARGET_S)
    gaps = Figure("  eco: UI thread's longest gap meanwhile", "ms",
                  "informative (baseline: the same probe, idle)", lambda o, b: None)
    end_ms = cache_end_ms(cache)
    window = (end_ms - 30 * 86_400_000, end_ms)

    def report() -> object:  # what eco_dock.compute_report does, at the cache's end
        eco_cache = Cache.open_reader(cache)
        try:
            return impact.report_from_cache(eco_cache, 30, None, end_ms)
        finally:
            eco_cache.close()

    conn = sqlite3.connect(cache)
    try:
        for _ in range(repeats):
            if raw:
                figure.base.append(timed(lambda: conn.execute(impact.GROUP_SQL,
                                                              window).fetchall()))
            seconds, gap = in_worker(report)
            figure.ours.append(seconds)
            gaps.ours.append(gap)
            gaps.base.append(probe(idle_for(seconds)))
    finally:
        conn.close()
    return [figure, gaps]


def idle_for(seconds: float) -> Callable[..., None]:
    """A `probe` start that does nothing for as long (at least 0.5 s)."""
    from PySide6.QtCore import QTimer

    return lambda loop: QTimer.singleShot(max(500, int(seconds * 1000)), loop.quit)


def bench_docks(cache: Path, repeats: int) -> list[Figure]:
    """The dashboard docks' figures (usage today, top models, 30-day spend) as the window
    gets them: `DashboardModel.refresh()` to `figuresReady`, computed on its worker."""
    import dataclasses

    from PySide6.QtWidgets import QApplication

    from lowdash_desktop.ui.models.dashboard_model import DashboardModel

    QApplication.instance() or QApplication([])
    end_ms = cache_end_ms(cache)

    class AtCacheEnd(DashboardModel):
        def query(self):
            return dataclasses.replace(super().query(), now_ms=end_ms)

    figure = Figure("dock figures, in their worker", "s",
                    f"<= {WORKER_TARGET_S:g} s, off the UI thread",
                    lambda o, b: o <= WORKER_TARGET_S)
    gaps = Figure("  docks: UI thread's longest gap meanwhile", "ms",
                  "informative (baseline: the same probe, idle)", lambda o, b: None)
    model = AtCacheEnd(cache)
    failed: list[str] = []
    waiting: dict[str, object] = {}  # the probe's loop of this round
    model.figuresReady.connect(lambda _figures: waiting["loop"].quit())
    model.failed.connect(lambda message: (failed.append(message), waiting["loop"].quit()))
    for _ in range(repeats):
        times: dict[str, float] = {}

        def start(loop, times=times) -> None:
            waiting["loop"] = loop
            times["started"] = time.perf_counter()
            model.refresh()

        gap = probe(start)
        if failed or model.figures is None:
            raise RuntimeError(f"the dock figures failed: {failed}")
        figure.ours.append(time.perf_counter() - times["started"])
        gaps.ours.append(gap)
        gaps.base.append(probe(idle_for(figure.ours[-1])))
    model.close()
    return [figure, gaps]


# -- memory at scale and the build ---------------------------------------------------------
def bench_memory(cache: Path, repeats: int, limit_mb: float = 150) -> list[Figure]:
    """RSS of the real `lowdash` on the cache, table scrolled and dock charts drawn (the
    start-up child), against a bare QMainWindow."""
    memory = Figure("RSS, table open, charts drawn", "MB", f"<= +{limit_mb:g} MB over bare",
                    lambda o, b: o - b <= limit_mb)
    compile_ours()
    for _ in range(repeats):
        memory.base.append(child("bare", None)[1])
        memory.ours.append(child("app", cache)[1])
    return [memory]


def bench_build(cache: Path) -> list[Figure]:
    """How long the cache took to build (when it was built) and its size per generation;
    the size of each table and index too, when SQLite can tell (dbstat)."""
    from benchmarks.bigcache import build_info

    info = build_info(cache)
    n = info.get("generations")
    conn = sqlite3.connect(cache)
    try:
        n = n or conn.execute("SELECT count(*) FROM generations").fetchone()[0]
        try:
            parts = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name "
                                 "ORDER BY 2 DESC").fetchall()
        except sqlite3.Error:
            parts = []
    finally:
        conn.close()
    size = cache.stat().st_size
    figures = []
    if info.get("seconds"):
        built = Figure(f"build {n:,} realistic generations", "s",
                       f"informative ({info.get('built_at', '?')}, "
                       f"{info.get('cpu_seconds', '?')} s CPU)", lambda o, b: None)
        built.ours = [info["seconds"]]
        figures.append(built)
    per = Figure("cache size per generation", "B", f"informative ({size / 1e9:.2f} GB)",
                 lambda o, b: None)
    per.ours = [size / n]
    figures.append(per)
    print(f"cache {cache.name}: {size:,} bytes, {size / n:.0f} bytes a generation")
    for name, pgsize in parts:
        if pgsize / n >= 0.1:  # the tables of a few rows (meta, snapshots...) are noise here
            print(f"  {name:32} {pgsize / n:8.1f} B a generation")
    return figures


SYNC_MAX = 1_000_000  # the demo platform serves at most a million generations
DEFAULT_KEYS = ("start", "instr", "table", "sync", "ui", "csv", "eco")
# issue 21's 10M rows: the table, the dock figures and the eco report, the CSV export and the
# memory, on a realistic cache, and what that cache took to build and weighs
SCALE_KEYS = ("build", "table", "docks", "eco", "csv", "rss")


def parse_size(text: str) -> int:
    """`100k`, `1m`, `2.5m`, `10m`, `300000` or `300,000`."""
    t = text.strip().lower().replace(",", "").replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    number = float(t[:-1] if factor > 1 else t)
    if number <= 0:
        raise ValueError(text)
    return int(round(number * factor))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    parser.add_argument("-n", help="cache size of the default round (default 1m)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", help=f"comma list: {','.join(DEFAULT_KEYS)},docks,rss; in "
                                       f"the scale round {','.join(SCALE_KEYS)},start,instr")
    parser.add_argument("--size", default="100k",
                        help="generations the sync figures fetch: 100k (default) up to 1m; "
                             "above 1m (10m: issue 21's 10M rows), the scale round at that size")
    parser.add_argument("--scale", action="store_true",
                        help="the scale round at --size (for a size up to 1m): a realistic "
                             "cache of that many generations, built once through the app's "
                             f"writer, and its figures ({','.join(SCALE_KEYS)})")
    args = parser.parse_args(argv)
    try:
        size = parse_size(args.size)
        cache_n = parse_size(args.n) if args.n else None
    except ValueError:
        parser.error("a size is a count such as 200000, 200k, 2.5m or 10m")
    scale = args.scale or size > SYNC_MAX
    if scale and (cache_n or args.quick):
        parser.error("the scale round measures a cache of --size generations (no -n, --quick)")
    keys = SCALE_KEYS + ("start", "instr") if scale else DEFAULT_KEYS + ("docks", "rss")
    only = set(args.only.split(",")) if args.only else set(SCALE_KEYS if scale else DEFAULT_KEYS)
    if only - set(keys):
        parser.error(f"--only takes {','.join(keys)}"
                     + (" in the scale round" if scale else ""))
    n = size if scale else cache_n or (100_000 if args.quick else 1_000_000)
    if scale:
        from benchmarks.bigcache import SPAN_DAYS, realistic_cache

        print(f"scale round: a realistic cache of {n:,} generations over {SPAN_DAYS} days",
              flush=True)
        cache = realistic_cache(n)
    else:
        # the sync and UI figures bring their own platform: no cache to build for them alone
        cache = bench_cache(n) if only - {"sync", "ui"} else None
    figures: list[Figure] = []
    if "build" in only:
        figures += bench_build(cache)
    if "start" in only:
        figures += bench_start_and_memory(cache, args.repeats)
    if "instr" in only:
        figures += bench_start_instructions(cache)
    if "table" in only:
        figures += bench_table(cache, args.repeats + 2)
    if "sync" in only:
        figures += bench_sync(size if n >= 100_000 else n, args.repeats)
    if "ui" in only:
        figures += bench_responsiveness(100_000 if n >= 100_000 else n, args.repeats)
    if "docks" in only:
        figures += bench_docks(cache, args.repeats)
    if "eco" in only:
        figures += bench_eco(cache, args.repeats, raw=not scale)
    if "csv" in only:
        figures += bench_csv(cache, args.repeats)
    if "rss" in only:
        figures += bench_memory(cache, args.repeats, limit_mb=150 if scale else 100)
    print(f"\nmachine: {platform.platform()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; cache {n:,} generations"
          + (" (realistic, scale round)" if scale else ""))
    print(f"{'figure':44} {'ours':>10} {'baseline':>10} {'ratio':>7}  target")
    for f in figures:
        met = f.met()
        mark = "-" if met is None else "ok" if met else "MISSED"
        base = "-" if f.base_med is None else f"{f.base_med:9.3f}"
        ratio = "-" if f.ratio is None else f"{f.ratio:6.2f}x"
        print(f"{f.name:44} {f.ours_med:9.3f}{f.unit[0] if f.unit == 's' else ''} "
              f"{base:>9}  {ratio:>7}  {f.target} [{mark}] ({f.unit})")
        if f.ours_cpu and f.base_cpu:
            ours_cpu, base_cpu = statistics.median(f.ours_cpu), statistics.median(f.base_cpu)
            print(f"{'  (CPU seconds, user + sys)':44} {ours_cpu:9.3f}s {base_cpu:9.3f}  "
                  f"{ours_cpu / base_cpu:6.2f}x")

    def rounded(x: float | None, places: int) -> float | None:
        return None if x is None else round(x, places)

    print(json.dumps({"n": n, "round": "scale" if scale else "default",
                      "ratios": {f.name: rounded(f.ratio, 3) for f in figures},
                      "medians": {f.name: [round(f.ours_med, 4), rounded(f.base_med, 4), f.unit]
                                  for f in figures},
                      "cpu": {f.name: [round(statistics.median(f.ours_cpu), 3),
                                       round(statistics.median(f.base_cpu), 3)]
                              for f in figures if f.ours_cpu and f.base_cpu},
                      "met": {f.name: f.met() for f in figures}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
