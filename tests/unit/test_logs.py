"""The log file: rotating, with API keys and Authorization headers redacted; diagnostics."""

from __future__ import annotations

import logging
from collections import deque

import pytest

from lowdash_desktop import diagnostics, logsetup

KEY = "lr-live-" + "Zq7" * 13 + "x"
OTHER_SECRET = "corp-token-5f1e9a7c"


@pytest.fixture
def root_logging():
    """Put the root logger back as it was (handlers and level) after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def _read_all(folder) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("lowdash.log*")))


def test_key_and_authorization_header_never_reach_the_file(tmp_path, root_logging):
    path = logsetup.setup_logging(tmp_path / "logs")
    log = logging.getLogger("lowdash_desktop.test")
    log.info("request headers: %s", {"Authorization": f"Bearer {KEY}", "User-Agent": "lowdash"})
    log.warning("raw header line: Authorization: Bearer %s", KEY)
    log.error("using key %s for https://api.lowrouter.example/v1", KEY)
    try:
        raise RuntimeError(f"client failed with api_key={KEY}")
    except RuntimeError:
        log.exception("sync crashed")
    for handler in root_logging.handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert KEY not in text
    assert "Bearer" not in text or "Bearer [REDACTED]" in text
    assert "Authorization: [REDACTED]" in text
    assert "'Authorization': '[REDACTED]'" in text
    assert "User-Agent" in text and "api.lowrouter.example" in text, "context is kept"
    assert "RuntimeError" in text and "sync crashed" in text


def test_registered_secret_redacted(tmp_path, root_logging):
    logsetup.register_secret(OTHER_SECRET)
    path = logsetup.setup_logging(tmp_path)
    logging.getLogger("lowdash_desktop.test").warning("proxy said %s", OTHER_SECRET)
    for handler in root_logging.handlers:
        handler.flush()
    assert OTHER_SECRET not in path.read_text(encoding="utf-8")


def test_proxy_password_redacted():
    text = logsetup.redact("via http://alice:s3cr3t@proxy.corp:3128 to the platform")
    assert "s3cr3t" not in text and "proxy.corp:3128" in text


def test_log_rotates(tmp_path, root_logging, monkeypatch):
    monkeypatch.setattr(logsetup, "MAX_BYTES", 2_000)
    logsetup.setup_logging(tmp_path)
    log = logging.getLogger("lowdash_desktop.test")
    for i in range(200):
        log.info("line %d with key %s", i, KEY)
    files = sorted(p.name for p in tmp_path.glob("lowdash.log*"))
    assert "lowdash.log.1" in files and len(files) <= logsetup.BACKUP_COUNT + 1
    assert KEY not in _read_all(tmp_path)


def test_setup_twice_keeps_one_file_handler(tmp_path, root_logging):
    logsetup.setup_logging(tmp_path)
    logsetup.setup_logging(tmp_path)
    names = [h.get_name() for h in root_logging.handlers]
    assert names.count("lowdash-file") == 1


def test_diagnostics_has_versions_paths_errors_and_no_secrets(tmp_path, root_logging):
    logsetup.setup_logging(tmp_path)
    logging.getLogger("lowdash_desktop.test").error("refused key %s", KEY)
    text = diagnostics.report(
        paths=[("Cache", "/tmp/cache.sqlite3")],
        details=[("Network", "Proxy: none (direct connection)"), ("Header", f"Bearer {KEY}")],
    )
    assert "Lowdash: " in text and "Python: " in text and "httpx: " in text
    assert "OS: " in text and "Logs: " in text and "Cache: /tmp/cache.sqlite3" in text
    assert "refused key [REDACTED]" in text, "the last errors are listed, redacted"
    assert KEY not in text


def test_redaction_of_header_and_bare_secret_part():
    from lowdash_desktop.logsetup import redact, register_secret

    key = "lr-live-" + "Zq9" * 13 + "W"
    register_secret(key)
    assert redact(f"Authorization: Bearer {key}") == "Authorization: [REDACTED]"
    assert redact(f"{{'authorization': 'Bearer {key}'}}") == "{'authorization': '[REDACTED]'}"
    assert key[8:] not in redact(f"secret part {key[8:]} alone")


def test_records_held_before_the_file_log_are_written_first_and_redacted(
    tmp_path, root_logging, capsys
):
    """A GUI start opens the log file after the first paint; nothing logged before is lost."""
    console = logging.StreamHandler()  # what basicConfig gives the command line
    root_logging.addHandler(console)
    root_logging.setLevel(logging.WARNING)
    logsetup.hold_early_records()
    assert logsetup.holding_early_records()
    log = logging.getLogger("lowdash_desktop.test")
    log.info("early info with key %s", KEY)
    log.warning("early warning, header Authorization: Bearer %s", KEY)
    logging.getLogger("httpx").info("HTTP Request: GET https://x/v1/account")  # chatter
    assert console.level == logging.WARNING, "the console shows what it showed before"
    assert not list(tmp_path.glob("lowdash.log*"))

    path = logsetup.setup_logging(tmp_path)
    log.info("after the file log started")
    assert not logsetup.holding_early_records()
    text = path.read_text(encoding="utf-8")
    lines = [line.split(": ", 1)[1] for line in text.splitlines()]
    assert lines == [
        "early info with key [REDACTED]",
        "early warning, header Authorization: [REDACTED]",
        "after the file log started",
    ]
    assert "early warning, header Authorization: [REDACTED]" in logsetup.recent_errors.records[-1]
    err = capsys.readouterr().err
    assert "early warning" in err and KEY not in err and "early info" not in err


def test_held_records_reach_diagnostics_when_the_log_folder_is_unwritable(
    tmp_path, root_logging
):
    logsetup.hold_early_records()
    logging.getLogger("lowdash_desktop.test").error("held error %s", KEY)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log folder should be")
    with pytest.raises(OSError):
        logsetup.setup_logging(blocked / "logs")
    assert not logsetup.holding_early_records(), "nothing keeps piling up in memory"
    assert logsetup.recent_errors.records[-1].endswith("held error [REDACTED]")


def test_a_record_arriving_while_the_file_log_starts_is_not_lost(tmp_path, root_logging):
    """A thread that found the holding handler just before it was taken out still logs."""
    logsetup.hold_early_records()
    early = next(h for h in root_logging.handlers if isinstance(h, logsetup.EarlyRecords))
    log = logging.getLogger("lowdash_desktop.test")
    log.info("held")
    path = logsetup.setup_logging(tmp_path)
    late = log.makeRecord(log.name, logging.INFO, __file__, 1, "late %s", (KEY,), None)
    early.handle(late)  # what a thread half-way through `root.handle` does
    assert early.records == deque()
    messages = [line.split(": ", 1)[1] for line in path.read_text(encoding="utf-8").splitlines()]
    assert messages == ["held", "late [REDACTED]"]


CRASH_SCRIPT = """
import logging, sys, threading
from pathlib import Path
from lowdash_desktop import logsetup
folder = Path(sys.argv[1])
logsetup.setup_logging(folder)
logsetup.log_unhandled_exceptions()
logsetup.enable_crash_log(folder)
key = "lr-live-" + "Zq7" * 13 + "x"

