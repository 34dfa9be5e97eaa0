"""Who may change the account: the key the app signs in with decides, or the platform does."""

from __future__ import annotations

from lowdash_desktop.api.models import Key
from lowdash_desktop.rules.permissions import (
    LacksManage,
    NotSignedIn,
    current_key,
    manage_denial,
)

SECRET = "lr-live-abcdef0123456789"


def key(prefix: str, scopes: list[str], name: str = "k") -> Key:
    return Key(id=f"key_{prefix}", name=name, prefix=prefix, scopes=scopes)


def test_current_key_is_the_longest_matching_prefix():
    short, long, other = key("lr-live-ab", ["read"]), key("lr-live-abcd", []), key("lr-x", [])
    assert current_key([short, long, other], SECRET) is long
    assert current_key([short, other], SECRET) is short


def test_current_key_none_when_no_prefix_matches_or_prefix_empty():
    assert current_key([key("lr-live-zz", ["manage"])], SECRET) is None
    assert current_key([key("", ["manage"])], SECRET) is None  # '' would match everything
    assert current_key([], SECRET) is None


def test_not_signed_in_denies_whatever_the_keys():
    assert manage_denial(None, None) == NotSignedIn()
    assert manage_denial([key("lr-live-ab", ["manage"])], None) == NotSignedIn()


def test_unknown_keys_let_the_platform_decide():
    assert manage_denial(None, SECRET) is None  # keys not fetched yet
    assert manage_denial([key("lr-other", ["read"])], SECRET) is None  # ours not among them


def test_own_key_with_manage_may_manage():
    assert manage_denial([key("lr-live-ab", ["read", "manage"])], SECRET) is None


def test_own_key_without_manage_is_denied_naming_the_key():
    mine = key("lr-live-abc", ["read"], name="Read only")
    denial = manage_denial([key("lr-live-a", ["manage"]), mine], SECRET)
    assert isinstance(denial, LacksManage) and denial.key is mine
    assert isinstance(manage_denial([key("lr-live-ab", [])], SECRET), LacksManage)
