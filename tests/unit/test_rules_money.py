"""Amounts typed by a person: read, refused with a reason, never guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lowdash_desktop.rules.money import (
    MAX_AMOUNT,
    AmountProblem,
    Unreadable,
    amount_problem,
    parse_money,
    read_money,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25", Decimal("25")),
        (" 25.50 ", Decimal("25.50")),
        ("2,50", Decimal("2.50")),  # a decimal comma, as typed in much of Europe
        ("0", Decimal("0")),
        ("-3", Decimal("-3")),
        ("0.0000001", Decimal("0.0000001")),
        ("1e3", Decimal("1000")),
    ],
)
def test_parse_money_reads_what_people_type(text, expected):
    assert parse_money(text) == expected


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_is_no_amount(text):
    assert parse_money(text) is None
    assert read_money(text) is None
    assert amount_problem(text) is None


@pytest.mark.parametrize("text", ["abc", "12 EUR", "1,000.50", "NaN", "Infinity", "-inf", "--1"])
def test_unreadable_amounts_raise_and_are_typed(text):
    with pytest.raises(ValueError):
        parse_money(text)
    assert read_money(text) == Unreadable(text)
    assert amount_problem(text) is AmountProblem.UNREADABLE


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0", None),
        ("0.01", None),
        ("25.5", None),
        ("1000000", None),  # the maximum itself is allowed
        ("1000000.00", None),
        ("1000000.01", AmountProblem.TOO_HIGH),
        ("1e9", AmountProblem.TOO_HIGH),  # the typo the maximum is for
        ("-0.01", AmountProblem.NEGATIVE),
        ("0.001", AmountProblem.TOO_PRECISE),
        ("25.505", AmountProblem.TOO_PRECISE),
        ("25.500", None),  # trailing zeros are still cents
    ],
)
def test_amount_problem_boundaries(text, problem):
    assert amount_problem(text) is problem


def test_amount_problem_with_another_maximum():
    assert amount_problem("11", maximum=Decimal("10")) is AmountProblem.TOO_HIGH
    assert amount_problem("10", maximum=Decimal("10")) is None
    assert MAX_AMOUNT == Decimal("1000000")
