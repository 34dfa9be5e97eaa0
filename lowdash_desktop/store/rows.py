"""Conversion between platform Generation objects and cache rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..api.models import Generation

NANOS = Decimal(1_000_000_000)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

GENERATION_COLUMNS: tuple[str, ...] = (
    "id", "seq", "revision", "created_at", "key_id", "model", "resolved_model", "provider",
    "region", "latency_ms", "finish_reason", "streamed", "prompt_tokens", "completion_tokens",
    "reasoning_tokens", "cached_tokens", "total_tokens", "cost", "cost_nanos", "currency",
    "energy_wh", "energy_wh_low", "energy_wh_high", "carbon_g", "carbon_g_low",
    "carbon_g_high", "grid_intensity", "methodology_version", "confidence", "caveats",
)


def to_ms(moment: datetime) -> int:
    """UTC milliseconds since the epoch."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    """An aware UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def rfc3339(ms: int) -> str:
    """`2026-11-24T13:05:07.123Z` from epoch milliseconds."""
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def money_to_nanos(amount: Decimal) -> int:
    """Exact integer nano-units for SQL sums and sorting."""
    return int((amount * NANOS).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def nanos_to_money(nanos: int) -> Decimal:
    """Back from nano-units to a normalized Decimal."""
    value = Decimal(nanos) / NANOS
    return value.quantize(Decimal("0.000000001")).normalize() if nanos else Decimal(0)


def generation_row(gen: Generation) -> tuple:
    """The values of GENERATION_COLUMNS for one generation."""
    eco = gen.eco
    tok = gen.tokens
    return (
        gen.id, gen.seq, gen.revision, to_ms(gen.created_at), gen.key_id, gen.model,
        gen.resolved_model or gen.model, gen.provider, gen.region, gen.latency_ms, gen.finish_reason,
        None if gen.streamed is None else int(gen.streamed),
        tok.prompt, tok.completion, tok.reasoning, tok.cached, tok.total,
        # "f": the platform's plain decimal text; str() would turn 0.000000986 into 9.86E-7
        format(gen.cost.amount, "f"), money_to_nanos(gen.cost.amount), gen.cost.currency,
        eco.energy_wh.value if eco else None,
        eco.energy_wh.low if eco else None,
        eco.energy_wh.high if eco else None,
        eco.carbon_g.value if eco else None,
        eco.carbon_g.low if eco else None,
        eco.carbon_g.high if eco else None,
        eco.grid_intensity_g_per_kwh if eco else None,
        eco.methodology_version if eco else None,
        eco.confidence if eco else None,
        json.dumps(eco.caveats) if eco else None,
    )
