"""Deterministic synthetic platform data, generated on demand from (seed, index, revision)."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from lowdash_desktop.demo import catalog
from lowdash_desktop.eco import methodology as eco
from lowdash_desktop.insight.common import money_text as money  # the platform's amount text

DAY_MS = 86_400_000
HISTORY_DAYS = 90
POOL_SIZE = (
    16  # distinct (completion, latency) shapes per model/provider: keeps EcoLogits calls few
)
REVISED_SHARE = 0.05
STORY_MIN = 500  # smaller demos are the plain synthetic traffic only
WORKLOAD_SHARE = 0.19
WORKLOAD_WEEKS = 6
WORKLOAD_MOVED_DAYS = 9
WORKLOAD_ROUTES = (
    ("openai/gpt-4o", "azure"),
    ("mistral/mistral-large-2", "scaleway"),
    ("anthropic/claude-sonnet-4", "aws"),
    ("anthropic/claude-sonnet-4", "gcp"),
)
WORKLOAD_MIX_BEFORE = (0.45, 0.30, 0.15, 0.10)
WORKLOAD_MIX_AFTER = (0.10, 0.28, 0.42, 0.20)
BURST_ROUTE = ("cohere/command-r-plus", "aws")
_MASK40 = (1 << 40) - 1
_OBF_MUL = 0x9E3779B97F & _MASK40 | 1
_OBF_INV = pow(_OBF_MUL, -1, 1 << 40)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_INDEX = {c: i for i, c in enumerate(_CROCKFORD)}
_FROM_CROCKFORD = str.maketrans(_CROCKFORD, "0123456789abcdefghijklmnopqrstuv")
_PAIRS = [_CROCKFORD[i >> 5] + _CROCKFORD[i & 31] for i in range(1024)]
_SHIFTS = tuple(range(120, -1, -10))  # 13 chunks of 10 bits = 26 characters
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_FINISH = ("stop",) * 90 + ("length",) * 6 + ("tool_calls",) * 3 + ("content_filter",)
_REJECTIONS = (
    "over_max_price",
    "region_excluded",
    "unavailable",
    "rate_limited",
    "context_too_long",
)


def iso_ms(ms: int) -> str:
    """RFC 3339 UTC timestamp with milliseconds and `Z` from epoch milliseconds."""
    dt = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def to_nano(text: str) -> int:
    """Parse a decimal money string into nano-units (raises ValueError if invalid)."""
    try:
        value = Decimal(text)
    except Exception as exc:  # noqa: BLE001 - decimal raises several types
        raise ValueError(f"not a decimal amount: {text!r}") from exc
    if not value.is_finite():
        raise ValueError("amount must be finite")
    return int((value * 1_000_000_000).to_integral_value(rounding=ROUND_HALF_UP))


def _mix(x: int) -> int:
    """splitmix64 finalizer: a cheap deterministic 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def _mix_array(x: np.ndarray) -> np.ndarray:
    """`_mix` of each element of a uint64 array (numpy wraps around at 64 bits as `_mix` masks)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([a[name], b[name]]) for name in a}


def _growth(weeks: int, factor: float) -> np.ndarray:
    """Probabilities of weeks 0 (this one) .. weeks-1, each week `factor` times the one before."""
    w = factor ** -np.arange(weeks, dtype=np.float64)
    return w / w.sum()


def _hourly_bar(cols: dict[str, np.ndarray], mask: np.ndarray, before_ms: int) -> float:
    """The larger of the mean and the 95th percentile hour of spend (nano) of the rows in
    `mask` over the 14 days before `before_ms`."""
    hour0 = before_ms // 3_600_000 - 14 * 24
    hours = cols["created"][mask] // 3_600_000 - hour0
    inside = (hours >= 0) & (hours < 14 * 24)
    series = np.bincount(hours[inside], weights=cols["cost"][mask][inside], minlength=14 * 24)
    return float(max(series.mean(), np.percentile(series, 95)))


def base62(rng: random.Random, n: int) -> str:
    """n random base62 characters."""
    return "".join(rng.choice(BASE62) for _ in range(n))


@dataclass(frozen=True, slots=True)
class Pair:
    """A (model, provider) pair and its pool of typical completion/latency shapes."""

    model: catalog.Model
    provider: catalog.Provider


class DemoData:
    """All generations of the demo account, stored as compact numeric columns."""

    def __init__(
        self, seed: int, count: int, now: datetime, key_ids: list[str], key_weights: list[float],
        workload_key: int | None = None, burst_key: int | None = None,
    ) -> None:
        if not 1 <= count <= 5_000_000:
            raise ValueError("generations must be between 1 and 5,000,000")
        self.seed = seed
        self.now = now
        self.now_ms = int(now.timestamp() * 1000)
        self.key_ids = key_ids
        self.workload_key = workload_key
        self.burst_key = burst_key
        self.burst: tuple[int, int] | None = None  # [start, end) ms of the batch burst
        self.lock = threading.RLock()
        self.bumped: dict[int, int] = {}  # idx -> revision raised after start-up
        self.regions = sorted(catalog.GRID_INTENSITY)
        self.region_index = {r: i for i, r in enumerate(self.regions)}
        self._build_pairs(key_weights)
        self._obf_add = _mix(seed) & _MASK40
        self._generate(count)
        self._build_feed()
        self._build_eco()
        self._build_daily()

    # ----- build -------------------------------------------------------------------------
    def _build_pairs(self, key_weights: list[float]) -> None:
        """Route table, pools of completion/latency shapes and sampling weights."""
        rng = np.random.default_rng([self.seed, 1])
        self.pairs: list[Pair] = []
        weights = []
        for model in catalog.MODELS:
            for rank, name in enumerate(model.providers):
                self.pairs.append(Pair(model, catalog.PROVIDERS[name]))
                weights.append(model.weight / (1.0 + 0.6 * rank))
        self.pair_weights = np.array(weights) / sum(weights)
        n_pairs = len(self.pairs)
        median = np.array([700.0 if p.model.reasoning else 260.0 for p in self.pairs])
        tokens = rng.lognormal(np.log(median)[:, None], 0.9, (n_pairs, POOL_SIZE))
        self.pool_completion = np.clip(np.rint(tokens), 1, 8192).astype(np.int32)
        ms_tok = np.array([p.model.ms_per_token for p in self.pairs])[:, None]
        ttft = np.array([p.provider.ttft_ms for p in self.pairs])[:, None]
        noise = rng.uniform(0.7, 1.5, (n_pairs, POOL_SIZE))
        self.pool_latency = np.rint(ttft + self.pool_completion * ms_tok * noise).astype(np.int32)
        self.pool_completion[:, 0] = np.maximum(self.pool_completion[:, 0] // 40, 1)
        self.key_weights = np.array(key_weights) / sum(key_weights)

    def _generate(self, count: int) -> None:
        """Draw every generation's numeric columns (sorted by creation time)."""
        rng = np.random.default_rng([self.seed, 2])
        ages = (
            np.where(
                rng.random(count) < 0.35,
                rng.uniform(0, HISTORY_DAYS, count),
                np.minimum(rng.exponential(12.0, count), HISTORY_DAYS - 1e-6),
            )
            * DAY_MS
        )
        recent = max(5, count // 100) if count >= 10 else 1
        ages[:recent] = rng.uniform(0, 3_600_000, recent)
        ages[0] = 0
        created = np.sort(self.now_ms - ages.astype(np.int64))
        cols = self._draw(rng, created)
        if count >= STORY_MIN and self.workload_key is not None and self.burst_key is not None:
            cols = self._with_story(cols)
        self._set_columns(cols)

    # ----- the story the insight views tell ------------------------------------------------
    def _with_story(self, cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Replace a random share of the traffic with two workloads of their own seed, so the
        insight views have something to say (the other generations keep their values):

        - an assistant on large models with long contexts (the `workload_key`), launched six
          weeks ago and growing each week, that moved most of its traffic from GPT-4o to
          Claude Sonnet 4 nine days ago: weeks differ, with movers both ways;
        - one batch job (the `burst_key`) of a few hours two days ago, long documents through
          Command R+: a spend spike of its key and of its model.

        The total count is unchanged (`--generations N` is still N).
        """
        rng = np.random.default_rng([self.seed, 5])
        n = len(cols["created"])
        n_burst = min(max(n // 50, 36), 4000)
        n_work = round(n * WORKLOAD_SHARE)
        old = np.flatnonzero(cols["created"] < self.now_ms - 3_600_000)
        keep = np.ones(n, bool)
        keep[rng.choice(old, n_burst + n_work, replace=False)] = False
        base = {name: column[keep] for name, column in cols.items()}
        both = _concat(base, self._workload(rng, n_work))
        both = _concat(both, self._burst(rng, n_burst, both))
        order = np.argsort(both["created"], kind="stable")
        return {name: column[order] for name, column in both.items()}

    def _pair_index(self, model: str, provider: str) -> int:
        return next(i for i, p in enumerate(self.pairs)
                    if p.model.id == model and p.provider.name == provider)

    def _block(
        self, rng: np.random.Generator, created: np.ndarray, pair: np.ndarray, key: int,
        prompt: np.ndarray, cached_share: float,
    ) -> dict[str, np.ndarray]:
        """Columns of a block of generations with the given routes, key and prompts."""
        count = len(created)
        cols = {
            "created": created.astype(np.int64),
            "pair": pair.astype(np.int16),
            "slot": rng.integers(0, POOL_SIZE, count).astype(np.int16),
            "region": self._regions(pair, rng.random(count)),
            "prompt": np.clip(np.rint(prompt), 200, 120_000).astype(np.int32),
        }
        hit = rng.random(count) < cached_share
        cols["cached"] = np.where(hit, cols["prompt"] * rng.uniform(0.3, 0.9, count), 0).astype(
            np.int32)
        reasoning_model = np.array([p.model.reasoning for p in self.pairs])[pair]
        cols["reasoning"] = np.where(
            reasoning_model, np.rint(rng.lognormal(np.log(900.0), 0.9, count)), 0
        ).astype(np.int32)
        cols["key"] = np.full(count, key, np.int8)
        cols["cost"] = self._cost(cols)
        return cols

    def _workload(self, rng: np.random.Generator, count: int) -> dict[str, np.ndarray]:
        """The assistant: six weeks of traffic, each week ~1.35 times the one before."""
        week = rng.choice(WORKLOAD_WEEKS, count, p=_growth(WORKLOAD_WEEKS, 1.35))
        age = (week + rng.random(count)) * 7 * DAY_MS
        created = np.sort(self.now_ms - 3_600_000 - age.astype(np.int64))
        routes = [self._pair_index(m, p) for m, p in WORKLOAD_ROUTES]
        before, after = np.array(WORKLOAD_MIX_BEFORE), np.array(WORKLOAD_MIX_AFTER)
        moved = created >= self.now_ms - WORKLOAD_MOVED_DAYS * DAY_MS
        pair = np.where(moved, rng.choice(routes, count, p=after / after.sum()),
                        rng.choice(routes, count, p=before / before.sum()))
        prompt = rng.lognormal(np.log(26_000.0), 0.75, count)
        return self._block(rng, created, pair, self.workload_key, prompt, 0.5)

    def _burst(
        self, rng: np.random.Generator, count: int, cols: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """The batch job: `count` long documents in a few hours, about two days ago, spending
        per hour well above the spike minimum (1.00) and its key's and model's usual hours."""
        hours = int(rng.integers(3, 5))
        start = (self.now_ms // 3_600_000 - 48 - int(rng.integers(2, 9))) * 3_600_000
        start += int(rng.integers(0, 600_000))
        end = start + hours * 3_600_000 - 900_000
        pair_i = self._pair_index(*BURST_ROUTE)
        usual = max(
            _hourly_bar(cols, cols["key"] == self.burst_key, start),
            _hourly_bar(cols, cols["pair"] == pair_i, start),  # the model's one route here
        )
        per_hour = max(rng.uniform(2.4, 3.4) * 1e9, 6.0 * usual)
        per_row = per_hour * (end - start) / 3_600_000 / count  # nano-EUR
        model, provider = self.pairs[pair_i].model, catalog.PROVIDERS[BURST_ROUTE[1]]
        completion = float(self.pool_completion[pair_i].mean())  # not a reasoning model
        eur_per_mtok = per_row / 1000.0 / provider.price_factor
        prompt_median = (eur_per_mtok - completion * float(model.price_completion)) / float(
            model.price_prompt)
        prompt = rng.lognormal(np.log(max(prompt_median, 1000.0)), 0.3, count)
        created = np.sort(rng.integers(start, end, count))
        self.burst = (start, end)
        return self._block(rng, created, np.full(count, pair_i), self.burst_key, prompt, 0.0)

    def _draw(self, rng: np.random.Generator, created: np.ndarray) -> dict[str, np.ndarray]:
        """Draw all columns for generations created at the given instants."""
        count = len(created)
        pair = rng.choice(len(self.pairs), count, p=self.pair_weights).astype(np.int16)
        slot = rng.integers(0, POOL_SIZE, count).astype(np.int16)
        region = self._regions(pair, rng.random(count))
        prompt = np.clip(np.rint(rng.lognormal(np.log(800.0), 1.1, count)), 3, 120_000)
        prompt = prompt.astype(np.int32)
        cached = np.where(rng.random(count) < 0.25, prompt * rng.uniform(0.2, 0.9, count), 0)
        reasoning_model = np.array([p.model.reasoning for p in self.pairs])[pair]
        reasoning = np.where(
            reasoning_model, np.rint(rng.lognormal(np.log(600.0), 0.8, count)), 0
        ).astype(np.int32)
        key = rng.choice(len(self.key_ids), count, p=self.key_weights).astype(np.int8)
        cols = {
            "created": created.astype(np.int64),
            "pair": pair,
            "slot": slot,
            "region": region,
            "prompt": prompt,
            "cached": cached.astype(np.int32),
            "reasoning": reasoning,
            "key": key,
        }
        cols["cost"] = self._cost(cols)
        return cols

    def _regions(self, pair: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A region of each generation's provider (its first region three times as likely)."""
        region = np.empty(len(pair), np.int16)
        for i, p in enumerate(self.pairs):
            mask = pair == i
            if not mask.any():
                continue
            names = p.provider.regions
            w = np.array([3.0] + [1.0] * (len(names) - 1))
            edges = np.cumsum(w / w.sum())
            pick = np.minimum(np.searchsorted(edges, u[mask]), len(names) - 1)
            region[mask] = np.array([self.region_index[r] for r in names], np.int16)[pick]
        return region

    def _cost(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        """Cost of each generation in nano-EUR."""
        pp = np.array([float(p.model.price_prompt) for p in self.pairs])[cols["pair"]]
        pc = np.array([float(p.model.price_completion) for p in self.pairs])[cols["pair"]]
        factor = np.array([p.provider.price_factor for p in self.pairs])[cols["pair"]]
        completion = self.pool_completion[cols["pair"], cols["slot"]]
        uncached = cols["prompt"] - cols["cached"]
        eur_per_mtok = uncached * pp + cols["cached"] * pp * 0.25
        eur_per_mtok = eur_per_mtok + (completion + cols["reasoning"]) * pc
        return np.maximum(np.rint(eur_per_mtok * factor * 1000.0), 1).astype(np.int64)

    def _set_columns(self, cols: dict[str, np.ndarray]) -> None:
        """Install column arrays as attributes."""
        self.created = cols["created"]
        self.pair = cols["pair"]
        self.slot = cols["slot"]
        self.region = cols["region"]
        self.prompt = cols["prompt"]
        self.cached = cols["cached"]
        self.reasoning = cols["reasoning"]
        self.key = cols["key"]
        self.cost = cols["cost"]

    def _build_feed(self) -> None:
        """Server order: each generation once, ~5% again later with revision 2."""
        rng = np.random.default_rng([self.seed, 3])
        n = len(self.created)
        self.revised = rng.random(n) < REVISED_SHARE
        rev_idx = np.flatnonzero(self.revised)
        delay = rng.integers(1, 400, len(rev_idx))
        sort_key = np.concatenate([np.arange(n) * 2, np.minimum(rev_idx + delay, n - 1) * 2 + 1])
        order = np.argsort(sort_key, kind="stable")
        all_idx = np.concatenate([np.arange(n), rev_idx]).astype(np.int32)
        all_rev = np.concatenate([np.ones(n, np.int8), np.full(len(rev_idx), 2, np.int8)])
        self.feed_idx = all_idx[order]
        self.feed_rev = all_rev[order]

    def _build_eco(self) -> None:
        """Energy and carbon of every generation at its highest revision, via the eco module."""
        self.energy, self.carbon = self._eco_columns(self.pair, self.slot, self.region)

    def _eco_columns(
        self, pair: np.ndarray, slot: np.ndarray, region: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Energy/carbon value columns for the given route columns (one eco call per shape)."""
        combo = (pair.astype(np.int64) * POOL_SIZE + slot) * len(self.regions) + region
        uniq, inverse = np.unique(combo, return_inverse=True)
        energy = np.empty(len(uniq))
        carbon = np.empty(len(uniq))
        for j, c in enumerate(uniq.tolist()):
            rest, r = divmod(c, len(self.regions))
            p, s = divmod(rest, POOL_SIZE)
            est = self.estimate(p, s, r, None)
            energy[j] = est.energy_wh.value
            carbon[j] = est.carbon_g.value
        return energy[inverse], carbon[inverse]

    def estimate(
        self, pair: int, slot: int, region: int, latency_ms: int | None
    ) -> eco.EcoEstimate:
        """The eco estimate of a route shape (latency defaults to the pool's)."""
        p = self.pairs[pair]
        if latency_ms is None:
            latency_ms = int(self.pool_latency[pair, slot])
        return eco.estimate(
            p.model.params_active,
            p.model.params_total,
            int(self.pool_completion[pair, slot]),
            latency_ms / 1000.0,
            p.provider.pue,
            catalog.GRID_INTENSITY[self.regions[region]],
        )

    def _build_daily(self) -> None:
        """Per UTC day/model/provider aggregates at highest revision."""
        self.daily: dict[tuple[int, int], list] = {}
        self._add_daily(slice(0, len(self.created)))

    def _add_daily(self, sl: slice) -> None:
        """Fold the generations in `sl` into the daily aggregates."""
        day = self.created[sl] // DAY_MS
        pair = self.pair[sl].astype(np.int64)
        key = day * 4096 + pair
        uniq, inv = np.unique(key, return_inverse=True)
        k = len(uniq)
        completion = self.pool_completion[self.pair[sl], self.slot[sl]]
        requests = np.bincount(inv, minlength=k)
        prompt = np.zeros(k, np.int64)
        np.add.at(prompt, inv, self.prompt[sl])
        compl = np.zeros(k, np.int64)
        np.add.at(compl, inv, completion)
        cost = np.zeros(k, np.int64)
        np.add.at(cost, inv, self.cost[sl])
        energy = np.bincount(inv, weights=self.energy[sl], minlength=k)
        carbon = np.bincount(inv, weights=self.carbon[sl], minlength=k)
        for j, u in enumerate(uniq.tolist()):
            d, p = divmod(u, 4096)
            row = self.daily.setdefault((d, p), [0, 0, 0, 0, 0.0, 0.0])
            row[0] += int(requests[j])
            row[1] += int(prompt[j])
            row[2] += int(compl[j])
            row[3] += int(cost[j])
            row[4] += float(energy[j])
            row[5] += float(carbon[j])

    # ----- mutation ------------------------------------------------------------------------
    def append(self, count: int, at_ms: int) -> list[int]:
        """Append `count` new generations created at/after `at_ms`; return their indexes."""
        with self.lock:
            start = len(self.created)
            rng = np.random.default_rng([self.seed, 4, start])
            created = at_ms + np.arange(count, dtype=np.int64) * 7
            cols = self._draw(rng, created)
            energy, carbon = self._eco_columns(cols["pair"], cols["slot"], cols["region"])
            merged = {
                name: np.concatenate([getattr(self, attr), cols[name]])
                for name, attr in (
                    ("created", "created"),
                    ("pair", "pair"),
                    ("slot", "slot"),
                    ("region", "region"),
                    ("prompt", "prompt"),
                    ("cached", "cached"),
                    ("reasoning", "reasoning"),
                    ("key", "key"),
                    ("cost", "cost"),
                )
            }
            self._set_columns(merged)
            self.energy = np.concatenate([self.energy, energy])
            self.carbon = np.concatenate([self.carbon, carbon])
            self.revised = np.concatenate([self.revised, np.zeros(count, bool)])
            new_idx = np.arange(start, start + count, dtype=np.int32)
            self.feed_idx = np.concatenate([self.feed_idx, new_idx])
            self.feed_rev = np.concatenate([self.feed_rev, np.ones(count, np.int8)])
            self._add_daily(slice(start, start + count))
            return list(range(start, start + count))

    # ----- identity --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.created)

    def gen_id(self, idx: int) -> str:
        """ULID-style id encoding creation time and an obfuscated index (so lookups need no map)."""
        obf = (idx * _OBF_MUL + self._obf_add) & _MASK40
        check = _mix(self.seed * 1_000_003 + idx) & _MASK40
        value = (int(self.created[idx]) << 80) | (obf << 40) | check
        pairs = _PAIRS
        return "gen_" + "".join([pairs[(value >> shift) & 1023] for shift in _SHIFTS])

    def gen_ids(self, idx: np.ndarray) -> list[str]:
        """`gen_id` of many generations at once (a bulk builder's ~0.5 us instead of ~7 us)."""
        idx = np.asarray(idx, dtype=np.uint64)
        created = self.created[idx.astype(np.int64)].astype(np.uint64)
        mask = np.uint64(_MASK40)
        obf = (idx * np.uint64(_OBF_MUL) + np.uint64(self._obf_add)) & mask
        check = _mix_array(np.uint64(self.seed * 1_000_003) + idx) & mask
        # the 128-bit value is created << 80 | obf << 40 | check: 10-bit chunks never straddle
        parts = (check, obf, created)  # bits 0-39, 40-79, 80-127
        table = np.frombuffer("".join(_PAIRS).encode(), dtype=np.uint8).reshape(1024, 2)
        out = np.empty((len(idx), 30), dtype=np.uint8)
        out[:, :4] = np.frombuffer(b"gen_", dtype=np.uint8)
        for k, shift in enumerate(_SHIFTS):
            part = parts[min(shift // 40, 2)]
            chunk = (part >> np.uint64(shift - 40 * min(shift // 40, 2))) & np.uint64(1023)
            out[:, 4 + 2 * k:6 + 2 * k] = table[chunk.astype(np.intp)]
        return out.view("S30").ravel().astype("U30").tolist()

    def index_of(self, gen_id: str) -> int | None:
        """Inverse of gen_id; None if the id is not one of ours."""
        body = gen_id[4:] if gen_id.startswith("gen_") else ""
        if len(body) != 26 or any(c not in _CROCKFORD_INDEX for c in body):
            return None
        value = int(body.translate(_FROM_CROCKFORD), 32)
        obf = (value >> 40) & _MASK40
        idx = ((obf - self._obf_add) * _OBF_INV) & _MASK40
        if idx >= len(self.created) or self.gen_id(idx) != gen_id:
            return None
        return idx

    def highest_revision(self, idx: int) -> int:
        """Highest revision the feed hands out for a generation."""
        return self.bumped.get(idx) or (2 if self.revised[idx] else 1)

    def bump_revision(self, idx: int) -> int:
        """Give a generation a new, higher revision at the end of the feed; return it."""
        with self.lock:
            revision = self.highest_revision(idx) + 1
            self.bumped[idx] = revision
            self.feed_idx = np.concatenate([self.feed_idx, np.array([idx], np.int32)])
            self.feed_rev = np.concatenate([self.feed_rev, np.array([revision], np.int8)])
            return revision

    # ----- serialization ---------------------------------------------------------------------
    def generation(self, idx: int, revision: int, with_routing: bool) -> dict:
        """The JSON object of one generation at one revision."""
        rng = random.Random(_mix((self.seed << 24) ^ idx))
        pair_i, slot, region_i = int(self.pair[idx]), int(self.slot[idx]), int(self.region[idx])
        pair = self.pairs[pair_i]
        completion = int(self.pool_completion[pair_i, slot])
        latency = int(self.pool_latency[pair_i, slot])
        cost = int(self.cost[idx])
        auto = rng.random() < 0.55
        finish = rng.choice(_FINISH)
        streamed = rng.random() < 0.7
        cost_jitter = rng.uniform(0.92, 1.08)
        latency_jitter = rng.uniform(0.9, 1.12)
        final = revision >= self.highest_revision(idx)
        if not final:
            cost = max(1, round(cost * cost_jitter))
            latency = max(1, round(latency * latency_jitter))
            est = self.estimate(pair_i, slot, region_i, latency)
        else:
            est = self.estimate(pair_i, slot, region_i, None)
        region = self.regions[region_i]
        conf, caveats = catalog.confidence(pair.model)
        if not final:
            caveats = [*caveats, "provisional figures: cost and latency not yet finalized"]
        prompt, reasoning = int(self.prompt[idx]), int(self.reasoning[idx])
        out = {
            "id": self.gen_id(idx),
            "seq": idx + 1,
            "revision": revision,
            "created_at": iso_ms(int(self.created[idx])),
            "key_id": self.key_ids[int(self.key[idx])],
            "model": catalog.AUTO_MODEL if auto else pair.model.id,
            "resolved_model": pair.model.id,
            "provider": pair.provider.name,
            "region": region,
            "latency_ms": latency,
            "finish_reason": finish,
            "streamed": streamed,
            "tokens": {
                "prompt": prompt,
                "completion": completion,
                "reasoning": reasoning,
                "cached": int(self.cached[idx]),
                "total": prompt + completion + reasoning,
            },
            "cost": {"amount": money(cost), "currency": "EUR"},
            "eco": {
                "energy_wh": est.energy_wh.as_dict(),
                "carbon_g": est.carbon_g.as_dict(),
                "grid_intensity_g_per_kwh": catalog.GRID_INTENSITY[region],
                "methodology_version": eco.METHOD_VERSION,
                "confidence": conf,
                "caveats": caveats,
            },
        }
        if idx % 17 == 3:
            out["x_experimental"] = {"cache_tier": "warm", "shadow_eval": idx % 2 == 0}
        if with_routing:
            out["routing"] = self._routing(rng, pair_i, region, auto, latency)
        return out

    def _routing(
        self, rng: random.Random, pair_i: int, region: str, auto: bool, latency: int
    ) -> dict:
        """A plausible routing trace whose pick is consistent with the stated preference."""
        pair = self.pairs[pair_i]
        strategy = "auto" if auto or rng.random() < 0.6 else "fixed"
        if strategy == "fixed":
            preference = "fixed_provider"
        else:
            preference = rng.choice(("cheapest", "cheapest", "lowest_carbon", "closest"))
        candidates = [(pair.provider.name, region)]
        for name in pair.model.providers:
            for reg in catalog.PROVIDERS[name].regions:
                if (name, reg) != candidates[0]:
                    candidates.append((name, reg))
        others = candidates[1:]
        rng.shuffle(others)
        want = rng.randint(3, 6)
        if len(others) + 1 < want:
            extra = [(p, catalog.PROVIDERS[p].regions[0]) for p in sorted(catalog.PROVIDERS)]
            others += [c for c in extra if c not in others and c != candidates[0]]
        considered_routes = [candidates[0], *others[: want - 1]]
        picked_metrics = self._route_metrics(pair.model, *candidates[0])
        considered = []
        eligible_alts = []
        for i, (prov, reg) in enumerate(considered_routes):
            metrics = self._route_metrics(pair.model, prov, reg)
            serves = prov in pair.model.providers
            rejected = None
            if not serves:
                rejected = "unavailable"
            elif i > 0 and (
                preference == "fixed_provider" or self._better(preference, metrics, picked_metrics)
            ):
                rejected = rng.choice(_REJECTIONS)
            if i > 0 and rejected is None:
                eligible_alts.append((prov, reg))
            considered.append(
                {
                    "provider": prov,
                    "region": reg,
                    "eligible": rejected is None,
                    "price_per_mtok": metrics[0],
                    "carbon_g_per_mtok": metrics[1],
                    "est_latency_ms": metrics[2],
                    "rejected_because": rejected,
                }
            )
        attempts = []
        reason = preference
        if eligible_alts and rng.random() < 0.3:
            # A preferred provider failed first; we fell back to the picked one.
            prov, reg = eligible_alts[0]
            status = rng.choice((429, 503))
            attempts.append(
                {
                    "provider": prov,
                    "region": reg,
                    "status": status,
                    "latency_ms": rng.randint(40, 900),
                }
            )
            reason = "fallback_after_error"
        attempts.append(
            {"provider": pair.provider.name, "region": region, "status": 200, "latency_ms": latency}
        )
        return {
            "strategy": strategy,
            "preference": preference,
            "considered": considered,
            "attempts": attempts,
            "picked": pair.provider.name,
            "reason": reason,
        }

    @staticmethod
    def _better(preference: str, metrics: tuple, picked: tuple) -> bool:
        """Whether a candidate beats the picked route on the preference's metric."""
        index = {"cheapest": 0, "lowest_carbon": 1, "closest": 2}[preference]
        if index == 0:
            return Decimal(metrics[0]) < Decimal(picked[0])
        return metrics[index] < picked[index]

    def _route_metrics(
        self, model: catalog.Model, provider: str, region: str
    ) -> tuple[str, float, int]:
        """(price per Mtok, carbon g per Mtok, estimated latency) of a route for a model."""
        prov = catalog.PROVIDERS[provider]
        price = Decimal(model.price_completion) * Decimal(str(prov.price_factor))
        per_k = eco.estimate(
            model.params_active,
            model.params_total,
            1000,
            None,
            prov.pue,
            catalog.GRID_INTENSITY[region],
        )
        carbon = round(per_k.carbon_g.value * 1000, 3)
        est_latency = int(prov.ttft_ms + 250 * model.ms_per_token)
        return str(price.quantize(Decimal("0.0001"))), carbon, est_latency

    def feed_slice(self, start: int, stop: int) -> list[tuple[int, int]]:
        """(index, revision) feed entries in [start, stop)."""
        idx = self.feed_idx[start:stop].tolist()
        rev = self.feed_rev[start:stop].tolist()
        return list(zip(idx, rev, strict=True))

    def iter_highest(self) -> Iterator[dict]:
        """Every generation at its highest revision (feed form)."""
        for idx in range(len(self.created)):
            yield self.generation(idx, self.highest_revision(idx), False)

    # ----- aggregates --------------------------------------------------------------------------
    def cost_between(self, start_ms: int, end_ms: int, key: int | None = None) -> int:
        """Total cost (nano) of generations created in [start_ms, end_ms)."""
        lo = int(np.searchsorted(self.created, start_ms, "left"))
        hi = int(np.searchsorted(self.created, end_ms, "left"))
        if key is None:
            return int(self.cost[lo:hi].sum())
        mask = self.key[lo:hi] == key
        return int(self.cost[lo:hi][mask].sum())

    def last_used_ms(self, key: int) -> int | None:
        """Creation time of the newest generation made with a key."""
        hits = np.flatnonzero(self.key == key)
        return int(self.created[hits[-1]]) if len(hits) else None

    def daily_rows(self, first_day: int, last_day: int) -> list[dict]:
        """`/usage/daily` rows for UTC day numbers in [first_day, last_day]."""
        rows = []
        for (day, p), agg in self.daily.items():
            if first_day <= day <= last_day:
                pair = self.pairs[p]
                rows.append(
                    {
                        "date": (datetime(1970, 1, 1) + timedelta(days=day)).strftime("%Y-%m-%d"),
                        "model": pair.model.id,
                        "provider": pair.provider.name,
                        "requests": agg[0],
                        "prompt_tokens": agg[1],
                        "completion_tokens": agg[2],
                        "cost": money(agg[3]),
                        "energy_wh": agg[4],
                        "carbon_g": agg[5],
                    }
                )
        rows.sort(key=lambda r: (r["date"], r["model"], r["provider"]))
        return rows

    def monthly_by_model(self, start_ms: int, end_ms: int) -> dict[str, tuple[int, int]]:
        """model id -> (requests, cost nano) in [start_ms, end_ms)."""
        lo = int(np.searchsorted(self.created, start_ms, "left"))
        hi = int(np.searchsorted(self.created, end_ms, "left"))
        model_of_pair = np.array([catalog.MODELS.index(p.model) for p in self.pairs])
        models = model_of_pair[self.pair[lo:hi]]
        counts = np.bincount(models, minlength=len(catalog.MODELS))
        costs = np.zeros(len(catalog.MODELS), np.int64)
        np.add.at(costs, models, self.cost[lo:hi])
        return {
            catalog.MODELS[i].id: (int(counts[i]), int(costs[i]))
            for i in range(len(catalog.MODELS))
            if counts[i]
        }
