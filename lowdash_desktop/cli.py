"""`lowdash` command line: the GUI by default, and headless commands operators script."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__
from .api.connection import API_KEY_ENV
from .cliargs import Parser, float_in, int_in, path_text, url_text
from .exitcodes import EXIT_AUTH, EXIT_FAILED, EXIT_OFFLINE, EXIT_OK, EXIT_USAGE


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=path_text, help="folder for caches and logs (default: "
        "$LOWDASH_DATA_DIR or the platform's user data folder)",
    )


def build_parser(commands: bool = True) -> argparse.ArgumentParser:
    """The command line's parser; `commands=False`: the window's options alone, without
    --help and --version (see `_parse_window_start`)."""
    description = "Lowdash Desktop: balance, usage and eco impact on lowrouter."
    if not commands:
        parser = _WindowOnlyParser(prog="lowdash", description=description, add_help=False)
    else:
        parser = Parser(prog="lowdash", description=description)
        parser.add_argument("--version", action="version", version=f"lowdash {__version__}")
    _add_common(parser)
    parser.add_argument("--demo", action="store_true", help="run on the built-in demo platform")
    parser.add_argument("--generations", type=DEMO_SIZE, default=3000,
                        help="demo size (100 to 1,000,000 generations; default 3000)")
    parser.add_argument("--seed", type=int, default=7, help="demo data seed (default 7)")
    parser.add_argument("--base-url", type=url_text,
                        help="platform address, e.g. https://api.lowrouter.example/v1")
    parser.add_argument("--screenshot", metavar="PNG", type=path_text,
                        help="after the first sync, save a PNG of the window and exit")
    parser.add_argument("--minimized", action="store_true",
                        help="start in the tray (or minimised where there is no tray)")
    if not commands:
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(dest="command")

    sync = sub.add_parser("sync", help="sync the local cache headlessly (key from $LOWDASH_API_KEY)")
    _add_common(sync)
    sync.add_argument("--base-url", required=True, type=url_text, help="platform address")
    sync.add_argument("--page-limit", type=int_in(1, 1000), default=500,
                      help="records per page (1..1000)")
    sync.add_argument("--quiet", action="store_true", help="print only the summary")
    sync.add_argument("--full-resync", action="store_true",
                      help="read the feed again from its start (keeps every cached row)")
    sync.add_argument("--ca-bundle", metavar="PEM", type=path_text,
                      help="extra CA certificates to trust (verification always stays on)")

    demo = sub.add_parser("demo-server", help="serve the demo platform over HTTP on loopback")
    demo.add_argument("--port", type=int_in(0, 65535), default=0,
                      help="port (default: a free one)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--generations", type=DEMO_SIZE, default=3000,
                      help="100 to 1,000,000 (default 3000)")
    demo.add_argument("--fault-rate", type=float_in(0.0, 1.0), default=0.0,
                      help="share of requests that misbehave, 0..1 (default 0: none)")
    demo.add_argument("--faults", default="all", metavar="KINDS", type=_fault_kinds,
                      help="comma-separated fault kinds: drop,truncate,500,502,503,429,stall,"
                      "replay,extra-fields,malformed,revision-bump (default: all)")
    demo.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draws")
    demo.add_argument("--fault-stall", type=float_in(0.0, 3600.0), default=30.0,
                      metavar="SECONDS",
                      help="how long a stalled request hangs before the connection drops")
    demo.add_argument("--fault-retry-after", type=float_in(0.0, 86400.0), default=1.0,
                      metavar="SECONDS",
                      help="Retry-After sent with injected 429 answers")

    from .export.commands import add_export_parser

    add_export_parser(sub)
    from .eco.command import add_eco_parser

    add_eco_parser(sub)
    from .insight.command import add_report_parser

    add_report_parser(sub)
    from .insight.metrics import add_metrics_parser

    add_metrics_parser(sub)
    return parser


DEMO_SIZE = int_in(100, 1_000_000)


class _NotAWindowStart(Exception):
    """The window's options alone cannot read this command line (a command, --help, a
    mistake): the full parser reads it."""


class _WindowOnlyParser(Parser):
    def error(self, message: str) -> NoReturn:
        raise _NotAWindowStart(message)


def _parse_window_start(argv: Sequence[str] | None) -> argparse.Namespace | None:
    """The arguments of a window start (`lowdash [options]`, no command), or None.

    The full parser's subcommands import their modules and add some sixty arguments: 11 M
    instructions before the window's first paint. A command line that the window's options
    alone read, the full parser reads the same way (with `command` None); for anything else
    (a command, --help, --version, a mistake) this gives None and the full parser answers.
    """
    try:
        return build_parser(commands=False).parse_args(argv)
    except _NotAWindowStart:
        return None


def _fault_kinds(text: str) -> str:
    """--faults: known kinds only, whatever the rate (checked where it is read)."""
    from .demo.faults import parse_kinds

    try:
        parse_kinds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _validate_size(value: int) -> None:
    if not 100 <= value <= 1_000_000:  # the parser checks it too; a caller may build args
        raise UsageError("--generations must be between 100 and 1,000,000")


class UsageError(Exception):
    """A command line that cannot work: one line on stderr, exit 2."""


def _data_dir_problem(args: argparse.Namespace) -> str | None:
    """Why the data folder (--data-dir, else $LOWDASH_DATA_DIR) cannot serve, or None.

    It must be a folder or creatable as one; `sync` also needs to write in it (a read-only
    mount is refused here, in one line, before anything is opened)."""
    from .paths import DATA_DIR_ENV
    from .safe_text import visible

    text, source = getattr(args, "data_dir", None), "--data-dir"
    if not text:
        text, source = os.environ.get(DATA_DIR_ENV) or None, DATA_DIR_ENV
    if text is None:
        return None
    if "\x00" in text:
        return f"{source} holds a NUL character"
    path = Path(text)
    shown = visible(str(path))
    try:
        probe = path
        while not probe.exists() and probe.parent != probe:
            probe = probe.parent
        if probe.exists() and not probe.is_dir():
            if probe == path:
                return f"{source} {shown} is a file, not a folder"
            return f"{source} {shown} is under a file ({visible(str(probe))})"
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create the data folder {shown} ({source}): {exc.strerror or exc}"
    if getattr(args, "command", None) == "sync" and not os.access(path, os.W_OK):
        return f"the data folder {shown} ({source}) is read-only"
    return None


def _base_url_problem(url: str) -> str | None:
    """Why `url` is no address at all (unparsable, port out of range), or None; what the
    connection refuses besides (plain http to a remote host...) it says itself."""
    from urllib.parse import urlsplit

    import httpx

    try:
        urlsplit(url).port  # noqa: B018 - raises on a bad IPv6 literal or port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        return f"not a valid platform address: {url!r} ({exc}). Use https://host/v1."
    return None


def _api_key_problem(key: str) -> str | None:
    """An API key is printable ASCII without spaces (it travels in an HTTP header)."""
    if key and not all("!" <= c <= "~" for c in key):
        return (f"{API_KEY_ENV} holds characters no API key has (a space, a control or a "
                "non-ASCII character)")
    return None


def _ca_bundle_problem(text: str | None) -> str | None:
    """Why --ca-bundle cannot be used (missing, a folder, not PEM certificates), or None."""
    if text is None:
        return None
    from .netconfig import ca_bundle_problem
    from .safe_text import visible

    problem = ca_bundle_problem(text)
    if problem is None:
        return None
    kind, detail = problem
    shown = visible(str(Path(text)))
    return {
        "missing": f"CA bundle not found: {shown}",
        "folder": f"--ca-bundle {shown} is a folder, not a PEM file",
        "special": f"--ca-bundle {shown} is not a regular file",
        "too_large": f"--ca-bundle {shown} is too large for a CA bundle",
        "no_certificate": f"--ca-bundle {shown} holds no PEM certificate",
    }.get(kind, f"cannot read --ca-bundle {shown}: {detail}")


def cmd_sync(args: argparse.Namespace) -> int:
    """Headless sync; prints what it fetched; non-zero exit with a one-line reason."""
    from . import accounts
    from .api import errors
    from .api.connection import Connection
    from .offline_cache import say_upgrade
    from .paths import data_dir
    from .store.cache import Cache
    from .store.db import CacheError
    from .sync.engine import SyncEngine, SyncError, SyncProgress

    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        print(f"lowdash sync: set {API_KEY_ENV} to the API key", file=sys.stderr)
        return EXIT_USAGE
    try:
        connection = Connection(args.base_url, key, ca_bundle=args.ca_bundle)
        client = connection.client()
    except errors.ApiError as exc:
        print(f"lowdash sync: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with client:
        try:
            info = client.account()
        except errors.AuthError as exc:
            print(f"lowdash sync: the API key was refused ({exc}); nothing cached was changed",
                  file=sys.stderr)
            return EXIT_AUTH
        except errors.NetworkError as exc:
            print(f"lowdash sync: offline: {exc}", file=sys.stderr)
            return EXIT_OFFLINE
        except errors.ApiError as exc:
            print(f"lowdash sync: {exc}", file=sys.stderr)
            return EXIT_FAILED
        root = data_dir(args.data_dir)
        try:
            entry = accounts.remember(root, connection.base_url, info.id, info.email,
                                      info.name)
        except OSError as exc:  # a full or read-only disk: the cache was not touched
            from .store import faults

            print(f"lowdash sync: {faults.disk_fault(exc, root)}", file=sys.stderr)
            return EXIT_FAILED
        say_upgrade(entry.cache_path(root))
        try:
            cache, report = Cache.open(entry.cache_path(root))
        except CacheError as exc:
            print(f"lowdash sync: {exc}", file=sys.stderr)
            return EXIT_FAILED
        for note in report.notes:
            print(note, file=sys.stderr)

        def show(progress: SyncProgress) -> None:
            if not args.quiet and progress.phase == "generations" and progress.pages % 20 == 1:
                print(f"  page {progress.pages}: {progress.received} records", file=sys.stderr)

        try:
            result = SyncEngine(
                client, cache, page_limit=args.page_limit, on_progress=show,
                full_resync=args.full_resync,
            ).run()
        except SyncError as exc:
            print(f"lowdash sync: {exc.message} ({exc.result.summary()})", file=sys.stderr)
            kind = exc.result.error_kind
            return {"offline": EXIT_OFFLINE, "auth": EXIT_AUTH}.get(kind or "", EXIT_FAILED)
        except CacheError as exc:  # a full disk, a read-only folder, damage: one line, kept
            print(f"lowdash sync: {exc}", file=sys.stderr)
            return EXIT_FAILED
        import sqlite3

        try:
            total = cache.generation_count()
        except sqlite3.Error as exc:  # damage met by the count itself
            from .store import faults

            print(f"lowdash sync: {faults.translate(exc, cache.path)}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            cache.close()
    print(f"synced {info.email or info.id}: {result.summary()}; "
          f"{total} generations cached; {', '.join(result.snapshots)}")
    return EXIT_OK


def cmd_demo_server(args: argparse.Namespace) -> int:
    from .demo import serve_forever_cli

    _validate_size(args.generations)
    faults = None
    if args.fault_rate:
        from .demo.faults import Faults

        try:
            faults = Faults(
                rate=args.fault_rate, kinds=args.faults, seed=args.fault_seed,
                stall_s=args.fault_stall, retry_after=args.fault_retry_after,
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    return serve_forever_cli(args.port, args.seed, args.generations, faults)


def _setup_log_file() -> None:
    """The rotating, redacted log file; a read-only log folder must not stop the app."""
    from .logsetup import setup_logging

    try:
        setup_logging()
    except OSError as exc:
        logging.getLogger(__name__).warning("no log file: %s", exc)


def _run_gui(args) -> int:
    """The window. Its log file starts after the first paint; records until then are held
    in memory and written first (at exit at the latest, if no window ever paints)."""
    from .startup import pause_collector

    pause_collector()  # until the first paint (startup.py says why)
    from .logsetup import (
        enable_crash_log,
        hold_early_records,
        holding_early_records,
        log_unhandled_exceptions,
    )

    hold_early_records()
    log_unhandled_exceptions()
    try:
        enable_crash_log()
    except OSError as exc:  # a read-only log folder must not stop the app
        logging.getLogger(__name__).warning("no crash log: %s", exc)
    try:
        from .app import run_gui

        return run_gui(args, start_log_file=_setup_log_file)
    finally:
        if holding_early_records():
            _setup_log_file()


def main(argv: Sequence[str] | None = None) -> int:
    parser = None
    args = _parse_window_start(argv)
    if args is None:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
            if args.command is not None and getattr(args, "data_dir", None) is None:
                # `lowdash --data-dir X sync`: the subcommand's own --data-dir (unset) must
                # not hide the one given before it
                top = argparse.ArgumentParser(add_help=False)
                _add_common(top)
                args.data_dir = top.parse_known_args(
                    list(sys.argv[1:] if argv is None else argv))[0].data_dir
        except SystemExit as exc:  # --help, --version, or one line saying what is wrong
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        code = _main(parser, args)
        _flush_stdout()
        return code
    except BrokenPipeError:  # `lowdash report | head`: the reader left; nothing to say
        _quiet_stdout()
        return EXIT_OK
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EIO, errno.EBADF):
            raise
        _quiet_stdout()
        print(f"lowdash: the output could not be written ({exc.strerror})", file=sys.stderr)
        return EXIT_FAILED
    except UsageError as exc:
        from .safe_text import visible

        command = " ".join(
            part for part in ("lowdash", args.command, getattr(args, "export_kind", None))
            if part
        )
        print(f"{command}: {visible(str(exc))}", file=sys.stderr)
        return EXIT_USAGE


def _flush_stdout() -> None:
    """Flush what the command printed now, so a full disk or a closed pipe is met here (with
    a message) and not at exit (with a traceback)."""
    if sys.stdout is not None:
        sys.stdout.flush()


def _quiet_stdout() -> None:
    """Nothing more can be written to stdout: point it at devnull so the exit flush is quiet."""
    try:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - flushed and closed at exit
    except OSError:
        pass


def _main(parser: argparse.ArgumentParser | None, args: argparse.Namespace) -> int:
    problem = _data_dir_problem(args)
    if problem is None and args.command == "sync":
        problem = (_base_url_problem(args.base_url) or _ca_bundle_problem(args.ca_bundle)
                   or _api_key_problem(os.environ.get(API_KEY_ENV, "").strip()))
    if problem is not None:
        raise UsageError(problem)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from .logsetup import register_secret

    register_secret(os.environ.get(API_KEY_ENV, "").strip())  # redacted from every record
    if args.command is None:
        if args.demo:
            _validate_size(args.generations)
        return _run_gui(args)
    _setup_log_file()
    if args.command == "sync":
        return cmd_sync(args)
    if args.command == "demo-server":
        return cmd_demo_server(args)
    if args.command == "eco":
        from .eco.command import run_eco

        return run_eco(args)
    if args.command == "report":
        from .insight.command import run_report

        return run_report(args)
    if args.command == "metrics":
        from .insight.metrics import run_metrics

        return run_metrics(args)
    if args.command == "export":
        from .export.commands import run_export

        return run_export(args)
    (parser or build_parser()).error(f"unknown command {args.command}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
