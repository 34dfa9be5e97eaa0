"""Under a real X server and window manager: the resize round trip and the screen's edges."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.gui.test_layout import close_enough, dock_rects, settle
from tests.gui.test_main_window import make_window


def wait_size(qtbot, window, width, height) -> None:
    window.resize(width, height)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (width, height), timeout=5_000)


def test_resize_round_trip_with_a_window_manager(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    wait_size(qtbot, window, 1280, 820)
    settle(qtbot, window)
    before = dock_rects(window)
    wait_size(qtbot, window, 600, 900)
    qtbot.waitUntil(lambda: window.narrow)
    wait_size(qtbot, window, 1280, 820)
    qtbot.waitUntil(lambda: close_enough(dock_rects(window), before), timeout=5_000)
    settle(qtbot, window)
    window.close()
    # the next start: the same layout at the same size
    window = make_window(qtbot, data_dir, demo_platform)
    qtbot.waitUntil(lambda: window.layout_checked)
    qtbot.waitUntil(lambda: close_enough(dock_rects(window), before), timeout=5_000)
    window.close()


def test_at_900x700_the_balance_is_whole(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    wait_size(qtbot, window, 900, 700)
    balance = window.credits_dock.balance
    qtbot.waitUntil(lambda: balance.width() >= balance.sizeHint().width(), timeout=3_000)
    window.close()


def show_window(tmp_path: Path, **env: str) -> dict:
    root = str(Path(__file__).resolve().parents[2])  # this checkout's lowdash_desktop
    home = tmp_path / "home"
    # a new HOME and XDG folders: the user's own saved window size must not decide the test
    # (an independent check's used config made the scale-2 case fail on its machine only)
    xdg = {f"XDG_{kind}_HOME": str(home / kind.lower()) for kind in ("CONFIG", "DATA", "CACHE",
                                                                    "STATE")}
    child_env = dict(os.environ, LOWDASH_DATA_DIR=str(tmp_path / "data"), HOME=str(home),
                     PYTHONPATH=root, **xdg, **env)
    (tmp_path / "home").mkdir(exist_ok=True)
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("show_window.py"))],
        env=child_env, capture_output=True, text=True, timeout=120, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_at_scale_2_the_window_stays_on_the_screen(tmp_path):
    shown = show_window(tmp_path, QT_SCALE_FACTOR="2")
    ax, ay, aw, ah = shown["available"]
    fx, fy, fw, fh = shown["frame"]
    assert fw <= aw and fh <= ah, shown
    assert ax <= fx and fx + fw <= ax + aw and ay <= fy and fy + fh <= ay + ah, shown
    assert shown["status_bottom"] < ay + ah, "the status bar is on the screen"
    # the logical screen is 800x500: every dock shares one tabbed slot, the table keeps rows
    # (it showed 1.5 under two rows of docks); 4 whole rows here, 11 at the default size
    assert shown["tabbed"], shown
    assert shown["table_rows"] >= 4, shown
    assert not shown["sideways"], "the columns fit the 786 px window"


def test_at_scale_2_a_size_saved_at_scale_1_still_fits(tmp_path):
    # an independent check's used config: 1280x820 saved at scale 1 came back at scale 2 as
    # a narrow window whose column of docks was taller than the 800x500 screen
    show_window(tmp_path, SHOW_WINDOW_SAVE="1")
    shown = show_window(tmp_path, QT_SCALE_FACTOR="2")
    ax, ay, aw, ah = shown["available"]
    fx, fy, fw, fh = shown["frame"]
    assert ax <= fx and fx + fw <= ax + aw and ay <= fy and fy + fh <= ay + ah, shown
    assert shown["status_bottom"] < ay + ah, "the status bar is on the screen"
    assert shown["tabbed"], shown
    assert shown["table_rows"] >= 2, shown


def test_at_the_default_size_ten_rows_show(tmp_path):
    shown = show_window(tmp_path)
    assert not shown["tabbed"], "room for the wide layout"
    assert shown["table_rows"] >= 10, shown
    assert not shown["sideways"], shown
