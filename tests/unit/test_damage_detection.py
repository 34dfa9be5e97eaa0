"""Damage that is missed (issue 17, class 7): an export never comes back short from a damaged
cache, and never exits 0 with a partial or empty file.

A damaged index is the case `quick_check` does not see: the b-trees are well formed, but the
index no longer agrees with its table, so a filtered read through it silently drops rows.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import random
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lowdash_desktop import accounts
from lowdash_desktop.api.models import Generation
from lowdash_desktop.cli import main
from lowdash_desktop.store import db
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.store.rows import generation_row

T0 = datetime(2026, 11, 1, tzinfo=UTC)
MODELS = ("mistral/mistral-small-3", "meta/llama-3.3-70b", "openai/gpt-4o-mini")
PROVIDERS = ("scaleway", "ovh", "aws")
ROWS = 3000
BASE_URL = "https://damage.test/v1"


def _row(i: int) -> tuple:
    return generation_row(Generation.model_validate({
        "id": f"gen_{i:06d}", "seq": i, "revision": 1,
        "created_at": (T0 + timedelta(minutes=7 * i)).isoformat(),
        "model": "lowrouter/auto", "resolved_model": MODELS[i % 3],
        "provider": PROVIDERS[(i // 3) % 3], "region": "fr-par",
        "tokens": {"prompt": 10 * i, "completion": i, "total": 11 * i},
        "cost": {"amount": f"0.{i:06d}", "currency": "EUR"},
        "eco": {"energy_wh": {"value": 0.4, "low": 0.2, "high": 0.6},
                "carbon_g": {"value": 0.02, "low": 0.01, "high": 0.03},
                "methodology_version": "eco-test", "confidence": "verified"},
    }))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A healthy cache of 3,000 generations, checkpointed into one file (built once)."""
    path = tmp_path_factory.mktemp("pristine") / "cache.sqlite3"
    cache, _ = Cache.open(path)
    rows = [_row(i) for i in range(ROWS)]
    for start in range(0, ROWS, 500):
        cache.apply_page(rows[start:start + 500], [], f"c{start}")
    cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cache.close()
    return path


def _account_cache(data_dir: Path, pristine: Path) -> Path:
    entry = accounts.remember(data_dir, BASE_URL, "acct_damage", "ops@damage.test", "Ops")
    path = entry.cache_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", ".damaged"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    for old in path.parent.glob(path.name + ".corrupt-*"):
        old.unlink()
    shutil.copyfile(pristine, path)
    return path


def _export(out: Path, capsys, *filters: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["export", "csv", "--out", str(out), *filters])
    captured = capsys.readouterr()
    return code, captured.err


def _expected(pristine: Path, model: str) -> list[list[str]]:
    """The rows a filtered export of the healthy cache writes (header left out)."""
    out = pristine.parent / f"expected-{model.replace('/', '_')}.csv"
    if not out.exists():
        conn = sqlite3.connect(pristine)
        from lowdash_desktop.export.csv_export import day_filter, export_csv

        conn.isolation_level = None
        export_csv(conn, out, day_filter(model=model))
        conn.close()
    return list(csv.reader(io.StringIO(out.read_text("utf-8"))))[1:]


def _damage_index(path: Path, index: str, kept: float = 0.5) -> int:
    """Leave out of the index the entries of the rows after the first `kept` of the table (by
    time): built as a partial index, then declared whole again. Every b-tree stays well formed
    (quick_check passes), but the index disagrees with the table and a read through it comes
    back short. Returns the entries left out."""
    def connected() -> sqlite3.Connection:
        conn = sqlite3.connect(path)
        conn.isolation_level = None
        return conn

    conn = connected()
    (whole,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (index,)).fetchone()
    times = [r[0] for r in conn.execute("SELECT created_at FROM gen ORDER BY created_at")]
    cut = times[int(len(times) * kept)]
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?",
                 (f"{whole} WHERE created_at < {cut}", index))
    conn.close()
    conn = connected()
    conn.execute(f"REINDEX {index}")
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (whole, index))
    conn.close()
    return sum(1 for t in times if t >= cut)


