"""The window's layout as an operator resizes it (offscreen; tests/realwindow repeats the
resize round trip and the geometry under a real X server with a window manager)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from .test_main_window import make_window


def dock_rects(window) -> dict[str, tuple[int, int, int, int]]:
    return {d.objectName(): d.geometry().getRect() for d in window.docks if d.isVisible()}


def settle(qtbot, window) -> None:
    """Wait until the window has remembered its layout as it now is."""
    qtbot.waitUntil(lambda: not window._remember_timer.isActive(), timeout=5_000)


def close_enough(a, b, slack=4) -> bool:
    return a.keys() == b.keys() and all(
        abs(x - y) <= slack for k in a for x, y in zip(a[k], b[k], strict=True)
    )


def test_narrow_then_wide_again_gives_the_layout_back(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    window.resize(1280, 820)
    settle(qtbot, window)
    before = dock_rects(window)
    credits = window.credits_dock.width()
    window.resize(600, 900)
    qtbot.waitUntil(lambda: window._narrow)
    window.resize(1280, 820)
    qtbot.waitUntil(lambda: not window._narrow)
    assert window.credits_dock.width() == credits, "the balance does not take the others' room"
    assert close_enough(dock_rects(window), before), (dock_rects(window), before)
    # and what is saved is that layout: the next start opens with the same proportions (the
    # offscreen screen is 800 px wide: the saved geometry comes back narrower)
    shares = {d.objectName(): d.width() / window.width() for d in window.docks}
    window.close()
    window = make_window(qtbot, data_dir, demo_platform)
    settle(qtbot, window)
    for dock in window.docks:
        assert abs(dock.width() / window.width() - shares[dock.objectName()]) < 0.03
    window.close()


def test_wide_again_at_another_width_keeps_the_proportions(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    window.resize(1280, 820)
    settle(qtbot, window)
    share = {d.objectName(): d.width() / 1280 for d in window.docks}
    window.resize(600, 900)
    qtbot.waitUntil(lambda: window._narrow)
    window.resize(1600, 900)

    def in_proportion():
        return not window._narrow and all(
            abs(d.width() / 1600 - share[d.objectName()]) < 0.02 for d in window.docks
        )

    qtbot.waitUntil(in_proportion, timeout=3_000)
    window.close()


def test_a_dock_hidden_while_narrow_stays_hidden_when_wide(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    settle(qtbot, window)
    window.resize(600, 900)
    qtbot.waitUntil(lambda: window._narrow)
    window.eco_dock.toggleViewAction().trigger()
    window.resize(1280, 820)
    qtbot.waitUntil(lambda: not window._narrow)
    assert not window.eco_dock.isVisible()
    assert window.usage_dock.isVisible() and window.credits_dock.isVisible()
    window.close()


def test_view_reset_layout_puts_everything_back(qtbot, data_dir, demo_platform):
    from PySide6.QtCore import Qt

    window = make_window(qtbot, data_dir, demo_platform)
    window.resize(1280, 820)
    settle(qtbot, window)
    before = dock_rects(window)
    header = window.table.horizontalHeader()
    widths = [header.sectionSize(c) for c in range(header.count())]
    window.eco_dock.hide()
    window.credits_dock.setFloating(True)
    window.resizeDocks([window.spend_dock], [420], Qt.Orientation.Vertical)
    header.moveSection(3, 0)
    header.resizeSection(1, 400)
    action = window.reset_layout_action
    assert action in window.view_menu.actions() and action.text() == "&Reset layout"
    action.trigger()
    qtbot.waitUntil(lambda: close_enough(dock_rects(window), before))
    assert not window.credits_dock.isFloating() and window.eco_dock.isVisible()
    assert header.visualIndex(3) == 3
    assert [header.sectionSize(c) for c in range(header.count())] == widths
    window.close()


def test_a_saved_layout_that_no_longer_fits_is_discarded(qtbot, data_dir, demo_platform):
    from PySide6.QtCore import Qt

    window = make_window(qtbot, data_dir, demo_platform)
    window.resize(1280, 820)
    settle(qtbot, window)
    default = window.spend_dock.height()
    # a layout whose spend chart leaves the table no room (say, made on a taller screen)
    window.resizeDocks([window.spend_dock], [560], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: not window.layout_fits())
    window.table.horizontalHeader().resizeSection(1, 333)  # a column width chosen by hand
    window.close()
    assert QSettings().value("window/state") is not None
    window = make_window(qtbot, data_dir, demo_platform)
    qtbot.waitUntil(lambda: window._layout_checked)
    # the default layout instead (the offscreen screen is 800 px tall: the window is smaller)
    qtbot.waitUntil(lambda: abs(window.spend_dock.height() - default) <= 4)
    assert window.table.height() > 2 * window.table.verticalHeader().defaultSectionSize()
    assert QSettings().value("window/state") is None
    assert window.table.horizontalHeader().sectionSize(1) == 333, "the columns are kept"
    window.close()


def test_at_900x700_the_balance_is_not_cut(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    window.resize(900, 700)
    balance = window.credits_dock.balance
    assert balance.text().endswith("EUR")
    qtbot.waitUntil(lambda: window.width() == 900 and window.docks[1].width() < 300)
    qtbot.waitUntil(lambda: balance.width() >= balance.sizeHint().width(), timeout=3_000)
    window.close()


def test_a_new_window_fits_the_screen(qtbot, data_dir, demo_platform):
    # the offscreen screen is 800x800: 1280x820 would put the table and status bar off it
    window = make_window(qtbot, data_dir, demo_platform)
    avail = window.screen().availableGeometry()
    assert window.width() <= avail.width() and window.height() <= avail.height()
    assert avail.contains(window.geometry().topLeft())
    status = window.statusBar().mapTo(window, window.statusBar().rect().bottomRight())
    assert window.geometry().top() + status.y() <= avail.bottom(), "the status bar shows"
    window.close()


def test_from_after_to_is_explained_beside_the_dates_with_a_swap(qtbot, data_dir, demo_platform):
    from datetime import date

    window = make_window(qtbot, data_dir, demo_platform)
    bar = window.filter_bar
    assert not bar.dates_problem.isVisible()
    bar.set_dates(date(2026, 12, 2), date(2025, 12, 2))
    assert bar.dates_problem.isVisible() and bar.swap_button.isVisible()
    assert bar.range_problem() == "From is after To: no day can match."
    bar.swap_button.click()
    assert bar.from_date.date().toPython() == date(2025, 12, 2)
    assert bar.to_date.date().toPython() == date(2026, 12, 2)
    assert not bar.dates_problem.isVisible()
    window.close()


def test_clear_filters_also_clears_the_search(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    bar = window.filter_bar
    assert not bar.clear_button.isEnabled()
    window.search.setText("gen_nothing_like_this")
    assert bar.clear_button.isEnabled(), "a search alone is something to clear"
    bar.clear_button.click()
    assert window.search.text() == ""
    assert not bar.clear_button.isEnabled()
    window.close()


def test_model_names_stay_apart_in_a_narrow_column(qapp):
    from PySide6.QtGui import QFont, QFontMetrics

    from lowdash_desktop.ui.widgets.model_name_delegate import fit_model_name

    metrics = QFontMetrics(QFont())
    names = ["meta-llama/llama-3.1-8b-instruct", "meta-llama/llama-3.3-70b-instruct",
             "meta-llama/llama-3.2-3b-instruct", "meta-llama/llama-3.1-405b-instruct",
             "mistral/mistral-small-3", "mistral/ministral-3b"]
    width = metrics.horizontalAdvance("llama-3.1-405b") + 2  # Usage today's column at 1280
    shown = [fit_model_name(n, metrics, width) for n in names]
    assert len(set(shown)) == len(shown), shown
    assert shown[0] == "llama-3.1-8b" and shown[3] == "llama-3.1-405b", shown
    assert all(metrics.horizontalAdvance(s) <= width for s in shown)
