"""The 30-day eco aggregation: hand-made caches, baseline re-pricing, confidence, bad input."""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import pytest

from lowdash_desktop.eco import impact
from lowdash_desktop.eco import methodology as eco
from lowdash_desktop.store import rollup
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.store.rows import GENERATION_COLUMNS

NOW = 1_780_000_000_000
DAY = 86_400_000
MODELS = [
    {"id": "small", "name": "Small 8B", "params_active_b": 8, "params_total_b": 8,
     "params_status": "verified"},
    {"id": "big", "name": "Big 70B", "params_active_b": 70, "params_total_b": 70,
     "params_status": "verified"},
    {"id": "guess", "name": "Guess", "params_active_b": {"min": 20, "max": 80},
     "params_total_b": {"min": 100, "max": 400}, "params_status": "estimated"},
]
METHOD = {
    "version": eco.METHOD_VERSION,
    "method": "ecologits",
    "providers": {"prov": {"pue": 1.2, "region_default": "eu"},
                  "other": {"pue": 1.4, "region_default": "us"}},
    "grid_intensity": {"eu": 50.0, "us": 400.0},
}


def model_ref(model_id: str) -> dict:
    return next(m for m in MODELS if m["id"] == model_id)


def row(i: int, model: str = "small", provider: str = "prov", region: str = "eu",
        tokens: int = 200, latency_ms: int | None = 4000, age_ms: int = DAY,
        stored: bool = True, version: str = eco.METHOD_VERSION, grid: float | None = None):
    """A cache row; its eco figures computed the way the platform does when `stored`."""
    vals = {c: None for c in GENERATION_COLUMNS}
    vals.update(
        id=f"g{i}", seq=i, revision=1, created_at=NOW - age_ms, model=model,
        resolved_model=model, provider=provider, region=region, latency_ms=latency_ms,
        prompt_tokens=10, completion_tokens=tokens, total_tokens=tokens + 10,
        reasoning_tokens=0, cached_tokens=0, cost="0.001",
        cost_nanos=1_000_000, currency="EUR", methodology_version=version,
        confidence="verified", caveats="[]",
    )
    ref = {m["id"]: m for m in MODELS}.get(model)
    if stored and ref is not None:
        g = METHOD["grid_intensity"].get(region, grid or 0.0)
        est = eco.estimate(
            eco.parse_param_count(ref["params_active_b"]),
            eco.parse_param_count(ref["params_total_b"]),
            tokens, None if latency_ms is None else latency_ms / 1000,
            METHOD["providers"].get(provider, {"pue": 1.3})["pue"], g,
        )
        vals.update(
            energy_wh=est.energy_wh.value, energy_wh_low=est.energy_wh.low,
            energy_wh_high=est.energy_wh.high, carbon_g=est.carbon_g.value,
            carbon_g_low=est.carbon_g.low, carbon_g_high=est.carbon_g.high, grid_intensity=g,
        )
    elif stored:
        vals.update(energy_wh=0.5, energy_wh_low=0.5, energy_wh_high=0.5, carbon_g=0.1,
                    carbon_g_low=0.1, carbon_g_high=0.1, grid_intensity=grid)
    return tuple(vals[c] for c in GENERATION_COLUMNS)


@pytest.fixture
def cache(tmp_path: Path):
    cache, _ = Cache.open(tmp_path / "c.sqlite3")
    cache.save_snapshot("models", MODELS)
    cache.save_snapshot("methodology", METHOD)
    cache.save_snapshot("settings", {"eco_baseline_model": "big", "notifications": {}})
    yield cache
    cache.close()


def fill(cache: Cache, rows) -> None:
    cache.apply_page(list(rows), [], None)


