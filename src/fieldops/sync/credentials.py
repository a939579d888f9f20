"""The sign-in token in the operating system's keyring, and nowhere else.

Tokens are stored under the service "fieldops" and an account "<user>@<host:port>"; the
password is never stored. Every keyring call runs in a worker thread with a time limit, since
a locked keyring can wait forever on an unlock prompt nobody sees. A token longer than the
smallest platform limit (Windows keeps at most 2,560 bytes per secret) is split across
several entries and joined again on load.

When there is no usable keyring the caller can switch the store to session-only: the token
then lives in this process's memory until it ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

import keyring.backend
import keyring.errors

from fieldops.sync.credential_errors import (
    CredentialError,
    CredentialStoreNotAnswering,
    NoStoredToken,
    StoredTokenDamaged,
)
from fieldops.sync.keyring_backends import (
    BackendReport,
    backend_name,
    chosen_by,
    current_backend,
    probe_all,
    translate,
    unusable_reason,
)
from fieldops.sync.urls import host_port

log = logging.getLogger(__name__)

SERVICE = "fieldops"
KEYRING_TIMEOUT = 15.0
MAX_SECRET_BYTES = 2560
"""The smallest per-secret limit among the platform stores (Windows Credential Manager)."""
_SPLIT_MARK = "fieldops-split:v1:"

Result = TypeVar("Result")
Backend = keyring.backend.KeyringBackend


def account_name(user: str, server: str) -> str:
    """The keyring account for a user on a server (a URL, or host:port): "<user>@<host:port>"."""
    return f"{user}@{host_port(server) if '://' in server else server}"


def split_secret(secret: str, limit: int = MAX_SECRET_BYTES) -> list[str]:
    """The secret in parts that each fit `limit` bytes in UTF-8 and in UTF-16 (Windows)."""
    parts: list[str] = []
    current: list[str] = []
    size8 = size16 = 0
    for char in secret:
        add8, add16 = len(char.encode("utf-8")), len(char.encode("utf-16-le"))
        if current and (size8 + add8 > limit or size16 + add16 > limit):
            parts.append("".join(current))
            current, size8, size16 = [], 0, 0
        current.append(char)
        size8, size16 = size8 + add8, size16 + add16
    if current or not parts:
        parts.append("".join(current))
    return parts


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]


def _header(count: int, secret: str) -> str:
    return f"{_SPLIT_MARK}{count}:{_digest(secret)}"


def _parse_header(value: str) -> tuple[int, str] | None:
    if not value.startswith(_SPLIT_MARK):
        return None
    count, _, digest = value[len(_SPLIT_MARK) :].partition(":")
    return (int(count), digest) if count.isdigit() else None


def _part_name(account: str, index: int) -> str:
    return f"{account}#{index}"


class _TimedRunner:
    """Runs keyring calls in a daemon thread and stops waiting after a time limit."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._stuck: threading.Thread | None = None

    def run(self, work: Callable[[], Result]) -> Result:
        """The call's result, its exception, or CredentialStoreNotAnswering after the limit."""
        if self._stuck is not None and self._stuck.is_alive():
            # Another unlock prompt would only pile up behind the one nobody answered.
            raise CredentialStoreNotAnswering(self.timeout, still_waiting=True)
        outcome: list[tuple[bool, object]] = []
        done = threading.Event()

        def call() -> None:
            try:
                outcome.append((True, work()))
            except BaseException as error:  # handed to the waiting thread
                outcome.append((False, error))
            finally:
                done.set()

        worker = threading.Thread(target=call, name="fieldops-keyring", daemon=True)
        worker.start()
        if not done.wait(self.timeout):
            self._stuck = worker
            log.warning("the credential store did not answer within %g s", self.timeout)
            raise CredentialStoreNotAnswering(self.timeout)
        succeeded, value = outcome[0]
        if not succeeded:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]


