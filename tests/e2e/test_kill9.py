"""Guarantee 2: `kill -9` of a headless sync at random moments; the next one resumes to truth."""

from __future__ import annotations

import pytest

from lowdash_desktop.demo import DemoPlatform
from lowdash_desktop.demo.faults import Faults
from tests.reliability.harness import compare, kill_rounds


def run(tmp_path, rounds: int, seed: int):
    platform = DemoPlatform(seed=seed, generations=1500)
    port = int(platform.start().rsplit(":", 1)[1].split("/")[0])
    Faults(rate=0.03, kinds="drop,500,truncate,replay,extra-fields,malformed,revision-bump",
           seed=seed).attach(platform)
    data_dir = tmp_path / "killed"
    try:
        stats, path = kill_rounds(platform, data_dir, rounds, seed)
        assert platform.base_url.endswith(f":{port}/v1"), "one stable port across rounds"
        result = compare(platform, path)
    finally:
        platform.stop()
    assert not stats.partial_violations, stats.partial_violations
    assert result.mismatches == 0, result
    assert result.integrity == "ok"
    return stats


def test_kill9_rounds_resume_to_truth(tmp_path):
    stats = run(tmp_path, rounds=8, seed=21)
    assert stats.killed >= 5, stats
    assert stats.killed_by_request >= 2 and stats.integrity_checks >= 5


@pytest.mark.slow
def test_kill9_many_rounds(tmp_path):
    stats = run(tmp_path, rounds=60, seed=99)
    assert stats.killed >= 45 and stats.killed_by_request >= 20, stats
