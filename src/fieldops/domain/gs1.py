"""GS1 element strings in their three spellings: FNC1/GS separated, bracketed, Digital Link.

Values are checked against the application identifier (AI) table below: length, digits or
the GS1 character set, dates, and the check digit of every GS1 key. A string that fails is
refused with a `GS1Error` (a `MisreadError`), never half parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from fieldops.domain.checkdigits import has_valid_gs1_check_digit
from fieldops.domain.scan_errors import MisreadError, MisreadReason

GS = "\x1d"

# GS1 character set 82: the only characters an alphanumeric AI value may hold.
CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)

# AIs whose first two digits give them a predefined length: they never need a separator.
# The number is the length of the whole element (AI plus value), as in the GS1 spec.
PREDEFINED_ELEMENT_LENGTH: dict[str, int] = {
    "00": 20, "01": 16, "02": 16, "03": 16, "04": 18,
    "11": 8, "12": 8, "13": 8, "14": 8, "15": 8, "16": 8, "17": 8, "18": 8, "19": 8,
    "20": 4, "31": 10, "32": 10, "33": 10, "34": 10, "35": 10, "36": 10, "41": 16,
}  # fmt: skip

# AIs that are primary keys in a GS1 Digital Link URI path.
DIGITAL_LINK_KEYS = frozenset(
    {"00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010",
     "8013", "8017", "8018"}
)  # fmt: skip

# Short names some Digital Link URIs use in place of the numeric AI.
DIGITAL_LINK_ALIASES: dict[str, str] = {
    "gtin": "01", "sscc": "00", "ser": "21", "lot": "10", "cpv": "22", "exp": "17",
    "giai": "8004", "grai": "8003",
}  # fmt: skip


@dataclass(frozen=True)
class AIDefinition:
    """What one application identifier allows."""

    ai: str
    title: str
    min_length: int
    max_length: int
    numeric: bool = False
    check_length: int = 0  # the first N characters end in a GS1 check digit
    date: bool = False


def _ais() -> dict[str, AIDefinition]:
    table: dict[str, AIDefinition] = {}

    def add(
        ai: str,
        title: str,
        lo: int,
        hi: int,
        *,
        n: bool = False,
        check_length: int = 0,
        date: bool = False,
    ) -> None:
        table[ai] = AIDefinition(ai, title, lo, hi, n, check_length, date)

    add("00", "SSCC", 18, 18, n=True, check_length=18)
    add("01", "GTIN", 14, 14, n=True, check_length=14)
    add("02", "CONTENT", 14, 14, n=True, check_length=14)
    add("03", "MTO GTIN", 14, 14, n=True, check_length=14)
    add("10", "BATCH/LOT", 1, 20)
    for ai, title in (("11", "PROD DATE"), ("12", "DUE DATE"), ("13", "PACK DATE"),
                      ("15", "BEST BEFORE"), ("16", "SELL BY"), ("17", "USE BY")):  # fmt: skip
        add(ai, title, 6, 6, n=True, date=True)
    add("20", "VARIANT", 2, 2, n=True)
    add("21", "SERIAL", 1, 20)
    add("22", "CPV", 1, 20)
    add("235", "TPX", 1, 28)
    add("240", "ADDITIONAL ID", 1, 30)
    add("241", "CUST. PART No.", 1, 30)
    add("242", "MTO VARIANT", 1, 6, n=True)
    add("243", "PCN", 1, 20)
    add("250", "SECONDARY SERIAL", 1, 30)
    add("251", "REF. TO SOURCE", 1, 30)
    add("253", "GDTI", 13, 30, check_length=13)
    add("254", "GLN EXTENSION", 1, 20)
    add("255", "GCN", 13, 25, n=True, check_length=13)
    add("30", "VAR. COUNT", 1, 8, n=True)
    add("37", "COUNT", 1, 8, n=True)
    measures = [*range(310, 317), *range(320, 338), *range(340, 358), *range(360, 370)]
    for prefix in [str(p) for p in measures]:
        for decimals in range(10):
            add(prefix + str(decimals), "MEASURE", 6, 6, n=True)
    for prefix, lo, hi in (("390", 1, 15), ("391", 4, 18), ("392", 1, 15), ("393", 4, 18),
                           ("394", 4, 4), ("395", 6, 6)):  # fmt: skip
        for decimals in range(10):
            add(prefix + str(decimals), "AMOUNT", lo, hi, n=True)
    add("400", "ORDER NUMBER", 1, 30)
    add("401", "GINC", 1, 30)
    add("402", "GSIN", 17, 17, n=True, check_length=17)
    add("403", "ROUTE", 1, 30)
    for ai in ("410", "411", "412", "413", "414", "415", "416", "417"):
        add(ai, "GLN", 13, 13, n=True, check_length=13)
    add("420", "SHIP TO POST", 1, 20)
    add("421", "SHIP TO POST", 4, 12)
    for ai, lo, hi in (("422", 3, 3), ("423", 3, 15), ("424", 3, 3), ("425", 3, 15),
                       ("426", 3, 3)):  # fmt: skip
        add(ai, "ORIGIN", lo, hi, n=True)
    add("427", "ORIGIN SUBDIVISION", 1, 3)
    add("7001", "NSN", 13, 13, n=True)
    add("7002", "MEAT CUT", 1, 30)
    add("7003", "EXPIRY TIME", 10, 10, n=True)
    add("7004", "ACTIVE POTENCY", 1, 4, n=True)
    add("7005", "CATCH AREA", 1, 12)
    add("7006", "FIRST FREEZE DATE", 6, 6, n=True, date=True)
    add("7007", "HARVEST DATE", 6, 12, n=True)
    add("7008", "AQUATIC SPECIES", 1, 3)
    add("7009", "FISHING GEAR TYPE", 1, 10)
    add("7010", "PROD METHOD", 1, 2)
    add("7011", "TEST BY DATE", 6, 10, n=True)
    for ai in ("7020", "7021", "7022"):
        add(ai, "REFURB/FUNC STAT", 1, 20)
    add("7023", "GIAI - ASSEMBLY", 1, 30)
    for digit in range(10):
        add(f"703{digit}", "PROCESSOR", 4, 30)
    add("7040", "UIC+EXT", 4, 4)
    for digit in range(7):
        add(f"71{digit}", "NHRN", 1, 20)
    for digit in range(10):
        add(f"723{digit}", "CERT", 3, 30)
    add("7240", "PROTOCOL", 1, 20)
    add("7241", "AIDC MEDIA TYPE", 2, 2, n=True)
    add("7242", "VCN", 1, 25)
    add("8001", "DIMENSIONS", 14, 14, n=True)
    add("8002", "CMT No.", 1, 20)
    add("8003", "GRAI", 15, 30, check_length=14)
    add("8004", "GIAI", 1, 30)
    add("8005", "PRICE PER UNIT", 6, 6, n=True)
    add("8006", "ITIP", 18, 18, n=True, check_length=14)
    add("8007", "IBAN", 1, 34)
    add("8008", "PROD TIME", 8, 12, n=True)
    add("8009", "OPTSEN", 1, 50)
    add("8010", "CPID", 1, 30)
    add("8011", "CPID SERIAL", 1, 12, n=True)
    add("8012", "VERSION", 1, 20)
    add("8013", "GMN", 1, 25)
    add("8017", "GSRN - PROVIDER", 18, 18, n=True, check_length=18)
    add("8018", "GSRN - RECIPIENT", 18, 18, n=True, check_length=18)
    add("8019", "SRIN", 1, 10, n=True)
    add("8020", "REF No.", 1, 25)
    add("8026", "ITIP CONTENT", 18, 18, n=True, check_length=14)
    add("8030", "DIGSIG", 1, 90)
    add("8110", "COUPON", 1, 70)
    add("8111", "POINTS", 4, 4, n=True)
    add("8112", "COUPON", 1, 70)
    add("8200", "PRODUCT URL", 1, 70)
    add("90", "INTERNAL", 1, 30)
    for digit in range(1, 10):
        add(f"9{digit}", "INTERNAL", 1, 90)
    return table


AI_TABLE: dict[str, AIDefinition] = _ais()


class GS1Error(MisreadError):
    """A GS1 element string that cannot be read as it stands."""


@dataclass(frozen=True)
class GS1Data:
    """The application identifiers of one GS1 element string, in the order read."""

    fields: dict[str, str] = field(default_factory=dict)
    spelling: str = "separated"  # "separated", "bracketed" or "digital-link"

    @property
    def gtin(self) -> str | None:
        """The GTIN (AI 01), if the string has one."""
        return self.fields.get("01")

    @property
    def serial(self) -> str | None:
        """The serial number (AI 21), if the string has one."""
        return self.fields.get("21")

    def bracketed(self) -> str:
        """The human-readable spelling, `(01)09501101530003(21)SN1`."""
        return "".join(f"({ai}){value}" for ai, value in self.fields.items())


def lookup_ai(text: str, pos: int) -> AIDefinition | None:
    """The AI that starts at `pos` in `text`, trying 2, 3 and 4 digits."""
    for size in (2, 3, 4):
        candidate = text[pos : pos + size]
        if len(candidate) == size and candidate.isascii() and candidate.isdigit():
            found = AI_TABLE.get(candidate)
            if found is not None:
                return found
    return None


def _valid_date(value: str) -> bool:
    month, day = int(value[2:4]), int(value[4:6])
    return 1 <= month <= 12 and 0 <= day <= 31


def check_value(definition: AIDefinition, value: str, *, check_digit: bool = True) -> None:
    """Raises `GS1Error` unless `value` is allowed for the AI."""
    ai = definition.ai
    if not definition.min_length <= len(value) <= definition.max_length:
        if len(value) < definition.min_length:
            raise GS1Error(
                f"The GS1 field ({ai}) is too short: the scan is incomplete. Scan it again.",
                reason=MisreadReason.INCOMPLETE,
            )
        raise GS1Error(
            f"The GS1 field ({ai}) is too long to be right. Scan it again.",
            reason=MisreadReason.GS1_MALFORMED,
        )
    if definition.numeric and not (value.isascii() and value.isdigit()):
        raise GS1Error(
            f"The GS1 field ({ai}) must hold digits only. Scan it again.",
            reason=MisreadReason.GS1_MALFORMED,
        )
    if not definition.numeric and not set(value) <= CSET82:
        raise GS1Error(
            f"The GS1 field ({ai}) holds characters GS1 does not allow. Scan it again.",
            reason=MisreadReason.GS1_MALFORMED,
        )
    if definition.date and not _valid_date(value):
        raise GS1Error(
            f"The GS1 date ({ai}) {value} is not a date. Scan it again.",
            reason=MisreadReason.GS1_MALFORMED,
        )
    if check_digit and definition.check_length:
        key = value[: definition.check_length]
        if not has_valid_gs1_check_digit(key):
            raise GS1Error(
                f"The check digit of {definition.title} {key} is wrong: the code was misread. "
                "Scan it again.",
                reason=MisreadReason.CHECK_DIGIT,
            )


def _add(fields: dict[str, str], ai: str, value: str) -> None:
    if fields.get(ai, value) != value:
        raise GS1Error(
            f"The GS1 field ({ai}) appears twice with different values. Scan it again.",
            reason=MisreadReason.GS1_MALFORMED,
        )
    fields[ai] = value


def _unknown_ai(text: str, pos: int) -> GS1Error:
    return GS1Error(
        f"The GS1 code holds an unknown application identifier at '{text[pos : pos + 4]}'.",
        reason=MisreadReason.GS1_MALFORMED,
    )


def parse_separated(data: str) -> GS1Data:
    """Reads `01...21...<GS>10...`: variable-length fields end at GS or at the end."""
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == GS:  # FNC1 in first position, or a redundant separator
            pos += 1
            continue
        definition = lookup_ai(data, pos)
        if definition is None:
            raise _unknown_ai(data, pos)
        pos += len(definition.ai)
        predefined = PREDEFINED_ELEMENT_LENGTH.get(definition.ai[:2])
        if predefined is not None:
            end = pos + predefined - len(definition.ai)
            if end > len(data) or GS in data[pos:end]:
                raise GS1Error(
                    f"The GS1 field ({definition.ai}) is cut short: the scan is incomplete. "
                    "Scan it again.",
                    reason=MisreadReason.INCOMPLETE,
                )
        else:
            found = data.find(GS, pos)
            end = len(data) if found < 0 else found
        value = data[pos:end]
        check_value(definition, value)
        _add(fields, definition.ai, value)
        pos = end
    if not fields:
        raise GS1Error("The GS1 code is empty. Scan it again.", reason=MisreadReason.EMPTY)
    return GS1Data(fields, "separated")


_BRACKET = re.compile(r"\((\d{2,4})\)")


def parse_bracketed(text: str) -> GS1Data:
    """Reads `(01)09501101530003(21)SN1`, the spelling printed under a GS1 symbol."""
    parts = _BRACKET.split(text)
    if parts[0] != "" or len(parts) < 3:
        raise GS1Error(
            "This is not a bracketed GS1 string. Scan it again.",
            reason=MisreadReason.GS1_MALFORMED,
        )
    fields: dict[str, str] = {}
    for ai, value in zip(parts[1::2], parts[2::2], strict=True):
        definition = AI_TABLE.get(ai)
        if definition is None:
            raise _unknown_ai(f"({ai})", 0)
        check_value(definition, value)
        _add(fields, ai, value)
    return GS1Data(fields, "bracketed")


def looks_bracketed(text: str) -> bool:
    """Whether `text` starts like a bracketed GS1 string with a known AI."""
    found = _BRACKET.match(text)
    return found is not None and found.group(1) in AI_TABLE


def ambiguous_boundary(data: GS1Data) -> str | None:
    """When the separators were lost, the AI whose value might hide further fields.

    Without GS, a variable-length field runs to the end of the string; if its value could
    also be read as a shorter value followed by valid GS1 fields, the boundary is unknown.
    """
    seen = set(data.fields)
    for ai, value in data.fields.items():
        if ai[:2] in PREDEFINED_ELEMENT_LENGTH:
            continue
        for cut in range(1, len(value)):
            rest = value[cut:]
            if not rest[:2].isdigit():
                continue
            try:
                tail = parse_separated(rest)
            except GS1Error:
                continue
            if not (set(tail.fields) & seen):
                return ai
    return None


def _split_path(path: str) -> list[str]:
    return [unquote(segment) for segment in path.split("/") if segment]


def _widen_gtin(ai: str, value: str) -> str:
    if ai == "01" and len(value) in (8, 12, 13) and value.isascii() and value.isdigit():
        return value.zfill(14)
    return value


def _is_primary_key(key: str, value: str) -> bool:
    """Whether a path pair is a Digital Link primary key whose value has the right shape."""
    ai = DIGITAL_LINK_ALIASES.get(key, key)
    if ai not in DIGITAL_LINK_KEYS:
        return False
    try:
        check_value(AI_TABLE[ai], _widen_gtin(ai, value), check_digit=False)
    except GS1Error:
        return False
    return True


def parse_digital_link(url: str) -> GS1Data | None:
    """The GS1 fields of a Digital Link URI, or None when `url` is not one.

    Accepts any host and a path prefix before the primary key (`/01/{gtin}`, `/8004/{giai}`
    ...), qualifiers as further path pairs, and other AIs in the query string. A GTIN given
    with 8, 12 or 13 digits is widened to 14, as the standard says.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    segments = _split_path(parts.path)
    start = next(
        (i for i in range(len(segments) - 1) if _is_primary_key(segments[i], segments[i + 1])),
        None,
    )
    if start is None:
        return None
    pairs = segments[start:]
    if len(pairs) % 2:
        raise GS1Error(
            "The GS1 Digital Link is incomplete (a field has no value). Scan it again.",
            reason=MisreadReason.INCOMPLETE,
        )
    items = list(zip(pairs[::2], pairs[1::2], strict=True))
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.isdigit():
            items.append((key, value))
    fields: dict[str, str] = {}
    for key, value in items:
        ai = DIGITAL_LINK_ALIASES.get(key, key)
        definition = AI_TABLE.get(ai)
        if definition is None:
            raise _unknown_ai(f"/{key}/", 0)
        value = _widen_gtin(ai, value)
        check_value(definition, value)
        _add(fields, ai, value)
    return GS1Data(fields, "digital-link")
