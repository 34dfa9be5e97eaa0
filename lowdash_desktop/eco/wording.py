"""How eco figures are put into words: units, significant digits, and the verdict sentence.

Qt-free, so that the CLI (fixed, locale-independent numbers) and the eco panel (the user's
locale, through `ui/formatting.py`) say the same thing: they differ only in how a number
with a given count of decimals is written, which the caller passes in as `number`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .impact import EcoReport, Verdict

SIGNIFICANT = 3
MAX_SIGNIFICANT = 6
ENERGY_UNITS = ((1e6, "MWh"), (1e3, "kWh"), (1.0, "Wh"))
CARBON_UNITS = ((1e6, "t CO₂e"), (1e3, "kg CO₂e"), (1.0, "g CO₂e"))
UNKNOWN = "unknown"

# writes `value` with `decimals` decimals (and the locale's separators, or fixed ones)
NumberWriter = Callable[[float, int], str]


def fixed_number(value: float, decimals: int) -> str:
    """The documented fixed format of the CLI: '1,234.5' whatever the locale."""
    return f"{value:,.{decimals}f}"


def decimals_for(value: float, significant: int = SIGNIFICANT) -> int:
    """Decimals that show `significant` significant digits of `value` (0 for big numbers)."""
    if value == 0 or not math.isfinite(value):
        return 0
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, significant - 1 - magnitude)
    # rounding can carry into a new digit (0.000999 5 -> 0.00100): one decimal fewer then
    if decimals and round(abs(value), decimals) >= 10 ** (magnitude + 1):
        decimals -= 1
    return decimals


def scaled(value: float, units: tuple[tuple[float, str], ...]) -> tuple[float, str]:
    """The value in the largest unit it reaches (the smallest unit below that)."""
    for factor, unit in units:
        if abs(value) >= factor:
            return value / factor, unit
    return value / units[-1][0], units[-1][1]


def quantity(
    value: float | None, units: tuple[tuple[float, str], ...], number: NumberWriter,
    significant: int = SIGNIFICANT,
) -> str:
    """'0.00712 Wh', '448 Wh', '1.23 kWh': three significant digits, in a readable unit."""
    if value is None or not math.isfinite(value):
        return UNKNOWN
    shown, unit = scaled(value, units)
    if shown and not 1e-4 <= abs(shown) < 1e6:
        # past the units' reach: a power of ten keeps three significant digits readable
        # ('5.00×10⁻¹² Wh', never twelve zeros or a 300-digit number)
        return f"{power_of_ten(shown, significant, number)} {unit}"
    return f"{number(shown, decimals_for(shown, significant))} {unit}"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(value: float, significant: int, number: NumberWriter) -> str:
    """'5.00×10⁻¹²': the mantissa with `significant` digits, written by `number`."""
    mantissa_text, _, exponent_text = f"{value:.{significant - 1}e}".partition("e")
    mantissa, exponent = float(mantissa_text), int(exponent_text)  # subnormals too
    return f"{number(mantissa, significant - 1)}×10{str(exponent).translate(_SUPERSCRIPT)}"


def ranged(
    value: float | None, low: float | None, high: float | None,
    units: tuple[tuple[float, str], ...], number: NumberWriter,
) -> str:
    """'0.00712 Wh (0.00700 – 0.00745 Wh)'; one number when the value is exact.

    The bounds get more significant digits (up to six) when three would print them alike,
    so that a real range never reads as a zero-width one.
    """
    if low is None or high is None or low == high:
        return quantity(value, units, number)
    for digits in range(SIGNIFICANT, MAX_SIGNIFICANT + 1):
        lo, hi = quantity(low, units, number, digits), quantity(high, units, number, digits)
        if lo != hi:
            break
    lo_unit, hi_unit = scaled(low, units)[1], scaled(high, units)[1]
    if lo != UNKNOWN and hi != UNKNOWN and lo_unit == hi_unit:
        lo = lo[: -len(lo_unit) - 1]  # '0.00700 – 0.00745 Wh': the unit once when shared
    return f"{quantity(value, units, number)} ({lo} – {hi})"


def percent(value: float, number: NumberWriter) -> str:
    """'23%', '4.2%', '0.31%': two significant digits below 10 %."""
    value = abs(value)
    if 0 < value < 0.01:
        return f"<{number(0.01, 2)}%"  # noise-sized differences never read as a figure
    if value >= 1e6:
        return f"{power_of_ten(value, 3, number)}%"
    decimals = 0 if value >= 10 else decimals_for(value, 2)
    return f"{number(value, decimals)}%"


@dataclass(frozen=True, slots=True)
class Writer:
    """The formatters a verdict sentence uses."""

    energy: Callable[[float], str]
    carbon: Callable[[float], str]
    percent: Callable[[float], str]


def fixed_writer() -> Writer:
    """Locale-independent formatters (the CLI)."""
    return Writer(
        energy=lambda wh: quantity(wh, ENERGY_UNITS, fixed_number),
        carbon=lambda g: quantity(g, CARBON_UNITS, fixed_number),
        percent=lambda p: percent(p, fixed_number),
    )


def _clause(verdict: Verdict, metric: str, name: str, amount: Callable[[float], str],
            pct: Callable[[float], str]) -> str:
    """One metric's verdict: 'about the same energy as X: the ranges overlap', '23% less …'."""
    if verdict.verdict == "same":
        return f"about the same {metric} as {name}: the ranges overlap"
    word = "less" if verdict.verdict == "less" else "more"
    share = f"{pct(verdict.percent)} " if verdict.percent is not None else ""
    return f"{share}{word} {metric} than {name} ({amount(abs(verdict.difference))} {word})"


