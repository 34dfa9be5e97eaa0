"""One generation's full record and routing trace, in its own non-modal window."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...api import errors
from ...api.client import RetryPolicy
from ...api.connection import Connection
from ...store.cache import Cache
from .. import formatting
from ..background import BackgroundCall
from ..key_labels import KeyLabels
from ..widgets.list_table import list_table

if TYPE_CHECKING:
    from ...session.session import Session

# trace states, reported by `traceShown`
CACHED, FETCHED, FETCHING, NEVER_FETCHED, NO_TRACE, FAILED = (
    "cached", "fetched", "fetching", "never_fetched", "no_trace", "failed",
)


def fetch_routing(
    open_reader: Callable[[], Cache], connection: Connection, gen_id: str
) -> dict | None:
    """GET /generations/{id} (retrying the brief 404), store its routing; runs off the UI
    thread, on the connection `open_reader()` opens there (`Session.open_worker_reader`)."""
    with connection.client(retry=RetryPolicy(attempts=2, base_delay=0.3)) as client:
        generation = client.generation(gen_id)
    if generation.routing is None:
        return None
    routing = generation.routing.model_dump(mode="json")
    cache = open_reader()
    try:
        cache.save_routing(gen_id, routing)
    finally:
        cache.close()
    return routing


class TransactionDetail(QDialog):
    """Everything the cache knows about one generation; the routing trace fetched if needed."""

    traceShown = Signal(str)  # one of the trace states above

    def __init__(self, session: Session, gen_id: str, connection: Connection | None,
                 parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setModal(False)
        self.setObjectName("transaction_detail")
        self.gen_id = gen_id
        self.session = session
        self.connection = connection
        self.trace_state = ""
        self._call: BackgroundCall | None = None
        self.setWindowTitle(self.tr("Generation {0}").format(gen_id))
        # one row by its id and the key list: short reads on the session's UI-thread reader
        self.record = session.generation(gen_id)
        self.key_labels = KeyLabels.from_keys(session.keys(), session.fetched_at("keys"))
        outer = QVBoxLayout(self)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        body = QWidget(scroll)
        self.body_layout = QVBoxLayout(body)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        outer.addWidget(buttons)
        self._build_header()
        if self.record is None:
            missing = QLabel(self.tr("This generation is not in the cache."), body)
            self.body_layout.addWidget(missing)
            self.resize(560, 200)
            return
        self._build_record()
        self._build_trace()
        self.body_layout.addStretch(1)
        self.resize(820, 900)
        self._load_trace()

    # -- header and record -----------------------------------------------------------------
    def _build_header(self) -> None:
        row = QHBoxLayout()
        self.id_label = QLabel(self.gen_id, self)
        self.id_label.setObjectName("generation_id")
        self.id_label.setAccessibleName(self.tr("Generation id"))
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.id_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.id_label.setFont(font)
        self.copy_button = QPushButton(self.tr("Copy id"), self)
        self.copy_button.setAccessibleName(self.tr("Copy the generation id"))
        self.copy_button.clicked.connect(self.copy_id)
        row.addWidget(self.id_label, 1)
        row.addWidget(self.copy_button)
        self.body_layout.addLayout(row)

    def copy_id(self) -> None:
        QApplication.clipboard().setText(self.gen_id)
        self.copy_button.setText(self.tr("Copied"))

    def _form(self, title: str, rows: list[tuple[str, str]]) -> QGroupBox:
        box = QGroupBox(title, self)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for caption, value in rows:
            label = QLabel(value, box)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            label.setAccessibleName(caption)
            form.addRow(caption + ":", label)
            if caption == self.tr("Key") and self.record and self.record.get("key_id"):
                self.key_label = label  # name and prefix; the id on hover
                label.setToolTip(self.key_labels.tooltip(self.record["key_id"]))
        self.body_layout.addWidget(box)
        return box

    def _build_record(self) -> None:
        r = self.record or {}

        def text(value: Any) -> str:
            return "—" if value is None or value == "" else str(value)

        streamed = r.get("streamed")
        self._form(self.tr("Request"), [
            (self.tr("Time"), formatting.local_time(r["created_at"], with_zone=True)),
            (self.tr("Key"), self.key_labels.label(r.get("key_id"))),
            (self.tr("Requested model"), text(r.get("model"))),
            (self.tr("Resolved model"), text(r.get("resolved_model"))),
            (self.tr("Provider"), text(r.get("provider"))),
            (self.tr("Region"), text(r.get("region"))),
            (self.tr("Latency"), self.tr("{0} ms").format(formatting.count(r["latency_ms"]))
             if r.get("latency_ms") is not None else "—"),
            (self.tr("Finish reason"), text(r.get("finish_reason"))),
            (self.tr("Streamed"), "—" if streamed is None
             else (self.tr("yes") if streamed else self.tr("no"))),
            (self.tr("Revision"), text(r.get("revision"))),
        ])
        self._form(self.tr("Tokens"), [
            (self.tr("Prompt"), formatting.tokens(r["prompt_tokens"])),
            (self.tr("Completion"), formatting.tokens(r["completion_tokens"])),
            (self.tr("Reasoning"), formatting.tokens(r["reasoning_tokens"])),
            (self.tr("Cached"), formatting.tokens(r["cached_tokens"])),
            (self.tr("Total"), formatting.tokens(r["total_tokens"])),
        ])
        # the detail window shows every digit the platform sent, in the locale's writing
        self._form(self.tr("Cost"), [(self.tr("Cost"), "—" if r.get("cost") is None else
                                      formatting.money(r["cost"], r["currency"] or "", full=True))])
        if r.get("energy_wh") is None:
            self._form(self.tr("Eco impact"), [
                (self.tr("Estimate"), self.tr("No eco estimate for this generation yet.")),
            ])
            return
        self._form(self.tr("Eco impact"), [
            (self.tr("Energy"), self._ranged(r["energy_wh"], r.get("energy_wh_low"),
                                             r.get("energy_wh_high"), formatting.energy_range)),
            (self.tr("Carbon"), self._ranged(r["carbon_g"], r.get("carbon_g_low"),
                                             r.get("carbon_g_high"), formatting.carbon_range)),
            (self.tr("Grid intensity"), self.tr("{0} g CO₂e/kWh").format(
                formatting.intensity(r["grid_intensity"]))
             if r.get("grid_intensity") is not None else "—"),
            (self.tr("Confidence"), text(r.get("confidence"))),
            (self.tr("Methodology"), text(r.get("methodology_version"))),
            (self.tr("Caveats"), "; ".join(r.get("caveats") or []) or self.tr("none")),
        ])

    def _ranged(self, value, low, high, fmt) -> str:
        """'0.00712 Wh (0.00700 – 0.00745 Wh)'; one number when exact or without bounds."""
        if value is None:
            return "—"
        return fmt(value, low, high)

    # -- routing trace -------------------------------------------------------------------
    def _build_trace(self) -> None:
        box = QGroupBox(self.tr("Routing trace"), self)
        layout = QVBoxLayout(box)
        self.trace_note = QLabel(box)
        self.trace_note.setObjectName("trace_note")
        self.trace_note.setWordWrap(True)
        self.trace_note.setAccessibleName(self.tr("Routing trace state"))
        self.trace_summary = QLabel(box)
        self.trace_summary.setObjectName("trace_summary")
        self.trace_summary.setWordWrap(True)
        self.trace_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.considered = self._table(box, [
            self.tr("Provider"), self.tr("Region"), self.tr("Eligible"), self.tr("Price / Mtok"),
            self.tr("Carbon g / Mtok"), self.tr("Est. latency"), self.tr("Rejected because"),
        ], self.tr("Providers considered"))
        self.attempts = self._table(box, [
            "#", self.tr("Provider"), self.tr("Region"), self.tr("Status"), self.tr("Latency"),
        ], self.tr("Attempts in order"))
        self.retry_button = QPushButton(self.tr("Fetch again"), box)
        self.retry_button.setAccessibleName(self.tr("Fetch the routing trace again"))
        self.retry_button.clicked.connect(self._fetch)
        self.retry_button.hide()
        layout.addWidget(self.trace_note)
        layout.addWidget(self.trace_summary)
        layout.addWidget(QLabel(self.tr("Providers considered:"), box))
        layout.addWidget(self.considered)
        layout.addWidget(QLabel(self.tr("Attempts, in order:"), box))
        layout.addWidget(self.attempts)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.body_layout.addWidget(box)

    def _table(self, parent: QWidget, headers: list[str], name: str) -> QTableWidget:
        table = list_table(parent, headers, name)
        table.setWordWrap(False)  # one line a provider or attempt: rows of one height
        table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        return table

    def _load_trace(self) -> None:
        routing = (self.record or {}).get("routing")
        if routing is not None:
            fetched = self.record.get("routing_fetched_at") if self.record else None
            note = self.tr("From the cache (fetched {0}).").format(formatting.ago(fetched))
            self._show_routing(routing, CACHED, note)
        elif self.connection is None:
            self._set_state(NEVER_FETCHED, self.tr(
                "Not signed in, and the routing trace of this generation was never fetched: "
                "connect to the platform to see it."))
        else:
            self._fetch()

    def _fetch(self) -> None:
        if self.connection is None or self._call is not None:
            return
        self.retry_button.hide()
        self._set_state(FETCHING, self.tr("Fetching the routing trace from the platform…"),
                        emit=False)
        connection, opener, gen_id = self.connection, self.session.open_worker_reader, self.gen_id
        self._call = BackgroundCall(lambda: fetch_routing(opener, connection, gen_id), self)
        self._call.done.connect(self._on_fetched)
        self._call.error.connect(self._on_fetch_failed)
        self._call.start()

    def _on_fetched(self, routing: dict | None) -> None:
        self._call = None
        if routing is None:
            self._set_state(NO_TRACE, self.tr("The platform has no routing trace for this "
                                              "generation."))
            return
        self._show_routing(routing, FETCHED, self.tr("Fetched from the platform just now."))

    def _on_fetch_failed(self, exc: Exception) -> None:
        self._call = None
        self.retry_button.show()
        if isinstance(exc, errors.NetworkError):
            self._set_state(NEVER_FETCHED, self.tr(
                "Offline: the routing trace of this generation was never fetched, and the "
                "platform cannot be reached right now ({0}).").format(exc))
        else:
            self._set_state(FAILED, formatting.sentence(self.tr(
                "The routing trace could not be fetched: {0}").format(exc)))

    def _set_state(self, state: str, note: str, emit: bool = True) -> None:
        self.trace_state = state
        self.trace_note.setText(note)
        if emit:
            self.traceShown.emit(state)

    def _show_routing(self, routing: dict, state: str, note: str) -> None:
        self.routing = routing
        picked = routing.get("picked")
        reason = routing.get("reason")
        self.trace_summary.setText(self.tr(
            "Strategy: {0}; preference: {1}. Picked: {2} — {3}."
        ).format(routing.get("strategy") or "—", _words(routing.get("preference")),
                 picked or "—", _reason(self, reason)))
        considered = routing.get("considered") or []
        served = [a for a in routing.get("attempts") or [] if 200 <= int(a.get("status", 0)) < 300]
        picked_region = served[-1].get("region") if served else None
        self.considered.setRowCount(len(considered))
        for row, c in enumerate(considered):
            is_pick = c.get("provider") == picked and (
                picked_region is None or c.get("region") == picked_region)
            cells = [
                (c.get("provider") or "—") + ("  ✓" if is_pick else ""),
                c.get("region") or "—",
                self.tr("yes") if c.get("eligible", True) else self.tr("no"),
                c.get("price_per_mtok") or "—",
                # three significant digits in the locale, as every eco figure on screen
                "—" if c.get("carbon_g_per_mtok") is None
                else formatting.significant(float(c["carbon_g_per_mtok"])),
                "—" if c.get("est_latency_ms") is None
                else self.tr("{0} ms").format(formatting.number(float(c["est_latency_ms"]))),
                _words(c.get("rejected_because")) if c.get("rejected_because") else "",
            ]
            self._fill_row(self.considered, row, cells, bold=is_pick)
        attempts = routing.get("attempts") or []
        self.attempts.setRowCount(len(attempts))
        for row, a in enumerate(attempts):
            cells = [
                str(row + 1), a.get("provider") or "—", a.get("region") or "—",
                str(a.get("status", "—")),
                "—" if a.get("latency_ms") is None
                else self.tr("{0} ms").format(f"{a['latency_ms']:,.0f}"),
            ]
            self._fill_row(self.attempts, row, cells, bold=False)
        for table in (self.considered, self.attempts):
            height = table.horizontalHeader().height() + 4
            height += sum(table.rowHeight(r) for r in range(table.rowCount()))
            table.setFixedHeight(height + 2)
        self._set_state(state, note)

    @staticmethod
    def _fill_row(table: QTableWidget, row: int, cells: list[str], bold: bool) -> None:
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if bold:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            table.setItem(row, column, item)


def _words(slug: str | None) -> str:
    return slug.replace("_", " ") if slug else "—"


def _reason(widget: QWidget, reason: str | None) -> str:
    texts = {
        "cheapest": widget.tr("the cheapest eligible provider"),
        "lowest_carbon": widget.tr("the lowest-carbon eligible provider"),
        "closest": widget.tr("the closest (lowest estimated latency)"),
        "fixed_provider": widget.tr("the provider fixed by the routing settings"),
        "fixed": widget.tr("the provider fixed by the routing settings"),
    }
    return texts.get(reason or "", _words(reason))
