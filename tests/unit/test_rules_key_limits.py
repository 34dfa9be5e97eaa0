"""How much of a key's credit limit is used: the figure the table and the warning share."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lowdash_desktop.api.models import Key
from lowdash_desktop.rules.key_limits import limit_used_percent


def key(**fields) -> Key:
    return Key(id="k", name="k", prefix="lr-k", **fields)


def test_remaining_is_preferred_to_the_months_usage():
    k = key(credit_limit=Decimal("50"), limit_remaining=Decimal("10"), usage_month=Decimal("1"))
    assert limit_used_percent(k) == pytest.approx(80.0)


def test_months_usage_stands_in_without_remaining():
    assert limit_used_percent(key(credit_limit=Decimal("20"), usage_month=Decimal("5"))) == 25.0


def test_over_the_limit_goes_past_100():
    k = key(credit_limit=Decimal("10"), limit_remaining=Decimal("-2.5"))
    assert limit_used_percent(k) == pytest.approx(125.0)


def test_untouched_limit_is_zero_percent():
    assert limit_used_percent(key(credit_limit=Decimal("10"), limit_remaining=Decimal("10"))) == 0


@pytest.mark.parametrize(
    "fields",
    [
        {},  # no limit
        {"usage_month": Decimal("3")},  # usage without a limit
        {"credit_limit": Decimal("0"), "usage_month": Decimal("3")},  # zero limit: no percent
        {"credit_limit": Decimal("10")},  # a limit, nothing to measure against it
    ],
)
def test_no_percentage(fields):
    assert limit_used_percent(key(**fields)) is None
