"""Who may change the account: the key the app signs in with, and the 'manage' scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pydantic loads after the first paint; these are only types
    from ..api.models import Key


MANAGE = "manage"
READ = "read"


def current_key(keys: Iterable[Key], api_key: str) -> Key | None:
    """The key this app signs in with: the one whose prefix starts the secret (longest wins)."""
    matches = [k for k in keys if k.prefix and api_key.startswith(k.prefix)]
    return max(matches, key=lambda k: len(k.prefix), default=None)


@dataclass(frozen=True)
class NotSignedIn:
    """No API key: nothing can be changed."""


@dataclass(frozen=True)
class LacksManage:
    """The key the app signs in with is known and has no 'manage' scope."""

    key: Key


ManageDenial = NotSignedIn | LacksManage


def manage_denial(keys: Iterable[Key] | None, api_key: str | None) -> ManageDenial | None:
    """None when the signed-in key may manage the account, else why not.

    Keys not known yet (None), or a secret none of them matches, let the platform answer:
    a refusal then comes back as its own 403, shown verbatim.
    """
    if api_key is None:
        return NotSignedIn()
    if keys is None:
        return None
    key = current_key(keys, api_key)
    if key is not None and MANAGE not in key.scopes:
        return LacksManage(key)
    return None