def baseline_by_hand(rows, baseline: str) -> tuple[float, float]:
    """Per-row re-pricing with the documented rule, independent of the SQL grouping."""
    base = model_ref(baseline)
    b_active = eco.parse_param_count(base["params_active_b"])
    b_mid = sum(b_active) / 2 if isinstance(b_active, tuple) else b_active
    energy = carbon = 0.0
    cols = {c: i for i, c in enumerate(GENERATION_COLUMNS)}
    for r in rows:
        actual = eco.parse_param_count(model_ref(r[cols["resolved_model"]])["params_active_b"])
        a_mid = sum(actual) / 2 if isinstance(actual, tuple) else actual
        latency = r[cols["latency_ms"]] / 1000 * b_mid / a_mid
        grid = METHOD["grid_intensity"][r[cols["region"]]]
        est = eco.estimate(
            eco.parse_param_count(base["params_active_b"]),
            eco.parse_param_count(base["params_total_b"]),
            r[cols["completion_tokens"]], latency,
            METHOD["providers"][r[cols["provider"]]]["pue"], grid,
        )
        energy += est.energy_wh.value
        carbon += est.carbon_g.value
    return energy, carbon


def test_actual_is_the_stored_figures_and_baseline_matches_per_row(cache) -> None:
    rng = random.Random(3)
    rows = [
        row(i, model=rng.choice(["small", "guess"]), provider=rng.choice(["prov", "other"]),
            region=rng.choice(["eu", "us"]), tokens=rng.randint(5, 1500),
            latency_ms=rng.randint(200, 60_000), age_ms=rng.randint(1, 29 * DAY))
        for i in range(400)
    ]
    fill(cache, rows)
    report = impact.report_from_cache(cache, 30, now_ms=NOW)
    cols = {c: i for i, c in enumerate(GENERATION_COLUMNS)}
    assert report.generations == 400
    assert report.tokens == sum(r[cols["completion_tokens"]] for r in rows)
    assert report.actual.energy_wh.value == pytest.approx(sum(r[cols["energy_wh"]] for r in rows))
    assert report.actual.carbon_g.high == pytest.approx(sum(r[cols["carbon_g_high"]] for r in rows))
    energy, carbon = baseline_by_hand(rows, "big")
    assert report.baseline is not None
    assert report.baseline.energy_wh.value == pytest.approx(energy, rel=0.01)
    assert report.baseline.carbon_g.value == pytest.approx(carbon, rel=0.01)
    assert sum(report.actual_per_day_wh) == pytest.approx(report.actual.energy_wh.value)
    assert sum(report.baseline_per_day_wh) == pytest.approx(report.baseline.energy_wh.value)
    assert len(report.day_labels) in (30, 31)


def test_saved_only_when_baseline_uses_more_per_token(cache) -> None:
    fill(cache, [row(i, model="small", tokens=300, age_ms=DAY + i) for i in range(150)])
    bigger = impact.report_from_cache(cache, 30, baseline="big", now_ms=NOW)
    assert bigger.saved and bigger.difference_wh > 0
    cache.conn.execute("DELETE FROM generations")
    cache.conn.commit()
    fill(cache, [row(i, model="big", tokens=300, age_ms=DAY + i) for i in range(150)])
    smaller = impact.report_from_cache(cache, 30, baseline="small", now_ms=NOW)
    assert not smaller.saved and smaller.difference_wh < 0


def test_same_model_as_baseline_reprices_to_the_same_energy(cache) -> None:
    rows = [row(i, model="big", tokens=100 + i, latency_ms=3000 + 7 * i) for i in range(120)]
    fill(cache, rows)
    report = impact.report_from_cache(cache, 30, baseline="big", now_ms=NOW)
    assert report.baseline.energy_wh.value == pytest.approx(
        report.actual.energy_wh.value, rel=0.005
    )


def test_confidence_normal_with_verified_models_and_enough_data(cache) -> None:
    fill(cache, [row(i, tokens=200, age_ms=DAY + i) for i in range(120)])
    report = impact.report_from_cache(cache, 30, baseline="big", now_ms=NOW)
    assert report.confidence == "normal", report.confidence_reasons


