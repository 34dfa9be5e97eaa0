"""Tests only a real window can judge: an X server with a window manager (`.ci/realwindow`).

Run with QT_QPA_PLATFORM=xcb and DISPLAY set (the top conftest defaults to offscreen);
skipped otherwise.
"""

from __future__ import annotations

import os
import shutil

import pytest


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    real = os.environ.get("QT_QPA_PLATFORM") == "xcb" and bool(os.environ.get("DISPLAY"))
    if os.environ.get("LOWDASH_REALWINDOW_REQUIRED") == "1":  # .ci/realwindow: skip nothing
        lacking = [] if real else ["QT_QPA_PLATFORM=xcb and DISPLAY"]
        lacking += [tool for tool in ("xdotool",) if shutil.which(tool) is None]
        if lacking:
            raise pytest.UsageError(f"realwindow tests need {', '.join(lacking)}")
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.realwindow)
            if not real:
                item.add_marker(pytest.mark.skip(reason="needs QT_QPA_PLATFORM=xcb and DISPLAY"))
