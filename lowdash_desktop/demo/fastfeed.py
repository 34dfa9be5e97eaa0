"""A fast, realistic demo platform for the sync benchmark (additive: the default demo is as it was).

`FastDemoPlatform` renders every page of the change feed before it serves any, so serving a
page costs a dictionary lookup and a socket write: a sync measured against it shows the
client's cost, not the demo's (rendering a record takes the demo ~115 us, as long as storing
it). It also offers:

- feed orders (`ORDERS`): `time` (the demo's own: creation order, ~5 % revised within a few
  hundred entries), `shuffled` (`created_at` in random order, as when a platform backfills
  history; a revision still comes after its first version), `revisions-late` (every first
  version in time order, then every revision at the end);
- realistic data (`realistic=True`): latencies and completion token counts vary continuously
  (the default demo reuses 16 latency shapes per model and provider, so a roll-up keyed by
  latency looks better than it is on real data), a long tail of rarely used models, and odd
  names (non-ASCII, spaces, quotes, formula-like, long).

The feed is a snapshot taken at construction: `add_generations` and `bump_revision` do not
change the pre-rendered pages (a request with another `limit` is rendered live, from the same
snapshot).
"""

from __future__ import annotations

import numpy as np

from lowdash_desktop.demo.data import DemoData
from lowdash_desktop.demo.server import (
    DemoPlatform,
    Request,
    Response,
    _limit,
    decode_cursor,
    encode_cursor,
    json_response,
)

ORDERS = ("time", "shuffled", "revisions-late")
TAIL_MODELS = 400
TAIL_SHARE = 0.12  # of generations served by a model of the long tail
_ODD = (
    "org/модель-{i}", "vendor/模型-{i}-chat", "lab/model with spaces {i}", 'q"uote\'d-{i}',
    "=formula-{i}", "naïve-ünïcode-{i}", "x/" + "very-long-name-" * 12 + "{i}", "tab\tname-{i}",
)


def tail_model_names(count: int = TAIL_MODELS) -> list[str]:
    """Names of the long tail: mostly plain, one in eight odd."""
    names = []
    for i in range(count):
        if i % 8 == 7:
            names.append(_ODD[(i // 8) % len(_ODD)].format(i=i))
        else:
            names.append(f"tail-{i % 23}/model-{i}-{'instruct' if i % 3 else 'base'}")
    return names


def realistic_columns(data: DemoData) -> dict[str, np.ndarray]:
    """What makes `data` realistic: a latency and a completion-token factor per generation
    (continuous), and its model of the long tail (-1: its own model)."""
    n = len(data.created)
    rng = np.random.default_rng([data.seed, 12])
    tail = np.where(
        rng.random(n) < TAIL_SHARE,
        np.minimum(rng.zipf(1.3, n) - 1, TAIL_MODELS - 1), -1,
    )
    return {
        "latency": rng.lognormal(0.0, 0.35, n),  # factor on the shape's latency
        "tokens": rng.lognormal(0.0, 0.5, n),  # factor on the shape's completion tokens
        "tail": tail,
        "names": np.array(tail_model_names(), dtype=object),
    }


def realistic_record(data: DemoData, shape: dict[str, np.ndarray], idx: int, rev: int) -> dict:
    """The feed record of generation `idx` at revision `rev`, made realistic by `shape`
    (`realistic_columns(data)`)."""
    record = data.generation(idx, rev, False)
    tokens = record["tokens"]
    old = max(tokens["completion"], 1)
    completion = max(1, round(old * float(shape["tokens"][idx])))
    tokens["completion"] = completion
    tokens["total"] = tokens["prompt"] + completion + tokens["reasoning"]
    record["latency_ms"] = max(1, round(record["latency_ms"] * float(shape["latency"][idx])
                                        * completion / old))
    factor = completion / old
    for figure in ("energy_wh", "carbon_g"):
        rng_ = record["eco"][figure]
        for end in ("value", "low", "high"):
            if rng_.get(end) is not None:
                rng_[end] = rng_[end] * factor
    tail = int(shape["tail"][idx])
    if tail >= 0:
        name = str(shape["names"][tail])
        record["resolved_model"] = name
        if record["model"] != "lowrouter/auto":
            record["model"] = name
    return record


class FastDemoPlatform(DemoPlatform):
    """The demo platform with its feed pre-rendered at `page_limit`, in `order`."""

    def __init__(
        self, *, order: str = "time", realistic: bool = True, page_limit: int = 1000,
        **kwargs,
    ) -> None:
        if order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}")
        super().__init__(**kwargs)
        self.order = order
        self.realistic = realistic
        self.page_limit = page_limit
        self._entries = self._ordered_entries(order)
        self._shape = realistic_columns(self.data) if realistic else None
        self._pages: dict[int, Response] = {}
        total = len(self._entries)
        for start in range(0, max(total, 1), page_limit):
            self._pages[start] = self._render(start, min(start + page_limit, total))

    @property
    def feed_length(self) -> int:
        """Entries in the feed (generations plus revisions)."""
        return len(self._entries)

    def _ordered_entries(self, order: str) -> list[tuple[int, int]]:
        data = self.data
        idx = data.feed_idx.astype(np.int64)
        rev = data.feed_rev.astype(np.int64)
        if order == "shuffled":
            # first versions in random order; each revision a few hundred entries after its
            # first version, as in the demo's own feed
            rng = np.random.default_rng([self.seed, 11])
            n = len(data.created)
            first = rng.permutation(n)
            position = np.empty(n, np.int64)
            position[first] = np.arange(n)
            later = rev > 1
            delay = rng.integers(1, 400, int(later.sum())) + 400 * (rev[later] - 2)
            key = np.concatenate([np.arange(n) * 2,
                                  np.minimum(position[idx[later]] + delay, n - 1) * 2 + 1])
            ordered = np.argsort(key, kind="stable")
            idx = np.concatenate([first, idx[later]])[ordered]
            rev = np.concatenate([np.ones(n, np.int64), rev[later]])[ordered]
        elif order == "revisions-late":
            first = rev == 1
            idx = np.concatenate([idx[first], idx[~first]])
            rev = np.concatenate([rev[first], rev[~first]])
        return list(zip(idx.tolist(), rev.tolist(), strict=True))

    def _record(self, idx: int, rev: int) -> dict:
        if self._shape is None:
            return self.data.generation(idx, rev, False)
        return realistic_record(self.data, self._shape, idx, rev)

    def _render(self, start: int, end: int) -> Response:
        total = len(self._entries)
        page = [self._record(i, r) for i, r in self._entries[start:end]]
        return json_response(
            200, {"data": page, "next_cursor": encode_cursor("f1", end), "has_more": end < total}
        )

    def _get_feed(self, request: Request) -> Response:
        """GET /generations from the pages rendered at start (other limits: rendered now)."""
        limit = _limit(request.query, 500)
        total = len(self._entries)
        start = decode_cursor("f1", request.query.get("cursor"), total)
        if limit == self.page_limit and start in self._pages:
            return self._pages[start]
        return self._render(start, min(start + limit, total))
