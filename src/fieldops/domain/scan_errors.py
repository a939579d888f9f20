"""The errors a scan can end in: each says what went wrong and what to do next.

Hierarchy (every class is a `FieldOpsError`, so its text is fit to show to a person):

- `ScanError`: the scan cannot be used as it is; nothing is looked up.
  - `MisreadError`: what arrived is not what the label holds, or not all of it: a wrong
    check digit, an incomplete burst, a GS1 string whose separators were lost, characters an
    input method put in. The person should scan again (or fix the scanner setting named).
    - `LayoutMismatchError`: the text looks like a scanner typing for one keyboard layout
      into an operating system set to another; says which, and how to fix it.

`reason` tells the kinds of misread apart for programs (the command line maps every
`ScanError` to exit code 4); `raw` keeps what was read for the debug log.
"""

from __future__ import annotations

from enum import StrEnum

from fieldops.domain.errors import FieldOpsError


class MisreadReason(StrEnum):
    """Why a scan was refused."""

    EMPTY = "empty"
    CHECK_DIGIT = "check-digit"
    INCOMPLETE = "incomplete"
    GS1_SEPARATOR_MISSING = "gs1-separator-missing"
    GS1_MALFORMED = "gs1-malformed"
    INPUT_METHOD = "input-method"
    LAYOUT_MISMATCH = "layout-mismatch"
    UNSUPPORTED = "unsupported"
    AMBIGUOUS = "ambiguous"


class ScanError(FieldOpsError):
    """Base of every error `normalise_scan` raises: the scan is not looked up."""

    code = "scan"

    def __init__(self, message: str, *, reason: MisreadReason, raw: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.raw = raw


class MisreadError(ScanError):
    """What arrived is not (all of) what the label holds: scan again."""

    code = "misread"


class LayoutMismatchError(MisreadError):
    """The scanner types for one keyboard layout and the operating system uses another."""

    code = "layout-mismatch"

    def __init__(
        self,
        message: str,
        *,
        layouts: tuple[str, ...],
        probable_text: str,
        raw: str = "",
    ) -> None:
        super().__init__(message, reason=MisreadReason.LAYOUT_MISMATCH, raw=raw)
        self.layouts = layouts
        self.probable_text = probable_text
