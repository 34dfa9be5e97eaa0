"""Hostile command lines (class 10 of issue 17): every subcommand's options with bad values.

Argument vectors are generated from the documented options with hostile values (empty, NUL,
control characters, out of range, huge, folders for files, files for folders, a read-only
folder, a busy port, garbage PEM) and run through `lowdash_desktop.cli.main` in-process; a few
run as real processes. Whatever the vector: an exit code from the README (0 ok, 1 failed,
2 usage, 3 key refused, 4 offline), no traceback, and a nonzero exit says why in one line.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lowdash_desktop.cli import main
from lowdash_desktop.demo import DemoPlatform

CODES = {0, 1, 2, 3, 4}
COUNTS = {"vectors": 0, "nonzero": 0}


class World:
    """A synced data dir, a demo platform on loopback, a busy port and hostile files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.platform = DemoPlatform(seed=3, generations=200)
        self.url = self.platform.start(0)
        self.key = self.platform.api_key
        self.busy = socket.socket()
        self.busy.bind(("127.0.0.1", 0))
        self.busy.listen(1)
        self.busy_port = self.busy.getsockname()[1]
        (root / "afile").write_text("not a folder")
        (root / "garbage.pem").write_bytes(os.urandom(64) + b"\x00-----BEGIN")
        (root / "empty.pem").write_bytes(b"")
        (root / "folder").mkdir()
        # device files of our own, never the machine's /dev/null: a regression that renamed
        # an export over a device would replace this one, not break the machine
        self.devices = []
        for name, minor in (("null", 3), ("zero", 5)):
            try:
                os.mknod(root / name, stat.S_IFCHR | 0o666, os.makedev(1, minor))
                self.devices.append(str(root / name))
            except (PermissionError, OSError):
                pass
        self.readonly = root / "ro"
        self.readonly.mkdir()
        self.mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro", "tmpfs", str(self.readonly)],
            capture_output=True,
        ).returncode == 0

    def close(self) -> None:
        if self.mounted:
            subprocess.run(["umount", str(self.readonly)], capture_output=True)
        self.busy.close()
        self.platform.stop()


@pytest.fixture(scope="module")
def world():
    with tempfile.TemporaryDirectory() as tmp:
        w = World(Path(tmp))
        try:
            yield w
        finally:
            w.close()


def run_main(world: World, argv: list[str], key: str | None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in ("LOWDASH_DATA_DIR", "LOWDASH_API_KEY")}
    cwd = os.getcwd()
    os.environ["LOWDASH_DATA_DIR"] = str(world.data)
    if key is None:
        os.environ.pop("LOWDASH_API_KEY", None)
    else:
        os.environ["LOWDASH_API_KEY"] = key
    os.chdir(world.root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        os.chdir(cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, out.getvalue(), err.getvalue()


def check(code: int, out: str, err: str, argv: list[str]) -> None:
    COUNTS["vectors"] += 1
    assert code in CODES, (code, argv, err)
    assert "Traceback" not in out + err, (argv, err)
    if code != 0:
        COUNTS["nonzero"] += 1
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1, (argv, err)
        assert "\x1b" not in err and "\x00" not in err, (argv, err)


# -- hostile values, by kind ------------------------------------------------------------------
HOSTILE = ["", " ", "\x00", "\x1b[31mred", "\u202eevil", "a\nb", "-", "--", "x" * 5000,
           "\udc9b", "=1+2", "%s%n", "../../../../etc/passwd"]
NUMBERS = ["0", "-1", "1", "-0", "1e3", "nan", "inf", "-inf", "0x10", "1_000", " 7 ", "9" * 40,
           "1000000000", "3.5", "abc", "", "\x00"]


def paths(world: World) -> st.SearchStrategy[str]:
    r = world.root
    return st.sampled_from([
        "", "\x00", str(r), str(r / "missing" / "x"), str(r / "afile"), str(r / "afile" / "x"),
        str(r / "folder") + "/", *world.devices, "out.csv", str(r / ("n" * 300)),
        str(r / "ro" / "x"), str(r / "ro"), "\x1b]0;x\x07.csv", str(r / "garbage.pem"),
        str(r / "empty.pem"),
    ]) | st.sampled_from(HOSTILE)


def values(world: World) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NUMBERS), st.sampled_from(HOSTILE), paths(world),
                     st.text(max_size=12))


