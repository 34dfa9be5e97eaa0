"""Copy diagnostics: versions, OS, paths, network choices and the last errors; never secrets."""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import metadata

from . import __version__
from .logsetup import CRASH_FILE, LOG_FILE, recent_errors, redact

PACKAGES = ("PySide6", "httpx", "pydantic", "keyring", "platformdirs", "ecologits", "pyqtgraph")


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> list[tuple[str, str]]:
    """(name, version) of Lowdash, Python, Qt and the main libraries."""
    rows = [("Lowdash", __version__), ("Python", sys.version.split()[0])]
    try:
        from PySide6 import QtCore

        rows.append(("Qt", QtCore.qVersion()))
    except ImportError:
        pass
    rows.extend((name, _package_version(name)) for name in PACKAGES)
    return rows


def report(
    paths: Iterable[tuple[str, str]] = (),
    details: Iterable[tuple[str, str]] = (),
    errors: Iterable[str] | None = None,
) -> str:
    """The diagnostics text; everything passes through the log redaction as a last guard."""
    from .paths import data_dir, log_dir

    lines = [f"Lowdash diagnostics, {datetime.now(UTC).isoformat(timespec='seconds')}", ""]
    lines.append("Versions")
    lines += [f"  {name}: {version}" for name, version in versions()]
    lines += ["", "System"]
    lines.append(f"  OS: {platform.platform()} ({platform.machine()})")
    lines.append(f"  Qt platform: {_qt_platform()}")
    lines += ["", "Paths"]
    logs = log_dir()
    all_paths = [("Data", str(data_dir())), ("Logs", str(logs)), ("Log file", str(logs / LOG_FILE))]
    lines += [f"  {name}: {value}" for name, value in [*all_paths, *paths]]
    lines.append(f"  Crash log: {_last_crash(logs / CRASH_FILE)}")
    extra = list(details)
    if extra:
        lines += ["", "Details"]
        lines += [f"  {name}: {value}" for name, value in extra]
    recent = list(recent_errors.records if errors is None else errors)
    lines += ["", f"Last errors ({len(recent)})"]
    lines += [f"  {line}" for line in recent] or ["  none"]
    return redact("\n".join(lines) + "\n")


def _last_crash(path) -> str:
    """When the app last crashed natively (the crash log's last write), or that it never did."""
    try:
        stat = path.stat()
    except OSError:
        stat = None
    if stat is None or stat.st_size == 0:
        return "no crash recorded"
    when = datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(timespec="seconds")
    return f"{path} (last crash written {when})"


def _qt_platform() -> str:
    try:
        from PySide6.QtGui import QGuiApplication
    except ImportError:
        return "none"
    app = QGuiApplication.instance()
    return QGuiApplication.platformName() if app is not None else "no application"
