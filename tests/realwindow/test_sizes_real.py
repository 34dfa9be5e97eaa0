"""At the default size under a real X server and window manager: what the operator reads."""

from __future__ import annotations

from tests.gui.test_layout import shown_names  # the names as Usage today draws them
from tests.gui.test_main_window import make_window
from tests.realwindow.test_real_window import wait_size


def test_at_1280x820_names_rows_and_columns_fit(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    wait_size(qtbot, window, 1280, 820)
    usage = window.usage_dock.table
    qtbot.waitUntil(lambda: usage.rowCount() > 3, timeout=10_000)
    qtbot.waitUntil(lambda: not window.layout_settling(), timeout=5_000)
    names = shown_names(usage)
    assert len(set(names)) == len(names), f"model names told apart: {names}"
    assert not any(n.endswith("truct") and "…" in n for n in names), names
    table = window.table
    rows = table.viewport().height() // table.verticalHeader().defaultSectionSize()
    assert rows >= 10, f"{rows} history rows show"
    header = table.horizontalHeader()
    try:
        qtbot.waitUntil(lambda: not table.horizontalScrollBar().isVisible()
                        and header.length() <= table.viewport().width(), timeout=3_000)
    except Exception:
        raise AssertionError(f"the default columns fit: {header.length()} "
                             f"{table.viewport().width()} "
                             f"{[header.sectionSize(c) for c in range(header.count())]}") from None
    window.close()


def history_and_legend_cut(window) -> list[str]:
    """The history table scrolling sideways or a number cut; the eco legend cut."""
    from lowdash_desktop.ui.models.transaction_table_model import COLUMNS

    problems = []
    table = window.table
    header = table.horizontalHeader()
    if table.horizontalScrollBar().isVisible() or header.length() > table.viewport().width():
        problems.append(f"the history scrolls sideways ({header.length()} > "
                        f"{table.viewport().width()} px)")
    for column, (key, _i, _t, number) in enumerate(COLUMNS):
        if number and header.sectionSize(column) < table.sizeHintForColumn(column):
            problems.append(f"{key} is cut mid-number")
    legend = window.eco_dock.legend
    if not legend.isVisible() or legend.heightForWidth(legend.width()) > legend.height():
        problems.append("the eco legend is cut")
    if legend.geometry().right() > window.eco_dock.body.width():
        problems.append("the eco legend runs past the panel")
    return problems


def test_at_900x700_nothing_is_cut(qtbot, data_dir, demo_platform):
    from tests.gui.test_layout import close_enough, cut_at_900x700, dock_rects

    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    wait_size(qtbot, window, 900, 700)
    qtbot.waitUntil(lambda: window.usage_dock.table.rowCount() > 3, timeout=10_000)
    qtbot.waitUntil(lambda: window.eco_dock.report is not None, timeout=30_000)
    qtbot.waitUntil(lambda: bool(window.top_models_dock.name_labels), timeout=10_000)

    def whole() -> None:
        assert cut_at_900x700(window) == []

    qtbot.waitUntil(whole, timeout=5_000)
    qtbot.waitUntil(lambda: window.eco_dock.drawn_report is not None, timeout=30_000)

    def history_whole() -> None:
        assert history_and_legend_cut(window) == []

    qtbot.waitUntil(history_whole, timeout=5_000)
    # View -> Reset layout after closing docks: each dock gets its default room back
    window.reset_layout()
    qtbot.waitUntil(lambda: all(d.isVisible() for d in window.docks))
    qtbot.waitUntil(whole, timeout=5_000)
    default = dock_rects(window)
    window.eco_dock.close()
    window.top_models_dock.close()
    qtbot.waitUntil(lambda: not window.eco_dock.isVisible())
    window.reset_layout_action.trigger()
    qtbot.waitUntil(lambda: close_enough(dock_rects(window), default), timeout=5_000)
    qtbot.waitUntil(whole, timeout=5_000)
    window.close()
