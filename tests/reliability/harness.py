"""Shared by the reliability tests and scripts/reliability_report.py: sync under faults, compare."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lowdash_desktop.api.client import LowrouterClient, RetryPolicy
from lowdash_desktop.api.connection import Connection
from lowdash_desktop.demo import DemoPlatform
from lowdash_desktop.demo.faults import MALFORMED_HEADER
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.sync.engine import SyncEngine, SyncError


@dataclass
class Comparison:
    """Cache against the platform's truth: every way they can differ."""

    compared: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    wrong_content: list[str] = field(default_factory=list)
    duplicates: int = 0
    integrity: str = "ok"

    @property
    def mismatches(self) -> int:
        """Every difference counted once (0 is the only acceptable figure)."""
        return (
            len(self.missing) + len(self.extra) + len(self.stale) + len(self.wrong_content)
            + self.duplicates + (self.integrity != "ok")
        )


@dataclass
class RunStats:
    """What it took to get one cache to the end of the feed."""

    runs: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    waits: list[float] = field(default_factory=list)
    delivered_malformed: list[int] = field(default_factory=list)  # Faults' serials, read whole


def integrity(path: Path) -> str:
    """`PRAGMA integrity_check` of a cache file, read-only."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def compare(platform: DemoPlatform, path: Path) -> Comparison:
    """Same ids, each at its highest revision with that revision's cost and tokens, no dups."""
    out = Comparison(integrity=integrity(path))
    truth = {g["id"]: g for g in platform.all_generations()}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cached = {
            row[0]: row[1:]
            for row in conn.execute("SELECT id, revision, cost, total_tokens FROM generations")
        }
        out.duplicates = conn.execute(
            "SELECT count(*) - count(DISTINCT id) FROM generations"
        ).fetchone()[0]
    finally:
        conn.close()
    out.compared = len(truth)
    out.missing = sorted(truth.keys() - cached.keys())
    out.extra = sorted(cached.keys() - truth.keys())
    for gen_id, (revision, cost, total) in cached.items():
        real = truth.get(gen_id)
        if real is None:
            continue
        if revision != real["revision"]:
            out.stale.append(gen_id)
        elif (cost, total) != (real["cost"]["amount"], real["tokens"]["total"]):
            out.wrong_content.append(gen_id)
    return out


class _ReadToTheEnd(httpx.SyncByteStream):
    """A body that notes its corrupted-page serial once the client has read all of it."""

    def __init__(self, inner: httpx.SyncByteStream, serial: int, read: list[int]) -> None:
        self._inner, self._serial, self._read = inner, serial, read

    def __iter__(self):
        yield from self._inner
        self._read.append(self._serial)

    def close(self) -> None:
        self._inner.close()


class DeliveryTransport(httpx.HTTPTransport):
    """The usual transport, recording which corrupted feed pages arrived whole."""

    def __init__(self, read: list[int]) -> None:
        super().__init__()
        self.read = read

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        serial = response.headers.get(MALFORMED_HEADER)
        if serial is None:
            return response
        return httpx.Response(
            response.status_code, headers=response.headers, request=request,
            extensions=response.extensions,
            stream=_ReadToTheEnd(response.stream, int(serial), self.read),
        )


def fast_client(
    platform: DemoPlatform, *, read_timeout: float = 0.25, attempts: int = 4,
    sleep: Callable[[float], None] | None = None, delivered: list[int] | None = None,
) -> LowrouterClient:
    """A client with a short read timeout (stalls) and a fake sleep (back-off waits recorded).

    With `delivered`, the serials of the corrupted pages it read to their end are appended.
    """
    connection = Connection(platform.base_url, platform.api_key)
    extra = {} if delivered is None else {"transport": DeliveryTransport(delivered)}
    return connection.client(
        timeout=httpx.Timeout(read_timeout, connect=2.0),
        retry=RetryPolicy(attempts=attempts, base_delay=0.01, max_delay=0.2),
        sleep=sleep or (lambda s: None), **extra,
    )


def sync_until_complete(
    platform: DemoPlatform, path: Path, *, page_limit: int, max_runs: int = 100,
    read_timeout: float = 0.25,
) -> RunStats:
    """Run sync after sync (each resumes from the saved cursor) until one completes."""
    stats = RunStats()
    while stats.runs < max_runs:
        stats.runs += 1
        cache, _ = Cache.open(path)
        client = fast_client(platform, read_timeout=read_timeout, sleep=stats.waits.append,
                             delivered=stats.delivered_malformed)
        try:
            SyncEngine(client, cache, page_limit=page_limit).run()
            return stats
        except SyncError as exc:
            stats.failures[exc.result.error_kind or "error"] += 1
        finally:
            client.close()
            cache.close()
    raise AssertionError(f"no complete sync in {max_runs} runs: {dict(stats.failures)}")