class CredentialStore:
    """Saves, loads and deletes sign-in tokens in the OS keyring (or in memory, by choice)."""

    def __init__(
        self,
        service: str = SERVICE,
        *,
        timeout: float = KEYRING_TIMEOUT,
        backend: Backend | None = None,
        session_only: bool = False,
    ) -> None:
        self.service = service
        self._backend = backend
        self._runner = _TimedRunner(timeout)
        self._session_only = session_only
        self._memory: dict[str, str] = {}

    @property
    def session_only(self) -> bool:
        """Whether tokens are kept in this process's memory only."""
        return self._session_only

    def use_session_only(self) -> None:
        """From now on, keeps tokens in memory until the process ends ("this session only")."""
        self._session_only = True
        log.info("credentials for %s are kept for this session only", self.service)

    def save(self, user: str, server: str, token: str) -> None:
        """Stores the token for the user on the server, replacing any earlier one."""
        account = account_name(user, server)
        if self._session_only:
            self._memory[account] = token
            return
        self._run(lambda backend: self._write(backend, account, token))
        log.info("saved the sign-in of %s", account)

    def load(self, user: str, server: str) -> str:
        """The stored token; raises NoStoredToken when there is none, other errors otherwise."""
        account = account_name(user, server)
        if self._session_only:
            if account not in self._memory:
                raise NoStoredToken(account)
            return self._memory[account]
        return self._run(lambda backend: self._read(backend, account))

    def delete(self, user: str, server: str) -> bool:
        """Removes the stored token (every part of it); False when there was none."""
        account = account_name(user, server)
        if self._session_only:
            return self._memory.pop(account, None) is not None
        removed = self._run(lambda backend: self._remove(backend, account))
        if removed:
            log.info("removed the sign-in of %s", account)
        return removed

    def describe_backend(self) -> BackendReport:
        """The backend in use, its priority and state, and every backend tried, for doctor."""
        if self._session_only:
            return BackendReport(
                "memory (this session only)", None, "session_only", "choice", False
            )
        try:
            return self._runner.run(self._describe)
        except CredentialError as error:
            return BackendReport("unknown", None, error.kind, chosen_by(), False, [], str(error))

    def round_trip(self) -> None:
        """Writes, reads back and deletes a test entry; raises what goes wrong."""
        probe = f"{self.service}-doctor"

        def work(backend: Backend) -> None:
            backend.set_password(probe, "doctor", "round-trip-check")
            if backend.get_password(probe, "doctor") != "round-trip-check":
                raise CredentialError("The credential store did not give back what was saved.")
            backend.delete_password(probe, "doctor")

        self._run(work)

    # Inside the worker thread.

    def _run(self, work: Callable[[Backend], Result]) -> Result:
        def call() -> Result:
            backend = self._backend or current_backend()
            problem = unusable_reason(backend)
            if problem is not None:
                raise problem
            try:
                return work(backend)
            except Exception as error:
                raise translate(error, backend) from error

        return self._runner.run(call)

    def _describe(self) -> BackendReport:
        backend = self._backend or current_backend()
        problem = unusable_reason(backend)
        try:
            priority: float | None = float(backend.priority)
        except Exception:  # the backend's own probe fails now
            priority = None
        report = BackendReport(
            backend=backend_name(backend),
            priority=priority,
            status=problem.kind if problem else "ready",
            chosen_by=chosen_by(),
            frozen=bool(getattr(sys, "frozen", False)),
            tried=probe_all(),
            message=str(problem) if problem else "",
        )
        log.info("credential store: %s", " | ".join(report.lines()))
        return report

    def _write(self, backend: Backend, account: str, token: str) -> None:
        earlier = backend.get_password(self.service, account)
        earlier_header = _parse_header(earlier) if earlier else None
        earlier_parts = earlier_header[0] if earlier_header else 0
        parts = split_secret(token)
        if len(parts) == 1 and not token.startswith(_SPLIT_MARK):
            backend.set_password(self.service, account, token)
        else:
            # Parts first, the header last: a save cut short leaves a header whose digest
            # no longer matches, which reads as "incomplete", never as a wrong token.
            for index, part in enumerate(parts, start=1):
                backend.set_password(self.service, _part_name(account, index), part)
            backend.set_password(self.service, account, _header(len(parts), token))
        count = len(parts) if len(parts) > 1 else 0
        for index in range(count + 1, earlier_parts + 1):
            self._forget(backend, _part_name(account, index))

    def _read(self, backend: Backend, account: str) -> str:
        value = backend.get_password(self.service, account)
        if value is None:
            raise NoStoredToken(account)
        header = _parse_header(value)
        if header is None:
            return value
        count, digest = header
        parts = [
            backend.get_password(self.service, _part_name(account, i)) for i in range(1, count + 1)
        ]
        if any(part is None for part in parts):
            raise StoredTokenDamaged(account)
        token = "".join(part for part in parts if part is not None)
        if _digest(token) != digest:
            raise StoredTokenDamaged(account)
        return token

    def _remove(self, backend: Backend, account: str) -> bool:
        value = backend.get_password(self.service, account)
        if value is None:
            return False
        header = _parse_header(value)
        for index in range(1, (header[0] if header else 0) + 1):
            self._forget(backend, _part_name(account, index))
        self._forget(backend, account)
        return True

    def _forget(self, backend: Backend, name: str) -> None:
        with contextlib.suppress(keyring.errors.PasswordDeleteError):  # already gone
            backend.delete_password(self.service, name)