def verdict_text(report: EcoReport, writer: Writer) -> str:
    """Energy and carbon judged apart. "You saved" only when both are below the baseline
    beyond the uncertainty of the estimates; a metric that rose is said to have risen; a
    difference within the overlapping ranges is said to be within them."""
    name = report.baseline_name or report.baseline_model or "the baseline"
    if report.baseline is None or report.tokens <= 0:
        return "No comparison available."
    energy, carbon = report.energy_verdict, report.carbon_verdict
    if energy is None or carbon is None:
        return "No comparison available: some figures are not finite numbers (see caveats)."
    if energy.verdict == "less" and carbon.verdict == "less":
        shares = ""
        if energy.percent is not None and carbon.percent is not None:
            shares = (f": {writer.percent(energy.percent)} less energy and "
                      f"{writer.percent(carbon.percent)} less carbon")
        return (f"You saved {writer.energy(energy.difference)} and "
                f"{writer.carbon(carbon.difference)} compared with {name}{shares}.")
    if energy.verdict == "same" and carbon.verdict == "same":
        return f"About the same energy and carbon as {name}: the ranges overlap."
    if energy.verdict == "more" and carbon.verdict == "more":
        def more(v: Verdict, metric: str, amount: Callable[[float], str]) -> str:
            share = f"{writer.percent(v.percent)} " if v.percent is not None else ""
            return f"{share}more {metric} ({amount(abs(v.difference))} more)"

        return (f"Your usage used more energy and more carbon than {name} would have: "
                f"{more(energy, 'energy', writer.energy)} and "
                f"{more(carbon, 'carbon', writer.carbon)}.")
    first = _clause(energy, "energy", name, writer.energy, writer.percent)
    second = _clause(carbon, "carbon", name, writer.carbon, writer.percent)
    contrast = {energy.verdict, carbon.verdict} == {"less", "more"}
    text = f"{first[0].upper()}{first[1:]}{', but ' if contrast else '; '}{second}"
    if carbon.verdict == "more" and energy.verdict != "more":
        text += ": more of your usage ran on carbon-heavy grids"
    elif carbon.verdict == "less" and energy.verdict == "more":
        text += ": more of your usage ran on low-carbon grids"
    return text + "."
