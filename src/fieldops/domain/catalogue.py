"""Reading asset catalogues: Snipe-IT and NetBox exports, FieldOps' own CSV, component lists.

Pure functions: text in, typed rows and per-line errors out. The caller reads the file and
decides what to do with the rows (the desktop import and the server import both build on it).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain

from fieldops.domain.errors import ValidationError
from fieldops.domain.identifiers import code_key

MAX_TEXT = 255
MAX_NOTES = 10_000
MAX_RACK_U = 100
RACK_FACES = ("front", "rear")


class CatalogueFormat(StrEnum):
    """Which kind of CSV file a catalogue is."""

    SNIPEIT = "snipeit"
    NETBOX = "netbox"
    FIELDOPS = "fieldops"
    COMPONENTS = "components"


class CatalogueError(ValidationError):
    """The file as a whole cannot be read as a catalogue (no row was taken)."""

    code = "catalogue_unreadable"


@dataclass(frozen=True, slots=True)
class AssetRow:
    """One asset read from a catalogue file, with the line it started on."""

    line: int
    asset_tag: str
    serial: str
    name: str
    manufacturer: str
    model: str
    model_number: str
    category: str
    status: str
    site_code: str
    room: str | None
    rack: str | None
    rack_u: int | None
    rack_face: str | None
    notes: str


@dataclass(frozen=True, slots=True)
class ComponentRow:
    """One part inside an asset, read from a components file."""

    line: int
    asset_tag: str
    kind: str
    slot: str
    model: str
    serial: str


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one line of the file was not taken."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Everything read from one file: the good rows and the refused lines."""

    format: CatalogueFormat
    assets: list[AssetRow] = field(default_factory=list)
    components: list[ComponentRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """How many data rows the file held, taken or not."""
        return len(self.assets) + len(self.components) + len(self.errors)


class RowValueError(ValueError):
    """Raised inside row parsing; becomes a RowError with the row's line number."""


# Header names, normalised by `_header_key`, that each column of each format answers to.
_SNIPEIT_COLUMNS: dict[str, tuple[str, ...]] = {
    "asset_tag": ("asset_tag",),
    "serial": ("serial_number", "serial"),
    "name": ("item_name", "asset_name", "name"),
    "manufacturer": ("manufacturer",),
    "model": ("model_name", "model"),
    "model_number": ("model_no", "model_number"),
    "category": ("category",),
    "status": ("status", "status_label"),
    "location": ("location", "default_location"),
    "notes": ("notes",),
}
_NETBOX_COLUMNS: dict[str, tuple[str, ...]] = {
    "asset_tag": ("asset_tag",),
    "serial": ("serial",),
    "name": ("name",),
    "manufacturer": ("manufacturer",),
    "model": ("device_type", "type"),
    "model_number": ("part_number",),
    "category": ("role", "device_role"),
    "status": ("status",),
    "site": ("site",),
    "location": ("location",),
    "rack": ("rack",),
    "position": ("position",),
    "face": ("face",),
    "notes": ("description", "comments"),
}
_FIELDOPS_COLUMNS: dict[str, tuple[str, ...]] = {
    name: (name,)
    for name in (
        "asset_tag",
        "serial",
        "name",
        "manufacturer",
        "model",
        "model_number",
        "category",
        "status",
        "site_code",
        "room",
        "rack",
        "rack_u",
        "rack_face",
        "notes",
    )
}
_COMPONENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "asset_tag": ("asset_tag",),
    "kind": ("kind",),
    "slot": ("slot",),
    "model": ("model",),
    "serial": ("serial",),
}

_RACK_NOTE = re.compile(r"(?<![A-Za-z0-9])U\s?(\d{1,3})(?:\s+(front|rear))?(?![A-Za-z0-9])", re.I)
_SITE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_KIND = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,31}$")


def _header_key(text: str) -> str:
    """A header name in the form columns are matched by: `Model No.` becomes `model_no`."""
    lowered = text.replace("\ufeff", "").strip().lower()
    return re.sub(r"[^a-z0-9]+", "_", lowered).strip("_")


def detect_format(header: Sequence[str]) -> CatalogueFormat:
    """Which format a file is, from the names in its first line."""
    keys = {_header_key(name) for name in header}
    if {"kind", "slot"} <= keys and "asset_tag" in keys:
        return CatalogueFormat.COMPONENTS
    if "site_code" in keys and "asset_tag" in keys:
        return CatalogueFormat.FIELDOPS
    if "asset_tag" in keys and "site" in keys and ({"device_type", "type", "rack"} & keys):
        return CatalogueFormat.NETBOX
    if "asset_tag" in keys and ({"item_name", "model_name", "location", "asset_name"} & keys):
        return CatalogueFormat.SNIPEIT
    raise CatalogueError(
        "The first line does not look like a Snipe-IT, NetBox, FieldOps or components export. "
        "Check that the file has its header line and an asset tag column."
    )


