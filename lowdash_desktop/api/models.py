"""Pydantic models of the lowrouter platform objects (platform-api.md, v1)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    model_validator,
)

# Bounds on a decimal amount, checked before anything expands it: `1e-99999999` is a short
# string that plain formatting turns into 100 MB of zeros. No real amount needs more than 40
# significant digits, nor a magnitude outside 1e-30 .. 1e18.
MAX_DECIMAL_TEXT = 64
MAX_DECIMAL_DIGITS = 40
MIN_DECIMAL_EXPONENT = -30
MAX_DECIMAL_ADJUSTED = 18
# the contract's decimal strings: ASCII digits, one point, an optional sign and exponent
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def _to_decimal(value: Any) -> Decimal:
    """Money arrives as a decimal string; floats are refused because they are lossy."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, str):
        if len(value) > MAX_DECIMAL_TEXT:
            raise ValueError(f"decimal amount too long ({len(value)} characters)")
        if not _DECIMAL_TEXT.fullmatch(value):  # Decimal() also takes '1_000', '０.５', ' 1 '
            raise ValueError(f"not a decimal amount: {value[:24]!r}")
        try:
            result = Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(f"not a decimal amount: {value!r}") from exc
    elif isinstance(value, int) and not isinstance(value, bool):
        if not -(10**MAX_DECIMAL_ADJUSTED) < value < 10**MAX_DECIMAL_ADJUSTED:
            raise ValueError("amount out of range")
        result = Decimal(value)
    else:
        raise ValueError(f"money must be a decimal string, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"money must be finite, got {value!r}")
    if result:
        shape = result.as_tuple()  # once: it is on the path of every record of the feed
        exponent = shape.exponent
        digits = len(shape.digits)
        adjusted = result.adjusted()
        if (
            digits > MAX_DECIMAL_DIGITS
            or not isinstance(exponent, int)
            or exponent < MIN_DECIMAL_EXPONENT - MAX_DECIMAL_DIGITS
            or adjusted >= MAX_DECIMAL_ADJUSTED
            or adjusted < MIN_DECIMAL_EXPONENT
        ):
            raise ValueError(f"amount out of range: {str(value)[:24]!r}")
    else:
        result = Decimal(0)  # 0E-99999999 is zero too, without the exponent
    return result


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp has no time zone")
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # 9999-12-31T23:00:00-05:00 is past year 9999 in UTC
        raise ValueError("timestamp out of range") from exc


Money = Annotated[Decimal, BeforeValidator(_to_decimal)]
UtcDateTime = Annotated[datetime, AfterValidator(_to_utc)]
# Identifiers and names of the feed: longer ones are not a platform's, they are an attack on
# every table cell, CSV and log line that shows them.
MAX_NAME = 256
Name = Annotated[str, Field(max_length=MAX_NAME)]


class ApiModel(BaseModel):
    """Base for every platform object: unknown fields are ignored (forward compatibility)."""

    # Infinity and NaN (json accepts both, and 1e400 becomes inf) are never a figure
    model_config = ConfigDict(
        extra="ignore", frozen=True, populate_by_name=True, allow_inf_nan=False,
        str_max_length=20_000,
    )


class Account(ApiModel):
    id: str
    email: str
    name: str = ""
    currency: str
    created_at: UtcDateTime
    timezone: str = "UTC"


class Credits(ApiModel):
    currency: str
    balance: Money
    spent_this_month: Money
    topup_url: str | None = None


class Topup(ApiModel):
    id: str
    created_at: UtcDateTime
    amount: Money
    currency: str
    method: str = ""
    status: Literal["succeeded", "pending", "failed"] | str
    receipt_url: str | None = None


class Tokens(ApiModel):
    prompt: NonNegativeInt = 0
    completion: NonNegativeInt = 0
    reasoning: NonNegativeInt = 0
    cached: NonNegativeInt = 0
    total: NonNegativeInt = 0


class Cost(ApiModel):
    amount: Money
    currency: Name


# An energy (Wh) or carbon (g) figure of one generation: a terawatt-hour is not one.
MAX_FIGURE = 1e12


class Range(ApiModel):
    value: float = Field(ge=0, le=MAX_FIGURE)
    low: float | None = Field(default=None, ge=0, le=MAX_FIGURE)
    high: float | None = Field(default=None, ge=0, le=MAX_FIGURE)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        """A range whose ends do not hold its value (low 2, value 1, high 0.5) says nothing
        about the uncertainty: the estimate is kept without it."""
        low = self.value if self.low is None else self.low
        high = self.value if self.high is None else self.high
        if not low <= self.value <= high:
            object.__setattr__(self, "low", None)
            object.__setattr__(self, "high", None)
        return self


class Eco(ApiModel):
    energy_wh: Range
    carbon_g: Range
    grid_intensity_g_per_kwh: float | None = Field(default=None, ge=0, le=1e5)
    methodology_version: Name = ""
    confidence: Name = "estimated"
    caveats: list[str] = Field(default_factory=list)


class ConsideredProvider(ApiModel):
    provider: str
    region: str | None = None
    eligible: bool = True
    price_per_mtok: Money | None = None
    carbon_g_per_mtok: float | None = None
    est_latency_ms: float | None = None
    rejected_because: str | None = None


class Attempt(ApiModel):
    provider: str
    region: str | None = None
    status: int
    latency_ms: float | None = None


class Routing(ApiModel):
    strategy: str = "auto"
    preference: str | None = None
    considered: list[ConsideredProvider] = Field(default_factory=list)
    attempts: list[Attempt] = Field(default_factory=list)
    picked: str | None = None
    reason: str | None = None


class Generation(ApiModel):
    id: str = Field(min_length=1, max_length=MAX_NAME)
    seq: int | None = None
    revision: int = Field(default=1, ge=1)
    created_at: UtcDateTime
    key_id: Name | None = None
    model: Name
    resolved_model: Name | None = None
    provider: Name | None = None
    region: Name | None = None
    latency_ms: NonNegativeInt | None = None
    finish_reason: Name | None = None
    streamed: bool | None = None
    tokens: Tokens = Field(default_factory=Tokens)
    cost: Cost
    eco: Eco | None = None
    routing: Routing | None = None


class GenerationPage(ApiModel):
    """One page of the change feed; items stay raw so a bad record can be set aside alone."""

    # a cursor of any length is read, so the page's records are kept; the engine judges it
    model_config = ConfigDict(str_max_length=None)

    data: list[Any]
    next_cursor: str | None = None
    has_more: bool = False


ParamCount = float | dict[str, float]


class ModelInfo(ApiModel):
    id: str
    name: str = ""
    providers: list[str] = Field(default_factory=list)
    architecture: str = "dense"
    params_total_b: ParamCount | None = None
    params_active_b: ParamCount | None = None
    params_status: str = "estimated"
    price_prompt_per_mtok: Money | None = None
    price_completion_per_mtok: Money | None = None


class ProviderEco(ApiModel):
    pue: float
    region_default: str | None = None


class EcoMethodology(ApiModel):
    version: str
    published_at: UtcDateTime | None = None
    description_url: str | None = None
    method: str = "ecologits"
    method_version: str | None = None
    providers: dict[str, ProviderEco] = Field(default_factory=dict)
    grid_intensity: dict[str, float] = Field(default_factory=dict)


LimitReset = Literal["daily", "weekly", "monthly"]


class Key(ApiModel):
    id: str
    name: str
    prefix: str
    scopes: list[str] = Field(default_factory=list)
    disabled: bool = False
    credit_limit: Money | None = None
    limit_reset: LimitReset | None = None
    limit_remaining: Money | None = None
    usage_today: Money | None = None
    usage_month: Money | None = None
    created_at: UtcDateTime | None = None
    last_used_at: UtcDateTime | None = None
    expires_at: UtcDateTime | None = None


class KeyWithSecret(ApiModel):
    key: Key
    secret: str

    def __repr__(self) -> str:  # never print a secret by accident
        return f"KeyWithSecret(key={self.key.id!r}, secret=<hidden>)"

    __str__ = __repr__


class RoutingRule(ApiModel):
    strategy: Literal["auto", "fixed"] = "auto"
    preference: Literal["cheapest", "lowest_carbon", "closest", "fixed_provider"] = "cheapest"
    prefer_region: str | None = None
    fixed_provider: str | None = None
    max_price_per_mtok: Money | None = None


class RoutingConfig(ApiModel):
    default: RoutingRule
    overrides: dict[str, RoutingRule] = Field(default_factory=dict)


class Party(ApiModel):
    name: str = ""
    address: str | list[str] | None = None
    vat_id: str | None = None
    email: str | None = None


class InvoiceLine(ApiModel):
    description: str
    quantity: Decimal | float | int = 1
    unit_price: Money
    amount: Money


class Invoice(ApiModel):
    id: str
    number: str
    period_start: date | UtcDateTime
    period_end: date | UtcDateTime
    issued_at: UtcDateTime
    status: str
    currency: str
    subtotal: Money
    tax: Money
    total: Money
    lines: list[InvoiceLine] = Field(default_factory=list)
    seller: Party = Field(default_factory=Party)
    buyer: Party = Field(default_factory=Party)


class Notifications(ApiModel):
    low_balance_threshold: Money | None = None
    key_limit_warning_percent: float | None = None
    weekly_report_email: bool = False


class Settings(ApiModel):
    eco_baseline_model: str | None = None
    notifications: Notifications = Field(default_factory=Notifications)


T = TypeVar("T")


class Page(ApiModel, Generic[T]):
    """A cursor-paged list (top-ups, invoices)."""

    data: list[T]
    next_cursor: str | None = None
    has_more: bool = False