def test_confidence_reduced_for_small_sample_estimated_params_and_mixed_versions(cache) -> None:
    fill(cache, [row(i, tokens=50) for i in range(20)])
    small = impact.report_from_cache(cache, 30, now_ms=NOW)
    assert small.confidence == "reduced"
    assert any("Small sample" in r for r in small.confidence_reasons)
    fill(cache, [row(100 + i, model="guess", tokens=500) for i in range(120)])
    guessed = impact.report_from_cache(cache, 30, now_ms=NOW)
    assert any("estimated" in r and "Guess" in r for r in guessed.confidence_reasons)
    assert guessed.actual.energy_wh.low < guessed.actual.energy_wh.high
    fill(cache, [row(300 + i, version="eco-2025.1+ecologits-0.6") for i in range(5)])
    mixed = impact.report_from_cache(cache, 30, now_ms=NOW)
    assert any("mixes methodology versions" in r for r in mixed.confidence_reasons)
    assert mixed.methodology_versions == sorted([eco.METHOD_VERSION, "eco-2025.1+ecologits-0.6"])


def test_estimated_baseline_reduces_confidence(cache) -> None:
    fill(cache, [row(i, tokens=200, age_ms=DAY + i) for i in range(120)])
    report = impact.report_from_cache(cache, 30, baseline="guess", now_ms=NOW)
    assert report.confidence == "reduced"
    assert any("Guess (baseline)" in r for r in report.confidence_reasons)


def test_bad_input_is_counted_and_reported_never_dropped_silently(cache) -> None:
    rows = [row(i) for i in range(50)]
    rows.append(row(50, model="mystery"))  # stored figures, model unknown to /models
    rows.append(row(51, model="mystery", stored=False))  # nothing to compute it from
    rows.append(row(52, region="mars", stored=True, grid=123.0))  # region not in grid table
    rows.append(row(53, tokens=0))  # zero tokens
    rows.append(row(54, stored=False))  # no figures, but recomputable
    rows.append(row(55, provider="nobody"))  # provider without PUE
    rows.append(row(56, latency_ms=None))  # no latency
    fill(cache, rows)
    report = impact.report_from_cache(cache, 30, now_ms=NOW)
    text = " ".join(report.caveats)
    assert "mystery (2)" in text and "missing from the model list" in text
    assert "mars (1)" in text
    assert "1 generations produced no completion tokens" in text
    assert "1 generations came without eco figures" in text
    assert "1 generations (200 tokens) have no eco figures and no known model" in text
    assert "nobody (1)" in text
    assert "1 generations have no measured latency" in text
    assert report.generations == len(rows) - 1, "only the unrecoverable row is left out"
    recomputed = eco.estimate(8, 8, 200, 4.0, 1.2, 50.0)
    cols = {c: i for i, c in enumerate(GENERATION_COLUMNS)}
    stored = sum(r[cols["energy_wh"]] or 0 for r in rows)
    assert report.actual.energy_wh.value == pytest.approx(
        stored + recomputed.energy_wh.value, rel=1e-3
    )
    assert report.baseline is not None and report.baseline.energy_wh.value > 0


def test_unknown_or_missing_baseline_and_empty_cache(cache) -> None:
    report = impact.report_from_cache(cache, 30, baseline="nope", now_ms=NOW)
    assert report.baseline is None and not report.saved
    assert any("nope is not in the model list" in c for c in report.caveats)
    assert report.generations == 0 and report.confidence == "reduced"
    cache.save_snapshot("settings", {"eco_baseline_model": None})
    report = impact.report_from_cache(cache, 30, now_ms=NOW)
    assert any("No baseline model is chosen" in c for c in report.caveats)
    json.dumps(report.as_json())


def test_window_excludes_older_generations(cache) -> None:
    fill(cache, [row(1, age_ms=DAY), row(2, age_ms=40 * DAY)])
    assert impact.report_from_cache(cache, 30, now_ms=NOW).generations == 1
    assert impact.report_from_cache(cache, 60, now_ms=NOW).generations == 2


def test_local_baseline_choice_wins_and_is_said(cache) -> None:
    cache.set_meta(impact.LOCAL_BASELINE_META, "small")
    assert impact.chosen_baseline(cache) == ("small", True)
    report = impact.report_from_cache(cache, 30, now_ms=NOW)
    assert report.baseline_model == "small"
    assert any("chosen offline" in c for c in report.caveats)