def parse_location(text: str) -> tuple[str, str | None, str | None]:
    """Splits a location `Site / Room / Rack` into its site, room and rack."""
    parts = [part.strip() for part in text.split("/")]
    if not text.strip() or not parts[0]:
        raise RowValueError("no location: give at least a site, as 'Site / Room / Rack'")
    if len(parts) > 3:
        raise RowValueError(
            f"location '{text.strip()}' has more than three parts (Site / Room / Rack)"
        )
    if any(not part for part in parts):
        raise RowValueError(f"location '{text.strip()}' has an empty part")
    room = parts[1] if len(parts) > 1 else None
    rack = parts[2] if len(parts) > 2 else None
    return parts[0], room, rack


def parse_rack_note(notes: str) -> tuple[int | None, str | None]:
    """The rack position written in free text such as `U34 front`, or (None, None)."""
    match = _RACK_NOTE.search(notes)
    if match is None:
        return None, None
    face = match.group(2).lower() if match.group(2) else None
    return _rack_u(match.group(1)), face


def _rack_u(text: str) -> int | None:
    """A rack unit: whole numbers from 1 (NetBox writes `37` or `37.0`)."""
    text = text.strip()
    if not text:
        return None
    whole = text[:-2] if text.endswith(".0") else text
    if not whole.isdigit():
        raise RowValueError(f"rack position '{text}' is not a whole rack unit")
    value = int(whole)
    if not 1 <= value <= MAX_RACK_U:
        raise RowValueError(f"rack position {value} is outside 1 to {MAX_RACK_U}")
    return value


def _rack_face(text: str) -> str | None:
    """`front`, `rear`, or None when empty."""
    word = text.strip().lower()
    if not word:
        return None
    if word not in RACK_FACES:
        raise RowValueError(f"rack face '{text.strip()}' is neither front nor rear")
    return word


def _site_code(text: str) -> str:
    """A site code such as HQ-DC1."""
    code = text.strip()
    if not code:
        raise RowValueError("no site")
    if not _SITE_CODE.match(code):
        raise RowValueError(f"site '{code}' is not a site code (letters, digits, - . _; up to 32)")
    return code


def _text(value: str, what: str, limit: int = MAX_TEXT) -> str:
    """A trimmed text value, refused when longer than the limit."""
    text = value.strip()
    if len(text) > limit:
        raise RowValueError(f"{what} is longer than {limit} characters")
    return text


def _required(value: str, what: str) -> str:
    """A trimmed text value that must be present."""
    text = _text(value, what)
    if not text:
        raise RowValueError(f"no {what}")
    return text


Row = dict[str, str]


def _snipeit_asset(line: int, row: Row) -> AssetRow:
    """An asset from a Snipe-IT export row; the rack position comes from Notes."""
    site, room, rack = parse_location(row["location"])
    notes = _text(row["notes"], "notes", MAX_NOTES)
    rack_u, face = parse_rack_note(notes)
    return AssetRow(
        line=line,
        asset_tag=_required(row["asset_tag"], "asset tag"),
        serial=_text(row["serial"], "serial"),
        name=_text(row["name"], "name"),
        manufacturer=_text(row["manufacturer"], "manufacturer"),
        model=_text(row["model"], "model"),
        model_number=_text(row["model_number"], "model number"),
        category=_text(row["category"], "category"),
        status=_text(row["status"], "status"),
        site_code=_site_code(site),
        room=room,
        rack=rack,
        rack_u=rack_u,
        rack_face=face,
        notes=notes,
    )


def _netbox_asset(line: int, row: Row) -> AssetRow:
    """An asset from a NetBox device export row."""
    rack = _text(row["rack"], "rack") or None
    return AssetRow(
        line=line,
        asset_tag=_required(row["asset_tag"], "asset tag"),
        serial=_text(row["serial"], "serial"),
        name=_text(row["name"], "name"),
        manufacturer=_text(row["manufacturer"], "manufacturer"),
        model=_text(row["model"], "device type"),
        model_number=_text(row["model_number"], "part number"),
        category=_text(row["category"], "role"),
        status=_text(row["status"], "status"),
        site_code=_site_code(row["site"]),
        room=_text(row["location"], "location") or None,
        rack=rack,
        rack_u=_rack_u(row["position"]),
        rack_face=_rack_face(row["face"]),
        notes=_text(row["notes"], "description", MAX_NOTES),
    )


