"""The fault switches themselves, and what the client and engine do with each, over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from lowdash_desktop.api import errors
from lowdash_desktop.demo.faults import KINDS, Faults, parse_kinds
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.sync.engine import SyncEngine
from tests.reliability.harness import compare, fast_client


def one_sync(platform, path, waits=None, page_limit=50):
    """One sync run (no reruns): it must complete by itself."""
    cache, _ = Cache.open(path)
    client = fast_client(platform, sleep=(waits.append if waits is not None else None))
    try:
        return SyncEngine(client, cache, page_limit=page_limit).run()
    finally:
        client.close()
        cache.close()


@pytest.fixture
def faults(demo_platform):
    faults = Faults(seed=1, stall_s=2.0, retry_after=4).attach(demo_platform)
    yield faults
    faults.release()


def test_kinds_parse_and_unknown_is_refused():
    assert parse_kinds("all") == KINDS
    assert parse_kinds("drop, 503") == ("drop", "503")
    with pytest.raises(ValueError, match="unknown fault kinds"):
        parse_kinds("drop,explode")
    with pytest.raises(ValueError):
        Faults(rate=1.5)


@pytest.mark.parametrize("kind", ["truncate", "drop"])
def test_cut_body_is_retried_within_the_same_sync(demo_platform, faults, tmp_path, kind):
    faults.force(kind, times=3, path="/generations")
    result = one_sync(demo_platform, tmp_path / "c.sqlite3")
    assert result.complete and faults.injected[kind] == 3
    assert compare(demo_platform, tmp_path / "c.sqlite3").mismatches == 0


def test_backoff_grows_and_retry_after_is_honoured(demo_platform, faults):
    waits: list[float] = []
    client = fast_client(demo_platform, attempts=5, sleep=waits.append)
    with client:
        faults.force("503", times=3, path="/account")
        client.account()
        backoff = waits[:]
        waits.clear()
        faults.force("429", times=1, path="/credits")
        client.credits()
    assert len(backoff) == 3 and backoff[0] < backoff[2], "exponential back-off"
    assert waits == [4.0], "Retry-After is waited exactly"


def test_502_html_and_stall_become_typed_errors(demo_platform, faults):
    client = fast_client(demo_platform, attempts=1, read_timeout=0.2)
    with client:
        faults.force("502")
        with pytest.raises(errors.ServerError, match="HTTP 502"):
            client.account()
        faults.force("stall")
        with pytest.raises(errors.TimeoutError_, match="did not answer in time"):
            client.account()


def test_malformed_record_is_set_aside_and_its_good_copy_follows(
    demo_platform, faults, tmp_path
):
    path = tmp_path / "c.sqlite3"
    faults.force("malformed", times=3, path="/generations")
    result = one_sync(demo_platform, path)
    assert result.quarantined == 3 == faults.injected["malformed"]
    cache = Cache.open_reader(path)
    reasons = [r[0] for r in cache.conn.execute("SELECT reason FROM quarantine")]
    cache.close()
    assert all(reasons), "each one kept aside with its reason"
    assert compare(demo_platform, path).mismatches == 0, "the rest and the good copies stored"


def test_replay_and_revision_bump_keep_the_newest_revision(demo_platform, faults, tmp_path):
    path = tmp_path / "c.sqlite3"
    one_sync(demo_platform, path)
    demo_platform.add_generations(120)
    faults.force("replay", times=4, path="/generations")
    faults.force("revision-bump", times=5, path="/generations")
    one_sync(demo_platform, path, page_limit=30)
    assert faults.injected["replay"] == 4 and len(faults.bumped_ids) == 5
    truth = demo_platform.truth()
    assert all(truth[i] >= 2 for i in faults.bumped_ids)
    assert compare(demo_platform, path).mismatches == 0


def test_extra_fields_are_ignored(demo_platform, faults, tmp_path):
    faults.force("extra-fields", times=20, path="/generations")
    result = one_sync(demo_platform, tmp_path / "c.sqlite3", page_limit=30)
    assert result.quarantined == 0 and faults.injected["extra-fields"] == 20
    assert compare(demo_platform, tmp_path / "c.sqlite3").mismatches == 0


def test_paused_and_counters(demo_platform):
    faults = Faults(rate=1.0, kinds="500", seed=3).attach(demo_platform)
    with httpx.Client() as http:
        url = demo_platform.base_url + "/account"
        headers = {"Authorization": f"Bearer {demo_platform.api_key}"}
        assert http.get(url, headers=headers).status_code == 500
        with faults.paused():
            assert http.get(url, headers=headers).status_code == 200
    assert faults.injected == {"500": 1} and faults.seen == 2
    assert faults.summary().startswith("1 faults injected in 2 requests")


def test_demo_server_fault_flags():
    proc = subprocess.Popen(
        [sys.executable, "-m", "lowdash_desktop", "demo-server", "--port", "0",
         "--generations", "100", "--fault-rate", "1", "--faults", "503", "--fault-seed", "9"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        base_url = proc.stdout.readline().strip()
        key = proc.stdout.readline().strip()
        answer = httpx.get(base_url + "/account", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "unavailable"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "1 faults injected" in err and "503 1" in err
    bad = subprocess.run(
        [sys.executable, "-m", "lowdash_desktop", "demo-server", "--fault-rate", "0.1",
         "--faults", "meteor"], capture_output=True, text=True, timeout=60,
    )
    assert bad.returncode != 0 and "unknown fault kinds" in bad.stderr


def test_replay_serves_old_pages_only(demo_platform, faults, tmp_path):
    one_sync(demo_platform, tmp_path / "first.sqlite3", page_limit=40)
    faults.force("replay", times=8, path="/generations")
    one_sync(demo_platform, tmp_path / "fresh.sqlite3", page_limit=40)
    assert faults.injected["replay"] == 8
    assert compare(demo_platform, tmp_path / "fresh.sqlite3").mismatches == 0, (
        "a page from further on would skip records"
    )
