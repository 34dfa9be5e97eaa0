"""`lowdash eco`: the eco panel's figures from the local cache, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys

from ..cliargs import int_in, path_text, url_text
from ..exitcodes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from . import wording

MAX_DAYS = 3660  # ten years and leap days: the window's first day stays a real date


def add_eco_parser(sub: argparse._SubParsersAction) -> None:
    """Register the `eco` subcommand."""
    eco = sub.add_parser("eco", help="energy and carbon of recent usage vs a baseline, from the "
                         "cache (no network)")
    eco.add_argument("--data-dir", type=path_text, help="folder for caches and logs")
    eco.add_argument("--days", type=int_in(1, MAX_DAYS), default=30,
                     help=f"window in days, 1 to {MAX_DAYS:,} (default 30)")
    eco.add_argument("--baseline", metavar="MODEL",
                     help="baseline model id (default: the one chosen in Settings)")
    eco.add_argument("--base-url", type=url_text,
                     help="the account's platform (default: the most recent)")
    eco.add_argument("--json", action="store_true", help="print JSON")


def _energy(figure: dict) -> str:
    """'448 Wh (412 – 489 Wh)': three significant digits, fixed format, one number if exact."""
    return wording.ranged(figure["value"], figure["low"], figure["high"],
                          wording.ENERGY_UNITS, wording.fixed_number)


def _carbon(figure: dict) -> str:
    """The same for grams of CO2e."""
    return wording.ranged(figure["value"], figure["low"], figure["high"],
                          wording.CARBON_UNITS, wording.fixed_number)


def summary_text(doc: dict, report=None) -> str:
    """The readable form of the JSON document (the verdict from the report when given)."""
    a = doc["actual"]
    scope = ", ".join(f"{k} {v}" for k, v in (doc.get("scope") or {}).items())
    lines = [
        f"Eco impact, last {doc['days']} days ({doc['from']} to {doc['to']})"
        f"{' for ' + scope if scope else ''}: "
        f"{doc['generations']:,} generations, {doc['tokens']:,} completion tokens",
        f"  actual:   {_energy(a['energy_wh'])}, {_carbon(a['carbon_g'])}",
    ]
    b = doc["baseline"]
    if b is not None:
        lines.append(
            f"  baseline ({doc['baseline_model']}): {_energy(b['energy_wh'])}, "
            f"{_carbon(b['carbon_g'])}"
        )
        if report is not None:
            lines.append("  " + wording.verdict_text(report, wording.fixed_writer()))
    lines.append(f"  confidence: {doc['confidence']}")
    for reason in doc["confidence_reasons"]:
        lines.append(f"    - {reason}")
    if doc["caveats"]:
        lines.append("  caveats:")
        lines.extend(f"    - {text}" for text in doc["caveats"])
    lines.append(f"  methodology: {', '.join(doc['methodology_versions']) or 'none'}")
    return "\n".join(lines)


def run_eco(args: argparse.Namespace) -> int:
    """Print the eco figures of the most recent account's cache."""
    from ..offline_cache import open_cache
    from .impact import reference_from_cache, report_from_cache

    if args.days < 1:
        print("lowdash eco: --days must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    cache = open_cache(args, "eco")
    if isinstance(cache, int):
        return cache
    try:
        if args.baseline:
            known = reference_from_cache(cache).models
            if known and args.baseline not in known:
                print(f"lowdash eco: unknown baseline model {args.baseline!r}; known: "
                      + ", ".join(sorted(known)), file=sys.stderr)
                return EXIT_USAGE
        report = report_from_cache(cache, args.days, args.baseline)
    except sqlite3.Error as exc:  # damage met while reading, or a disk fault
        from ..store import faults

        print(f"lowdash eco: {faults.translate(exc, cache.path)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        cache.close()
    doc = report.as_json()
    if args.json:
        # strict JSON: never Infinity or NaN (as_json writes non-finite figures as null)
        json.dump(doc, sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        from ..safe_text import visible

        # platform names in caveats: never a raw control or bidi character on the terminal
        print("\n".join(visible(line) for line in summary_text(doc, report).split("\n")))
    return EXIT_OK
