"""`lowdash export csv|invoice`: headless exports from an account's local cache, offline."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from ..cliargs import non_empty, path_text, url_text
from ..exitcodes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from ..safe_text import visible


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
    csv_cmd.add_argument("--out", required=True, type=path_text, help="the CSV file to write")
    csv_cmd.add_argument("--from", dest="from_day", type=_day, help="first UTC day (YYYY-MM-DD)")
    csv_cmd.add_argument("--to", dest="to_day", type=_day, help="last UTC day, inclusive")
    csv_cmd.add_argument("--model", type=non_empty,
                         help="only this (resolved) model, e.g. mistral/mistral-small-3")
    csv_cmd.add_argument("--provider", type=non_empty, help="only this provider")

    inv = kinds.add_parser("invoice", help="an invoice as a PDF rendered locally")
    inv.add_argument("invoice_id", metavar="INVOICE_ID", help="the invoice id (or its number)")
    inv.add_argument("--out", required=True, type=path_text, help="the PDF file to write")
    inv.add_argument("--page-size", choices=("A4", "Letter"), default="A4")

    for cmd in (csv_cmd, inv):
        # SUPPRESS keeps a value given before the subcommand (`lowdash --data-dir D export ...`)
        cmd.add_argument("--data-dir", default=argparse.SUPPRESS, type=path_text,
                         help="folder for caches")
        cmd.add_argument(
            "--base-url",
            default=argparse.SUPPRESS,
            type=url_text,
            help="the account's platform (default: the most recent account)",
        )
    return export


def _fail(kind: str, message: str, code: int = EXIT_FAILED) -> int:
    print(f"lowdash export {kind}: {visible(message)}", file=sys.stderr)
    return code


def _out_problem(text: str) -> str | None:
    """Why --out cannot be written (a folder, in a missing folder, a device...), or None."""
    import os

    out = Path(text)
    try:
        if text.endswith(("/", os.sep, os.altsep or "/")) or out.is_dir():
            return f"--out {out} is a folder; give a file name"
        if not out.parent.exists():
            return f"folder does not exist: {out.parent}"
        if not out.parent.is_dir():
            return f"{out.parent} is not a folder"
        if out.exists() and not out.is_file():  # /dev/null: never renamed over
            return f"--out {out} is not a regular file"
    except OSError as exc:
        return f"cannot use --out {out}: {exc.strerror or exc}"
    return None


def _unknown_value(cache, column: str, value: str | None) -> str | None:
    """`--model`/`--provider` naming nothing in the cache: the message, with known values."""
    from ..store.schema import name_filter, number_column

    if value is None:
        return None
    conn = cache.conn
    if conn.execute(f"SELECT 1 FROM generations WHERE {name_filter(column)} LIMIT 1",
                    (value,)).fetchone():
        return None
    number = number_column(column)
    known = [v for (v,) in conn.execute(  # in name order, each found through its index
        "SELECT name FROM names AS n WHERE EXISTS "
        f"(SELECT 1 FROM gen WHERE {number} = n.nid) ORDER BY name LIMIT 21"
    )]
    listed = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
    option = "--model" if column == "resolved_model" else "--provider"
    return f"no generation with {option} {value!r} in the cache (known: {listed or 'none'})"


def _open_cache(args: argparse.Namespace):
    """The cache of the chosen account, or an error message (the export's exit code is 1
    whatever the reason, as it always was)."""
    from ..offline_cache import Refusal, locate_cache

    found = locate_cache(args)
    if isinstance(found, Refusal):  # an empty cache now: exporting it would say nothing
        return None, found.text + (" Nothing was exported." if found.damaged else "")
    return found, None


def _cache_problem(exc: BaseException, path: Path) -> str | None:
    """The sentence for a cache that failed mid-export (damaged, disk fault), else None."""
    import sqlite3

    from ..store import faults

    if not isinstance(exc, sqlite3.Error | UnicodeDecodeError):
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
    problem = _out_problem(args.out)
    if problem is not None:
        return _fail("csv", problem, EXIT_USAGE)
    cache, error = _open_cache(args)
    if cache is None:
        return _fail("csv", error)
    try:
        unknown = (_unknown_value(cache, "resolved_model", args.model)
                   or _unknown_value(cache, "provider", args.provider))
    except Exception as exc:
        cache.close()
        problem = _cache_problem(exc, cache.path)
        if problem is None:
            raise
        return _fail("csv", f"{problem} Nothing was written to {out}.")
    if unknown is not None:
        cache.close()
        return _fail("csv", unknown, EXIT_USAGE)
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
    print(visible(f"wrote {count} generations to {out}"))
    return EXIT_OK


def run_invoice(args: argparse.Namespace) -> int:
    """Render one cached invoice to --out as a PDF."""
    out = Path(args.out)
    problem = _out_problem(args.out)
    if problem is not None:
        return _fail("invoice", problem, EXIT_USAGE)
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
        ids = [str(i.get("id", "?")) for i in invoices]
        known = ", ".join(ids[:20]) + (", ..." if len(ids) > 20 else "") or "none cached"
        return _fail("invoice", f"no invoice {wanted!r} in the cache (known: {known})")
    from .invoice_pdf import render_invoice_pdf

    try:
        pages = render_invoice_pdf(body, out, args.page_size)
    except OSError as exc:
        return _fail("invoice", f"could not write {out}: {exc}")
    except ValueError as exc:  # a cached body that is not an invoice: its first lines, joined
        reason = " ".join(line.strip() for line in str(exc).splitlines()[:3])
        return _fail("invoice", f"cannot render invoice {wanted!r}: {reason}")
    print(visible(f"wrote invoice {body.get('number', wanted)} ({pages} pages) to {out}"))
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    """Dispatch `lowdash export KIND`."""
    if args.export_kind == "csv":
        return run_csv(args)
    return run_invoice(args)
