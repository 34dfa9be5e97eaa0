"""The platform's answers as the last sync cached them, validated once with the api models.

Qt-free: the Session reads them this way, and so can anything holding an open Cache
(`CachedAnswers.of(cache)`), e.g. a test. Every reader of the account, credits, settings,
routing, keys, models or methodology goes through here instead of unpacking
`cache.snapshot(name)` itself.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ..api.models import (
        Account,
        Credits,
        EcoMethodology,
        Key,
        ModelInfo,
        RoutingConfig,
        Settings,
    )
    from ..store.cache import Cache

log = logging.getLogger(__name__)


def snapshot_model(name: str) -> tuple[type, bool]:
    """The api model of the cached answer `name`, and whether the answer is a list of them.

    Imported here, not at the top: pydantic and the models load after the first paint.
    """
    from ..api import models

    return {
        "account": (models.Account, False),
        "credits": (models.Credits, False),
        "settings": (models.Settings, False),
        "routing": (models.RoutingConfig, False),
        "methodology": (models.EcoMethodology, False),
        "keys": (models.Key, True),
        "models": (models.ModelInfo, True),
    }[name]


class CreditsPreview(NamedTuple):
    """The cached balance, read without the api models: for what shows before they load.

    The credits dock and the tray show the balance at the first paint; pydantic and the
    models load after it (0.2-0.7 s here, docs/performance.md "Paint first"). Same field
    names as `api.models.Credits`.
    """

    currency: str
    balance: Decimal
    spent_this_month: Decimal
    topup_url: str | None


class CachedAnswers:
    """Typed accessors over `self.cache` (None: nothing is open, every answer is None).

    Mixed into Session; `CachedAnswers.of(cache)` gives them over a cache of one's own.
    """

    cache: Cache | None = None

    @classmethod
    def of(cls, cache: Cache) -> CachedAnswers:
        answers = cls()
        answers.cache = cache
        return answers

    def _snapshot(self, name: str) -> tuple[Any, int] | None:
        return self.cache.snapshot(name) if self.cache is not None else None

    def fetched_at(self, name: str) -> int | None:
        """When the cached answer `name` was fetched (epoch ms), or None if never."""
        snap = self._snapshot(name)
        return snap[1] if snap else None

    def _validated(self, name: str) -> Any:
        """The cached answer `name` as api models; None when missing or unreadable.

        Validated once per answer: while the cached body is the same, the same objects.
        """
        snap = self._snapshot(name)
        if not snap:
            return None
        body = snap[0]
        parsed: dict[str, tuple[Any, Any]] = self.__dict__.setdefault("_parsed_answers", {})
        kept = parsed.get(name)
        if kept is not None and kept[0] == body:
            return kept[1]
        model, many = snapshot_model(name)
        try:
            value = (
                [model.model_validate(item) for item in body]
                if many
                else model.model_validate(body)
            )
        except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            log.warning("the cached %s cannot be read: %s", name, exc)
            value = None
        parsed[name] = (body, value)
        return value

    def account(self) -> Account | None:
        return self._validated("account")

    def credits(self) -> Credits | None:
        return self._validated("credits")

    def settings(self) -> Settings | None:
        return self._validated("settings")

    def routing(self) -> RoutingConfig | None:
        return self._validated("routing")

    def methodology(self) -> EcoMethodology | None:
        return self._validated("methodology")

    def keys(self) -> list[Key] | None:
        """The account's keys (None: no key list cached yet, or it cannot be read)."""
        return self._validated("keys")

    def models(self) -> list[ModelInfo] | None:
        return self._validated("models")

    def generation(self, gen_id: str) -> dict[str, Any] | None:
        """One cached generation as the detail window shows it (None: not in the cache)."""
        return self.cache.generation(gen_id) if self.cache is not None else None

    def invoices(self) -> list[dict[str, Any]]:
        """The cached invoices as the platform sent them (a few dozen rows: a short read)."""
        return self.cache.invoices() if self.cache is not None else []

    def currency(self) -> str:
        """The account's currency ("" before the first sync)."""
        account = self.account()
        return account.currency if account is not None else ""

    # -- before the api models load (the first paint) -------------------------------------------
    def credits_preview(self) -> CreditsPreview | None:
        """The cached balance without the models (see CreditsPreview); None if unreadable."""
        snap = self._snapshot("credits")
        body = snap[0] if snap else None
        try:
            return CreditsPreview(
                str(body.get("currency", "")),
                Decimal(str(body["balance"])),
                Decimal(str(body.get("spent_this_month", "0"))),
                body.get("topup_url"),
            )
        except (AttributeError, KeyError, TypeError, ArithmeticError):  # none, or not a balance
            return None

    def key_list_before_paint(self) -> tuple[Any, int] | None:
        """The cached key list as JSON and its fetch time, for the table's key names at the
        first paint (KeyLabels reads it leniently; the models load after the paint)."""
        return self._snapshot("keys")
