"""The main window: docks around the history table, sync state in the status bar."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .. import heap
from ..session import settings as stored
from ..session.session import Session
from . import background, formatting, keyboard, qt_types
from .background import BackgroundCall
from .docks.credits_dock import CreditsDock
from .docks.dashboard import LAYOUT_VERSION, DashboardMixin
from .docks.eco_dock import EcoDock
from .insight_menu import InsightMenu, Page
from .models.transaction_table_model import TransactionTableModel
from .tray import TrayIcon, close_to_tray
from .widgets import chart_style
from .widgets.banner import Banner
from .widgets.elided_label import ElidedLabel

if TYPE_CHECKING:
    from ..sync.engine import SyncProgress, SyncResult

log = logging.getLogger(__name__)

STATE_VERSION = LAYOUT_VERSION
# the balance is called current for this long after it was fetched (twice the default sync
# interval); older, or after a failed sync, it says "as of <time>"
BALANCE_FRESH_MS = 10 * 60_000
NOTICE_KINDS = ("offline", "error", "warning", "alert")  # banner messages that are problems
FRAME_ROOM = (16, 48)  # what a window manager's borders and title bar may take, in pixels


# Imported after the first paint, off the UI thread (charts, the account menu, the client).
WARM_UP_MODULES = (
    "pyqtgraph",
    "lowdash_desktop.ui.account_menu",
    "lowdash_desktop.api.client",
    "lowdash_desktop.sync.engine",
)


def _warm_up_imports() -> None:
    import importlib

    for name in WARM_UP_MODULES:
        importlib.import_module(name)


def _days_now() -> tuple[date, date]:
    """Today in the local zone and in UTC: the dock figures' windows end with one of them."""
    return date.today(), datetime.now(UTC).date()


def cancel_platform_calls() -> None:
    """Cut every platform request still in flight (a background write, a fetch) on quit."""
    import sys

    client = sys.modules.get("lowdash_desktop.api.client")  # never loaded: nothing in flight
    if client is not None:
        client.cancel_all()


