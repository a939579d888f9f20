"""The one normaliser every scan goes through: from what was read to what to look up.

Scanner bursts, pasted text, the command line and decoded photos all call `normalise_scan`.
It keeps the raw text (for the debug log), applies the scanner's profile, strips AIM
identifiers it knows and Code 39 asterisks, drops control characters except GS, and reads
GS1 element strings (all three spellings), EAN/UPC, asset-system URLs, small JSON payloads
and ISO/IEC 15434 messages. The `code` keeps case and leading zeros; matching without case
is the lookup's business.

It raises only `ScanError` subclasses (see `fieldops.domain.scan_errors`), and normalising
its `code` again gives the same `code`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from fieldops.domain.checkdigits import expand_upce, gtin14, has_valid_gs1_check_digit
from fieldops.domain.errors import ValidationError
from fieldops.domain.gs1 import (
    GS,
    GS1Data,
    GS1Error,
    ambiguous_boundary,
    looks_bracketed,
    lookup_ai,
    parse_bracketed,
    parse_digital_link,
    parse_separated,
)
from fieldops.domain.scan_errors import (
    LayoutMismatchError,
    MisreadError,
    MisreadReason,
    ScanError,
)
from fieldops.domain.scan_payloads import Payload, parse_envelope, parse_json, parse_url
from fieldops.domain.scan_text import ENVELOPE, check_input_method, check_layout, clean
from fieldops.domain.scanner_profile import ScannerProfile
from fieldops.domain.symbology import Family, Symbology, split_identifier

__all__ = [
    "Candidate",
    "CandidateKind",
    "CodePattern",
    "LayoutMismatchError",
    "MisreadError",
    "MisreadReason",
    "ScanError",
    "ScanKind",
    "ScanResult",
    "ScanSource",
    "normalise_scan",
]


class ScanKind(StrEnum):
    """What a scan turned out to hold."""

    PLAIN = "plain"
    GS1 = "gs1"
    GTIN = "gtin"  # EAN-13, EAN-8, UPC-A, UPC-E or ITF-14, check digit verified
    URL = "url"
    JSON = "json"
    DATA_IDENTIFIERS = "data-identifiers"  # ISO/IEC 15434 format 06


class ScanSource(StrEnum):
    """Where the text came from, which decides the checks that make sense."""

    KEYBOARD = "keyboard"  # a scanner's burst through the keyboard: the scanner profile applies
    TYPED = "typed"  # typed or pasted by a person, or a command-line argument: no profile
    IMAGE = "image"  # decoded by FieldOps from a photo or camera frame


class CandidateKind(StrEnum):
    """Which identifiers a candidate code may be matched against."""

    ANY = "any"
    ASSET_TAG = "asset-tag"
    SERIAL = "serial"
    GS1_ASSET_ID = "gs1-asset-id"  # AI 8004 (GIAI) or 8003 (GRAI)
    GS1_SERIAL = "gs1-serial"  # AI 21, or 250 secondary serial
    GTIN = "gtin"
    SSCC = "sscc"
    SYSTEM_ID = "system-id"  # an asset system's own record number: never a tag or serial


@dataclass(frozen=True)
class Candidate:
    """One code to look up, and which identifiers it may match."""

    code: str
    kind: CandidateKind = CandidateKind.ANY


@dataclass(frozen=True)
class CodePattern:
    """A site's identifier format: a code that starts with `prefix` must match in full.

    A code that starts like one but does not match is an incomplete scan, not "not found".
    """

    name: str
    prefix: str
    pattern: str

    def __post_init__(self) -> None:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise ValidationError(f"The pattern for {self.name} is not valid: {exc}.") from None

    def rejects(self, code: str) -> bool:
        """Whether `code` starts like this format but is not a whole one."""
        if not code.upper().startswith(self.prefix.upper()):
            return False
        return re.fullmatch(self.pattern, code, flags=re.IGNORECASE) is None


@dataclass(frozen=True)
class ScanResult:
    """What one scan means: the code to look up, and how it was read."""

    raw: str
    code: str
    kind: ScanKind
    symbology: Symbology | None = None
    gs1: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    candidates: tuple[Candidate, ...] = ()
    warnings: tuple[str, ...] = ()
    rule: str | None = None
    corrections: tuple[str, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        """The candidate codes in priority order."""
        return tuple(candidate.code for candidate in self.candidates)


@dataclass
class _Work:
    raw: str
    profile: ScannerProfile | None
    source: ScanSource
    patterns: Sequence[CodePattern]
    layout_check: bool
    warnings: list[str] = field(default_factory=list)


def normalise_scan(
    raw: str,
    profile: ScannerProfile | None = None,
    *,
    source: ScanSource = ScanSource.KEYBOARD,
    patterns: Sequence[CodePattern] = (),
) -> ScanResult:
    """What a scan means. Raises only `ScanError` (`MisreadError`, `LayoutMismatchError`).

    `profile` corrects a scanner's keyboard bursts (`ScanSource.KEYBOARD`); without one, such
    text that looks like a keyboard-layout mismatch is refused rather than looked up. Text a
    person typed (`TYPED`) or FieldOps decoded from a picture (`IMAGE`) went through no
    scanner, so neither the profile nor the layout check applies to it.
    `patterns` are the site's identifier formats, used to catch incomplete bursts.
    """
    use_profile = profile if source is ScanSource.KEYBOARD else None
    layout_check = source is ScanSource.KEYBOARD and use_profile is None
    work = _Work(raw, use_profile, source, patterns, layout_check)
    try:
        result = _normalise(raw, work)
    except ScanError as exc:
        exc.raw = raw
        raise
    _check_stable(result, work)
    return result


def _normalise(text: str, work: _Work) -> ScanResult:
    corrections: tuple[str, ...] = ()
    if work.profile is not None:
        corrected = work.profile.correct(text)
        text, corrections = corrected.text, corrected.corrections
    text = clean(text)
    if work.source is ScanSource.KEYBOARD:
        text, notes = check_input_method(text, work.raw)
        work.warnings.extend(notes)
    symbology, text = _take_identifier(text, work)
    if not text:
        raise _empty(work.raw, symbology)
    if work.layout_check:
        check_layout(text, work.raw)
    result = _classify(text, symbology, work)
    result = _apply_patterns(_apply_rule(result, work), work)
    if work.layout_check:
        check_layout(result.code, work.raw)
    return replace(result, corrections=corrections, warnings=tuple(work.warnings))


def _empty(raw: str, symbology: Symbology | None) -> MisreadError:
    if symbology is not None:
        message = "Only the symbology identifier arrived: the scan is incomplete. Scan again."
        return MisreadError(message, reason=MisreadReason.INCOMPLETE, raw=raw)
    return MisreadError("Nothing was read. Scan again.", reason=MisreadReason.EMPTY, raw=raw)


def _take_identifier(text: str, work: _Work) -> tuple[Symbology | None, str]:
    aim = work.profile.aim if work.profile is not None else None
    if aim is False:
        return None, text
    symbology, rest = split_identifier(text)
    if symbology is None and aim and text.startswith("]"):
        work.warnings.append("the symbology identifier is not a known one and was kept")
    if symbology is None:
        return None, text
    return symbology, clean(rest)


def _classify(text: str, symbology: Symbology | None, work: _Work) -> ScanResult:
    family = symbology.family if symbology is not None else None
    if len(text) > 2 and text[0] == text[-1] == "*":
        # Code 39 start/stop characters passed through; in other symbologies a pair of them
        # is the same habit copied into the label text, never part of an asset code.
        text = clean(text[1:-1])
        work.warnings.append("Code 39 start and stop characters removed")
        if not text:
            raise _empty(work.raw, symbology)
    if symbology is not None and symbology.gs1:
        return _gs1_result(_read_gs1(text, work), symbology, work)
    if text.startswith(ENVELOPE):
        return _payload_result(parse_envelope(text, work.raw), symbology, work)
    if GS in text:  # only GS1 data carries separators
        return _gs1_result(_read_gs1(text, work), symbology, work)
    if text.lower().startswith(("http://", "https://")):
        return _url_result(text, symbology, work)
    if text.startswith("{"):
        payload = parse_json(text, work.raw)
        if payload is not None:
            return _payload_result(payload, symbology, work)
    if family is Family.EAN_UPC or (symbology is not None and symbology.identifier == "]I1"):
        return _gtin_result(text, symbology, work)
    if looks_bracketed(text):
        return _gs1_result(_read_gs1(text, work), symbology, work)
    if _substitute(work) in text and lookup_ai(text, 0) is not None:
        return _gs1_result(_read_gs1(text, work), symbology, work)
    guessed = _guess_gs1(text, work)
    if guessed is not None:
        return _gs1_result(guessed, symbology, work)
    return _plain(text, symbology, work)


def _substitute(work: _Work) -> str:
    profile = work.profile
    return GS if profile is None or profile.gs_substitute is None else profile.gs_substitute


def _read_gs1(text: str, work: _Work) -> GS1Data:
    """Parses any GS1 spelling; refuses a string whose separators were evidently lost."""
    if looks_bracketed(text):
        return parse_bracketed(text)
    if text.lower().startswith(("http://", "https://")):
        found = parse_digital_link(text)
        if found is not None:
            return found
    data_text = text.replace(_substitute(work), GS)
    try:
        data = parse_separated(data_text)
    except GS1Error:
        if "~" not in data_text or _substitute(work) != GS:
            raise
        # `~` is outside the GS1 character set, so it can only be a separator stand-in.
        data = parse_separated(data_text.replace("~", GS))
        work.warnings.append("'~' was read as the GS1 separator")
        data_text = data_text.replace("~", GS)
    gs_known = work.profile.gs_transmitted if work.profile is not None else None
    if GS not in data_text and gs_known is not True:
        ambiguous = ambiguous_boundary(data)
        if ambiguous is not None:
            raise MisreadError(
                "GS1 separator missing, serial/lot boundary ambiguous: the scanner dropped the "
                f"GS separators, so it is not clear where field ({ambiguous}) ends. Set the "
                "scanner to send GS (or a substitute such as ~) and scan again.",
                reason=MisreadReason.GS1_SEPARATOR_MISSING,
                raw=work.raw,
            )
    return data


def _guess_gs1(text: str, work: _Work) -> GS1Data | None:
    """GS1 data with no symbology to say so: only when it opens with a valid GS1 key."""
    if text.isdigit() or text[:2] not in ("00", "01", "02"):
        return None
    key_length = 20 if text[:2] == "00" else 16
    if len(text) <= key_length or not has_valid_gs1_check_digit(text[2:key_length]):
        return None
    try:
        return _read_gs1(text, work)
    except GS1Error as exc:
        # A valid GS1 key up front makes this GS1 data: a short or wrong field is a misread.
        # Characters or AIs GS1 does not know make it an ordinary code after all.
        if exc.reason is MisreadReason.GS1_MALFORMED:
            return None
        raise


_GS1_CANDIDATES = (
    ("8004", CandidateKind.GS1_ASSET_ID),
    ("21", CandidateKind.GS1_SERIAL),
    ("8003", CandidateKind.GS1_ASSET_ID),
    ("250", CandidateKind.GS1_SERIAL),
    ("01", CandidateKind.GTIN),
    ("00", CandidateKind.SSCC),
)


def _gs1_result(data: GS1Data, symbology: Symbology | None, work: _Work) -> ScanResult:
    candidates = tuple(
        Candidate(data.fields[ai], kind) for ai, kind in _GS1_CANDIDATES if ai in data.fields
    )
    if not candidates:
        work.warnings.append("this GS1 code holds no serial, asset id or GTIN to look up")
    code = candidates[0].code if candidates else data.bracketed()
    return ScanResult(
        raw=work.raw,
        code=code,
        kind=ScanKind.GS1,
        symbology=symbology,
        gs1=dict(data.fields),
        candidates=candidates,
    )


def _gtin_result(text: str, symbology: Symbology | None, work: _Work) -> ScanResult:
    identifier = symbology.identifier if symbology is not None else ""
    name = symbology.name if symbology is not None else "EAN/UPC"
    lengths = {"]E4": (8,), "]E3": (15, 18), "]I1": (14,), "]E1": (2,), "]E2": (5,)}
    allowed = lengths.get(identifier, (13, 12, 8))
    if not (text.isascii() and text.isdigit() and len(text) in allowed):
        raise MisreadError(
            f"The {name} scan '{text}' does not have the digits that code holds: it is "
            "incomplete. Scan it again.",
            reason=MisreadReason.INCOMPLETE,
            raw=work.raw,
        )
    if identifier in ("]E1", "]E2"):
        work.warnings.append("only the add-on of an EAN/UPC code was read")
        return _plain(text, symbology, work)
    main, addon = (text[:13], text[13:]) if identifier == "]E3" else (text, "")
    full = expand_upce(main) if len(main) == 8 and identifier != "]E4" else main
    if not has_valid_gs1_check_digit(full):
        raise MisreadError(
            f"The check digit of {name} {main} is wrong: the code was misread. Scan it again.",
            reason=MisreadReason.CHECK_DIGIT,
            raw=work.raw,
        )
    wide = gtin14(full)
    candidates = [Candidate(main, CandidateKind.GTIN)]
    if wide != main:
        candidates.append(Candidate(wide, CandidateKind.GTIN))
    return ScanResult(
        raw=work.raw,
        code=main,
        kind=ScanKind.GTIN,
        symbology=symbology,
        gs1={"01": wide},
        fields={"add-on": addon} if addon else {},
        candidates=tuple(candidates),
    )


def _url_result(text: str, symbology: Symbology | None, work: _Work) -> ScanResult:
    data = parse_digital_link(text)
    if data is not None:
        result = _gs1_result(data, symbology, work)
        return replace(result, fields={"url": text})
    return _payload_result(parse_url(text, work.raw), symbology, work)


def _payload_result(payload: Payload, symbology: Symbology | None, work: _Work) -> ScanResult:
    if payload.gs1 is not None:
        result = _gs1_result(payload.gs1, symbology, work)
        return replace(result, fields=dict(payload.fields))
    work.warnings.extend(payload.warnings)
    candidates = tuple(Candidate(code, CandidateKind(kind)) for code, kind in payload.codes)
    return ScanResult(
        raw=work.raw,
        code=candidates[0].code if candidates else payload.text,
        kind=ScanKind(payload.kind),
        symbology=symbology,
        fields=dict(payload.fields),
        candidates=candidates,
    )


def _plain(text: str, symbology: Symbology | None, work: _Work) -> ScanResult:
    return ScanResult(
        raw=work.raw,
        code=text,
        kind=ScanKind.PLAIN,
        symbology=symbology,
        candidates=(Candidate(text),),
    )


def _apply_rule(result: ScanResult, work: _Work) -> ScanResult:
    """Applies the profile's leading-zero rule to a plain code, naming it in the result."""
    rule = work.profile.leading_zeros if work.profile is not None else None
    if rule is None or result.kind is not ScanKind.PLAIN:
        return result
    adjusted = rule.apply(result.code)
    if adjusted is None:
        return result
    candidates = (Candidate(adjusted), Candidate(result.code))
    return replace(result, code=adjusted, candidates=candidates, rule=rule.describe())


