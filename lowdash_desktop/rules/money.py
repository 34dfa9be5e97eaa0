"""Amounts typed by a person: what they mean and why one cannot be used."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum

# a credit limit, threshold or price above this is a typo: 1e9 was taken as 1,000,000,000.00
# for a key's limit, and kept the low-balance warning on for ever as a threshold
MAX_AMOUNT = Decimal("1000000")
CENT = Decimal("0.01")


def parse_money(text: str) -> Decimal | None:
    """A decimal amount typed by a person ('' means none); raises ValueError when unreadable.

    A comma is read as the decimal point ('2,50' is 2.50): amounts here never carry a
    thousands separator.
    """
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not value.is_finite():
        raise ValueError(text)
    return value


@dataclass(frozen=True)
class Unreadable:
    """Text typed where an amount belongs that reads as none (kept to say so, never sent)."""

    text: str


def read_money(text: str) -> Decimal | Unreadable | None:
    """`parse_money` without the exception: the amount, None for '', or `Unreadable`."""
    try:
        return parse_money(text)
    except ValueError:
        return Unreadable(text)


class AmountProblem(Enum):
    """Why an amount typed for a credit limit or a threshold cannot be used."""

    UNREADABLE = "unreadable"
    NEGATIVE = "negative"
    TOO_HIGH = "too_high"
    TOO_PRECISE = "too_precise"  # more than two decimals: the platform keeps cents


def amount_problem(text: str, maximum: Decimal = MAX_AMOUNT) -> AmountProblem | None:
    """Why `text` is not an amount from 0 to `maximum` in cents, or None ('' is no amount)."""
    try:
        value = parse_money(text)
    except ValueError:
        return AmountProblem.UNREADABLE
    if value is None:
        return None
    if value < 0:
        return AmountProblem.NEGATIVE
    if value > maximum:
        return AmountProblem.TOO_HIGH
    if value != value.quantize(CENT):
        return AmountProblem.TOO_PRECISE
    return None
