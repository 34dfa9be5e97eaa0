"""Auto-routing defaults and per-key overrides as a validated form (GET/PUT /routing)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...api.connection import Connection
from ...api.models import Key, RoutingConfig, RoutingRule
from ...rules import routing
from ...rules.money import read_money
from ...session.answers import CachedAnswers
from ...store import aggregates
from .operation_dialog import (
    ERROR_STYLE,
    INVALID_BORDER,
    OperationDialog,
    error_text,
    manage_reason,
    plain_decimal,
)

STRATEGIES = ("auto", "fixed")
PREFERENCES = ("cheapest", "lowest_carbon", "closest", "fixed_provider")


def _tr(text: str) -> str:
    return QCoreApplication.translate("RoutingDialog", text)


def cheapest_price(answers: CachedAnswers | None) -> tuple[Decimal, str] | None:
    """The lowest price per million tokens the platform lists, and for what: from the cached
    /models (prompt and completion prices) and the routing traces fetched so far."""
    if answers is None or answers.cache is None:
        return None
    found: list[tuple[Decimal, str]] = []

    def add(value: Any, what: str) -> None:
        try:
            price = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return
        if price.is_finite() and price > 0:
            found.append((price, what))

    for model in answers.models() or []:
        for price in (model.price_prompt_per_mtok, model.price_completion_per_mtok):
            if price is not None:
                add(price, model.id)
    for model, provider, price in aggregates.traced_prices(answers.cache.conn):
        add(price, f"{model} on {provider}")
    return min(found, key=lambda pair: pair[0]) if found else None


def problem_text(problem: routing.RuleProblem) -> str:
    """One problem of a rule, in words."""
    kind = routing.Problem
    if problem.kind is kind.PRICE_BELOW_CHEAPEST and problem.cheapest is not None:
        return _tr(
            "A maximum price of {0} per million tokens is below the cheapest price the platform "
            "lists ({1}, {2}): it blocks every provider. Leave it empty for no maximum."
        ).format(plain_decimal(problem.price), plain_decimal(problem.cheapest[0]),
                 problem.cheapest[1])
    return {
        kind.PREFERENCE_NEEDS_PROVIDER: _tr(
            "The preference “fixed provider” needs a provider chosen."),
        kind.STRATEGY_NEEDS_PROVIDER: _tr("The strategy “fixed” needs a provider chosen."),
        kind.UNKNOWN_PROVIDER: _tr("“{0}” is not a provider the platform knows."),
        kind.UNKNOWN_REGION: _tr("“{0}” is not a region the platform knows."),
        kind.PRICE_UNREADABLE: _tr("The maximum price must be an amount such as 2.50, or empty."),
        kind.PRICE_NEGATIVE: _tr("The maximum price cannot be negative."),
        kind.PRICE_ZERO: _tr(
            "A maximum price of 0 blocks every provider: no model is free. Leave it empty for "
            "no maximum."
        ),
        kind.PRICE_TOO_HIGH: _tr(
            "The maximum price can be at most 1,000,000.00 per million tokens; leave it empty "
            "for no maximum."
        ),
    }[problem.kind].format(problem.name)


def price_problem(price: Any, cheapest: tuple[Decimal, str] | None = None) -> str | None:
    """Why a maximum price (as `RuleEditor.rule()` gives it) cannot be saved, in words."""
    problem = routing.price_problem(price, cheapest)
    return None if problem is None else problem_text(problem)


def rule_problems(
    rule: dict[str, Any],
    providers: Iterable[str] = (),
    regions: Iterable[str] = (),
    cheapest: tuple[Decimal, str] | None = None,
) -> list[str]:
    """Why a rule cannot be saved, in words, or [] (`rules.routing` decides)."""
    return [problem_text(p) for p in routing.rule_problems(rule, providers, regions, cheapest)]


def rule_notes(rule: dict[str, Any]) -> list[str]:
    """Legal but probably unintended combinations (shown, not blocking)."""
    words = {
        routing.Note.PROVIDER_IGNORED: _tr(
            "The provider is ignored unless the strategy is fixed or the preference is "
            "“fixed provider”."
        ),
        routing.Note.CLOSEST_WITHOUT_REGION: _tr(
            "“Closest region” without a preferred region uses the caller's location."
        ),
    }
    return [words[note] for note in routing.rule_notes(rule)]


class RuleEditor(QWidget):
    """The five fields of one routing rule."""

    changed = Signal()

    def __init__(self, providers: list[str], regions: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.strategy = QComboBox(self)
        self.strategy.setAccessibleName(self.tr("Strategy"))
        for value, text in zip(
            STRATEGIES,
            (self.tr("Automatic — pick by preference"), self.tr("Fixed — always one provider")),
            strict=True,
        ):
            self.strategy.addItem(text, value)
        self.preference = QComboBox(self)
        self.preference.setAccessibleName(self.tr("Preference"))
        for value, text in zip(
            PREFERENCES,
            (
                self.tr("Cheapest"),
                self.tr("Lowest carbon"),
                self.tr("Closest region"),
                self.tr("Fixed provider"),
            ),
            strict=True,
        ):
            self.preference.addItem(text, value)
        self.region = QComboBox(self)
        self.region.setAccessibleName(self.tr("Preferred region"))
        self.region.addItem(self.tr("— none —"), None)
        for region in regions:
            self.region.addItem(region, region)
        self.provider = QComboBox(self)
        self.provider.setAccessibleName(self.tr("Fixed provider"))
        self.provider.addItem(self.tr("— none —"), None)
        for provider in providers:
            self.provider.addItem(provider, provider)
        self.max_price = QLineEdit(self)
        self.max_price.setPlaceholderText(self.tr("No maximum"))
        self.max_price.setAccessibleName(self.tr("Maximum price per million tokens"))
        form.addRow(self.tr("Strategy"), self.strategy)
        form.addRow(self.tr("Preference"), self.preference)
        form.addRow(self.tr("Preferred region"), self.region)
        form.addRow(self.tr("Fixed provider"), self.provider)
        self.price_label = QLabel(self.tr("Max price / M tokens"), self)
        form.addRow(self.price_label, self.max_price)
        # what is wrong with the price, said under it as it is typed
        self.price_note = QLabel(self)
        self.price_note.setObjectName("price_note")
        self.price_note.setWordWrap(True)
        self.price_note.setStyleSheet(ERROR_STYLE)
        self.price_note.hide()
        form.addRow("", self.price_note)
        for combo in (self.strategy, self.preference, self.region, self.provider):
            combo.currentIndexChanged.connect(self.changed)
        self.max_price.textChanged.connect(self.changed)

    def show_price_problem(self, problem: str | None) -> None:
        """Mark the price field and say why under it (None: clear)."""
        self.price_note.setText(problem or "")
        self.price_note.setVisible(bool(problem))
        self.max_price.setStyleSheet(INVALID_BORDER if problem else "")
        self.max_price.setToolTip(problem or "")

    def set_currency(self, currency: str) -> None:
        if currency:
            self.price_label.setText(self.tr("Max price / M tokens ({0})").format(currency))

    @staticmethod
    def _select(combo: QComboBox, value: str | None) -> None:
        index = combo.findData(value)
        if index < 0 and value is not None:
            combo.addItem(value, value)  # keep what the platform has even if unknown to us
            index = combo.count() - 1
        combo.setCurrentIndex(max(index, 0))

    def set_rule(self, rule: RoutingRule | dict[str, Any]) -> None:
        data = rule.model_dump() if isinstance(rule, RoutingRule) else dict(rule)
        widgets = (self.strategy, self.preference, self.region, self.provider, self.max_price)
        for widget in widgets:
            widget.blockSignals(True)
        self._select(self.strategy, data.get("strategy") or "auto")
        self._select(self.preference, data.get("preference") or "cheapest")
        self._select(self.region, data.get("prefer_region"))
        self._select(self.provider, data.get("fixed_provider"))
        price = data.get("max_price_per_mtok")
        self.max_price.setText(plain_decimal(price))  # '0.0000001', never '1E-7'
        for widget in widgets:
            widget.blockSignals(False)
        self.changed.emit()

    def rule(self) -> dict[str, Any]:
        """The rule as typed; an unreadable price is `rules.money.Unreadable`."""
        price = read_money(self.max_price.text())
        return {
            "strategy": self.strategy.currentData(),
            "preference": self.preference.currentData(),
            "prefer_region": self.region.currentData(),
            "fixed_provider": self.provider.currentData(),
            "max_price_per_mtok": price,
        }


class RoutingDialog(OperationDialog):
    """Default strategy and preference, region, price cap and per-key overrides."""

    loaded = Signal()

    def __init__(
        self,
        connection: Connection | None,
        answers: CachedAnswers | None = None,  # the account's session: its cached answers
        parent: QWidget | None = None,
    ):
        super().__init__(connection, parent)
        self.setObjectName("routing_dialog")
        self.setWindowTitle(self.tr("Auto-routing"))
        self.keys: dict[str, Key] = {}
        self.overrides: dict[str, dict[str, Any]] = {}
        self.reason: str | None = None
        providers, regions, currency = self._reference(answers)
        self.providers, self.regions = providers, regions
        self.cheapest = cheapest_price(answers)
        intro = QLabel(
            self.tr(
                "How <code>lowrouter/auto</code> picks a provider when a request does not say. "
                "Overrides apply to requests made with one key."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.body.addWidget(intro)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(ERROR_STYLE)
        self.note.hide()
        self.body.addWidget(self.note)
        columns = QHBoxLayout()
        default_box = QGroupBox(self.tr("Default for all keys"), self)
        box_layout = QVBoxLayout(default_box)
        self.default_editor = RuleEditor(providers, regions, default_box)
        self.default_editor.set_currency(currency)
        box_layout.addWidget(self.default_editor)
        box_layout.addStretch(1)
        columns.addWidget(default_box, 1)
        override_box = QGroupBox(self.tr("Per-key overrides"), self)
        ov = QVBoxLayout(override_box)
        self.override_list = QListWidget(override_box)
        self.override_list.setAccessibleName(self.tr("Keys with an override"))
        self.override_list.setMaximumHeight(110)
        ov.addWidget(self.override_list)
        add_row = QHBoxLayout()
        self.add_key = QComboBox(override_box)
        self.add_key.setAccessibleName(self.tr("Key to add an override for"))
        self.add_button = QPushButton(self.tr("Add override"), override_box)
        self.add_button.setAccessibleName(self.tr("Add an override for the chosen key"))
        self.remove_button = QPushButton(self.tr("Remove"), override_box)
        self.remove_button.setAccessibleName(self.tr("Remove the selected override"))
        add_row.addWidget(self.add_key, 1)
        add_row.addWidget(self.add_button)
        add_row.addWidget(self.remove_button)
        ov.addLayout(add_row)
        self.override_editor = RuleEditor(providers, regions, override_box)
        self.override_editor.set_currency(currency)
        self.override_editor.setEnabled(False)
        ov.addWidget(self.override_editor)
        columns.addWidget(override_box, 1)
        self.body.addLayout(columns)
        self.problems = QLabel(self)
        self.problems.setObjectName("routing_problems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.RichText)
        self.problems.setAccessibleName(self.tr("Problems with the routing settings"))
        self.body.addWidget(self.problems)
        self.ok_button.setText(self.tr("Save"))
        self.default_editor.changed.connect(self._revalidate)
        self.override_editor.changed.connect(self._override_edited)
        self.override_list.currentItemChanged.connect(lambda *_: self._show_override())
        self.add_button.clicked.connect(lambda _=False: self.add_override())
        self.remove_button.clicked.connect(lambda _=False: self.remove_override())
        self._showing: str | None = None
        if answers is not None:
            keys, config = answers.keys(), answers.routing()
            if keys is not None:
                self._set_keys(keys)
            if config is not None:
                self.set_config(config)
        self._revalidate()
        self.resize(860, 460)

    @staticmethod
    def _reference(answers: CachedAnswers | None) -> tuple[list[str], list[str], str]:
        """Known providers and regions (from the eco methodology) and the currency."""
        providers: list[str] = []
        regions: list[str] = []
        currency = ""
        if answers is not None:
            method = answers.methodology()
            if method is not None:
                providers = sorted(method.providers)
                regions = sorted(method.grid_intensity)
            currency = answers.currency()
        return providers, regions, currency

    # -- loading -----------------------------------------------------------------------------
    def load(self) -> bool:
        """Fetch the routing, keys and reference lists from the platform."""

        def fetch(client) -> tuple[RoutingConfig, list[Key] | None, Any]:
            from ...api import errors

            config = client.routing()
            try:
                keys = client.keys()
            except errors.ScopeError:
                keys = None
            return config, keys, client.eco_methodology()

        started = self.runner.run(fetch, self._loaded, self._load_failed)
        if started:
            self.set_form_enabled(False)
            self.status.busy(self.tr("Loading the routing settings…"))
        return started

    def _loaded(self, value: tuple[RoutingConfig, list[Key] | None, Any]) -> None:
        config, keys, method = value
        self.set_form_enabled(True)
        self.status.clear()
        new_providers = sorted(method.providers)
        new_regions = sorted(method.grid_intensity)
        for editor in (self.default_editor, self.override_editor):
            for combo, values in ((editor.provider, new_providers), (editor.region, new_regions)):
                for value in values:
                    if combo.findData(value) < 0:
                        combo.addItem(value, value)
        self.providers, self.regions = new_providers, new_regions
        if keys is not None:
            self._set_keys(keys)
        self.set_config(config)
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.set_form_enabled(True)
        self.status.fail(error_text(exc))

    def _set_keys(self, keys: list[Key]) -> None:
        self.keys = {k.id: k for k in keys}
        api_key = self.runner.connection.api_key if self.runner.connection else None
        self.reason = manage_reason(keys, api_key)
        self.note.setText(self.reason or "")
        self.note.setVisible(bool(self.reason))
        self._revalidate()

    def set_config(self, config: RoutingConfig) -> None:
        self.default_editor.set_rule(config.default)
        self.overrides = {k: rule.model_dump() for k, rule in config.overrides.items()}
        self._fill_override_list()
        self._revalidate()

    # -- overrides ---------------------------------------------------------------------------
    def _key_label(self, key_id: str) -> str:
        key = self.keys.get(key_id)
        return f"{key.name} ({key.prefix}…)" if key else key_id

    def _fill_override_list(self, select: str | None = None) -> None:
        self.override_list.blockSignals(True)
        self.override_list.clear()
        for key_id in self.overrides:
            item = QListWidgetItem(self._key_label(key_id))
            item.setData(Qt.ItemDataRole.UserRole, key_id)
            self.override_list.addItem(item)
        self.override_list.blockSignals(False)
        self.add_key.clear()
        for key_id in self.keys:
            if key_id not in self.overrides:
                self.add_key.addItem(self._key_label(key_id), key_id)
        self.add_button.setEnabled(self.add_key.count() > 0)
        rows = list(self.overrides)
        if select in self.overrides:
            self.override_list.setCurrentRow(rows.index(select))
        elif rows:
            self.override_list.setCurrentRow(0)
        self._show_override()

    def _show_override(self) -> None:
        item = self.override_list.currentItem()
        self._showing = item.data(Qt.ItemDataRole.UserRole) if item else None
        self.override_editor.setEnabled(self._showing is not None)
        self.remove_button.setEnabled(self._showing is not None)
        if self._showing is not None:
            self.override_editor.set_rule(self.overrides[self._showing])

    def _override_edited(self) -> None:
        if self._showing is not None:
            self.overrides[self._showing] = self.override_editor.rule()
        self._revalidate()

    def add_override(self, key_id: str | None = None) -> None:
        key_id = key_id or self.add_key.currentData()
        if not key_id or key_id in self.overrides:
            return
        self.overrides[key_id] = dict(self.default_editor.rule())
        self._fill_override_list(select=key_id)
        self._revalidate()

    def remove_override(self) -> None:
        if self._showing is not None:
            self.overrides.pop(self._showing, None)
            self._fill_override_list()
            self._revalidate()

    # -- validation and saving ---------------------------------------------------------------
    def all_problems(self) -> list[str]:
        reference = (self.providers, self.regions, self.cheapest)
        problems = [
            self.tr("Default: {0}").format(p)
            for p in rule_problems(self.default_editor.rule(), *reference)
        ]
        for key_id, rule in self.overrides.items():
            problems += [
                self.tr("Override for {0}: {1}").format(self._key_label(key_id), p)
                for p in rule_problems(rule, *reference)
            ]
        return problems

    def _revalidate(self) -> None:
        problems = self.all_problems()
        self.default_editor.show_price_problem(
            price_problem(self.default_editor.rule()["max_price_per_mtok"], self.cheapest))
        shown = self.overrides.get(self._showing) if self._showing is not None else None
        self.override_editor.show_price_problem(
            price_problem(shown["max_price_per_mtok"], self.cheapest) if shown else None)
        notes = [self.tr("Default: {0}").format(n) for n in rule_notes(self.default_editor.rule())]
        for key_id, rule in self.overrides.items():
            notes += [
                self.tr("Override for {0}: {1}").format(self._key_label(key_id), n)
                for n in rule_notes(rule)
            ]
        from html import escape  # not at start-up: html loads its entity tables (3 ms)

        html = "".join(f"<div style='color:#b71c1c'>✖ {escape(p)}</div>" for p in problems)
        html += "".join(f"<div style='color:#6d5200'>ℹ {escape(n)}</div>" for n in notes)
        self.problems.setText(html)
        self.problems.setVisible(bool(html))
        blocked = bool(problems) or self.reason is not None or self.runner.busy
        self.ok_button.setEnabled(not blocked)
        self.ok_button.setToolTip(
            self.reason or (self.tr("Fix the problems listed first.") if problems else "")
        )

    def validate(self) -> str | None:
        if self.reason:
            return self.reason
        problems = self.all_problems()
        return problems[0] if problems else None

    def config_body(self) -> dict[str, Any]:
        return {
            "default": self.default_editor.rule(),
            "overrides": {k: dict(v) for k, v in self.overrides.items()},
        }

    def operation(self) -> Callable[[Any], Any]:
        body = self.config_body()
        return lambda client: client.put_routing(body)

    def progress_text(self) -> str:
        return self.tr("Saving the routing settings…")

    def set_form_enabled(self, enabled: bool) -> None:
        for widget in (
            self.default_editor,
            self.override_list,
            self.add_key,
            self.add_button,
            self.remove_button,
            self.buttons,
        ):
            widget.setEnabled(enabled)
        self.override_editor.setEnabled(enabled and self._showing is not None)
        if enabled:
            self._revalidate()
