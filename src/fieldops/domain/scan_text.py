"""Character-level checks of scanned text: noise, input methods, keyboard-layout mangling."""

from __future__ import annotations

import json
import unicodedata

from fieldops.domain.keyboard_layouts import LAYOUT_NAMES, Layout, untype
from fieldops.domain.scan_errors import LayoutMismatchError, MisreadError, MisreadReason

GS = "\x1d"
RS = "\x1e"
EOT = "\x04"
ENVELOPE = "[)>" + RS  # ISO/IEC 15434 message header

# Scripts an input method produces from Latin keystrokes: kana, CJK, Hangul, Bopomofo and
# CJK punctuation. A scan never holds them; a keyboard burst that does was composed.
_IME_RANGES = (
    (0x1100, 0x11FF),
    (0x2E80, 0x2FDF),
    (0x3001, 0x303F),
    (0x3040, 0x30FF),
    (0x3100, 0x318F),
    (0x31A0, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7FF),
    (0xF900, 0xFAFF),
    (0xFF61, 0xFF9F),
)

# Full-width ASCII forms and the ideographic space: an input method's Latin mode types them,
# and each stands for exactly one ASCII character.
_FULL_WIDTH = (0xFF01, 0xFF5E)

_CODE_LIKE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./")


def _removable(char: str, keep: frozenset[str]) -> bool:
    if char in keep:
        return False
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp")


def _strippable(char: str, keep: frozenset[str]) -> bool:
    # str.isspace() counts GS and RS as space, which they are not here.
    return char not in keep and (char.isspace() or unicodedata.category(char) == "Zs")


def clean(text: str) -> str:
    """Removes control and invisible characters and surrounding space, keeping GS.

    RS and EOT are kept as well when the text is an ISO/IEC 15434 message, where they
    structure the data.
    """
    keep = frozenset({GS})
    if _lstrip(text, keep).startswith(ENVELOPE):
        keep = frozenset({GS, RS, EOT})
    kept = "".join(char for char in text if not _removable(char, keep))
    return _rstrip(_lstrip(kept, keep), keep)


def _lstrip(text: str, keep: frozenset[str]) -> str:
    start = 0
    while start < len(text) and (_strippable(text[start], keep) or _removable(text[start], keep)):
        start += 1
    return text[start:]


def _rstrip(text: str, keep: frozenset[str]) -> str:
    end = len(text)
    while end > 0 and (_strippable(text[end - 1], keep) or _removable(text[end - 1], keep)):
        end -= 1
    return text[:end]


def _is_ime(char: str) -> bool:
    point = ord(char)
    return any(low <= point <= high for low, high in _IME_RANGES)


def check_input_method(text: str, raw: str) -> tuple[str, tuple[str, ...]]:
    """Refuses text an input method composed; folds full-width forms back to ASCII."""
    if text.isascii():
        return text, ()  # nearly every scan: no input method touched it
    composed = [char for char in text if _is_ime(char)]
    if composed:
        raise MisreadError(
            "Input method active, switch to direct input: the scan arrived as "
            f"'{text}', which an input method made from the scanner's keys. Switch the "
            "keyboard to direct (Latin) input and scan again.",
            reason=MisreadReason.INPUT_METHOD,
            raw=raw,
        )
    wide = [c for c in text if _FULL_WIDTH[0] <= ord(c) <= _FULL_WIDTH[1] or c == "\u3000"]
    if not wide:
        return text, ()
    folded = "".join(unicodedata.normalize("NFKC", char) if char in wide else char for char in text)
    note = "full-width characters from an input method were read as ASCII"
    return clean(folded), (note,)


def code_likeness(text: str) -> float:
    """The share of characters that asset codes are usually made of."""
    if not text:
        return 0.0
    return sum(1 for char in text if char in _CODE_LIKE) / len(text)


def _structured(text: str) -> bool:
    lowered = text.lower()
    if lowered.startswith(("http://", "https://")):
        return True
    if text.startswith("{"):
        try:
            return isinstance(json.loads(text), dict)
        except (ValueError, RecursionError):
            return False
    return False


def _suspects(text: str) -> list[tuple[float, Layout, str]]:
    base = code_likeness(text)
    has_non_ascii = not text.isascii()
    structured = _structured(text)
    found: list[tuple[float, Layout, str]] = []
    for layout in (Layout.UK, Layout.DE, Layout.FR, Layout.IT):
        fixed = untype(text, layout)
        if fixed == text or not fixed.isascii() or not fixed.isprintable():
            continue
        if not structured and _structured(fixed):
            found.append((2.0, layout, fixed))
            continue
        score = code_likeness(fixed)
        # Non-ASCII text only needs to read better; ASCII text must read as a clean code,
        # since ASCII-to-ASCII manglings (Italian - to ') can also be real content.
        better = score > base if has_non_ascii else score == 1.0 > base
        if better:
            found.append((score, layout, fixed))
    return found


def check_layout(text: str, raw: str) -> None:
    """Refuses text that looks like a US scanner typing into another keyboard layout.

    Used only when no scanner profile is known: with one, the profile corrects the text.
    """
    if text.isascii() and code_likeness(text) == 1.0:
        return  # letters, digits and -_./ only: no layout mangling reads better than that
    suspects = _suspects(text)
    if not suspects:
        return
    best = max(score for score, _, _ in suspects)
    chosen = [(layout, fixed) for score, layout, fixed in suspects if score == best]
    layout, fixed = chosen[0]
    name = LAYOUT_NAMES[layout]
    example = _example(fixed, text)
    raise LayoutMismatchError(
        f"This scan looks like a scanner set up for a US keyboard typing into the {name} "
        f"keyboard layout{example}; it probably reads '{fixed}'. Set the scanner up in "
        "Settings > Scanner (scan the test label there) so FieldOps corrects its scans, or "
        f"switch the computer's keyboard layout to US English or the scanner to {name}.",
        layouts=tuple(layout.value for layout, _ in chosen),
        probable_text=fixed,
        raw=raw,
    )


def _example(meant: str, typed: str) -> str:
    if len(meant) != len(typed):
        return ""
    for want, got in zip(meant, typed, strict=True):
        if want != got:
            return f' ("{want}" arrives as "{got}")'
    return ""
