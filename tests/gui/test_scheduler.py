"""The refresh scheduler, driven by a fake clock and direct ticks (no sleeps)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QTimer

from lowdash_desktop.session import scheduler as sched
from lowdash_desktop.session.scheduler import SyncScheduler
from lowdash_desktop.sync.engine import SyncResult


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


class FakeSync:
    """Stands in for SyncController.sync_now: refuses while one runs."""

    def __init__(self) -> None:
        self.started = 0
        self.running = False

    def __call__(self) -> bool:
        if self.running:
            return False
        self.running = True
        self.started += 1
        return True


@pytest.fixture
def rig(qtbot):
    clock = FakeClock()
    sync = FakeSync()
    scheduler = SyncScheduler(sync, clock=clock, interval_min=5)
    yield scheduler, clock, sync
    scheduler.stop()


def finish(scheduler: SyncScheduler, sync: FakeSync, error_kind: str | None = None) -> None:
    sync.running = False
    if error_kind is None:
        scheduler.sync_finished(SyncResult(complete=True))
    else:
        scheduler.sync_failed("failed", SyncResult(error_kind=error_kind))


def test_syncs_every_interval_and_never_twice(rig):
    scheduler, clock, sync = rig
    assert not scheduler.tick()
    clock.advance(4.9)
    assert not scheduler.tick() and sync.started == 0
    clock.advance(0.2)
    assert scheduler.tick() and sync.started == 1
    clock.advance(10)
    assert not scheduler.tick(), "never two syncs at once"
    finish(scheduler, sync)
    assert scheduler.seconds_until_next() == 300
    clock.advance(5)
    assert scheduler.tick() and sync.started == 2


def test_manual_sync_in_progress_is_not_doubled(rig):
    scheduler, clock, sync = rig
    sync()  # "Sync now" from the menu, before the scheduler's turn
    scheduler.sync_started()
    clock.advance(6)
    assert not scheduler.tick() and sync.started == 1
    finish(scheduler, sync)
    clock.advance(4)
    assert not scheduler.tick(), "the manual sync restarted the interval"
    clock.advance(1)
    assert scheduler.tick()


def test_offline_backs_off_exponentially_then_resumes(rig):
    scheduler, clock, sync = rig
    clock.advance(5)
    waits = []
    for _ in range(8):
        assert scheduler.tick()
        finish(scheduler, sync, "offline")
        assert scheduler.offline
        waits.append(scheduler.seconds_until_next())
        clock.now = scheduler.next_due - 1
        assert not scheduler.tick()
        clock.now += 1
    assert waits == [30, 60, 120, 240, 480, 960, 1800, 1800]
    assert "Offline" in scheduler.status_text()
    assert scheduler.tick()
    finish(scheduler, sync)
    assert not scheduler.offline and scheduler.failures == 0
    assert scheduler.seconds_until_next() == 300


def test_network_return_syncs_at_once(rig):
    scheduler, clock, sync = rig
    clock.advance(5)
    for _ in range(2):
        clock.now = scheduler.next_due
        assert scheduler.tick()
        finish(scheduler, sync, "offline")
    assert sync.started == 2 and scheduler.seconds_until_next() == 60
    scheduler.network_changed(True)
    assert sync.started == 3, "no waiting out the back-off once the network is back"
    assert scheduler.running and not scheduler.offline


def test_os_reports_offline_then_online(rig):
    scheduler, clock, sync = rig
    scheduler.network_changed(False)
    assert scheduler.offline and scheduler.seconds_until_next() == 30
    scheduler.network_changed(True)
    assert sync.started == 1


def test_platform_errors_back_off_no_faster_than_interval(rig):
    scheduler, clock, sync = rig
    clock.advance(5)
    waits = []
    for _ in range(7):
        assert scheduler.tick()
        finish(scheduler, sync, "error")
        waits.append(scheduler.seconds_until_next())
        clock.now = scheduler.next_due
    assert waits == [300, 300, 300, 300, 480, 960, 1800]
    assert not scheduler.offline


def test_pause_and_resume(rig):
    scheduler, clock, sync = rig
    scheduler.set_paused(True)
    clock.advance(60)
    assert not scheduler.tick() and sync.started == 0
    assert scheduler.status_text() == "Automatic refresh paused"
    scheduler.set_paused(False)
    assert scheduler.tick()


def test_off_and_interval_change(rig):
    scheduler, clock, sync = rig
    scheduler.set_interval(0)
    clock.advance(600)
    assert not scheduler.tick()
    assert scheduler.status_text() == "Automatic refresh off"
    scheduler.set_interval(15)
    clock.advance(14)
    assert not scheduler.tick()
    assert scheduler.status_text() == "Next sync in 1 min"
    clock.advance(1)
    assert scheduler.tick()
    with pytest.raises(ValueError):
        scheduler.set_interval(7)


def test_timer_drives_tick(qtbot):
    clock, sync, timer = FakeClock(), FakeSync(), QTimer()
    _scheduler = SyncScheduler(sync, clock=clock, interval_min=5, timer=timer)  # kept alive
    clock.advance(5)
    timer.timeout.emit()  # what the QTimer does every TICK_MS
    assert sync.started == 1


def test_stored_interval_default_and_setting(qtbot):
    assert sched.stored_interval() == 5
    QSettings().setValue(sched.SETTINGS_KEY, 15)
    assert sched.stored_interval() == 15
    QSettings().setValue(sched.SETTINGS_KEY, "nonsense")
    assert sched.stored_interval() == 5
    QSettings().remove(sched.SETTINGS_KEY)
