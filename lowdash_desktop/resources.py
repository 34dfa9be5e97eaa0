"""Where the app's resource files (icons, metadata) are, in a checkout or a frozen bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path | None:
    """The `resources/` folder: next to the package in a checkout, inside a frozen bundle."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = [Path(frozen) / "resources"] if frozen else []
    candidates.append(Path(__file__).resolve().parent.parent / "resources")
    return next((c for c in candidates if c.is_dir()), None)


def icon_files() -> list[Path]:
    """The app icon PNGs, every size available."""
    root = resources_dir()
    return sorted(root.glob("icons/lowdash-*.png")) if root else []
