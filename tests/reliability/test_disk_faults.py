"""A disk fault is not corruption (issue 17, class 6).

A full disk, a read-only folder or file, a file that cannot be opened: the cache stays where it
is with every row, the user reads what happened ("The disk is full ...", "The data folder is
read-only ..."), never "damaged", never a traceback, and nothing is downloaded again.

Two ways to make a disk fault: SQLite's own (`PRAGMA max_page_count` raises SQLITE_FULL, a
`mode=ro` connection or `query_only` raises SQLITE_READONLY), which always works; and a real
small file system (tmpfs, 2 MB; remounted read-only), which needs `mount` (root here; the tests
skip with the reason where mounting is not permitted). chmod alone does not stop root.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowdash_desktop import accounts
from lowdash_desktop.cli import main
from lowdash_desktop.store import db, faults
from lowdash_desktop.store.cache import Cache
from tests.unit.test_store import gen


def _filled(path: Path, rows: int = 300) -> Cache:
    cache, _ = Cache.open(path)
    for start in range(0, rows, 100):
        cache.apply_page([gen(i) for i in range(start, start + 100)], [], f"c{start}")
    return cache


def _nothing_moved(path: Path) -> None:
    assert path.exists()
    assert not list(path.parent.glob(path.name + ".corrupt-*")), "a healthy cache moved aside"
    assert not db.damaged_marker(path).exists(), "a healthy cache noted as damaged"


def _said_disk_not_damage(text: str, kind: str) -> None:
    wanted = {"full": "disk is full", "read-only": "read-only"}[kind]
    assert wanted in text and "nothing was lost" in text, text
    assert "damaged" not in text and "Traceback" not in text, text


# -- one classifier -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "kind"),
    [(13, "full"), (8, "read-only"), (8 | (1 << 8), "read-only"), (14, "cannot-open"),
     (10, "io-error"), (10 | (3 << 8), "io-error"), (3, "read-only"), (5, "busy"), (6, "busy"),
     (9, "interrupted"), (11, "damaged"), (11 | (1 << 8), "damaged"), (26, "damaged"), (1, None)],
)
def test_sqlite_result_codes_are_classified(code, kind):
    exc = sqlite3.OperationalError("x")
    exc.sqlite_errorcode = code
    assert faults.classify(exc) == kind


@pytest.mark.parametrize(
    ("number", "kind"),
    [(errno.ENOSPC, "full"), (errno.EDQUOT, "full"), (errno.EROFS, "read-only"),
     (errno.EACCES, "read-only"), (errno.EIO, "io-error"), (errno.ENOENT, "cannot-open")],
)
def test_os_errors_are_classified(number, kind):
    assert faults.classify(OSError(number, "x")) == kind


@settings(max_examples=300, deadline=None, derandomize=True)
@given(code=st.integers(0, 0xFFFF), text=st.sampled_from(
    ["database or disk is full", "attempt to write a readonly database", "disk I/O error",
     "unable to open database file", "database is locked", "interrupted", "x"]))
def test_only_corrupt_and_notadb_codes_ever_mean_damage(code, text):
    exc = sqlite3.DatabaseError(text)
    exc.sqlite_errorcode = code
    assert faults.is_damage(exc) == ((code & 0xFF) in (11, 26))


def test_real_sqlite_errors_carry_the_codes_the_classifier_reads(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.sqlite3")
    conn.execute("CREATE TABLE t(x)")
    conn.execute("PRAGMA max_page_count = 1")
    with pytest.raises(sqlite3.Error) as full:
        conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
    conn.close()
    assert faults.classify(full.value) == faults.FULL
    ro = sqlite3.connect(f"file:{tmp_path / 'x.sqlite3'}?mode=ro", uri=True)
    with pytest.raises(sqlite3.Error) as readonly:
        ro.execute("CREATE TABLE u(x)")
    ro.close()
    assert faults.classify(readonly.value) == faults.READ_ONLY


# -- without a mount: SQLite's own limits --------------------------------------------------------
def test_a_full_database_keeps_every_row_and_says_disk_full(tmp_path):
    path = tmp_path / "cache.sqlite3"
    cache = _filled(path)
    pages = cache.conn.execute("PRAGMA page_count").fetchone()[0]
    cache.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(faults.DiskFault) as caught:
        cache.apply_page([gen(i) for i in range(1000, 1600)], [], "later")
    assert caught.value.kind == faults.FULL
    _said_disk_not_damage(str(caught.value), "full")
    assert cache.generation_count() == 300 and cache.feed_cursor == "c200", "page not half-stored"
    cache.mark_synced(error="the sync failed")  # recording a failure never raises on top
    cache.close()
    again, report = Cache.open(path)
    assert report.moved_aside is None and report.notes == []
    assert again.generation_count() == 300
    again.close()
    _nothing_moved(path)


@pytest.mark.parametrize("how", ["mode=ro", "query_only"])
def test_a_read_only_cache_says_read_only_and_keeps_every_row(tmp_path, how):
    path = tmp_path / "cache.sqlite3"
    _filled(path).close()
    if how == "mode=ro":
        cache = Cache(db.connect(path, readonly=True), path)
    else:
        cache = Cache.open_reader(path)
        cache.conn.execute("PRAGMA query_only = 1")
    for write in (
        lambda: cache.apply_page([gen(5000)], [], "x"),
        lambda: cache.save_snapshot("credits", {"balance": "1"}),
        lambda: cache.mark_synced(),
        lambda: cache.save_invoices([("inv_1", 1, {"id": "inv_1"})]),
    ):
        with pytest.raises(faults.DiskFault) as caught:
            write()
        assert caught.value.kind == faults.READ_ONLY
        _said_disk_not_damage(str(caught.value), "read-only")
    assert cache.generation_count() == 300
    cache.close()
    _nothing_moved(path)


def test_a_cache_that_cannot_be_opened_is_not_damaged(tmp_path, monkeypatch):
    """SQLITE_CANTOPEN and an I/O error during the open's check leave the cache in place."""
    path = tmp_path / "cache.sqlite3"
    _filled(path).close()
    real_connect = sqlite3.connect

    for code, text in ((14, "unable to open database file"), (10 | (1 << 8), "disk I/O error")):
        def failing(*args, _code=code, _text=text, **kwargs):
            exc = sqlite3.OperationalError(_text)
            exc.sqlite_errorcode = _code
            raise exc

        monkeypatch.setattr(db.sqlite3, "connect", failing)
        with pytest.raises(faults.DiskFault) as caught:
            Cache.open(path)
        assert "damaged" not in str(caught.value) and "nothing" in str(caught.value)
        monkeypatch.setattr(db.sqlite3, "connect", real_connect)
        _nothing_moved(path)
    cache, report = Cache.open(path)
    assert report.moved_aside is None and cache.generation_count() == 300
    cache.close()


