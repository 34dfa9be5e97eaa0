"""Low-balance and key-limit warnings: one native notification per condition until it clears."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject, Signal

from ..api.models import Credits, Key, Settings
from ..rules.alerts import keys_near_limit, low_balance
from ..session.answers import CachedAnswers
from . import formatting

log = logging.getLogger(__name__)

NOTIFIED_META = "notified_conditions"  # JSON list of condition ids already notified


def _tr(text: str) -> str:
    return QCoreApplication.translate("Notifications", text)


@dataclass(frozen=True)
class Alert:
    """One condition that deserves attention; `id` is stable while the condition lasts."""

    id: str
    title: str
    text: str


def find_alerts(credits: Credits | None, settings: Settings | None, keys: list[Key]) -> list[Alert]:
    """The conditions true now, from the latest credits, settings and keys, in words."""
    alerts: list[Alert] = []
    low = low_balance(credits, settings)
    if low is not None:
        alerts.append(
            Alert(
                low.id,
                _tr("Low balance"),
                _tr("The balance is {0}, under your threshold of {1}.").format(
                    formatting.money(low.balance, low.currency, 2),
                    formatting.money(low.threshold, low.currency, 2),
                ),
            )
        )
    for near in keys_near_limit(settings, keys):
        alerts.append(
            Alert(
                near.id,
                _tr("Key near its limit"),
                _tr(
                    "The key “{0}” has used {1:.0f}% of its credit limit (warning at {2}%)."
                ).format(near.key.name, near.used_percent, near.warning_percent),
            )
        )
    return alerts


class NotificationWatcher(QObject):
    """After each sync, compares the cached figures with the preferences and notifies once."""

    alertsChanged = Signal(list)  # the alerts active now (a list of Alert)

    def __init__(self, answers: CachedAnswers, notify: Callable[[str, str], None], parent=None):
        super().__init__(parent)
        self.answers = answers  # the Session, or CachedAnswers.of(cache)
        self.cache = answers.cache  # where the conditions already notified are noted
        self.notify = notify
        self.active: list[Alert] = []

    def _load(self) -> tuple[Credits | None, Settings | None, list[Key]]:
        answers = self.answers
        return answers.credits(), answers.settings(), answers.keys() or []

    def notified(self) -> set[str]:
        try:
            return set(json.loads(self.cache.get_meta(NOTIFIED_META) or "[]"))
        except ValueError:
            return set()

    def check(self) -> list[Alert]:
        """Notify the conditions that are new; forget those that cleared. Returns the new ones."""
        self.active = find_alerts(*self._load())
        before = self.notified()
        now = {a.id for a in self.active}
        fresh = [a for a in self.active if a.id not in before]
        if fresh:
            if len(fresh) == 1:
                self.notify(fresh[0].title, fresh[0].text)
            else:
                self.notify(
                    _tr("Lowdash: {0} warnings").format(len(fresh)),
                    "\n".join(a.text for a in fresh),
                )
        if now != before:
            try:
                self.cache.set_meta(NOTIFIED_META, json.dumps(sorted(now)))
            except Exception as exc:  # a busy cache must not lose the alert itself
                log.warning("cannot record notified alerts: %s", exc)
        self.alertsChanged.emit(list(self.active))
        return fresh
