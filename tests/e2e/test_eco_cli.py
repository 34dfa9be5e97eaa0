"""`lowdash eco` as a real process against a cache synced from the demo platform."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lowdash_desktop import accounts
from lowdash_desktop.eco.impact import report_from_cache
from lowdash_desktop.store.cache import Cache


def run_lowdash(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "lowdash_desktop", *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=timeout,
    )


@pytest.fixture
def synced(demo_platform, data_dir):
    done = run_lowdash("sync", "--base-url", demo_platform.base_url, "--quiet",
                       env={"LOWDASH_API_KEY": demo_platform.api_key})
    assert done.returncode == 0, done.stderr
    return demo_platform


def test_eco_json_has_every_field_and_matches_the_module(synced, data_dir):
    done = run_lowdash("eco", "--days", "30", "--base-url", synced.base_url, "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    for side in ("actual", "baseline"):
        for figure in ("energy_wh", "carbon_g"):
            assert set(doc[side][figure]) == {"value", "low", "high"}
            assert doc[side][figure]["low"] <= doc[side][figure]["value"]
            assert doc[side][figure]["value"] <= doc[side][figure]["high"]
    assert isinstance(doc["saved"], bool)
    assert doc["confidence"] in ("normal", "reduced")
    assert isinstance(doc["caveats"], list) and doc["methodology_versions"]
    assert doc["generations"] > 0 and doc["tokens"] > 0
    entry = accounts.find(data_dir, synced.base_url)
    cache = Cache.open_reader(entry.cache_path(data_dir))
    report = report_from_cache(cache, 30)
    cache.close()
    assert doc["generations"] == report.generations
    assert doc["actual"]["energy_wh"]["value"] == pytest.approx(report.actual.energy_wh.value)
    assert doc["baseline_model"] == synced.settings["eco_baseline_model"]
    # added fields: each metric judged on its own, within the ranges
    for figure in ("energy_wh", "carbon_g"):
        judged = doc["comparison"][figure]
        assert set(judged) == {"verdict", "ranges_overlap", "difference", "percent"}
        a, b = doc["actual"][figure], doc["baseline"][figure]
        overlap = a["low"] <= b["high"] and b["low"] <= a["high"]
        assert judged["ranges_overlap"] == overlap
        assert judged["verdict"] == ("same" if overlap else
                                     "less" if a["high"] < b["low"] else "more")
    assert doc["scope"] == {}
    json.loads(done.stdout, parse_constant=lambda c: pytest.fail(f"non-strict JSON: {c}"))


def test_eco_baseline_both_ways_and_text_summary(synced, data_dir):
    # 405B dense: larger than every model the demo uses (its GPT-4o and Claude Sonnet 4 too)
    big = json.loads(run_lowdash("eco", "--baseline", "meta-llama/llama-3.1-405b-instruct",
                                 "--json").stdout)
    small = json.loads(run_lowdash("eco", "--baseline", "microsoft/phi-4", "--json").stdout)
    assert big["saved"] is True and small["saved"] is False
    text = run_lowdash("eco", "--baseline", "microsoft/phi-4")
    assert text.returncode == 0
    assert "used more energy and more carbon than Phi-4 would have" in text.stdout
    assert "You saved" not in text.stdout


def test_eco_unknown_baseline_and_no_cache(synced, data_dir, tmp_path):
    done = run_lowdash("eco", "--baseline", "nobody/none", "--json")
    assert done.returncode == 2 and "unknown baseline model" in done.stderr
    empty = run_lowdash("eco", "--json", "--data-dir", str(tmp_path / "empty"))
    assert empty.returncode == 2 and "no cached account" in empty.stderr


def test_eco_on_a_damaged_cache_fails_with_one_line(synced, data_dir):
    """A damaged cache is moved aside at open: eco says so and exits 1, never an empty report."""
    entry = accounts.find(data_dir, None)
    path = entry.cache_path(data_dir)
    with open(path, "r+b") as f:
        f.write(b"this is no longer a SQLite file" * 4)
    done = run_lowdash("eco", "--days", "30", "--json", "--data-dir", str(data_dir))
    assert done.returncode == 1
    assert done.stdout == "" and "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("lowdash eco: ") and "moved aside" in last and "sync" in last
