"""How much of a key's credit limit has been used."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pydantic loads after the first paint; these are only types
    from ..api.models import Key


def limit_used_percent(key: Key) -> float | None:
    """How much of the key's credit limit this period has used, or None without a limit.

    The platform's remaining amount is preferred (it knows the reset period); without it
    the month's usage stands in. A limit of 0 (or below) has no percentage.
    """
    if key.credit_limit is None or key.credit_limit <= 0:
        return None
    if key.limit_remaining is not None:
        used = key.credit_limit - key.limit_remaining
    elif key.usage_month is not None:
        used = key.usage_month
    else:
        return None
    return float(used / key.credit_limit * 100)
