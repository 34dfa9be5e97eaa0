"""The dashboard part of the main window: dashboard docks, filter bar, detail windows, layout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import QDockWidget, QLineEdit, QMenu, QTableView, QVBoxLayout, QWidget

from ...session import settings as stored
from ..models.dashboard_model import DashboardModel
from ..widgets.filter_bar import FilterBar
from .spend_dock import RANGES, SpendDock
from .top_models_dock import TopModelsDock
from .usage_dock import UsageDock

if TYPE_CHECKING:
    from ...session.session import Session
    from ...store.aggregates import DashboardFigures
    from ..dialogs.transaction_detail import TransactionDetail
    from ..models.transaction_table_model import TransactionTableModel
    from ..widgets.column_fit import ColumnFit
    from .eco_dock import EcoDock

NARROW_WIDTH = 700
# the wide layout is remembered only at this width or more: nearer the narrow layout the
# docks are squeezed to their minimums, and such a layout stretched out again gave one dock
# all the width (the balance took 55% after 1280 -> 600 -> 1280 px)
REMEMBER_WIDTH = 900
# a short window or a small logical screen (a 1600x1000 screen at QT_SCALE_FACTOR=2 left the
# table 1.5 rows under two rows of docks): every dock shares one tabbed slot, the table the rest
SHORTER_HEIGHT = 500
LAYOUT_VERSION = 2  # 1 could hold a layout wrecked by such a round trip: discarded once


class DashboardMixin:
    """Mixed into MainWindow (before QMainWindow): builds and wires the dashboard pieces.

    What it needs from the window is declared here; MainWindow builds these before it calls
    `_init_dashboard` (the table and search in `_build_central`, the View menu in
    `_build_actions`).
    """

    session: Session  # the open account: its cache path, connection and cached key list
    table: QTableView  # the history table
    table_model: TransactionTableModel
    search: QLineEdit  # the generation-id search beside the dates
    view_menu: QMenu
    docks: list[QDockWidget]
    credits_dock: QDockWidget
    eco_dock: EcoDock
    _shut: bool  # the window has shut down (MainWindow.shutdown)

    _narrow = False
    _short = 0  # 0: room for the wide layout; 2: see SHORTER_HEIGHT
    _wide_state: QByteArray | None = None
    # each docked dock's share of the window's width and height when the wide layout was
    # remembered: a wide layout comes back in proportion at whatever width it returns to
    _wide_shares: dict[str, tuple[float, float]] | None = None
    _layout_checked = False
    # set by MainWindow part-way through its construction; resize and show events can come
    # before that, so each has its "not yet" value here
    _room_height: int | None = None  # the screen's room for the window (MainWindow.fit_to_screen)
    _remember_timer: QTimer | None = None  # made in _init_dashboard
    _default_widths: list[int] | None = None  # the table's column widths before any restore
    column_fit: ColumnFit | None = None
    _restored_layout = False  # a saved layout was restored (checked once shown)
    _first_load = False  # the docks say "Loading…" until the first sync ends

    # -- construction (called from MainWindow's builders) ---------------------------------
    def _build_filter_bar(self, parent: QWidget, layout: QVBoxLayout) -> None:
        self.filter_bar = FilterBar(parent)
        layout.addWidget(self.filter_bar)

    def _build_dashboard_docks(self) -> None:
        self.utc_action = QAction(self.tr("Use &UTC days"), self)
        self.utc_action.setCheckable(True)
        self.utc_action.setChecked(stored.DASHBOARD_UTC.get())
        self.dashboard = DashboardModel(self.session.cache_path, self)
        self.dashboard.utc = self.utc_action.isChecked()
        days = stored.SPEND_DAYS.get()
        self.dashboard.spend_days = days if days in RANGES else stored.SPEND_DAYS.default
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
        self.filter_bar.restore_state(stored.store())
        self.filter_bar.filterChanged.connect(lambda _f: self._apply_filters())
        self.filter_bar.cleared.connect(self.search.clear)
        self.search.textChanged.connect(lambda t: self.filter_bar.set_search_active(bool(t)))
        self.usage_dock.modelClicked.connect(self.toggle_model)
        self.top_models_dock.modelClicked.connect(self.toggle_model)
        self.spend_dock.rangeChanged.connect(self.dashboard.set_spend_days)
        self.dashboard.figuresReady.connect(self.show_figures)
        self.dashboard.choicesReady.connect(self._show_choices)
        self.table.activated.connect(self._open_index)
        for dock in self.docks:
            # an explicit minimum lets the row of docks shrink until the narrow layout takes
            # over; the balance keeps its own (its figure is never cut: "487.32 E")
            if dock is not self.credits_dock:
                dock.widget().setMinimumWidth(110)
            dock.visibilityChanged.connect(lambda _v: self._remember_soon())
            dock.topLevelChanged.connect(lambda _v: self._remember_soon())
            dock.dockLocationChanged.connect(lambda _a: self._remember_soon())
        self._remember_timer = QTimer(self, singleShot=True, interval=300)
        self._remember_timer.timeout.connect(self._remember_wide)
        self.installEventFilter(self)  # a dock separator dragged: remember the new sizes
        self.reset_layout_action = QAction(self.tr("&Reset layout"), self)
        self.reset_layout_action.triggered.connect(lambda _c=False: self.reset_layout())
        self.view_menu.addAction(self.reset_layout_action)
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
        # heights that leave the history table ten rows at 1280x820
        self.resizeDocks([row[0], self.spend_dock], [265, 160], Qt.Orientation.Vertical)
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

    def _arrange_short(self) -> None:
        """Short windows: the wide layout with docks sharing tabbed slots, the table the rest."""
        closed = [d for d in self.docks if d.isHidden() and d.isVisible() is False
                  and self._closed_by_operator(d)]
        self._arrange_wide()
        for dock in closed:  # a dock the operator closed stays closed
            dock.hide()
        docked = [d for d in self.docks if not d.isFloating() and not d.isHidden()]
        if docked:
            for dock in docked[1:]:
                self.tabifyDockWidget(docked[0], dock)
            docked[0].raise_()
        self._shrink_tabbed_slot()
        QTimer.singleShot(0, self, self._shrink_tabbed_slot)  # once laid out at this size

    def _shrink_tabbed_slot(self) -> None:
        """The one tabbed slot as short as its docks allow: the rest is the table's."""
        docked = [d for d in self.docks if not d.isFloating() and d.isVisibleTo(self)]
        if not self._short or not docked:
            return
        # sharing one slot, as short as the docks allow (Qt keeps it at their minimum)
        self.resizeDocks([docked[0]], [1], Qt.Orientation.Vertical)

    def _closed_by_operator(self, dock: QDockWidget) -> bool:
        """Hidden, and not only as a tab behind another dock."""
        return not dock.toggleViewAction().isChecked()

    @staticmethod
    def _short_level(height: int) -> int:
        return 2 if height < SHORTER_HEIGHT else 0

    def _arrange(self) -> None:
        """The layout for the window's size: short, narrow or (the remembered) wide one.

        Short wins over narrow: a narrow window's column of docks is taller than a short
        screen (at QT_SCALE_FACTOR=2 a 1600x1000 screen is 800x500, and a size saved at scale 1
        comes back narrow there), which pushed the table and the status bar off the screen."""
        if self._short:
            self._arrange_short()
        elif self._narrow:
            self._arrange_narrow()
        else:
            self._restore_wide()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        narrow = event.size().width() < NARROW_WIDTH
        short = self._short_level(event.size().height())
        if (self._room_height or SHORTER_HEIGHT) < SHORTER_HEIGHT:
            short = 2  # a small logical screen: one slot for the docks whatever the height
        if narrow == self._narrow and short == self._short:
            self._remember_soon()
            return
        if narrow != self._narrow:
            self.filter_bar.set_compact(narrow)
        self._narrow, self._short = narrow, short
        # by now the docks are already laid out at the new size: what is remembered is the
        # layout as it last settled while wide (_remember_wide), not as squeezed here
        timer = self._remember_timer
        if timer is not None:
            timer.stop()
        self._arrange()

    @property
    def narrow(self) -> bool:
        """The narrow layout is on (one column of docks, the charts tabbed)."""
        return self._narrow

    @property
    def layout_checked(self) -> bool:
        """The layout restored at start has been checked against the window's size."""
        return self._layout_checked

    def layout_settling(self) -> bool:
        """A dock was just moved or resized: the wide layout is remembered once it settles."""
        timer = self._remember_timer
        return timer is not None and timer.isActive()

    def _docked(self) -> list[QDockWidget]:
        return [d for d in self.docks if d.isVisibleTo(self) and not d.isFloating()]

    def _remember_soon(self) -> None:
        timer = self._remember_timer
        if timer is not None and not self._narrow and not self._short:
            timer.start()

    def _remember_wide(self) -> None:
        """Keep the wide layout as it is now (once settled, and wide enough to be itself)."""
        if (self._narrow or self._short or not self.isVisible()
                or self.width() < REMEMBER_WIDTH):
            return
        width, height = max(1, self.width()), max(1, self.height())
        self._wide_state = self.saveState(LAYOUT_VERSION)
        self._wide_shares = {
            d.objectName(): (d.width() / width, d.height() / height) for d in self._docked()
        }

    def _restore_wide(self) -> None:
        """Back from narrow: the remembered wide layout in proportion, or the default one."""
        shown = {d: d.isVisibleTo(self) for d in self.docks}
        if self._wide_state is None or not self.restoreState(self._wide_state, LAYOUT_VERSION):
            self._arrange_wide()
            return
        for dock in self.docks:  # a dock shown or hidden while narrow stays so
            dock.setVisible(shown[dock])
        # once the restored layout has been laid out at this width
        QTimer.singleShot(0, self, self._apply_wide_shares)

    def _apply_wide_shares(self) -> None:
        if self._narrow or self._short:
            return
        shares = self._wide_shares or {}
        docks = [d for d in self._docked() if d.objectName() in shares]
        if not docks:
            return
        widths = [round(shares[d.objectName()][0] * self.width()) for d in docks]
        heights = [round(shares[d.objectName()][1] * self.height()) for d in docks]
        self.resizeDocks(docks, widths, Qt.Orientation.Horizontal)
        self.resizeDocks(docks, heights, Qt.Orientation.Vertical)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if watched is self and event.type() == QEvent.Type.MouseButtonRelease:
            self._remember_soon()
        return super().eventFilter(watched, event)

    def reset_layout(self, columns: bool = True) -> None:
        """View -> Reset layout: every dock back in its default place, the table's columns too."""
        for dock in self.docks:
            dock.setFloating(False)
            # shown before they are arranged: a dock closed before the reset and shown after
            # the sizes were handed out came back squeezed beside the others (the Eco panel)
            dock.show()
        self._wide_state = self._wide_shares = None
        if self._narrow:
            self._arrange_narrow()
        elif self._short:
            self._arrange_short()
        else:
            self._arrange_wide()
        widths = self._default_widths
        if columns and widths is not None:
            header = self.table.horizontalHeader()
            for logical, width in enumerate(widths):
                header.moveSection(header.visualIndex(logical), logical)
                header.resizeSection(logical, width)
                header.showSection(logical)
            fit = self.column_fit
            if fit is not None:
                fit.set_preferred(widths)
        stored.WINDOW_STATE.remove()
        if columns:
            stored.TABLE_HEADER.remove()
        self._remember_soon()

    def layout_fits(self) -> bool:
        """False when a dock is squeezed below what its figures need, or the table all but gone.

        For a saved layout restored into a smaller window (another screen, a scale factor).
        """
        for dock in self._docked():
            body = dock.widget()
            if dock.width() < min(body.minimumSizeHint().width(), 0.6 * body.sizeHint().width()):
                return False
            if dock.height() < body.minimumSizeHint().height():
                return False
        rows = self.table.verticalHeader().defaultSectionSize()
        return self.table.height() >= 4 * rows

    def _check_restored_layout(self) -> None:
        """Once, after the first show: a saved layout that does not fit gives way to the default."""
        if self._layout_checked or self._shut:
            return
        self._layout_checked = True
        if (self._restored_layout and not self._short
                and not self.layout_fits()):
            self.reset_layout(columns=False)
        self._remember_wide()
        # the layout for this screen may allow a smaller window than the one restored (a size
        # saved at scale 1 comes back taller than an 800x500 screen at scale 2): fit it again,
        # and once more after the window manager has placed the smaller frame (openbox moved
        # its title bar above the screen's top edge)
        if self._short:
            self.fit_to_screen()
            QTimer.singleShot(250, self, self.fit_to_screen)

    # -- behaviour -------------------------------------------------------------------------
    def _apply_filters(self) -> None:
        flt = self.filter_bar.history_filter().with_(text=self.search.text().strip() or None)
        self.table_model.set_filter(flt)
        self.dashboard.set_scope(flt)
        self.usage_dock.set_active_model(flt.model)
        self.top_models_dock.set_active_model(flt.model)
        self.eco_dock.set_scope(flt)  # the eco panel follows the page (it says which slice)

    def toggle_model(self, model: str) -> None:
        """A click on a model filters the window to it; a second click clears it."""
        current = self.filter_bar.combos["model"].currentData()
        self.filter_bar.set_model(None if current == model else model)

    def _on_utc_toggled(self, utc: bool) -> None:
        self.filter_bar.set_utc(utc)
        self.dashboard.set_utc(utc)

    def _refresh_dashboard(self) -> None:
        self.dashboard.refresh()
        self.dashboard.refresh_choices()

    def show_figures(self, figures: DashboardFigures) -> None:
        if self._first_load:
            return  # an empty cache before its first sync: the docks say "Loading…"
        self.usage_dock.show_figures(figures)
        self.top_models_dock.show_figures(figures)
        self.spend_dock.show_figures(figures)

    def _show_choices(self, choices: dict[str, list[str]]) -> None:
        # the table's key names, read from the cached key list at the first paint and after
        # each sync (no api models needed: they load after the paint)
        labels = self.table_model.key_labels
        for field, values in choices.items():
            pairs = [(v, labels.choice(v) if field == "key_id" else v) for v in values]
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
            dialog = TransactionDetail(self.session, gen_id, self.session.connection, self)
            self.details[gen_id] = dialog
            dialog.destroyed.connect(lambda _o=None, g=gen_id: self.details.pop(g, None))
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    # -- persistence and shutdown -----------------------------------------------------------
    def _save_dashboard_state(self, settings: QSettings) -> None:
        if (self._narrow or self._short) and self._wide_state is not None:
            stored.WINDOW_STATE.set(self._wide_state, settings)
        elif self._short and not self._narrow:
            # never wide this run: the wide layout (with the docks shown or closed as they are
            # now) is what the next start restores, not the tabbed slots of a short window
            self._arrange_wide()
            stored.WINDOW_STATE.set(self.saveState(LAYOUT_VERSION), settings)
        stored.DASHBOARD_UTC.set(self.utc_action.isChecked(), settings)
        stored.SPEND_DAYS.set(self.dashboard.spend_days, settings)
        self.filter_bar.save_state(settings)

    def _shutdown_dashboard(self) -> None:
        self.dashboard.close()
        for dialog in list(self.details.values()):
            dialog.close()

