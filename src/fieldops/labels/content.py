"""What an asset label holds: the tag as text and as a code, a name line, a place line.

The code holds the asset tag itself, or a GS1 Digital Link URL (`<base>/8004/<tag>`, the tag
as a GIAI) that a phone camera can open and that FieldOps' scan normaliser reads back to the
tag. The URL is only printed, never fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlsplit

from fieldops.domain.errors import ValidationError
from fieldops.domain.gs1 import CSET82

DEFAULT_BASE_URL = "https://id.gs1.org"
GIAI_MAX = 30  # GS1 AI 8004 holds at most 30 characters
PLACE_SEPARATOR = " › "


class Symbology(StrEnum):
    """The codes a label can carry."""

    CODE128 = "code128"
    QR = "qr"
    DATAMATRIX = "datamatrix"

    @property
    def display_name(self) -> str:
        """The name people know it by."""
        return {"code128": "Code 128", "qr": "QR Code", "datamatrix": "DataMatrix"}[self.value]

    @property
    def zxing_format(self) -> str:
        """zxing-cpp's name of the format."""
        return {"code128": "Code128", "qr": "QRCode", "datamatrix": "DataMatrix"}[self.value]

    @property
    def two_dimensional(self) -> bool:
        """QR and DataMatrix are square matrices; Code 128 is a row of bars."""
        return self is not Symbology.CODE128


class LabelError(ValidationError):
    """A label cannot be made as asked (tag not encodable, too long for the label)."""

    code = "label-invalid"


@dataclass(frozen=True)
class AssetLabelData:
    """The asset facts a label prints."""

    asset_id: str
    tag: str
    name: str = ""
    manufacturer: str = ""
    model: str = ""
    site_code: str = ""
    room: str = ""
    rack: str = ""
    rack_u: int | None = None
    rack_face: str | None = None


@dataclass(frozen=True)
class LabelOptions:
    """How labels are made: which code, whether it holds a Digital Link, which lines show."""

    symbology: Symbology = Symbology.CODE128
    digital_link: bool = False
    base_url: str = DEFAULT_BASE_URL
    show_name: bool = True
    show_place: bool = True


@dataclass(frozen=True)
class LabelContent:
    """One label ready to draw: the tag, what its code encodes, and its text lines."""

    asset_id: str
    tag: str
    payload: str
    symbology: Symbology
    name_line: str = ""
    place_line: str = ""

    @property
    def lines(self) -> tuple[str, ...]:
        """The small text lines under (or beside) the tag, those that are not empty."""
        return tuple(line for line in (self.name_line, self.place_line) if line)


def check_base_url(base: str) -> str:
    """The base URL without a trailing slash; refused when it is not an http(s) address."""
    cleaned = base.strip().rstrip("/")
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise LabelError(
            f"The Digital Link base {base!r} is not a web address like {DEFAULT_BASE_URL}."
        )
    return cleaned


def digital_link(tag: str, base: str = DEFAULT_BASE_URL) -> str:
    """The GS1 Digital Link URL of an asset tag as a GIAI: `<base>/8004/<tag>`."""
    if not tag or len(tag) > GIAI_MAX or not set(tag) <= CSET82:
        raise LabelError(
            f"The asset tag {tag!r} cannot be a GS1 asset id (8004): it takes 1 to {GIAI_MAX} "
            "letters, digits and GS1 punctuation. Print it without the Digital Link."
        )
    # Characters that mean something in a URL path are percent-encoded, as Digital Link says.
    return f"{check_base_url(base)}/8004/{quote(tag, safe='')}"


def check_code128(tag: str) -> None:
    """Refuses a tag Code 128 cannot carry as plain text: only printable ASCII."""
    if not tag or any(not " " <= ch <= "~" for ch in tag):
        raise LabelError(
            f"The asset tag {tag!r} has characters Code 128 cannot print (only printable "
            "ASCII). Choose QR Code or DataMatrix for this tag."
        )


def payload_for(tag: str, options: LabelOptions) -> str:
    """What the code on the label encodes for this tag."""
    if not tag.strip():
        raise LabelError("An asset without a tag cannot get a label.")
    if options.symbology is Symbology.CODE128:
        check_code128(tag)
        return tag
    if options.digital_link:
        return digital_link(tag, options.base_url)
    return tag


def place_line(data: AssetLabelData, separator: str = PLACE_SEPARATOR) -> str:
    """`site › room › rack › U12` with the parts that are known."""
    parts = [p for p in (data.site_code, data.room, data.rack) if p]
    if data.rack_u is not None:
        parts.append(f"U{data.rack_u}")
    return separator.join(parts)


def name_line(data: AssetLabelData) -> str:
    """The asset's name, or its maker and model when it has no name of its own."""
    model = " ".join(p for p in (data.manufacturer, data.model) if p)
    if data.name and data.name != data.tag and not data.name.endswith(data.tag):
        return data.name
    return model or data.name


def build_label(data: AssetLabelData, options: LabelOptions) -> LabelContent:
    """The label of one asset; a LabelError names the tag when it cannot be made."""
    return LabelContent(
        asset_id=data.asset_id,
        tag=data.tag,
        payload=payload_for(data.tag, options),
        symbology=options.symbology,
        name_line=name_line(data) if options.show_name else "",
        place_line=place_line(data) if options.show_place else "",
    )
