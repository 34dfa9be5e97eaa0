"""Start-up footprint: no module sources kept in memory, no tools the app never runs."""

from __future__ import annotations

import importlib
import linecache
import subprocess
import sys


def test_modules_imported_after_the_app_stay_out_of_linecache(tmp_path, monkeypatch):
    from lowdash_desktop import app

    assert app.skip_pyside_source_scan(), "PySide6's feature hook is where we expect it"
    probe = tmp_path / "lowdash_probe_module.py"
    probe.write_text("VALUE = 41 + 1\n" * 50)
    monkeypatch.syspath_prepend(str(tmp_path))
    linecache.clearcache()
    module = importlib.import_module("lowdash_probe_module")
    assert module.VALUE == 42
    assert str(probe) not in linecache.cache, "the module's source was read into memory"


def test_the_platform_client_loads_without_httpx_cli_or_trio():
    code = (
        "import sys, lowdash_desktop.api.client, httpx\n"
        "print(sorted(m for m in ('click', 'rich', 'pygments', 'trio') if sys.modules.get(m)))\n"
        "print(httpx.Client.__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "Client"