# -- kill -9 rounds ---------------------------------------------------------------------------
class Killer:
    """Fault hook that SIGKILLs the sync process at its k-th feed request, then delegates."""

    def __init__(self, inner: Any = None) -> None:
        self.inner = inner
        self.pid: int | None = None
        self.at = 0
        self.delay_s = 0.0
        self.feed_requests = 0
        self._lock = threading.Lock()

    def arm(self, pid: int, at: int, delay_s: float) -> None:
        """Kill `pid` `delay_s` after its `at`-th feed request reaches the platform."""
        with self._lock:
            self.pid, self.at, self.delay_s, self.feed_requests = pid, at, delay_s, 0

    def intercept(self, request: Any, respond: Callable[[], Any]) -> Any:
        """Count feed requests; fire the kill (possibly while the answer is on its way)."""
        with self._lock:
            fire = None
            if request.path.rstrip("/") == "/generations" and self.pid is not None:
                self.feed_requests += 1
                if self.feed_requests == self.at:
                    fire, self.pid = self.pid, None
        if fire is not None:
            timer = threading.Timer(self.delay_s, _kill, (fire,))
            timer.daemon = True
            timer.start()
        if self.inner is not None:
            return self.inner.intercept(request, respond)
        return respond()


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@dataclass
class KillStats:
    """What the kill -9 rounds did."""

    rounds: int = 0
    killed: int = 0
    killed_by_request: int = 0
    killed_by_clock: int = 0
    completed: int = 0
    integrity_checks: int = 0
    partial_violations: list[str] = field(default_factory=list)


def _sync_process(platform: DemoPlatform, data_dir: Path, page_limit: int) -> subprocess.Popen:
    env = {**os.environ, "LOWDASH_API_KEY": platform.api_key, "LOWDASH_DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "lowdash_desktop", "sync", "--base-url", platform.base_url,
         "--data-dir", str(data_dir), "--page-limit", str(page_limit), "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )


def check_partial(platform: DemoPlatform, path: Path, stats: KillStats) -> None:
    """After a kill: the file is sound, and everything in it is true (ids, revisions <= truth)."""
    if not path.exists():
        return
    result = integrity(path)
    stats.integrity_checks += 1
    if result != "ok":
        stats.partial_violations.append(f"integrity_check: {result}")
        return
    truth = platform.truth()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT id, revision FROM generations").fetchall()
    finally:
        conn.close()
    for gen_id, revision in rows:
        if gen_id not in truth or revision > truth[gen_id]:
            stats.partial_violations.append(f"{gen_id} r{revision} is not the platform's")


def kill_rounds(
    platform: DemoPlatform, data_dir: Path, rounds: int, seed: int, page_limit: int = 25
) -> tuple[KillStats, Path]:
    """`lowdash sync` processes killed at random moments; then one left to finish."""
    rng = random.Random(f"kill9:{seed}")
    killer = Killer(platform.faults)
    platform.faults = killer
    stats = KillStats()
    path: Path | None = None
    try:
        for _ in range(rounds):
            stats.rounds += 1
            proc = _sync_process(platform, data_dir, page_limit)
            by_request = rng.random() < 0.6
            if by_request:
                killer.arm(proc.pid, rng.randint(1, 6), rng.uniform(0.0, 0.03))
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            else:
                try:
                    proc.wait(timeout=rng.uniform(0.05, 1.2))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            killer.arm(0, 0, 0.0)
            if proc.stderr is not None:
                proc.stderr.close()
            if proc.returncode == -signal.SIGKILL:
                stats.killed += 1
                if by_request:
                    stats.killed_by_request += 1
                else:
                    stats.killed_by_clock += 1
            else:
                stats.completed += 1
            path = path or _cache_path(platform, data_dir)
            if path is not None:
                check_partial(platform, path, stats)
            # the platform moves on between rounds
            platform.add_generations(rng.randint(10, 150))
            for _ in range(rng.randint(0, 3)):
                platform.bump_revision(index=rng.randrange(len(platform.data)))
        proc = _sync_process(platform, data_dir, page_limit)
        _, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise AssertionError(f"the final sync failed: {err.decode(errors='replace')}")
        path = path or _cache_path(platform, data_dir)
        assert path is not None
        return stats, path
    finally:
        platform.faults = killer.inner


def _cache_path(platform: DemoPlatform, data_dir: Path) -> Path | None:
    from lowdash_desktop import accounts

    entry = accounts.find(data_dir, platform.base_url)
    return entry.cache_path(data_dir) if entry else None
