"""When an auto-routing rule can be saved: the platform's own checks, and a price cap that
would block every provider. Also the legal but probably unintended combinations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from .money import MAX_AMOUNT, Unreadable

# a maximum price above this is a typo (1e9), as for a key's credit limit
MAX_PRICE = MAX_AMOUNT

Cheapest = tuple[Decimal, str]  # the lowest price listed per million tokens, and for what


class Problem(Enum):
    """Why a rule cannot be saved."""

    PREFERENCE_NEEDS_PROVIDER = "preference_needs_provider"
    STRATEGY_NEEDS_PROVIDER = "strategy_needs_provider"
    UNKNOWN_PROVIDER = "unknown_provider"
    UNKNOWN_REGION = "unknown_region"
    PRICE_UNREADABLE = "price_unreadable"
    PRICE_NEGATIVE = "price_negative"
    PRICE_ZERO = "price_zero"  # no model is free: 0 blocks every provider
    PRICE_TOO_HIGH = "price_too_high"
    PRICE_BELOW_CHEAPEST = "price_below_cheapest"  # blocks every provider listed


@dataclass(frozen=True)
class RuleProblem:
    """One problem, with what the sentence about it names."""

    kind: Problem
    name: str = ""  # the provider or region the platform does not know
    price: Decimal | None = None  # the price cap, for PRICE_BELOW_CHEAPEST
    cheapest: Cheapest | None = None  # for PRICE_BELOW_CHEAPEST


class Note(Enum):
    """A combination the platform accepts that is probably not what was meant."""

    PROVIDER_IGNORED = "provider_ignored"
    CLOSEST_WITHOUT_REGION = "closest_without_region"


def price_problem(
    price: Decimal | Unreadable | None, cheapest: Cheapest | None = None
) -> RuleProblem | None:
    """Why a maximum price per million tokens cannot be saved, or None (None: no maximum)."""
    if isinstance(price, Unreadable):
        return RuleProblem(Problem.PRICE_UNREADABLE)
    if price is None:
        return None
    if price < 0:
        return RuleProblem(Problem.PRICE_NEGATIVE)
    if price == 0:
        return RuleProblem(Problem.PRICE_ZERO)
    if price > MAX_PRICE:
        return RuleProblem(Problem.PRICE_TOO_HIGH)
    if cheapest is not None and price < cheapest[0]:
        return RuleProblem(Problem.PRICE_BELOW_CHEAPEST, price=price, cheapest=cheapest)
    return None


def rule_problems(
    rule: Mapping[str, Any],
    providers: Iterable[str] = (),
    regions: Iterable[str] = (),
    cheapest: Cheapest | None = None,
) -> list[RuleProblem]:
    """Why a rule cannot be saved, or [] (mirrors the platform's own checks; the price cap is
    also held against the cheapest price known). Unknown names count only when the platform's
    lists are known (empty lists: not known yet)."""
    problems: list[RuleProblem] = []
    provider = rule.get("fixed_provider")
    if rule.get("preference") == "fixed_provider" and not provider:
        problems.append(RuleProblem(Problem.PREFERENCE_NEEDS_PROVIDER))
    if rule.get("strategy") == "fixed" and not provider:
        problems.append(RuleProblem(Problem.STRATEGY_NEEDS_PROVIDER))
    known_providers, known_regions = set(providers), set(regions)
    if provider and known_providers and provider not in known_providers:
        problems.append(RuleProblem(Problem.UNKNOWN_PROVIDER, name=provider))
    region = rule.get("prefer_region")
    if region and known_regions and region not in known_regions:
        problems.append(RuleProblem(Problem.UNKNOWN_REGION, name=region))
    price = price_problem(rule.get("max_price_per_mtok"), cheapest)
    if price is not None:
        problems.append(price)
    return problems


def rule_notes(rule: Mapping[str, Any]) -> list[Note]:
    """Legal but probably unintended combinations (said, never blocking)."""
    notes = []
    if (
        rule.get("fixed_provider")
        and rule.get("strategy") == "auto"
        and rule.get("preference") != "fixed_provider"
    ):
        notes.append(Note.PROVIDER_IGNORED)
    if rule.get("preference") == "closest" and not rule.get("prefer_region"):
        notes.append(Note.CLOSEST_WITHOUT_REGION)
    return notes
