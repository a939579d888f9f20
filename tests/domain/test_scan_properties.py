"""Properties of the normaliser: only its own errors escape, and normalising twice is a no-op."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldops.domain.keyboard_layouts import Layout
from fieldops.domain.scan import CodePattern, ScanResult, ScanSource, normalise_scan
from fieldops.domain.scan_errors import ScanError
from fieldops.domain.scanner_profile import LeadingZeroMode, LeadingZeroRule, ScannerProfile

# Pieces scanners really send, so the examples reach every branch, not only plain text.
FRAGMENTS = [
    "]C0", "]C1", "]d2", "]Q3", "]Q1", "]E0", "]E4", "]A0", "]I1", "]x9", "]", "*",
    "\x1d", "\x1e", "\x04", "[)>\x1e06\x1d", "[)>\x1e05\x1d", "\r", "\n", "\t", " ", "~", "|",
    "01", "09501101530003", "21", "10", "17", "251231", "8004", "00", "240", "250",
    "4006381333931", "036000291452", "96385074", "(01)", "(21)", "SN88213", "LOT7A",
    "IT-004217", "000122521", "5CG1234OLD", "https://", "http://", "id.gs1.org", "/01/",
    "/21/", "/hardware/", "/bytag/", "/a/", "?sn=", "&tag=", "%2", "%", '{"tag": "', '"}',
    '{"serial": ', "}", "{", '"', "ß", "é", "à", "'", "@", "£", "Ö", "い", "ｉ", "\u3000",
    "\u200b", "\ufeff", "\x00", "\ud800", "倉",
]  # fmt: skip

GS1_FIELDS = [
    "0109501101530003", "0109501101530004", "00106141411234567897", "17261231", "11250230",
    "21SN88213", "21SN8821310", "10LOT7A", "240PART-1", "250SEC", "80040614141IT-1", "99",
]  # fmt: skip
PATH_PARTS = ["a", "hardware", "bytag", "ht", "01", "09501101530003", "21", "SN1", "8004", "12"]

gs1_scans = st.tuples(
    st.sampled_from(["", "]C1", "]d2", "]Q3", "]C0"]),
    st.lists(st.sampled_from(GS1_FIELDS), min_size=1, max_size=4),
    st.sampled_from(["", "\x1d", "~"]),
).map(lambda t: t[0] + t[2].join(t[1]))
json_scans = st.dictionaries(
    st.sampled_from(["tag", "asset_tag", "serial", "sn", "site", "v"]),
    st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none()),
    max_size=3,
).map(json.dumps)
gtin_scans = st.tuples(
    st.sampled_from(["]E0", "]E4", "]E3", "]I1", "]E1"]),
    st.sampled_from(["4006381333931", "036000291452", "96385074", "04252614", "09501101530003"]),
    st.sampled_from(["", "12", "1", "12345"]),
).map("".join)
url_scans = st.tuples(
    st.sampled_from(["https://assets.example.invalid/", "HTTP://id.gs1.org/", "https://x/"]),
    st.lists(st.one_of(st.sampled_from(PATH_PARTS), st.text(max_size=4)), max_size=5),
    st.sampled_from(["", "?sn=5CG1", "?10=LOT1&17=261231", "?tag=%2", "?tag=IT-004217"]),
).map(lambda t: t[0] + "/".join(t[1]) + t[2])
raw_scans = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=12).map("".join),
    st.tuples(
        st.sampled_from(["", "]Q1", "*", " "]),
        st.one_of(gs1_scans, gtin_scans, json_scans, url_scans),
        st.sampled_from(["", "\r", "\r\n", "\t"]),
    ).map("".join),
)

profiles = st.one_of(
    st.none(),
    st.builds(
        ScannerProfile,
        prefix=st.sampled_from(["", "*", "\x02", "#", "]C"]),
        suffix=st.sampled_from(["", "\r", "\r\n", "\t", "#"]),
        aim=st.sampled_from([None, True, False]),
        caps_lock_inverted=st.booleans(),
        layout=st.sampled_from(list(Layout)),
        gs_substitute=st.sampled_from([None, "~", "|", "^"]),
        gs_transmitted=st.sampled_from([None, True, False]),
        leading_zeros=st.sampled_from(
            [
                None,
                LeadingZeroRule(LeadingZeroMode.PAD, 9),
                LeadingZeroRule(LeadingZeroMode.STRIP, 6),
            ]
        ),
    ),
)

sources = st.sampled_from(list(ScanSource))
PATTERNS = (CodePattern("asset tag", "IT-", r"IT-\d{6}"),)

FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _attempt(
    raw: str, profile: ScannerProfile | None, source: ScanSource, patterns: tuple[CodePattern, ...]
) -> ScanResult | None:
    try:
        return normalise_scan(raw, profile, source=source, patterns=patterns)
    except ScanError as exc:
        assert exc.message and exc.raw == raw
        return None


@FAST
@given(raw_scans, profiles, sources, st.booleans())
def test_only_documented_errors_escape(
    raw: str, profile: ScannerProfile | None, source: ScanSource, with_patterns: bool
) -> None:
    result = _attempt(raw, profile, source, PATTERNS if with_patterns else ())
    if result is not None:
        assert result.raw == raw
        assert result.code and "\x1d" not in result.code
        assert result.code == result.code.strip()
        assert all(candidate.code for candidate in result.candidates)


@FAST
@given(raw_scans, profiles, sources)
def test_normalising_the_code_again_changes_nothing(
    raw: str, profile: ScannerProfile | None, source: ScanSource
) -> None:
    first = _attempt(raw, profile, source, PATTERNS)
    if first is None:
        return
    # A scanner's profile describes how it types; the code it produced is already clean,
    # so only the AIM setting (whether `]C0` at the start is data) still applies.
    again = None if profile is None else ScannerProfile(aim=profile.aim)
    second = normalise_scan(first.code, again, source=source, patterns=PATTERNS)
    assert second.code == first.code
