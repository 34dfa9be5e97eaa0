"""`lowdash report`: runway, spikes, spend by key and periods from the local cache."""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
import time

from ..exitcodes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from .common import to_nanos

MAX_DAYS = 3650


def parse_days(text: str) -> int:
    """--days: a whole number from 1 to MAX_DAYS (ValueError with the sentence to print)."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"--days must be a whole number of days, not {text!r}") from None
    if not 1 <= value <= MAX_DAYS:
        raise ValueError(f"--days must be from 1 to {MAX_DAYS}, not {value}")
    return value


def parse_amount(text: str, option: str = "--spike-min") -> int:
    """An amount of money of at least 0, in nano-units (ValueError with the sentence)."""
    try:  # the contract's decimal shape only: no '1_000', no full-width digits, no 1e999999
        shaped = len(text) <= 32 and re.fullmatch(r"\d+(\.\d+)?", text.strip(), re.ASCII)
        nanos = to_nanos(text.strip()) if shaped else None
    except (ArithmeticError, ValueError):
        nanos = None
    if nanos is None or nanos < 0:
        raise ValueError(f"{option} must be an amount of money like 1.00, not {text!r}")
    return nanos


def add_report_parser(sub: argparse._SubParsersAction) -> None:
    """Register the `report` subcommand."""
    report = sub.add_parser("report", help="runway, spend spikes, spend by key and period "
                            "comparison from the cache (no network)")
    report.add_argument("--data-dir", help="folder for caches and logs")
    report.add_argument("--days", default="30",
                        help="window of the spikes and spend by key, in days (default 30)")
    report.add_argument("--spike-min", default="1.00", metavar="AMOUNT",
                        help="smallest hourly spend that can be a spike (default 1.00)")
    report.add_argument("--base-url", help="the account's platform (default: the most recent)")
    report.add_argument("--json", action="store_true", help="print JSON")


def _check_indexes(conn: sqlite3.Connection, now_ms: int, days: int) -> None:
    """The report's sums come through indexes; a damaged index drops rows without an error.
    The rows of its window counted through the index must be the rows a table scan finds
    (raises CacheDamaged otherwise; 0.1-0.35 s at a million generations)."""
    from ..store.db import verify_read_count

    where, params = " WHERE created_at >= ?", [now_ms - days * 86_400_000]
    read = conn.execute(f"SELECT count(*) FROM generations{where}", params).fetchone()[0]
    verify_read_count(conn, where, params, read)
    verify_read_count(conn, "", [], conn.execute("SELECT count(*) FROM generations").fetchone()[0])


def run_report(args: argparse.Namespace) -> int:
    """Print the report of the most recent account's cache."""
    from ..offline_cache import open_cache
    from ..store.db import CacheError
    from .report import as_json, insight, summary_text, visible
    from .spikes import SpikeRule

    try:  # validated here: a bad value is one line and exit 2, never a usage dump
        days = parse_days(args.days)
        spike_min = parse_amount(args.spike_min)
    except ValueError as exc:
        print(f"lowdash report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    cache = open_cache(args, "report")
    if isinstance(cache, int):
        return cache
    now_ms = time.time_ns() // 1_000_000_000 * 1000  # whole seconds: `as_of` is exact
    try:
        _check_indexes(cache.conn, now_ms, max(days, 60))
        result = insight(cache.conn, now_ms, days, SpikeRule(min_amount=spike_min))
        text = (json.dumps(as_json(result), indent=2, allow_nan=False) if args.json
                else "\n".join(visible(line) for line in summary_text(result).split("\n")))
    except (CacheError, sqlite3.Error) as exc:  # damage found while reading: one line
        print(f"lowdash report: the cache could not be read: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (TypeError, ValueError) as exc:  # a stored value of the wrong type: damage too
        print(f"lowdash report: the cache holds a value it cannot hold ({exc}); it may be "
              "damaged: run `lowdash sync --full-resync`", file=sys.stderr)
        return EXIT_FAILED
    finally:
        cache.close()
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `lowdash report | head`: the reader left; no traceback
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes it at exit
    return EXIT_OK
