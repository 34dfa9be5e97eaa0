"""Logging set-up: a rotating file in the log folder, with API keys and credentials redacted."""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections import deque
from pathlib import Path

LOG_FILE = "lowdash.log"
CRASH_FILE = "crash.log"
CRASH_MAX_BYTES = 1_000_000
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"
REDACTED = "[REDACTED]"


@functools.cache
def _patterns() -> tuple[re.Pattern, ...]:
    """The secret patterns, compiled on first use (not at start-up, before the first paint)."""
    return (
        # Authorization / Proxy-Authorization headers in any common spelling (dict, repr, raw)
        re.compile(
            r"""(?i)((?:proxy-)?authorization['"]?\s*[:=,]\s*(?:\(\s*)?['"]?)"""
            r"""(?:(?:bearer|basic|token)\s+)?(?!\[REDACTED\])[^'"\s,)}\]]+"""
        ),
        re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"),
        # lowrouter keys (lr-live-..., lr-test-...) and generic sk- style keys
        re.compile(r"\blr-(?:live|test)-[A-Za-z0-9]{8,}"),
        re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
        # api_key=..., "api_key": "...", x-api-key: ...
        re.compile(r"""(?i)((?:x-)?api[_-]?key['"]?\s*[:=]\s*['"]?)[^'"\s,&}]+"""),
        # user:password@ in URLs (proxies). A raw proxy setting may hold a password with '@'
        # or a space in it: everything up to the last '@' before the host goes.
        re.compile(
            r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/@\s:'\"]+:[^\n'\"]*?"
            r"(?=@[a-z0-9.\-\[\]]+(?::\d+)?(?:[/\s'\"),;]|$)(?!.*?://[^\s]*@))"
        ),
        # the same without a scheme (HTTPS_PROXY=user:pw@host:port is accepted by curl)
        re.compile(
            r"(?i)(?<![\w/@:.-])()[a-z0-9._~%-]+:(?!//)[^\s'\"]+"
            r"(?=@[a-z0-9.\-\[\]]+(?::\d+)?(?:[/\s'\"),;]|$))"
        ),
    )

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Redact this exact value (e.g. the key in use) wherever it appears in a log record."""
    if value and len(value) >= 6:
        with _secrets_lock:
            _secrets.add(value)
            # the secret part of an lr-live- key may be logged on its own, too
            prefix, _, tail = value.partition("-live-")
            if prefix == "lr" and len(tail) >= 16:
                _secrets.add(tail)


def redact(text: str) -> str:
    """The text with API keys, Authorization values and URL credentials replaced."""
    # the patterns first, so a header keeps its name and loses its whole value
    for pattern in _patterns():
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback) with secrets redacted; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RecentErrors(logging.Handler):
    """Keeps the last few warnings and errors (already redacted) for Copy diagnostics."""

    def __init__(self, capacity: int = 20):
        super().__init__(level=logging.WARNING)
        self.records: deque[str] = deque(maxlen=capacity)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.addFilter(RedactingFilter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append(self.format(record).splitlines()[0])
        except Exception:
            self.handleError(record)


recent_errors = RecentErrors()


def rotating_handler(directory: Path, level: int = logging.INFO) -> logging.Handler:
    """A RotatingFileHandler on <directory>/lowdash.log that redacts every record."""
    import logging.handlers  # socket, pickle, queue...: loaded when the file log starts

    directory.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        directory / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    handler.set_name("lowdash-file")
    return handler


class EarlyRecords(logging.Handler):
    """Records logged before the file log starts; `setup_logging()` writes them to it.

    A GUI start opens the log file after the window's first paint: the file handler's imports
    and the file itself are not on the way to the first frame, and no record is lost.
    """

    def __init__(self, capacity: int = 5000):
        super().__init__(level=logging.INFO)
        self.records: deque[logging.LogRecord] = deque(maxlen=capacity)
        self.set_name("lowdash-early")
        self._targets: list[logging.Handler] | None = None

    def emit(self, record: logging.LogRecord) -> None:  # called with the handler's lock held
        if self._targets is None:
            self.records.append(record)
        else:  # a thread that found this handler just before it was taken out
            _hand_over([record], self._targets)

    def hand_over(self, targets: list[logging.Handler]) -> None:
        """Write the held records to `targets`, and any that still arrive from now on."""
        with self.lock:  # in order: a record arriving meanwhile waits for the held ones
            self._targets = targets
            _hand_over(list(self.records), targets)
            self.records.clear()


def _hand_over(records: list[logging.LogRecord], targets: list[logging.Handler]) -> None:
    for record in records:
        for handler in targets:
            if record.levelno >= handler.level:
                handler.handle(record)


def _redact_console(root: logging.Logger) -> None:
    """Every other handler (e.g. the console from basicConfig) keeps its level and redacts."""
    before = root.level or logging.WARNING
    for handler in root.handlers:
        if handler.level == logging.NOTSET:
            handler.setLevel(before)  # the console keeps showing what it showed before
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def _set_levels(root: logging.Logger, level: int) -> None:
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    # httpx logs request lines at INFO; headers never, but keep its chatter out of the file
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def _early_handler(root: logging.Logger) -> EarlyRecords | None:
    return next((h for h in root.handlers if isinstance(h, EarlyRecords)), None)


def hold_early_records(level: int = logging.INFO) -> None:
    """Keep records in memory until `setup_logging()` (the console is redacted from now on)."""
    root = logging.getLogger()
    _redact_console(root)
    if _early_handler(root) is None:
        root.addHandler(EarlyRecords())
    _set_levels(root, level)


def holding_early_records() -> bool:
    """True until the file log has started after `hold_early_records()`."""
    return _early_handler(logging.getLogger()) is not None


def setup_logging(directory: Path | None = None, level: int = logging.INFO) -> Path:
    """Log to the rotating file (once per process) and to the recent-errors buffer.

    Records held since `hold_early_records()` are written first, in order.
    """
    if directory is None:
        from .paths import log_dir

        directory = log_dir()
    root = logging.getLogger()
    early = _early_handler(root)
    if early is not None:
        root.removeHandler(early)
    _redact_console(root)
    for existing in list(root.handlers):
        if existing.get_name() == "lowdash-file":
            root.removeHandler(existing)
            existing.close()
    targets: list[logging.Handler] = [recent_errors]
    try:
        file_handler = rotating_handler(directory, level)
        targets.insert(0, file_handler)
        root.addHandler(file_handler)
    finally:
        if recent_errors not in root.handlers:
            root.addHandler(recent_errors)
        if early is not None:
            early.hand_over(targets)
    _set_levels(root, level)
    return directory / LOG_FILE


_crash_file = None  # kept open: faulthandler writes to its descriptor as the process dies


def enable_crash_log(directory: Path | None = None) -> Path:
    """A native crash (a segfault in Qt, say) leaves every thread's Python stack in crash.log.

    faulthandler writes file names, line numbers and function names, never values, so no
    secret can reach the file. Over 1 MB, the file is moved to crash.log.1 first.
    """
    import faulthandler

    global _crash_file
    if directory is None:
        from .paths import log_dir

        directory = log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CRASH_FILE
    if path.exists() and path.stat().st_size > CRASH_MAX_BYTES:
        path.replace(path.with_name(CRASH_FILE + ".1"))
    crash_file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (open for the process' life)
    faulthandler.enable(crash_file, all_threads=True)
    if _crash_file is not None:
        _crash_file.close()
    _crash_file = crash_file
    return path


def log_unhandled_exceptions() -> None:
    """Unhandled exceptions (the main thread, a Qt slot, a worker thread) are logged as
    critical, to the log file and to the console like any other record; `RedactingFilter`
    redacts their tracebacks."""
    import sys
    import threading

    log = logging.getLogger("lowdash_desktop")

    def on_exception(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.critical("unhandled exception in the main thread", exc_info=(exc_type, exc, tb))

    def on_thread_exception(args) -> None:
        if issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "a thread"
        log.critical("unhandled exception in %s", name,
                     exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook = on_exception
    threading.excepthook = on_thread_exception
