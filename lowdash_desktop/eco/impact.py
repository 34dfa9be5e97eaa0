"""Eco impact of a window of cached usage, and the same usage re-priced on a baseline model.

Actual figures are the platform's own (summed in SQL). The baseline re-prices the same usage
through `methodology.estimate()`: same completion tokens, same provider PUE and region grid
intensity, and the measured latency per token scaled by the ratio of the models' active
parameter counts: `latency_b = latency_a x active_b / active_a`. The central value uses the
midpoints of the parameter ranges; the low and high bounds carry the ranges through (low: the
baseline's smallest active count over the actual model's largest, evaluated with the baseline's
smallest parameters; high: the other way round), since EcoLogits' energy rises with both the
parameter counts and the latency. Nothing is assumed more exact than its inputs.

Energy and carbon are judged apart (`judge()`): each is "less", "more" or "same" (the actual
and baseline ranges overlap, so the difference is within the uncertainty of the estimates).
Non-finite figures (a cache written before the API refused them, or sums overflowing) never
reach a total: their groups are left out with a caveat, and a total that still overflows is
reported as unknown (null in JSON).

Rows are grouped in SQL by (model, provider, region, latency-per-token bin), and per day.
EcoLogits' energy is linear in tokens at a fixed latency per token, so each (model, provider,
region, bin) needs one `estimate()` call at the bin's token-weighted latency per token; the
bin's energy is that per-token figure times its tokens. Bins are 1/8 of an octave wide (about
9 %) for the estimates; the SQL groups keep 4 significant bits of the latency per token.

The groups of whole UTC days come from the eco roll-up (`store/rollup.py`) when it is in step
with the cache, and only the part days at either end of the window from the rows: tens of
milliseconds instead of seconds at a million generations.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..store import rollup
from ..store.cache import Cache
from ..store.db import pinned_readers
from ..store.rollup import DAY_MS
from ..store.schema import name_filter
from .methodology import Params, Range, estimate, parse_param_count

SMALL_GENERATIONS = 100
SMALL_TOKENS = 10_000
FALLBACK_PUE = 1.2


@dataclass(frozen=True, slots=True)
class ModelRef:
    """What the eco figures need to know about one model from `/models`."""

    id: str
    name: str
    active: Params | None
    total: Params | None
    verified: bool

    @property
    def usable(self) -> bool:
        """True when both parameter counts are known."""
        return self.active is not None and self.total is not None

    @property
    def active_mid(self) -> float:
        """Midpoint of the active parameter count (billions)."""
        value = self.active if self.active is not None else 0.0
        return (value[0] + value[1]) / 2 if isinstance(value, tuple) else float(value)


@dataclass(slots=True)
class Reference:
    """The `/models` list and the `/eco/methodology` tables behind every figure."""

    models: dict[str, ModelRef] = field(default_factory=dict)
    pue: dict[str, float] = field(default_factory=dict)
    grid: dict[str, float] = field(default_factory=dict)
    version: str | None = None

    @classmethod
    def from_snapshots(cls, models: Any, methodology: Any) -> Reference:
        """Build from the cached JSON of `/models` (list or `{data}`) and `/eco/methodology`."""
        ref = cls()
        if isinstance(models, dict):
            models = models.get("data", [])
        for item in models or []:
            if not isinstance(item, dict) or not item.get("id"):
                continue
            ref.models[item["id"]] = ModelRef(
                item["id"],
                item.get("name") or item["id"],
                _param_or_none(item.get("params_active_b", item.get("params_total_b"))),
                _param_or_none(item.get("params_total_b")),
                item.get("params_status") == "verified",
            )
        if isinstance(methodology, dict):
            ref.version = methodology.get("version")
            for name, prov in (methodology.get("providers") or {}).items():
                if isinstance(prov, dict) and _finite_number(prov.get("pue")):
                    ref.pue[name] = float(prov["pue"])
            for region, grams in (methodology.get("grid_intensity") or {}).items():
                if _finite_number(grams):
                    ref.grid[region] = float(grams)
        return ref

    def fallback_pue(self) -> float:
        """The mean PUE of known providers, for a provider missing from the table."""
        return sum(self.pue.values()) / len(self.pue) if self.pue else FALLBACK_PUE


def _finite_number(value: Any) -> bool:
    """A JSON number that is finite (cached snapshots may hold Infinity or NaN)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _param_or_none(value: Any) -> Params | None:
    """A parsed parameter count, or None when missing, malformed or not finite."""
    try:
        parsed = parse_param_count(value)
    except (ValueError, TypeError, KeyError):
        return None
    bounds = parsed if isinstance(parsed, tuple) else (parsed,)
    # a count of billions of parameters: positive, finite, below 100 trillion, min <= max
    if not all(math.isfinite(b) and 0 < b <= MAX_PARAMS_B for b in bounds):
        return None
    if isinstance(parsed, tuple) and parsed[0] > parsed[1]:
        return None
    return parsed


MAX_PARAMS_B = 100_000.0


