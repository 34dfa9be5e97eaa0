"""The latency-per-token bins of the eco report: SQL bisection against the plain definition."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from lowdash_desktop.store.rollup import BIN_BITS as _BIN_BITS
from lowdash_desktop.store.rollup import bin_sql as _bin_sql


def keep_top_bits(x: int) -> int:
    """Keep the top _BIN_BITS significant bits of x (below 2**_BIN_BITS or from 2**40: x)."""
    if x < 1 << _BIN_BITS or x >= 1 << 40:
        return x
    drop = x.bit_length() - _BIN_BITS
    return (x >> drop) << drop


EDGES = sorted({0, 1} | {v for k in range(0, 52) for v in ((1 << k) - 1, 1 << k, (1 << k) + 1)})


def _sql_bins(values: list[int]) -> list[int]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t(i INTEGER PRIMARY KEY, x INTEGER)")
    conn.executemany("INSERT INTO t(x) VALUES (?)", [(v,) for v in values])
    return [row[0] for row in conn.execute(f"SELECT {_bin_sql('x')} FROM t ORDER BY i")]


def test_every_power_of_two_edge():
    assert _sql_bins(EDGES) == [keep_top_bits(v) for v in EDGES]
    assert keep_top_bits(0b110111) == 0b110100 and keep_top_bits(9) == 9


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=1 << 45), min_size=1, max_size=50))
def test_random_values(values):
    assert _sql_bins(values) == [keep_top_bits(v) for v in values]
