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

BIGGER = "cohere/command-r-plus"  # 104B dense, verified
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
    assert report.baseline_model == demo_platform._settings["eco_baseline_model"]
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
    assert demo_platform._settings["eco_baseline_model"] == BIGGER, "PATCH /settings was sent"
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
    dock._toggle_caveats()
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
    dock._toggle_caveats()
    dock.body.resize(620, 520)
    shots = Path("/tmp/shots")
    shots.mkdir(exist_ok=True)
    assert dock.body.grab().save(str(shots / "eco.png"))
    window.close()


def test_a_squeezed_eco_panel_scrolls_instead_of_running_lines_over_each_other(
    qtbot, data_dir, demo_platform
):
    from PySide6.QtCore import Qt

    window = synced_window(qtbot, data_dir, demo_platform)
    dock = window.eco_dock
    window.resize(1000, 700)
    others = [d for d in window.docks if d is not dock and d.isVisible()]
    # as a layout saved from a narrow window leaves it: every dock side by side, eco thinnest
    for other in others:
        window.splitDockWidget(dock, other, Qt.Orientation.Horizontal)
    window.resizeDocks([dock], [120], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: dock.width() < 300, timeout=5_000)
    assert dock.body.width() >= 300, "the sentences keep a readable width"
    shown = [w for w in (dock.actual_label, dock.baseline_label, dock.verdict_label,
                         dock.chart_slot) if w.isVisible()]
    for upper, lower in zip(shown, shown[1:], strict=False):
        assert upper.geometry().bottom() < lower.geometry().top(), (upper, lower)
    for label in shown[:-1]:  # each wrapped sentence gets the height its lines need
        assert label.height() >= label.heightForWidth(label.width())
    assert dock.widget().horizontalScrollBar().maximum() > 0, "the rest is a scroll away"
    window.close()