@dataclass(slots=True)
class Totals:
    """Energy (Wh) and electricity carbon (gCO2e) with low/high bounds."""

    energy_wh: Range
    carbon_g: Range

    def as_json(self) -> dict[str, dict[str, float | None]]:
        """`{energy_wh: {value, low, high}, carbon_g: {...}}`; non-finite numbers as null."""
        return {"energy_wh": _finite_dict(self.energy_wh), "carbon_g": _finite_dict(self.carbon_g)}

    def finite(self) -> bool:
        """True when every figure is a finite number."""
        return all(_is_finite(r) for r in (self.energy_wh, self.carbon_g))


def _is_finite(r: Range) -> bool:
    return math.isfinite(r.value) and math.isfinite(r.low) and math.isfinite(r.high)


def _finite_or_none(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _finite_dict(r: Range) -> dict[str, float | None]:
    return {"value": _finite_or_none(r.value), "low": _finite_or_none(r.low),
            "high": _finite_or_none(r.high)}


@dataclass(frozen=True, slots=True)
class Verdict:
    """One metric judged on its own: the actual usage against the baseline.

    `verdict` is "less" (the actual range lies wholly below the baseline's), "more" (wholly
    above) or "same" (the ranges overlap: the difference is within the uncertainty of the two
    estimates). `difference` is baseline minus actual (central values; positive: less used);
    `percent` the actual's change against the baseline in percent (negative: less), or None
    when the baseline is zero.
    """

    verdict: str
    ranges_overlap: bool
    difference: float
    percent: float | None

    def as_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "ranges_overlap": self.ranges_overlap,
                "difference": _finite_or_none(self.difference),
                "percent": _finite_or_none(self.percent)}


# Two figures this close (relative) are the same figure: floating-point sums in another order
# differ by about 1e-15, and a verdict must never be made of that noise.
SAME_RELATIVE = 1e-9


def ranges_overlap(a: Range, b: Range) -> bool:
    """True when two ranges share at least one value (two equal exact values do)."""
    slack = SAME_RELATIVE * max(abs(a.high), abs(b.high), abs(a.low), abs(b.low))
    return a.low <= b.high + slack and b.low <= a.high + slack


def judge(actual: Range, baseline: Range) -> Verdict | None:
    """The verdict on one metric, or None when a figure is not a finite number."""
    if not (_is_finite(actual) and _is_finite(baseline)):
        return None
    overlap = ranges_overlap(actual, baseline)
    if overlap:
        verdict = "same"
    elif actual.high < baseline.low:
        verdict = "less"
    else:
        verdict = "more"
    difference = baseline.value - actual.value
    percent = None
    if baseline.value > 0:
        percent = (actual.value - baseline.value) / baseline.value * 100.0
        if not math.isfinite(percent):
            percent = None
    return Verdict(verdict, overlap, difference, percent)


@dataclass(slots=True)
class EcoReport:
    """The eco panel's figures for one window."""

    days: int
    start_ms: int
    end_ms: int
    baseline_model: str | None
    baseline_name: str | None
    actual: Totals
    baseline: Totals | None
    saved: bool
    generations: int
    tokens: int
    methodology_versions: list[str]
    confidence: str  # "normal" or "reduced"
    confidence_reasons: list[str]
    caveats: list[str]
    day_labels: list[date]
    actual_per_day_wh: list[float]
    baseline_per_day_wh: list[float] | None
    elapsed_ms: float = 0.0
    # the page's filter the figures are limited to: {"model"|"provider"|"region"|"key_id": v}
    scope: dict[str, str] = field(default_factory=dict)

    @property
    def energy_verdict(self) -> Verdict | None:
        """Energy judged on its own (None without a baseline or usage)."""
        if self.baseline is None or self.tokens <= 0:
            return None
        return judge(self.actual.energy_wh, self.baseline.energy_wh)

    @property
    def carbon_verdict(self) -> Verdict | None:
        """Carbon judged on its own (None without a baseline or usage)."""
        if self.baseline is None or self.tokens <= 0:
            return None
        return judge(self.actual.carbon_g, self.baseline.carbon_g)

    @property
    def difference_wh(self) -> float:
        """Baseline energy minus actual energy (positive: the actual usage used less energy)."""
        return self.baseline.energy_wh.value - self.actual.energy_wh.value if self.baseline else 0.0

    @property
    def difference_g(self) -> float:
        """Baseline carbon minus actual carbon (positive: less; negative: carbon rose)."""
        return self.baseline.carbon_g.value - self.actual.carbon_g.value if self.baseline else 0.0

    @property
    def ratio(self) -> float | None:
        """Baseline per-token energy over actual per-token energy (None if undefined)."""
        if not self.baseline or self.actual.energy_wh.value <= 0:
            return None
        return self.baseline.energy_wh.value / self.actual.energy_wh.value

    def as_json(self) -> dict[str, Any]:
        """The `lowdash eco --json` document."""
        return {
            "days": self.days,
            "from": _iso(self.start_ms),
            "to": _iso(self.end_ms),
            "baseline_model": self.baseline_model,
            "actual": self.actual.as_json(),
            "baseline": self.baseline.as_json() if self.baseline else None,
            "saved": self.saved,
            "difference": {"energy_wh": _finite_or_none(self.difference_wh),
                           "carbon_g": _finite_or_none(self.difference_g)},
            "comparison": (
                None if self.energy_verdict is None and self.carbon_verdict is None else {
                    "energy_wh": self.energy_verdict.as_json() if self.energy_verdict else None,
                    "carbon_g": self.carbon_verdict.as_json() if self.carbon_verdict else None,
                }
            ),
            "scope": dict(self.scope),
            "confidence": self.confidence,
            "confidence_reasons": self.confidence_reasons,
            "caveats": self.caveats,
            "methodology_versions": self.methodology_versions,
            "generations": self.generations,
            "tokens": self.tokens,
            "per_day": [
                {
                    "date": d.isoformat(),
                    "actual_energy_wh": _finite_or_none(self.actual_per_day_wh[i]),
                    "baseline_energy_wh": (
                        _finite_or_none(self.baseline_per_day_wh[i])
                        if self.baseline_per_day_wh else None
                    ),
                }
                for i, d in enumerate(self.day_labels)
            ],
        }