def test_per_token_energy_is_proportional_to_tokens() -> None:
    """The property the grouping relies on: at a fixed latency per token, energy ∝ tokens."""
    for tokens in (1, 37, 1000, 4096):
        for lpt in (0.005, 0.03, 0.2):
            one = eco.estimate((20, 80), (100, 400), tokens, lpt * tokens, 1.2, 100)
            ref = eco.estimate((20, 80), (100, 400), 1000, lpt * 1000, 1.2, 100)
            assert one.energy_wh.low / tokens == pytest.approx(ref.energy_wh.low / 1000)
            assert one.energy_wh.high / tokens == pytest.approx(ref.energy_wh.high / 1000)


def test_large_cache_is_computed_quickly(cache) -> None:
    rng = random.Random(5)
    template = list(row(0))
    cols = {c: i for i, c in enumerate(GENERATION_COLUMNS)}
    rows = []
    for i in range(50_000):
        r = template.copy()
        r[cols["id"]] = f"g{i}"
        r[cols["created_at"]] = NOW - rng.randint(1, 29 * DAY)
        r[cols["resolved_model"]] = rng.choice(["small", "big", "guess"])
        r[cols["region"]] = rng.choice(["eu", "us"])
        r[cols["completion_tokens"]] = rng.randint(1, 2000)
        r[cols["latency_ms"]] = rng.randint(100, 90_000)
        rows.append(tuple(r))
    fill(cache, rows)
    started = time.perf_counter()
    report = impact.report_from_cache(cache, 30, now_ms=NOW)
    assert report.generations == 50_000
    assert time.perf_counter() - started < 20  # generous: CI machines are shared


def test_the_two_queries_on_two_connections_give_the_one_connection_report(cache) -> None:
    # the per-day query runs beside the grouping one on a second connection pinned to the same
    # snapshot; a connection already inside a transaction computes both itself
    rng = random.Random(11)
    fill(cache, [
        row(i, model=rng.choice(["small", "guess"]), tokens=rng.randint(5, 900),
            latency_ms=rng.randint(200, 9_000), age_ms=rng.randint(1, 29 * DAY))
        for i in range(300)
    ])
    split = impact.report_from_cache(cache, 30, now_ms=NOW)
    assert not cache.conn.in_transaction, "the pinned snapshot is let go"
    cache.conn.execute("BEGIN")
    try:
        single = impact.report_from_cache(cache, 30, now_ms=NOW)
    finally:
        cache.conn.execute("ROLLBACK")
    assert split.generations == single.generations == 300
    assert split.as_json() == single.as_json()
    assert sum(split.actual_per_day_wh) == pytest.approx(split.actual.energy_wh.value)


# -- the eco roll-up -----------------------------------------------------------------------
COLS = {c: i for i, c in enumerate(GENERATION_COLUMNS)}


def varied_row(i: int, rng: random.Random, revision: int = 1) -> tuple:
    """Any kind of row the platform sends: unknown models and regions, no figures, no
    latency, no tokens, empty strings for unknown, other methodology versions and caveats."""
    r = list(row(
        i, model=rng.choice(["small", "big", "guess", "mystery"]),
        provider=rng.choice(["prov", "other", "elsewhere"]),
        region=rng.choice(["eu", "us", "mars"]), tokens=rng.choice([0, 1, 37, 480, 2000]),
        latency_ms=rng.choice([None, 90, 1500, 42_000]), age_ms=rng.randint(0, 45 * DAY),
        stored=rng.random() < 0.8, grid=rng.choice([None, 120.0, 300.0]),
        version=rng.choice([eco.METHOD_VERSION, "ecologits-0.6"]),
    ))
    r[COLS["revision"]] = revision
    if rng.random() < 0.1:
        r[COLS["resolved_model"]] = rng.choice(["", None])
    if rng.random() < 0.1:
        r[COLS["region"]] = rng.choice(["", None])
    if rng.random() < 0.2:
        r[COLS["confidence"]] = "low"
        r[COLS["caveats"]] = json.dumps(["grid intensity from a yearly average"])
    return tuple(r)


