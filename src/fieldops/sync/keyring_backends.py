"""Which keyring backend is in use, whether it can be trusted with a token, and what was tried.

Every function here may talk to D-Bus (probing the Secret Service), so callers run them off
the GUI thread, under a time limit.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import chainer, fail, null
from keyring.util import platform_

from fieldops.sync.credential_errors import (
    CredentialError,
    CredentialStoreLocked,
    FrozenBuildNoBackend,
    InsecureKeyringBackend,
    NoKeyringBackend,
)

log = logging.getLogger(__name__)

RECOMMENDED_PRIORITY = 1.0
"""keyring's own line: backends below it are not recommended (plain files and the like)."""


@dataclass(frozen=True)
class BackendProbe:
    """One backend keyring knows of: its priority, or why it cannot be used here."""

    name: str
    priority: float | None
    problem: str | None = None

    def describe(self) -> str:
        """One line: name and priority, or name and problem."""
        if self.problem is not None:
            return f"{self.name}: not available ({self.problem})"
        return f"{self.name}: priority {self.priority:g}"


@dataclass(frozen=True)
class BackendReport:
    """What `fieldops doctor` shows about the credential store."""

    backend: str
    priority: float | None
    status: str
    """ready, no_backend, insecure_backend, frozen_no_backend, locked, not_answering or
    session_only."""
    chosen_by: str
    frozen: bool
    tried: list[BackendProbe] = field(default_factory=list)
    message: str = ""

    def lines(self) -> list[str]:
        """The report as lines of text."""
        priority = f" (priority {self.priority:g})" if self.priority is not None else ""
        head = [
            f"credential store: {self.backend}{priority}, chosen by {self.chosen_by}",
            f"status: {self.status}" + (f": {self.message}" if self.message else ""),
        ]
        return head + [f"  tried {probe.describe()}" for probe in self.tried]


def backend_name(backend: keyring.backend.KeyringBackend) -> str:
    """The backend's module and class, as keyring names it."""
    kind = type(backend)
    return f"{kind.__module__}.{kind.__qualname__}"


def current_backend() -> keyring.backend.KeyringBackend:
    """The backend keyring chose (or was told to use); may probe D-Bus the first time."""
    return keyring.get_keyring()


def chosen_by() -> str:
    """How the backend was chosen: the environment, keyring's config file, or detection."""
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return "PYTHON_KEYRING_BACKEND"
    if (platform_.config_root() / "keyringrc.cfg").exists():
        return "keyringrc.cfg"
    return "detection"


def probe_all() -> list[BackendProbe]:
    """Every backend keyring knows of, highest priority first, each with its priority or problem."""
    keyring.backend.get_all_keyring()  # loads the backends registered by installed packages
    classes: set[type[keyring.backend.KeyringBackend]] = getattr(
        keyring.backend.KeyringBackend, "_classes", set()
    )
    probes = []
    for kind in classes:
        name = f"{kind.__module__}.{kind.__qualname__}"
        try:
            probes.append(BackendProbe(name, float(kind.priority)))
        except Exception as error:  # each backend says why it is not viable its own way
            probes.append(BackendProbe(name, None, str(error) or type(error).__name__))
    return sorted(probes, key=lambda p: (p.priority is None, -(p.priority or 0.0), p.name))


def unusable_reason(backend: keyring.backend.KeyringBackend) -> CredentialError | None:
    """Why this backend must not hold a token (none, disabled, a plain file), or None if fine."""
    if _is_empty(backend):
        return no_backend(backend_name(backend))
    if _priority(backend) < RECOMMENDED_PRIORITY:
        return InsecureKeyringBackend(backend_name(backend), _tried())
    return None


def no_backend(name: str) -> NoKeyringBackend:
    """The error for "no usable backend", telling a packaged build that lost its backends apart."""
    tried = _tried()
    log.warning("no keyring backend is usable; tried: %s", "; ".join(tried) or "none")
    if getattr(sys, "frozen", False):
        return FrozenBuildNoBackend(name, tried)
    return NoKeyringBackend(name, tried)


def _tried() -> list[str]:
    return [probe.describe() for probe in probe_all()]


def _is_empty(backend: keyring.backend.KeyringBackend) -> bool:
    """The fail or null backend, or a chainer with nothing to chain."""
    if isinstance(backend, fail.Keyring | null.Keyring):
        return True
    return isinstance(backend, chainer.ChainerBackend) and not list(backend.backends)


def _priority(backend: keyring.backend.KeyringBackend) -> float:
    """The backend's priority; for a chainer, that of the backend it writes to."""
    if isinstance(backend, chainer.ChainerBackend):
        chained = list(backend.backends)
        return _priority(chained[0]) if chained else 0.0
    try:
        return float(backend.priority)
    except Exception:  # a backend whose probe fails now (its service went away)
        return 0.0


def translate(error: Exception, backend: keyring.backend.KeyringBackend) -> CredentialError:
    """The credential error for what a keyring call raised."""
    if isinstance(error, CredentialError):
        return error
    if isinstance(error, keyring.errors.NoKeyringError):
        return no_backend(backend_name(backend))
    if isinstance(error, keyring.errors.KeyringLocked):
        return CredentialStoreLocked("the unlock was refused or dismissed")
    detail = _secretstorage_detail(error)
    if detail is not None:
        return CredentialStoreLocked(detail)
    return CredentialStoreLocked(f"{type(error).__name__}: {error}".strip(": "))


def _secretstorage_detail(error: Exception) -> str | None:
    """A short reason for the Secret Service's own errors, which keyring passes on as they are."""
    module = type(error).__module__
    if not module.startswith(("secretstorage", "jeepney")):
        return None
    names = {
        "LockedException": "the keyring collection is locked",
        "PromptDismissedException": "the unlock prompt was dismissed",
        "SecretServiceNotAvailableException": "the Secret Service is not running",
    }
    return names.get(type(error).__name__, f"Secret Service error: {type(error).__name__}")