def _iso(ms: int) -> str:
    """RFC 3339 UTC from epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Per (model, provider, region, latency-per-token bin), over all days: the sums passes 1 to 3
# read. The grid intensity comes as a sum and a count: its mean over the rows.
_GROUP_SUMS = rollup.ECO_SUMS.format(sign=1)
GROUP_SQL = f"""
SELECT m, p, r, bin, {_GROUP_SUMS}
FROM ({rollup.eco_rows("WHERE created_at >= ? AND created_at < ?", keys=False)})
GROUP BY m, p, r, bin
"""


def _day_rows(where: str) -> str:
    """SQL of the generations picked by `where` as the per-day query adds them up."""
    return f"""
    SELECT created_at / {DAY_MS} AS day, nullif(resolved_model, '') AS m,
           nullif(provider, '') AS p, completion_tokens AS t, energy_wh AS e,
           CASE WHEN energy_wh IS NULL THEN completion_tokens ELSE 0 END AS tn,
           nullif(methodology_version, '') AS v, nullif(confidence, '') AS conf,
           nullif(caveats, '') AS cav, 1 AS n
    FROM generations {where}"""


# Per day only (model, provider) is kept: the chart spreads each pair's baseline over the days
# by its tokens, so the days add up exactly to the totals.
DAY_SQL = f"""
SELECT day - ?, m, p, sum(t), sum(e), sum(tn), v, conf, cav, sum(n)
FROM ({_day_rows("WHERE created_at >= ? AND created_at < ?")})
GROUP BY 1, 2, 3, 7, 8, 9
"""

# From the eco roll-up: its groups for the UTC days wholly inside the window, and the rows of
# the parts of a day at either end (two (start, end) ranges in ms; (0, 0) for none), added up
# in SQL into GROUP_SQL's and DAY_SQL's rows. (Merging them in Python instead held ~5 MB more
# of small objects at the peak, which stayed resident: freed amid the start-up's imports.)
_EDGES = "WHERE (created_at >= ? AND created_at < ?) OR (created_at >= ? AND created_at < ?)"
def _name(number: str) -> str:
    """SQL: the name of a number in `names`, '' read as unknown (NULL), as eco_rows reads it."""
    return f"nullif((SELECT name FROM names WHERE nid = {number}), '')"


def _day_numbers(where: str) -> str:
    """`_day_rows` from `gen` itself: the names as their numbers (for the edges' rows)."""
    return f"""
    SELECT created_at / {DAY_MS} AS day, resolved_n AS m, provider_n AS p,
           completion_tokens AS t, energy_wh AS e,
           CASE WHEN energy_wh IS NULL THEN completion_tokens ELSE 0 END AS tn,
           methodology_n AS v, confidence_n AS conf, caveats_n AS cav, 1 AS n
    FROM gen {where}"""


# Both group the roll-up's numbers first (integer keys, no name looked up per roll-up row: at
# 3 M generations the 30 days' ~360k groups took ~15 s through the names), then name the
# groups and add up those whose names agree ('' and unknown are one).
ROLLUP_GROUP_SQL = f"""
SELECT {_name("m")}, {_name("p")}, {_name("r")}, bin, sum(n), sum(t), sum(lat), sum(z), sum(e),
       sum(el), sum(eh), sum(c), sum(cl), sum(ch), sum(nn), sum(tn), sum(gs), sum(gn)
FROM (
    SELECT model_n AS m, provider_n AS p, region_n AS r, bin, sum(requests) AS n,
           sum(tokens) AS t, sum(latency_ms) AS lat, sum(zero_tokens) AS z,
           sum(energy_wh) AS e, sum(energy_wh_low) AS el, sum(energy_wh_high) AS eh,
           sum(carbon_g) AS c, sum(carbon_g_low) AS cl, sum(carbon_g_high) AS ch,
           sum(no_energy) AS nn, sum(no_energy_tokens) AS tn, sum(grid_sum) AS gs,
           sum(grid_n) AS gn
    FROM {rollup.ECO.table} WHERE day >= ? AND day < ? AND requests <> 0
    GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT coalesce(m, 0), coalesce(p, 0), coalesce(r, 0), bin, {_GROUP_SUMS}
    FROM ({rollup.eco_rows(_EDGES, keys=False, source=rollup.ECO_FROM_GEN)})
    GROUP BY 1, 2, 3, 4
)
GROUP BY 1, 2, 3, 4
"""
ROLLUP_DAY_SQL = f"""
SELECT day - ?, {_name("m")}, {_name("p")}, sum(t), sum(e), sum(tn), {_name("v")},
       {_name("conf")}, {_name("cav")}, sum(n)
FROM (
    SELECT day, model_n AS m, provider_n AS p, sum(tokens) AS t, sum(energy_wh) AS e,
           sum(no_energy_tokens) AS tn, version_n AS v, confidence_n AS conf,
           caveats_n AS cav, sum(requests) AS n
    FROM {rollup.ECO.table} WHERE day >= ? AND day < ? AND requests <> 0
    GROUP BY 1, 2, 3, 7, 8, 9
    UNION ALL
    SELECT day, coalesce(m, 0), coalesce(p, 0), sum(t), sum(e), sum(tn), coalesce(v, 0),
           coalesce(conf, 0), coalesce(cav, 0), sum(n)
    FROM ({_day_numbers(_EDGES)})
    GROUP BY 1, 2, 3, 7, 8, 9
)
GROUP BY 1, 2, 3, 7, 8, 9
"""


def _read_both(
    conn: sqlite3.Connection, group: tuple[str, tuple], day: tuple[str, tuple], check=None
) -> tuple[list, list] | None:
    """The grouping query's rows and the per-day query's, read in one snapshot: the per-day
    one on a second connection pinned to it, beside the grouping one (SQLite releases the GIL
    while it works), or after it on `conn` when no second connection can be had. None when
    `check(conn)` is false in that snapshot."""
    readers = pinned_readers(conn, 1)
    own = readers is None and not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        if check is not None and not check(conn):
            return None
        if not readers:
            return conn.execute(*group).fetchall(), conn.execute(*day).fetchall()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eco-days") as pool:
            ahead = pool.submit(lambda: readers[0].execute(*day).fetchall())
            rows = conn.execute(*group).fetchall()
            return rows, ahead.result()  # leaving the block waits for the thread either way
    finally:
        if readers:
            readers[0].close()
        if (own or readers) and conn.in_transaction:
            conn.execute("ROLLBACK")


# The page's filters the eco figures follow, and the column each one picks.
SCOPE_COLUMNS = {"model": "resolved_model", "provider": "provider", "region": "region",
                 "key_id": "key_id"}


def _scope_sql(scope: dict[str, str] | None) -> tuple[str, tuple]:
    """' AND column = ?' for each filter of the scope, and their values."""
    clauses, values = [], []
    for name, column in SCOPE_COLUMNS.items():
        value = (scope or {}).get(name)
        if value:
            clauses.append(f" AND {name_filter(column)}")
            values.append(value)
    return "".join(clauses), tuple(values)


def _grouped(
    conn: sqlite3.Connection, start_ms: int, end_ms: int, first_day: int,
    scope: dict[str, str] | None = None,
) -> tuple[list, list]:
    """The grouping and per-day rows: from the eco roll-up and the part days at the ends when
    the roll-up is in step with the cache, else from the generations themselves (always for a
    filtered slice: the roll-up has no key column)."""
    if _scope_sql(scope)[1]:
        return _from_rows(conn, start_ms, end_ms, first_day, scope)
    whole = (-(-start_ms // DAY_MS), end_ms // DAY_MS)  # the UTC days wholly inside
    if whole[0] < whole[1]:
        edges = (start_ms, whole[0] * DAY_MS, whole[1] * DAY_MS, end_ms)
    else:
        whole, edges = (0, 0), (start_ms, end_ms, 0, 0)
    found = _read_both(
        conn, (ROLLUP_GROUP_SQL, (*whole, *edges)), (ROLLUP_DAY_SQL, (first_day, *whole, *edges)),
        check=lambda c: rollup.in_step(c, rollup.ECO),
    )
    if found is not None:
        return found
    return _from_rows(conn, start_ms, end_ms, first_day)


def _from_rows(
    conn: sqlite3.Connection, start_ms: int, end_ms: int, first_day: int,
    scope: dict[str, str] | None = None,
) -> tuple[list, list]:
    """The grouping and per-day rows, grouped from the generations themselves."""
    extra, values = _scope_sql(scope)
    group_sql, day_sql = GROUP_SQL, DAY_SQL
    if extra:
        where = "WHERE created_at >= ? AND created_at < ?"
        group_sql = GROUP_SQL.replace(where, where + extra)
        day_sql = DAY_SQL.replace(where, where + extra)
    found = _read_both(conn, (group_sql, (start_ms, end_ms, *values)),
                       (day_sql, (first_day, start_ms, end_ms, *values)))
    assert found is not None  # no check to fail
    return found


@dataclass(slots=True)
class _Bin:
    """Tokens and latency of one (model, provider, region, latency-per-token bin), all days."""

    rows: int = 0
    tokens: int = 0
    latency_ms: float = 0.0
    nulls: int = 0
    grid_sum: float = 0.0  # grid intensities stored with the rows, and how many
    grid_n: int = 0

    @property
    def grid_seen(self) -> float | None:
        """The mean grid intensity stored with the rows, if any had one."""
        return self.grid_sum / self.grid_n if self.grid_n else None


class _Acc:
    """Running low/value/high sums of energy and carbon."""

    __slots__ = ("e", "c")

    def __init__(self) -> None:
        self.e = [0.0, 0.0, 0.0]
        self.c = [0.0, 0.0, 0.0]

    def add(self, e: tuple[float, float, float], c: tuple[float, float, float]) -> None:
        """Add (value, low, high) energy and carbon."""
        for i in range(3):
            self.e[i] += e[i]
            self.c[i] += c[i]

    def totals(self) -> Totals:
        """As a Totals."""
        return Totals(Range(*self.e), Range(*self.c))


REP_TOKENS = 1000
_EDGES_PER_OCTAVE = 8


def _per_token(
    model: ModelRef, lpt_ms: float | None, pue: float
) -> tuple[float, float, float]:
    """Per-token (value, low, high) Wh of a model at a latency per token (None: modelled).

    Without a time-to-first-token term, EcoLogits' energy at a fixed latency per token is
    proportional to the tokens, so one call at REP_TOKENS gives the per-token figure. Between
    grid points 1/8 octave apart the figure is linear in the latency per token (EcoLogits caps
    the generation time by the measured latency), so it is interpolated from memoized calls.
    """
    if lpt_ms is None or lpt_ms <= 0:
        return _at(model, None, pue)
    x = math.log2(lpt_ms) * _EDGES_PER_OCTAVE
    i = math.floor(x)
    lo, hi = 2 ** (i / _EDGES_PER_OCTAVE), 2 ** ((i + 1) / _EDGES_PER_OCTAVE)
    a, b = _at(model, lo, pue), _at(model, hi, pue)
    w = (lpt_ms - lo) / (hi - lo)
    return (a[0] + (b[0] - a[0]) * w, a[1] + (b[1] - a[1]) * w, a[2] + (b[2] - a[2]) * w)


def _base_per_token(
    base: ModelRef, model: ModelRef | None, lpt_ms: float | None, pue: float
) -> tuple[float, float, float]:
    """Per-token (value, low, high) Wh of the baseline re-pricing usage measured on `model`.

    The measured latency per token is scaled by active_base / active_actual. The value uses
    the midpoints of both parameter ranges; the bounds carry the ranges through: EcoLogits'
    energy rises with the parameter counts and with the latency, so the low bound is the
    baseline's smallest parameters at the smallest scaled latency (smallest baseline count
    over the largest actual one) and the high bound the other way round. The same model on
    both sides has a ratio of exactly one, whatever its range.
    """
    if lpt_ms is None or model is None or model.active_mid <= 0:
        return _per_token(base, None if model is None else lpt_ms, pue)
    if model.id == base.id or model.active == base.active:
        return _per_token(base, lpt_ms, pue)
    b_lo, b_hi = _bounds_of(base.active)
    a_lo, a_hi = _bounds_of(model.active)
    value = _per_token(base, lpt_ms * base.active_mid / model.active_mid, pue)[0]
    if a_lo <= 0:
        return (value, _per_token(base, lpt_ms * b_lo / a_hi, pue)[1],
                _per_token(base, None, pue)[2])  # unbounded ratio: the modelled latency caps it
    low = _per_token(base, lpt_ms * b_lo / a_hi, pue)[1]
    high = _per_token(base, lpt_ms * b_hi / a_lo, pue)[2]
    return (value, min(low, value), max(high, value))


def _bounds_of(value: Params | None) -> tuple[float, float]:
    """(low, high) of a parameter count."""
    if value is None:
        return (0.0, 0.0)
    return (float(value[0]), float(value[1])) if isinstance(value, tuple) else (
        float(value), float(value))


def _at(model: ModelRef, lpt_ms: float | None, pue: float) -> tuple[float, float, float]:
    """Per-token (value, low, high) Wh from one (memoized) `estimate()` call."""
    latency_s = None if lpt_ms is None else lpt_ms * REP_TOKENS / 1000.0
    energy = estimate(model.active, model.total, REP_TOKENS, latency_s, pue, 0.0).energy_wh
    return (energy.value / REP_TOKENS, energy.low / REP_TOKENS, energy.high / REP_TOKENS)


def _scale(values: tuple[float, float, float], factor: float) -> tuple[float, float, float]:
    """(value, low, high) times a factor."""
    return (values[0] * factor, values[1] * factor, values[2] * factor)


def _names(counts: dict[str | None, int], limit: int = 4) -> str:
    """'a (3), b (1), …' most frequent first."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or ""))
    text = ", ".join(f"{k or 'none'} ({v:,})" for k, v in items[:limit])
    return text + (", …" if len(items) > limit else "")


def compute(
    conn: sqlite3.Connection,
    ref: Reference,
    baseline_model: str | None,
    days: int = 30,
    now_ms: int | None = None,
    scope: dict[str, str] | None = None,
) -> EcoReport:
    """The eco figures of the last `days` days of cached usage, and their baseline re-pricing;
    `scope` limits them to a model, provider, region or key (the page's filter)."""
    started = time.perf_counter()
    days = max(1, int(days))
    end_ms = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    start_ms = end_ms - days * DAY_MS
    first_day = start_ms // DAY_MS
    n_days = (end_ms - 1) // DAY_MS - first_day + 1
    caveats: list[str] = []
    reasons: list[str] = []

    base = ref.models.get(baseline_model) if baseline_model else None
    if baseline_model and base is None:
        caveats.append(
            f"The baseline model {baseline_model} is not in the model list, so no baseline "
            "could be computed."
        )
    elif base is not None and not base.usable:
        caveats.append(
            f"The baseline model {base.name} has no published parameter count, so no baseline "
            "could be computed."
        )
        base = None
    elif not baseline_model:
        caveats.append("No baseline model is chosen (Settings → Eco baseline).")

    scope = {k: v for k, v in (scope or {}).items() if k in SCOPE_COLUMNS and v}
    rows, day_rows = _grouped(conn, start_ms, end_ms, first_day, scope)

    # Pass 1: usage shapes per (model, provider, bin), over all days and regions: energy does
    # not depend on the region, and carbon is energy x the region's grid intensity.
    shapes: dict[tuple, _Bin] = defaultdict(_Bin)
    routes: dict[tuple, _Bin] = defaultdict(_Bin)
    for m, p, r, b, n, t, lat, *_sums, nulls, _t_null, g_sum, g_n in rows:
        shape = shapes[(m, p, b)]
        shape.rows += n
        shape.tokens += t or 0
        shape.latency_ms += lat or 0
        shape.nulls += nulls
        route = routes[(m, p, r)]
        route.rows += n
        if g_sum is not None and math.isfinite(g_sum):
            route.grid_sum += g_sum
            route.grid_n += g_n or 0

    unknown_models: dict[str | None, int] = defaultdict(int)
    unparamed_models: dict[str | None, int] = defaultdict(int)
    unknown_regions: dict[str | None, int] = defaultdict(int)
    no_grid_regions: dict[str | None, int] = defaultdict(int)
    unknown_providers: dict[str | None, int] = defaultdict(int)
    fallback_pue = ref.fallback_pue()
    grid_of: dict[tuple, float] = {}
    for (m, p, r), route in routes.items():
        if m not in ref.models:
            unknown_models[m] += route.rows
        elif not ref.models[m].usable:
            unparamed_models[m] += route.rows
        if p not in ref.pue:
            unknown_providers[p] += route.rows
        grid = ref.grid.get(r) if r else None
        if grid is None:
            unknown_regions[r] += route.rows
            grid = route.grid_seen
            if grid is None:
                no_grid_regions[r] += route.rows
        grid_of[(m, p, r)] = grid if grid is not None else 0.0

    # Pass 2: per-token energy of the baseline (and of the actual model, for rows without
    # stored figures) at each shape's token-weighted latency per token.
    base_per: dict[tuple, tuple[float, float, float]] = {}
    actual_per: dict[tuple, tuple[float, float, float]] = {}
    no_latency = 0
    for key, shape in shapes.items():
        m, p, b = key
        if b == -1 or shape.tokens <= 0:
            continue
        model = ref.models.get(m) if m else None
        if model is not None and not model.usable:
            model = None
        pue = ref.pue.get(p, fallback_pue) if p else fallback_pue
        lpt: float | None = None
        if b >= 0:
            lpt = shape.latency_ms / shape.tokens
        else:
            no_latency += shape.rows
        if model is not None and shape.nulls:
            actual_per[key] = _per_token(model, lpt, pue)
        if base is not None:
            # no parameter count to scale by (model None): EcoLogits models the latency
            base_per[key] = _base_per_token(base, model, lpt, pue)

    # Pass 3: totals, and per (model, provider) the tokens and energies the chart spreads.
    actual, baseline = _Acc(), _Acc()
    pair_tokens: dict[tuple, int] = defaultdict(int)
    pair_base_wh: dict[tuple, float] = defaultdict(float)
    pair_null_tokens: dict[tuple, int] = defaultdict(int)
    pair_added_wh: dict[tuple, float] = defaultdict(float)
    dropping: set[tuple] = set()
    nonfinite_pairs: dict[tuple, int] = defaultdict(int)
    pair_actual_wh: dict[tuple, float] = defaultdict(float)
    generations = tokens = zero_tokens = recomputed = excluded = excluded_tokens = 0
    non_finite = non_finite_tokens = 0
    for m, p, r, b, n, t, _lat, z, e, el, eh, c, cl, ch, n_null, t_null, *_grid in rows:
        key = (m, p, b)
        t = t or 0
        if not all(v is None or math.isfinite(v) for v in (e, el, eh, c, cl, ch)):
            # Infinity/NaN stored by an older cache, or sums overflowing: these figures cannot
            # be added up; leave the group out of both sides, and say so
            non_finite += n
            non_finite_tokens += t
            nonfinite_pairs[(m, p)] += t
            continue
        missing = actual_per.get(key)
        if n_null and b != -1 and missing is None:
            # No stored figures and nothing to recompute them from: leave these rows out of
            # both sides so the comparison stays like for like.
            excluded += n_null
            excluded_tokens += t_null
            dropping.add((m, p))
            n -= n_null
            t -= t_null
        generations += n
        tokens += t
        zero_tokens += z
        pair_tokens[(m, p)] += t
        actual.add((e or 0.0, el or 0.0, eh or 0.0), (c or 0.0, cl or 0.0, ch or 0.0))
        pair_actual_wh[(m, p)] += e or 0.0
        grid = grid_of[(m, p, r)] / 1000.0
        own_e = (e or 0.0, el or 0.0, eh or 0.0)
        own_c = (c or 0.0, cl or 0.0, ch or 0.0)
        if n_null and missing is not None:
            recomputed += n_null
            add_e = _scale(missing, t_null)
            actual.add(add_e, _scale(add_e, grid))
            pair_null_tokens[(m, p)] += t_null
            pair_added_wh[(m, p)] += add_e[0]
            pair_actual_wh[(m, p)] += add_e[0]
            own_e = (own_e[0] + add_e[0], own_e[1] + add_e[1], own_e[2] + add_e[2])
            own_c = tuple(o + a * grid for o, a in zip(own_c, add_e, strict=True))
        per = base_per.get(key)
        if base is not None and m == base.id and t > 0:
            # the baseline model's own generations: re-pricing them is the identity, so the
            # baseline takes their own figures (re-pricing at a bin's mean latency would
            # differ by rounding, and a verdict must not be made of that)
            baseline.add(own_e, own_c)
            pair_base_wh[(m, p)] += own_e[0]
        elif per is not None and t > 0:
            add_e = _scale(per, t)
            baseline.add(add_e, _scale(add_e, grid))
            pair_base_wh[(m, p)] += add_e[0]

    actual_day = [0.0] * n_days
    base_day = [0.0] * n_days
    versions: dict[str, int] = defaultdict(int)
    platform_caveats: dict[str, int] = defaultdict(int)
    platform_low = 0
    for day, m, p, t, e, t_null, version, conf, cav, count in day_rows:
        versions[version or "unknown"] += count
        if conf == "low":
            platform_low += count
        for text in _json_list(cav):
            platform_caveats[text] += count
        if not 0 <= day < n_days:
            continue
        pair = (m, p)
        t, t_null = t or 0, t_null or 0
        if pair in nonfinite_pairs:
            # the pair's kept figures spread over its days by tokens (its stored per-day sums
            # hold the non-finite ones)
            all_tokens = pair_tokens[pair] + nonfinite_pairs[pair]
            share = t / all_tokens if all_tokens else 0.0
            actual_day[day] += pair_actual_wh[pair] * share
            base_day[day] += pair_base_wh[pair] * share
            continue
        actual_day[day] += e or 0.0
        if pair in dropping:
            t -= t_null
        elif t_null and pair_null_tokens[pair]:
            actual_day[day] += pair_added_wh[pair] * t_null / pair_null_tokens[pair]
        if pair_tokens[pair]:
            base_day[day] += pair_base_wh[pair] * t / pair_tokens[pair]

    # Confidence: the reasons it is reduced, in plain words.
    involved = {m for (m, _p, _r) in routes if m in ref.models}
    estimated = sorted(ref.models[m].name for m in involved if not ref.models[m].verified)
    if base is not None and not base.verified:
        estimated.append(f"{base.name} (baseline)")
    if estimated:
        reasons.append(
            "Parameter counts are estimated, not published, for: " + ", ".join(estimated) + "."
        )
    if unknown_models or unparamed_models:
        reasons.append("Some models are missing from the model list or have no parameter count.")
    if generations < SMALL_GENERATIONS or tokens < SMALL_TOKENS:
        reasons.append(
            f"Small sample: {generations:,} generations and {tokens:,} completion tokens "
            f"(figures steady out above {SMALL_GENERATIONS} generations and "
            f"{SMALL_TOKENS:,} tokens)."
        )
    known_versions = sorted(v for v in versions if v != "unknown")
    if len(versions) > 1:
        reasons.append(
            "The window mixes methodology versions: "
            + ", ".join(f"{v} ({versions[v]:,})" for v in sorted(versions)) + "."
        )
    elif known_versions and ref.version and known_versions[0] != ref.version and base:
        reasons.append(
            f"Actual figures use methodology {known_versions[0]}, the baseline uses "
            f"{ref.version}."
        )

    # Caveats about the input, never silent.
    if unknown_models:
        caveats.append(
            f"{sum(unknown_models.values()):,} generations used models missing from the model "
            f"list: {_names(unknown_models)}. Their actual figures are the platform's; their "
            "baseline uses EcoLogits' modelled latency instead of the measured one."
        )
    if unparamed_models:
        caveats.append(
            f"{sum(unparamed_models.values()):,} generations used models without a parameter "
            f"count: {_names(unparamed_models)}."
        )
    if unknown_regions:
        caveats.append(
            f"{sum(unknown_regions.values()):,} generations ran in regions missing from the grid "
            f"table: {_names(unknown_regions)}. The baseline uses the grid intensity stored "
            "with those generations."
        )
    if no_grid_regions:
        caveats.append(
            f"For {sum(no_grid_regions.values()):,} of them no grid intensity is known at all, "
            "so their baseline carbon is counted as zero."
        )
    if unknown_providers:
        caveats.append(
            f"{sum(unknown_providers.values()):,} generations ran on providers missing from the "
            f"PUE table: {_names(unknown_providers)}. The baseline uses the average PUE "
            f"({fallback_pue:.2f})."
        )
    if zero_tokens:
        caveats.append(
            f"{zero_tokens:,} generations produced no completion tokens; they are counted with "
            "zero energy."
        )
    if no_latency:
        caveats.append(
            f"{no_latency:,} generations have no measured latency; EcoLogits' modelled latency "
            "is used for them."
        )
    if recomputed:
        caveats.append(
            f"{recomputed:,} generations came without eco figures from the platform; they are "
            "estimated here with the same method."
        )
    if excluded:
        caveats.append(
            f"{excluded:,} generations ({excluded_tokens:,} tokens) have no eco figures and no "
            "known model; they are left out of both the actual and the baseline totals."
        )
    if non_finite:
        caveats.append(
            f"{non_finite:,} generations ({non_finite_tokens:,} tokens) are in groups whose eco "
            "figures cannot be added up (a figure that is not a finite number, or one so large "
            "that the sum overflows); those groups are left out of both the actual and the "
            "baseline totals."
        )
    if platform_low:
        caveats.append(
            f"The platform rates {platform_low:,} generations as low confidence."
        )
    for text, count in sorted(platform_caveats.items(), key=lambda kv: -kv[1])[:5]:
        caveats.append(f"Platform note on {count:,} generations: {text}.")

    actual_totals = actual.totals()
    base_totals = baseline.totals() if base is not None else None
    if not actual_totals.finite() or (base_totals is not None and not base_totals.finite()):
        caveats.append(
            "Some totals are too large to be represented (they overflow to infinity); they are "
            "shown as unknown and no comparison is made for them."
        )
    saved = False
    if base_totals is not None and tokens > 0:
        per_base = base_totals.energy_wh.value / tokens
        per_actual = actual_totals.energy_wh.value / tokens
        saved = math.isfinite(per_base) and math.isfinite(per_actual) and per_base > per_actual
        for label, a_r, b_r in (("energy", actual_totals.energy_wh, base_totals.energy_wh),
                                ("carbon", actual_totals.carbon_g, base_totals.carbon_g)):
            if _is_finite(a_r) and _is_finite(b_r) and ranges_overlap(a_r, b_r):
                caveats.append(
                    f"The actual and baseline {label} ranges overlap, so the {label} difference "
                    "is within the uncertainty of the estimates."
                )
    if base is not None and tokens > 0:
        caveats.append(
            "Baseline latency: the measured latency per token scaled by the ratio of active "
            "parameters (baseline / actual model)."
        )

    return EcoReport(
        days=days,
        start_ms=start_ms,
        end_ms=end_ms,
        baseline_model=baseline_model,
        baseline_name=base.name if base else None,
        actual=actual_totals,
        baseline=base_totals,
        saved=saved,
        generations=generations,
        tokens=tokens,
        methodology_versions=sorted(versions),
        confidence="reduced" if reasons else "normal",
        confidence_reasons=reasons,
        caveats=caveats,
        day_labels=[date(1970, 1, 1) + timedelta(days=first_day + i) for i in range(n_days)],
        actual_per_day_wh=actual_day,
        baseline_per_day_wh=base_day if base is not None else None,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        scope=scope,
    )


def _json_list(text: str | None) -> list[str]:
    """A cached JSON list of strings, tolerant of junk."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


LOCAL_BASELINE_META = "eco_baseline_local"


def chosen_baseline(cache: Cache) -> tuple[str | None, bool]:
    """The baseline model and whether it is a local choice not yet saved on the platform."""
    local = cache.get_meta(LOCAL_BASELINE_META)
    if local:
        return local, True
    snap = cache.snapshot("settings")
    body = snap[0] if snap else None
    model = body.get("eco_baseline_model") if isinstance(body, dict) else None
    return (model if isinstance(model, str) and model else None), False


def reference_from_cache(cache: Cache) -> Reference:
    """The cached `/models` and `/eco/methodology` snapshots as a Reference."""
    models = cache.snapshot("models")
    method = cache.snapshot("methodology")
    return Reference.from_snapshots(models[0] if models else [], method[0] if method else None)


def report_from_cache(
    cache: Cache, days: int = 30, baseline: str | None = None, now_ms: int | None = None,
    scope: dict[str, str] | None = None,
) -> EcoReport:
    """The eco report of a cache; the baseline defaults to the chosen one."""
    rollup.ensure(cache.conn, rollup.ECO)  # seconds, once, on a big cache from before it
    ref = reference_from_cache(cache)
    pending = False
    if baseline is None:
        baseline, pending = chosen_baseline(cache)
    report = compute(cache.conn, ref, baseline, days, now_ms, scope)
    if not ref.models or not ref.grid:
        report.caveats.insert(
            0,
            "The model list or the eco methodology has not been synced yet; sync to complete "
            "the figures.",
        )
    if pending:
        report.caveats.append(
            f"The baseline {baseline} was chosen offline and is kept on this computer until it "
            "can be saved on the platform."
        )
    return report
