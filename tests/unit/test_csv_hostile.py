"""CSV export of hostile platform strings and times (property-based, class 8 of issue 17).

Rows are written to a real cache as a hostile platform (or an older Lowdash) could have left
them, exported, and parsed back with the csv module: the same rows, no cell a spreadsheet would
run as a formula unless it is a number in a numeric column, no control or bidi character, every
text otherwise intact and every time the same instant, whichever path (SQLite's fast line or
the careful one) and however many threads rendered it.
"""

from __future__ import annotations

import csv
import io
import math
import re
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lowdash_desktop.export.csv_export import CSV_COLUMNS, NUMBER_COLUMNS, export_csv
from lowdash_desktop.safe_text import CONTROL_CLASS, FORMULA_STARTS, visible
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.store.rows import GENERATION_COLUMNS

from .test_csv_export import gen

TEXT = ("id", "key_id", "model", "resolved_model", "provider", "region", "currency",
        "methodology_version")
NULLABLE = {"key_id", "resolved_model", "provider", "region", "methodology_version"}
CONTROL = re.compile(f"[{CONTROL_CLASS}]")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_MS, MAX_MS = -62135596800000, 253402300799999  # 0001-01-01 .. 9999-12-31T23:59:59.999

hostile_char = st.one_of(
    st.sampled_from("=+-@\t\r\n\x00\x1b\x7f\x85\x9b\u061c\u200e\u202e\u2066\u2028"
                    "\uff1d\uff0b\uff0d\uff20\",;'\ufffd "),
    st.characters(codec="utf-8"),  # every script, no surrogates
)
hostile_text = st.one_of(
    st.text(hostile_char, max_size=40),
    st.text(hostile_char, max_size=40),
    st.builds(lambda c, s: c + s, st.sampled_from("=+-@\t\r\uff1d"), st.text(max_size=20)),
    st.sampled_from(["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C"
                     " calc'!A0", "-", "=", "a\x00b", "\u202egnp.exe", "x;=1+1", "-1.5"]),
    # far past any real name, built by repetition (cheap to draw)
    st.builds(lambda s, n: s * n, st.text(hostile_char, min_size=1, max_size=8),
              st.integers(100, 1_000)),
)
times = st.one_of(
    st.integers(MIN_MS, MAX_MS),
    st.integers(-86_400_000 * 3, 86_400_000 * 3),  # around the epoch
    st.sampled_from([-1, -500, -999, -1000, -1001, -86_400_000, -86_400_001, 0, MIN_MS, MAX_MS]),
)
costs = st.one_of(
    st.decimals(min_value=-10**6, max_value=10**6, places=9, allow_nan=False),
    st.sampled_from([Decimal("-0.000731"), Decimal("0"), Decimal("-12.5")]),
)


@st.composite
def rows(draw):
    n = draw(st.integers(1, 8))
    out = []
    columns = list(GENERATION_COLUMNS)
    for i in range(n):
        row = list(gen(i + 1))
        values = {}
        for name in TEXT:
            value = draw(hostile_text)
            if name in NULLABLE and draw(st.booleans()) and i % 3 == 0:
                value = None
            if name == "id":
                value = f"{value}#{i}"  # unique
            values[name] = value
        values["created_at"] = draw(times)
        cost = draw(costs)
        values["cost"] = format(cost, "f")
        values["cost_nanos"] = int(cost * 10**9)
        values["latency_ms"] = draw(st.one_of(st.none(), st.integers(-10**6, 10**9)))
        values["energy_wh"] = draw(st.one_of(st.none(), st.floats(-1e6, 1e22, allow_nan=False)))
        values["carbon_g"] = draw(st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)))
        for name, value in values.items():
            row[columns.index(name)] = value
        out.append(tuple(row))
    return out


