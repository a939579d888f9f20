"""How one scanner types: prefix, suffix, AIM identifiers, Caps Lock, layout, GS, leading zeros.

A profile is worked out once from a scan of the test label (`detect_profile`) and then
corrects every later scan before it is parsed (`ScannerProfile.correct`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from enum import StrEnum
from typing import Any

from fieldops.domain.errors import ValidationError
from fieldops.domain.keyboard_layouts import LAYOUT_NAMES, Layout, dead_key_chars, type_through
from fieldops.domain.keyboard_layouts import untype as untype_layout
from fieldops.domain.scan_errors import MisreadError, MisreadReason
from fieldops.domain.symbology import symbology_for

GS = "\x1d"

_DEAD_PRONE = frozenset().union(*(dead_key_chars(layout) for layout in Layout))

# Every printable ASCII character; a space follows each one that is a dead key in some
# layout, so the accent is typed on its own on every operating system.
TEST_LABEL_TEXT = "".join(
    chr(code) + (" " if chr(code) in _DEAD_PRONE else "") for code in range(0x21, 0x7F)
)

# The GS1 test label: GTIN, serial, a separator, then a lot.
TEST_LABEL_GS1 = "0109501101530003" + "21FOTEST7" + GS + "10LOT1"


class LeadingZeroMode(StrEnum):
    """What a scanner is known to do to the leading zeros of digit-only codes."""

    PAD = "pad"  # it drops them: pad back to `width` digits
    STRIP = "strip"  # it adds them: cut back to `width` digits


@dataclass(frozen=True)
class LeadingZeroRule:
    """A known leading-zero habit of one scanner and how to undo it."""

    mode: LeadingZeroMode
    width: int

    def __post_init__(self) -> None:
        if not 1 <= self.width <= 40:
            raise ValidationError("A leading-zero rule needs a width between 1 and 40 digits.")

    def apply(self, code: str) -> str | None:
        """The code as the label holds it, or None if the rule does not touch this code."""
        if not (code.isascii() and code.isdigit()):
            return None
        if self.mode is LeadingZeroMode.PAD and len(code) < self.width:
            return code.zfill(self.width)
        excess = len(code) - self.width
        if self.mode is LeadingZeroMode.STRIP and excess > 0 and code[:excess] == "0" * excess:
            return code[excess:]
        return None

    def describe(self) -> str:
        """The rule in words, as the scan result names it."""
        if self.mode is LeadingZeroMode.PAD:
            return f"scanner drops leading zeros: padded to {self.width} digits"
        return f"scanner adds leading zeros: cut to {self.width} digits"


@dataclass(frozen=True)
class Corrected:
    """A scan after the profile's corrections, with what was done to it."""

    text: str
    corrections: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScannerProfile:
    """How one scanner's output differs from the label it read."""

    prefix: str = ""
    suffix: str = ""
    aim: bool | None = None  # sends AIM identifiers; None: unknown, strip the known ones
    caps_lock_inverted: bool = False
    layout: Layout = Layout.US  # the OS layout a US-configured scanner types into
    gs_substitute: str | None = None  # the character the scanner sends instead of GS
    gs_transmitted: bool | None = None  # None: unknown
    leading_zeros: LeadingZeroRule | None = None
    name: str = ""

    def __post_init__(self) -> None:
        sub = self.gs_substitute
        if sub is not None and (len(sub) != 1 or sub.isalnum() or sub.isspace()):
            raise ValidationError(
                "The GS substitute must be one character that is not a letter, digit or space."
            )
        if len(self.prefix) > 16 or len(self.suffix) > 16:
            raise ValidationError("A scanner prefix or suffix is at most 16 characters.")

    def correct(self, raw: str) -> Corrected:
        """Undoes prefix, suffix, layout and Caps Lock; GS and AIM are left to the parser."""
        text, done = raw, []
        if self.prefix:
            stripped = _strip_prefix(text, self.prefix)
            if stripped is not None:
                text = stripped
                done.append("prefix removed")
        if self.suffix:
            stripped = _strip_suffix(text, self.suffix)
            if stripped is not None:
                text = stripped
                done.append("suffix removed")
        if self.layout is not Layout.US or self.caps_lock_inverted:
            fixed = untype_layout(text, self.layout, caps_lock=self.caps_lock_inverted)
            if fixed != text:
                text = fixed
                done.append(self._layout_note())
        return Corrected(text, tuple(done))

    def _layout_note(self) -> str:
        parts = []
        if self.layout is not Layout.US:
            parts.append(f"US scanner on {LAYOUT_NAMES[self.layout]} layout corrected")
        if self.caps_lock_inverted:
            parts.append("Caps Lock inversion undone")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The profile as plain values, for settings storage."""
        rule = self.leading_zeros
        return {
            "prefix": self.prefix,
            "suffix": self.suffix,
            "aim": self.aim,
            "caps_lock_inverted": self.caps_lock_inverted,
            "layout": self.layout.value,
            "gs_substitute": self.gs_substitute,
            "gs_transmitted": self.gs_transmitted,
            "leading_zeros": None if rule is None else {"mode": rule.mode, "width": rule.width},
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScannerProfile:
        """A profile from `to_dict` output; refuses values it does not understand."""
        try:
            rule_data = data.get("leading_zeros")
            rule = None
            if rule_data is not None:
                rule = LeadingZeroRule(LeadingZeroMode(rule_data["mode"]), int(rule_data["width"]))
            return cls(
                prefix=str(data.get("prefix", "")),
                suffix=str(data.get("suffix", "")),
                aim=_optional_bool(data.get("aim")),
                caps_lock_inverted=bool(data.get("caps_lock_inverted", False)),
                layout=Layout(data.get("layout", "us")),
                gs_substitute=data.get("gs_substitute"),
                gs_transmitted=_optional_bool(data.get("gs_transmitted")),
                leading_zeros=rule,
                name=str(data.get("name", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(
                "The stored scanner profile is damaged; set the scanner up again."
            ) from exc


def _optional_bool(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError("expected true, false or null")


def _is_noise(char: str) -> bool:
    return (char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F) and char != GS


def _strip_prefix(text: str, prefix: str) -> str | None:
    if text.startswith(prefix):
        return text[len(prefix) :]
    trimmed, bare = _lstrip_noise(text), _lstrip_noise(prefix)
    if bare and trimmed.startswith(bare):
        return trimmed[len(bare) :]
    return None


def _strip_suffix(text: str, suffix: str) -> str | None:
    if text.endswith(suffix):
        return text[: len(text) - len(suffix)]
    trimmed, bare = _rstrip_noise(text), _rstrip_noise(suffix)
    if bare and trimmed.endswith(bare):
        return trimmed[: len(trimmed) - len(bare)]
    return None


def _lstrip_noise(text: str) -> str:
    start = 0
    while start < len(text) and _is_noise(text[start]):
        start += 1
    return text[start:]


def _rstrip_noise(text: str) -> str:
    end = len(text)
    while end > 0 and _is_noise(text[end - 1]):
        end -= 1
    return text[:end]


def _find_label(scanned: str, expected: str) -> tuple[ScannerProfile, int, int] | None:
    """The first (Caps Lock, layout) under which `expected` appears in `scanned`."""
    for caps in (False, True):
        for layout in Layout:
            typed = type_through(expected, layout, caps_lock=caps)
            start = scanned.find(typed)
            if typed and start >= 0:
                profile = ScannerProfile(layout=layout, caps_lock_inverted=caps)
                return profile, start, start + len(typed)
    return None


def detect_profile(
    scanned_test_label: str,
    expected: str = TEST_LABEL_TEXT,
    *,
    scanned_gs1_label: str | None = None,
    expected_gs1: str = TEST_LABEL_GS1,
) -> ScannerProfile:
    """Works out a scanner's profile from its scan of a label whose content is known.

    `scanned_test_label` is exactly what arrived, prefix and terminator included, and
    `expected` the printable text the label holds. Give the scan of the GS1 test label as
    well to learn how the scanner passes the GS separator. Raises `MisreadError` when the
    scan is not the label, or not all of it.
    """
    if GS in expected:
        raise ValueError("the test label text holds no GS; pass the GS1 label scan separately")
    found = _find_label(scanned_test_label, expected)
    if found is None:
        raise _label_not_found(scanned_test_label, expected)
    base, start, end = found
    head, suffix = scanned_test_label[:start], scanned_test_label[end:]
    aim = False
    if len(head) >= 3:
        candidate = untype_layout(head[-3:], base.layout, caps_lock=base.caps_lock_inverted)
        if symbology_for(candidate) is not None:
            aim, head = True, head[:-3]
    profile = replace(base, prefix=head, suffix=suffix, aim=aim)
    if scanned_gs1_label is not None:
        profile = _detect_gs(profile, scanned_gs1_label, expected_gs1)
    return profile


def _detect_gs(profile: ScannerProfile, scanned: str, expected: str) -> ScannerProfile:
    """Learns from the GS1 test label whether GS arrives, is replaced, or is dropped."""
    head, _, tail = expected.partition(GS)
    text = _rstrip_noise(_lstrip_noise(profile.correct(scanned).text))
    if symbology_for(text[:3]) is not None:  # the label's content starts with digits
        text = text[3:]
    if not (text.startswith(head) and text.endswith(tail)) or len(text) < len(head + tail):
        raise MisreadError(
            "The GS1 test label scan does not match the label. Scan the GS1 test label again.",
            reason=MisreadReason.INCOMPLETE,
            raw=scanned,
        )
    between = text[len(head) : len(text) - len(tail)]
    if between == "":
        return replace(profile, gs_transmitted=False)
    if between == GS:
        return replace(profile, gs_transmitted=True)
    if len(between) == 1 and not between.isalnum() and not between.isspace():
        return replace(profile, gs_transmitted=True, gs_substitute=between)
    raise MisreadError(
        "The GS1 test label scan does not match the label. Scan the GS1 test label again.",
        reason=MisreadReason.INCOMPLETE,
        raw=scanned,
    )


def _label_not_found(scanned: str, expected: str) -> MisreadError:
    best = max(
        (
            _similarity(untype_layout(scanned, layout, caps_lock=caps), expected)
            for layout in Layout
            for caps in (False, True)
        ),
        default=0.0,
    )
    if best >= 0.8:
        return MisreadError(
            "The test label scan is incomplete: some characters were lost on the way. Scan it "
            "again; if this repeats, slow down the scanner's keystroke rate.",
            reason=MisreadReason.INCOMPLETE,
            raw=scanned,
        )
    return MisreadError(
        "This scan is not the test label. Scan the test label shown on this page.",
        reason=MisreadReason.UNSUPPORTED,
        raw=scanned,
    )


def _similarity(text: str, expected: str) -> float:
    """The share of the expected characters found in `text`, in order."""
    matcher = SequenceMatcher(None, text, expected, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return matched / max(1, len(expected))
