"""The dashboard part of the main window: dashboard docks, filter bar, detail windows, layout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import QDockWidget, QVBoxLayout, QWidget

from ...store.aggregates import DashboardFigures
from ..models.dashboard_model import DashboardModel
from ..widgets.filter_bar import FilterBar
from .spend_dock import RANGES, SpendDock
from .top_models_dock import TopModelsDock
from .usage_dock import UsageDock

if TYPE_CHECKING:
    from ..dialogs.transaction_detail import TransactionDetail

NARROW_WIDTH = 700


class DashboardMixin:
    """Mixed into MainWindow (before QMainWindow): builds and wires the dashboard pieces."""

    _narrow = False
    _wide_state: QByteArray | None = None

    # -- construction (called from MainWindow's builders) ---------------------------------
    def _build_filter_bar(self, parent: QWidget, layout: QVBoxLayout) -> None:
        self.filter_bar = FilterBar(parent)
        layout.addWidget(self.filter_bar)

    def _build_dashboard_docks(self) -> None:
        settings = QSettings()
        self.utc_action = QAction(self.tr("Use &UTC days"), self)
        self.utc_action.setCheckable(True)
        self.utc_action.setChecked(settings.value("dashboard/utc", False, type=bool))
        self.dashboard = DashboardModel(self.session.cache_path, self)
        self.dashboard.utc = self.utc_action.isChecked()
        days = settings.value("dashboard/spend_days", 30, type=int)
        self.dashboard.spend_days = days if days in RANGES else 30
        self.usage_dock = UsageDock(self.utc_action, self)
        self.top_models_dock = TopModelsDock(self)
        self.spend_dock = SpendDock(self)
        self.spend_dock.range_combo.setCurrentIndex(RANGES.index(self.dashboard.spend_days))
        self.details: dict[str, TransactionDetail] = {}

    def _init_dashboard(self) -> None:
        """Connect everything once the window is built; then compute the first figures."""
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.utc_action)
        self.utc_action.toggled.connect(self._on_utc_toggled)
        self.filter_bar.set_utc(self.utc_action.isChecked())
        self.filter_bar.restore_state(QSettings())
        self.filter_bar.filterChanged.connect(lambda _f: self._apply_filters())
        self.usage_dock.modelClicked.connect(self._toggle_model)
        self.top_models_dock.modelClicked.connect(self._toggle_model)
        self.spend_dock.rangeChanged.connect(self.dashboard.set_spend_days)
        self.dashboard.figuresReady.connect(self._show_figures)
        self.dashboard.choicesReady.connect(self._show_choices)
        self.table.activated.connect(self._open_index)
        for dock in self.docks:
            # an explicit minimum lets the row of docks shrink until the narrow layout takes over
            dock.widget().setMinimumWidth(110)
        self._apply_filters()
        self._refresh_dashboard()

    def _arrange_wide(self) -> None:
        """Default layout: the small docks in a row on top, spend over time below them."""
        area = Qt.DockWidgetArea.TopDockWidgetArea
        row = [d for d in self.docks if d is not self.spend_dock]
        shown = {d: d.isVisibleTo(self) or not self.isVisible() for d in self.docks}
        for dock in self.docks:
            self.removeDockWidget(dock)
        self.addDockWidget(area, row[0])
        self.splitDockWidget(row[0], self.spend_dock, Qt.Orientation.Vertical)
        for left, right in zip(row, row[1:], strict=False):
            self.splitDockWidget(left, right, Qt.Orientation.Horizontal)
        for dock in self.docks:
            dock.setVisible(shown[dock])
        self.resizeDocks([row[0], self.spend_dock], [300, 200], Qt.Orientation.Vertical)
        widths = {self.credits_dock: 220, self.usage_dock: 380, self.top_models_dock: 360,
                  self.eco_dock: 440}
        self.resizeDocks(row, [widths.get(d, 300) for d in row], Qt.Orientation.Horizontal)

    def _arrange_narrow(self) -> None:
        """Narrow windows: one column above the table; the charts share one tabbed slot."""
        area = Qt.DockWidgetArea.TopDockWidgetArea
        docked = [d for d in self.docks if not d.isFloating()]
        shown = {d: d.isVisibleTo(self) for d in docked}
        for dock in docked:
            self.removeDockWidget(dock)
        charts = [d for d in docked if d in (self.top_models_dock, self.spend_dock, self.eco_dock)]
        tabbed_on: QDockWidget | None = None
        for dock in docked:
            if dock in charts and tabbed_on is not None:
                self.tabifyDockWidget(tabbed_on, dock)
            else:
                self.addDockWidget(area, dock, Qt.Orientation.Vertical)
                if dock in charts:
                    tabbed_on = dock
            dock.setVisible(shown[dock])
        if charts:
            charts[0].raise_()
        column = [d for d in docked if d not in charts[1:]]
        heights = {self.credits_dock: 120, self.usage_dock: 190}
        self.resizeDocks(column, [heights.get(d, 300) for d in column], Qt.Orientation.Vertical)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        narrow = event.size().width() < NARROW_WIDTH
        if narrow == self._narrow:
            return
        self._narrow = narrow
        self.filter_bar.set_compact(narrow)
        if narrow:
            self._wide_state = self.saveState()
            self._arrange_narrow()
        elif self._wide_state is not None:
            self.restoreState(self._wide_state)
        else:
            self._arrange_wide()

    # -- behaviour -------------------------------------------------------------------------
    def _apply_filters(self) -> None:
        flt = self.filter_bar.history_filter().with_(text=self.search.text().strip() or None)
        self.table_model.set_filter(flt)
        self.dashboard.set_scope(flt)
        self.usage_dock.set_active_model(flt.model)
        self.top_models_dock.set_active_model(flt.model)

    def _toggle_model(self, model: str) -> None:
        """A click on a model filters the window to it; a second click clears it."""
        current = self.filter_bar.combos["model"].currentData()
        self.filter_bar.set_model(None if current == model else model)

    def _on_utc_toggled(self, utc: bool) -> None:
        self.filter_bar.set_utc(utc)
        self.dashboard.set_utc(utc)

    def _refresh_dashboard(self) -> None:
        self.dashboard.refresh()
        self.dashboard.refresh_choices()

    def _show_figures(self, figures: DashboardFigures) -> None:
        self.usage_dock.show_figures(figures)
        self.top_models_dock.show_figures(figures)
        self.spend_dock.show_figures(figures)

    def _show_choices(self, choices: dict[str, list[str]]) -> None:
        labels: dict[str, str] = {}
        snap = self.cache.snapshot("keys")
        for key in (snap[0] if snap and isinstance(snap[0], list) else []):
            if isinstance(key, dict) and key.get("id"):
                labels[key["id"]] = f"{key.get('name') or key['id']} ({key.get('prefix', '')})"
        for field, values in choices.items():
            pairs = [(v, labels.get(v, v) if field == "key_id" else v) for v in values]
            self.filter_bar.set_choices(field, pairs)

    def _open_index(self, index) -> None:
        gen_id = self.table_model.generation_id(index.row())
        if gen_id:
            self.open_detail(gen_id)

    def open_detail(self, gen_id: str) -> TransactionDetail:
        """A non-modal window for one generation (raised if it is already open)."""
        from ..dialogs.transaction_detail import TransactionDetail

        dialog = self.details.get(gen_id)
        if dialog is None:
            dialog = TransactionDetail(
                self.session.cache_path, gen_id, self.session.connection, self
            )
            self.details[gen_id] = dialog
            dialog.destroyed.connect(lambda _o=None, g=gen_id: self.details.pop(g, None))
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    # -- persistence and shutdown -----------------------------------------------------------
    def _save_dashboard_state(self, settings: QSettings) -> None:
        if self._narrow and self._wide_state is not None:
            settings.setValue("window/state", self._wide_state)
        settings.setValue("dashboard/utc", self.utc_action.isChecked())
        settings.setValue("dashboard/spend_days", self.dashboard.spend_days)
        self.filter_bar.save_state(settings)

    def _shutdown_dashboard(self) -> None:
        self.dashboard.close()
        for dialog in list(self.details.values()):
            dialog.close()