def in_a_qt_slot():
    raise RuntimeError(f"slot failed with key {key}")

def in_a_worker():
    raise ValueError(f"worker failed with key {key}")

def crash_here():
    import faulthandler
    faulthandler._sigsegv()

from PySide6.QtCore import QCoreApplication, QTimer
app = QCoreApplication([])
QTimer.singleShot(0, in_a_qt_slot)
QTimer.singleShot(10, app.quit)
app.exec()
worker = threading.Thread(target=in_a_worker, name="eco-report")
worker.start()
worker.join()
print("survived", flush=True)
crash_here()
"""


def test_unhandled_exceptions_and_native_crashes_leave_a_redacted_trace(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.strip() == "survived", "an exception in a slot or a thread is not fatal"
    assert done.returncode != 0, "the deliberate segfault ended the process"
    log_text = (tmp_path / logsetup.LOG_FILE).read_text(encoding="utf-8")
    assert "CRITICAL" in log_text and "unhandled exception in the main thread" in log_text
    assert "RuntimeError: slot failed with key [REDACTED]" in log_text
    assert "unhandled exception in eco-report" in log_text
    assert "ValueError: worker failed with key [REDACTED]" in log_text
    assert KEY not in log_text and KEY not in done.stderr
    crash = (tmp_path / logsetup.CRASH_FILE).read_text(encoding="utf-8")
    assert "Fatal Python error: Segmentation fault" in crash
    assert "crash_here" in crash, "the Python stack of the crash is there"
    assert KEY not in crash


def test_diagnostics_say_whether_and_when_the_app_last_crashed(data_dir):
    from lowdash_desktop.paths import log_dir

    assert "Crash log: no crash recorded" in diagnostics.report()
    crash = log_dir() / logsetup.CRASH_FILE
    crash.write_text("")  # opened at every start: empty means no crash
    assert "Crash log: no crash recorded" in diagnostics.report()
    crash.write_text("Fatal Python error: Segmentation fault\n")
    line = next(x for x in diagnostics.report().splitlines() if "Crash log:" in x)
    assert str(crash) in line and "last crash written 20" in line
