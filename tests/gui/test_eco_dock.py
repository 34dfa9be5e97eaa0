"""The Eco dock over a synced demo platform: figures, verdict both ways, confidence, baseline."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from lowdash_desktop import accounts
from lowdash_desktop.api.connection import Connection
from lowdash_desktop.app import open_session
from lowdash_desktop.eco import methodology as eco
from lowdash_desktop.eco.baseline_setting import OFFLINE
from lowdash_desktop.ui.main_window import MainWindow

BIGGER = "meta-llama/llama-3.1-405b-instruct"  # 405B dense, verified: above every demo model
# (Command R+, 104B, is not: the demo assistant's GPT-4o and Claude Sonnet 4 may be larger)
SMALLER = "microsoft/phi-4"  # 14.7B dense, verified


def make_window(qtbot, data_dir, platform, connection=None):
    account = accounts.remember(data_dir, platform.base_url, "acc_demo", "ops@example.com")
    connection = connection or Connection(platform.base_url, platform.api_key)
    window = MainWindow(open_session(data_dir, connection, account))
    qtbot.addWidget(window)
    window.show()
    return window


def has_data(report) -> bool:
    return report is not None and report.generations > 0


def synced_window(qtbot, data_dir, platform):
    window = make_window(qtbot, data_dir, platform)
    with qtbot.waitSignal(window.eco_dock.reportReady, timeout=60_000, check_params_cb=has_data):
        with qtbot.waitSignal(window.syncFinished, timeout=60_000):
            window.sync_now()
    return window


def reference(platform) -> tuple[dict, dict]:
    headers = {"Authorization": f"Bearer {platform.api_key}"}
    with httpx.Client(base_url=platform.base_url, headers=headers, timeout=10) as client:
        models = {m["id"]: m for m in client.get("/models").json()["data"]}
        return models, client.get("/eco/methodology").json()


def independent(cache_path: Path, report, platform, baseline: str) -> tuple[float, float]:
    """Actual = stored figures; baseline = per-row estimate() with the documented rule."""
    models, method = reference(platform)
    base = models[baseline]
    b_active = eco.parse_param_count(base["params_active_b"])
    b_total = eco.parse_param_count(base["params_total_b"])

    def mid(value):
        return sum(value) / 2 if isinstance(value, tuple) else value

    conn = sqlite3.connect(cache_path)
    rows = conn.execute(
        "SELECT resolved_model, provider, region, completion_tokens, latency_ms, energy_wh "
        "FROM generations WHERE created_at >= ? AND created_at < ?",
        (report.start_ms, report.end_ms),
    ).fetchall()
    conn.close()
    actual = baseline_wh = 0.0
    for model, provider, region, tokens, latency_ms, energy in rows:
        actual += energy or 0.0
        a_active = eco.parse_param_count(models[model]["params_active_b"])
        latency = latency_ms / 1000 * mid(b_active) / mid(a_active)
        est = eco.estimate(b_active, b_total, tokens, latency,
                           method["providers"][provider]["pue"], method["grid_intensity"][region])
        baseline_wh += est.energy_wh.value
    return actual, baseline_wh


def choose_baseline(qtbot, window, model: str):
    dialog = window.open_eco_baseline()
    assert dialog.select_model(model)
    with qtbot.waitSignal(window.eco_dock.reportReady, timeout=60_000,
                          check_params_cb=lambda r: r is not None and r.baseline_model == model):
        with qtbot.waitSignal(dialog.saved, timeout=30_000) as saved:
            dialog.save()
    return saved.args, dialog


def test_dock_figures_match_an_independent_computation(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    dock = window.eco_dock
    report = dock.report
    assert report.baseline_model == demo_platform.settings["eco_baseline_model"]
    actual, baseline = independent(window.session.cache_path, report, demo_platform,
                                   report.baseline_model)
    assert report.actual.energy_wh.value == pytest.approx(actual, rel=1e-9)
    assert report.baseline.energy_wh.value == pytest.approx(baseline, rel=0.01)
    assert eco.METHOD_VERSION in report.methodology_versions
    assert "Actual:" in dock.actual_label.text()
    from lowdash_desktop.ui import formatting

    assert formatting.energy(report.actual.energy_wh.value) in dock.actual_label.text()
    window.close()


def test_saved_and_not_saved_wording(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    dock = window.eco_dock
    assert choose_baseline(qtbot, window, BIGGER)[0][1] == "saved"
    assert demo_platform.settings["eco_baseline_model"] == BIGGER, "PATCH /settings was sent"
    report = dock.report
    _, baseline = independent(window.session.cache_path, report, demo_platform, BIGGER)
    assert report.baseline.energy_wh.value == pytest.approx(baseline, rel=0.01)
    assert report.saved
    assert dock.verdict_label.text().startswith("You saved")
    choose_baseline(qtbot, window, SMALLER)
    report = dock.report
    assert not report.saved
    text = dock.verdict_label.text()
    assert "saved" not in text.lower()
    assert "used more energy and more carbon than Phi-4 would have" in text
    assert "% more energy" in text and "% more carbon" in text
    window.close()


def test_reduced_confidence_and_caveats_toggle(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    dock = window.eco_dock
    assert dock.report.confidence == "reduced"  # the demo serves estimated-parameter models
    assert "Reduced confidence" in dock.confidence_label.text()
    assert not dock.caveats_visible()
    assert "Show" in dock.caveats_toggle.text()
    dock.caveats_toggle.click()
    assert dock.caveats_visible()
    assert "estimated" in dock.caveats_label.text()
    assert "Hide caveats" in dock.caveats_toggle.text()
    window.close()


def test_offline_baseline_choice_is_kept_locally(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    demo_platform.stop()
    (_model, outcome), dialog = choose_baseline(qtbot, window, SMALLER)
    assert outcome == OFFLINE
    assert "Offline" in dialog.status.text() and "kept on this computer" in dialog.status.text()
    dialog.close()
    assert any("chosen offline" in c for c in window.eco_dock.report.caveats)
    window.close()


def test_screenshot_of_the_dock(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    dock = window.eco_dock
    dock.caveats_toggle.click()
    dock.body.resize(620, 520)
    shots = Path("/tmp/shots")
    shots.mkdir(exist_ok=True)
    assert dock.body.grab().save(str(shots / "eco.png"))
    window.close()


def test_a_squeezed_eco_panel_wraps_its_sentences_and_scrolls_down(
    qtbot, data_dir, demo_platform
):
    from PySide6.QtCore import Qt

    window = synced_window(qtbot, data_dir, demo_platform)
    dock = window.eco_dock
    window.resize(1400, 700)
    others = [d for d in window.docks if d is not dock and d.isVisible()]
    # as a layout saved from a narrow window leaves it: every dock side by side, eco thinnest
    for other in others:
        window.splitDockWidget(dock, other, Qt.Orientation.Horizontal)
    window.resizeDocks([dock], [180], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: dock.width() < 220, timeout=5_000)
    scroll = dock.widget()
    # wrapped to the dock's width: nothing cut at the right edge, nothing to scroll sideways
    qtbot.waitUntil(lambda: dock.body.width() <= scroll.viewport().width())
    assert scroll.horizontalScrollBar().maximum() == 0
    shown = [w for w in (dock.actual_label, dock.baseline_label, dock.verdict_label,
                         dock.confidence_label, dock.chart_slot) if w.isVisible()]
    for upper, lower in zip(shown, shown[1:], strict=False):
        assert upper.geometry().bottom() < lower.geometry().top(), (upper, lower)
    for label in shown[:-1]:  # each wrapped sentence gets the height its lines need
        assert label.height() >= label.heightForWidth(label.width())
    assert scroll.verticalScrollBar().maximum() > 0, "the rest is a scroll away, down"
    # the links are whole and apart (one under the other when they do not fit side by side)
    links = [w for w in (dock.caveats_toggle, dock.baseline_link) if w.isVisible()]
    for link in links:
        assert link.width() >= link.sizeHint().width() and link.geometry().right() < (
            scroll.viewport().width()), link.text()
    if len(links) == 2:
        assert not links[0].geometry().intersects(links[1].geometry())
    window.close()


# -- the chart always shows the report the text shows ------------------------------------------
def _report(wh: float, base_wh: float | None, generations: int = 3000, tokens: int = 900_000,
            scope: dict | None = None):
    from datetime import date, timedelta

    from lowdash_desktop.eco.impact import EcoReport, Totals
    from lowdash_desktop.eco.methodology import Range

    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(30)]

    def totals(v):
        return Totals(Range(v, v * 0.8, v * 1.2), Range(v / 4, v / 5, v / 3))

    return EcoReport(
        days=30, start_ms=0, end_ms=30 * 86_400_000, baseline_model="big",
        baseline_name="Big 70B", actual=totals(wh),
        baseline=totals(base_wh) if base_wh is not None else None,
        saved=base_wh is not None and base_wh > wh, generations=generations, tokens=tokens,
        methodology_versions=["v"], confidence="normal", confidence_reasons=[], caveats=[],
        day_labels=days, actual_per_day_wh=[wh / 30] * 30,
        baseline_per_day_wh=[base_wh / 30] * 30 if base_wh is not None else None,
        scope=scope or {},
    )


def chart_series(dock) -> list[list[float]]:
    return [list(map(float, c.yData)) for c in dock.plot.getPlotItem().listDataItems()]


def chart_matches(dock) -> bool:
    report = dock.report
    want = [report.actual_per_day_wh]
    if report.baseline_per_day_wh is not None:
        want.append(report.baseline_per_day_wh)
    got = chart_series(dock)
    return len(got) == len(want) and all(
        g == pytest.approx(w) for g, w in zip(got, want, strict=True))


def test_a_draw_queued_while_the_chart_library_loads_never_paints_over_a_newer_one(qtbot):
    """The race behind "a flat Actual line at 0 beside 448 Wh": an early empty report's draw,
    put off while pyqtgraph loaded, ran after the real report had been drawn."""
    from lowdash_desktop.ui.docks.eco_dock import EcoDock
    from lowdash_desktop.ui.widgets import chart_style

    dock = EcoDock()
    qtbot.addWidget(dock)
    dock.show()
    empty, real = _report(0.0, None, 0, 0), _report(448.0, 510.0)
    chart_style.begin_warm_up()
    try:
        dock.show_report(empty)  # pyqtgraph still loading: the draw waits
    finally:
        chart_style.warm_up_done()  # queues the plot's construction and the waiting draw
    dock.show_report(real)  # the real figures arrive before the queued pieces ran
    qtbot.waitUntil(lambda: not chart_style.charts_pending(), timeout=10_000)
    assert "448 Wh" in dock.actual_label.text()
    assert chart_series(dock) == [pytest.approx(real.actual_per_day_wh),
                                  pytest.approx(real.baseline_per_day_wh)]
    assert dock.drawn_report is real


def test_non_finite_figures_never_reach_the_chart_range(qtbot):
    import math

    from lowdash_desktop.ui.docks.eco_dock import EcoDock

    dock = EcoDock()
    qtbot.addWidget(dock)
    report = _report(448.0, 510.0)
    report.actual_per_day_wh[3] = math.inf
    report.baseline_per_day_wh[4] = math.nan
    dock.show_report(report)  # "Cannot set range [0, inf]" before
    top = dock.plot.getPlotItem().getViewBox().viewRange()[1][1]
    assert math.isfinite(top) and top > 510.0 / 30


def test_dock_figures_follow_the_locale(qtbot):
    from PySide6.QtCore import QLocale

    from lowdash_desktop.ui.docks.eco_dock import EcoDock

    dock = EcoDock()
    qtbot.addWidget(dock)
    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    try:
        dock.show_report(_report(1234.5, 0.00712, generations=12_345, tokens=1_234_567))
        text = dock.actual_label.text()
        assert "1,23 kWh (988 Wh – 1,48 kWh)" in text  # decimal comma
        assert "12.345 generations, 1.234.567 completion tokens" in text  # group dots
        assert "0,00712 Wh" in dock.baseline_label.text()
        assert "more energy" in dock.verdict_label.text() and "%" in dock.verdict_label.text()
    finally:
        QLocale.setDefault(before)
    dock.show_report(_report(1234.5, 0.00712, generations=12_345, tokens=1_234_567))
    assert "12,345 generations" in dock.actual_label.text()


def test_the_eco_panel_follows_the_page_filter_and_says_so(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    dock = window.eco_dock
    qtbot.waitUntil(lambda: chart_matches(dock), timeout=10_000)
    whole = dock.report
    conn = sqlite3.connect(window.session.cache_path)
    model, count = conn.execute(
        "SELECT resolved_model, count(*) FROM generations WHERE created_at >= ? AND "
        "created_at < ? GROUP BY 1 ORDER BY 2 DESC LIMIT 1", (whole.start_ms, whole.end_ms),
    ).fetchone()
    conn.close()
    with qtbot.waitSignal(dock.reportReady, timeout=60_000,
                          check_params_cb=lambda r: r is not None and r.scope == {"model": model}):
        window.toggle_model(model)  # a click on the model in Usage today
    report = dock.report
    assert 0 < report.generations < whole.generations
    assert report.generations <= count
    assert model in dock.windowTitle() and model in dock.actual_label.text()
    assert report.actual.energy_wh.value < whole.actual.energy_wh.value
    assert chart_matches(dock), "the chart shows the slice the text shows"
    with qtbot.waitSignal(dock.reportReady, timeout=60_000,
                          check_params_cb=lambda r: r is not None and r.scope == {}):
        window.toggle_model(model)  # a second click clears the filter
    assert dock.report.generations == whole.generations
    assert dock.windowTitle() == "Eco impact (last 30 days)"
    assert chart_matches(dock)
    window.close()


def test_the_baseline_list_is_wide_enough_and_can_be_filtered(qtbot, data_dir, demo_platform):
    """Issue 19 item 11: it was 280 px wide with a horizontal scrollbar, and had no search."""
    window = synced_window(qtbot, data_dir, demo_platform)
    dialog = window.open_eco_baseline()
    qtbot.waitExposed(dialog)
    assert dialog.width() >= 520
    assert not dialog.list.horizontalScrollBar().isVisible(), "every entry fits"
    assert dialog.focusWidget() is dialog.filter, "type to find a model"
    total = dialog.list.count()
    qtbot.keyClicks(dialog.filter, "llama 70b")
    shown = [dialog.list.item(r).text() for r in range(total) if not dialog.list.item(r).isHidden()]
    assert shown and len(shown) < total
    assert all("llama" in t.lower() and "70b" in t.lower() for t in shown)
    dialog.filter.clear()
    assert all(not dialog.list.item(r).isHidden() for r in range(total))
    dialog.reject()
    window.close()