class MainWindow(DashboardMixin, QMainWindow):
    """Lowdash's one main window."""

    syncFinished = Signal(bool)  # True when the sync completed (after the window's update)
    titleChanged = Signal(str)  # the window's title followed the account
    firstPainted = Signal()  # the first paint is done (or skipped: a start in the tray)
    startupFinished = Signal()  # every menu and watcher is in place
    indexesBuilt = Signal(list)  # names of query indexes a big old cache got in the background
    integrityChecked = Signal(str)  # a big cache's daily full check: the damage found, or ""
    storedKeyRead = Signal(bool)  # True: signed in with the keyring's key; False: none there

    def __init__(self, session: Session, parent=None, *, lazy: bool = False):
        super().__init__(parent)
        self._shut = False  # shutdown() ran: the cache is closed, late callbacks do nothing
        self._quitting = False  # Quit, not a close into the tray
        self.session = session
        self._keystore = None  # the key store the stored key was read from, for the menu
        # the days the docks' figures were read for: a sync on a later day recomputes them
        self.figures_day: tuple[date, date] | None = None
        self._work_conns: list = []  # connections of long cache work, interrupted on quit
        self.setObjectName("main_window")
        self.setWindowTitle(self.title())
        session.open()  # the reader connection, the sync thread and the schedule
        # the window hears of syncs from the session (as the menus, the tray and the watchers
        # do), never from its sync controller
        session.started.connect(self._on_sync_started)
        session.progress.connect(self._on_sync_progress)
        session.synced.connect(self._on_sync_finished)
        session.failed.connect(self._on_sync_failed)
        session.offline.connect(self._on_offline)
        session.changed.connect(self._on_answer_changed)
        session.accountChanged.connect(self._update_title)
        # lazy: the first paint comes first; work that competes with it (background queries,
        # the network watcher, big imports) starts right after it
        self._build_central()
        self._build_docks()
        self._build_actions()
        self._build_status_bar()
        self._restore_state()
        self._show_cached_state()
        if lazy:
            self.dashboard.hold()
        # an empty cache that a first sync is about to fill: the docks say so, not "0 tokens"
        self._first_load = self.cache.last_sync_ms is None and (
            (session.sync_on_open and session.connection is not None) or bool(session.keyring_url)
        ) and self.cache.generation_count() == 0
        if self._first_load:
            self._show_loading()
        self._init_dashboard()
        # Alerts, Spend by key, Periods and saved views, at the end of the View menu
        # (the tray is built later: its notifications are looked up when one is shown)
        page = Page(
            filter_bar=self.filter_bar,
            search=self.search,
            spend_dock=self.spend_dock,
            utc_action=self.utc_action,
            spend_days=lambda: self.dashboard.spend_days,
            key_name=lambda key_id: self.table_model.key_labels.name(key_id),
            say=self.sync_label.setText,
        )
        self.insight_menu = InsightMenu(
            session, self, self.view_menu, lambda title, text: self.tray.notify(title, text), page)
        self.session.add_watcher(self.insight_menu.watcher)
        self._init_keyboard(lazy)
        for note in session.notes:
            self.banner.show_message("info", note)
        self.tray = TrayIcon(session, self, quit_app=self.quit_app)
        if TrayIcon.available():
            self.tray.show()
        self._ago_timer = QTimer(self)
        self._ago_timer.timeout.connect(self._update_last_sync_label)
        self._ago_timer.timeout.connect(lambda: self._update_balance_age())
        self._ago_timer.timeout.connect(self.tray.refresh)
        self._ago_timer.start(30_000)
        session.start_schedule()
        # after the figures, the eco report, a sync or start-up: give freed memory back
        self._trim_timer = QTimer(self, singleShot=True, interval=1500)
        self._trim_timer.timeout.connect(heap.trim)
        for done in (
            self.dashboard.figuresReady,
            self.eco_dock.reportReady,
            self.session.synced,
            self.session.failed,
            self.startupFinished,
        ):
            done.connect(lambda *_a: self._shut or self._trim_timer.start())
        self._finish_pending = lazy
        if not lazy:
            self._start_background_work()
            self._finish_startup()

    def _start_background_work(self) -> None:
        """The stored key, figures for the docks and the tray, the network watcher, indexes."""
        self._read_stored_key()
        if self.session.sync_on_open and self.session.connection is not None:
            self.sync_now()  # its thread's imports would otherwise compete with the first paint
        self.figures_day = _days_now()
        if not self._first_load:
            self.eco_dock.refresh(self.session.cache_path)
        self.dashboard.release()
        self.tray.refresh()
        self.session.watch_network()
        self._build_missing_indexes()
        self._check_integrity()

    def _cache_work(self, work, done, what: str) -> None:
        """Run `work(conn)` on a cache connection of its own, off the UI thread.

        For work that reads or writes the whole cache for seconds: the connection is
        interrupted on quit, so the window never waits for it.
        """
        from ..store import db

        conn = db.connect(self.session.cache_path)
        self._work_conns.append(conn)

        def run():
            try:
                return work(conn)
            finally:
                conn.close()

        call = BackgroundCall(run, self)
        call.done.connect(done)
        call.error.connect(lambda exc: log.info("%s not finished now: %s", what, exc))
        call.start()

    def _build_missing_indexes(self) -> None:
        """A big cache from an older version gets its newer indexes off the UI thread."""
        from ..store import db

        if db.missing_indexes(self.cache.conn):
            self._cache_work(db.ensure_indexes, self._indexes_built, "query indexes")

    def _read_stored_key(self) -> None:
        """Sign in with the key the keyring holds for this account, read off the UI thread."""
        base_url = self.session.keyring_url
        if not base_url or self.session.connection is not None:
            return
        self.session.keyring_url = None
        self.sync_label.setText(self.tr("Reading the key from the system key store…"))

        def read():
            from ..secrets import KeyStore  # loads keyring and finds the OS store

            store = KeyStore()
            return store, store.get(base_url)

        call = BackgroundCall(read, self)
        call.done.connect(lambda result: self._stored_key_read(base_url, *result))
        call.error.connect(lambda exc: self._stored_key_read(base_url, None, None, exc))
        call.start()

    def _stored_key_read(self, base_url: str, store, key: str | None, error=None) -> None:
        if self._shut:
            return
        if error is not None:
            log.warning("key store not read: %s", type(error).__name__)
        if store is not None:
            self._keystore = store  # the account menu uses the store found here
            if getattr(self, "account_menu", None) is not None:
                self.account_menu.keystore = store
        if key and self.session.connection is None:
            from ..api.connection import Connection
            from .network import with_network_settings

            self.session.connection = with_network_settings(Connection(base_url, key))
            self.storedKeyRead.emit(True)
            self.sync_now()
            return
        self.sync_label.setText(self.tr("Not signed in: showing the cached history only."))
        self._end_first_load()
        self.storedKeyRead.emit(False)
        if self.session.connection is None:
            self._when_started(lambda: self.account_menu.sign_in())

    def _when_started(self, fn) -> None:
        """Call `fn` once the account menu exists (now, or when start-up finishes)."""
        if getattr(self, "account_menu", None) is not None:
            fn()
            return

        def once() -> None:
            self.startupFinished.disconnect(once)
            fn()

        self.startupFinished.connect(once)

    def _check_integrity(self) -> None:
        """A cache too big to check whole at open gets its daily full check off the UI thread."""
        from ..store import db
        from ..store.cache import now_ms

        path = self.session.cache_path
        if db.integrity_check_due(path, self.cache.conn, now_ms()):
            self._cache_work(
                lambda conn: db.integrity_check(path, conn, now_ms()) or "",
                self._integrity_checked,
                "integrity check",
            )

    def _integrity_checked(self, problem: str) -> None:
        if problem and not self._shut:
            self.banner.show_message("error", self.tr(
                "The local cache is damaged ({0}). Lowdash will move it aside and download a "
                "fresh copy when it next starts; your account on the platform is not affected."
            ).format(problem))
        self.integrityChecked.emit(problem)

    def _indexes_built(self, built: list[str]) -> None:
        if built and not self._shut:
            self.dashboard.refresh_choices()  # the filter lists read faster now
        self.indexesBuilt.emit(built)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if not self._layout_checked:
            QTimer.singleShot(0, self, self._check_restored_layout)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().paintEvent(event)
        if self._finish_pending:
            self._finish_pending = False
            # after this paint pass (the children paint after this call returns)
            QTimer.singleShot(0, self._after_first_paint)

    def start_deferred(self) -> None:
        """Start the after-paint work now: a window that starts in the tray never paints."""
        if self._finish_pending:
            self._finish_pending = False
            self._after_first_paint()

    def _after_first_paint(self) -> None:
        if self._shut:
            return
        self.firstPainted.emit()
        self.table.setStyleSheet(keyboard.TABLE_FOCUS_STYLE)
        self._start_background_work()
        # the big imports run on a worker thread; the UI thread keeps answering meanwhile.
        # First every Qt class they touch is created here, a slice per turn of the event loop:
        # PySide6 must not create classes on two threads at once (see qt_types)
        chart_style.begin_warm_up()
        self._qt_types = qt_types.Materializer(self)
        self._qt_types.finished.connect(self._start_warm_up)
        self._qt_types.start()

    def _start_warm_up(self) -> None:
        if self._shut:
            return
        self._warm_up = BackgroundCall(_warm_up_imports, self)
        self._warm_up.done.connect(lambda _r: self._finish_startup())
        self._warm_up.error.connect(lambda _e: self._finish_startup())
        self._warm_up.start()

    def _finish_startup(self) -> None:
        """The parts a first paint does not need (account menu and alerts, help menu)."""
        chart_style.warm_up_done()
        if self._shut:
            return
        from .account_menu import AccountMenu

        # keys, credits, routing, settings; sync alerts. The menu gets what it shows into
        # explicitly: the entries built before the first paint, the tray's notifications,
        # and the status line
        menu = AccountMenu(
            self.session, self, self._keystore,
            notify=self.tray.notify, menu=self.account_qmenu, entries=self.account_actions,
            say=self.sync_label.setText,
        )
        menu.runway.runwayReady.connect(self.credits_dock.show_runway)
        menu.runway.runwayReady.connect(self.tray.show_runway)
        menu.alertSettingsSaved.connect(self.insight_menu.watcher.refresh)
        self.account_menu = menu
        self.startupFinished.emit()

    def _update_title(self) -> None:
        title = self.title()
        if title != self.windowTitle():
            self.setWindowTitle(title)
            self.titleChanged.emit(title)

    def title(self) -> str:
        """'Lowdash — <account>' (or '— demo platform')."""
        base = "Lowdash"
        if self.session.demo:
            return f"{base} — {self.tr('demo platform')}"
        return f"{base} — {self.session.account_label}" if self.session.account_label else base

    # -- construction ---------------------------------------------------------------------
    def _build_central(self) -> None:
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        self._build_banner_bar()
        self.search = QLineEdit(central)
        self.search.setPlaceholderText(self.tr("Search generation id…"))
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName(self.tr("Search by generation id"))
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self._apply_filters)  # stopped at shutdown
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        clear_search = QAction(self.tr("Clear the search"), self.search)
        clear_search.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        clear_search.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        clear_search.triggered.connect(self.search.clear)
        self.search.addAction(clear_search)  # Escape in the field clears it, as in a browser
        self._build_filter_bar(central, layout)
        self.filter_bar.add_search(self.search)  # beside the dates: one row less above the table
        self.table_model = TransactionTableModel(
            self.cache.conn, self, count=self.session.take_count()
        )
        self._update_key_labels()
        self.table = QTableView(central)
        self.table.setObjectName("transactions")
        self.table.setAccessibleName(self.tr("Transactions"))
        self.table.setModel(self.table_model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(*self.table_model.sort_state)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        keyboard.tab_leaves(self.table, styled=False)  # its focus frame: after the first paint
        vheader = self.table.verticalHeader()
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(self.fontMetrics().height() + 8)
        vheader.hide()
        header = self.table.horizontalHeader()
        header.setSectionsMovable(True)
        header.setStretchLastSection(True)
        # the default columns fit a 1280 px window without scrolling sideways (Carbon was
        # beyond the edge): the time as wide as its text, no column narrower than its title
        metrics = header.fontMetrics()
        widths = (metrics.horizontalAdvance("2026-12-02 04:39:00") + 16, 210, 90, 80, 120, 85,
                  105, 85, 115, 110)
        for column, width in enumerate(widths):
            title = str(self.table_model.headerData(column, Qt.Orientation.Horizontal))
            header.resizeSection(column, max(width, metrics.horizontalAdvance(title) + 24))
        self._default_widths = [header.sectionSize(c) for c in range(header.count())]
        from .models.transaction_table_model import COLUMNS
        from .widgets.column_fit import ColumnFit

        # narrower than these (900x700): names give up room first, numbers are never cut
        self.column_fit = ColumnFit(self.table, [c[0] for c in COLUMNS],
                                    {"model", "provider", "region", "key_id"},
                                    self._default_widths)
        self._build_no_match(self.table)
        layout.addWidget(self.table, 1)
        self.setCentralWidget(central)

    def _build_banner_bar(self) -> None:
        """The offline and error banner across the top of the window, above the docks (it
        sat between the charts and the table): a fixed bar shown only while it has news."""
        from PySide6.QtWidgets import QToolBar

        bar = QToolBar(self.tr("Status"), self)
        bar.setObjectName("banner_bar")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.setAllowedAreas(Qt.ToolBarArea.TopToolBarArea)
        bar.toggleViewAction().setVisible(False)  # not a choice in the docks' context menu
        bar.setStyleSheet("QToolBar#banner_bar { border: none; padding: 2px 6px 0 6px; }")
        holder = QWidget(bar)
        holder.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        self.banner = Banner(holder)
        self.banner.actionClicked.connect(self.sync_now)
        self.banner.changed.connect(self._publish_notice)
        box.addWidget(self.banner)
        bar.addWidget(holder)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.banner_bar = bar
        self.banner.shownChanged.connect(bar.setVisible)
        bar.hide()

    def _publish_notice(self) -> None:
        """A problem on show in the banner is the session's notice (the tray repeats it)."""
        message = self.banner.message()
        problem = message is not None and message[0] in NOTICE_KINDS
        self.session.set_notice(message[1] if problem else None)

    def restoreState(self, state, version: int = 0) -> bool:  # noqa: N802 (Qt API)
        """A saved layout holds the banner bar as it was then: it follows the banner now."""
        restored = super().restoreState(state, version)
        bar = getattr(self, "banner_bar", None)
        if bar is not None:
            bar.setVisible(not self.banner.isHidden())
        return restored

    def _build_no_match(self, table: QTableView) -> None:
        """Over the empty table when the filters or the search match nothing, a way out."""
        from PySide6.QtWidgets import QPushButton

        self.no_match = QWidget(qt_types.viewport(table))
        self.no_match.setObjectName("no_match")
        box = QVBoxLayout(self.no_match)
        self.no_match_label = QLabel(self.tr("No generations match"), self.no_match)
        self.no_match_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_match_label.setAccessibleName(self.tr("No generations match the filters"))
        self.no_match_clear = QPushButton(self.tr("Clear filters"), self.no_match)
        self.no_match_clear.setAccessibleName(self.tr("Clear the filters and the search"))
        self.no_match_clear.clicked.connect(lambda _c=False: self.filter_bar.clear())
        box.addWidget(self.no_match_label)
        box.addWidget(self.no_match_clear, 0, Qt.AlignmentFlag.AlignHCenter)
        over = QVBoxLayout(qt_types.viewport(table))  # centred in whatever room the table has
        over.addWidget(self.no_match, 0, Qt.AlignmentFlag.AlignCenter)
        self.no_match.hide()

    def _build_docks(self) -> None:
        self.credits_dock = CreditsDock(self)
        self._build_dashboard_docks()
        self.eco_dock = EcoDock(self)
        self.eco_dock.set_key_labels(self.table_model.key_labels)
        self.eco_dock.baselineRequested.connect(self.open_eco_baseline)
        docks = [self.credits_dock, self.usage_dock, self.top_models_dock, self.eco_dock]
        self.docks = [*docks, self.spend_dock]
        self._arrange_wide()

    def _build_actions(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        self.sync_action = QAction(self.tr("&Sync now"), self)
        self.sync_action.setShortcut(QKeySequence("Ctrl+R"))
        # whatever has focus: a detail window, a dock, the search field (see keyboard.py)
        self.sync_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.sync_action.triggered.connect(self.sync_now)
        file_menu.addAction(self.sync_action)
        self.export_action = QAction(self.tr("&Export CSV…"), self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.export_action.triggered.connect(self.open_export_dialog)
        file_menu.addAction(self.export_action)
        self.invoices_action = QAction(self.tr("&Invoices…"), self)
        self.invoices_action.triggered.connect(self.open_invoices)
        file_menu.addAction(self.invoices_action)
        file_menu.addSeparator()
        self.preferences_action = QAction(self.tr("&Preferences…"), self)
        self.preferences_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.preferences_action.triggered.connect(self.open_preferences)
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        quit_action.triggered.connect(self.quit_app)
        file_menu.addAction(quit_action)
        self.view_menu = self.menuBar().addMenu(self.tr("&View"))
        for dock in self.docks:
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        find = QAction(self.tr("&Find generation id…"), self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda: (self.search.setFocus(), self.search.selectAll()))
        self.view_menu.addAction(find)
        history = QAction(self.tr("Go to the &history table"), self)
        history.setShortcut(QKeySequence("Ctrl+L"))
        history.triggered.connect(lambda: self.table.setFocus(Qt.FocusReason.ShortcutFocusReason))
        self.view_menu.addAction(history)
        self.find_action, self.history_action = find, history
        self.addAction(find)
        # every setting in one place: this computer's, the account's on the platform, the eco
        # baseline (they were in File, Account and here)
        self.settings_menu = settings_menu = self.menuBar().addMenu(self.tr("&Settings"))
        settings_menu.addAction(self.preferences_action)
        self.eco_baseline_action = QAction(self.tr("&Eco baseline…"), self)
        self.eco_baseline_action.triggered.connect(self.open_eco_baseline)
        self._build_account_entries()
        settings_menu.addAction(self.eco_baseline_action)
        self._build_help_menu()

    # the Account menu's entries: (name, text, AccountMenu's slot). The account menu itself
    # (dialogs, alerts) loads after the first paint; its entries are there from the start
    ACCOUNT_ENTRIES = (
        ("keys", QT_TRANSLATE_NOOP("AccountMenu", "&Keys…"), "open_keys"),
        ("credits", QT_TRANSLATE_NOOP("AccountMenu", "&Credits && receipts…"), "open_credits"),
        ("routing", QT_TRANSLATE_NOOP("AccountMenu", "Auto-&routing…"), "open_routing"),
        # in the Settings menu, beside Preferences and the eco baseline
        ("settings", QT_TRANSLATE_NOOP("AccountMenu", "&Account settings…"), "open_settings"),
        None,
        ("sign_in", QT_TRANSLATE_NOOP("AccountMenu", "Sign &in…"), "sign_in"),
        ("sign_out", QT_TRANSLATE_NOOP("AccountMenu", "Sign &out"), "ask_sign_out"),
    )

    def _build_account_entries(self) -> None:
        """Account menu entries at the first paint; a choice made before the account menu has
        loaded runs once it has (a few seconds at most)."""
        from PySide6.QtCore import QCoreApplication

        self.account_qmenu = self.menuBar().addMenu(self.tr("&Account"))
        self.account_actions: dict[str, QAction] = {}
        for entry in self.ACCOUNT_ENTRIES:
            if entry is None:
                self.account_qmenu.addSeparator()
                continue
            name, text, slot = entry
            menu = self.settings_menu if name == "settings" else self.account_qmenu
            action = menu.addAction(QCoreApplication.translate("AccountMenu", text))
            action.triggered.connect(
                lambda _c=False, s=slot: self._when_started(lambda: getattr(self.account_menu, s)())
            )
            self.account_actions[name] = action
        signed_in = self.session.connection is not None
        self.account_actions["sign_in"].setVisible(not signed_in)
        self.account_actions["sign_out"].setVisible(signed_in)

    def _init_keyboard(self, lazy: bool) -> None:
        """Shortcuts work whatever has focus; the history table, not the search, has it first."""
        fields = [self.search, self.filter_bar.from_date, self.filter_bar.to_date]
        keyboard.keep_shortcuts(
            fields,
            lambda: [a for a in self.findChildren(QAction) if not a.shortcut().isEmpty()],
            self,
        )
        self._order_focus()
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        if not lazy:  # no first paint to wait for
            self.table.setStyleSheet(keyboard.TABLE_FOCUS_STYLE)

    def _order_focus(self) -> None:
        """Tab follows what the eye reads: the eco panel's links before the spend chart's
        boxes below them, the filters row by row, then the search at the end of the dates row
        and Clear filters, then the table (the search came first, the period box before the
        eco links above it: the order the widgets were built in)."""
        bar = self.filter_bar
        chain = [self.eco_dock.caveats_toggle, self.eco_dock.baseline_link,
                 self.spend_dock.range_combo, self.spend_dock.mode_combo,
                 *bar.combos.values(), bar.from_check, bar.from_date, bar.to_check,
                 bar.to_date, bar.swap_button, self.search, bar.clear_button, self.table]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.sync_label = ElidedLabel(self)
        self.sync_label.setAccessibleName(self.tr("Sync state"))
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.count_label = QLabel(self)
        self.quarantine_label = QLabel(self)
        self.quarantine_label.setAccessibleName(self.tr("Malformed records set aside"))
        self.last_sync_label = QLabel(self)
        bar.addWidget(self.sync_label, 1)
        bar.addPermanentWidget(self.count_label)
        bar.addPermanentWidget(self.quarantine_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.last_sync_label)
        self.table_model.countChanged.connect(self._update_count)
        self._update_count(self.table_model.rowCount())
        self._update_quarantine()

    def _update_quarantine(self) -> None:
        """Show how many malformed records the sync has set aside (hidden when none)."""
        count = self.cache.unresolved_quarantine_count()
        self.quarantine_label.setText(self.tr("{0} malformed set aside").format(f"{count:,}"))
        self.quarantine_label.setToolTip(
            self.tr("Records the platform sent in a form Lowdash cannot read are kept aside "
                    "with the reason, and the rest of the history is stored. Counted here: "
                    "those whose readable copy has not arrived since ({0} set aside in all).")
            .format(f"{self.cache.quarantine_count():,}")
        )
        self.quarantine_label.setVisible(count > 0)

    # -- state -------------------------------------------------------------------------------
    def _show_cached_state(self) -> None:
        self.credits_dock.show_credits(self.session.credits_preview())
        self._update_balance_age()
        self._update_last_sync_label()
        error = self.cache.get_meta("last_sync_error")
        self.sync_label.setText(error or self.tr("Ready"))

    def _update_balance_age(self) -> None:
        """'as of 14:05' under the balance when it is the cached one and the last sync is not
        fresh (it failed, or none succeeded for BALANCE_FRESH_MS)."""
        from ..store.cache import now_ms

        fetched = self.session.fetched_at("credits")
        if fetched is None:
            self.credits_dock.show_as_of(None)
            return
        failed = bool(self.cache.get_meta("last_sync_error"))
        if not failed and now_ms() - fetched < BALANCE_FRESH_MS:
            self.credits_dock.show_as_of(None)
            return
        moment = datetime.fromtimestamp(fetched / 1000, UTC).astimezone()
        if moment.date() == datetime.now().astimezone().date():
            from PySide6.QtCore import QLocale, QTime

            when = QLocale().toString(QTime(moment.hour, moment.minute),
                                      QLocale.FormatType.ShortFormat)
        else:
            when = formatting.local_time(fetched)
        self.credits_dock.show_as_of(when, self.tr(
            "The balance from the local cache, fetched {0}: the last sync did not reach the "
            "platform.").format(formatting.local_time(fetched, with_zone=True)) if failed
            else self.tr("The balance from the local cache, fetched {0}.").format(
                formatting.local_time(fetched, with_zone=True)))

    def _update_key_labels(self) -> None:
        """Keys by name in the table, rebuilt only when the cached key list has changed."""
        from .key_labels import KeyLabels

        snap = self.session.key_list_before_paint()  # at the first paint too: no models yet
        current = self.table_model.key_labels
        if snap is not None and snap[1] == current.fetched_at:
            return
        self.table_model.set_key_labels(KeyLabels.from_snapshot(snap))
        if getattr(self, "eco_dock", None) is not None:
            self.eco_dock.set_key_labels(self.table_model.key_labels)

    def _update_count(self, count: int) -> None:
        unfiltered = not self.table_model.history_filter.where()[0]
        total = count if unfiltered else self.cache.generation_count()
        text = self.tr("{0} generations").format(formatting.count(count))
        if count != total:
            text = self.tr("{0} of {1} generations").format(
                formatting.count(count), formatting.count(total))
        self.count_label.setText(text)
        self.no_match.setVisible(count == 0 and not unfiltered)
        self.count_label.setToolTip(self.tr(
            "Generations in the local cache. A sync counts feed entries, which also carry "
            "updates to generations already received."))

    def _update_last_sync_label(self) -> None:
        self.last_sync_label.setText(
            self.tr("Last synced: {0}").format(formatting.ago(self.cache.last_sync_ms))
        )

    def open_export_dialog(self):
        """File → Export CSV…: the history under the table's current filters, or everything."""
        from .dialogs.export_dialog import ExportDialog

        if self._search_timer.isActive():  # Ctrl+E right after typing: the search counts
            self._search_timer.stop()
            self._apply_filters()
        dialog = ExportDialog(self.session, self.table_model.history_filter, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_invoices(self):
        """File → Invoices…: the cached invoices (works offline)."""
        from .dialogs.invoices_dialog import InvoicesDialog

        dialog = InvoicesDialog(self.session, self.session.connection, self,
                                is_offline=self.is_offline)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def is_offline(self) -> bool:
        """The platform could not be reached at the last sync (see Session.is_offline)."""
        return self.session.is_offline()

    # the account's cache, sync and schedule belong to its session
    @property
    def cache(self):
        return self.session.cache

    @property
    def sync(self):
        return self.session.sync

    @property
    def scheduler(self):
        return self.session.scheduler

    @property
    def shut_down(self) -> bool:
        """True once shutdown() ran (quit, another account opened, the window closed)."""
        return self._shut

    def raise_and_show(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    # -- sync ---------------------------------------------------------------------------
    def sync_now(self) -> bool:
        if self.session.connection is None:
            self.sync_label.setText(self.tr("Not signed in: showing the cached history only."))
            return False
        return self.session.sync_now()

    def _on_sync_started(self) -> None:
        if not self._first_load and self.cache.last_sync_ms is None and (
                self.cache.generation_count() == 0):
            self._first_load = True  # a first sync (after a sign-in): the docks say loading
            self._show_loading()
        self._generations_before = self.cache.generation_count()  # to tell new from updated
        self.sync_action.setEnabled(False)
        self.sync_label.setText(self.tr("Syncing…"))
        self.progress.setRange(0, 0)
        self.progress.show()

    def _on_sync_progress(self, progress: SyncProgress) -> None:
        if progress.fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(progress.fraction * 1000))
        if progress.phase == "generations":
            self.sync_label.setText(
                self.tr("Syncing… {0} feed entries received").format(
                    formatting.count(progress.received))
            )

    def _show_loading(self) -> None:
        loading = self.tr("Loading…")
        self.credits_dock.show_loading()
        self.usage_dock.show_loading()
        self.top_models_dock.caption.setText(loading)
        self.spend_dock.caption.setText(loading)
        self.eco_dock.show_loading(self.tr("Loading… the eco figures follow the first sync."))

    def _end_first_load(self) -> None:
        """The first sync has ended (or none will run): the docks show what the cache holds."""
        self.credits_dock.end_loading()
        if self._first_load:
            self._first_load = False
            self._refresh_figures()

    def _sync_done(self, result: SyncResult) -> None:
        first, self._first_load = self._first_load, False  # the docks said "Loading…"
        self.credits_dock.end_loading()
        self.sync_action.setEnabled(True)
        self.progress.hide()
        self._update_last_sync_label()
        self.credits_dock.show_credits(self.session.credits())
        self._update_balance_age()
        self._update_quarantine()
        # the docks and the eco panel read the whole window of history (seconds of background
        # work at a million rows): only again when the sync brought something, or a new day
        # moved their windows; an offline retry or a quiet account changes nothing
        if (first or result.changed or result.snapshots_changed
                or self.figures_day != _days_now()):
            self._refresh_figures()

    def _refresh_figures(self) -> None:
        self.figures_day = _days_now()
        self._refresh_dashboard()
        self.eco_dock.refresh(self.session.cache_path)

    def open_eco_baseline(self):
        """Settings → Eco baseline; the eco panel recomputes once a choice is saved."""
        from .dialogs.eco_baseline_dialog import EcoBaselineDialog

        dialog = EcoBaselineDialog(self.session, self.session.connection, self)
        dialog.saved.connect(lambda *_: self.eco_dock.refresh(self.session.cache_path))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _on_sync_finished(self, result: SyncResult) -> None:
        self._sync_done(result)
        self.table_model.refresh_after_sync(result.changed)
        if self.banner.kind in ("offline", "error"):
            self.banner.hide()
        stamp = datetime.now(UTC).astimezone().strftime("%H:%M")
        before = getattr(self, "_generations_before", None)
        new = None if before is None else self.cache.generation_count() - before
        self.sync_label.setText(self.tr("Synced at {0}: {1}.").format(
            stamp, formatting.sync_summary(result, new)))
        self.syncFinished.emit(True)

    def _on_sync_failed(self, message: str, result: SyncResult) -> None:
        self._sync_done(result)
        self.table_model.refresh_after_sync(result.changed)
        self.sync_label.setText(message)
        if result.error_kind == "offline":
            # the session's `offline` put the banner up when the platform went away; a
            # later offline retry puts it back if it was closed meanwhile
            if self.banner.kind != "offline" or self.banner.isHidden():
                self._show_offline_banner()
        elif result.error_kind == "auth":
            # retrying a refused key only fails again: the way out is another key
            self.banner.show_message(
                "error",
                message + " " + self.tr("Sign in with another key to sync again."),
                self.tr("Sign in with another key…"),
                self.sign_in_again,
            )
        elif result.error_kind == "tls":
            # a certificate that cannot be verified, or a CA bundle that is not one: retrying
            # fails the same way; the CA bundle is set in Preferences
            self.banner.show_message(
                "error",
                message,
                self.tr("Open Preferences…"),
                self.open_preferences,
            )
        elif result.error_kind == "cursor":
            # asking again from the refused position fails again: read the feed from its start
            self.banner.show_message(
                "error", message, self.tr("Resync from the start"), self.resync_from_start
            )
        elif result.error_kind != "cancelled":
            self.banner.show_message("error", message, self.tr("Retry"))
        self.syncFinished.emit(False)

    def _on_answer_changed(self, name: str) -> None:
        """A cached answer of the platform changed in a sync (before `synced` or `failed`)."""
        if name == "keys":
            self._update_key_labels()  # keys by name in the table and the filter

    def _on_offline(self, offline: bool) -> None:
        """The session found the platform unreachable (or reachable again)."""
        if offline:
            self._show_offline_banner()
        elif self.banner.kind == "offline":
            self.banner.hide()

    def _show_offline_banner(self) -> None:
        last = formatting.ago(self.cache.last_sync_ms)
        self.banner.show_message(
            "offline",
            self.tr(
                "Offline — the platform cannot be reached. Showing the cached history "
                "(last synced: {0})."
            ).format(last),
            self.tr("Retry"),
        )

    def resync_from_start(self) -> bool:
        """Read the platform's feed from its start; every cached row is kept."""
        return self.session.sync_now(full_resync=True)

    def sign_in_again(self):
        """The banner's way out of a refused key: the sign-in dialog (once the menu exists)."""
        self._when_started(lambda: self.account_menu.sign_in())

    # -- persistence ---------------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = stored.WINDOW_GEOMETRY.get()
        if geometry is not None and not self._saved_on_a_smaller_screen():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        state = stored.WINDOW_STATE.get()
        if state is not None:
            # checked once shown (_check_restored_layout): discarded if it no longer fits
            self._restored_layout = self.restoreState(state, STATE_VERSION)
        self.fit_to_screen()
        header = stored.TABLE_HEADER.get()
        if header is not None:
            self.table.horizontalHeader().restoreState(header)
            self.column_fit.restored()
            hdr = self.table.horizontalHeader()
            self.table_model.sort(hdr.sortIndicatorSection(), hdr.sortIndicatorOrder())

    def _saved_on_a_smaller_screen(self) -> bool:
        """The saved size was made for a much smaller (logical) screen: a run at
        QT_SCALE_FACTOR=2 saved 784x452, which came back at scale 1 as a narrow window with
        one and a half rows of history. Such a size is not the operator's choice here."""
        saved = stored.WINDOW_SCREEN.get()
        screen = self.screen()
        try:
            width, height = (int(n) for n in saved.split("x"))
        except (AttributeError, ValueError):
            return False  # saved before the screen was kept: trust it, fit_to_screen clamps it
        if screen is None:
            return False
        avail = screen.availableGeometry()
        return width < 0.8 * avail.width() or height < 0.8 * avail.height()

    def fit_to_screen(self) -> None:
        """The whole window on the screen it opens on: a scale factor or a smaller screen
        made 1280x820 (or a size saved elsewhere) bigger than the screen, the table and the
        status bar beyond its edge."""
        from PySide6.QtGui import QGuiApplication

        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        avail = screen.availableGeometry()
        # the frame is not known before the first show: room for borders and a title bar
        room_w, room_h = avail.width() - FRAME_ROOM[0], avail.height() - FRAME_ROOM[1]
        self._room_height = room_h
        # a small logical screen (scale 2 on 1600x1000: 800x500) is short whatever size was
        # saved, and short wins over narrow: the narrow column of docks is taller than it
        short = max(self._short_level(min(self.height(), room_h)), self._short_level(room_h))
        if short and short != self._short:
            # too short for the docks' rows: they share tabbed slots, the table keeps rows
            self._short = short
            self._arrange_short()
        width, height = min(self.width(), room_w), min(self.height(), room_h)
        if self._short_level(room_h):  # a screen this small: every pixel of it for the table
            width, height = room_w, room_h
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        x = min(max(self.x(), avail.left()), avail.right() + 1 - FRAME_ROOM[0] - width)
        y = min(max(self.y(), avail.top()), avail.bottom() + 1 - FRAME_ROOM[1] - height)
        if (x, y) != (self.x(), self.y()):
            self.move(max(x, avail.left()), max(y, avail.top()))

    def save_state(self) -> None:
        settings = stored.store()
        stored.WINDOW_GEOMETRY.set(self.saveGeometry(), settings)
        if self.screen() is not None:
            avail = self.screen().availableGeometry()
            stored.WINDOW_SCREEN.set(f"{avail.width()}x{avail.height()}", settings)
        stored.WINDOW_STATE.set(self.saveState(STATE_VERSION), settings)
        stored.TABLE_HEADER.set(self.column_fit.saved_state(), settings)
        self._save_dashboard_state(settings)

    def shutdown(self, quitting: bool = False) -> None:
        """Cancel work and close the cache; safe to call more than once.

        `quitting`: the app is ending, so every platform request in flight is cut too
        (closing one account's window leaves the others' requests alone)."""
        if self._shut:
            return
        self._shut = True
        from PySide6.QtWidgets import QDialog

        for dialog in self.findChildren(QDialog):  # an export in flight is cancelled and joined
            if dialog.isVisible():
                dialog.done(QDialog.DialogCode.Rejected)
        self._ago_timer.stop()
        self._trim_timer.stop()
        self._search_timer.stop()  # a search typed just before closing reads no closed cache
        self.eco_dock.stop()  # a refresh waiting for the one in flight never starts
        for conn in self._work_conns:
            try:
                conn.interrupt()  # an index build or a full check in flight stops at once
            except Exception:  # already closed: that work had finished
                pass
        self._shutdown_dashboard()
        self.insight_menu.close()
        self.tray.hide()
        self.session.close()  # the schedule, the sync thread, the cache
        if quitting or self._quitting:
            cancel_platform_calls()  # after the sync thread has ended: its client is whole
        # nothing this window started outlives it: its figures' queries are cut short
        from ..store import db

        if not background.finish(self, lambda: db.interrupt_all(of=self.session.cache_path)):
            log.warning("background work of the closed window still running")

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if not self._quitting and close_to_tray(self, self.tray):
            event.ignore()  # still running in the tray; Quit in its menu ends the app
            return
        self.save_state()
        self.shutdown()
        super().closeEvent(event)
        from PySide6.QtWidgets import QApplication

        if not QApplication.quitOnLastWindowClosed():  # the tray kept the app alive so far
            QApplication.quit()

    def quit_app(self) -> None:
        """Quit for real (File and tray menus), even when closing would keep it in the tray."""
        self._quitting = True
        self.close()
        cancel_platform_calls()

    # -- preferences and help (tray, scheduler, logs: issue 9) ------------------------------
    def open_preferences(self) -> None:
        from .dialogs.preferences_dialog import PreferencesDialog

        dialog = PreferencesDialog(self.session, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self.tray.refresh())
        dialog.open()

    def _build_help_menu(self) -> None:
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        self.open_logs_action = help_menu.addAction(self.tr("Open &log folder"))
        self.open_logs_action.triggered.connect(self.open_log_folder)
        self.copy_diagnostics_action = help_menu.addAction(self.tr("&Copy diagnostics"))
        self.copy_diagnostics_action.triggered.connect(self.copy_diagnostics)

    def open_log_folder(self) -> bool:
        """Help → Open log folder; when no file manager opens it, its path is shown to copy
        (the menu did nothing visible)."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        from ..paths import log_dir

        folder = str(log_dir())
        if QDesktopServices.openUrl(QUrl.fromLocalFile(folder)):
            return True
        from .dialogs.credits_dialog import CopyUrlDialog

        dialog = CopyUrlDialog(folder, "", self, title=self.tr("No file manager opened"),
                               text=self.tr("No file manager could be opened for the log "
                                            "folder. Its path, to copy:"))
        dialog.setObjectName("log_folder_dialog")
        dialog.url.setAccessibleName(self.tr("Log folder"))
        dialog.copy_button.setAccessibleName(self.tr("Copy the log folder's path"))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.log_folder_dialog = dialog
        return False

    def diagnostics_text(self) -> str:
        """Versions, OS, paths, network choices and last errors; never the key."""
        from .. import diagnostics
        from .network import configured

        details = [("Account", self.session.account_label or "-"), ("Demo", str(self.session.demo))]
        if self.session.connection is not None:
            details.append(("Platform", self.session.connection.base_url))
            details.append(("Network", configured(self.session.connection)[1].describe()))
        details.append(("Generations cached", str(self.cache.generation_count())))
        details.append(("Last sync", formatting.ago(self.cache.last_sync_ms)))
        details.append(("Last sync error", self.cache.get_meta("last_sync_error") or "none"))
        details.append(("Schedule", self.scheduler.status_text()))
        paths = [("Cache", str(self.session.cache_path)), ("Settings", stored.location())]
        return diagnostics.report(paths=paths, details=details)

    def copy_diagnostics(self) -> None:
        from PySide6.QtWidgets import QApplication

        QApplication.clipboard().setText(self.diagnostics_text())
        self.sync_label.setText(self.tr("Diagnostics copied to the clipboard."))
