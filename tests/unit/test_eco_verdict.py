"""Energy and carbon judged apart within their ranges: the verdict, its words, strict JSON."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowdash_desktop.eco import wording
from lowdash_desktop.eco.command import summary_text
from lowdash_desktop.eco.impact import SAME_RELATIVE, EcoReport, Totals, judge
from lowdash_desktop.eco.methodology import Range


def report(actual: Totals, baseline: Totals | None, tokens: int = 50_000) -> EcoReport:
    return EcoReport(
        days=30, start_ms=0, end_ms=30 * 86_400_000, baseline_model="meta/llama-3.1-70b",
        baseline_name="Llama 3.1 70B", actual=actual, baseline=baseline,
        saved=bool(baseline) and baseline.energy_wh.value > actual.energy_wh.value,
        generations=3000, tokens=tokens, methodology_versions=["v"], confidence="normal",
        confidence_reasons=[], caveats=[], day_labels=[date(2026, 11, 1)],
        actual_per_day_wh=[actual.energy_wh.value],
        baseline_per_day_wh=[baseline.energy_wh.value] if baseline else None,
    )


def totals(e: tuple[float, float, float], c: tuple[float, float, float]) -> Totals:
    return Totals(Range(*e), Range(*c))


def text_of(r: EcoReport) -> str:
    return wording.verdict_text(r, wording.fixed_writer())


def test_less_energy_but_more_carbon_is_never_called_saved() -> None:
    """The measured case: 87 Wh less energy, 24 g more carbon (carbon-heavy grids)."""
    r = report(totals((422.7, 420.0, 425.0), (140.0, 139.0, 141.0)),
               totals((510.151, 508.0, 512.0), (116.206, 115.5, 117.0)))
    text = text_of(r)
    assert "saved" not in text.lower()
    assert "less energy" in text and "more carbon" in text and "carbon-heavy grids" in text
    assert "87.5 Wh less" in text and "23.8 g CO₂e more" in text
    assert r.energy_verdict.verdict == "less" and r.carbon_verdict.verdict == "more"
    doc = r.as_json()
    assert doc["saved"] is True, "saved keeps its documented meaning: energy per token"
    assert doc["comparison"]["energy_wh"]["verdict"] == "less"
    assert doc["comparison"]["carbon_g"] == {
        "verdict": "more", "ranges_overlap": False,
        "difference": pytest.approx(116.206 - 140.0),
        "percent": pytest.approx((140.0 - 116.206) / 116.206 * 100),
    }
    cli = summary_text(doc, r)
    assert "You saved" not in cli and "more carbon" in cli


def test_overlapping_ranges_are_about_the_same() -> None:
    r = report(totals((448.0, 332.0, 564.0), (115.0, 82.6, 148.0)),
               totals((509.0, 506.0, 515.0), (128.0, 127.0, 130.0)))
    assert text_of(r) == (
        "About the same energy and carbon as Llama 3.1 70B: the ranges overlap."
    )
    comparison = r.as_json()["comparison"]
    assert comparison["energy_wh"]["ranges_overlap"] and comparison["carbon_g"]["ranges_overlap"]


def test_both_less_beyond_the_ranges_is_saved() -> None:
    r = report(totals((100.0, 90.0, 110.0), (10.0, 9.0, 11.0)),
               totals((200.0, 190.0, 210.0), (20.0, 19.0, 21.0)))
    assert text_of(r) == ("You saved 100 Wh and 10.0 g CO₂e compared with Llama 3.1 70B: "
                          "50% less energy and 50% less carbon.")


def test_exact_values_read_as_one_number_and_real_ranges_never_as_zero_width() -> None:
    fmt = wording.fixed_number
    assert wording.ranged(0.00712, 0.00712, 0.00712, wording.ENERGY_UNITS, fmt) == "0.00712 Wh"
    assert wording.ranged(0.007123, 0.0070001, 0.0071999, wording.ENERGY_UNITS, fmt) == (
        "0.00712 Wh (0.00700 – 0.00720 Wh)")
    text = wording.ranged(0.0071, 0.00710001, 0.00710049, wording.ENERGY_UNITS, fmt)
    low, high = text.split("(")[1].rstrip(")").split(" – ")
    assert low != high.split()[0]
    assert wording.quantity(1234.5, wording.ENERGY_UNITS, fmt) == "1.23 kWh"
    assert wording.quantity(4160.0, wording.CARBON_UNITS, fmt) == "4.16 kg CO₂e"
    assert wording.quantity(0.000999_7, wording.ENERGY_UNITS, fmt) == "0.00100 Wh"
    assert wording.quantity(math.inf, wording.ENERGY_UNITS, fmt) == "unknown"


# -- properties -------------------------------------------------------------------------------
positive = st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_infinity=False)


@st.composite
def ranges(draw) -> Range:
    a, b, c = sorted(draw(st.tuples(positive, positive, positive)))
    return Range(b, a, c)


@st.composite
def anything(draw) -> Range:
    """Ranges that may hold Infinity, NaN or values that overflow when added up."""
    special = st.sampled_from([math.inf, -math.inf, math.nan, 1e308, -1e308])
    value = st.one_of(positive, special)
    return Range(draw(value), draw(value), draw(value))


@settings(max_examples=400, deadline=None)
@given(ranges(), ranges(), ranges(), ranges())
def test_no_text_calls_a_metric_that_rose_saved_or_less(ae, ac, be, bc) -> None:
    r = report(Totals(ae, ac), Totals(be, bc))
    text = text_of(r)
    energy_rose = ae.value > be.value
    carbon_rose = ac.value > bc.value
    if energy_rose or carbon_rose:
        assert "saved" not in text.lower(), text
    if energy_rose:
        assert "less energy" not in text and "energy and carbon compared" not in text, text
    if carbon_rose:
        assert "less carbon" not in text, text
    # overlapping, or apart by less than SAME_RELATIVE of their size (rounding noise)
    def touch(a: Range, b: Range) -> bool:
        slack = SAME_RELATIVE * max(a.high, b.high, a.low, b.low)
        return a.low <= b.high + slack and b.low <= a.high + slack

    overlap_e = touch(ae, be)
    overlap_c = touch(ac, bc)
    if overlap_e:
        assert "about the same energy" in text.lower(), text
        assert r.energy_verdict.verdict == "same" and r.energy_verdict.ranges_overlap
    else:
        assert "about the same energy" not in text.lower(), text
    if overlap_c:
        assert "same energy and carbon" in text.lower() or "same carbon" in text.lower(), text
    doc = r.as_json()
    assert doc["comparison"]["energy_wh"]["ranges_overlap"] == overlap_e
    assert doc["comparison"]["carbon_g"]["ranges_overlap"] == overlap_c
    json.dumps(doc, allow_nan=False)
    cli = summary_text(doc, r)
    if energy_rose or carbon_rose:
        assert "saved" not in cli.lower()


@settings(max_examples=300, deadline=None)
@given(anything(), anything(), anything(), anything(), st.booleans())
def test_json_is_always_strict_and_text_never_claims_on_non_finite(ae, ac, be, bc, base) -> None:
    r = report(Totals(ae, ac), Totals(be, bc) if base else None)
    r.actual_per_day_wh = [ae.value, ae.low]
    r.day_labels = [date(2026, 11, 1), date(2026, 11, 2)]
    if base:
        r.baseline_per_day_wh = [be.value, be.high]
    text = json.dumps(r.as_json(), allow_nan=False)  # raises on Infinity/NaN
    assert "Infinity" not in text and "NaN" not in text
    words = text_of(r)
    finite = all(math.isfinite(x) for g in (ae, ac, be, bc) for x in (g.value, g.low, g.high))
    if not finite:
        assert "saved" not in words.lower() and "less" not in words
    summary_text(r.as_json(), r)  # the readable summary copes with nulls


def test_judge_sides() -> None:
    assert judge(Range(1, 1, 1), Range(1, 1, 1)).verdict == "same"
    assert judge(Range(1, 1, 1), Range(2, 2, 2)).verdict == "less"
    assert judge(Range(3, 2, 4), Range(2, 1, 2.5)).verdict == "same"
    assert judge(Range(3, 2.6, 4), Range(2, 1, 2.5)).verdict == "more"
    assert judge(Range(math.inf, 1, math.inf), Range(2, 1, 3)) is None
