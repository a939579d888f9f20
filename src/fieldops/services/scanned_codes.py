"""What a scanned label names, for forms that store a code rather than look one up.

A replacement's serials and a code attached to an asset are saved, and later scans must find
them again. So they go through the same normaliser as every lookup first: a scanner's AIM
prefix, Code 39 asterisks or GS1 element string never end up stored as part of a serial, and
a label that names no single thing (a product number, a shipment) is refused.
"""

from __future__ import annotations

from fieldops.domain.errors import ValidationError
from fieldops.domain.scan import CandidateKind, ScanResult, ScanSource, normalise_scan
from fieldops.domain.scanner_profile import ScannerProfile
from fieldops.i18n import tr

# What a part's serial label may hold.
SERIAL_KINDS = frozenset({CandidateKind.ANY, CandidateKind.SERIAL, CandidateKind.GS1_SERIAL})
# What a label attached to an asset may hold: anything that names one thing.
LABEL_KINDS = SERIAL_KINDS | {CandidateKind.ASSET_TAG, CandidateKind.GS1_ASSET_ID}


def scanned_identifier(
    raw: str,
    kinds: frozenset[CandidateKind],
    profile: ScannerProfile | None = None,
    *,
    source: ScanSource = ScanSource.KEYBOARD,
) -> tuple[str, ScanResult]:
    """The code a label names, as later scans will look it up, and the scan it came from.

    Raises the normaliser's own error for a misread, and `ValidationError` when the label
    holds only a product or shipment number.
    """
    scan = normalise_scan(raw, profile, source=source)
    for candidate in scan.candidates:
        if candidate.kind in kinds:
            return candidate.code, scan
    raise ValidationError(
        tr(
            "{code} is a product or shipment number, which names no single part; scan the "
            "label with the serial number."
        ).format(code=scan.code)
    )


def scanned_serial(
    raw: str,
    profile: ScannerProfile | None = None,
    *,
    source: ScanSource = ScanSource.TYPED,
) -> str:
    """A part serial from what was scanned or typed; empty text stays empty."""
    if not raw.strip():
        return ""
    return scanned_identifier(raw, SERIAL_KINDS, profile, source=source)[0]
