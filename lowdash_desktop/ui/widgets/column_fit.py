"""The history table's columns fit the width the table has, without cutting a number.

At 900x700 the default columns ran 250 px past the table's edge (it scrolled sideways,
Total tok., Cost and Carbon beyond it). Each column has a preferred width (the default or the
operator's drag); when they do not all fit, the text columns (model, provider, region, key:
their delegates elide names) give up room first, then the number columns down to the widest
number they show (a long title is elided in the header, the number never). Only a table too
narrow even for that scrolls sideways.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QTableView

from ..qt_types import viewport

# what a text column keeps when squeezed (an elided name is still told apart)
TEXT_MIN = 56
# what a name column keeps before the others give up theirs
TEXT_KEEP = {"model": 150}
# the widest numbers each number column shows, for the room a column may not go below
SAMPLES = {
    "prompt_tokens": "123,456",
    "completion_tokens": "123,456",
    "total_tokens": "123,456",
    "carbon_g": "0.00000000",  # three significant digits of a tiny figure
    "cost": "0.000000 EUR",
    "created_at": "2026-12-02 04:39:00",
}


class ColumnFit(QObject):
    """Keeps the table's column widths fitted to its viewport; see the module docstring."""

    def __init__(self, table: QTableView, keys: list[str], text_keys: set[str],
                 preferred: list[int]):
        super().__init__(table)
        self.table = table
        self.keys = keys
        self.text_columns = {i for i, k in enumerate(keys) if k in text_keys}
        self.preferred = list(preferred)
        self._fitting = False
        self._width = -1
        self._needs: dict[int, int] = {}
        header = table.horizontalHeader()
        # the last column takes what is left, as a stretching one would, but never less than
        # its numbers need (Qt kept a stretching one at its old width, past the edge)
        header.setStretchLastSection(False)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)  # 'Completion t…', never clipped
        header.sectionResized.connect(self._resized)
        viewport(table).installEventFilter(self)
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.fit)
        # rows arriving or leaving show or hide the vertical scroll bar: fitted again then
        table.horizontalScrollBar().rangeChanged.connect(lambda _a, _b: self._timer.start())
        table.verticalScrollBar().rangeChanged.connect(lambda _a, _b: self._timer.start())
        # rows scrolled into view are measured too (a rare 1,234,567 tokens widens its column)
        table.verticalScrollBar().valueChanged.connect(lambda _v: self._timer.start())

    # -- the operator's widths ----------------------------------------------------------
    def _last(self) -> int:
        header = self.table.horizontalHeader()
        for visual in range(header.count() - 1, -1, -1):
            logical = header.logicalIndex(visual)
            if not header.isSectionHidden(logical):
                return logical
        return -1

    def _resized(self, logical: int, _old: int, new: int) -> None:
        """A width the operator chose (a drag, a reset, a restored header) is preferred."""
        if self._fitting or logical == self._last():  # the last one stretches by itself
            return
        self.preferred[logical] = new

    def set_preferred(self, widths: list[int]) -> None:
        self.preferred = list(widths)
        self.fit()

    def restored(self) -> None:
        """After the header's saved state was restored: its widths are the preferred ones."""
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)  # a saved state brings its own back
        self.preferred = [header.sectionSize(c) for c in range(header.count())]
        self._timer.start()

    def saved_state(self) -> QByteArray:
        """The header's state with the preferred widths (not the squeezed ones)."""
        header = self.table.horizontalHeader()
        self._fitting = True
        try:
            self._apply(self.preferred)
            state = header.saveState()
        finally:
            self._fitting = False
        self.fit()
        return state

    # -- fitting ------------------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Resize and event.size().width() != self._width:
            self._width = event.size().width()
            self._timer.start()  # once the scroll bars have settled
        return False

    def need(self, logical: int) -> int:
        """The least a number column may have: its widest number, never cut (the rows in view
        and a sample of the widest usual one; not sizeHintForColumn, which formats a thousand
        rows per call: a second at every fit, and at quit)."""
        cached = self._needs.get(logical)
        if cached is not None:
            return cached
        metrics = self.table.fontMetrics()
        widest = metrics.horizontalAdvance(SAMPLES.get(self.keys[logical], ""))
        model = self.table.model()
        first = max(0, self.table.rowAt(0))
        last = self.table.rowAt(viewport(self.table).height() - 1)
        last = model.rowCount() - 1 if last < 0 else last
        for row in range(first, min(last, first + 60) + 1):
            text = model.index(row, logical).data()
            if text:
                widest = max(widest, metrics.horizontalAdvance(str(text)))
        self._needs[logical] = need = max(widest + 16, 40)
        return need

    def widths_for(self, available: int) -> list[int]:
        self._needs: dict[int, int] = {}  # measured once per fit
        header = self.table.horizontalHeader()
        shown = [c for c in range(header.count()) if not header.isSectionHidden(c)]
        last = self._last()
        widths = list(self.preferred)
        others = [c for c in shown if c != last]
        numbers = [c for c in others if c not in self.text_columns]
        texts = [c for c in others if c in self.text_columns]

        def titled(c: int) -> int:
            return max(self.need(c), header.sectionSizeHint(c))

        def reserve(elide: bool) -> int:  # the stretching last column's least
            if last < 0:
                return 0
            if last in self.text_columns:
                return TEXT_MIN
            return self.need(last) if elide else titled(last)

        # numbers down to their title, names down to a readable part, then number titles
        # elided, then names to the least; never a number cut
        stages = ((numbers, titled, False),
                  (texts, lambda c: max(TEXT_MIN, TEXT_KEEP.get(self.keys[c], 0)), False),
                  (numbers, self.need, True), (texts, lambda c: TEXT_MIN, True))
        for members, floor, elide in stages:
            excess = sum(widths[c] for c in others) - (available - reserve(elide))
            if excess <= 0:
                break
            slack = {c: max(0, widths[c] - floor(c)) for c in members}
            total = sum(slack.values())
            if total <= 0:
                continue
            take = min(excess, total)
            for c in members:
                widths[c] -= min(round(take * slack[c] / total), slack[c])
        if last >= 0:
            widths[last] = max(reserve(True), available - sum(widths[c] for c in others))
        return widths

    def _apply(self, widths: list[int]) -> None:
        header = self.table.horizontalHeader()
        for logical, width in enumerate(widths):
            if header.sectionSize(logical) != width:
                header.resizeSection(logical, width)

    def fit(self) -> None:
        if self._fitting or getattr(self.table.window(), "_shut", False):
            return  # (a window shut down: its cache, the rows' source, is closed)
        self._fitting = True
        try:
            self._apply(self.widths_for(viewport(self.table).width()))
        finally:
            self._fitting = False
