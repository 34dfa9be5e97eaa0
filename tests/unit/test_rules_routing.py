"""When a routing rule can be saved: typed problems, the price cap's edges, the notes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lowdash_desktop.rules.money import Unreadable
from lowdash_desktop.rules.routing import (
    MAX_PRICE,
    Note,
    Problem,
    RuleProblem,
    price_problem,
    rule_notes,
    rule_problems,
)

BASE = {
    "strategy": "auto",
    "preference": "cheapest",
    "prefer_region": None,
    "fixed_provider": None,
    "max_price_per_mtok": None,
}
CHEAPEST = (Decimal("0.10"), "mistral/small on ovh")


def kinds(rule, *args) -> list[Problem]:
    return [p.kind for p in rule_problems(rule, *args)]


def test_a_plain_rule_has_no_problem():
    assert rule_problems(BASE) == []
    assert rule_notes(BASE) == []


def test_a_fixed_choice_needs_a_provider():
    assert kinds({**BASE, "preference": "fixed_provider"}) == [Problem.PREFERENCE_NEEDS_PROVIDER]
    assert kinds({**BASE, "strategy": "fixed"}) == [Problem.STRATEGY_NEEDS_PROVIDER]
    both = {**BASE, "strategy": "fixed", "preference": "fixed_provider"}
    assert kinds(both) == [Problem.PREFERENCE_NEEDS_PROVIDER, Problem.STRATEGY_NEEDS_PROVIDER]
    assert kinds({**both, "fixed_provider": "ovh"}) == []


def test_unknown_names_count_only_against_known_lists():
    rule = {**BASE, "strategy": "fixed", "fixed_provider": "acme", "prefer_region": "mars-1"}
    assert kinds(rule) == []  # the lists are not known yet: the platform decides
    assert rule_problems(rule, ["ovh"], ["fr-par"]) == [
        RuleProblem(Problem.UNKNOWN_PROVIDER, name="acme"),
        RuleProblem(Problem.UNKNOWN_REGION, name="mars-1"),
    ]
    assert kinds(rule, ["acme"], ["mars-1"]) == []


@pytest.mark.parametrize(
    ("price", "kind"),
    [
        (None, None),
        (Unreadable("2.5 EUR"), Problem.PRICE_UNREADABLE),
        (Decimal("-0.01"), Problem.PRICE_NEGATIVE),
        (Decimal("0"), Problem.PRICE_ZERO),
        (Decimal("0.0000001"), None),  # tiny but not zero, and no cheapest price known
        (MAX_PRICE, None),
        (MAX_PRICE + Decimal("0.01"), Problem.PRICE_TOO_HIGH),
    ],
)
def test_price_cap_edges(price, kind):
    problem = price_problem(price)
    assert (problem.kind if problem else None) is kind


def test_price_below_the_cheapest_listed_blocks_every_provider():
    problem = price_problem(Decimal("0.09"), CHEAPEST)
    assert problem == RuleProblem(
        Problem.PRICE_BELOW_CHEAPEST, price=Decimal("0.09"), cheapest=CHEAPEST
    )
    assert price_problem(Decimal("0.10"), CHEAPEST) is None  # equal to it is allowed
    assert price_problem(None, CHEAPEST) is None  # no cap: nothing to compare
    # a worse problem is said first: zero and negative are not 'below the cheapest'
    assert price_problem(Decimal("0"), CHEAPEST).kind is Problem.PRICE_ZERO


def test_price_problem_is_among_the_rule_problems():
    rule = {**BASE, "max_price_per_mtok": Unreadable("x")}
    assert kinds(rule) == [Problem.PRICE_UNREADABLE]


def test_notes_for_legal_but_odd_combinations():
    assert rule_notes({**BASE, "fixed_provider": "ovh"}) == [Note.PROVIDER_IGNORED]
    assert rule_notes({**BASE, "fixed_provider": "ovh", "strategy": "fixed"}) == []
    assert rule_notes({**BASE, "fixed_provider": "ovh", "preference": "fixed_provider"}) == []
    assert rule_notes({**BASE, "preference": "closest"}) == [Note.CLOSEST_WITHOUT_REGION]
    assert rule_notes({**BASE, "preference": "closest", "prefer_region": "fr-par"}) == []
