"""`lowdash report`: runway, spikes, spend by key and periods from the local cache."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time

from .common import to_nanos

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
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
    nanos = to_nanos(text.strip()) if len(text) <= 32 else None
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


def run_report(args: argparse.Namespace) -> int:
    """Print the report of the most recent account's cache."""
    from ..offline_cache import open_cache
    from ..store.db import CacheError
    from .report import as_json, insight, summary_text
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
        result = insight(cache.conn, now_ms, days, SpikeRule(min_amount=spike_min))
    except (CacheError, sqlite3.Error) as exc:  # damage found while reading: one line
        print(f"lowdash report: the cache could not be read: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        cache.close()
    text = (json.dumps(as_json(result), indent=2, allow_nan=False) if args.json
            else summary_text(result))
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `lowdash report | head`: the reader left; no traceback
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes it at exit
    return EXIT_OK
