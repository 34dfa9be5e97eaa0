"""`lowdash metrics` as a real process: scraped with httpx, parsed with prometheus_client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from lowdash_desktop import accounts
from lowdash_desktop.insight.metrics import parse_listen
from lowdash_desktop.store.cache import Cache
from tests.unit.insight_rows import HOUR_MS, row, store

from .test_eco_cli import run_lowdash

NAMES = {"key_a": "steady", "key_b": "batch"}


@pytest.fixture
def cache_account(data_dir):
    """A cached account: 10 days of 0.10 an hour on two keys, a 5.00 spike on key_b now."""
    entry = accounts.remember(data_dir, "http://127.0.0.1:9/v1", "acc_m", "ops@example.com")
    path = entry.cache_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    now = time.time_ns() // 1_000_000
    this_hour = now // HOUR_MS * HOUR_MS
    rows, i = [], 0
    for h in range(1, 10 * 24):
        for key, model in (("key_a", "m/one"), ("key_b", "m/two")):
            rows.append(row(i, this_hour - h * HOUR_MS + 60_000, "0.10", key=key, model=model))
            i += 1
    rows.append(row(i, now - 1000, "5.00", key="key_b", model="m/two"))
    cache, _ = Cache.open(path)
    store(cache, rows, balance="123.45", keys=NAMES)
    cache.set_meta("last_sync_at", str(now - 90_000))
    cache.close()
    return path


def start(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lowdash_desktop", "metrics", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )
    line = proc.stdout.readline()  # "lowdash metrics: serving http://127.0.0.1:PORT/metrics"
    assert "serving http://" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, line.split("serving ")[1].split()[0]


def samples(text: str) -> dict:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_scrape_agrees_with_sums_over_the_cache_and_sigterm_exits_0(cache_account):
    proc, url = start("--listen", "127.0.0.1:0")
    try:
        answer = httpx.get(url, timeout=30)
        assert answer.status_code == 200
        got = samples(answer.text)
        cache = Cache.open_reader(cache_account)
        try:
            now = time.time_ns() // 1_000_000

            def exact(where: str, params=()) -> float:
                rows = cache.conn.execute(f"SELECT cost FROM generations WHERE {where}", params)
                return float(sum((Decimal(t) for (t,) in rows), Decimal(0)))

            day = now - 86_400_000
            for key, name in NAMES.items():
                spend = got[("lowdash_key_spend_24h", (("currency", "EUR"), ("key_id", key),
                                                        ("key_name", name)))]
                # a scrape a moment earlier: at most the hour-old row at the window's edge
                assert spend == pytest.approx(exact("key_id=? AND created_at>=?", (key, day)),
                                              abs=0.10 + 1e-9)
            model = got[("lowdash_model_spend_24h", (("currency", "EUR"), ("model", "m/two")))]
            assert model == pytest.approx(exact("resolved_model='m/two' AND created_at>=?",
                                                (day,)), abs=0.10 + 1e-9)
            today = now // 86_400_000 * 86_400_000
            assert got[("lowdash_spend_today", (("currency", "EUR"),))] == pytest.approx(
                exact("created_at>=?", (today,)), abs=1e-9)
        finally:
            cache.close()
        assert got[("lowdash_balance", (("currency", "EUR"),))] == 123.45
        assert got[("lowdash_cache_readable", ())] == 1
        assert got[("lowdash_spikes_open", ())] == 2  # key_b and m/two, this hour
        assert got[("lowdash_spikes_24h", ())] == 2
        assert 90 <= got[("lowdash_last_sync_age_seconds", ())] < 300
        low, value = got[("lowdash_runway_days_low", ())], got[("lowdash_runway_days", ())]
        assert 0 < low <= value
        # OpenMetrics when asked for it
        om = httpx.get(url, headers={"Accept": "application/openmetrics-text; version=1.0.0"},
                       timeout=30)
        assert om.headers["content-type"].startswith("application/openmetrics-text")
        assert om.text.rstrip().endswith("# EOF")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        proc.stdout.close()
        proc.stderr.close()


def test_ctrl_c_stops_it_with_exit_0(cache_account):
    proc, url = start("--listen", "localhost:0")
    try:
        assert httpx.get(url, timeout=30).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.parametrize("args, says", [
    (("--listen", "0.0.0.0:9464"), "not a loopback address"),
    (("--listen", "9464"), "HOST:PORT"),
    (("--listen", "127.0.0.1:99999"), "from 0 to 65535"),
    (("--listen", "example.org:80"), "IP address"),
    (("--spike-min", "lots"), "--spike-min"),
    (("--sync-every", "0"), "--sync-every"),
    (("--sync-every", "5"), "LOWDASH_API_KEY"),
])
def test_bad_arguments_are_one_line_and_exit_2(cache_account, args, says):
    done = run_lowdash("metrics", *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and lines[0].startswith("lowdash metrics:")


def test_no_cached_account_is_exit_2(data_dir):
    done = run_lowdash("metrics", "--listen", "127.0.0.1:0")
    assert done.returncode == 2 and "no cached account" in done.stderr


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_listen_text_is_an_address_or_one_sentence(text):
    try:
        host, port = parse_listen(text)
    except ValueError as exc:
        assert "\n" not in str(exc) and str(exc)
    else:
        import ipaddress

        assert ipaddress.ip_address(host).is_loopback and 0 <= port <= 65535


def test_sync_every_fills_the_cache_it_serves(demo_platform, data_dir):
    entry = accounts.remember(data_dir, demo_platform.base_url, "acc_demo", "ops@example.com")
    os.environ["LOWDASH_API_KEY"] = demo_platform.api_key  # restored by the data_dir fixture
    try:
        proc, url = start("--listen", "127.0.0.1:0", "--sync-every", "60")
    finally:
        del os.environ["LOWDASH_API_KEY"]
    try:
        deadline = time.monotonic() + 90
        got: dict = {}
        while time.monotonic() < deadline:  # the first sync runs at start, in a child process
            got = samples(httpx.get(url, timeout=30).text)
            if ("lowdash_last_sync_age_seconds", ()) in got:  # the sync has ended
                break
            time.sleep(0.2)
        assert got[("lowdash_cache_readable", ())] == 1
        assert got[("lowdash_last_sync_age_seconds", ())] < 120
        # the sync recorded the account under the platform's own id: that cache is served
        synced = accounts.find(data_dir, demo_platform.base_url)
        assert synced.cache_path(data_dir).is_file() and synced.account_id != entry.account_id
        assert got[("lowdash_balance", (("currency", "EUR"),))] > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        proc.stdout.close()
        proc.stderr.close()
