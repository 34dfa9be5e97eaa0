"""View → Alerts, Spend by key, Periods: the insight figures (insight.report) in one window.

Every figure is computed off the UI thread by the InsightWatcher; this window only shows the
latest. A click on a spike filters the page to its key or model and its hours; on a key, to
that key (a second click clears it, as a model in Usage today does); on a mover, to that model,
provider or key.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...store.rows import nanos_to_money
from .. import formatting
from ..insight_watcher import hours_text
from ..widgets.list_table import list_table

TABS = ("alerts", "keys", "periods")
FIELD_OF = {"model": "model", "provider": "provider", "key": "key_id"}
FILTER_ROLE = Qt.ItemDataRole.UserRole + 1


class InsightDialog(QDialog):
    """Three tabs over the latest insight; emits what the page should be filtered to."""

    # {"field": "key_id"|"model"|"provider", "value": str | None, "span": (start, end) | None,
    #  "label": chip text, "toggle": a second click clears}
    filterRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("insight_dialog")
        self.setWindowTitle(self.tr("Insight"))
        self.setWindowFlag(Qt.WindowType.Window)
        self.insight = None
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName(self.tr("Insight views"))
        layout.addWidget(self.tabs)
        self.tabs.addTab(self._alerts_tab(), self.tr("Alerts"))
        self.tabs.addTab(self._keys_tab(), self.tr("Spend by key"))
        self.tabs.addTab(self._periods_tab(), self.tr("Periods"))
        for table in (self.alerts, self.keys, self.movers):
            table.cellClicked.connect(lambda row, _c, t=table: self._clicked(t, row))
            # Enter (or a double click, after its click): filters, never clears
            table.cellActivated.connect(lambda row, _c, t=table: self._clicked(t, row, False))
        self.resize(780, 420)

    # -- construction ------------------------------------------------------------------------
    def _note(self, parent: QWidget, name: str) -> QLabel:
        label = QLabel(self.tr("Computing…"), parent)
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _alerts_tab(self) -> QWidget:
        page = QWidget(self)
        box = QVBoxLayout(page)
        self.alerts_note = self._note(page, "alerts_note")
        self.alerts = list_table(page, [self.tr("Scope"), self.tr("Key or model"), self.tr("When"),
                                        self.tr("Spend"), self.tr("Expected")],
                                 self.tr("Spend spikes"))
        self.alerts.setObjectName("alerts_table")
        box.addWidget(self.alerts_note)
        box.addWidget(self.alerts, 1)
        return page

    def _keys_tab(self) -> QWidget:
        page = QWidget(self)
        box = QVBoxLayout(page)
        self.keys_note = self._note(page, "keys_note")
        self.keys = list_table(page, [self.tr("Key"), self.tr("Spend"), self.tr("Share"),
                                      self.tr("Tokens"), self.tr("Generations")],
                               self.tr("Spend by key"))
        self.keys.setObjectName("keys_table")
        box.addWidget(self.keys_note)
        box.addWidget(self.keys, 1)
        return page

    def _periods_tab(self) -> QWidget:
        page = QWidget(self)
        box = QVBoxLayout(page)
        row = QHBoxLayout()
        self.period_combo = QComboBox(page)
        self.period_combo.setAccessibleName(self.tr("Period"))
        self.period_combo.addItem(self.tr("Last 7 days against the 7 before"), 7)
        self.period_combo.addItem(self.tr("Last 30 days against the 30 before"), 30)
        self.period_combo.currentIndexChanged.connect(lambda _i: self._show_period())
        row.addWidget(self.period_combo)
        row.addStretch(1)
        box.addLayout(row)
        self.period_note = self._note(page, "period_note")
        self.movers = list_table(page, [self.tr("Change"), self.tr("Percent"), self.tr("Of"),
                                        self.tr("Name"), self.tr("Before"), self.tr("Now")],
                                 self.tr("Largest movers"))
        self.movers.setObjectName("movers_table")
        box.addWidget(self.period_note)
        box.addWidget(self.movers, 1)
        return page

    # -- showing ---------------------------------------------------------------------------
    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(TABS.index(name))

    def _money(self, nanos: int | float) -> str:
        cur = self.insight.currency if self.insight is not None else ""
        return formatting.money(nanos_to_money(round(nanos)), cur)

    def _signed_money(self, nanos: int) -> str:
        return ("+" if nanos > 0 else "") + self._money(nanos)

    def _signed_percent(self, value: float | None) -> str:
        if value is None:
            return self.tr("new")
        sign = "+" if value > 0 else "−" if value < 0 else ""
        return sign + formatting.percent(abs(value))

    @staticmethod
    def _fill(table: QTableWidget, rows: list[tuple[list[str], dict]], numeric: set[int]) -> None:
        table.setRowCount(len(rows))
        for r, (cells, target) in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in numeric:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                item.setData(FILTER_ROLE, target)
                table.setItem(r, c, item)

    def show_insight(self, ins) -> None:
        """Show the latest insight.report.Insight."""
        self.insight = ins
        self._show_alerts()
        self._show_keys()
        self._show_period()

    def _show_alerts(self) -> None:
        ins = self.insight
        rows = []
        for s in ins.spikes:
            name = ins.spike_name(s)
            when = hours_text(s.start_ms, s.end_ms)
            field = "key_id" if s.scope == "key" else "model"
            target = {"field": field, "value": s.id, "span": (s.start_ms, s.end_ms),
                      "label": when, "toggle": False}
            scope = self.tr("Key") if s.scope == "key" else self.tr("Model")
            shown = hours_text(s.start_ms, s.end_ms, with_zone=True)
            rows.append(([scope, name, shown, self._money(s.spend), self._money(s.expected)],
                         target))
        self._fill(self.alerts, rows, {3, 4})
        minimum = self._money(ins.rule.min_amount)
        if rows:
            head = self.tr("{0} spend spikes in the last {1} days.").format(
                formatting.count(len(rows)), formatting.count(ins.days))
        else:
            head = self.tr("No spend spikes in the last {0} days.").format(
                formatting.count(ins.days))
        self.alerts_note.setText(head + " " + self.tr(
            "A spike is an hour whose spend, per key or per model, was at least {0} (Settings), "
            "far above the same key's or model's hours of the 14 days before it. Expected is "
            "what those hours usually spend. Click a spike to see its generations."
        ).format(minimum))

    def _show_keys(self) -> None:
        ins = self.insight
        rows = []
        for k in ins.keys:
            if k.key_id is None:
                name = self.tr("(no key)")
            elif k.name is None:
                name = self.tr("{0} (not in the key list: revoked?)").format(k.key_id)
            else:
                name = k.name
            target = {"field": "key_id", "value": k.key_id, "span": None, "label": "",
                      "toggle": True}
            rows.append(([name, self._money(k.spend), formatting.percent(k.share * 100),
                          formatting.tokens(k.tokens), formatting.count(k.generations)],
                         target if k.key_id else {}))
        self._fill(self.keys, rows, {1, 2, 3, 4})
        total = sum(k.spend for k in ins.keys)
        self.keys_note.setText(self.tr(
            "Spend of each key over the last {0} days: {1} in all. Click a key to filter the "
            "page to it; click it again to clear."
        ).format(formatting.count(ins.days), self._money(total)) if ins.keys else self.tr(
            "No generations in the last {0} days.").format(formatting.count(ins.days)))

    def _show_period(self) -> None:
        ins = self.insight
        if ins is None:
            return
        days = self.period_combo.currentData()
        c = ins.periods.get(days)
        if c is None:
            return
        names = {"model": self.tr("model"), "provider": self.tr("provider"),
                 "key": self.tr("key")}
        rows = []
        for m in c.movers:
            name = m.name or m.id or self.tr("(none)")
            target = {"field": FIELD_OF[m.dimension], "value": m.id, "span": None, "label": "",
                      "toggle": True} if m.id else {}
            rows.append(([self._signed_money(m.change), self._signed_percent(m.percent),
                          names[m.dimension], name, self._money(m.previous),
                          self._money(m.current)], target))
        self._fill(self.movers, rows, {0, 1, 4, 5})
        cur, prev = c.current, c.previous
        self.period_note.setText(self.tr(
            "Spend {0} against {1} ({2}, {3}); tokens {4} against {5}; generations {6} against "
            "{7}. Periods are 24-hour days ending now. Below: every model, provider and key "
            "whose spend changed, the largest change first."
        ).format(self._money(cur.spend), self._money(prev.spend), self._signed_money(c.change),
                 self._signed_percent(c.percent), formatting.tokens(cur.tokens),
                 formatting.tokens(prev.tokens), formatting.count(cur.generations),
                 formatting.count(prev.generations)))

    def _clicked(self, table: QTableWidget, row: int, toggle: bool = True) -> None:
        item = table.item(row, 0)
        target = item.data(FILTER_ROLE) if item is not None else None
        if target:
            self.filterRequested.emit(dict(target, toggle=toggle and target["toggle"]))