def same_report(a: dict, b: dict, path: str = "") -> None:
    """Equal reports: floats to 1e-9 (sums added up in another order), the rest exactly."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            if key != "elapsed_ms":
                same_report(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            same_report(x, y, f"{path}[{k}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), path
    else:
        assert a == b, path


@pytest.fixture
def grouped_rows(monkeypatch) -> list[int]:
    """Counts the reports grouped from the rows, not read from the eco roll-up."""
    calls: list[int] = []
    from_rows = impact._from_rows

    def counted(*args):
        calls.append(1)
        return from_rows(*args)

    monkeypatch.setattr(impact, "_from_rows", counted)
    return calls


@pytest.mark.parametrize("days,now_ms", [
    (30, NOW), (1, NOW), (7, NOW - NOW % DAY), (60, NOW - NOW % DAY + 1), (1, NOW - NOW % DAY),
    (60, NOW - DAY // 3),
])
def test_eco_report_from_the_roll_up_equals_the_one_from_the_rows(
    cache, grouped_rows, days, now_ms
):
    rng = random.Random(days * 7 + now_ms % 13)
    revision: dict[int, int] = {}
    for page in range(8):  # new ids, revisions that move rows in time and model, replays
        rows = []
        for i in rng.sample(range(900), 150):
            if i in revision and rng.random() < 0.2:
                rows.append(varied_row(i, random.Random(i * 31 + revision[i]), revision[i]))
                continue
            revision[i] = revision.get(i, 0) + 1
            rows.append(varied_row(i, random.Random(i * 31 + revision[i]), revision[i]))
        cache.apply_page(rows, [], f"c{page}")
    assert rollup.in_step(cache.conn, rollup.ECO)
    ref = impact.reference_from_cache(cache)
    from_roll_up = impact.compute(cache.conn, ref, "big", days, now_ms)
    assert not grouped_rows, "the roll-up answered"
    cache.conn.execute(f"DROP TABLE {rollup.ECO.table}")
    from_rows = impact.compute(cache.conn, ref, "big", days, now_ms)
    assert grouped_rows
    assert from_rows.generations > 0 and from_rows.caveats
    same_report(from_roll_up.as_json(), from_rows.as_json())
    assert from_roll_up.day_labels == from_rows.day_labels


def test_the_eco_roll_up_stays_exact_through_revisions_and_replays(cache):
    rng = random.Random(5)
    revision: dict[int, int] = {}
    for page in range(20):
        rows = []
        for i in rng.sample(range(300), 30):
            if i not in revision or rng.random() > 0.3:
                revision[i] = revision.get(i, 0) + 1
            rows.append(varied_row(i, random.Random(i * 17 + revision[i]), revision[i]))
        cache.apply_page(rows, [], f"c{page}")
        kept = {r[:8]: r[8:] for r in cache.conn.execute(
            f"SELECT * FROM {rollup.ECO.table} WHERE requests <> 0")}
        scratch = {r[:8]: r[8:] for r in cache.conn.execute(rollup.ECO.groups.format(
            sign=1, where=""))}
        assert kept.keys() == scratch.keys(), f"after page {page}"
        for key, sums in kept.items():
            assert sums == pytest.approx(scratch[key], rel=1e-9, abs=1e-9), key
        assert rollup.in_step(cache.conn, rollup.ECO)


def test_an_eco_roll_up_out_of_step_is_not_read_and_is_rebuilt(cache, grouped_rows):
    rng = random.Random(8)
    cache.apply_page([varied_row(i, rng) for i in range(200)], [], "c1")
    before = impact.report_from_cache(cache, 30, now_ms=NOW)
    (revised,) = cache.conn.execute(  # one the figures count, in the window
        "SELECT id FROM generations WHERE resolved_model = 'small' AND energy_wh IS NOT NULL "
        "AND created_at > ? LIMIT 1", (NOW - 29 * DAY,)).fetchone()
    with cache.transaction() as conn:  # an older Lowdash: revises a row, moves the cursor
        conn.execute("UPDATE generations SET completion_tokens = completion_tokens + 500, "
                     "revision = 2 WHERE id = ?", (revised,))
        conn.execute("UPDATE meta SET value = 'c2' WHERE key = 'feed_cursor'")
    assert not rollup.in_step(cache.conn, rollup.ECO), "same row count, yet out of step"
    stale = impact.compute(cache.conn, impact.reference_from_cache(cache), "big", 30, NOW)
    assert grouped_rows == [1], "the rows answered"
    after = impact.report_from_cache(cache, 30, now_ms=NOW)  # rebuilds it first
    assert rollup.in_step(cache.conn, rollup.ECO) and grouped_rows == [1]
    same_report(after.as_json(), stale.as_json())
    assert after.tokens - before.tokens == 500


def test_a_cache_from_before_the_eco_roll_up_gets_it_from_the_eco_worker(tmp_path):
    path = tmp_path / "old.sqlite3"
    old, _ = Cache.open(path)
    old.save_snapshot("models", MODELS)
    old.save_snapshot("methodology", METHOD)
    rng = random.Random(4)
    old.apply_page([varied_row(i, rng) for i in range(120)], [], "c1")
    old.conn.execute(f"DROP TABLE {rollup.ECO.table}")  # as written before the eco roll-up
    old.close()
    again, _ = Cache.open(path)
    assert not rollup.exists(again.conn, rollup.ECO), "not added up at open, on the UI thread"
    assert rollup.in_step(again.conn), "the spend roll-up is untouched"
    report = impact.report_from_cache(again, 30, baseline="big", now_ms=NOW)
    assert rollup.in_step(again.conn, rollup.ECO)
    again.apply_page([varied_row(i, rng, revision=2) for i in range(60)], [], "c2")
    assert rollup.in_step(again.conn, rollup.ECO), "kept by the next pages"
    assert report.generations > 0
    again.close()


# -- uncertainty carried through, cross-checked against EcoLogits itself -------------------------
def _ecologits_wh(active, total, tokens, latency_s, pue) -> tuple[float, float]:
    """(low, high) Wh from EcoLogits called directly, not through our module."""
    from ecologits.impacts.llm import compute_llm_impacts
    from ecologits.utils.range_value import RangeValue

    def param(v):
        return RangeValue(min=v[0], max=v[1]) if isinstance(v, tuple) else float(v)

    value = compute_llm_impacts(
        model_active_parameter_count=param(active), model_total_parameter_count=param(total),
        output_token_count=tokens, if_electricity_mix_adpe=eco.IF_ELECTRICITY_MIX_ADPE,
        if_electricity_mix_pe=eco.IF_ELECTRICITY_MIX_PE, if_electricity_mix_gwp=0.05,
        if_electricity_mix_wue=eco.IF_ELECTRICITY_MIX_WUE, datacenter_pue=pue,
        datacenter_wue=eco.DATACENTER_WUE, request_latency=latency_s,
    ).energy.value
    if isinstance(value, RangeValue):
        return value.min * 1000, value.max * 1000
    return value * 1000, value * 1000


@pytest.mark.parametrize(
    ("actual", "baseline", "lpt_ms"),
    [
        ("guess", "big", 0.5),  # estimated actual model, exact baseline
        ("guess", "big", 8.0),
        ("small", "guess", 2.0),  # exact actual model, estimated baseline
        ("guess", "small", 30.0),
    ],
)
def test_baseline_range_is_propagated_and_matches_ecologits(cache, actual, baseline, lpt_ms):
    """Reference cases computed with EcoLogits directly: the baseline's low bound is its
    smallest parameters at the latency scaled by (smallest baseline / largest actual active
    count), the high bound the other way round, the value at the midpoints. (These latencies
    per token lie where EcoLogits' energy is linear in the latency, so the report's
    interpolation between memoized points is exact: same outputs to 1e-9.)"""
    tokens, n = 400, 5
    fill(cache, [row(i, model=actual, tokens=tokens, latency_ms=int(tokens * lpt_ms),
                     age_ms=DAY + i) for i in range(n)])
    report = impact.report_from_cache(cache, 30, baseline=baseline, now_ms=NOW)
    a = eco.parse_param_count(model_ref(actual)["params_active_b"])
    b = eco.parse_param_count(model_ref(baseline)["params_active_b"])
    b_total = eco.parse_param_count(model_ref(baseline)["params_total_b"])
    a_lo, a_hi = a if isinstance(a, tuple) else (a, a)
    b_lo, b_hi = b if isinstance(b, tuple) else (b, b)
    latency = int(tokens * lpt_ms) / 1000
    low = _ecologits_wh(b, b_total, tokens, latency * b_lo / a_hi, 1.2)[0] * n
    high = _ecologits_wh(b, b_total, tokens, latency * b_hi / a_lo, 1.2)[1] * n
    mid = sum(_ecologits_wh(b, b_total, tokens,
                            latency * ((b_lo + b_hi) / 2) / ((a_lo + a_hi) / 2), 1.2)) / 2 * n
    energy = report.baseline.energy_wh
    assert energy.low == pytest.approx(low, rel=1e-9)
    assert energy.high == pytest.approx(high, rel=1e-9)
    assert energy.value == pytest.approx(mid, rel=1e-9)
    assert energy.low < energy.value < energy.high, "never a zero-width range from midpoints"
    carbon = report.baseline.carbon_g
    assert (carbon.low, carbon.high) == pytest.approx((low * 0.05, high * 0.05), rel=1e-9)


def test_same_model_as_baseline_keeps_its_own_range_only(cache) -> None:
    """The same estimated model on both sides: the ratio of active counts is exactly one."""
    fill(cache, [row(i, model="guess", tokens=300, latency_ms=600, age_ms=DAY + i)
                 for i in range(120)])
    report = impact.report_from_cache(cache, 30, baseline="guess", now_ms=NOW)
    for got, want in ((report.baseline.energy_wh, report.actual.energy_wh),
                      (report.baseline.carbon_g, report.actual.carbon_g)):
        assert (got.low, got.value, got.high) == pytest.approx(
            (want.low, want.value, want.high), rel=1e-9)
    assert report.energy_verdict.verdict == "same"


# -- non-finite figures never reach a total or the JSON ---------------------------------------
def test_infinity_and_overflow_in_the_cache_never_reach_totals_or_json(cache) -> None:
    cols = {c: i for i, c in enumerate(GENERATION_COLUMNS)}
    good = [row(i, age_ms=DAY + i) for i in range(120)]
    bad = list(row(500, model="big", age_ms=DAY))
    for name in ("energy_wh", "energy_wh_high", "carbon_g", "carbon_g_high"):
        bad[cols[name]] = math.inf
    huge = [list(row(600 + i, model="guess", age_ms=DAY)) for i in range(2)]
    for r in huge:  # finite each, infinite once added up (1e308 + 1e308)
        for name in ("energy_wh", "energy_wh_low", "energy_wh_high"):
            r[cols[name]] = 1e308
    fill(cache, good + [tuple(bad)] + [tuple(r) for r in huge])
    report = impact.report_from_cache(cache, 30, baseline="big", now_ms=NOW)
    assert report.actual.finite() and report.baseline.finite()
    assert all(math.isfinite(v) for v in report.actual_per_day_wh + report.baseline_per_day_wh)
    assert report.generations == 120
    assert any("cannot be added up" in c and "3 generations" in c for c in report.caveats)
    json.dumps(report.as_json(), allow_nan=False)
    assert report.actual.energy_wh.value == pytest.approx(
        sum(r[cols["energy_wh"]] for r in good))


def test_a_sum_that_overflows_is_null_in_json_with_a_caveat() -> None:
    from datetime import date

    huge = impact.Totals(eco.Range(math.inf, 1e308, math.inf), eco.Range(1.0, 1.0, 1.0))
    report = impact.EcoReport(
        days=1, start_ms=0, end_ms=DAY, baseline_model=None, baseline_name=None, actual=huge,
        baseline=None, saved=False, generations=1, tokens=1, methodology_versions=[],
        confidence="reduced", confidence_reasons=[], caveats=[], day_labels=[date(2026, 1, 1)],
        actual_per_day_wh=[math.inf], baseline_per_day_wh=None,
    )
    doc = json.loads(json.dumps(report.as_json(), allow_nan=False))
    assert doc["actual"]["energy_wh"] == {"value": None, "low": 1e308, "high": None}
    assert doc["per_day"][0]["actual_energy_wh"] is None


def test_cached_reference_tables_with_infinity_are_ignored() -> None:
    ref = impact.Reference.from_snapshots(
        [{"id": "x", "params_active_b": math.inf, "params_total_b": 8}],
        {"providers": {"p": {"pue": math.inf}}, "grid_intensity": {"eu": math.nan, "us": 1.0}},
    )
    assert not ref.models["x"].usable and ref.pue == {} and ref.grid == {"us": 1.0}


# -- the page's filter ------------------------------------------------------------------------
def test_scope_limits_the_figures_to_the_page_filter(cache) -> None:
    rows = [row(i, model="small" if i % 3 else "guess", provider="prov" if i % 2 else "other",
                age_ms=DAY + i) for i in range(150)]
    fill(cache, rows)
    whole = impact.report_from_cache(cache, 30, now_ms=NOW)
    small = impact.report_from_cache(cache, 30, now_ms=NOW, scope={"model": "small"})
    both = impact.report_from_cache(cache, 30, now_ms=NOW,
                                    scope={"model": "small", "provider": "prov"})
    cols = {c: i for i, c in enumerate(GENERATION_COLUMNS)}
    picked = [r for r in rows if r[cols["resolved_model"]] == "small"]
    assert small.generations == len(picked) < whole.generations
    assert small.actual.energy_wh.value == pytest.approx(sum(r[cols["energy_wh"]] for r in picked))
    assert both.generations == sum(1 for r in picked if r[cols["provider"]] == "prov")
    assert small.as_json()["scope"] == {"model": "small"} and whole.as_json()["scope"] == {}
    assert sum(small.actual_per_day_wh) == pytest.approx(small.actual.energy_wh.value)


def test_the_baseline_model_itself_is_judged_the_same_not_by_rounding_noise(cache) -> None:
    """Usage of the baseline model, at latencies that differ per generation and across
    regions: the comparison says 'same' for both metrics, never a 1e-14 % 'more'."""
    from lowdash_desktop.eco.command import summary_text

    rows = [row(i, model="big", region="eu" if i % 3 else "us", tokens=100 + 37 * i,
                latency_ms=900 + 1733 * i) for i in range(40)]
    fill(cache, rows)
    report = impact.report_from_cache(cache, days=30, baseline="big", now_ms=NOW)
    doc = report.as_json()
    for metric in ("energy_wh", "carbon_g"):
        assert doc["comparison"][metric]["verdict"] == "same", doc["comparison"]
        assert doc["comparison"][metric]["ranges_overlap"] is True
    assert report.baseline.energy_wh.value == pytest.approx(report.actual.energy_wh.value,
                                                             rel=1e-12)
    text = summary_text(doc, report).lower()
    assert "more energy" not in text and "less energy" not in text and "saved" not in text


@pytest.mark.parametrize("params", [{"min": 180, "max": 70}, 0, -5, 1e12, "x", "Infinity"])
def test_a_nonsensical_parameter_count_is_no_parameter_count(cache, params) -> None:
    """/models with min > max, zero, negative, absurd or non-finite parameters: no crash, the
    model is treated as having no parameter count (a caveat), whichever side it is on."""
    models = [*MODELS, {"id": "odd", "name": "Odd", "params_active_b": params,
                        "params_total_b": params, "params_status": "estimated"}]
    cache.save_snapshot("models", models)
    fill(cache, [row(i, model="odd" if i % 2 else "small") for i in range(20)])
    for baseline in ("odd", "big"):
        report = impact.report_from_cache(cache, days=30, baseline=baseline, now_ms=NOW)
        json.dumps(report.as_json(), allow_nan=False)
        assert any("parameter count" in c for c in report.caveats)
