"""Dashboard docks against the demo platform's own data, click-to-filter, filters, persistence."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyleOptionViewItem

from lowdash_desktop import accounts
from lowdash_desktop.api.connection import Connection
from lowdash_desktop.app import open_session
from lowdash_desktop.ui.main_window import MainWindow
from lowdash_desktop.ui.models.transaction_table_model import COLUMNS, ID_ROLE
from lowdash_desktop.ui.widgets.model_name_delegate import text_room

SHOTS = Path("/tmp/shots")


def make_window(qtbot, data_dir, platform, width=1400, height=900):
    account = accounts.remember(data_dir, platform.base_url, "acc_demo", "ops@example.com")
    session = open_session(data_dir, Connection(platform.base_url, platform.api_key), account)
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.resize(width, height)
    window.show()
    return window


def synced_window(qtbot, data_dir, platform, **kw):
    window = make_window(qtbot, data_dir, platform, **kw)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as blocker:
        window.sync_now()
    assert blocker.args == [True]
    settle(qtbot, window)
    return window


def settle(qtbot, window):
    qtbot.waitUntil(lambda: not window.dashboard.pending, timeout=20_000)


def local_day(gen: dict) -> date:
    return datetime.fromisoformat(gen["created_at"]).astimezone().date()


def model_of(gen: dict) -> str:
    return gen.get("resolved_model") or gen["model"]


def col(key: str) -> int:
    return next(i for i, c in enumerate(COLUMNS) if c[0] == key)


def test_dock_figures_match_platform_data(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    gens = list(demo_platform.all_generations())
    today = datetime.now().astimezone().date()
    usage: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    top: dict[str, int] = defaultdict(int)
    spend: dict[date, Decimal] = defaultdict(Decimal)
    for g in gens:
        day = local_day(g)
        if day == today:
            usage[model_of(g)][0] += g["tokens"]["total"]
            usage[model_of(g)][1] += Decimal(g["cost"]["amount"])
        if day >= today - timedelta(days=29):
            top[model_of(g)] += g["tokens"]["total"]
            spend[day] += Decimal(g["cost"]["amount"])
    figures = window.dashboard.figures
    assert usage, "the demo always has generations in the last hour"
    assert {m.model: [m.tokens, m.cost] for m in figures.usage_today} == usage
    total_tokens = sum(v[0] for v in usage.values())
    assert f"{total_tokens:,} tokens" in window.usage_dock.totals.text()
    assert "local days" in window.usage_dock.day_label.text()
    assert window.usage_dock.table.rowCount() == len(usage)
    table = window.usage_dock.table
    shown_names = []
    for r in range(table.rowCount()):
        index = table.model().index(r, 0)
        option = QStyleOptionViewItem()
        option.initFrom(table)
        option.widget = table
        option.rect = table.visualRect(index)
        option.textElideMode = table.textElideMode()
        table.itemDelegateForIndex(index).initStyleOption(option, index)
        # what the style then draws in the cell, elided to its room if still too long
        shown_names.append(option.fontMetrics.elidedText(
            option.text, option.textElideMode, text_room(option)))
    assert len(set(shown_names)) == len(shown_names), f"models told apart: {shown_names}"
    ranked = sorted(top.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
    assert [(m.model, m.tokens) for m in window.top_models_dock.models] == ranked
    dock = window.top_models_dock
    first = dock.name_labels[0]
    assert first.toolTip().startswith(f"{ranked[0][0]}: ")  # the whole name, on hover
    shown_name = first.toPlainText()
    assert shown_name == ranked[0][0] or (
        "…" in shown_name and ranked[0][0].startswith(shown_name.split("…")[0])
    )
    def clear_of_values() -> bool:
        # a long name is shortened rather than run into the token count beside it
        return all(n.sceneBoundingRect().right() <= v.sceneBoundingRect().left() + 1
                   for n, v in zip(dock.name_labels, dock.value_labels, strict=True))

    # the chart lays itself out a few event-loop turns after it is built (the figures may
    # arrive first); then the names are shortened again for its width
    qtbot.waitUntil(clear_of_values, timeout=5_000)
    shown = window.spend_dock.spend
    assert len(shown.days) == 30 and shown.days[-1] == today
    for i, day in enumerate(shown.days):
        assert Decimal(shown.day_total_nanos(i)) / Decimal(10**9) == spend.get(day, 0)
    hover = window.spend_dock.hover_text(29)
    assert hover.startswith(today.isoformat()) and "local days" in hover
    window.close()


def test_usage_click_filters_and_chip_clears(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    gens = list(demo_platform.all_generations())
    table = window.usage_dock.table
    item = table.item(0, 0)
    model = window.usage_dock.model_at(0)
    with qtbot.waitSignal(window.table_model.countChanged):
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                         pos=table.visualItemRect(item).center())
    shown = window.table_model.rowCount()
    assert shown == sum(1 for g in gens if model_of(g) == model) > 0
    # a model used today may have fewer than 20 generations in the whole (time-relative) demo
    ids = {window.table_model.index(r, 0).data(ID_ROLE) for r in range(min(20, shown))}
    assert all(model_of(demo_platform.generation(i)) == model for i in ids)
    chip = window.filter_bar.chips["model"]
    assert chip.isVisible() and model in chip.label.text()
    settle(qtbot, window)
    assert set(window.spend_dock.spend.series) <= {model}, "charts follow the filter"
    with qtbot.waitSignal(window.table_model.countChanged):
        qtbot.mouseClick(chip.button, Qt.MouseButton.LeftButton)
    assert window.table_model.rowCount() == len(gens)
    assert "model" not in window.filter_bar.chips
    window.close()


def test_bar_click_filters_table(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    dock = window.top_models_dock
    view_box = dock.plot.getPlotItem().getViewBox()
    index = 1
    scene = view_box.mapViewToScene(dock.bar_center(index))
    pos = dock.plot.mapFromScene(scene)
    model = dock.models[index].model
    with qtbot.waitSignal(window.table_model.countChanged):
        qtbot.mouseClick(dock.plot.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(int(pos.x()), int(pos.y())))
    assert window.filter_bar.combos["model"].currentData() == model
    gens = list(demo_platform.all_generations())
    assert window.table_model.rowCount() == sum(1 for g in gens if model_of(g) == model)
    window.close()


def test_table_sort_and_filters(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    gens = list(demo_platform.all_generations())
    window.table.sortByColumn(col("cost"), Qt.SortOrder.DescendingOrder)
    top_ids = [window.table_model.index(r, 0).data(ID_ROLE) for r in range(5)]
    costs = sorted((Decimal(g["cost"]["amount"]) for g in gens), reverse=True)[:5]
    assert [Decimal(demo_platform.generation(i)["cost"]["amount"]) for i in top_ids] == costs
    provider = gens[0]["provider"]
    window.filter_bar.set_value("provider", provider)
    assert window.table_model.rowCount() == sum(1 for g in gens if g["provider"] == provider)
    window.filter_bar.set_value("provider", None)
    today = datetime.now().astimezone().date()
    window.filter_bar.set_dates(today - timedelta(days=6), today)
    week = sum(1 for g in gens if today - timedelta(days=6) <= local_day(g) <= today)
    assert window.table_model.rowCount() == week
    assert "dates" in window.filter_bar.chips
    window.filter_bar.clear()
    window.search.setText(gens[5]["id"][-6:])
    qtbot.waitUntil(lambda: window.table_model.rowCount() < len(gens))
    assert gens[5]["id"] in {
        window.table_model.index(r, 0).data(ID_ROLE) for r in range(window.table_model.rowCount())
    }
    window.close()


def test_layout_sort_and_day_mode_persist(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    header = window.table.horizontalHeader()
    header.resizeSection(col("model"), 301)
    header.moveSection(col("cost"), 0)
    window.table.sortByColumn(col("total_tokens"), Qt.SortOrder.AscendingOrder)
    window.usage_dock.hide()
    window.utc_action.setChecked(True)
    window.spend_dock.range_combo.setCurrentIndex(0)
    window.close()
    window = make_window(qtbot, data_dir, demo_platform)
    header = window.table.horizontalHeader()
    assert header.sectionSize(col("model")) == 301
    assert header.visualIndex(col("cost")) == 0
    assert window.table_model.sort_state == (col("total_tokens"), Qt.SortOrder.AscendingOrder)
    assert not window.usage_dock.isVisible() and window.top_models_dock.isVisible()
    assert window.utc_action.isChecked() and window.usage_dock.utc_check.isChecked()
    assert window.dashboard.spend_days == 7
    assert "UTC" in window.filter_bar.dates_label.text()
    from lowdash_desktop.ui.widgets import chart_style

    # the charts are built one per turn of the event loop: not left queued for the next test
    qtbot.waitUntil(lambda: not chart_style.charts_pending(), timeout=10_000)
    window.close()


def test_narrow_window_stacks_docks_and_screenshots(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(SHOTS / "main_wide.png"))
    window.resize(650, 1000)
    qtbot.waitUntil(lambda: window.narrow)
    qtbot.waitUntil(lambda: window.width() <= 700)
    lefts = {window.credits_dock.geometry().left(), window.usage_dock.geometry().left(),
             window.top_models_dock.geometry().left()}
    assert len(lefts) == 1, "one column"
    assert window.usage_dock.geometry().bottom() < window.centralWidget().geometry().top()
    window.grab().save(str(SHOTS / "main_narrow.png"))
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: not window.narrow)
    assert window.credits_dock.geometry().top() == window.usage_dock.geometry().top()
    window.close()


@pytest.mark.parametrize("utc", [True])
def test_utc_switch_relabels_figures(qtbot, data_dir, demo_platform, utc):
    window = synced_window(qtbot, data_dir, demo_platform)
    window.usage_dock.utc_check.setChecked(utc)
    settle(qtbot, window)
    assert window.dashboard.figures.query.utc is utc
    assert "UTC days" in window.usage_dock.day_label.text()
    assert "UTC days" in window.spend_dock.caption.text()
    assert "UTC days" in window.top_models_dock.caption.text()
    window.close()


def test_a_sync_that_brings_nothing_new_does_not_recompute_the_docks(
    qtbot, data_dir, demo_platform
):
    window = synced_window(qtbot, data_dir, demo_platform)
    qtbot.waitUntil(lambda: not window.eco_dock.busy(), timeout=20_000)
    reads = []
    for name, target in (("dashboard", window.dashboard), ("eco", window.eco_dock)):
        real = target.refresh
        target.refresh = lambda *a, _n=name, _r=real: (reads.append(_n), _r(*a))[1]
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as synced:
        window.sync_now()  # nothing new on the platform
    assert synced.args == [True] and "0 new or updated" in window.sync_label.text()
    assert reads == [], "no second read of the whole history"
    online = window.session.connection  # offline: a failed retry changes nothing either
    window.session.connection = dataclasses.replace(online, base_url="http://127.0.0.1:9/v1")
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as synced:
        window.sync_now()
    assert synced.args == [False] and window.banner.kind == "offline" and reads == []
    window.session.connection = online
    demo_platform.add_generations(5)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as synced:
        window.sync_now()
    assert synced.args == [True] and sorted(reads) == ["dashboard", "eco"]
    settle(qtbot, window)
    reads.clear()
    window.figures_day = (date(2000, 1, 1), date(2000, 1, 1))  # as if the night went by
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    assert sorted(reads) == ["dashboard", "eco"], "a new day moves the docks' windows"
    settle(qtbot, window)
    window.close()


def test_charts_waiting_for_pyqtgraph_are_built_then_drawn_one_piece_per_turn(qtbot):
    """Building a plot (~30 ms) and drawing it (~25 ms) never share one event-loop turn, and
    other events (input, painting, a timer here) get their turn between the pieces."""
    import pyqtgraph as pg
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QWidget

    from lowdash_desktop.ui.widgets import chart_style

    parent = QWidget()
    qtbot.addWidget(parent)
    order: list[str] = []

    def builder(name: str):
        return lambda owner: (order.append(f"build {name}"), pg.PlotWidget(owner))[1]

    slots = [chart_style.ChartSlot(parent, builder(n), 40) for n in "abc"]
    chart_style.begin_warm_up()
    assert not slots[0].ready(lambda: order.append("draw a"))
    assert not slots[2].ready(lambda: order.append("draw c"))
    assert chart_style.charts_pending()
    between: list[int] = []
    pending: list[bool] = []
    timer = QTimer()
    timer.timeout.connect(lambda: (between.append(len(order)),
                                   pending.append(chart_style.charts_pending())))
    timer.start(0)
    chart_style.warm_up_done()
    assert chart_style.charts_pending(), "queued pieces count as pending"
    qtbot.waitUntil(lambda: len(order) == 5, timeout=10_000)
    timer.stop()
    assert not chart_style.charts_pending(), "every piece has run"
    assert pending[0] is True
    assert sorted(order[:3]) == ["build a", "build b", "build c"]
    assert order[3:] == ["draw a", "draw c"]
    assert all(slot.has_plot() for slot in slots)
    assert {1, 2, 3, 4} <= set(between), "a timer ran between every two pieces"


def test_screenshot_grab_waits_for_the_layout_new_text_asked_for(qtbot):
    """A label given longer text has only asked for a new layout; the screenshot's grab must
    show it with all its lines, not cut to the old height under the next widget."""
    from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

    from lowdash_desktop.app import grab_laid_out

    panel = QWidget()
    qtbot.addWidget(panel)
    layout = QVBoxLayout(panel)
    label = QLabel("short", panel)
    label.setWordWrap(True)
    below = QLabel("below", panel)
    layout.addWidget(label)
    layout.addWidget(below)
    layout.addStretch(1)
    panel.resize(200, 300)
    panel.show()
    qtbot.waitExposed(panel)
    label.setText("a sentence long enough to wrap over several lines at this width " * 2)
    picture = grab_laid_out(panel)
    assert not picture.isNull()
    assert label.height() >= label.heightForWidth(label.width()) > below.height()
    assert label.geometry().bottom() < below.geometry().top()
