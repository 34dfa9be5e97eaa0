"""API keys by name on screen: 'Production (lr_live_8f3a…)' instead of 'key_mPH3TjZ3S…'.

Built from the cached key list (the `keys` snapshot) once per change of that snapshot; a
lookup is then one dict read, cheap enough for every cell the history table draws. A key the
list does not hold (revoked or deleted) shows its id.
"""

from __future__ import annotations

from typing import Any


class KeyLabels:
    """key id -> what to show and what to say on hover."""

    def __init__(self, keys: Any = None, fetched_at: int | None = None):
        self.fetched_at = fetched_at
        self._names: dict[str, str] = {}
        self._tips: dict[str, str] = {}
        self._prefixes: dict[str, str] = {}
        self._choices: dict[str, str] = {}  # the filter list's 'Production (lr_live_8f3a)'
        for key in keys if isinstance(keys, list) else []:
            if not isinstance(key, dict) or not isinstance(key.get("id"), str):
                continue
            key_id = key["id"]
            name = str(key.get("name") or "").strip()
            prefix = str(key.get("prefix") or "").strip()
            self._names[key_id] = name or (f"{prefix}…" if prefix else key_id)
            self._prefixes[key_id] = prefix
            self._choices[key_id] = f"{key.get('name') or key_id} ({key.get('prefix', '')})"
            lines = [name] if name else []
            lines.append(f"Id: {key_id}")
            if prefix:
                lines.append(f"Prefix: {prefix}…")
            self._tips[key_id] = "\n".join(lines)

    @classmethod
    def from_snapshot(cls, snap: tuple[Any, int] | None) -> KeyLabels:
        """From `Session.key_list_before_paint()` (None: no key list cached yet)."""
        return cls(snap[0], snap[1]) if snap else cls()

    @classmethod
    def from_keys(cls, keys: list[Any] | None, fetched_at: int | None = None) -> KeyLabels:
        """From the api models `Session.keys()` gives (None: no key list cached yet)."""
        return cls([key.model_dump(mode="json") for key in keys or []], fetched_at)

    def __bool__(self) -> bool:
        return bool(self._names)

    def name(self, key_id: str | None) -> str | None:
        """The key's name (its id when the cached list does not hold it; None for None)."""
        if key_id is None:
            return None
        return self._names.get(key_id, key_id)

    def known(self, key_id: str | None) -> bool:
        return key_id in self._names

    def tooltip(self, key_id: str | None) -> str | None:
        """Name, id and prefix; for a key not in the list, why only its id shows."""
        if key_id is None:
            return None
        tip = self._tips.get(key_id)
        if tip is None:
            return (f"Id: {key_id}\nNot in the cached key list (revoked or deleted, or the list "
                    "was never fetched).")
        return tip

    def choice(self, key_id: str) -> str:
        """How the key filter lists `key_id`: name and prefix (the id if not in the list)."""
        return self._choices.get(key_id, key_id)

    def label(self, key_id: str | None) -> str:
        """'Production (lr_live_8f3a…)', for a list or a form: name and prefix in one line."""
        if key_id is None:
            return "—"
        name = self._names.get(key_id)
        if name is None:
            return key_id
        prefix = self._prefixes[key_id]
        return f"{name} ({prefix}…)" if prefix and not name.endswith("…") else name
