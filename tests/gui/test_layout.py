"""The window's layout as an operator resizes it (offscreen; tests/realwindow repeats the
resize round trip and the geometry under a real X server with a window manager)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from .test_main_window import make_window


def dock_rects(window) -> dict[str, tuple[int, int, int, int]]:
    return {d.objectName(): d.geometry().getRect() for d in window.docks if d.isVisible()}


def settle(qtbot, window) -> None:
    """Wait until the window has remembered its layout as it now is."""
    qtbot.waitUntil(lambda: not window.layout_settling(), timeout=5_000)


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
    qtbot.waitUntil(lambda: window.narrow)
    window.resize(1280, 820)
    qtbot.waitUntil(lambda: not window.narrow)
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
    qtbot.waitUntil(lambda: window.narrow)
    window.resize(1600, 900)

    def in_proportion():
        return not window.narrow and all(
            abs(d.width() / 1600 - share[d.objectName()]) < 0.02 for d in window.docks
        )

    qtbot.waitUntil(in_proportion, timeout=3_000)
    window.close()


def test_a_dock_hidden_while_narrow_stays_hidden_when_wide(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    settle(qtbot, window)
    window.resize(600, 900)
    qtbot.waitUntil(lambda: window.narrow)
    window.eco_dock.toggleViewAction().trigger()
    window.resize(1280, 820)
    qtbot.waitUntil(lambda: not window.narrow)
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
    qtbot.waitUntil(lambda: window.layout_checked)
    # the default layout instead (the offscreen screen is 800 px tall: the window is smaller)
    qtbot.waitUntil(lambda: abs(window.spend_dock.height() - default) <= 4)
    assert window.table.height() > 2 * window.table.verticalHeader().defaultSectionSize()
    assert QSettings().value("window/state") is None
    # the columns are kept (in the 784 px offscreen window the model column gives way to fit;
    # the operator's width is the one it returns to)
    assert window.column_fit.preferred[1] == 333, "the columns are kept"
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


def cut_at_900x700(window) -> list[str]:
    """What the top row's docks show cut, crushed or run together (empty when all is whole)."""
    problems = []
    usage = window.usage_dock
    table = usage.table
    header = table.horizontalHeader()
    if header.length() > table.viewport().width():
        problems.append(f"Usage today scrolls sideways ({header.length()} > "
                        f"{table.viewport().width()} px)")
    for column in range(1, table.columnCount()):
        if table.isColumnHidden(column):
            continue
        title = table.horizontalHeaderItem(column).text()
        need = max(table.sizeHintForColumn(column), header.sectionSizeHint(column))
        if header.sectionSize(column) < need:
            problems.append(f"Usage today's {title!r} column is cut")
    names = shown_names(table)
    if len(set(names)) != len(names) or any(n.strip("…") == "" for n in names):
        problems.append(f"Usage today's names: {names}")
    top = window.top_models_dock
    shown = [label.toPlainText() for label in top.name_labels]
    if len(set(shown)) != len(shown):
        problems.append(f"Top models' names: {shown}")
    for name, value in zip(top.name_labels, top.value_labels, strict=True):
        if name.sceneBoundingRect().right() > value.sceneBoundingRect().left() + 1:
            problems.append(f"Top models: {name.toPlainText()!r} runs into its value")
    eco = window.eco_dock
    scroll = eco.widget()
    if eco.body.width() > scroll.viewport().width():
        problems.append("the Eco panel scrolls sideways (its sentences cut at the right edge)")
    for label in (eco.actual_label, eco.baseline_label, eco.verdict_label, eco.confidence_label):
        if label.isVisible() and label.heightForWidth(label.width()) > label.height():
            problems.append(f"Eco: {label.text()[:30]!r} has lines cut off")
    links = [w for w in (eco.confidence_label, eco.caveats_toggle, eco.baseline_link)
             if w.isVisible()]
    for i, a in enumerate(links):
        if a is not eco.confidence_label and a.width() < a.sizeHint().width():
            problems.append(f"Eco: {a.text()!r} is cut")
        for b in links[i + 1:]:
            if a.geometry().intersects(b.geometry()):
                problems.append(f"Eco: {a.text()!r} runs into {b.text()!r}")
    return problems


def shown_names(table) -> list[str]:
    """The model names as Usage today's delegate draws them."""
    from PySide6.QtWidgets import QStyleOptionViewItem

    delegate = table.itemDelegateForColumn(0)
    names = []
    for row in range(table.rowCount()):
        index = table.model().index(row, 0)
        option = QStyleOptionViewItem()
        option.initFrom(table)
        option.rect = table.visualRect(index)
        delegate.initStyleOption(option, index)
        names.append(option.text)
    return names


def test_at_900x700_no_figure_or_name_is_cut(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    window.resize(900, 700)
    qtbot.waitUntil(lambda: window.width() == 900 and window.usage_dock.table.rowCount() > 3)
    qtbot.waitUntil(lambda: window.eco_dock.report is not None, timeout=30_000)
    qtbot.waitUntil(lambda: bool(window.top_models_dock.name_labels), timeout=10_000)
    def whole() -> None:
        assert cut_at_900x700(window) == []

    qtbot.waitUntil(whole, timeout=5_000)
    # the figures a narrow Usage today leaves out are in each row's tooltip
    usage = window.usage_dock.table
    assert usage.isColumnHidden(1), "at 900 px the requests give way to names and costs"
    assert " requests, " in usage.item(0, 0).toolTip() and " tokens, " in usage.item(0, 0).toolTip()
    # wide again: every column is back
    window.resize(1600, 900)
    qtbot.waitUntil(lambda: not any(usage.isColumnHidden(c) for c in range(4)))
    window.close()


def test_top_models_shorten_names_as_usage_today_does(qtbot, data_dir, demo_platform):
    from PySide6.QtGui import QFontMetrics

    from lowdash_desktop.ui.widgets.model_name_delegate import fit_model_name

    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    window.resize(900, 700)
    top = window.top_models_dock
    qtbot.waitUntil(lambda: window.width() == 900 and bool(top.name_labels), timeout=10_000)
    metrics = QFontMetrics(top.plot.font())
    room = metrics.horizontalAdvance("llama-3.1-8b-instruct")  # Top models' room at 900 px
    names = ["meta-llama/llama-3.1-8b-instruct", "meta-llama/llama-3.3-70b-instruct",
             "meta-llama/llama-3.2-3b-instruct", "meta-llama/llama-3.1-405b-instruct"]
    shown = [fit_model_name(n, metrics, room) for n in names]
    assert len(set(shown)) == 4 and not any(s.startswith("meta-llam") for s in shown), shown
    # in the dock: the vendor goes before anything else ('meta-llam…-instruct' four times)
    labels = [label.toPlainText() for label in top.name_labels]
    assert len(set(labels)) == len(labels), labels
    for label, model in zip(labels, top.models, strict=True):
        vendor, _slash, rest = model.model.partition("/")
        assert label in (model.model, rest) or not label.startswith(vendor[:4]), labels
    window.close()


def test_reset_layout_after_closing_docks_gives_each_its_default_room(
    qtbot, data_dir, demo_platform
):
    window = make_window(qtbot, data_dir, demo_platform)
    window.resize(900, 700)
    qtbot.waitUntil(lambda: window.width() == 900)
    settle(qtbot, window)
    window.reset_layout()
    qtbot.waitUntil(lambda: all(d.isVisible() for d in window.docks))
    default = dock_rects(window)
    for dock in (window.eco_dock, window.usage_dock):
        dock.close()  # the dock's own close button
    qtbot.waitUntil(lambda: not window.eco_dock.isVisible())
    window.reset_layout_action.trigger()
    qtbot.waitUntil(lambda: close_enough(dock_rects(window), default), timeout=3_000)
    window.close()


def test_a_size_saved_on_a_much_smaller_screen_is_not_restored(qtbot, data_dir, demo_platform):
    # a run at QT_SCALE_FACTOR=2 (an 800x500 logical screen) saved its small window; the next
    # normal start reopened it narrow with one and a half rows of history (independent check)
    from lowdash_desktop.session import settings as stored

    window = make_window(qtbot, data_dir, demo_platform)
    window.resize(640, 700)
    settle(qtbot, window)
    window.close()  # saves its geometry and the screen it was on
    avail = window.screen().availableGeometry()
    assert stored.WINDOW_SCREEN.get() == f"{avail.width()}x{avail.height()}"
    window = make_window(qtbot, data_dir, demo_platform)
    settle(qtbot, window)
    assert window.size().toTuple() == (640, 700), "same screen: the operator's size comes back"
    window.close()
    # as if saved on a screen half this one's size
    stored.WINDOW_SCREEN.set(f"{avail.width() // 2}x{avail.height() // 2}")
    window = make_window(qtbot, data_dir, demo_platform)
    settle(qtbot, window)
    assert window.width() > 700, window.size()  # the default size, fitted to this screen
    window.close()
