"""Errors that carry a sentence a technician can act on."""

from __future__ import annotations


class FieldOpsError(Exception):
    """Base of every error FieldOps reports to a person; its text is the message shown."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ValidationError(FieldOpsError):
    """The input breaks a rule; nothing was saved."""

    code = "invalid"


class NotFoundError(FieldOpsError):
    """The record asked for does not exist here."""

    code = "not_found"