def urls(world: World) -> st.SearchStrategy[str]:
    return st.sampled_from([
        world.url, "http://127.0.0.1:1/v1", "http://[::1", "http://127.0.0.1:99999/v1",
        "http://127.0.0.1:-1/v1", "https://", "ftp://127.0.0.1/v1", "http://example.com/v1",
        "http://u:p@127.0.0.1:1/v1", "http://127.0.0.1:1/" + "a" * 70_000, "",
        "http://127.0.0.1:1/\x1b[31m",
    ]) | st.sampled_from(HOSTILE)


@st.composite
def vectors(draw, world: World) -> tuple[list[str], str | None]:
    value = values(world)
    command = draw(st.sampled_from(["sync", "demo-server", "export csv", "export invoice", "eco",
                                    "top"]))
    argv: list[str] = []
    if draw(st.booleans()):
        argv += ["--data-dir", draw(paths(world))]
    key = draw(st.sampled_from([world.key, None, "", "lr-live-" + "q" * 40, "k\x1b[31m\u202e",
                                "lr live é"]))
    if command == "top":  # top-level options, never a window: always something wrong
        argv += draw(st.sampled_from([
            ["--generations", draw(st.sampled_from(["99", "1000001", "-1", "x", "", "1e9"]))],
            ["--screenshot", draw(st.sampled_from(["", "\x00"]))],
            ["--base-url", draw(st.sampled_from(["", "\x1b", "a" * 3000]))],
            ["--seed", draw(st.sampled_from(["x", "", "1.5"]))],
            ["--no-such-option"], ["frobnicate"],
        ]))
        return argv, key
    if command == "sync":
        argv += ["sync", "--base-url", draw(urls(world))]
        for option in draw(st.lists(st.sampled_from(
                ["--page-limit", "--ca-bundle", "--quiet", "--full-resync"]), max_size=3)):
            if option in ("--quiet", "--full-resync"):
                argv.append(option)
            else:
                argv += [option, draw(value if option == "--page-limit" else paths(world))]
        return argv, key
    if command == "demo-server":
        argv += ["demo-server"]
        for option in draw(st.lists(st.sampled_from(
                ["--port", "--seed", "--generations", "--fault-rate", "--faults", "--fault-seed",
                 "--fault-stall", "--fault-retry-after"]), max_size=4)):
            if option == "--faults":
                argv += [option, draw(st.sampled_from(
                    ["all", "", "drop,bogus", "500,,502", "\x1b", "stall", ",", "DROP"]))]
            elif option == "--generations":
                argv += [option, draw(st.sampled_from(["99", "100", "300", "1000001", "-5", "x"]))]
            else:
                argv += [option, draw(value)]
        # never serve: the port is taken (or one of the values above is refused first)
        argv += ["--port", str(world.busy_port)]
        if "--generations" not in argv:
            argv += ["--generations", "100"]
        return argv, key
    if command == "export csv":
        argv += ["export", "csv", "--out", draw(paths(world))]
        for option in draw(st.lists(st.sampled_from(
                ["--from", "--to", "--model", "--provider", "--base-url", "--data-dir"]),
                max_size=3)):
            if option in ("--from", "--to"):
                argv += [option, draw(st.sampled_from(
                    ["2026-01-01", "0001-01-01", "9999-12-31", "2026-13-01", "2026-02-30",
                     "yesterday", "", "2026-1-1", "20260101", "\x00"]))]
            elif option == "--base-url":
                argv += [option, draw(urls(world))]
            elif option == "--data-dir":
                argv += [option, draw(paths(world))]
            else:
                argv += [option, draw(st.sampled_from(HOSTILE) | st.just("scaleway"))]
        return argv, key
    if command == "export invoice":
        argv += ["export", "invoice", draw(st.sampled_from(HOSTILE) | st.just("inv_nope")),
                 "--out", draw(paths(world))]
        if draw(st.booleans()):
            argv += ["--page-size", draw(st.sampled_from(["A4", "Letter", "a4", "", "\x00"]))]
        return argv, key
    argv += ["eco"]
    for option in draw(st.lists(st.sampled_from(
            ["--days", "--baseline", "--base-url", "--json"]), max_size=3)):
        if option == "--json":
            argv.append(option)
        elif option == "--days":
            argv += [option, draw(value)]
        elif option == "--base-url":
            argv += [option, draw(urls(world))]
        else:
            argv += [option, draw(st.sampled_from(HOSTILE))]
    return argv, key