def _apply_patterns(result: ScanResult, work: _Work) -> ScanResult:
    for candidate in result.candidates:
        if candidate.kind not in (CandidateKind.ANY, CandidateKind.ASSET_TAG):
            continue
        for pattern in work.patterns:
            if pattern.rejects(candidate.code):
                raise MisreadError(
                    f"Incomplete scan, please rescan: '{candidate.code}' is not a whole "
                    f"{pattern.name}.",
                    reason=MisreadReason.INCOMPLETE,
                    raw=work.raw,
                )
    return result


def _check_stable(result: ScanResult, work: _Work) -> None:
    """Refuses a code that would read as something else if it were scanned again.

    A payload can carry a value that is itself structured (a tag such as `]C0X` or `*X*`);
    looking it up would make the same label mean two things.
    """
    # Only the AIM setting carries over: it decides whether `]C0` at the start is data.
    aim = work.profile.aim if work.profile is not None else None
    profile = ScannerProfile(aim=aim) if aim is not None else None
    again = _Work(result.code, profile, work.source, work.patterns, work.layout_check)
    try:
        second = _normalise(result.code, again).code
    except ScanError:
        second = None
    if second != result.code:
        raise MisreadError(
            f"The code read, '{result.code}', would itself read as a different code. Check "
            "the label and enter the code by hand.",
            reason=MisreadReason.AMBIGUOUS,
            raw=work.raw,
        )
