"""Start minimised at login: XDG autostart, a macOS LaunchAgent, or the Windows Run key."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

APP_ID = "lowdash"
LAUNCH_AGENT_LABEL = "example.lowdash.desktop"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Lowdash"
MINIMIZED_FLAG = "--minimized"


def default_command() -> list[str]:
    """How this installation starts itself minimised (frozen app, `lowdash` script, or -m)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, MINIMIZED_FLAG]
    script = shutil.which("lowdash")
    if script:
        return [script, MINIMIZED_FLAG]
    return [sys.executable, "-m", "lowdash_desktop", MINIMIZED_FLAG]


class Autostart(Protocol):
    """One OS mechanism for starting at login."""

    def enable(self, command: Sequence[str]) -> None: ...

    def disable(self) -> None: ...

    def is_enabled(self) -> bool: ...

    def location(self) -> str: ...


def _desktop_quote(arg: str) -> str:
    """Quote one Exec argument as the Desktop Entry spec asks."""
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`%="):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    escaped = escaped.replace("$", "\\$").replace("%", "%%")
    return f'"{escaped}"'


class _FileEntry:
    """An autostart entry that is one file: present means enabled."""

    path: Path

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)

    def is_enabled(self) -> bool:
        return self.path.is_file()

    def location(self) -> str:
        return str(self.path)


class XdgAutostart(_FileEntry):
    """A .desktop file in $XDG_CONFIG_HOME/autostart (Linux and other freedesktop systems)."""

    def __init__(self, config_home: Path | None = None):
        if config_home is None:
            env = os.environ.get("XDG_CONFIG_HOME")
            config_home = Path(env) if env else Path.home() / ".config"
        self.path = config_home / "autostart" / f"{APP_ID}.desktop"

    def enable(self, command: Sequence[str]) -> None:
        exec_line = " ".join(_desktop_quote(a) for a in command)
        text = (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=Lowdash\n"
            "Comment=lowrouter balance and usage, in the tray\n"
            f"Exec={exec_line}\n"
            "Icon=lowdash\n"
            "Terminal=false\n"
            "X-GNOME-Autostart-enabled=true\n"
            "Categories=Utility;\n"
        )
        _write_atomically(self.path, text.encode("utf-8"))


class LaunchAgent(_FileEntry):
    """A plist in ~/Library/LaunchAgents that launchd runs at login (macOS)."""

    def __init__(self, home: Path | None = None):
        home = home or Path.home()
        self.path = home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"

    def enable(self, command: Sequence[str]) -> None:
        plist: dict[str, Any] = {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            "KeepAlive": False,
            "ProcessType": "Interactive",
        }
        _write_atomically(self.path, plistlib.dumps(plist))


class WindowsRunKey:
    """A value under HKCU\\...\\CurrentVersion\\Run (Windows); `winreg` injectable for tests."""

    def __init__(self, winreg: Any = None):
        if winreg is None:
            import winreg as _winreg  # only exists on Windows

            winreg = _winreg
        self.reg = winreg

    def enable(self, command: Sequence[str]) -> None:
        value = subprocess.list2cmdline(list(command))
        with self.reg.CreateKey(self.reg.HKEY_CURRENT_USER, RUN_KEY) as key:
            self.reg.SetValueEx(key, RUN_VALUE, 0, self.reg.REG_SZ, value)

    def disable(self) -> None:
        try:
            with self.reg.OpenKey(
                self.reg.HKEY_CURRENT_USER, RUN_KEY, 0, self.reg.KEY_SET_VALUE
            ) as key:
                self.reg.DeleteValue(key, RUN_VALUE)
        except FileNotFoundError:
            pass

    def is_enabled(self) -> bool:
        try:
            with self.reg.OpenKey(self.reg.HKEY_CURRENT_USER, RUN_KEY) as key:
                self.reg.QueryValueEx(key, RUN_VALUE)
        except FileNotFoundError:
            return False
        return True

    def location(self) -> str:
        return f"HKEY_CURRENT_USER\\{RUN_KEY}\\{RUN_VALUE}"


def for_platform(platform: str | None = None) -> Autostart:
    """The mechanism of this OS (or of `platform`, a sys.platform value)."""
    platform = platform or sys.platform
    if platform.startswith("win"):
        return WindowsRunKey()
    if platform == "darwin":
        return LaunchAgent()
    return XdgAutostart()


def set_enabled(enabled: bool, backend: Autostart | None = None) -> Autostart:
    """Add or remove the start-at-login entry; returns the mechanism used."""
    backend = backend or for_platform()
    if enabled:
        backend.enable(default_command())
    else:
        backend.disable()
    return backend


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
