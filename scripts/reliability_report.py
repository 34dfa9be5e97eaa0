"""Rerunnable reliability report: sync under injected faults and kill -9 rounds, to docs/reliability.md.

    python scripts/reliability_report.py [--faults 2000] [--kill-rounds 30] [--seed 2026]
"""

from __future__ import annotations

import argparse
import platform as host
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lowdash_desktop.demo import DemoPlatform  # noqa: E402
from lowdash_desktop.demo.faults import KINDS, Faults  # noqa: E402
from tests.reliability.harness import compare, kill_rounds, sync_until_complete  # noqa: E402


def fault_part(target: int, seed: int, work: Path) -> dict:
    """Fresh caches synced under random faults until `target` were injected."""
    demo = DemoPlatform(seed=seed, generations=1500)
    demo.start()
    faults = Faults(rate=0.35, kinds=KINDS, seed=seed, stall_s=1.0, retry_after=2).attach(demo)
    out = {"rounds": 0, "compared": 0, "mismatches": 0, "runs": 0, "failures": Counter(),
           "quarantined": 0, "retry_after_waits": 0}
    started = time.monotonic()
    try:
        while faults.total < target:
            out["rounds"] += 1
            path = work / f"faults-{out['rounds']}.sqlite3"
            stats = sync_until_complete(demo, path, page_limit=9, read_timeout=0.15)
            result = compare(demo, path)
            out["compared"] += result.compared
            out["mismatches"] += result.mismatches
            out["runs"] += stats.runs
            out["failures"].update(stats.failures)
            out["retry_after_waits"] += stats.waits.count(2.0)
            conn = sqlite3.connect(path)
            out["quarantined"] += conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]
            conn.close()
            demo.add_generations(17)
    finally:
        faults.release()
        demo.stop()
    out.update(faults=faults, seconds=time.monotonic() - started)
    return out


def kill_part(rounds: int, seed: int, work: Path) -> dict:
    """`lowdash sync` processes killed at random moments, then one left to finish."""
    demo = DemoPlatform(seed=seed, generations=3000)
    demo.start()
    faults = Faults(rate=0.03, kinds="drop,500,truncate,replay,extra-fields,malformed,"
                    "revision-bump", seed=seed).attach(demo)
    started = time.monotonic()
    try:
        stats, path = kill_rounds(demo, work / "killed", rounds, seed)
        result = compare(demo, path)
    finally:
        demo.stop()
    return {"stats": stats, "result": result, "faults": faults,
            "seconds": time.monotonic() - started}


