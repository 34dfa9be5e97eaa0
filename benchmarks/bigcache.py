"""Build (once) a cache of N realistic generations through the app's own writer.

For the scale round of issue 21 (`python -m benchmarks --size 10m`). The data is the fast
platform's (`demo.fastfeed`: continuous latencies and token counts, a long tail of models,
odd names), drawn in chunks of at most `CHUNK` generations by the demo's generator, each
chunk with a seed of its own over the same 90 days (`demo.data.HISTORY_DAYS`), and stored in
`created_at` order, as a first sync stores a feed in time order:

- a real sync (`SyncEngine`, over HTTP) from a small fast platform first: the account, the
  credits, the models, the eco methodology, keys and invoices are in the cache the way the
  app saves them, with a feed cursor and the keys the generations name;
- then the rows, made straight from the demo's columns (a Python dict, pydantic and JSON per
  record would take hours at 10M) but equal to the rows the sync makes of the same records
  (checked on a sample before each build, and by tests/unit/test_bench_bigcache.py), stored
  by `Cache.apply_page` in batches, with the roll-ups left out of step and rebuilt once at
  the end (`rollup.rebuild`), as the sync does after a big first sync.

No SQL of the harness touches the cache's tables: whatever the schema is (the one migration
3 makes, say), this builds it and the figures measure it. The file is built under a
temporary name and renamed when complete, so a half-built cache is never reused.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from itertools import repeat
from pathlib import Path

import numpy as np

from lowdash_desktop.demo import catalog
from lowdash_desktop.demo.data import _FINISH, HISTORY_DAYS, DemoData, _mix
from lowdash_desktop.demo.fastfeed import FastDemoPlatform, realistic_columns, realistic_record
from lowdash_desktop.eco import methodology
from lowdash_desktop.insight.common import money_text
from lowdash_desktop.store import rollup
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.store.rows import GENERATION_COLUMNS
from lowdash_desktop.store.schema import LATEST_VERSION

HERE = Path(__file__).resolve().parent
CACHE_DIR = HERE / ".cache"
CHUNK = 1_000_000  # generations per DemoData (~100 MB of columns each)
PROTO = 100  # generations of the small platform the real sync reads first
BATCH = 100_000  # rows per transaction (the sync's own batches grow to 40,000 at 1M)
# the page cache while building: the cost index takes rows all over it, and at 10M it is
# ~200 MB; with the sync's 64 MB each batch would write most of it again
PAGE_CACHE_MB = 512
SPAN_DAYS = HISTORY_DAYS


class ChunkRows:
    """Cache rows of one chunk of demo generations at their highest revision, made in bulk."""

    def __init__(self, data: DemoData):
        self.data = data
        self.shape = realistic_columns(data)
        pairs = data.pairs
        self._model = np.array([p.model.id for p in pairs], dtype=object)
        self._provider = np.array([p.provider.name for p in pairs], dtype=object)
        conf = [catalog.confidence(p.model) for p in pairs]
        self._confidence = np.array([c for c, _ in conf], dtype=object)
        self._caveats = np.array([json.dumps(v) for _, v in conf], dtype=object)
        self._region = np.array(data.regions, dtype=object)
        self._grid = np.array([float(catalog.GRID_INTENSITY[r]) for r in data.regions])
        self._keys = np.array(data.key_ids, dtype=object)
        self._tail = np.array(self.shape["names"], dtype=object)
        self._eco: dict[int, tuple[float, ...]] = {}

    def _eco_table(self, combo: np.ndarray) -> np.ndarray:
        """The estimate (energy value/low/high, carbon value/low/high) of each route shape."""
        regions = len(self.data.regions)
        pool = self.data.pool_completion.shape[1]
        uniq, inverse = np.unique(combo, return_inverse=True)
        table = np.empty((len(uniq), 6))
        for j, c in enumerate(uniq.tolist()):
            if c not in self._eco:
                rest, r = divmod(c, regions)
                p, s = divmod(rest, pool)
                est = self.data.estimate(p, s, r, None)
                self._eco[c] = (
                    est.energy_wh.value,
                    est.energy_wh.low,
                    est.energy_wh.high,
                    est.carbon_g.value,
                    est.carbon_g.low,
                    est.carbon_g.high,
                )
            table[j] = self._eco[c]
        return table[inverse]

    def rows(self, idx: np.ndarray, seq: np.ndarray) -> list[tuple]:
        """The rows (GENERATION_COLUMNS order) of generations `idx`, with sequence numbers
        `seq`; what `fastfeed.realistic_record` gives at the highest revision, made row."""
        d, shape = self.data, self.shape
        pair, slot, region = d.pair[idx], d.slot[idx], d.region[idx]
        idx_list = idx.tolist()
        # the demo's per-record draws, in its order (data.DemoData.generation)
        auto, finish, streamed = [], [], []
        rng = random.Random()
        seed24 = d.seed << 24
        for i in idx_list:
            rng.seed(_mix(seed24 ^ i))
            auto.append(rng.random() < 0.55)
            finish.append(rng.choice(_FINISH))
            streamed.append(1 if rng.random() < 0.7 else 0)
        auto_a = np.array(auto, dtype=bool)
        old = np.maximum(d.pool_completion[pair, slot], 1).astype(np.float64)
        completion = np.maximum(1, np.rint(old * shape["tokens"][idx]))
        latency = d.pool_latency[pair, slot].astype(np.float64)
        latency = np.maximum(1, np.rint(latency * shape["latency"][idx] * completion / old))
        factor = completion / old
        regions = len(d.regions)
        combo = (pair.astype(np.int64) * d.pool_completion.shape[1] + slot) * regions + region
        eco = self._eco_table(combo) * factor[:, None]
        prompt, reasoning = d.prompt[idx], d.reasoning[idx]
        tail = shape["tail"][idx]
        own = self._model[pair]
        resolved = np.where(tail >= 0, self._tail[np.maximum(tail, 0)], own)
        model = np.where(auto_a, catalog.AUTO_MODEL, resolved)
        cost = d.cost[idx].tolist()
        columns = {
            "id": d.gen_ids(idx),
            "seq": seq.tolist(),
            "revision": np.where(d.revised[idx], 2, 1).tolist(),
            "created_at": d.created[idx].tolist(),
            "key_id": self._keys[d.key[idx]].tolist(),
            "model": model.tolist(),
            "resolved_model": resolved.tolist(),
            "provider": self._provider[pair].tolist(),
            "region": self._region[region].tolist(),
            "latency_ms": latency.astype(np.int64).tolist(),
            "finish_reason": finish,
            "streamed": streamed,
            "prompt_tokens": prompt.tolist(),
            "completion_tokens": completion.astype(np.int64).tolist(),
            "reasoning_tokens": reasoning.tolist(),
            "cached_tokens": d.cached[idx].tolist(),
            "total_tokens": (prompt + completion.astype(np.int64) + reasoning).tolist(),
            "cost": [money_text(c) for c in cost],  # exact: at most nine decimals
            "cost_nanos": cost,
            "currency": repeat("EUR"),
            "energy_wh": eco[:, 0].tolist(),
            "energy_wh_low": eco[:, 1].tolist(),
            "energy_wh_high": eco[:, 2].tolist(),
            "carbon_g": eco[:, 3].tolist(),
            "carbon_g_low": eco[:, 4].tolist(),
            "carbon_g_high": eco[:, 5].tolist(),
            "grid_intensity": self._grid[region].tolist(),
            "methodology_version": repeat(methodology.METHOD_VERSION),
            "confidence": self._confidence[pair].tolist(),
            "caveats": self._caveats[pair].tolist(),
        }
        unknown = [c for c in GENERATION_COLUMNS if c not in columns]
        if unknown:
            raise RuntimeError(
                f"the cache's rows have columns the harness does not make: "
                f"{', '.join(unknown)} (update benchmarks/bigcache.py)"
            )
        # not strict: the constant columns are endless `repeat`s
        return list(zip(*(columns[c] for c in GENERATION_COLUMNS), strict=False))

    def reference_rows(self, idx: list[int]) -> list[tuple]:
        """The same rows the slow way: the fast platform's record of each generation, read by
        the app's contract (`Generation`) and made row by the app (`generation_row`)."""
        from lowdash_desktop.api.models import Generation
        from lowdash_desktop.store.rows import generation_row

        return [
            generation_row(
                Generation.model_validate(
                    realistic_record(self.data, self.shape, i, self.data.highest_revision(i))
                )
            )
            for i in idx
        ]


