"""The eco methodology module: one EcoLogits formula, ranges, carbon from grid intensity."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import version

import httpx
import pytest
from ecologits.impacts.llm import compute_llm_impacts
from ecologits.utils.range_value import RangeValue

from lowdash_desktop.demo import DemoPlatform
from lowdash_desktop.eco import methodology
from lowdash_desktop.eco import methodology as eco


def _direct_kwh(active, total, tokens, latency, pue, grid_g):
    """EcoLogits called directly, the way the module documents it."""
    impacts = compute_llm_impacts(
        model_active_parameter_count=active,
        model_total_parameter_count=total,
        output_token_count=tokens,
        if_electricity_mix_adpe=methodology.IF_ELECTRICITY_MIX_ADPE,
        if_electricity_mix_pe=methodology.IF_ELECTRICITY_MIX_PE,
        if_electricity_mix_gwp=grid_g / 1000,
        if_electricity_mix_wue=methodology.IF_ELECTRICITY_MIX_WUE,
        datacenter_pue=pue,
        datacenter_wue=methodology.DATACENTER_WUE,
        request_latency=latency,
    )
    return impacts.usage.energy.value


def test_dense_model_matches_ecologits_directly() -> None:
    kwh = _direct_kwh(24, 24, 340, 0.812, 1.25, 52.0)
    est = eco.estimate(24, 24, 340, 0.812, 1.25, 52.0)
    assert est.energy_wh.value == pytest.approx(kwh * 1000, rel=1e-12)
    assert est.energy_wh.low == est.energy_wh.high == est.energy_wh.value
    assert est.carbon_g.value == pytest.approx(kwh * 1000 * 52.0 / 1000, rel=1e-12)


def test_range_params_give_low_high_and_midpoint() -> None:
    value = _direct_kwh(
        RangeValue(min=10, max=40), RangeValue(min=100, max=600), 500, 3.0, 1.1, 328.0
    )
    est = eco.estimate((10, 40), (100, 600), 500, 3.0, 1.1, 328.0)
    assert est.energy_wh.low == pytest.approx(value.min * 1000, rel=1e-12)
    assert est.energy_wh.high == pytest.approx(value.max * 1000, rel=1e-12)
    assert est.energy_wh.value == pytest.approx((est.energy_wh.low + est.energy_wh.high) / 2)
    assert est.carbon_g.low == pytest.approx(est.energy_wh.low * 328.0 / 1000)
    assert est.carbon_g.high == pytest.approx(est.energy_wh.high * 328.0 / 1000)
    assert est.carbon_g.value == pytest.approx(est.energy_wh.value * 328.0 / 1000)


def test_zero_tokens_is_zero_not_an_error() -> None:
    est = eco.estimate(70, 70, 0, 0.0, 1.2, 400.0)
    assert est.energy_wh.as_dict() == {"value": 0.0, "low": 0.0, "high": 0.0}
    assert est.carbon_g.value == 0.0


def test_no_latency_is_accepted() -> None:
    assert eco.estimate(8, 8, 100, None, 1.2, 100.0).energy_wh.value > 0


def test_estimate_is_memoized() -> None:
    before = methodology.cache_info().hits
    eco.estimate(8.03, 8.03, 123, 1.5, 1.3, 379.0)
    eco.estimate(8.03, 8.03, 123, 1.5, 1.3, 379.0)
    assert methodology.cache_info().hits > before


def test_parse_param_count() -> None:
    assert eco.parse_param_count(24) == 24.0
    assert eco.parse_param_count({"min": 10, "max": 40}) == (10.0, 40.0)
    assert eco.parse_param_count({"min": 5, "max": 5}) == 5.0
    with pytest.raises(ValueError):
        eco.parse_param_count(None)
    assert eco.params_json(eco.parse_param_count({"min": 1, "max": 2})) == {"min": 1, "max": 2}


def test_method_version_names_the_installed_ecologits() -> None:
    assert eco.METHOD_VERSION.startswith("eco-")
    assert eco.METHOD_VERSION.endswith("+ecologits-" + version("ecologits"))


def test_demo_generations_recompute_with_the_eco_module() -> None:
    now = datetime(2026, 11, 24, 13, 5, tzinfo=UTC)
    with DemoPlatform(seed=11, generations=400, now=now) as platform:
        headers = {"Authorization": f"Bearer {platform.api_key}"}
        with httpx.Client(base_url=platform.base_url, headers=headers, timeout=10) as client:
            models = {m["id"]: m for m in client.get("/models").json()["data"]}
            method = client.get("/eco/methodology").json()
            page = client.get("/generations", params={"limit": 200}).json()["data"]
    assert method["method"] == "ecologits"
    assert method["version"] == eco.METHOD_VERSION
    estimated_seen = False
    for gen in page[::5]:
        model = models[gen["resolved_model"]]
        grid = method["grid_intensity"][gen["region"]]
        est = eco.estimate(
            eco.parse_param_count(model["params_active_b"]),
            eco.parse_param_count(model["params_total_b"]),
            gen["tokens"]["completion"],
            gen["latency_ms"] / 1000,
            method["providers"][gen["provider"]]["pue"],
            grid,
        )
        assert gen["eco"]["grid_intensity_g_per_kwh"] == grid
        assert gen["eco"]["methodology_version"] == eco.METHOD_VERSION
        assert gen["eco"]["energy_wh"] == pytest.approx(est.energy_wh.as_dict(), rel=1e-12)
        assert gen["eco"]["carbon_g"] == pytest.approx(est.carbon_g.as_dict(), rel=1e-12)
        if model["params_status"] == "estimated":
            estimated_seen = True
            assert gen["eco"]["confidence"] in ("estimated", "low")
            assert gen["eco"]["caveats"]
    assert estimated_seen
