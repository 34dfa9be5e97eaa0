"""The key store of an operator who signed in before, for the start-up child.

Chosen with PYTHON_KEYRING_BACKEND, so keyring loads it (after the first paint, as it would
load the OS store) without probing the system's backends.
"""

from __future__ import annotations

from keyring.backend import KeyringBackend

from benchmarks.startup_child import BENCH_KEY, BENCH_URL


class BenchKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return BENCH_KEY if username == BENCH_URL else None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError
