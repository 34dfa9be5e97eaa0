"""Settings → Eco baseline: pick the model the eco panel compares your usage with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
)

from ...eco.baseline_setting import SAVED, save_baseline
from ...eco.impact import Reference, chosen_baseline, reference_from_cache
from ..background import BackgroundCall

if TYPE_CHECKING:
    from ...session.session import Session


class EcoBaselineDialog(QDialog):
    """Lists the cached `/models`; saving patches the platform's settings in the background."""

    saved = Signal(str, str)  # model id, SAVED or OFFLINE

    def __init__(self, session: Session, connection: Any | None, parent=None):
        super().__init__(parent)
        self.setObjectName("eco_baseline_dialog")
        self.setWindowTitle(self.tr("Eco baseline"))
        self.session = session
        self.connection = connection
        self._call: BackgroundCall | None = None
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr(
            "The eco panel re-prices your usage on this model: same tokens, same regions, "
            "latency scaled by the models' active parameters."
        ), self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.filter = QLineEdit(self)
        self.filter.setObjectName("eco_baseline_filter")
        self.filter.setPlaceholderText(self.tr("Filter models by name or id…"))
        self.filter.setAccessibleName(self.tr("Filter the models"))
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        layout.addWidget(self.filter)
        self.list = QListWidget(self)
        self.list.setAccessibleName(self.tr("Models"))
        layout.addWidget(self.list, 1)
        # a filter matching nothing said so over a blank list, Save still enabled
        self.no_match = QLabel(self.tr("No models match."), self)
        self.no_match.setObjectName("eco_baseline_no_match")
        self.no_match.hide()
        layout.addWidget(self.no_match)
        self.list.currentItemChanged.connect(lambda *_a: self._update_save())
        self.status = QLabel(self)
        self.status.setObjectName("eco_baseline_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._load()
        self._update_save()
        # as wide as the longest entry (it was 280 px with a horizontal scrollbar), within
        # the screen; tall enough for a dozen models
        widest = max((self.list.fontMetrics().horizontalAdvance(self.list.item(r).text())
                      for r in range(self.list.count())), default=0)
        screen = self.screen().availableGeometry() if self.screen() else None
        width = max(520, widest + 72)
        if screen is not None:
            width = min(width, screen.width() - 80)
        self.resize(width, 520)
        self.filter.setFocus()

    def _apply_filter(self, text: str) -> None:
        """Show only the models whose name or id holds every typed word."""
        words = text.lower().split()
        for row in range(self.list.count()):
            item = self.list.item(row)
            haystack = item.text().lower()
            item.setHidden(not all(w in haystack for w in words))
        current = self.list.currentItem()
        if current is not None and not current.isHidden():
            self.list.scrollToItem(current)
        shown = any(not self.list.item(r).isHidden() for r in range(self.list.count()))
        self.no_match.setVisible(self.list.count() > 0 and not shown)
        self._update_save()

    def _update_save(self) -> None:
        """Save only while a model is chosen and shown (not one the filter hid)."""
        item = self.list.currentItem()
        chosen = (item is not None and not item.isHidden()
                  and bool(item.flags() & Qt.ItemFlag.ItemIsEnabled))
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(chosen)

    def _load(self) -> None:
        # three cached snapshots and a meta value: short reads on the session's UI-thread reader
        cache = self.session.cache
        ref = reference_from_cache(cache) if cache is not None else Reference()
        current, pending = chosen_baseline(cache) if cache is not None else (None, False)
        for model in sorted(ref.models.values(), key=lambda m: m.name.lower()):
            note = "" if model.verified else self.tr(" (parameters estimated)")
            item = QListWidgetItem(f"{model.name} — {model.id}{note}", self.list)
            item.setData(Qt.ItemDataRole.UserRole, model.id)
            if not model.usable:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            if model.id == current:
                self.list.setCurrentItem(item)
        if not ref.models:
            self.status.setText(self.tr("No model list cached yet: sync first."))
            self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(False)
        elif pending:
            self.status.setText(self.tr(
                "The current choice was made offline and is not saved on the platform yet."
            ))

    def selected_model(self) -> str | None:
        """The model id highlighted in the list."""
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def select_model(self, model_id: str) -> bool:
        """Highlight a model by id (for keyboard users and tests)."""
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == model_id:
                self.list.setCurrentRow(row)
                return True
        return False

    def save(self) -> None:
        """Save in the background; the dialog closes when done, or says what went wrong."""
        model = self.selected_model()
        item = self.list.currentItem()
        if not model or self._call is not None or item is None or item.isHidden():
            return
        self.buttons.setEnabled(False)
        self.status.setText(self.tr("Saving…"))
        opener, connection = self.session.open_worker_reader, self.connection
        call = BackgroundCall(lambda: save_baseline(opener, connection, model), self)
        call.done.connect(lambda outcome: self._on_saved(model, outcome))
        call.error.connect(self._on_error)
        self._call = call
        call.start()

    def _on_saved(self, model: str, outcome: str) -> None:
        self._call = None
        self.buttons.setEnabled(True)
        if outcome == SAVED:
            self.status.setText(self.tr("Saved on the platform."))
        else:
            self.status.setText(self.tr(
                "Offline: the choice is kept on this computer and used for the figures; save "
                "it again when online to store it on the platform."
            ))
        self.saved.emit(model, outcome)
        if outcome == SAVED:
            self.accept()

    def _on_error(self, exc: Exception) -> None:
        self._call = None
        self.buttons.setEnabled(True)
        self.status.setText(self.tr("Not saved: {0}").format(exc))
