"""`lowdash export csv|invoice`: headless exports from an account's local cache, offline."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def add_export_parser(sub: Any) -> argparse.ArgumentParser:
    """Register `export csv` and `export invoice` on the top-level subparsers."""
    export = sub.add_parser("export", help="export from the local cache (works offline)")
    kinds = export.add_subparsers(dest="export_kind", required=True)

    csv_cmd = kinds.add_parser("csv", help="the generation history as CSV (streamed)")
    csv_cmd.add_argument("--out", required=True, help="the CSV file to write")
    csv_cmd.add_argument("--from", dest="from_day", type=_day, help="first UTC day (YYYY-MM-DD)")
    csv_cmd.add_argument("--to", dest="to_day", type=_day, help="last UTC day, inclusive")
    csv_cmd.add_argument("--model", help="only this (resolved) model, e.g. mistral/mistral-small-3")
    csv_cmd.add_argument("--provider", help="only this provider")

    inv = kinds.add_parser("invoice", help="an invoice as a PDF rendered locally")
    inv.add_argument("invoice_id", metavar="INVOICE_ID", help="the invoice id (or its number)")
    inv.add_argument("--out", required=True, help="the PDF file to write")
    inv.add_argument("--page-size", choices=("A4", "Letter"), default="A4")

    for cmd in (csv_cmd, inv):
        # SUPPRESS keeps a value given before the subcommand (`lowdash --data-dir D export ...`)
        cmd.add_argument("--data-dir", default=argparse.SUPPRESS, help="folder for caches")
        cmd.add_argument(
            "--base-url",
            default=argparse.SUPPRESS,
            help="the account's platform (default: the most recent account)",
        )
    return export


def _fail(kind: str, message: str, code: int = EXIT_FAILED) -> int:
    print(f"lowdash export {kind}: {message}", file=sys.stderr)
    return code


def _open_cache(args: argparse.Namespace):
    """The cache of the chosen account, or an error message."""
    from .. import accounts
    from ..paths import data_dir
    from ..store.cache import Cache
    from ..store.db import CacheError

    root = data_dir(getattr(args, "data_dir", None))
    base_url = getattr(args, "base_url", None)
    entry = accounts.find(root, base_url)
    if entry is None:
        where = f" for {base_url}" if base_url else ""
        return None, f"no cached account{where}; run `lowdash sync --base-url URL` first"
    path = entry.cache_path(root)
    if not path.exists():
        return None, f"no cache yet for {entry.label}; run `lowdash sync` first"
    try:
        cache, report = Cache.open(path)
    except CacheError as exc:
        return None, str(exc)
    if report.moved_aside is not None:  # an empty cache now: exporting it would say nothing
        cache.close()
        return None, " ".join(report.notes) + " Nothing was exported; run `lowdash sync` first."
    return cache, None


def _cache_problem(exc: BaseException, path: Path) -> str | None:
    """The sentence for a cache that failed mid-export (damaged, disk fault), else None."""
    import sqlite3

    from ..store import faults

    if not isinstance(exc, sqlite3.Error):
        return None
    translated = faults.translate(exc, path)
    if isinstance(translated, faults.CacheError):
        return str(translated)
    return f"could not read the cache ({exc})"


def run_csv(args: argparse.Namespace) -> int:
    """Stream the filtered history to --out."""
    from .csv_export import day_filter, export_csv

    if args.from_day and args.to_day and args.from_day > args.to_day:
        return _fail("csv", "--from is after --to", EXIT_USAGE)
    out = Path(args.out)
    if not out.parent.is_dir():
        return _fail("csv", f"folder does not exist: {out.parent}", EXIT_USAGE)
    cache, error = _open_cache(args)
    if cache is None:
        return _fail("csv", error)
    flt = day_filter(args.from_day, args.to_day, args.model, args.provider)
    try:
        count = export_csv(cache.conn, out, flt)
    except OSError as exc:
        return _fail("csv", f"could not write {out}: {exc}")
    except Exception as exc:  # damage met while reading: said plainly, nothing left at --out
        problem = _cache_problem(exc, cache.path)
        if problem is None:
            raise
        return _fail("csv", f"{problem} Nothing was written to {out}.")
    finally:
        cache.close()
    print(f"wrote {count} generations to {out}")
    return EXIT_OK


def run_invoice(args: argparse.Namespace) -> int:
    """Render one cached invoice to --out as a PDF."""
    out = Path(args.out)
    if not out.parent.is_dir():
        return _fail("invoice", f"folder does not exist: {out.parent}", EXIT_USAGE)
    cache, error = _open_cache(args)
    if cache is None:
        return _fail("invoice", error)
    try:
        invoices = cache.invoices()
    except Exception as exc:
        problem = _cache_problem(exc, cache.path)
        if problem is None:
            raise
        return _fail("invoice", problem)
    finally:
        cache.close()
    wanted = args.invoice_id
    body = next((i for i in invoices if wanted in (i.get("id"), i.get("number"))), None)
    if body is None:
        known = ", ".join(i.get("id", "?") for i in invoices) or "none cached"
        return _fail("invoice", f"no invoice {wanted!r} in the cache (known: {known})")
    from .invoice_pdf import render_invoice_pdf

    try:
        pages = render_invoice_pdf(body, out, args.page_size)
    except (OSError, ValueError) as exc:
        return _fail("invoice", f"could not write {out}: {exc}")
    print(f"wrote invoice {body.get('number', wanted)} ({pages} pages) to {out}")
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    """Dispatch `lowdash export KIND`."""
    if args.export_kind == "csv":
        return run_csv(args)
    return run_invoice(args)
