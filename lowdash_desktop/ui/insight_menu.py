"""The View menu's insight entries: Alerts, Spend by key, Periods, and saved views.

Owns the window's InsightWatcher (computed off the UI thread after each sync), marks its
spikes on the spend chart, opens the insight window on a tab, filters the page to what is
clicked there, and keeps saved views (the filters, the dates and the spend range under a name)
in QSettings (`views/saved`, JSON), so they survive restarts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLineEdit, QMenu

from ..session import settings as stored
from ..session.session import Session
from .insight_watcher import InsightWatcher
from .widgets.filter_bar import FIELDS, FilterBar

if TYPE_CHECKING:
    from .docks.spend_dock import SpendDock

log = logging.getLogger(__name__)

MAX_NAME = 80
MAX_VIEWS = 50


class _Store(dict):
    """A dict that FilterBar.save_state/restore_state can use as their settings."""

    def value(self, key: str, default: Any = None) -> Any:
        return self.get(key, default)

    def setValue(self, key: str, value: Any) -> None:  # noqa: N802 (QSettings' API)
        self[key] = value


def load_views(settings: QSettings | None = None) -> list[dict]:
    """The saved views, oldest first (an unreadable entry is skipped)."""
    raw = stored.SAVED_VIEWS.get(settings)
    try:
        views = json.loads(str(raw or "[]"))
    except ValueError:
        return []
    if not isinstance(views, list):
        return []
    return [v for v in views if isinstance(v, dict) and isinstance(v.get("name"), str)
            and isinstance(v.get("filters"), dict)]


@dataclass
class Page:
    """The parts of the window's page that the insight entries filter, save and restore."""

    filter_bar: FilterBar
    search: QLineEdit  # the generation-id search (a spike's filter clears it)
    spend_dock: SpendDock  # marks the spikes; its range is part of a saved view
    utc_action: QAction  # View → UTC, part of a saved view
    spend_days: Callable[[], int]  # the spend chart's range now
    key_name: Callable[[str], str | None]  # a key's name, by id
    say: Callable[[str], None]  # a line in the status bar