def _checks(path: Path) -> tuple[str, str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    quick = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
    full = conn.execute("PRAGMA integrity_check(1)").fetchone()[0]
    conn.close()
    return quick, full


# -- the example of the issue: quick_check passes, a filtered export would come back short -------
def test_index_damage_passes_quick_check_but_not_the_full_check(tmp_path, pristine):
    path = tmp_path / "c.sqlite3"
    shutil.copyfile(pristine, path)
    assert _damage_index(path, "gen_resolved_created") > 100
    quick, full = _checks(path)
    assert quick == "ok" and full != "ok"


def test_a_small_cache_with_a_damaged_index_is_caught_at_open(data_dir, tmp_path, pristine, capsys):
    path = _account_cache(data_dir, pristine)
    _damage_index(path, "gen_resolved_created")
    out = tmp_path / "out.csv"
    code, err = _export(out, capsys, "--model", MODELS[0])
    assert code == 1, err
    assert "damaged" in err and "Nothing was exported" in err and "Traceback" not in err
    assert not out.exists()
    assert list(path.parent.glob(path.name + ".corrupt-*")), "moved aside for the next sync"


def test_a_big_cache_with_a_damaged_index_fails_the_export_not_silently(
    data_dir, tmp_path, pristine, capsys, monkeypatch
):
    """Too big for the full check at open: the export's own cross-check catches it."""
    monkeypatch.setattr(db, "QUICK_CHECK_AT_OPEN_MAX_BYTES", 0)  # as for a big cache
    path = _account_cache(data_dir, pristine)
    _damage_index(path, "gen_resolved_created")
    out = tmp_path / "out.csv"
    code, err = _export(out, capsys, "--model", MODELS[0])
    assert code == 1, err
    assert "damaged" in err and "index" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out.csv*")), "no file, no part left"
    assert db.damaged_marker(path).exists(), "the next open moves it aside"
    code, err = _export(out, capsys, "--model", MODELS[0])
    assert code == 1 and "moved aside" in err and not out.exists()


def test_a_damaged_cache_never_exports_zero_rows_with_exit_0(
    data_dir, tmp_path, pristine, capsys
):
    """Today's report: pages scribbled over, `export csv` wrote a 0-row file and exited 0."""
    path = _account_cache(data_dir, pristine)
    data = bytearray(path.read_bytes())
    page = 4096
    middle = (len(data) // page // 2) * page
    data[middle:middle + 3 * page] = b"\xa5" * (3 * page)
    path.write_bytes(bytes(data))
    out = tmp_path / "out.csv"
    code, err = _export(out, capsys)
    assert code == 1 and "damaged" in err and not out.exists()


def test_damage_met_while_exporting_is_said_plainly(data_dir, tmp_path, pristine, capsys,
                                                    monkeypatch):
    """SQLite's 'database disk image is malformed' mid-export: exit 1, one sentence, no file."""
    from lowdash_desktop.export import csv_export

    path = _account_cache(data_dir, pristine)

    def malformed(*_a, **_k):
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(csv_export, "verify_read_count", malformed)
    out = tmp_path / "out.csv"
    code, err = _export(out, capsys)
    assert code == 1 and "damaged" in err and "Traceback" not in err and not out.exists()
    assert err.count("\n") == 1
    assert db.damaged_marker(path).exists()


def test_the_export_cross_check_costs_one_scan_and_agrees_on_a_healthy_cache(pristine):
    conn = sqlite3.connect(f"file:{pristine}?mode=ro", uri=True)
    from lowdash_desktop.store.queries import HistoryFilter

    for where, params in (("", []), HistoryFilter(model=MODELS[1]).where()):
        found = conn.execute(f"SELECT count(*) FROM generations{where}", params).fetchone()[0]
        db.verify_read_count(conn, where, params, found)  # no error
        plan = " ".join(r[3] for r in conn.execute(
            f"EXPLAIN QUERY PLAN SELECT count(*) FROM generations_scan{where}", params))
        assert "SCAN gen" in plan and "INDEX gen_" not in plan and "autoindex_gen" not in plan
    conn.close()


# -- property: random bit flips and cuts at seeded offsets ----------------------------------------
@settings(
    max_examples=120, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    flips=st.integers(1, 24),
    cut=st.booleans(),
    big=st.booleans(),
    model=st.sampled_from(MODELS),
)
def test_random_damage_either_reads_back_whole_or_says_damaged(
    data_dir, tmp_path, pristine, capsys, monkeypatch, seed, flips, cut, big, model
):
    """Invariant: exit 0 with every matching row (SQLite keeps no checksums, so a flip inside a
    stored value can change that value: at most one row per flip may differ, none may be
    missing), or exit 1 saying "damaged" with no file at --out. Never a traceback."""
    RESULTS[_damage_round(data_dir, tmp_path, pristine, capsys, monkeypatch,
                          seed, flips, cut, big, model)] += 1


def _damage_round(data_dir, tmp_path, pristine, capsys, monkeypatch, seed, flips, cut, big,
                  model) -> str:
    """One damaged copy exported; asserts the invariant; 'whole' or 'damaged'."""
    monkeypatch.setattr(db, "QUICK_CHECK_AT_OPEN_MAX_BYTES", 0 if big else 8 << 20)
    path = _account_cache(data_dir, pristine)
    rng = random.Random(seed)
    data = bytearray(path.read_bytes())
    if cut:
        data = data[: rng.randrange(100, len(data))]
    for _ in range(flips):
        offset = rng.randrange(100, len(data))  # the header has its own checks
        data[offset] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))
    out = tmp_path / f"out-{seed}.csv"
    out.unlink(missing_ok=True)
    try:
        code, err = _export(out, capsys, "--model", model)
    except SystemExit as exc:  # never: every outcome is a return code
        pytest.fail(f"SystemExit {exc.code}")
    assert "Traceback" not in err
    expected = _expected(pristine, model)
    if code == 0:
        got = list(csv.reader(io.StringIO(out.read_text("utf-8"))))[1:]
        assert len(got) == len(expected), "an export that exits 0 is never short"
        differing = sum(1 for a, b in zip(got, expected, strict=True) if a != b)
        assert differing <= flips
        return "whole"
    assert code == 1, err
    assert "damaged" in err, err
    assert not out.exists()
    return "damaged"