def test_the_size_check_counts_the_wal(tmp_path, monkeypatch):
    """Committed rows can sit in the WAL for long: a small file with a big WAL is a big cache."""
    path = tmp_path / "cache.sqlite3"
    cache, _ = Cache.open(path)
    cache.conn.execute("PRAGMA wal_autocheckpoint = 0")
    cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for start in range(0, 2000, 500):
        cache.apply_page([gen(i) for i in range(start, start + 500)], [], f"c{start}")
    file_only = path.stat().st_size
    wal = Path(str(path) + "-wal").stat().st_size
    assert wal > file_only
    assert db.cache_bytes(path) == file_only + wal
    monkeypatch.setattr(db, "FULL_CHECK_AT_OPEN_MAX_BYTES", file_only + wal // 2)
    assert db.integrity_check_due(path, cache.conn, now_ms=10 * db.INTEGRITY_CHECK_EVERY_MS)
    cache.close()


def test_cli_sync_on_a_full_disk_exits_1_with_one_line(
    demo_platform, data_dir, monkeypatch, capsys
):
    """`lowdash sync` when SQLite says the disk is full: one line, exit 1, the cache kept."""
    monkeypatch.setenv("LOWDASH_API_KEY", demo_platform.api_key)
    assert main(["sync", "--base-url", demo_platform.base_url, "--quiet"]) == 0
    path = accounts.find(data_dir).cache_path(data_dir)
    cache = Cache.open_reader(path)
    before = cache.revisions()
    cache.close()
    real = db._connect

    def tiny(*args, **kwargs):  # every connection of the sync may not grow the file
        conn = real(*args, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(db, "_connect", tiny)
    conn = sqlite3.connect(path, isolation_level=None)  # the next sync must store rows again
    conn.execute("DELETE FROM meta WHERE key = 'feed_cursor'")
    conn.execute("DELETE FROM generations WHERE rowid > 100")
    conn.execute("VACUUM")  # no free pages left to reuse
    conn.close()
    capsys.readouterr()
    code = main(["sync", "--base-url", demo_platform.base_url, "--quiet"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.count("\n") == 1 and err.startswith("lowdash sync: The disk is full")
    _said_disk_not_damage(err, "full")
    _nothing_moved(path)
    monkeypatch.setattr(db, "_connect", real)
    assert main(["sync", "--base-url", demo_platform.base_url, "--quiet"]) == 0  # room again
    cache = Cache.open_reader(path)
    assert cache.revisions() == before
    cache.close()


def test_the_sync_worker_reports_a_full_disk_plainly(qtbot, demo_platform, data_dir, monkeypatch):
    """The window's sync hears "The disk is full ..." (shown in its banner), kind 'disk'."""
    from lowdash_desktop.api.connection import Connection
    from lowdash_desktop.sync.worker import SyncController

    path = data_dir / "cache.sqlite3"
    Cache.open(path)[0].close()
    real = db._connect

    def tiny(*args, **kwargs):
        conn = real(*args, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(db, "_connect", tiny)
    controller = SyncController(path)
    try:
        with qtbot.waitSignal(controller.failed, timeout=20_000) as failed:
            assert controller.sync_now(Connection(demo_platform.base_url, demo_platform.api_key))
        message, result = failed.args
        _said_disk_not_damage(message, "full")
        assert result.error_kind == "disk"
    finally:
        assert controller.shutdown(5000)
    _nothing_moved(path)


# -- a real small file system ----------------------------------------------------------------------
@pytest.fixture
def small_fs(tmp_path):
    """A 2 MB tmpfs mounted at a fresh folder; unmounted afterwards."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command: the SQLite-level full/read-only tests cover this")
    where = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here ({done.stderr.strip()}); "
                    "the SQLite-level full/read-only tests cover this")

    def remount(options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)

    try:
        yield where, remount
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_a_really_full_disk_keeps_the_cache_and_resumes_when_there_is_room(small_fs):
    where, remount = small_fs
    path = where / "cache.sqlite3"
    cache, _ = Cache.open(path)
    stored = 0
    with pytest.raises(faults.DiskFault) as caught:
        for start in range(0, 100_000, 200):
            cache.apply_page([gen(i) for i in range(start, start + 200)], [], f"c{start}")
            stored = start + 200
    _said_disk_not_damage(str(caught.value), "full")
    assert "free)" in str(caught.value)
    assert cache.generation_count() == stored
    cache.mark_synced(error="stopped")  # recording the failure on a full disk never raises
    cache.close()
    # the file may now be one page with every other page in the WAL (a checkpoint cut short)
    again, report = Cache.open(path)
    assert report.moved_aside is None and again.generation_count() == stored
    again.close()
    _nothing_moved(path)
    remount("size=20m")
    again, report = Cache.open(path)
    again.apply_page([gen(i) for i in range(stored, stored + 500)], [], "more")
    assert again.generation_count() == stored + 500
    again.close()


def test_a_read_only_data_folder_keeps_the_cache_and_says_so(small_fs, capsys, monkeypatch):
    where, remount = small_fs
    monkeypatch.setenv("LOWDASH_DATA_DIR", str(where))
    entry = accounts.remember(where, "https://ro.test/v1", "acct_ro", "ro@x.test", "RO")
    path = entry.cache_path(where)
    _filled(path).close()
    remount("ro")
    with pytest.raises(faults.DiskFault) as caught:
        Cache.open(path)
    _said_disk_not_damage(str(caught.value), "read-only")
    capsys.readouterr()
    out = where.parent / "out.csv"
    code = main(["export", "csv", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, err
    _said_disk_not_damage(err, "read-only")
    remount("rw")
    _nothing_moved(path)
    cache, report = Cache.open(path)
    assert report.moved_aside is None and cache.generation_count() == 300
    cache.close()
