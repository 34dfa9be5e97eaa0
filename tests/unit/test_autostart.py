"""Start at login: the XDG .desktop file is written and removed; plist and Run key shapes."""

from __future__ import annotations

import configparser
import plistlib
import shlex

from lowdash_desktop import autostart


def test_xdg_autostart_written_and_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    backend = autostart.for_platform("linux")
    assert isinstance(backend, autostart.XdgAutostart)
    assert not backend.is_enabled()
    command = ["/opt/Low Dash/bin/lowdash", "--minimized"]
    backend.enable(command)
    path = tmp_path / "config" / "autostart" / "lowdash.desktop"
    assert backend.is_enabled() and backend.location() == str(path)
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(path, encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert shlex.split(desktop["Exec"]) == command
    backend.disable()
    assert not path.exists() and not backend.is_enabled()
    backend.disable()  # removing twice is fine


def test_set_enabled_uses_minimized_command(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    backend = autostart.set_enabled(True, autostart.XdgAutostart())
    assert "--minimized" in backend.path.read_text()
    autostart.set_enabled(False, backend)
    assert not backend.is_enabled()


def test_default_command_ends_with_minimized():
    assert autostart.default_command()[-1] == "--minimized"


def test_launch_agent_plist(tmp_path):
    backend = autostart.LaunchAgent(home=tmp_path)
    backend.enable(["/Applications/Lowdash.app/Contents/MacOS/Lowdash", "--minimized"])
    path = tmp_path / "Library" / "LaunchAgents" / f"{autostart.LAUNCH_AGENT_LABEL}.plist"
    data = plistlib.loads(path.read_bytes())
    assert data["RunAtLoad"] is True
    assert data["ProgramArguments"][-1] == "--minimized"
    backend.disable()
    assert not backend.is_enabled()


class FakeWinreg:
    """Just enough of winreg for the Run key."""

    HKEY_CURRENT_USER = "HKCU"
    KEY_SET_VALUE = 2
    REG_SZ = 1

    def __init__(self):
        self.values: dict[tuple[str, str], str] = {}

    class _Key:
        def __init__(self, path):
            self.path = path

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def CreateKey(self, root, path):  # noqa: N802 (winreg API)
        return self._Key(path)

    def OpenKey(self, root, path, reserved=0, access=0):  # noqa: N802
        return self._Key(path)

    def SetValueEx(self, key, name, reserved, kind, value):  # noqa: N802
        self.values[(key.path, name)] = value

    def QueryValueEx(self, key, name):  # noqa: N802
        try:
            return self.values[(key.path, name)], self.REG_SZ
        except KeyError:
            raise FileNotFoundError(name) from None

    def DeleteValue(self, key, name):  # noqa: N802
        if (key.path, name) not in self.values:
            raise FileNotFoundError(name)
        del self.values[(key.path, name)]


def test_windows_run_key_with_fake_registry():
    reg = FakeWinreg()
    backend = autostart.WindowsRunKey(winreg=reg)
    backend.enable([r"C:\Program Files\Lowdash\lowdash.exe", "--minimized"])
    assert reg.values[(autostart.RUN_KEY, "Lowdash")] == (
        r'"C:\Program Files\Lowdash\lowdash.exe" --minimized'
    )
    assert backend.is_enabled()
    backend.disable()
    assert not backend.is_enabled()
    backend.disable()
