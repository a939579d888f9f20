"""Argon2 password hashing, with a constant-cost check for names that do not exist."""

from __future__ import annotations

import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from fieldops.server.settings import Settings

MIN_PASSWORD = 10


class Passwords:
    """Hashes and checks passwords with the configured Argon2 cost."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        self._dummy: str | None = None
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        """The Argon2 hash to store."""
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether the password matches; with no stored hash it costs the same and fails."""
        target = stored if stored is not None else self._dummy_hash()
        try:
            self._hasher.verify(target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return stored is not None

    def needs_rehash(self, stored: str) -> bool:
        """Whether the stored hash was made with other parameters than the current ones."""
        return self._hasher.check_needs_rehash(stored)

    def _dummy_hash(self) -> str:
        """A hash of nothing anyone can type, made once, to spend the same time on."""
        with self._lock:
            if self._dummy is None:
                self._dummy = self._hasher.hash("\x00 no such user \x00")
            return self._dummy
