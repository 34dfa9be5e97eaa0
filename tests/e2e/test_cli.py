"""The headless commands operators script against, run as real processes."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from lowdash_desktop import accounts
from lowdash_desktop.store.cache import Cache


def run_lowdash(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "lowdash_desktop", *args],
        capture_output=True, text=True, env=full_env, timeout=timeout,
    )


def test_sync_command_fills_the_cache(demo_platform, data_dir):
    done = run_lowdash("sync", "--base-url", demo_platform.base_url, "--quiet",
                       env={"LOWDASH_API_KEY": demo_platform.api_key})
    assert done.returncode == 0, done.stderr
    truth = demo_platform.truth()
    assert f"{len(truth)} generations cached" in done.stdout
    entry = accounts.find(data_dir, demo_platform.base_url)
    cache = Cache.open_reader(entry.cache_path(data_dir))
    assert cache.revisions() == truth
    cache.close()
    assert demo_platform.api_key not in done.stdout + done.stderr


def test_sync_command_wrong_key_one_line_reason(demo_platform, data_dir):
    done = run_lowdash("sync", "--base-url", demo_platform.base_url,
                       env={"LOWDASH_API_KEY": "lr-live-" + "q" * 40})
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1 and "refused" in done.stderr
    assert not (data_dir / "accounts").exists(), "nothing cached was touched"


def test_sync_command_needs_a_key(demo_platform):
    done = run_lowdash("sync", "--base-url", demo_platform.base_url)
    assert done.returncode == 2 and "LOWDASH_API_KEY" in done.stderr


def test_sync_command_refuses_plain_http_to_remote(data_dir):
    done = run_lowdash("sync", "--base-url", "http://api.lowrouter.example/v1",
                       env={"LOWDASH_API_KEY": "lr-live-" + "q" * 40})
    assert done.returncode == 2 and "Refusing plain http://" in done.stderr


def test_demo_server_prints_url_and_key():
    proc = subprocess.Popen(
        [sys.executable, "-m", "lowdash_desktop", "demo-server", "--port", "0",
         "--seed", "3", "--generations", "200"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        base_url = proc.stdout.readline().strip()
        key = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        assert key.startswith("lr-live-") and len(key) == 48
        answer = httpx.get(f"{base_url}/account", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200 and answer.json()["currency"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_sync_command_missing_ca_bundle_is_a_usage_error(demo_platform, tmp_path):
    done = run_lowdash("sync", "--base-url", demo_platform.base_url,
                       "--ca-bundle", str(tmp_path / "none.pem"),
                       env={"LOWDASH_API_KEY": demo_platform.api_key})
    assert done.returncode == 2 and "CA bundle not found" in done.stderr


def test_gui_start_writes_its_log_file_with_the_records_from_before_the_first_paint(
    data_dir, tmp_path
):
    """The window opens its log file after the first paint; what was logged before is kept."""
    shot = tmp_path / "window.png"
    done = run_lowdash("--demo", "--generations", "200", "--screenshot", str(shot),
                       env={"XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert done.returncode == 0, done.stderr
    assert shot.stat().st_size > 10_000
    lines = (data_dir / "logs" / "lowdash.log").read_text(encoding="utf-8").splitlines()
    starting = [i for i, line in enumerate(lines) if "Lowdash " in line and "starting" in line]
    network = [i for i, line in enumerate(lines) if "network: Proxy:" in line]
    assert len(starting) == 1 and network, lines
    assert starting[0] < network[0], "the held start-up line comes first"


GC_PROBE = """
import gc, sys
from PySide6.QtCore import QTimer
from lowdash_desktop import app, cli

seen = []
show = app._show_window

def probe(qt_app, window, minimized):
    seen.append(("shown", gc.isenabled()))
    window.firstPainted.connect(lambda: seen.append(
        ("painted", gc.isenabled(), gc.get_freeze_count() > 10_000)))
    window.firstPainted.connect(lambda: QTimer.singleShot(0, window.quit_app))
    show(qt_app, window, minimized)

app._show_window = probe
code = cli.main(["--demo", "--generations", "100"])
print(seen, gc.isenabled(), code)
"""


def test_gui_start_collects_no_garbage_until_the_first_paint(data_dir, tmp_path):
    """A start creates objects that live as long as the app: the collector waits for the
    first paint, then freezes them and runs again (a collection after that skips them)."""
    done = subprocess.run(
        [sys.executable, "-c", GC_PROBE], capture_output=True, text=True, timeout=120,
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        "[('shown', False), ('painted', True, True)] True 0"
    ), done.stdout
