"""The error a request ends with: an HTTP status, a code and a sentence."""

from __future__ import annotations

from typing import Any

from fieldops.domain.errors import FieldOpsError
from fieldops.protocol import ErrorBody, ErrorCode


class ApiError(FieldOpsError):
    """Ends a request with this status and an ErrorBody."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, code=code.value)
        self.status = status
        self.headers = headers or {}
        self.details = details

    def body(self) -> ErrorBody:
        """The JSON body of the answer."""
        return ErrorBody(code=self.code, message=self.message, **self.details)


def not_found(what: str = "record") -> ApiError:
    """Absent, or outside the caller's sites: the two are never told apart."""
    return ApiError(404, ErrorCode.NOT_FOUND, f"No such {what}, or it is outside your sites.")


def forbidden(message: str = "Your role does not allow this.") -> ApiError:
    """The caller's role does not allow the request."""
    return ApiError(403, ErrorCode.FORBIDDEN, message)
