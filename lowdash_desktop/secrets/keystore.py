"""The API key lives only in the OS keyring; where none exists, only in memory."""

from __future__ import annotations

import logging

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

SERVICE = "lowdash-desktop"


def _is_usable(backend: KeyringBackend) -> bool:
    """False for the fail/null backends keyring picks when no secure store exists."""
    module = type(backend).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return False
    if module.startswith("keyring.backends.chainer"):
        return bool(getattr(backend, "backends", []))
    try:
        return float(backend.priority) > 0  # type: ignore[arg-type]
    except Exception:  # a backend whose priority check itself fails is not usable
        return False


class KeyStore:
    """One place for the API key: keyring when secure storage exists, else session memory."""

    def __init__(self, backend: KeyringBackend | None = None):
        self._chosen = backend
        self._memory: dict[str, str] = {}

    @property
    def _backend(self) -> KeyringBackend:
        # detecting the OS backend loads plugins (~0.4 s): only when a key is really needed
        if self._chosen is None:
            self._chosen = keyring.get_keyring()
        return self._chosen

    @property
    def secure(self) -> bool:
        return _is_usable(self._backend)

    @property
    def backend_name(self) -> str:
        return type(self._backend).__name__

    def describe(self) -> str:
        """A sentence for the sign-in dialog."""
        if self.secure:
            return f"The key will be kept in the system key store ({self.backend_name})."
        return (
            "No secure key store (keyring) was found on this system, so the key will be kept "
            "in memory for this session only and asked for again next time."
        )

    def get(self, account: str) -> str | None:
        if account in self._memory:
            return self._memory[account]
        if not self.secure:
            return None
        try:
            return self._backend.get_password(SERVICE, account)
        except keyring.errors.KeyringError as exc:
            log.warning("keyring read failed: %s", type(exc).__name__)
            return None

    def set(self, account: str, secret: str) -> bool:
        """Store the key; True when it went to the secure store, False when memory only."""
        if self.secure:
            try:
                self._backend.set_password(SERVICE, account, secret)
                self._memory.pop(account, None)
                return True
            except keyring.errors.KeyringError as exc:
                log.warning("keyring write failed: %s", type(exc).__name__)
        self._memory[account] = secret
        return False

    def delete(self, account: str) -> None:
        self._memory.pop(account, None)
        if not self.secure:
            return
        try:
            self._backend.delete_password(SERVICE, account)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            log.warning("keyring delete failed: %s", type(exc).__name__)
