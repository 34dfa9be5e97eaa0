"""Quitting at any moment of a start, with its background work in flight, exits cleanly.

Each round is a real `lowdash --demo` process that quits (File → Quit's path) a chosen number of
milliseconds after the window is shown: during the Qt-class slices, the warm-up imports, the
first sync, the dock figures or the eco report. A worker still running Python while the
interpreter exits once crashed such a quit; every round must exit 0, with no traceback.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from lowdash_desktop import app, cli

    show = app._show_window

    def show_then_quit(qt_app, window, minimized):
        show(qt_app, window, minimized)
        QTimer.singleShot(int(sys.argv[1]), window.quit_app)

    app._show_window = show_then_quit
    sys.exit(cli.main(["--demo", "--generations", "2000", "--seed", "5"]))
""")


def quit_after(delay_ms: int, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOWDASH_DATA_DIR": str(tmp_path / f"data-{delay_ms}"),
           "XDG_CONFIG_HOME": str(tmp_path / f"config-{delay_ms}"), "PYTHONFAULTHANDLER": "1"}
    env.pop("LOWDASH_API_KEY", None)
    return subprocess.run([sys.executable, "-c", SCRIPT, str(delay_ms)], capture_output=True,
                          text=True, env=env, timeout=120)


def assert_clean(done: subprocess.CompletedProcess, delay_ms: int) -> None:
    assert done.returncode == 0, f"quit after {delay_ms} ms: exit {done.returncode}\n{done.stderr}"
    assert "Traceback" not in done.stderr and "Fatal Python error" not in done.stderr, done.stderr


@pytest.mark.parametrize("delay_ms", [0, 150, 400, 900, 1800])
def test_quit_at_a_moment_of_the_start(delay_ms, tmp_path):
    assert_clean(quit_after(delay_ms, tmp_path), delay_ms)


@pytest.mark.slow
def test_quit_at_many_moments_of_the_start(tmp_path):
    rng = random.Random(20261125)
    for delay_ms in sorted(rng.randrange(0, 4000) for _ in range(40)):
        assert_clean(quit_after(delay_ms, tmp_path), delay_ms)
