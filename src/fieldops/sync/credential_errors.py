"""Why a sign-in token could not be saved or read, each reason with its sentence and a way on.

"Nothing stored" and "the store is locked" must never look alike: the first asks the person
to sign in, the second must not, or they would overwrite a good credential because of a lock.
"""

from __future__ import annotations

from typing import ClassVar

from fieldops.domain.errors import FieldOpsError

SESSION_ONLY_HINT = (
    "You can sign in for this session only: the sign-in is kept in memory until FieldOps "
    "closes, and offline work goes on either way."
)


class CredentialError(FieldOpsError):
    """The credential store could not do what was asked."""

    kind: ClassVar[str] = "credential_error"
    session_only_helps: ClassVar[bool] = True
    """Whether signing in for this session only (kept in memory) is a way on."""
    retry_helps: ClassVar[bool] = False
    """Whether trying again later may work (after unlocking the keyring, say)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=self.kind)


class NoStoredToken(CredentialError):
    """Nothing is stored for this user and server: sign in."""

    kind = "not_stored"
    session_only_helps = False

    def __init__(self, account: str, message: str | None = None) -> None:
        super().__init__(message or f"No sign-in is saved for {account}. Sign in to sync.")
        self.account = account


class StoredTokenDamaged(NoStoredToken):
    """Part of a long stored token is missing or does not match: sign in again."""

    kind = "damaged"

    def __init__(self, account: str) -> None:
        super().__init__(
            account, f"The saved sign-in for {account} is incomplete. Sign in again to sync."
        )


class NoKeyringBackend(CredentialError):
    """No secure credential store is available on this computer."""

    kind = "no_backend"

    def __init__(
        self, backend: str, tried: list[str] | None = None, message: str | None = None
    ) -> None:
        super().__init__(
            message
            or "There is no secure credential store on this computer, so your sign-in cannot "
            f"be saved. {SESSION_ONLY_HINT} To keep it, set up a keyring: on Linux, GNOME "
            "Keyring or KWallet in a desktop session with D-Bus."
        )
        self.backend = backend
        self.tried = tried or []
        """The backends keyring considered, each with why it was not usable."""


class InsecureKeyringBackend(NoKeyringBackend):
    """The only store found keeps secrets in a plain file; FieldOps will not use it."""

    kind = "insecure_backend"

    def __init__(self, backend: str, tried: list[str] | None = None) -> None:
        super().__init__(
            backend,
            tried,
            f"The only credential store found ({backend}) is not a secure one (it may keep "
            f"secrets in a readable file), so FieldOps does not save your sign-in there. "
            f"{SESSION_ONLY_HINT}",
        )


class FrozenBuildNoBackend(NoKeyringBackend):
    """This packaged FieldOps lost the keyring backends it should carry."""

    kind = "frozen_no_backend"

    def __init__(self, backend: str, tried: list[str] | None = None) -> None:
        super().__init__(
            backend,
            tried,
            "This FieldOps build cannot reach the system's credential store (its keyring "
            f"backends were not packaged with it). {SESSION_ONLY_HINT} Please report this "
            "build to IT.",
        )


class CredentialStoreLocked(CredentialError):
    """The store exists but refused: locked, unlock prompt dismissed, or no prompt possible."""

    kind = "locked"
    retry_helps = True

    def __init__(self, detail: str = "") -> None:
        why = f" ({detail})" if detail else ""
        super().__init__(
            f"The credential store is locked or unavailable{why}, so your saved sign-in cannot "
            "be used right now. Unlock your keyring and try again; nothing was overwritten. "
            f"{SESSION_ONLY_HINT}"
        )
        self.detail = detail


class CredentialStoreNotAnswering(CredentialStoreLocked):
    """The store did not answer in time (an unlock prompt nobody can see, a stuck service)."""

    kind = "not_answering"

    def __init__(self, seconds: float, *, still_waiting: bool = False) -> None:
        detail = (
            "it has still not answered an earlier request"
            if still_waiting
            else f"it did not answer within {seconds:g} s"
        )
        super().__init__(detail)
        self.seconds = seconds