RESULTS = {"whole": 0, "damaged": 0}


def test_random_damage_reaches_both_outcomes(data_dir, tmp_path, pristine, capsys,
                                             monkeypatch):
    """The property's two outcomes both happen, on fixed seeds of its own (not on whatever the
    property happened to run before it): one flip usually reads back whole, a cut file says
    damaged."""
    seen = {"whole": 0, "damaged": 0}
    for seed in range(12):
        for flips, cut in ((1, False), (8, True)):
            seen[_damage_round(data_dir, tmp_path, pristine, capsys, monkeypatch, seed, flips,
                               cut, False, MODELS[seed % 3])] += 1
        if all(seen.values()):
            break
    print(f"\nrandom damage: property {RESULTS}, fixed seeds {seen}")
    assert seen["damaged"] > 0 and seen["whole"] > 0


# -- the second attack: every offline command, not only the export ----------------------------
@pytest.mark.parametrize("index, kept", [
    ("gen_resolved_created", 0.5),
    ("gen_resolved_created", 0.9),
])
def test_report_on_a_damaged_index_is_right_or_says_damaged(
    data_dir, pristine, capsys, monkeypatch, index, kept
):
    """The invariant: `lowdash report` is never wrong with exit 0 (it gave half the spend)."""
    monkeypatch.setattr(db, "QUICK_CHECK_AT_OPEN_MAX_BYTES", 0)  # as for a big cache
    path = _account_cache(data_dir, pristine)
    capsys.readouterr()
    assert main(["report", "--json", "--days", "3650"]) == 0
    truth = json.loads(capsys.readouterr().out)
    _account_cache(data_dir, pristine)
    _damage_index(path, index, kept)
    code = main(["report", "--json", "--days", "3650"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if code == 0:
        got = json.loads(captured.out)

        def sums(doc):  # the figures, not the window's bounds (they move with the clock)
            return {d: {"current": {k: v for k, v in p["current"].items()
                                    if k not in ("from", "to")},
                        "movers": p["movers"]} for d, p in doc["periods"].items()}

        assert got["keys"] == truth["keys"] and sums(got) == sums(truth)
    else:
        assert code == 1 and "damaged" in captured.err


def test_after_a_move_aside_no_offline_command_reports_an_empty_history(
    data_dir, tmp_path, pristine, capsys
):
    """One command moved the damaged cache aside; the next ones must not read the empty cache
    left in its place as the truth (0 rows, exit 0)."""
    path = _account_cache(data_dir, pristine)
    _damage_index(path, "gen_resolved_created")
    out = tmp_path / "out.csv"
    assert _export(out, capsys)[0] == 1  # caught at open, moved aside
    for argv in (["export", "csv", "--out", str(out)], ["eco", "--days", "30"],
                 ["report", "--json"]):
        capsys.readouterr()
        code = main(argv)
        captured = capsys.readouterr()
        assert code == 1, (argv, captured)
        assert "moved aside" in captured.err and "sync" in captured.err
        assert captured.out == "" and not out.exists()


def test_output_to_a_full_device_or_a_closed_pipe_is_one_line_not_a_traceback(
    data_dir, pristine, capsys, monkeypatch
):
    _account_cache(data_dir, pristine)

    class Closed(io.StringIO):
        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    full = open("/dev/full", "w")  # noqa: SIM115 - closed below, its buffer cannot be written
    monkeypatch.setattr("sys.stdout", full)
    code = main(["report", "--days", "30"])
    with contextlib.suppress(OSError):
        full.close()
    monkeypatch.setattr("sys.stdout", Closed())
    assert main(["report", "--days", "30"]) == 0  # `| head`: the reader left, nothing to say
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 1 and "could not be written" in err and "Traceback" not in err


def test_the_data_dir_given_before_the_subcommand_is_used(tmp_path, pristine, capsys,
                                                          monkeypatch):
    monkeypatch.delenv("LOWDASH_DATA_DIR", raising=False)
    root = tmp_path / "top"
    root.mkdir()
    _account_cache(root, pristine)
    assert main(["--data-dir", str(root), "report", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["keys"]


def test_arguments_that_are_not_valid_text_or_absurd_amounts_are_usage_errors(
    data_dir, pristine, capsys, tmp_path
):
    _account_cache(data_dir, pristine)
    for argv in (["export", "csv", "--out", str(tmp_path / "o.csv"), "--provider", "\udcff"],
                 ["report", "--spike-min", "1e999999999"], ["report", "--spike-min", "1_000"]):
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
