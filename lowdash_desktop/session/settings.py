"""Every choice Lowdash keeps on this computer (QSettings), declared once: key, type, default.

Nothing else in the package names a QSettings key or parses a stored value: a module reads
`settings.SYNC_INTERVAL.get()` and writes `settings.SYNC_INTERVAL.set(15)`. Values come back
in their declared type through `QSettings.value(key, default, type=...)` (the INI and registry
back ends hand booleans and numbers back as strings otherwise); a value that cannot be read as
that type gives the default. The account's own settings live on the platform, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

_STORED = object()  # `get` of a setting with no type: whatever is stored, or the default


@dataclass(frozen=True)
class Setting:
    """One QSettings entry: where it is stored, what it holds, what it is when not set."""

    key: str
    type: type | None  # None: stored as Qt gives it back (a QByteArray of a window state)
    default: Any
    doc: str

    def get(self, store: QSettings | None = None) -> Any:
        """The stored value in its type, or the default when unset or unreadable."""
        store = store if store is not None else QSettings()
        if self.type is None:
            value = store.value(self.key)
            return value if isinstance(value, QByteArray) else self.default
        if self.type is int:
            # Qt reads "nonsense" as 0, which is a choice of its own here (refresh off)
            try:
                return int(store.value(self.key, self.default))
            except (TypeError, ValueError):
                return self.default
        return store.value(self.key, self.default, type=self.type)

    def set(self, value: Any, store: QSettings | None = None) -> None:
        (store if store is not None else QSettings()).setValue(self.key, value)

    def remove(self, store: QSettings | None = None) -> None:
        (store if store is not None else QSettings()).remove(self.key)


@dataclass(frozen=True)
class Group:
    """Entries under one prefix whose names are not fixed (one per filter field)."""

    prefix: str
    doc: str

    def key(self, name: str) -> str:
        return self.prefix + name


def store() -> QSettings:
    """The application's settings (organisation and name come from LowdashApp)."""
    return QSettings()


def location() -> str:
    """Where the settings are kept (a file, or a registry path): for the diagnostics."""
    return QSettings().fileName()


# -- the account opened at start ---------------------------------------------------------------
LAST_BASE_URL = Setting("account/base_url", str, "", "platform URL of the account opened last")

# -- the window ----------------------------------------------------------------------------------
WINDOW_GEOMETRY = Setting("window/geometry", None, None, "QMainWindow.saveGeometry()")
WINDOW_STATE = Setting("window/state", None, None, "QMainWindow.saveState(): docks, toolbar")
TABLE_HEADER = Setting("window/table_header", None, None, "history table columns and sort")
WINDOW_SCREEN = Setting(
    "window/screen", str, "", "the screen's available size when the geometry was saved: 'WxH'"
)
DASHBOARD_UTC = Setting("dashboard/utc", bool, False, "days counted in UTC, not local time")
SPEND_DAYS = Setting("dashboard/spend_days", int, 30, "days shown by Spend over time")
FILTERS = Group("filters/", "the history filters: one entry per field, and from/to dates")
SAVED_VIEWS = Setting("views/saved", str, "[]", "saved views (JSON list of names and filters)")

# -- refresh, tray and start at login (Preferences) --------------------------------------------
SYNC_INTERVAL = Setting("sync/interval_minutes", int, 5, "automatic refresh; 0 is off")
KEEP_IN_TRAY = Setting(
    "tray/keep_running_on_close", bool, True, "closing the window keeps Lowdash in the tray"
)
CLOSE_EXPLAINED = Setting(
    "tray/close_explained", bool, False, "the 'still running in the tray' note was shown once"
)
MINIMIZED_AT_LOGIN = Setting(
    "startup/minimized_at_login", bool, False, "the login entry starts Lowdash in the tray"
)
CA_BUNDLE = Setting("network/ca_bundle", str, "", "extra CA bundle (PEM) for a TLS proxy")

# -- alerts kept on this computer (Account settings → Alerts on this computer) -----------------
RUNWAY_ALERT_DAYS = Setting(
    "insight/runway_alert_days", int, 14, "warn when the balance lasts fewer days; 0 is off"
)
SPIKE_MIN_AMOUNT = Setting(
    "insight/spike_min_amount",
    str,
    "1.00",
    "smallest hourly spend that can be a spike (decimal string)",
)

ALL: tuple[Setting | Group, ...] = tuple(
    v for v in globals().values() if isinstance(v, Setting | Group)
)
