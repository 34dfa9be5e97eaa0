"""The one energy/carbon formula behind every eco figure: EcoLogits' LLM inference method."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _pkg_version
from typing import Any

from ecologits.impacts.llm import compute_llm_impacts
from ecologits.utils.range_value import RangeValue

try:
    ECOLOGITS_VERSION: str = _pkg_version("ecologits")
except PackageNotFoundError:  # pragma: no cover - ecologits is a hard dependency
    ECOLOGITS_VERSION = "unknown"

METHOD_VERSION: str = f"eco-2026.11+ecologits-{ECOLOGITS_VERSION}"

# Electricity-mix factors that do not influence energy or our carbon figure (we only report
# energy and electricity carbon); EcoLogits still needs them. Values: EcoLogits' world mix (WOR).
IF_ELECTRICITY_MIX_ADPE = 1.349e-08  # kgSbeq / kWh
IF_ELECTRICITY_MIX_PE = 2.5871  # MJ / kWh
IF_ELECTRICITY_MIX_WUE = 3.908  # L / kWh
# On-site water usage effectiveness of a typical hyperscale data centre (does not affect energy).
DATACENTER_WUE = 0.5  # L / kWh

Params = float | tuple[float, float]


@dataclass(frozen=True, slots=True)
class Range:
    """A central value with its low/high bounds."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        """Return the JSON form `{value, low, high}`."""
        return {"value": self.value, "low": self.low, "high": self.high}


ZERO_RANGE = Range(0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class EcoEstimate:
    """Energy (Wh) and electricity carbon (gCO2e) of one generation."""

    energy_wh: Range
    carbon_g: Range


ZERO_ESTIMATE = EcoEstimate(ZERO_RANGE, ZERO_RANGE)


def _as_param(value: Params) -> float | RangeValue:
    """Turn a number or (min, max) tuple into what EcoLogits accepts."""
    if isinstance(value, tuple):
        low, high = value
        if low == high:
            return float(low)
        return RangeValue(min=float(low), max=float(high))
    return float(value)


def _normalize(value: Any) -> Params:
    """Make a parameter count hashable: a float or a (min, max) tuple of floats."""
    if isinstance(value, tuple | list):
        low, high = float(value[0]), float(value[1])
        return low if low == high else (low, high)
    return float(value)


def _bounds(value: Any) -> tuple[float, float]:
    """Low/high of a float or RangeValue."""
    if isinstance(value, RangeValue):
        return float(value.min), float(value.max)
    return float(value), float(value)


@lru_cache(maxsize=262_144)
def _energy_kwh(
    params_active: Params,
    params_total: Params,
    completion_tokens: int,
    latency_s: float | None,
    pue: float,
    grid_kg_per_kwh: float,
) -> tuple[float, float]:
    """Memoized EcoLogits call: (low, high) request energy in kWh."""
    impacts = compute_llm_impacts(
        model_active_parameter_count=_as_param(params_active),
        model_total_parameter_count=_as_param(params_total),
        output_token_count=completion_tokens,
        if_electricity_mix_adpe=IF_ELECTRICITY_MIX_ADPE,
        if_electricity_mix_pe=IF_ELECTRICITY_MIX_PE,
        if_electricity_mix_gwp=grid_kg_per_kwh,
        if_electricity_mix_wue=IF_ELECTRICITY_MIX_WUE,
        datacenter_pue=pue,
        datacenter_wue=DATACENTER_WUE,
        request_latency=latency_s,
    )
    return _bounds(impacts.usage.energy.value)


def estimate(
    params_active: Params,
    params_total: Params,
    completion_tokens: int,
    latency_s: float | None,
    pue: float,
    grid_g_per_kwh: float,
) -> EcoEstimate:
    """Energy and electricity carbon of one generation (EcoLogits LLM inference method)."""
    tokens = int(completion_tokens)
    if tokens <= 0:
        return ZERO_ESTIMATE
    latency = None if latency_s is None or not math.isfinite(latency_s) else float(latency_s)
    low_kwh, high_kwh = _energy_kwh(
        _normalize(params_active),
        _normalize(params_total),
        tokens,
        latency,
        float(pue),
        float(grid_g_per_kwh) / 1000.0,
    )
    low_wh, high_wh = low_kwh * 1000.0, high_kwh * 1000.0
    energy = Range((low_wh + high_wh) / 2.0, low_wh, high_wh)
    factor = float(grid_g_per_kwh) / 1000.0
    carbon = Range(energy.value * factor, low_wh * factor, high_wh * factor)
    return EcoEstimate(energy, carbon)


def parse_param_count(value: Any) -> Params:
    """Parse a `/models` parameter count (number or `{"min", "max"}`) into number-or-tuple."""
    if isinstance(value, dict):
        return _normalize((value["min"], value["max"]))
    if isinstance(value, tuple | list):
        return _normalize(value)
    if value is None:
        raise ValueError("parameter count is missing")
    return float(value)


def params_json(value: Params) -> float | dict[str, float]:
    """Inverse of parse_param_count: the `/models` JSON form."""
    if isinstance(value, tuple):
        return {"min": value[0], "max": value[1]}
    return value


def cache_info() -> Any:
    """Statistics of the internal EcoLogits memo (for benchmarks)."""
    return _energy_kwh.cache_info()
