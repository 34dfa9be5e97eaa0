"""`python -m benchmarks --scale`: the scale round of issue 21 runs end to end (at a tiny size)
and reports every figure of its rows, those without a baseline as such."""

from __future__ import annotations

import json

import pytest

from benchmarks import bigcache, run


def test_the_scale_round_reports_each_of_its_rows(qapp, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bigcache, "CACHE_DIR", tmp_path)
    code = run.main(
        ["--scale", "--size", "1.5k", "--only", "build,table,docks,eco,csv", "--repeats", "1"]
    )
    assert code == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["round"] == "scale" and result["n"] == 1_500
    medians, ratios = result["medians"], result["ratios"]
    for name in (
        "build 1,500 realistic generations",
        "cache size per generation",
        "table: open",
        "table: sort by cost",
        "table: filter by model",
        "table: jump to last row",
        "CSV export of the whole cache",
    ):
        assert medians[name][0] > 0, name
    for name in ("dock figures, in their worker", "eco panel: 30-day report, in its worker"):
        assert 0 < medians[name][0] < 60, name
        assert ratios[name] is None and medians[name][1] is None  # a target of its own
        assert result["met"][name] in (True, False)
    assert ratios["table: open"] > 0 and ratios["CSV export of the whole cache"] > 0
    assert (tmp_path / bigcache.cache_path(1_500, 5, tmp_path).name).exists()


def test_sizes_and_rounds_are_read_as_written():
    assert [run.parse_size(s) for s in ("10m", "2.5m", "200k", "300,000", "1500")] == [
        10_000_000,
        2_500_000,
        200_000,
        300_000,
        1_500,
    ]
    for argv in (
        ["--size", "10m", "-n", "200k"],
        ["--size", "10m", "--only", "sync"],
        ["--size", "ten"],
    ):
        with pytest.raises(SystemExit) as refused:
            run.main(argv)
        assert refused.value.code == 2, argv