def check_rows(chunk: ChunkRows, sample: int = 300) -> None:
    """Refuse to build from rows that differ from the app's own (a changed row or record)."""
    n = len(chunk.data.created)
    idx = np.unique(np.linspace(0, n - 1, min(sample, n)).astype(np.int64))
    ours = chunk.rows(idx, idx + 1)
    theirs = chunk.reference_rows(idx.tolist())
    for mine, app in zip(ours, theirs, strict=True):
        if mine != app:
            diff = [
                (c, a, b) for c, a, b in zip(GENERATION_COLUMNS, mine, app, strict=True) if a != b
            ]
            raise RuntimeError(f"benchmark rows differ from the app's: {diff[:3]}")


def chunk_sizes(count: int) -> list[int]:
    parts = max(1, -(-count // CHUNK))
    return [count // parts + (1 if i < count % parts else 0) for i in range(parts)]


def sync_proto(cache: Cache, seed: int, now: datetime) -> FastDemoPlatform:
    """The real sync from a small fast platform: everything but the bulk of the rows."""
    from lowdash_desktop.api.connection import Connection
    from lowdash_desktop.sync.engine import SyncEngine

    platform = FastDemoPlatform(seed=seed, generations=PROTO, now=now, page_limit=1000)
    base_url = platform.start(0)
    try:
        with Connection(base_url, platform.api_key).client() as client:
            SyncEngine(client, cache, page_limit=1000).run()
    finally:
        platform.stop()
    return platform


def chunks_of(count: int, seed: int, proto: FastDemoPlatform) -> list[ChunkRows]:
    """Chunks of demo data with the proto platform's keys, `now` and story, seeds of their own."""
    keys = proto.data
    chunks = []
    for i, size in enumerate(chunk_sizes(count)):
        data = DemoData(
            seed * 1000 + 1 + i,
            size,
            keys.now,
            keys.key_ids,
            list(keys.key_weights),
            workload_key=keys.workload_key,
            burst_key=keys.burst_key,
        )
        # what only the demo's server and insight answers read (its feed order, the daily
        # sums): ~20 B a generation, held by every chunk until the last row is made
        data.feed_idx = data.feed_idx[:0]
        data.feed_rev = data.feed_rev[:0]
        data.energy = data.energy[:0]
        data.carbon = data.carbon[:0]
        chunks.append(ChunkRows(data))
    return chunks


def batches(chunks: list[ChunkRows], first_seq: int, batch: int = BATCH) -> Iterator[list[tuple]]:
    """Every chunk's rows, all in `created_at` order, `batch` at a time (bounded memory: the
    chunks' columns, plus one batch of Python rows)."""
    created = np.concatenate([c.data.created for c in chunks])
    order = np.argsort(created, kind="stable")
    del created
    sizes = [len(c.data.created) for c in chunks]
    starts = np.cumsum([0, *sizes[:-1]])
    which = np.repeat(np.arange(len(chunks), dtype=np.int16), sizes)[order]
    local = order - starts[which]
    del order
    for start in range(0, len(local), batch):
        w, loc = which[start : start + batch], local[start : start + batch]
        seq = np.arange(start, start + len(loc), dtype=np.int64) + first_seq
        rows: list[tuple] = []
        for k in np.unique(w).tolist():
            mask = w == k
            rows += chunks[k].rows(loc[mask], seq[mask])
        rows.sort(key=lambda r: r[3])  # created_at, as the sync sorts each batch
        yield rows


def cache_path(n: int, seed: int, directory: Path) -> Path:
    # the schema version in the name: a cache of an older schema is never measured
    return directory / f"realistic-{n}-s{seed}-v{LATEST_VERSION}.sqlite3"


def build_info(path: Path) -> dict:
    """What the build of `path` recorded (seconds, CPU seconds, span...); {} if unknown."""
    try:
        return json.loads(Path(str(path) + ".json").read_text())
    except (OSError, ValueError):
        return {}


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def build(path: Path, n: int, seed: int, log=print) -> dict:
    """Build the cache of n realistic generations at `path` (see the module's docstring)."""
    if n < PROTO + 1000:
        raise ValueError(f"a realistic cache needs at least {PROTO + 1000:,} generations")
    tmp = path.with_name(path.name + ".building")
    _remove(tmp)
    started, cpu = time.perf_counter(), time.process_time()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    cache, _ = Cache.open(tmp)
    try:
        proto = sync_proto(cache, seed, now)
        chunks = chunks_of(n - PROTO, seed, proto)
        check_rows(chunks[0])
        drawn = time.perf_counter() - started
        log(f"building {path.name}: {len(chunks)} chunk(s) of demo data drawn in {drawn:.0f} s")
        done = 0
        with (
            cache.bulk_writes(PAGE_CACHE_MB),
            ThreadPoolExecutor(1, thread_name_prefix="bench-store") as w,
        ):
            writing: Future | None = None
            # rows are made here while the batch before them is written on `w` (SQLite runs
            # without the GIL), as the sync overlaps its pages and its writes
            for rows in batches(chunks, PROTO + 1):
                if writing is not None:
                    writing.result()
                writing = w.submit(partial(cache.apply_page, rollups=False), rows, [], None)
                done += len(rows)
                if done // BATCH % 10 == 0:
                    log(f"  {done:,} rows at {time.perf_counter() - started:.0f} s")
            if writing is not None:
                writing.result()
        del chunks
        stored = time.perf_counter() - started
        for roll_up in rollup.ALL:  # as SyncEngine._rebuild_rollups after a big first sync
            if rollup.exists(cache.conn, roll_up):
                rollup.rebuild(cache.conn, roll_up)
        cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        count = cache.generation_count()
        if count != n:
            raise RuntimeError(f"the cache holds {count:,} generations, not {n:,}")
    finally:
        cache.close()
    info = {
        "generations": n,
        "seed": seed,
        "span_days": SPAN_DAYS,
        "schema": LATEST_VERSION,
        "built_at": now.isoformat(),
        "seconds": round(time.perf_counter() - started, 1),
        "rows_stored_at": round(stored, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "bytes": tmp.stat().st_size,
        "chunks": len(chunk_sizes(n - PROTO)),
    }
    Path(str(tmp) + ".json").write_text(json.dumps(info))
    os.replace(Path(str(tmp) + ".json"), Path(str(path) + ".json"))
    os.replace(tmp, path)  # the cache is complete: only now does it have its name
    log(
        f"built {path.name}: {n:,} generations in {info['seconds']:.0f} s "
        f"({info['bytes'] / n:.0f} bytes a generation)"
    )
    return info


def realistic_cache(n: int, seed: int = 5, directory: Path | None = None) -> Path:
    """Path of a ready realistic cache of n generations (built on first use, then reused)."""
    directory = directory or CACHE_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = cache_path(n, seed, directory)
    if not path.exists():
        build(path, n, seed)
    cache, _ = Cache.open(path)  # as the app opens it: migrated, with its derived data
    try:
        for roll_up in rollup.ALL:
            rollup.ensure(cache.conn, roll_up)
    finally:
        cache.close()
    return path
