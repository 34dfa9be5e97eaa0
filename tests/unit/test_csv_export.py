"""CSV export: exact columns and values, filters by UTC day, atomic on cancel, flat memory."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from lowdash_desktop.api.models import Generation
from lowdash_desktop.export.csv_export import (
    CSV_COLUMNS,
    ExportCancelled,
    day_filter,
    export_csv,
)
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.store.queries import HistoryFilter
from lowdash_desktop.store.rows import GENERATION_COLUMNS, generation_row

T0 = datetime(2026, 11, 1, 22, 30, tzinfo=UTC)
HEADER = (
    "id,created_at,key_id,model,resolved_model,provider,region,latency_ms,prompt_tokens,"
    "completion_tokens,total_tokens,cost,currency,energy_wh,carbon_g,methodology_version,revision"
)


def gen(
    i: int,
    *,
    cost: str = "0.000731",
    model: str = "mistral/small",
    eco: bool = True,
    provider: str = "scaleway",
    minutes: int | None = None,
) -> tuple:
    moment = T0 + timedelta(minutes=30 * i if minutes is None else minutes, milliseconds=7)
    record = {
        "id": f"gen_{i:06d}",
        "seq": i,
        "revision": 1 + i % 3,
        "created_at": moment.isoformat(),
        "key_id": "key_a",
        "model": "lowrouter/auto",
        "resolved_model": model,
        "provider": provider,
        "region": "fr-par",
        "latency_ms": 800 + i,
        "tokens": {"prompt": 10 * i, "completion": i, "total": 11 * i},
        "cost": {"amount": cost, "currency": "EUR"},
    }
    if eco:
        record["eco"] = {
            "energy_wh": {"value": 0.41, "low": 0.2, "high": 0.6},
            "carbon_g": {"value": 0.021, "low": 0.01, "high": 0.03},
            "methodology_version": "eco-2026.3",
            "confidence": "verified",
        }
    return generation_row(Generation.model_validate(record))


def read(path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n")
    return list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))


def test_header_columns_and_exact_values(cache, tmp_path):
    cache.apply_page(
        [
            gen(1, cost="0.000731"),
            gen(2, cost="12.345678901", model='odd, "quoted" model'),
            gen(3, cost="0", eco=False),
        ],
        [],
        None,
    )
    out = tmp_path / "history.csv"
    assert export_csv(cache.conn, out) == 3
    raw = out.read_bytes()
    assert raw.startswith(HEADER.encode() + b"\r\n")
    assert raw.count(b"\r\n") == 4
    rows = read(out)
    assert rows[0] == list(CSV_COLUMNS) == HEADER.split(",")
    first = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert first == {
        "id": "gen_000001",
        "created_at": "2026-11-01T23:00:00.007Z",
        "key_id": "key_a",
        "model": "lowrouter/auto",
        "resolved_model": "mistral/small",
        "provider": "scaleway",
        "region": "fr-par",
        "latency_ms": "801",
        "prompt_tokens": "10",
        "completion_tokens": "1",
        "total_tokens": "11",
        "cost": "0.000731",
        "currency": "EUR",
        "energy_wh": "0.41",
        "carbon_g": "0.021",
        "methodology_version": "eco-2026.3",
        "revision": "2",
    }
    second = dict(zip(CSV_COLUMNS, rows[2], strict=True))
    assert second["resolved_model"] == 'odd, "quoted" model'
    assert Decimal(second["cost"]) == Decimal("12.345678901")
    assert b'"odd, ""quoted"" model"' in raw  # RFC 4180 quoting
    third = dict(zip(CSV_COLUMNS, rows[3], strict=True))
    assert third["energy_wh"] == third["carbon_g"] == third["methodology_version"] == ""


def test_filters_by_inclusive_utc_days_model_and_provider(cache, tmp_path):
    rows = [
        gen(i, model="a" if i % 2 else "b", provider="p" if i % 3 else "q") for i in range(1, 200)
    ]
    cache.apply_page(rows, [], None)
    flt = day_filter(date(2026, 11, 2), date(2026, 11, 3), model="a", provider="p")
    out = tmp_path / "f.csv"
    count = export_csv(cache.conn, out, flt)
    body = read(out)[1:]
    assert count == len(body) > 0
    expected = []
    for i in range(1, 200):
        moment = T0 + timedelta(minutes=30 * i, milliseconds=7)
        if date(2026, 11, 2) <= moment.date() <= date(2026, 11, 3) and i % 2 and i % 3:
            expected.append(f"gen_{i:06d}")
    assert [r[0] for r in body] == expected
    assert body[-1][1].startswith("2026-11-03T23:")  # the whole last day is in


def test_rows_come_oldest_first_whatever_the_insert_order(cache, tmp_path):
    cache.apply_page([gen(5), gen(1), gen(3)], [], None)
    out = tmp_path / "o.csv"
    export_csv(cache.conn, out)
    assert [r[0] for r in read(out)[1:]] == ["gen_000001", "gen_000003", "gen_000005"]


def test_cancel_leaves_the_old_file_and_no_temp(cache, tmp_path):
    cache.apply_page([gen(i) for i in range(1, 500)], [], None)
    out = tmp_path / "keep.csv"
    out.write_text("previous export\n")
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)

    with pytest.raises(ExportCancelled):
        export_csv(
            cache.conn, out, chunk_rows=100, progress=progress, cancelled=lambda: len(seen) > 2
        )
    assert out.read_text() == "previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir() if "keep" in p.name) == ["keep.csv"]
    assert not cache.conn.in_transaction


def test_an_error_midway_removes_the_temp_file(cache, tmp_path):
    cache.apply_page([gen(i) for i in range(1, 50)], [], None)
    out = tmp_path / "err.csv"

    def boom(done: int, total: int) -> None:
        if done:
            raise OSError("disk full")

    with pytest.raises(OSError):
        export_csv(cache.conn, out, chunk_rows=10, progress=boom)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if "err" in p.name] == []


def test_progress_reports_every_chunk_up_to_the_total(cache, tmp_path):
    cache.apply_page([gen(i) for i in range(1, 251)], [], None)
    seen: list[tuple[int, int]] = []
    export_csv(
        cache.conn,
        tmp_path / "p.csv",
        HistoryFilter(),
        chunk_rows=100,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(0, 250), (100, 250), (200, 250), (250, 250)]


def _bulk_insert(cache: Cache, n: int) -> None:
    template = list(gen(1))
    columns = list(GENERATION_COLUMNS)
    i_id, i_seq, i_at = columns.index("id"), columns.index("seq"), columns.index("created_at")
    start = template[i_at]

    def rows(lo: int, hi: int):
        for i in range(lo, hi):
            row = template.copy()
            row[i_id], row[i_seq], row[i_at] = f"gen_{i:07d}", i, start + i * 1000
            yield tuple(row)

    for lo in range(0, n, 50_000):
        cache.apply_page(list(rows(lo, min(n, lo + 50_000))), [], None)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_memory_stays_flat_over_200k_rows(cache, tmp_path):
    _bulk_insert(cache, 200_000)
    before = _rss_bytes()
    samples: list[tuple[int, int]] = []
    count = export_csv(
        cache.conn,
        tmp_path / "big.csv",
        chunk_rows=2000,
        progress=lambda done, total: samples.append((done, _rss_bytes())),
    )
    assert count == 200_000
    assert (tmp_path / "big.csv").stat().st_size > 200_000 * 100
    # holding the rows (or ~30 MB of CSV text) would show up many times over this bound
    peak = max(rss for _done, rss in samples)
    assert peak - before < 16 * 1024 * 1024, f"RSS grew {(peak - before) / 1e6:.1f} MB"
    settled = [rss for done, rss in samples if done >= 20_000]
    assert max(settled) - settled[0] < 8 * 1024 * 1024  # and it does not climb with the rows


# -- the parallel path: ranges rendered by several threads, one snapshot ------------------------
def _mixed_rows(n: int) -> list[tuple]:
    rows = []
    for i in range(1, n + 1):
        model = 'odd, "quoted" model' if i % 37 == 0 else ("line\nbreak" if i % 53 == 0 else "m")
        rows.append(gen(i, model=model, eco=i % 5 != 0, cost=f"0.{i:06d}"))
    return rows


def test_parallel_export_is_byte_identical_to_one_thread(cache, tmp_path):
    cache.apply_page(_mixed_rows(600), [], None)
    one, many = tmp_path / "one.csv", tmp_path / "many.csv"
    assert export_csv(cache.conn, one, chunk_rows=7, threads=1) == 600
    seen: list[tuple[int, int]] = []
    count = export_csv(
        cache.conn,
        many,
        chunk_rows=7,
        threads=3,
        parallel_min_rows=0,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert count == 600
    assert many.read_bytes() == one.read_bytes()
    assert seen[0] == (0, 600) and seen[-1] == (600, 600)
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)
    rows = read(many)
    assert len(rows) == 601
    assert rows[37][CSV_COLUMNS.index("resolved_model")] == 'odd, "quoted" model'
    # a line break in a platform string is a control character: replaced, visibly
    assert rows[53][CSV_COLUMNS.index("resolved_model")] == "line\ufffdbreak"
    assert rows[5][CSV_COLUMNS.index("energy_wh")] == ""
    assert [r[0] for r in rows[1:]] == [f"gen_{i:06d}" for i in range(1, 601)]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    assert not cache.conn.in_transaction


def test_parallel_filtered_export_matches_one_thread(cache, tmp_path):
    cache.apply_page(_mixed_rows(400), [], None)
    flt = day_filter(date(2026, 11, 3), date(2026, 11, 6), model="m")
    one, many = tmp_path / "one.csv", tmp_path / "many.csv"
    n1 = export_csv(cache.conn, one, flt, chunk_rows=5, threads=1)
    n2 = export_csv(cache.conn, many, flt, chunk_rows=5, threads=2, parallel_min_rows=0)
    assert n1 == n2 > 50
    assert many.read_bytes() == one.read_bytes()


def test_rows_committed_during_a_parallel_export_are_not_in_it(cache, tmp_path):
    cache.apply_page([gen(i, minutes=10 * i) for i in range(0, 300)], [], None)
    writer = Cache.open_reader(cache.path)
    added = []

    def progress(done: int, total: int) -> None:
        if not added:  # a sync commits rows all over the time range, mid-export
            writer.apply_page([gen(10_000 + i, minutes=10 * i + 5) for i in range(300)], [], None)
            added.append(True)

    out = tmp_path / "snap.csv"
    count = export_csv(
        cache.conn, out, chunk_rows=10, threads=2, parallel_min_rows=0, progress=progress
    )
    writer.close()
    ids = [r[0] for r in read(out)[1:]]
    assert count == len(ids) == 300
    assert ids == [f"gen_{i:06d}" for i in range(0, 300)]
    assert cache.generation_count() == 600


def test_a_busy_writer_makes_the_export_run_on_one_thread_and_still_be_right(cache, tmp_path):
    cache.apply_page(_mixed_rows(120), [], None)
    writer = Cache.open_reader(cache.path)
    writer.conn.execute("BEGIN IMMEDIATE")  # a sync holding the write lock for a while
    writer.conn.execute("DELETE FROM generations")
    try:
        out = tmp_path / "busy.csv"
        assert export_csv(cache.conn, out, threads=2, parallel_min_rows=0) == 120
    finally:
        writer.conn.execute("ROLLBACK")
        writer.close()
    assert len(read(out)) == 121


def test_cancelling_a_parallel_export_leaves_nothing(cache, tmp_path):
    cache.apply_page(_mixed_rows(500), [], None)
    out = tmp_path / "keep.csv"
    out.write_text("previous export\n")
    calls: list[int] = []
    with pytest.raises(ExportCancelled):
        export_csv(
            cache.conn,
            out,
            chunk_rows=10,
            threads=2,
            parallel_min_rows=0,
            progress=lambda d, t: calls.append(d),
            cancelled=lambda: len(calls) > 2,
        )
    assert out.read_text() == "previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir() if "keep" in p.name) == ["keep.csv"]
    assert not cache.conn.in_transaction


def test_a_failing_helper_thread_fails_the_export_and_leaves_nothing(cache, tmp_path, monkeypatch):
    from lowdash_desktop.export import csv_export

    cache.apply_page(_mixed_rows(200), [], None)
    real = csv_export._Part._render

    def render(self, where, params):
        if self.low is not None:  # the second range, rendered on a helper thread
            raise OSError("disk full")
        return real(self, where, params)

    monkeypatch.setattr(csv_export._Part, "_render", render)
    out = tmp_path / "err.csv"
    with pytest.raises(OSError, match="disk full"):
        export_csv(cache.conn, out, chunk_rows=10, threads=2, parallel_min_rows=0)
    assert [p.name for p in tmp_path.iterdir() if "err" in p.name] == []
    assert not cache.conn.in_transaction


def test_a_helper_thread_that_cannot_start_fails_the_export_without_hanging(
    cache, tmp_path, monkeypatch
):
    from lowdash_desktop.export import csv_export

    cache.apply_page(_mixed_rows(120), [], None)

    def refuse(self) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(csv_export._Helper, "start", refuse)
    out = tmp_path / "t.csv"
    with pytest.raises(RuntimeError, match="start new thread"):
        export_csv(cache.conn, out, chunk_rows=10, threads=3, parallel_min_rows=0)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith((".t.csv", "t.csv"))] == []
    assert not cache.conn.in_transaction


def test_more_threads_only_from_parallel_min_rows_matching_rows(cache, tmp_path, monkeypatch):
    from lowdash_desktop.export import csv_export

    cache.apply_page(_mixed_rows(120), [], None)
    asked: list[int] = []
    real = csv_export.pinned_readers
    monkeypatch.setattr(csv_export, "pinned_readers",
                        lambda conn, n: asked.append(n) or real(conn, n))
    flt = HistoryFilter(model="m")
    matching = sum(1 for i in range(1, 121) if i % 37 and i % 53)  # see _mixed_rows
    for min_rows, parallel in ((matching, True), (matching + 1, False), (121, False)):
        asked.clear()
        out = tmp_path / f"m{min_rows}.csv"
        n = export_csv(cache.conn, out, flt, threads=2, parallel_min_rows=min_rows)
        assert n == matching and (asked == [1]) is parallel, (min_rows, asked)
    asked.clear()
    assert export_csv(cache.conn, tmp_path / "all.csv", threads=2, parallel_min_rows=120) == 120
    assert asked == [1]


def test_realistic_names_take_the_fast_line_and_write_what_the_careful_one_writes(tmp_path,
                                                                                 monkeypatch):
    """One name in eight is odd (quotes, `=formula`, tabs, Cyrillic, CJK): each name's field is
    made once, so those rows stay on the fast line; the file is byte for byte what rendering
    every row carefully writes."""
    import sqlite3

    from lowdash_desktop.export import csv_export
    from lowdash_desktop.store.cache import Cache

    from .test_compact_schema import realistic_rows

    cache, _ = Cache.open(tmp_path / "c.sqlite3")
    rows = realistic_rows(3000)
    cache.apply_page(rows, [], "c")
    odd = {r[6] for r in rows if r[6] and any(ch in r[6] for ch in '"=\t,;')}
    assert odd, "the data has odd names"
    conn = sqlite3.connect(tmp_path / "c.sqlite3")
    conn.isolation_level = None
    careful_lines = []
    real_line = csv_export._careful_line
    monkeypatch.setattr(csv_export, "_careful_line",
                        lambda row: careful_lines.append(row) or real_line(row))
    fast_out = tmp_path / "fast.csv"
    assert csv_export.export_csv(conn, fast_out, chunk_rows=500, threads=1) == 3000
    assert careful_lines == [], "no row left the fast line"
    monkeypatch.setattr(csv_export, "_fill_days", lambda *a: None)  # every chunk careful
    careful_out = tmp_path / "careful.csv"
    assert csv_export.export_csv(conn, careful_out, chunk_rows=500, threads=1) == 3000
    assert fast_out.read_bytes() == careful_out.read_bytes()
    conn.close()
    cache.close()
