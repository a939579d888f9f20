"""Turning an error into words for a dialog: never a traceback."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication

from fieldops.domain.errors import FieldOpsError

log = logging.getLogger(__name__)


def describe_error(exc: BaseException) -> str:
    """The sentence to show for an error; unexpected ones point at the log file."""
    if isinstance(exc, FieldOpsError):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        return QCoreApplication.translate(
            "Errors", "The file could not be read or written: {reason}."
        ).format(reason=exc.strerror)
    log.error("unexpected error shown to the person", exc_info=exc)
    return QCoreApplication.translate(
        "Errors",
        "Something unexpected went wrong ({kind}). Nothing half-done was saved; "
        "details are in the log file.",
    ).format(kind=type(exc).__name__)