@pytest.fixture(scope="module")
def synced(world):
    code, _out, err = run_main(world, ["sync", "--base-url", world.url, "--quiet"], world.key)
    assert code == 0, err
    return world


def test_hostile_command_lines_end_in_one_line_and_a_documented_code(synced):
    world = synced

    @settings(max_examples=150, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(vectors(world))
    def run(vector):
        argv, key = vector
        code, out, err = run_main(world, argv, key)
        check(code, out, err, argv)

    run()
    print(f"command lines: {COUNTS['vectors']} vectors, {COUNTS['nonzero']} refused")


def test_read_only_data_dir_is_refused_for_sync_in_one_line(synced):
    world = synced
    if not world.mounted:
        pytest.skip("cannot mount a read-only tmpfs here")
    code, out, err = run_main(
        world, ["sync", "--base-url", world.url, "--data-dir", str(world.readonly)], world.key
    )
    check(code, out, err, ["sync", "--data-dir", "ro"])
    assert code == 2 and "read-only" in err


@pytest.mark.parametrize("argv, code, words", [
    (["export", "csv", "--out", ""], 2, "--out"),
    (["eco", "--days", "1000000000"], 2, "--days"),
    (["eco", "--days", "0"], 2, "--days"),
    (["sync", "--base-url", "http://127.0.0.1:1/v1", "--page-limit", "0"], 2, "--page-limit"),
    (["sync", "--base-url", "http://127.0.0.1:1/v1", "--page-limit", "5000"], 2, "--page-limit"),
    (["demo-server", "--port", "70000"], 2, "--port"),
    (["demo-server", "--fault-rate", "-0.5"], 2, "--fault-rate"),
    (["demo-server", "--faults", "drop,bogus"], 2, "bogus"),
    (["demo-server", "--generations", "5"], 2, "--generations"),
    (["--demo", "--generations", "5"], 2, "--generations"),
    (["export", "csv", "--out", "x.csv", "--from", "2026-02-01", "--to", "2026-01-01"], 2,
     "--from is after --to"),
    (["export", "csv", "--out", "x.csv", "--from", "2026-02-30"], 2, "not a date"),
])
def test_bad_command_lines_in_a_real_process(argv, code, words, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "lowdash_desktop", *argv], capture_output=True, text=True,
        timeout=60, cwd=tmp_path,
        env={**os.environ, "LOWDASH_DATA_DIR": str(tmp_path / "data"), "LOWDASH_API_KEY": "k"},
    )
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1 and words in done.stderr, done.stderr


def test_a_busy_port_and_a_garbage_ca_bundle_in_a_real_process(world, tmp_path):
    env = {**os.environ, "LOWDASH_DATA_DIR": str(tmp_path / "data"), "LOWDASH_API_KEY": "k"}
    done = subprocess.run(
        [sys.executable, "-m", "lowdash_desktop", "sync", "--base-url", world.url],
        capture_output=True, text=True, timeout=60,
        env={**env, "LOWDASH_API_KEY": "lr-live-\u202e\x1b[31m"},
    )
    assert done.returncode == 2 and "LOWDASH_API_KEY" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    for argv, words in (
        (["demo-server", "--port", str(world.busy_port), "--generations", "100"], "port"),
        (["sync", "--base-url", world.url, "--ca-bundle", str(world.root / "garbage.pem")],
         "no PEM certificate"),
        (["sync", "--base-url", world.url, "--ca-bundle", str(world.root / "folder")], "folder"),
        (["sync", "--base-url", world.url, "--data-dir", str(world.root / "afile" / "x")],
         "under a file"),
    ):
        done = subprocess.run([sys.executable, "-m", "lowdash_desktop", *argv],
                              capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 2, (argv, done.stderr)
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and words in done.stderr, done.stderr
