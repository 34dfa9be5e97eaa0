"""The scale round's cache (benchmarks/bigcache.py): rows equal to the sync's own, built whole
or not at all, reused once built."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import bigcache
from lowdash_desktop.demo.fastfeed import FastDemoPlatform
from lowdash_desktop.store import rollup
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.sync.engine import split_page
from lowdash_desktop.sync.fastpath import decode_page


def synced_rows(platform: FastDemoPlatform) -> dict[str, tuple]:
    """Each generation's newest row, made from the served pages the way the sync makes them."""
    newest: dict[str, tuple] = {}
    for start in sorted(platform._pages):
        body = platform._pages[start].body
        page = decode_page(body)
        rows = page.rows if page is not None else split_page(json.loads(body)["data"])[0]
        for row in rows:
            if row[0] not in newest or row[2] > newest[row[0]][2]:
                newest[row[0]] = row
    return newest


def test_the_harness_rows_are_the_rows_the_sync_makes_of_the_fast_platforms_feed():
    platform = FastDemoPlatform(seed=4, generations=3000, page_limit=1000)
    idx = np.arange(3000)
    ours = bigcache.ChunkRows(platform.data).rows(idx, idx + 1)
    assert {row[0]: row for row in ours} == synced_rows(platform)


def test_bulk_ids_are_the_demos_ids():
    platform = FastDemoPlatform(seed=6, generations=2000, page_limit=1000)
    idx = np.arange(2000)
    assert platform.data.gen_ids(idx) == [platform.data.gen_id(i) for i in idx.tolist()]


def test_a_build_merges_its_chunks_in_time_order_with_the_synced_reference_data(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(bigcache, "CHUNK", 900)  # three chunks of data, merged
    monkeypatch.setattr(bigcache, "BATCH", 700)
    path = bigcache.cache_path(2_600, 3, tmp_path)
    half_built = path.with_name(path.name + ".building")
    half_built.write_bytes(b"left by a build that was stopped")
    info = bigcache.build(path, 2_600, 3, log=lambda _line: None)

    assert not half_built.exists() and info["generations"] == 2_600 and info["chunks"] == 3
    assert bigcache.build_info(path)["seconds"] == info["seconds"]
    cache = Cache.open_reader(path)
    try:
        assert cache.generation_count() == 2_600
        bulk = [
            t for (t,) in cache.conn.execute("SELECT created_at FROM generations ORDER BY rowid")
        ][bigcache.PROTO :]
        assert bulk == sorted(bulk)
        seqs = [s for (s,) in cache.conn.execute("SELECT seq FROM generations")]
        assert len(set(seqs)) == 2_600
        assert all(rollup.in_step(cache.conn, r) for r in rollup.ALL)
        for name in ("account", "credits", "models", "methodology", "keys"):
            assert cache.snapshot(name) is not None, name
        keys = {k["id"] for k in cache.snapshot("keys")[0]}
        used = {k for (k,) in cache.conn.execute("SELECT DISTINCT key_id FROM generations")}
        # the generations name the keys the sync saved (and the demo's revoked key, unlisted)
        assert len(used & keys) >= 3 and len(used - keys) <= 1
        models = {
            m for (m,) in cache.conn.execute("SELECT DISTINCT resolved_model FROM generations")
        }
        assert len(models) > 40 and any(not m.isascii() for m in models)
    finally:
        cache.close()


def test_a_built_cache_is_reused_and_a_half_built_one_never_is(tmp_path, monkeypatch):
    built: list[int] = []
    real_build = bigcache.build

    def counting_build(path, n, seed, log=print):
        built.append(n)
        return real_build(path, n, seed, log=lambda _line: None)

    monkeypatch.setattr(bigcache, "build", counting_build)
    first = bigcache.realistic_cache(1_200, seed=2, directory=tmp_path)
    assert bigcache.realistic_cache(1_200, seed=2, directory=tmp_path) == first
    assert built == [1_200]

    def failing_build(path, n, seed, log=print):
        path.with_name(path.name + ".building").write_bytes(b"half")
        raise KeyboardInterrupt  # stopped mid-build

    monkeypatch.setattr(bigcache, "build", failing_build)
    with pytest.raises(KeyboardInterrupt):
        bigcache.realistic_cache(1_300, seed=2, directory=tmp_path)
    assert not bigcache.cache_path(1_300, 2, tmp_path).exists()
