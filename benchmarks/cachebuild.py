"""Build (once) a cache of N demo generations for the benchmarks."""

from __future__ import annotations

import time
from pathlib import Path

from lowdash_desktop.api.models import Generation
from lowdash_desktop.demo import DemoPlatform
from lowdash_desktop.store import rollup
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.store.rows import generation_row

HERE = Path(__file__).resolve().parent
CACHE_DIR = HERE / ".cache"


def bench_cache(n: int, seed: int = 5) -> Path:
    """Path of a ready cache with n generations (built on first use, then reused)."""
    CACHE_DIR.mkdir(exist_ok=True)
    path = CACHE_DIR / f"gens-{n}-s{seed}.sqlite3"
    if path.exists():
        cache, _ = Cache.open(path)  # as the app opens it: migrated, with its derived data
        for roll_up in rollup.ALL:  # built once by the app's dock workers on a big cache
            rollup.ensure(cache.conn, roll_up)
        cache.close()
        return path
    started = time.perf_counter()
    platform = DemoPlatform(seed=seed, generations=n)
    tmp = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    cache, _ = Cache.open(tmp)
    batch: list[tuple] = []
    for record in platform.data.iter_highest():
        batch.append(generation_row(Generation.model_validate(record)))
        if len(batch) == 20_000:
            cache.apply_page(batch, [], None)
            batch = []
    if batch:
        cache.apply_page(batch, [], None)
    cache.save_snapshot("credits", platform.credits)
    cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cache.conn.execute("ANALYZE")
    cache.close()
    tmp.rename(path)
    print(f"built {path.name}: {n:,} generations in {time.perf_counter() - started:.1f}s")
    return path
