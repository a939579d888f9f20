"""AIM symbology identifiers (ISO/IEC 15424): `]`, a code letter and a modifier."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Family(StrEnum):
    """The kind of symbol a scan came from, as far as the rules care."""

    CODE128 = "code128"
    CODE39 = "code39"
    CODE93 = "code93"
    CODABAR = "codabar"
    EAN_UPC = "ean-upc"
    ITF = "itf"
    QR = "qr"
    DATAMATRIX = "datamatrix"
    AZTEC = "aztec"
    PDF417 = "pdf417"
    DATABAR = "databar"
    MAXICODE = "maxicode"
    OTHER = "other"


@dataclass(frozen=True)
class Symbology:
    """What an AIM identifier says about the symbol that was read."""

    identifier: str  # "]C1"
    name: str  # "GS1-128"
    family: Family
    gs1: bool = False  # the data is a GS1 element string (FNC1 in first position)


_LETTERS: dict[str, tuple[str, Family, str]] = {
    # letter: (name, family, modifiers allowed)
    "A": ("Code 39", Family.CODE39, "01234567"),
    "C": ("Code 128", Family.CODE128, "0124"),
    "E": ("EAN/UPC", Family.EAN_UPC, "01234"),
    "F": ("Codabar", Family.CODABAR, "0124"),
    "G": ("Code 93", Family.CODE93, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "H": ("Code 11", Family.OTHER, "0123"),
    "I": ("Interleaved 2 of 5", Family.ITF, "013"),
    "L": ("PDF417", Family.PDF417, "0123456"),
    "M": ("MSI", Family.OTHER, "01"),
    "Q": ("QR Code", Family.QR, "0123456"),
    "U": ("MaxiCode", Family.MAXICODE, "0123"),
    "X": ("Other symbology", Family.OTHER, "0123456789ABCDEF"),
    "d": ("Data Matrix", Family.DATAMATRIX, "0123456"),
    "e": ("GS1 DataBar", Family.DATABAR, "0"),
    "z": ("Aztec", Family.AZTEC, "0123456789ABC"),
}

# Identifiers whose data is a GS1 element string, with their specific names.
_GS1: dict[str, str] = {
    "]C1": "GS1-128",
    "]d2": "GS1 DataMatrix",
    "]d5": "GS1 DataMatrix",
    "]Q3": "GS1 QR Code",
    "]Q4": "GS1 QR Code",
    "]e0": "GS1 DataBar",
    "]z1": "GS1 Aztec",
}

_SPECIFIC: dict[str, str] = {
    "]E0": "EAN-13",
    "]E3": "EAN-13 with add-on",
    "]E4": "EAN-8",
    "]I1": "Interleaved 2 of 5 (check digit)",
}


def symbology_for(identifier: str) -> Symbology | None:
    """The symbology of a three-character AIM identifier, or None if it is not in the table."""
    if len(identifier) != 3 or identifier[0] != "]":
        return None
    entry = _LETTERS.get(identifier[1])
    if entry is None or identifier[2] not in entry[2]:
        return None
    name, family, _ = entry
    if identifier in _GS1:
        return Symbology(identifier, _GS1[identifier], family, gs1=True)
    return Symbology(identifier, _SPECIFIC.get(identifier, name), family)


def split_identifier(text: str) -> tuple[Symbology | None, str]:
    """The symbology at the start of `text` and the rest, or (None, text) if none is known.

    An identifier that is not in the table is left in place whole: `]x9ABC` stays as it is.
    """
    found = symbology_for(text[:3])
    if found is None:
        return None, text
    return found, text[3:]
