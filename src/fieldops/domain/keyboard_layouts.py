"""What a US-layout scanner's keystrokes become under another operating-system layout.

A keyboard-wedge scanner sends key positions, not characters. Set up for a US keyboard on a
machine whose layout is UK, German, French or Italian, it types `"` as `@` (UK), `-` as `ß`
(German), digits as `&é"'(` (French) or `-` as `'` (Italian). `type_through` simulates that,
`untype` undoes it; Caps Lock inversion is part of both because it acts on keys too.

Dead keys (German `^ ´ \\``, French `^ ¨`) are modelled as Windows does: the accent waits for
the next key and combines with it when it can, stands alone before a space (which is
swallowed) and is typed before any other character.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Layout(StrEnum):
    """Operating-system keyboard layouts a US-configured scanner may type into."""

    US = "us"
    UK = "uk"
    DE = "de"
    FR = "fr"
    IT = "it"


LAYOUT_NAMES: dict[Layout, str] = {
    Layout.US: "US English",
    Layout.UK: "UK English",
    Layout.DE: "German",
    Layout.FR: "French",
    Layout.IT: "Italian",
}

# Key positions of the main block in ISO order: number row, three letter rows.
_KEYS = (
    ["TLDE"]
    + [f"AE{i:02d}" for i in range(1, 13)]
    + [f"AD{i:02d}" for i in range(1, 13)]
    + [f"AC{i:02d}" for i in range(1, 12)]
    + ["BKSL"]
    + [f"AB{i:02d}" for i in range(1, 11)]
)


def _pairs(*rows: str) -> list[str]:
    """Key entries written as space-separated pairs, one string per keyboard row."""
    return " ".join(rows).split()


# Per layout: unshifted and shifted character of each key in _KEYS order. A single
# character means the shifted key types nothing; _DEAD marks the dead keys.
_TABLES: dict[Layout, list[str]] = {
    Layout.US: _pairs(
        "`~ 1! 2@ 3# 4$ 5% 6^ 7& 8* 9( 0) -_ =+ "
        "qQ wW eE rR tT yY uU iI oO pP [{ ]} "
        "aA sS dD fF gG hH jJ kK lL ;: '\" \\| "
        "zZ xX cC vV bB nN mM ,< .> /?"
    ),
    Layout.UK: _pairs(
        '`¬ 1! 2" 3£ 4$ 5% 6^ 7& 8* 9( 0) -_ =+ '
        "qQ wW eE rR tT yY uU iI oO pP [{ ]} "
        "aA sS dD fF gG hH jJ kK lL ;: '@ #~ "
        "zZ xX cC vV bB nN mM ,< .> /?"
    ),
    Layout.DE: _pairs(
        '^° 1! 2" 3§ 4$ 5% 6& 7/ 8( 9) 0= ß? ´` '
        "qQ wW eE rR tT zZ uU iI oO pP üÜ +* "
        "aA sS dD fF gG hH jJ kK lL öÖ äÄ #' "
        "yY xX cC vV bB nN mM ,; .: -_"
    ),
    Layout.FR: _pairs(
        "² &1 é2 \"3 '4 (5 -6 è7 _8 ç9 à0 )° =+ "
        "aA zZ eE rR tT yY uU iI oO pP ^¨ $£ "
        "qQ sS dD fF gG hH jJ kK lL mM ù% *µ "
        "wW xX cC vV bB nN ,? ;. :/ !§"
    ),
    Layout.IT: _pairs(
        "\\| 1! 2\" 3£ 4$ 5% 6& 7/ 8( 9) 0= '? ì^ "
        "qQ wW eE rR tT yY uU iI oO pP èé +* "
        "aA sS dD fF gG hH jJ kK lL òç à° ù§ "
        "zZ xX cC vV bB nN mM ,; .: -_"
    ),
}

# Dead keys: (layout, key, shifted) -> the combining mark it adds.
_DEAD: dict[tuple[Layout, str, bool], str] = {
    (Layout.DE, "TLDE", False): "\u0302",
    (Layout.DE, "AE12", False): "\u0301",
    (Layout.DE, "AE12", True): "\u0300",
    (Layout.FR, "AD11", False): "\u0302",
    (Layout.FR, "AD11", True): "\u0308",
}


@dataclass(frozen=True)
class _Key:
    position: str
    shifted: bool


def _chars(layout: Layout) -> dict[_Key, str]:
    table: dict[_Key, str] = {}
    for position, pair in zip(_KEYS, _TABLES[layout], strict=True):
        table[_Key(position, False)] = pair[0]
        table[_Key(position, True)] = pair[1] if len(pair) > 1 else ""
    return table


_CHARS: dict[Layout, dict[_Key, str]] = {layout: _chars(layout) for layout in Layout}
_US_KEY: dict[str, _Key] = {char: key for key, char in _CHARS[Layout.US].items()}


def _caps_positions(layout: Layout) -> frozenset[str]:
    """Keys Caps Lock acts on: those whose two levels are one letter in two cases."""
    table = _CHARS[layout]
    return frozenset(
        key.position
        for key, char in table.items()
        if not key.shifted and char.isalpha() and table[_Key(key.position, True)] == char.upper()
    )


_CAPS: dict[Layout, frozenset[str]] = {layout: _caps_positions(layout) for layout in Layout}


def _pressed(char: str, layout: Layout, caps: bool) -> _Key | None:
    """The key (in `layout`) a US scanner presses to send `char`, with Caps Lock applied."""
    key = _US_KEY.get(char)
    if key is None:
        return None
    if caps and key.position in _CAPS[layout]:
        return _Key(key.position, not key.shifted)
    return key


def dead_key_chars(layout: Layout) -> frozenset[str]:
    """The US characters that land on a dead key in `layout`."""
    return frozenset(
        char for char in _US_KEY if (layout, _US_KEY[char].position, _US_KEY[char].shifted) in _DEAD
    )


def _spacing(mark: str) -> str:
    return {"\u0302": "^", "\u0301": "´", "\u0300": "`", "\u0308": "¨"}[mark]


def type_through(text: str, layout: Layout, *, caps_lock: bool = False) -> str:
    """What the operating system receives when a US scanner types `text` into `layout`."""
    out: list[str] = []
    pending: str | None = None
    for char in text:
        key = _pressed(char, layout, caps_lock)
        if key is None:
            produced, mark = char, None
        else:
            produced = _CHARS[layout][key]
            mark = _DEAD.get((layout, key.position, key.shifted))
        if pending is not None:
            out.append(_after_dead(pending, produced, mark))
            pending = None
        elif mark is not None:
            pending = mark
        else:
            out.append(produced)
    if pending is not None:
        out.append(_spacing(pending))
    return "".join(out)


def _after_dead(pending: str, produced: str, mark: str | None) -> str:
    if mark is not None:
        return _spacing(pending) + _spacing(mark)
    if produced in (" ", ""):
        return _spacing(pending)
    composed = unicodedata.normalize("NFC", produced + pending)
    if len(composed) == 1:
        return composed
    return _spacing(pending) + produced


@dataclass(frozen=True)
class _Inverse:
    direct: dict[str, str]
    marks: dict[str, str]  # combining mark -> US character of its dead key


def _inverse(layout: Layout, caps: bool) -> _Inverse:
    direct: dict[str, str] = {}
    marks: dict[str, str] = {}
    for char in _US_KEY:
        key = _pressed(char, layout, caps)
        if key is None:
            continue
        mark = _DEAD.get((layout, key.position, key.shifted))
        if mark is not None:
            marks[mark] = char
            direct[_spacing(mark)] = char
            continue
        produced = _CHARS[layout][key]
        if produced:
            direct[produced] = char
    return _Inverse(direct, marks)


_INVERSES: dict[tuple[Layout, bool], _Inverse] = {
    (layout, caps): _inverse(layout, caps) for layout in Layout for caps in (False, True)
}


def untype(text: str, layout: Layout, *, caps_lock: bool = False) -> str:
    """The text a US scanner meant, given what `layout` (and Caps Lock) made of it.

    Characters no key of the layout produces are kept as they are. A dead key typed before a
    space loses that space; nothing can bring it back.
    """
    if layout is Layout.US and not caps_lock:
        return text
    inverse = _INVERSES[(layout, caps_lock)]
    out: list[str] = []
    for char in text:
        if char in inverse.direct:
            out.append(inverse.direct[char])
            continue
        decomposed = unicodedata.normalize("NFD", char)
        mark = decomposed[-1]
        base = unicodedata.normalize("NFC", decomposed[:-1])
        if len(decomposed) > 1 and mark in inverse.marks and base in inverse.direct:
            out.append(inverse.marks[mark] + inverse.direct[base])
        else:
            out.append(char)
    return "".join(out)
