"""The history filter bar: date range, model, provider, region, key, and chips of what is on."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDate, QSettings, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from ...session import settings as stored
from ...store.queries import HistoryFilter
from .filter_chip import FilterChip


def _day_start_ms(day: date, utc: bool) -> int:
    # store.aggregates loads when a date is first chosen, not at every start: its dataclasses
    # cost ~16 M instructions before the first paint
    from ...store.aggregates import day_start_ms

    return day_start_ms(day, utc)


# filter field -> caption (translated at use)
FIELDS = ("model", "provider", "region", "key_id")


class FilterBar(QWidget):
    """Emits `filterChanged(HistoryFilter)` (without the id text) whenever a control changes."""

    filterChanged = Signal(object)
    cleared = Signal()  # "Clear filters": the window clears its search too

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("filter_bar")
        self._utc = False
        self._quiet = False
        self._span: tuple[int, int, str] | None = None  # hours picked in a view (set_span)
        self._captions = {
            "model": self.tr("Model"), "provider": self.tr("Provider"),
            "region": self.tr("Region"), "key_id": self.tr("Key"), "dates": self.tr("Dates"),
            "span": self.tr("Hours"),
        }
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        self.combos: dict[str, QComboBox] = {}
        self._pairs: list[tuple[QLabel, QComboBox]] = []
        self.combos_grid = QGridLayout()
        self.combos_grid.setHorizontalSpacing(6)
        for field in FIELDS:
            label = QLabel(self._captions[field] + ":", self)
            combo = QComboBox(self)
            combo.setObjectName(f"filter_{field}")
            combo.setAccessibleName(self.tr("Filter by {0}").format(self._captions[field]))
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(4)
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            combo.addItem(self.tr("All"), None)
            combo.currentIndexChanged.connect(self._changed)
            label.setBuddy(combo)
            self._pairs.append((label, combo))
            self.combos[field] = combo
        self.compact = False
        self._place_combos()
        grid.addLayout(self.combos_grid, 0, 0)
        dates_row = QHBoxLayout()
        self.dates_label = QLabel(self)
        self.from_check = QCheckBox(self.tr("From"), self)
        self.from_check.setAccessibleName(self.tr("Filter from a date"))
        self.from_date = self._date_edit(self.tr("First day shown"))
        self.to_check = QCheckBox(self.tr("To"), self)
        self.to_check.setAccessibleName(self.tr("Filter up to a date"))
        self.to_date = self._date_edit(self.tr("Last day shown"))
        for check, edit in ((self.from_check, self.from_date), (self.to_check, self.to_date)):
            check.toggled.connect(self._drop_span)  # dates set by hand replace picked hours
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self._changed)
            edit.setEnabled(False)
        self.chips_row = QHBoxLayout()
        self.chips_row.setSpacing(4)
        self.clear_button = QPushButton(self.tr("Clear filters"), self)
        self.clear_button.setAccessibleName(self.tr("Clear all filters"))
        self.clear_button.clicked.connect(self.clear)
        # From after To matches no day: said beside the dates, with a way out
        self.dates_problem = QLabel(self.tr("From is after To: no day can match."), self)
        self.dates_problem.setObjectName("dates_problem")
        self.dates_problem.setStyleSheet("#dates_problem { color: #b71c1c; }")
        self.dates_problem.setAccessibleName(self.tr("Date range problem"))
        self.swap_button = QPushButton(self.tr("Swap dates"), self)
        self.swap_button.setAccessibleName(self.tr("Swap the From and To dates"))
        self.swap_button.clicked.connect(self.swap_dates)
        for widget in (self.dates_label, self.from_check, self.from_date, self.to_check,
                       self.to_date, self.dates_problem, self.swap_button):
            dates_row.addWidget(widget)
        dates_row.addStretch(1)
        self.dates_row = dates_row
        # Clear filters at the end of the dates row; the chips' row takes room only with chips
        dates_row.addWidget(self.clear_button)
        grid.addLayout(dates_row, 1, 0)
        self.chips_row.addStretch(1)
        grid.addLayout(self.chips_row, 2, 0)
        self.chips: dict[str, FilterChip] = {}
        self._search_active = False
        self._update_dates_label()
        self._update_chips()

    def add_search(self, search: QWidget) -> None:
        """The window's id search on the dates row, before Clear filters."""
        search.setParent(self)
        search.setMinimumWidth(60)  # the wide window can still shrink to the narrow layout
        self.search = search
        self._place_search()

    def _place_search(self) -> None:
        """Wide: search and Clear filters end the dates row; narrow: they end the chips' row."""
        search = getattr(self, "search", None)
        row = self.chips_row if self.compact else self.dates_row
        for widget in (search, self.clear_button):
            if widget is not None:
                self.dates_row.removeWidget(widget)
                self.chips_row.removeWidget(widget)
                row.addWidget(widget, 2 if widget is search else 0)

    def set_compact(self, compact: bool) -> None:
        """Two rows of two filter combos (narrow windows) instead of one row of four."""
        if compact != self.compact:
            self.compact = compact
            self._place_combos()
            self._place_search()

    def _place_combos(self) -> None:
        per_row = 2 if self.compact else len(self._pairs)
        for label, combo in self._pairs:
            self.combos_grid.removeWidget(label)
            self.combos_grid.removeWidget(combo)
        for i in range(8):
            self.combos_grid.setColumnStretch(i, 0)
        for i, (label, combo) in enumerate(self._pairs):
            row, col = divmod(i, per_row)
            self.combos_grid.addWidget(label, row, 2 * col)
            self.combos_grid.addWidget(combo, row, 2 * col + 1)
            self.combos_grid.setColumnStretch(2 * col + 1, 1)

    def _date_edit(self, accessible: str) -> QDateEdit:
        edit = QDateEdit(self)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setDate(QDate.currentDate())
        edit.setAccessibleName(accessible)
        edit.dateChanged.connect(self._changed)
        return edit

    # -- state ---------------------------------------------------------------------------
    def history_filter(self) -> HistoryFilter:
        """The filter the controls describe (times in UTC ms, end exclusive)."""
        values = {field: combo.currentData() for field, combo in self.combos.items()}
        start = end = None
        if self.from_check.isChecked():
            start = _day_start_ms(self.from_date.date().toPython(), self._utc)
        if self.to_check.isChecked():
            last: date = self.to_date.date().toPython()
            end = _day_start_ms(last + timedelta(days=1), self._utc)
        if self._span is not None:
            start, end = self._span[0], self._span[1]
        return HistoryFilter(start_ms=start, end_ms=end, **values)

    def set_value(self, field: str, value: str | None) -> None:
        """Select `value` (None: All) in a combo, adding it if it is not a known choice."""
        combo = self.combos[field]
        index = combo.findData(value) if value is not None else 0
        if index < 0:
            combo.addItem(value, value)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    def set_model(self, model: str | None) -> None:
        self.set_value("model", model)

    def set_span(self, start_ms: int | None, end_ms: int | None = None, label: str = "",
                 **values: str | None) -> None:
        """Limit the page to the hours [start_ms, end_ms) (a spike's, say), shown as a chip
        with `label`, and set the given combos (`key_id=...`), in one change. The dates are
        unticked; ticking one, the chip's x or Clear filters ends the span."""
        self._quiet = True
        try:
            for field, value in values.items():
                self.set_value(field, value)
            if start_ms is not None and end_ms is not None:
                self.from_check.setChecked(False)
                self.to_check.setChecked(False)
                self._span = (int(start_ms), int(end_ms), label)
            else:
                self._span = None
        finally:
            self._quiet = False
        self._changed()

    def span(self) -> tuple[int, int, str] | None:
        return self._span

    def _drop_span(self, *_args) -> None:
        if not self._quiet:
            self._span = None

    def set_dates(self, first: date | None, last: date | None) -> None:
        self._quiet = True
        try:
            if first is not None:
                self.from_date.setDate(QDate(first))
            if last is not None:
                self.to_date.setDate(QDate(last))
            self.from_check.setChecked(first is not None)
            self.to_check.setChecked(last is not None)
        finally:
            self._quiet = False
        self._changed()

    def set_choices(self, field: str, choices: list[tuple[str, str]]) -> None:
        """Replace a combo's (value, label) choices, keeping the current selection."""
        combo = self.combos[field]
        current = combo.currentData()
        self._quiet = True
        try:
            combo.clear()
            combo.addItem(self.tr("All"), None)
            for value, label in choices:
                combo.addItem(label, value)
            index = combo.findData(current) if current is not None else 0
            if index < 0:
                combo.addItem(current, current)
                index = combo.count() - 1
            combo.setCurrentIndex(index)
        finally:
            self._quiet = False

    def set_utc(self, utc: bool) -> None:
        """Day boundaries of the date range: UTC days or local days."""
        if utc != self._utc:
            self._utc = utc
            self._update_dates_label()
            self._changed()

    def range_problem(self) -> str | None:
        """Why the date range as set matches no day (From after To), or None."""
        if self.from_check.isChecked() and self.to_check.isChecked():
            if self.from_date.date() > self.to_date.date():
                return self.dates_problem.text()
        return None

    def swap_dates(self) -> None:
        first, last = self.from_date.date(), self.to_date.date()
        self.set_dates(last.toPython(), first.toPython())

    def set_search_active(self, active: bool) -> None:
        """The window's id search holds text: "Clear filters" clears it too, so it is on."""
        self._search_active = active
        self._update_chips()

    def clear(self) -> None:
        self._quiet = True
        self._span = None
        try:
            for combo in self.combos.values():
                combo.setCurrentIndex(0)
            self.from_check.setChecked(False)
            self.to_check.setChecked(False)
        finally:
            self._quiet = False
        self._changed()
        self.cleared.emit()

    def clear_field(self, field: str) -> None:
        if field == "span":
            self._span = None
            self._changed()
        elif field == "dates":
            self.set_dates(None, None)
        else:
            self.set_value(field, None)

    # -- persistence -------------------------------------------------------------------
    def save_state(self, settings: QSettings, prefix: str = stored.FILTERS.prefix) -> None:
        for field, combo in self.combos.items():
            settings.setValue(prefix + field, combo.currentData() or "")
        for name, check, edit in (("from", self.from_check, self.from_date),
                                  ("to", self.to_check, self.to_date)):
            settings.setValue(prefix + name, edit.date().toString("yyyy-MM-dd")
                              if check.isChecked() else "")

    def restore_state(self, settings: QSettings, prefix: str = stored.FILTERS.prefix) -> None:
        self._quiet = True
        try:
            for field in FIELDS:
                value = settings.value(prefix + field) or None
                if isinstance(value, str):
                    self.set_value(field, value)
            for name, check, edit in (("from", self.from_check, self.from_date),
                                      ("to", self.to_check, self.to_date)):
                text = settings.value(prefix + name) or ""
                day = QDate.fromString(str(text), "yyyy-MM-dd")
                if day.isValid():
                    edit.setDate(day)
                check.setChecked(day.isValid())
        finally:
            self._quiet = False
        self._update_chips()

    # -- internals ---------------------------------------------------------------------
    def _update_dates_label(self) -> None:
        self.dates_label.setText(
            self.tr("Dates (UTC days):") if self._utc else self.tr("Dates (local days):")
        )

    def _changed(self, *_args) -> None:
        if self._quiet:
            return
        self._update_chips()
        self.filterChanged.emit(self.history_filter())

    def _update_chips(self) -> None:
        wanted: dict[str, str] = {}
        for field, combo in self.combos.items():
            if combo.currentData() is not None:
                wanted[field] = combo.currentText()
        if self.from_check.isChecked() or self.to_check.isChecked():
            first = self.from_date.date().toString("yyyy-MM-dd") if self.from_check.isChecked() \
                else "…"
            last = self.to_date.date().toString("yyyy-MM-dd") if self.to_check.isChecked() \
                else "…"
            wanted["dates"] = f"{first} – {last}"
        if self._span is not None:
            wanted["span"] = self._span[2] or "…"
        for field in list(self.chips):
            if wanted.get(field) != self.chips[field].value:
                chip = self.chips.pop(field)
                self.chips_row.removeWidget(chip)
                chip.deleteLater()
        for field, value in wanted.items():
            if field not in self.chips:
                chip = FilterChip(field, self._captions[field], value, self)
                chip.cleared.connect(self.clear_field)
                self.chips_row.insertWidget(len(self.chips), chip)  # before the stretch
                chip.show()
                self.chips[field] = chip
        self.clear_button.setEnabled(bool(wanted) or self._search_active)
        problem = self.range_problem()
        self.dates_problem.setVisible(problem is not None)
        self.swap_button.setVisible(problem is not None)