class InsightMenu(QObject):
    """Insight views and saved views for one main window.

    `window` is only the parent of the actions and dialogs; the entries go into `menu`, the
    notifications through `notify`, and the page is read and set through `page`.
    """

    def __init__(self, session: Session, window, menu: QMenu,
                 notify: Callable[[str, str], None], page: Page):
        super().__init__(window)
        self.window = window
        self.menu = menu
        self.page = page
        self.dialog = None
        # Qt parent: this menu, under the window, whose close joins its background work
        self.watcher = InsightWatcher(session.cache_path, session.cache, notify, self)
        self.watcher.insightReady.connect(self._show)
        menu.addSeparator()
        self.alerts_action = self._add(self.tr("&Alerts…"), lambda: self.open("alerts"))
        self.keys_action = self._add(self.tr("Spend by &key…"), lambda: self.open("keys"))
        self.periods_action = self._add(self.tr("&Periods…"), lambda: self.open("periods"))
        menu.addSeparator()
        self.save_view_action = self._add(self.tr("Sa&ve view…"), self.ask_view_name)
        self.delete_menu = menu.addMenu(self.tr("&Delete saved view"))
        self.views_separator = menu.addSeparator()
        self.view_actions: dict[str, QAction] = {}
        self._rebuild_views()
        session.synced.connect(self._refresh)
        session.failed.connect(self._refresh)
        window.startupFinished.connect(self.watcher.refresh)

    def _refresh(self, *_args: object) -> None:
        self.watcher.refresh()

    def _add(self, text: str, slot) -> QAction:
        action = QAction(text, self.window)
        action.triggered.connect(lambda _c=False: slot())
        self.menu.addAction(action)
        return action

    def close(self) -> None:
        self.watcher.close()

    # -- insight views -----------------------------------------------------------------------
    def _show(self, ins) -> None:
        self.page.spend_dock.show_spikes(ins.spikes, ins.spike_name)
        count = len(ins.spikes)
        self.alerts_action.setText(self.tr("&Alerts ({0})…").format(count) if count
                                   else self.tr("&Alerts…"))
        if self.dialog is not None:
            self.dialog.show_insight(ins)

    def open(self, tab: str):
        """The insight window on `tab` ("alerts", "keys", "periods"), raised if open."""
        from .dialogs.insight_dialog import InsightDialog

        if self.dialog is None:
            self.dialog = InsightDialog(self.window)
            self.dialog.filterRequested.connect(self.filter_page)
            if self.watcher.insight is not None:
                self.dialog.show_insight(self.watcher.insight)
            elif not self.watcher.busy:
                self.watcher.refresh()
        self.dialog.show_tab(tab)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def filter_page(self, target: dict) -> None:
        """Filter the page as the insight window asked (see InsightDialog.filterRequested)."""
        bar = self.page.filter_bar
        field, value = target["field"], target.get("value")
        if target.get("span"):  # a spike: only its key or model, in its hours
            start, end = target["span"]
            values = dict.fromkeys(FIELDS)
            values[field] = value
            # the spike's filter replaces the page's: an earlier search or other filter
            # would leave "No generations match" under "Click a spike to see its generations"
            search = self.page.search
            replaced = bool(search.text().strip()) or any(
                bar.combos[f].currentData() not in (None, values[f]) for f in FIELDS)
            search.clear()
            bar.set_span(start, end, target.get("label", ""), **values)
            self._say_spike_shown(target, replaced)
            return
        if target.get("toggle") and bar.combos[field].currentData() == value:
            value = None  # a second click clears it, as for a model in Usage today
        bar.set_value(field, value)

    def _say_spike_shown(self, target: dict, replaced: bool) -> None:
        """In the status bar: which spike the page shows, and that it replaced the search."""
        field, value = target["field"], target.get("value")
        name = value or ""
        if field == "key_id":
            name = self.page.key_name(value) or name
        what = (self.tr("key “{0}”") if field == "key_id" else self.tr("model “{0}”")).format(name)
        text = self.tr("Showing the spike of {0}, {1}.").format(what, target.get("label", ""))
        if replaced:
            text += " " + self.tr("The search and the other filters were cleared.")
        self.page.say(text)

    # -- saved views -----------------------------------------------------------------------
    def current_view(self, name: str) -> dict:
        """The page's filters, dates and spend range, under `name`."""
        store = _Store()
        self.page.filter_bar.save_state(store, prefix="")
        return {"name": name, "filters": dict(store),
                "spend_days": int(self.page.spend_days()),
                "utc": bool(self.page.utc_action.isChecked())}

    def save_view(self, name: str) -> dict | None:
        """Save the page as `name` (replacing a view of that name); None for an empty name."""
        name = " ".join(name.split())[:MAX_NAME]
        if not name:
            return None
        view = self.current_view(name)
        views = [v for v in load_views() if v["name"] != name]
        views.append(view)
        stored.SAVED_VIEWS.set(json.dumps(views[-MAX_VIEWS:]))
        self._rebuild_views()
        return view

    def delete_view(self, name: str) -> None:
        stored.SAVED_VIEWS.set(json.dumps(
            [v for v in load_views() if v["name"] != name]))
        self._rebuild_views()

    def apply_view(self, name: str) -> bool:
        """Put the page back as saved under `name`."""
        view = next((v for v in load_views() if v["name"] == name), None)
        if view is None:
            return False
        page = self.page
        filters = {k: v for k, v in view["filters"].items() if isinstance(v, str)}
        if "utc" in view:
            page.utc_action.setChecked(bool(view["utc"]))
        bar = page.filter_bar
        bar.restore_state(_Store(filters), prefix="")  # the dates (quietly)
        # every combo (None: All) and no picked hours, in one change
        bar.set_span(None, None, "", **{f: filters.get(f) or None for f in FIELDS})
        from .docks.spend_dock import RANGES

        days = view.get("spend_days")
        if days in RANGES:
            page.spend_dock.range_combo.setCurrentIndex(RANGES.index(days))
        return True

    def ask_view_name(self):
        """View → Save view…: a name for the page as it is (not modal to the app)."""
        from PySide6.QtWidgets import QInputDialog

        dialog = QInputDialog(self.window)
        dialog.setObjectName("save_view_dialog")
        dialog.setWindowTitle(self.tr("Save view"))
        dialog.setLabelText(self.tr(
            "Name for the current filters, dates and spend range (a saved view of the same "
            "name is replaced):"))
        dialog.setTextValue(self._suggested_name())
        dialog.textValueSelected.connect(self.save_view)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _suggested_name(self) -> str:
        bar = self.page.filter_bar
        parts = [bar.combos[f].currentText() for f in FIELDS
                 if bar.combos[f].currentData() is not None]
        return ", ".join(parts) or self.tr("All generations")

    def _rebuild_views(self) -> None:
        menu = self.menu
        for action in self.view_actions.values():
            menu.removeAction(action)
            action.deleteLater()
        self.view_actions = {}
        self.delete_menu.clear()
        views = load_views()
        for view in views:
            name = view["name"]
            action = QAction(name.replace("&", "&&"), self.window)
            action.setToolTip(self.tr("Show the saved view “{0}”.").format(name))
            action.triggered.connect(lambda _c=False, n=name: self.apply_view(n))
            menu.addAction(action)
            self.view_actions[name] = action
            delete = self.delete_menu.addAction(name.replace("&", "&&"))
            delete.triggered.connect(lambda _c=False, n=name: self.delete_view(n))
        self.delete_menu.setEnabled(bool(views))
        self.views_separator.setVisible(bool(views))