def _fieldops_asset(line: int, row: Row) -> AssetRow:
    """An asset from FieldOps' own CSV, whose columns are the record's field names."""
    return AssetRow(
        line=line,
        asset_tag=_required(row["asset_tag"], "asset tag"),
        serial=_text(row["serial"], "serial"),
        name=_text(row["name"], "name"),
        manufacturer=_text(row["manufacturer"], "manufacturer"),
        model=_text(row["model"], "model"),
        model_number=_text(row["model_number"], "model number"),
        category=_text(row["category"], "category"),
        status=_text(row["status"], "status"),
        site_code=_site_code(row["site_code"]),
        room=_text(row["room"], "room") or None,
        rack=_text(row["rack"], "rack") or None,
        rack_u=_rack_u(row["rack_u"]),
        rack_face=_rack_face(row["rack_face"]),
        notes=_text(row["notes"], "notes", MAX_NOTES),
    )


def _component(line: int, row: Row) -> ComponentRow:
    """A component from a components file row."""
    kind = _required(row["kind"], "kind").lower()
    if not _KIND.match(kind):
        raise RowValueError(f"kind '{kind}' is not a part kind such as psu, disk, fan or dimm")
    return ComponentRow(
        line=line,
        asset_tag=_required(row["asset_tag"], "asset tag"),
        kind=kind,
        slot=_text(row["slot"], "slot"),
        model=_text(row["model"], "model"),
        serial=_text(row["serial"], "serial"),
    )


_COLUMNS: dict[CatalogueFormat, dict[str, tuple[str, ...]]] = {
    CatalogueFormat.SNIPEIT: _SNIPEIT_COLUMNS,
    CatalogueFormat.NETBOX: _NETBOX_COLUMNS,
    CatalogueFormat.FIELDOPS: _FIELDOPS_COLUMNS,
    CatalogueFormat.COMPONENTS: _COMPONENT_COLUMNS,
}
_BUILDERS: dict[CatalogueFormat, Callable[[int, Row], AssetRow | ComponentRow]] = {
    CatalogueFormat.SNIPEIT: _snipeit_asset,
    CatalogueFormat.NETBOX: _netbox_asset,
    CatalogueFormat.FIELDOPS: _fieldops_asset,
    CatalogueFormat.COMPONENTS: _component,
}


def _column_map(fmt: CatalogueFormat, header: Sequence[str]) -> dict[str, int | None]:
    """For each field of the format, the header position it is read from (None: absent)."""
    keys = [_header_key(name) for name in header]
    found: dict[str, int | None] = {}
    for column, names in _COLUMNS[fmt].items():
        found[column] = next((keys.index(n) for n in names if n in keys), None)
    if found["asset_tag"] is None:
        raise CatalogueError("The file has no asset tag column, so no row can be matched.")
    return found


def to_text(source: str | bytes) -> str:
    """The text of a file: UTF-8 with or without a byte-order mark."""
    if isinstance(source, str):
        return source.removeprefix("\ufeff")
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(source.count(b"\n", 0, exc.start) + 1) from None


def sniff_delimiter(header_line: str) -> str:
    """Comma, semicolon or tab: whichever the header line uses most outside quotes."""
    outside = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: outside.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _records(lines: Iterable[str], delimiter: str) -> Iterable[tuple[int, list[str] | str]]:
    """Each CSV record with the line it starts on; a record that breaks CSV gives its error."""
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, f"not valid CSV ({exc})"
        else:
            yield start, record
        start = reader.line_num + 1


def parse_catalogue(
    source: str | bytes | Iterable[str], fmt: CatalogueFormat | None = None
) -> ParseResult:
    """Reads a catalogue file into asset or component rows and the lines that were refused.

    `source` is the whole file (text or bytes) or its lines; `fmt` None detects the format from
    the header. Raises CatalogueError when the file as a whole cannot be read.
    """
    text = source if isinstance(source, str | bytes) else "".join(_with_newlines(source))
    stream = stream_catalogue(to_text(text).splitlines(keepends=True), fmt)
    result = ParseResult(format=stream.format)
    for item in stream.items:
        if isinstance(item, AssetRow):
            result.assets.append(item)
        elif isinstance(item, ComponentRow):
            result.components.append(item)
        else:
            result.errors.append(item)
    return result


CatalogueItem = AssetRow | ComponentRow | RowError


@dataclass(frozen=True, slots=True)
class CatalogueStream:
    """A catalogue read as it is iterated: its format, then its rows and refused lines in order."""

    format: CatalogueFormat
    items: Iterator[CatalogueItem]


