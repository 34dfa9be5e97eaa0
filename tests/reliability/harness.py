"""Shared by the reliability tests and scripts/reliability_report.py: sync under faults, compare."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from lowdash_desktop.api.client import LowrouterClient, RetryPolicy
from lowdash_desktop.api.connection import Connection
from lowdash_desktop.demo import DemoPlatform
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


def fast_client(
    platform: DemoPlatform, *, read_timeout: float = 0.25, attempts: int = 4,
    sleep: Callable[[float], None] | None = None,
) -> LowrouterClient:
    """A client with a short read timeout (stalls) and a fake sleep (back-off waits recorded)."""
    connection = Connection(platform.base_url, platform.api_key)
    return connection.client(
        timeout=httpx.Timeout(read_timeout, connect=2.0),
        retry=RetryPolicy(attempts=attempts, base_delay=0.01, max_delay=0.2),
        sleep=sleep or (lambda s: None),
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
        client = fast_client(platform, read_timeout=read_timeout, sleep=stats.waits.append)
        try:
            SyncEngine(client, cache, page_limit=page_limit).run()
            return stats
        except SyncError as exc:
            stats.failures[exc.result.error_kind or "error"] += 1
        finally:
            client.close()
            cache.close()
    raise AssertionError(f"no complete sync in {max_runs} runs: {dict(stats.failures)}")
