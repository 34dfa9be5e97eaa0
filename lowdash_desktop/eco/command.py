"""`lowdash eco`: the eco panel's figures from the local cache, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def add_eco_parser(sub: argparse._SubParsersAction) -> None:
    """Register the `eco` subcommand."""
    eco = sub.add_parser("eco", help="energy and carbon of recent usage vs a baseline, from the "
                         "cache (no network)")
    eco.add_argument("--data-dir", help="folder for caches and logs")
    eco.add_argument("--days", type=int, default=30, help="window in days (default 30)")
    eco.add_argument("--baseline", metavar="MODEL",
                     help="baseline model id (default: the one chosen in Settings)")
    eco.add_argument("--base-url", help="the account's platform (default: the most recent)")
    eco.add_argument("--json", action="store_true", help="print JSON")


def _energy(wh: float) -> str:
    """Wh or kWh for reading."""
    return f"{wh / 1000:,.3f} kWh" if abs(wh) >= 1000 else f"{wh:,.3f} Wh"


def _carbon(grams: float) -> str:
    """g or kg CO2e for reading."""
    return f"{grams / 1000:,.3f} kg CO2e" if abs(grams) >= 1000 else f"{grams:,.3f} g CO2e"


def summary_text(doc: dict) -> str:
    """The readable form of the JSON document."""
    a = doc["actual"]
    lines = [
        f"Eco impact, last {doc['days']} days ({doc['from']} to {doc['to']}): "
        f"{doc['generations']:,} generations, {doc['tokens']:,} completion tokens",
        f"  actual:   {_energy(a['energy_wh']['value'])} "
        f"(range {_energy(a['energy_wh']['low'])} – {_energy(a['energy_wh']['high'])}), "
        f"{_carbon(a['carbon_g']['value'])} "
        f"(range {_carbon(a['carbon_g']['low'])} – {_carbon(a['carbon_g']['high'])})",
    ]
    b = doc["baseline"]
    if b is not None:
        lines.append(
            f"  baseline ({doc['baseline_model']}): {_energy(b['energy_wh']['value'])} "
            f"(range {_energy(b['energy_wh']['low'])} – {_energy(b['energy_wh']['high'])}), "
            f"{_carbon(b['carbon_g']['value'])}"
        )
        diff = doc["difference"]
        if doc["saved"]:
            lines.append(f"  You saved {_energy(diff['energy_wh'])} "
                         f"({_carbon(diff['carbon_g'])}) compared with the baseline.")
        else:
            lines.append(f"  Actual usage used more than the baseline would have: "
                         f"{_energy(-diff['energy_wh'])} ({_carbon(-diff['carbon_g'])}) more.")
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
    from .. import accounts
    from ..paths import data_dir
    from ..store.cache import Cache
    from ..store.db import CacheError
    from .impact import reference_from_cache, report_from_cache

    if args.days < 1:
        print("lowdash eco: --days must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    root = data_dir(args.data_dir)
    entry = accounts.find(root, args.base_url)
    if entry is None:
        where = f" for {args.base_url}" if args.base_url else ""
        print(f"lowdash eco: no cached account{where}; run `lowdash sync` first",
              file=sys.stderr)
        return EXIT_USAGE
    path = entry.cache_path(root)
    try:
        cache, _report = Cache.open(path)
    except CacheError as exc:
        print(f"lowdash eco: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        if args.baseline:
            known = reference_from_cache(cache).models
            if known and args.baseline not in known:
                print(f"lowdash eco: unknown baseline model {args.baseline!r}; known: "
                      + ", ".join(sorted(known)), file=sys.stderr)
                return EXIT_USAGE
        report = report_from_cache(cache, args.days, args.baseline)
    finally:
        cache.close()
    doc = report.as_json()
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(summary_text(doc))
    return EXIT_OK
