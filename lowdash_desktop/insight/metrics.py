"""`lowdash metrics --listen 127.0.0.1:9464`: the insight figures for Prometheus, from the cache.

A prometheus_client Collector reads the cache on each scrape (one read transaction, its own
connection), so what is served is always what the cache holds; the app or `lowdash sync` (or
`--sync-every`) keeps the cache fresh. Loopback only unless `--allow-remote`. Ctrl+C or SIGTERM
stops it with exit 0; a bad argument is one line and exit 2.

Money is a float in the account's currency (label `currency`): Prometheus has no decimals; the
exact sums are in `lowdash report --json`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..exitcodes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from .command import parse_amount

log = logging.getLogger(__name__)

DEFAULT_LISTEN = "127.0.0.1:9464"
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
MAX_SYNC_MINUTES = 24 * 60


def parse_listen(text: str, allow_remote: bool = False) -> tuple[str, int]:
    """'HOST:PORT' ('[::1]:9464' for IPv6) -> (host, port); ValueError with the sentence."""
    import ipaddress

    text = text.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"--listen must be HOST:PORT such as {DEFAULT_LISTEN}, not {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"--listen needs a port number, not {port_text!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"--listen port must be from 0 to 65535, not {port}")
    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"--listen needs an IP address, not {host!r}") from None
    if not address.is_loopback and not allow_remote:
        raise ValueError(f"{host} is not a loopback address: the figures of the account would "
                         "be served to the network; add --allow-remote to mean it")
    return str(address), port


def parse_minutes(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"--sync-every must be a whole number of minutes, not {text!r}") from None
    if not 1 <= value <= MAX_SYNC_MINUTES:
        raise ValueError(f"--sync-every must be from 1 to {MAX_SYNC_MINUTES} minutes, not {value}")
    return value


def add_metrics_parser(sub: argparse._SubParsersAction) -> None:
    """Register the `metrics` subcommand (nothing heavy is imported here)."""
    metrics = sub.add_parser("metrics", help="serve balance, spend, runway and spikes for "
                             "Prometheus from the cache")
    metrics.add_argument("--data-dir", help="folder for caches and logs")
    metrics.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                         help=f"address to serve /metrics on (default {DEFAULT_LISTEN}; port 0: "
                         "a free one)")
    metrics.add_argument("--allow-remote", action="store_true",
                         help="allow a --listen address that is not loopback")
    metrics.add_argument("--spike-min", default="1.00", metavar="AMOUNT",
                         help="smallest hourly spend that can be a spike (default 1.00)")
    metrics.add_argument("--base-url", help="the account's platform (default: the most recent)")
    metrics.add_argument("--sync-every", metavar="MINUTES",
                         help="also sync the cache every MINUTES (key from $LOWDASH_API_KEY)")


def figures(conn, now_ms: int, min_amount: int) -> dict:
    """The served figures from one cache connection, in one read transaction."""
    from ..store.cache import LAST_SYNC_AT
    from .common import balance_nanos, key_names
    from .keys import spend_by_key
    from .runway import runway_from_cache, spend_between
    from .spikes import SpikeRule, find_spikes

    day_start = now_ms // DAY_MS * DAY_MS
    conn.execute("BEGIN")
    try:
        balance, currency = balance_nanos(conn)
        if not currency:
            row = conn.execute(
                "SELECT currency FROM generations ORDER BY created_at DESC LIMIT 1").fetchone()
            currency = row[0] if row else ""
        models = conn.execute(
            "SELECT resolved_model, coalesce(sum(cost_nanos), 0), count(*) FROM generations "
            "WHERE created_at >= ? AND created_at < ? GROUP BY 1", (now_ms - DAY_MS, now_ms),
        ).fetchall()
        last_sync = conn.execute("SELECT value FROM meta WHERE key=?", (LAST_SYNC_AT,)).fetchone()
        out = {
            "currency": currency,
            "balance": balance,
            "spend_today": spend_between(conn, day_start, now_ms),
            "runway": runway_from_cache(conn, now_ms),
            "keys": spend_by_key(conn, now_ms - DAY_MS, now_ms),
            "models": models,
            "spikes": find_spikes(conn, now_ms, 1, SpikeRule(min_amount=min_amount)),
            "names": key_names(conn),
            "last_sync_ms": int(last_sync[0]) if last_sync and last_sync[0] else None,
        }
    finally:
        conn.execute("COMMIT")
    return out


class CacheCollector:
    """A prometheus_client collector that reads the cache at every scrape."""

    def __init__(self, cache_path: Path | Callable[[], Path], min_amount: int,
                 clock: Callable[[], float] = time.time):
        # a callable is asked at each scrape: a sync may record the account anew
        self.locate = cache_path if callable(cache_path) else (lambda: cache_path)
        self.min_amount = min_amount
        self.clock = clock

    def collect(self) -> Iterator:
        from prometheus_client.core import GaugeMetricFamily

        from ..store.cache import Cache

        now_ms = int(self.clock() * 1000)
        up = GaugeMetricFamily("lowdash_cache_readable",
                               "1 when the last scrape could read the local cache, else 0")
        try:
            path = self.locate()
            if not path.is_file():  # not synced yet: never create an empty cache here
                raise FileNotFoundError(f"no cache at {path} yet")
            cache = Cache.open_reader(path)
            try:
                f = figures(cache.conn, now_ms, self.min_amount)
            finally:
                cache.close()
        except Exception as exc:  # a damaged or missing cache: said, never a stale figure
            log.warning("metrics: the cache could not be read: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        cur = f["currency"]

        def gauge(name: str, doc: str, value: float | None, labels: dict | None = None):
            g = GaugeMetricFamily(name, doc, labels=list(labels or {}))
            if value is not None:
                g.add_metric(list((labels or {}).values()), value)
            return g

        if f["balance"] is not None:
            yield gauge("lowdash_balance", "The cached credit balance, in the account's currency",
                        f["balance"] / 1e9, {"currency": cur})
        yield gauge("lowdash_spend_today", "Spend since 00:00 UTC today (generations' costs)",
                    f["spend_today"] / 1e9, {"currency": cur})
        r = f["runway"]
        if r.days is not None:
            yield gauge("lowdash_runway_days",
                        "Days the balance lasts at this week's pace (absent: not projected)",
                        r.days.value)
            yield gauge("lowdash_runway_days_low", "Low end of the runway's range, in days",
                        r.days.low)
            if r.days.high is not None:
                yield gauge("lowdash_runway_days_high",
                            "High end of the runway's range, in days (absent: open)",
                            r.days.high)
        if r.burn is not None:
            yield gauge("lowdash_burn_per_day", "This week's spend per day",
                        r.burn.value / 1e9, {"currency": cur})
        keys = GaugeMetricFamily("lowdash_key_spend_24h", "Spend per key over the last 24 hours",
                                 labels=["key_id", "key_name", "currency"])
        key_gens = GaugeMetricFamily("lowdash_key_generations_24h",
                                     "Generations per key over the last 24 hours",
                                     labels=["key_id", "key_name"])
        for k in f["keys"]:
            ident, name = visible(k.key_id or ""), visible(k.name or "")
            keys.add_metric([ident, name, cur], k.spend / 1e9)
            key_gens.add_metric([ident, name], k.generations)
        yield keys
        yield key_gens
        models = GaugeMetricFamily("lowdash_model_spend_24h",
                                   "Spend per resolved model over the last 24 hours",
                                   labels=["model", "currency"])
        for model, spend, _n in sorted(f["models"], key=lambda m: str(m[0])):
            models.add_metric([visible(model or ""), cur], spend / 1e9)
        yield models
        spikes = f["spikes"]
        yield gauge("lowdash_spikes_open",
                    "Spend spikes (per key or model) going on: in this hour or the last",
                    sum(1 for s in spikes if s.end_ms >= now_ms // HOUR_MS * HOUR_MS))
        yield gauge("lowdash_spikes_24h", "Spend spikes that started in the last 24 hours",
                    len(spikes))
        if f["last_sync_ms"] is not None:
            yield gauge("lowdash_last_sync_age_seconds", "Seconds since the cache last synced",
                        max(0.0, (now_ms - f["last_sync_ms"]) / 1000))
            yield gauge("lowdash_last_sync_timestamp_seconds",
                        "When the cache last synced (Unix time)", f["last_sync_ms"] / 1000)


def run_metrics(args: argparse.Namespace) -> int:
    """Serve /metrics until Ctrl+C or SIGTERM (exit 0)."""
    import signal
    import threading

    from .. import accounts
    from ..offline_cache import find_account

    try:
        host, port = parse_listen(args.listen, args.allow_remote)
        spike_min = parse_amount(args.spike_min)
        every = parse_minutes(args.sync_every) if args.sync_every else None
    except ValueError as exc:
        print(f"lowdash metrics: {exc}", file=sys.stderr)
        return EXIT_USAGE
    found = find_account(args, "metrics")
    if isinstance(found, int):
        return found
    root, entry = found
    if every is not None and not _api_key():
        print("lowdash metrics: --sync-every needs the API key in $LOWDASH_API_KEY",
              file=sys.stderr)
        return EXIT_USAGE
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry()
    base_url = args.base_url or entry.base_url

    def locate() -> Path:  # the account as recorded now (a sync may record it anew)
        return (accounts.find(root, base_url) or entry).cache_path(root)

    registry.register(CacheCollector(locate, spike_min))
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        print(f"lowdash metrics: cannot listen on {host}:{port}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_USAGE
    bound = server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"lowdash metrics: serving http://{shown}:{bound}/metrics (Ctrl+C stops)", flush=True)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    try:
        while not stop.is_set():
            if every is None:
                stop.wait(3600)
                continue
            _sync_once(entry.base_url, args.data_dir)
            stop.wait(every * 60)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    print("lowdash metrics: stopped", file=sys.stderr)
    return EXIT_OK


def visible(text: str) -> str:
    """A label value without control or bidi characters (a key name must not break a
    dashboard's line or reverse it)."""
    from ..safe_text import visible as _visible

    return _visible(text)


def _api_key() -> str:
    import os

    from ..api.connection import API_KEY_ENV

    return os.environ.get(API_KEY_ENV, "").strip()


def _sync_once(base_url: str, data_dir_arg: str | None) -> int:
    """The headless sync (as `lowdash sync --quiet`), in a child process: a failed sync says
    so on stderr and the next one tries again; what is served stays the cache's."""
    import subprocess

    command = [sys.executable, "-m", "lowdash_desktop", "sync", "--base-url", base_url, "--quiet"]
    if data_dir_arg:
        command += ["--data-dir", data_dir_arg]
    try:
        done = subprocess.run(command, stdout=subprocess.DEVNULL, timeout=3600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("metrics: the scheduled sync did not run: %s", exc)
        return EXIT_FAILED
    if done.returncode:
        print(f"lowdash metrics: the scheduled sync ended with exit {done.returncode}",
              file=sys.stderr, flush=True)
    return done.returncode
