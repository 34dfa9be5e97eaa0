"""The key store of an operator who signed in before, for the start-up child.

Chosen with PYTHON_KEYRING_BACKEND, so keyring loads it (after the first paint, as it would
load the OS store) without probing the system's backends.
"""

from __future__ import annotations

from keyring.backend import KeyringBackend

BENCH_URL = "http://127.0.0.1:9/v1"  # nothing listens: the start-up sync fails at once
BENCH_KEY = "lr-live-" + "B" * 40


class BenchKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return BENCH_KEY if username == BENCH_URL else None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError
