"""Structured scan payloads: asset-system URLs, small JSON objects, ISO/IEC 15434 messages."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from fieldops.domain.gs1 import GS, GS1Data, GS1Error, parse_separated
from fieldops.domain.scan_errors import MisreadError, MisreadReason
from fieldops.domain.scan_text import EOT, RS, clean

# Keys (compared lower-case, without - and _) that name an asset tag or a serial.
_TAG_KEYS = ("tag", "assettag", "asset", "at", "inventory", "inventorynumber")
_SERIAL_KEYS = ("serial", "sn", "serialnumber", "serialno", "s/n")

# Path words after which the next segment is an asset tag.
_TAG_PATH_WORDS = frozenset({"a", "asset", "assets", "tag", "tags", "bytag", "ht"})

_MAX_FIELDS = 20


@dataclass(frozen=True)
class Payload:
    """What a structured payload holds: codes to look up, with their kinds, and its fields."""

    kind: str  # "url", "json" or "data-identifiers"
    text: str
    codes: tuple[tuple[str, str], ...] = ()  # (code, candidate kind)
    fields: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    gs1: GS1Data | None = None


def _key(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "").replace(" ", "")


def _value(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = clean(str(value))
    return text or None


def _pick(found: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if key in found:
            return found[key]
    return None


def parse_json(text: str, raw: str) -> Payload | None:
    """A JSON object with a tag or serial, or None when `text` is not meant as JSON."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        if text.startswith('{"'):
            raise MisreadError(
                "The code's JSON content is incomplete or damaged. Scan it again.",
                reason=MisreadReason.INCOMPLETE,
                raw=raw,
            ) from None
        return None
    if not isinstance(data, dict):
        return None
    values = {_key(str(k)): v for k, v in list(data.items())[:_MAX_FIELDS]}
    found = {k: s for k, v in values.items() if (s := _value(v)) is not None}
    return _identified("json", text, found)


def _identified(kind: str, text: str, found: dict[str, str]) -> Payload:
    tag, serial = _pick(found, _TAG_KEYS), _pick(found, _SERIAL_KEYS)
    codes: list[tuple[str, str]] = []
    fields: dict[str, str] = {}
    if tag is not None:
        codes.append((tag, "asset-tag"))
        fields["tag"] = tag
    if serial is not None:
        codes.append((serial, "serial"))
        fields["serial"] = serial
    for system in ("snipeit", "netbox"):
        if system in found:
            codes.append((found[system], "system-id"))
            fields["system"], fields["system_id"] = system, found[system]
    warnings = () if codes else ("no asset tag or serial found in the code's content",)
    return Payload(kind, text, tuple(codes), fields, warnings)


def parse_url(text: str, raw: str) -> Payload:
    """The tag, serial or record id in an asset-system link; else the link as it is."""
    if re.search(r"%[0-9A-Fa-f]?$", text):
        raise MisreadError(
            "The link in the code is cut short. Scan it again.",
            reason=MisreadReason.INCOMPLETE,
            raw=raw,
        )
    try:
        parts = urlsplit(text)
    except ValueError:  # a malformed host such as "http://[x"
        return Payload("url", text, ((text, "any"),), {"url": text})
    segments = [clean(unquote(seg)) for seg in parts.path.split("/") if seg.strip()]
    found = {_key(k): s for k, v in parse_qsl(parts.query) if (s := _value(v)) is not None}
    found.update(_from_path([seg for seg in segments if seg]))
    payload = _identified("url", text, found)
    fields = {"url": text, "host": parts.hostname or "", **payload.fields}
    if payload.codes:
        return Payload("url", text, payload.codes, fields)
    unknown = "this link is not from an asset system FieldOps knows; it is looked up as it is"
    return Payload("url", text, ((text, "any"),), fields, (unknown,))


def _from_path(segments: list[str]) -> dict[str, str]:
    """Tags and record ids in a URL path: Snipe-IT, NetBox and plain `/a/{tag}` links."""
    lowered = [seg.lower() for seg in segments]
    found: dict[str, str] = {}
    if len(segments) >= 2 and lowered[-2] in _TAG_PATH_WORDS:
        found["tag"] = segments[-1]
    elif len(segments) >= 2 and lowered[-2] == "hardware" and segments[-1].isdigit():
        found["snipeit"] = segments[-1]
    elif len(segments) >= 3 and lowered[-3:-1] == ["dcim", "devices"] and segments[-1].isdigit():
        found["netbox"] = segments[-1]
    return found


_DI = re.compile(r"(\d{0,3}[A-Z])(.*)", re.DOTALL)
_DI_CODES = (("25S", "serial"), ("S", "serial"))


def parse_envelope(text: str, raw: str) -> Payload:
    """An ISO/IEC 15434 message: format 05 (GS1) or 06 (ANSI MH10.8.2 data identifiers)."""
    body = text[4:].rstrip(EOT).rstrip(RS)
    records = [record for record in body.split(RS) if record]
    if not records:
        raise MisreadError(
            "The code's structured message is empty: the scan is incomplete. Scan it again.",
            reason=MisreadReason.INCOMPLETE,
            raw=raw,
        )
    fmt, _, data = records[0].partition(GS)
    if fmt == "05":
        try:
            gs1 = parse_separated(data)
        except GS1Error as exc:
            raise MisreadError(exc.message, reason=exc.reason, raw=raw) from None
        return Payload("data-identifiers", text, (), {"format": "05"}, (), gs1)
    if fmt != "06":
        raise MisreadError(
            f"The code holds an ISO/IEC 15434 message in format {fmt[:2]!r}, which FieldOps "
            "does not read. Look the asset up by its tag or serial instead.",
            reason=MisreadReason.UNSUPPORTED,
            raw=raw,
        )
    fields: dict[str, str] = {}
    for element in data.split(GS):
        match = _DI.fullmatch(element)
        if match and match.group(2) and match.group(1) not in fields:
            value = clean(match.group(2))
            if value:
                fields[match.group(1)] = value
    codes = tuple((fields[di], kind) for di, kind in _DI_CODES if di in fields)
    if not codes:
        raise MisreadError(
            "The code holds ISO/IEC 15434 data identifiers but no serial number (S) to look "
            "up. Look the asset up by its tag instead.",
            reason=MisreadReason.UNSUPPORTED,
            raw=raw,
        )
    return Payload("data-identifiers", text, codes, {"format": "06", **fields})
