"""Scanner profiles: keyboard layouts, Caps Lock, and detection from the test label."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldops.domain.errors import ValidationError
from fieldops.domain.keyboard_layouts import Layout, dead_key_chars, type_through, untype
from fieldops.domain.scan import normalise_scan
from fieldops.domain.scan_errors import MisreadError, MisreadReason
from fieldops.domain.scanner_profile import (
    TEST_LABEL_GS1,
    TEST_LABEL_TEXT,
    LeadingZeroMode,
    LeadingZeroRule,
    ScannerProfile,
    detect_profile,
)

GS = "\x1d"
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))


def test_known_manglings() -> None:
    assert type_through('"', Layout.UK) == "@"
    assert type_through("IT-004217", Layout.DE) == "ITß004217"
    assert type_through("yz", Layout.DE) == "zy"
    assert type_through("IT-004217", Layout.FR) == "IT)àà'é&è"
    assert type_through("IT-004217", Layout.IT) == "IT'004217"
    assert type_through("IT-004217", Layout.US, caps_lock=True) == "it-004217"
    assert type_through("=e", Layout.DE) == "é"  # dead acute combines
    assert type_through("= x", Layout.DE) == "´x"  # before a space it stands alone


@pytest.mark.parametrize(("layout", "caps"), list(itertools.product(Layout, (False, True))))
def test_untype_undoes_type_through_for_all_printable_ascii(layout: Layout, caps: bool) -> None:
    typed = type_through(TEST_LABEL_TEXT, layout, caps_lock=caps)
    lost = "~" if layout is Layout.FR else ""  # French has no key for ~ at all
    expected = TEST_LABEL_TEXT.replace(lost, "") if lost else TEST_LABEL_TEXT
    # A dead key before a space swallows the space; nothing can bring it back.
    for char in dead_key_chars(layout):
        expected = expected.replace(char + " ", char)
    assert untype(typed, layout, caps_lock=caps) == expected


@settings(max_examples=150)
@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./:#@\"'"),
    st.sampled_from(list(Layout)),
    st.booleans(),
)
def test_untype_inverts_for_code_characters(text: str, layout: Layout, caps: bool) -> None:
    assert untype(type_through(text, layout, caps_lock=caps), layout, caps_lock=caps) == text


@pytest.mark.parametrize(
    ("layout", "caps", "aim", "prefix", "suffix"),
    [
        (layout, caps, aim, prefix, suffix)
        for layout in Layout
        for caps in (False, True)
        for aim in ("", "]C0")
        for prefix, suffix in (("", "\r"), ("*", "\r\n"), ("\x02", "\t"), ("#", ""))
    ],
)
def test_detect_profile_from_the_test_label(
    layout: Layout, caps: bool, aim: str, prefix: str, suffix: str
) -> None:
    scanned = type_through(prefix + aim + TEST_LABEL_TEXT + suffix, layout, caps_lock=caps)
    profile = detect_profile(scanned, TEST_LABEL_TEXT)
    assert profile.layout is layout
    assert profile.caps_lock_inverted is caps
    assert profile.aim is bool(aim)
    assert profile.prefix == type_through(prefix, layout, caps_lock=caps)
    assert profile.suffix == suffix
    # Later scans come out right through the profile.
    later = type_through(prefix + aim + "it-004217/Yz" + suffix, layout, caps_lock=caps)
    assert normalise_scan(later, profile).code == "it-004217/Yz"


@pytest.mark.parametrize(
    ("sent", "transmitted", "substitute"),
    [(GS, True, None), ("~", True, "~"), ("", False, None), ("|", True, "|")],
)
def test_detect_gs_handling_from_the_gs1_label(
    sent: str, transmitted: bool, substitute: str | None
) -> None:
    label = type_through("]C0" + TEST_LABEL_TEXT + "\r", Layout.UK)
    gs1 = type_through("]C1" + TEST_LABEL_GS1.replace(GS, sent) + "\r", Layout.UK)
    profile = detect_profile(label, scanned_gs1_label=gs1)
    assert profile.gs_transmitted is transmitted and profile.gs_substitute == substitute
    scan = type_through("]C1" + f"0109501101530003 21SN88213{sent}10LOT7A\r", Layout.UK)
    if transmitted:
        assert normalise_scan(scan.replace(" ", ""), profile).gs1["10"] == "LOT7A"
    else:
        with pytest.raises(MisreadError) as caught:
            normalise_scan(scan.replace(" ", ""), profile)
        assert caught.value.reason is MisreadReason.GS1_SEPARATOR_MISSING


def test_incomplete_test_label_scan_says_so() -> None:
    damaged = TEST_LABEL_TEXT[:40] + TEST_LABEL_TEXT[44:] + "\r"
    with pytest.raises(MisreadError) as caught:
        detect_profile(damaged)
    assert caught.value.reason is MisreadReason.INCOMPLETE
    assert "slow down" in caught.value.message


def test_a_different_label_is_not_taken_for_the_test_label() -> None:
    with pytest.raises(MisreadError) as caught:
        detect_profile("IT-004217\r")
    assert caught.value.reason is MisreadReason.UNSUPPORTED


def test_test_label_text_must_not_hold_gs() -> None:
    with pytest.raises(ValueError):
        detect_profile("x", "A" + GS + "B")


def test_damaged_gs1_label_scan_is_refused() -> None:
    with pytest.raises(MisreadError):
        detect_profile(TEST_LABEL_TEXT, scanned_gs1_label="0109501101530003\r")


def test_profile_round_trips_through_settings() -> None:
    profile = ScannerProfile(
        prefix="*",
        suffix="\r",
        aim=True,
        caps_lock_inverted=True,
        layout=Layout.IT,
        gs_substitute="~",
        gs_transmitted=True,
        leading_zeros=LeadingZeroRule(LeadingZeroMode.PAD, 9),
        name="Zebra DS2208",
    )
    assert ScannerProfile.from_dict(profile.to_dict()) == profile
    assert ScannerProfile.from_dict({}) == ScannerProfile()


@pytest.mark.parametrize(
    "data",
    [
        {"layout": "dvorak"},
        {"aim": "yes"},
        {"leading_zeros": {"mode": "pad"}},
        {"gs_substitute": "ab"},
    ],
)
def test_damaged_stored_profile_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ScannerProfile.from_dict(data)


def test_profile_values_are_validated() -> None:
    with pytest.raises(ValidationError):
        ScannerProfile(gs_substitute="A")
    with pytest.raises(ValidationError):
        LeadingZeroRule(LeadingZeroMode.PAD, 0)