def _instant(text: str) -> int:
    """Integer ms since the epoch from `YYYY-MM-DDTHH:MM:SS.mmmZ` (years 0001-9999)."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z", text)
    assert m, text
    y, mo, d, h, mi, s, ms = map(int, m.groups())
    moment = datetime(y, mo, d, h, mi, s, tzinfo=UTC)
    return (moment - EPOCH) // timedelta(milliseconds=1) + ms


def _expected_text(value: str | None) -> str:
    if value is None:
        return ""
    shown = visible(value)
    return "'" + shown if shown.startswith(FORMULA_STARTS) else shown


CASES = {"examples": 0, "rows": 0}


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(rows())
def test_hostile_rows_export_as_inert_visible_text_with_exact_times(generated):
    CASES["examples"] += 1
    CASES["rows"] += len(generated)
    with tempfile.TemporaryDirectory() as tmp:
        cache, _ = Cache.open(Path(tmp) / "cache.sqlite3")
        try:
            cache.apply_page(generated, [], None)
            one, many = Path(tmp) / "one.csv", Path(tmp) / "many.csv"
            assert export_csv(cache.conn, one, threads=1) == len(generated)
            # small chunks on two threads: fast and careful chunks side by side
            assert export_csv(cache.conn, many, chunk_rows=2, threads=2,
                              parallel_min_rows=0) == len(generated)
        finally:
            cache.close()
        raw = one.read_bytes()
        assert many.read_bytes() == raw
    parsed = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert parsed[0] == list(CSV_COLUMNS)
    body = parsed[1:]
    assert len(body) == len(generated)
    columns = list(GENERATION_COLUMNS)
    by_id = {row[columns.index("id")]: row for row in generated}
    for cells in body:
        assert len(cells) == len(CSV_COLUMNS)
        record = dict(zip(CSV_COLUMNS, cells, strict=True))
        for name, cell in record.items():
            assert not CONTROL.search(cell), (name, cell)
            if cell.startswith(FORMULA_STARTS):
                assert name in NUMBER_COLUMNS or name == "cost", (name, cell)
                float(cell)  # a number, not a formula
        source = next(r for i, r in by_id.items() if _expected_text(i) == record["id"])
        for name in TEXT:
            assert record[name] == _expected_text(source[columns.index(name)]), name
        assert _instant(record["created_at"]) == source[columns.index("created_at")]
        assert Decimal(record["cost"]) == Decimal(source[columns.index("cost")])
        latency = source[columns.index("latency_ms")]
        assert record["latency_ms"] == ("" if latency is None else str(latency))
        for name in ("energy_wh", "carbon_g"):
            value = source[columns.index(name)]
            if value is None:
                assert record[name] == ""
            else:  # SQLite prints a REAL with 15 significant digits
                assert math.isclose(float(record[name]), value, rel_tol=1e-14, abs_tol=1e-300)


def test_hostile_rows_counts():
    """Runs after the property above (file order): what it generated, for the docs."""
    print(f"csv: {CASES['examples']} generated exports, {CASES['rows']} hostile rows")


def test_a_time_before_1970_keeps_its_sign(cache, tmp_path):
    """The issue's example: 1969-12-31T23:59:59.500Z exported as 1970-01-01T00:00:00.500Z."""
    row = list(gen(1))
    at = list(GENERATION_COLUMNS).index("created_at")
    stamps = [-500, -1, -86_400_001, 0, 1_000]
    batch = []
    for i, ms in enumerate(stamps):
        r = list(row)
        r[0], r[at] = f"gen_{i}", ms
        batch.append(tuple(r))
    cache.apply_page(batch, [], None)
    out = tmp_path / "old.csv"
    export_csv(cache.conn, out)
    got = [r[1] for r in csv.reader(io.StringIO(out.read_text(encoding="utf-8")))][1:]
    assert got == [
        "1969-12-30T23:59:59.999Z",
        "1969-12-31T23:59:59.500Z",
        "1969-12-31T23:59:59.999Z",
        "1970-01-01T00:00:00.000Z",
        "1970-01-01T00:00:01.000Z",
    ]


def test_formula_cells_are_neutralised_and_negative_numbers_stay_numbers(cache, tmp_path):
    columns = list(GENERATION_COLUMNS)
    r = list(gen(1, cost="-0.5"))
    r[columns.index("model")] = "=1+2"
    r[columns.index("provider")] = "@SUM(A1)"
    r[columns.index("region")] = "-2+3"
    r[columns.index("key_id")] = "+cmd"
    r[columns.index("energy_wh")] = -0.25
    cache.apply_page([tuple(r)], [], None)
    out = tmp_path / "f.csv"
    export_csv(cache.conn, out)
    raw = out.read_text(encoding="utf-8")
    record = dict(zip(CSV_COLUMNS, list(csv.reader(io.StringIO(raw)))[1], strict=True))
    assert record["model"] == "'=1+2" and record["provider"] == "'@SUM(A1)"
    assert record["region"] == "'-2+3" and record["key_id"] == "'+cmd"
    assert record["cost"] == "-0.5" and record["energy_wh"] == "-0.25"
    assert '"\'=1+2"' in raw  # neutralised cells are quoted as well