def render(args: argparse.Namespace, fp: dict, kp: dict, total_s: float) -> str:
    """The Markdown report."""
    faults: Faults = fp["faults"]
    ks, kr = kp["stats"], kp["result"]
    by_kind = "\n".join(f"| {k} | {faults.injected[k]} |" for k in KINDS)
    variants = ", ".join(f"{v} {n}" for v, n in sorted(faults.malformed_variants.items()))
    failures = ", ".join(f"{k} {n}" for k, n in sorted(fp["failures"].items())) or "none"
    mismatches = fp["mismatches"] + kr.mismatches + len(ks.partial_violations)
    return f"""# Reliability report

Produced by `python scripts/reliability_report.py --faults {args.faults} --kill-rounds \
{args.kill_rounds} --seed {args.seed}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
({host.system()} {host.machine()}, Python {host.python_version()}; {total_s:.0f} s in all).
Rerun it to check; every figure below comes from that run. **Mismatches: {mismatches}.**

## 1. Sync under randomly injected faults

A demo platform (1,500 generations at the start, 17 more after each round) answers 35% of the
requests with a fault. Each round syncs a fresh cache (9 records a page, 0.15 s read timeout,
4 attempts per request with exponential back-off) and reruns the sync, resuming from the saved
cursor, until one run completes; then the cache is compared with the platform's truth: same ids,
each at its highest revision with that revision's cost and token total, no duplicates,
`PRAGMA integrity_check` ok.

| figure | value |
| --- | --- |
| faults injected | {faults.total} in {faults.seen} requests |
| rounds (fresh caches) | {fp['rounds']} |
| sync runs needed | {fp['runs']} (runs stopped early: {failures}) |
| records compared | {fp['compared']:,} |
| revisions raised mid-sync | {len(faults.bumped_ids)} |
| malformed records set aside | {fp['quarantined']} ({variants}) |
| waits that honoured Retry-After | {fp['retry_after_waits']} |
| **mismatches** | **{fp['mismatches']}** |

| fault kind | injected |
| --- | --- |
{by_kind}

## 2. kill -9 of a headless `lowdash sync`

{ks.rounds} rounds against one demo platform (3,000 generations, a stable port, 3% light
faults, new generations and raised revisions between rounds). Each round starts
`lowdash sync --page-limit 25` as a separate process and SIGKILLs it either when its k-th feed
request reaches the platform (k random, the kill landing up to 30 ms later, often while the page
is being written) or at a random wall-clock moment (start-up, account, snapshots). After every
kill the cache passes `PRAGMA integrity_check` and holds only records the platform has, at
revisions it has handed out. A last sync is then left to finish and the cache compared.

| figure | value |
| --- | --- |
| rounds | {ks.rounds} |
| processes killed | {ks.killed} ({ks.killed_by_request} at a feed request, \
{ks.killed_by_clock} at a random moment) |
| rounds that finished before the kill | {ks.completed} |
| integrity checks after a kill | {ks.integrity_checks}, all `ok`: \
{'yes' if not ks.partial_violations else 'NO'} |
| faults injected meanwhile | {kp['faults'].total} |
| records compared after the final sync | {kr.compared:,} |
| **mismatches** | **{kr.mismatches + len(ks.partial_violations)}** |

## How the truth stays well defined under faults

- Transport faults (connection dropped before or mid-body, truncated JSON, 500/502/503, 429 with
  `Retry-After`, a stall past the read timeout) change nothing on the platform. The client
  retries them with exponential back-off, waits exactly `Retry-After`, and asks again for a
  body that is not JSON (a GET is safe to repeat). If a request keeps failing, the sync stops
  with everything so far saved, and the next sync resumes from the saved cursor.
- `replay` re-sends an earlier feed page verbatim: the cache keeps the highest revision
  (`ON CONFLICT ... WHERE excluded.revision > generations.revision`). Only pages that say more
  follow are replayed: a stale "end of feed" cannot be told from the truth by any client.
- `revision-bump` really changes the platform: a generation gets a higher revision, appended to
  the feed, and the truth moves with it.
- `extra-fields` adds unknown fields to records and pages: they are ignored, records stored.
- `malformed` corrupts one record of a page in transit (negative tokens, a bad money string or a
  missing id). The platform's own record stays well formed: the client sets the bad copy aside
  (table `quarantine`, with the reason, counted in the status bar) and stores the rest of the
  page; the platform re-sends the good copy in every later page covering the position where
  the corrupted page ended (final pages are never corrupted), so reading the feed to its end
  always brings it. A record with valid JSON but values no cache can hold (a number beyond
  64 bits, money beyond any decimal range) is set aside the same way.
- A page that is well-formed JSON but breaks the contract stops the sync at the last good page
  with a message saying so; the next sync resumes there.

## Other guarantees and the tests that prove them

| guarantee | tests |
| --- | --- |
| faults, seeded (default run) and 1,000 faults (`-m slow`) | `tests/reliability/test_faults_sync.py` |
| each fault switch, back-off, Retry-After, CLI flags | `tests/unit/test_faults.py` |
| kill -9 rounds (8 by default, 60 with `-m slow`) | `tests/e2e/test_kill9.py` |
| quarantine count in the window, invalid page, garbage, damaged cache moved aside, migration with safety copy, quit within 2 s | `tests/reliability/test_window_reliability.py` |
| fuzzing of models, client and engine | `tests/unit/test_fuzz_api.py` |
| no key in any file or export, logs redacted, http:// refused, TLS always verified | `tests/e2e/test_secrets.py` |
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=2000, help="faults to inject (default 2000)")
    parser.add_argument("--kill-rounds", type=int, default=30, help="kill -9 rounds (default 30)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "reliability.md")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lowdash-reliability-") as tmp:
        work = Path(tmp)
        print(f"injecting {args.faults} faults...", file=sys.stderr)
        fp = fault_part(args.faults, args.seed, work)
        print(f"  {fp['faults'].summary()}; mismatches {fp['mismatches']}", file=sys.stderr)
        print(f"{args.kill_rounds} kill -9 rounds...", file=sys.stderr)
        kp = kill_part(args.kill_rounds, args.seed, work)
        print(f"  killed {kp['stats'].killed}; mismatches {kp['result'].mismatches}",
              file=sys.stderr)
    report = render(args, fp, kp, time.monotonic() - started)
    args.output.write_text(report, encoding="utf-8")
    print(f"written {args.output}", file=sys.stderr)
    bad = fp["mismatches"] + kp["result"].mismatches + len(kp["stats"].partial_violations)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