def stream_catalogue(lines: Iterable[str], fmt: CatalogueFormat | None = None) -> CatalogueStream:
    """Reads a catalogue from its text lines (with their line ends), one row at a time.

    The header is read at once, so a file that is not a catalogue raises CatalogueError here;
    rows, and the lines refused, come as `items` is iterated, in file order. Only the keys of
    the rows already seen are kept, to refuse repeats.
    """
    remaining = iter(lines)
    offset = 0
    for first_line in remaining:
        if first_line.strip():
            break
        offset += 1
    else:
        raise CatalogueError("The file is empty: there is no header line and no row.")
    records = iter(_records(chain([first_line], remaining), sniff_delimiter(first_line)))
    _, header = next(records)
    if isinstance(header, str):
        raise CatalogueError(f"The header line is {header}.")
    fmt = fmt or detect_format(header)
    columns = _column_map(fmt, header)
    return CatalogueStream(fmt, _items(fmt, records, columns, len(header), offset))


def decode_lines(pieces: Iterable[bytes]) -> Iterator[str]:
    """The text lines of a file given in pieces of bytes (blocks or lines, in file order).

    UTF-8 with or without a byte-order mark. Gives the same lines as decoding the whole file
    and splitting it, holding only one piece and one unfinished line at a time.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    carry, newlines, at_start = "", 0, True
    for piece in pieces:
        # A character cut between pieces waits in the decoder; error positions count from it.
        waiting = decoder.getstate()[0]
        try:
            text = decoder.decode(piece)
        except UnicodeDecodeError as exc:
            raise _not_utf8(newlines + (waiting + piece).count(b"\n", 0, exc.start) + 1) from None
        newlines += piece.count(b"\n")
        if at_start and text:
            text, at_start = text.removeprefix("\ufeff"), False
        lines = (carry + text).splitlines(keepends=True)
        # The last line may go on in the next piece (or its "\r" be followed by "\n" there).
        carry = lines.pop() if lines else ""
        yield from lines
    try:
        text = decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _not_utf8(newlines + 1) from None
    yield from (carry + (text.removeprefix("\ufeff") if at_start else text)).splitlines(
        keepends=True
    )


def _not_utf8(line: int) -> CatalogueError:
    return CatalogueError(
        f"The file is not UTF-8 text (line {line}). Save it as 'CSV UTF-8' and import again."
    )


def _with_newlines(lines: Iterable[str]) -> Iterable[str]:
    """Lines with their line ends, whether or not the caller stripped them."""
    for line in lines:
        yield line if line.endswith(("\n", "\r")) else line + "\n"


def _items(
    fmt: CatalogueFormat,
    records: Iterable[tuple[int, list[str] | str]],
    columns: dict[str, int | None],
    width: int,
    offset: int,
) -> Iterator[CatalogueItem]:
    """Turns records into rows or errors, refusing repeats of the same asset or part."""
    build = _BUILDERS[fmt]
    seen: dict[str, int] = {}
    for start, record in records:
        line = start + offset
        if isinstance(record, str):
            yield RowError(line, record)
            continue
        if not any(value.strip() for value in record):
            continue
        try:
            built = build(line, _row(record, columns, width))
        except RowValueError as problem:
            yield RowError(line, str(problem))
            continue
        first = seen.setdefault(_identity(built), line)
        if first != line:
            yield RowError(line, _repeat_reason(built, first))
            continue
        yield built


def _row(record: list[str], columns: dict[str, int | None], width: int) -> Row:
    """The record's values by field name; short records read as empty at the end."""
    extra = record[width:]
    if any(value.strip() for value in extra):
        raise RowValueError(f"has {len(record)} values but the header names {width} columns")
    return {
        name: (record[index] if index is not None and index < len(record) else "")
        for name, index in columns.items()
    }


def _identity(row: AssetRow | ComponentRow) -> str:
    """What makes a row the same record as another in one file, as one compact string.

    A million rows' keys are held while a file is read, so a key is one string, not a tuple.
    A kind never holds NUL, and the tag's length comes before it, so no two keys mix up.
    """
    if isinstance(row, AssetRow):
        return code_key(row.asset_tag)
    tag = code_key(row.asset_tag)
    return f"{row.kind}\0{len(tag)}\0{tag}{row.slot.casefold()}"


def _repeat_reason(row: AssetRow | ComponentRow, first_line: int) -> str:
    """The sentence for a row that repeats an earlier one."""
    if isinstance(row, AssetRow):
        return f"asset tag '{row.asset_tag}' already appears on line {first_line}"
    return (
        f"{row.kind} in slot '{row.slot}' of asset '{row.asset_tag}' already appears on "
        f"line {first_line}"
    )
