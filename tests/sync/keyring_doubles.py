"""Keyring backends standing in for stores that cannot run on this machine.

A Windows Credential Manager (and its 2,560-byte limit), an unlock prompt that never returns,
and a backend that keeps secrets in a readable file cannot be had here; these imitate the
behaviour the credential store must handle. The real Secret Service, the fail backend and a
locked GNOME keyring are tested for real in test_credentials.py.

Each class is taken out of keyring's registry of backends as soon as it is defined, so
keyring itself never picks one of them in this test process.
"""

from __future__ import annotations

import threading

import keyring.backend
import keyring.errors

_REGISTRY: set[type] = getattr(keyring.backend.KeyringBackend, "_classes", set())


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Secrets in a dict, like a store that works; `limit` imitates Windows' per-secret cap."""

    priority = 5.0  # type: ignore[assignment]

    def __init__(self, limit: int | None = None) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.limit = limit

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        # Credential Manager stores the secret as UTF-16 and refuses more than 2,560 bytes.
        if self.limit is not None and len(password.encode("utf-16-le")) > self.limit:
            raise keyring.errors.PasswordSetError("secret too large for the credential store")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class HangingKeyring(MemoryKeyring):
    """Every call waits until released, like an unlock prompt nobody can see (C34 b)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.calls += 1
        self.release.wait(30)
        return super().get_password(service, username)


class PlainFileKeyring(MemoryKeyring):
    """A backend below keyring's recommended priority, like keyrings.alt's plaintext file."""

    priority = 0.5  # type: ignore[assignment]


for _double in (MemoryKeyring, HangingKeyring, PlainFileKeyring):
    _REGISTRY.discard(_double)
