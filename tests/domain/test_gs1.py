"""GS1 element strings: the three spellings, the AI table, and separators that went missing."""

from __future__ import annotations

import pytest

from fieldops.domain.gs1 import (
    GS,
    GS1Error,
    ambiguous_boundary,
    looks_bracketed,
    parse_bracketed,
    parse_digital_link,
    parse_separated,
)
from fieldops.domain.scan_errors import MisreadError, MisreadReason

GTIN = "09501101530003"


def test_separated_with_every_required_ai() -> None:
    data = parse_separated(
        "00106141411234567897"
        f"01{GTIN}"
        "11250131"
        "17261231"
        f"10LOT7A{GS}"
        f"21SN88213{GS}"
        f"240PART-9{GS}"
        f"250SEC-1{GS}"
        "80040614141ABC123"
    )
    assert data.fields == {
        "00": "106141411234567897",
        "01": GTIN,
        "11": "250131",
        "17": "261231",
        "10": "LOT7A",
        "21": "SN88213",
        "240": "PART-9",
        "250": "SEC-1",
        "8004": "0614141ABC123",
    }
    assert data.gtin == GTIN and data.serial == "SN88213"


def test_leading_and_redundant_separators_are_tolerated() -> None:
    data = parse_separated(f"{GS}01{GTIN}{GS}21SN1{GS}")
    assert data.fields == {"01": GTIN, "21": "SN1"}


def test_bracketed_spelling_round_trips() -> None:
    data = parse_bracketed(f"(01){GTIN}(21)10PSU88231")
    assert data.fields == {"01": GTIN, "21": "10PSU88231"}
    assert data.bracketed() == f"(01){GTIN}(21)10PSU88231"
    assert looks_bracketed("(01)x") and not looks_bracketed("(05)x") and not looks_bracketed("IT")


def test_wrong_gtin_check_digit_is_a_misread() -> None:
    with pytest.raises(GS1Error) as caught:
        parse_separated("0109501101530004")
    assert caught.value.reason is MisreadReason.CHECK_DIGIT
    assert isinstance(caught.value, MisreadError)
    assert "misread" in caught.value.message


def test_cut_short_fixed_field_is_incomplete() -> None:
    with pytest.raises(GS1Error) as caught:
        parse_separated("01095011015")
    assert caught.value.reason is MisreadReason.INCOMPLETE


@pytest.mark.parametrize(
    "text",
    [
        f"01{GTIN}17251301",  # month 13
        f"01{GTIN}21SN~1",  # ~ is outside the GS1 character set
        f"01{GTIN}99",  # empty value
        f"01{GTIN}21SN1{GS}21SN2",  # the same AI twice, different values
        "05123",  # no such AI
        f"01{GTIN}21" + "S" * 21,  # serial longer than 20
    ],
)
def test_malformed_strings_are_refused(text: str) -> None:
    with pytest.raises(GS1Error):
        parse_separated(text)


def test_lost_separator_is_found_ambiguous() -> None:
    data = parse_separated(f"01{GTIN}21SN8821310LOT7A")
    assert data.serial == "SN8821310LOT7A"
    assert ambiguous_boundary(data) == "21"


def test_serial_that_cannot_hide_a_field_is_not_ambiguous() -> None:
    assert ambiguous_boundary(parse_separated(f"01{GTIN}21SN88213")) is None
    assert ambiguous_boundary(parse_separated(f"01{GTIN}215CG1234OLD")) is None


def test_digital_link_path_and_query() -> None:
    data = parse_digital_link(f"https://id.gs1.org/01/{GTIN}/21/SN88213?10=LOT7A&linkType=all")
    assert data is not None
    assert data.fields == {"01": GTIN, "21": "SN88213", "10": "LOT7A"}
    assert data.spelling == "digital-link"


def test_digital_link_on_any_host_with_path_prefix_aliases_and_short_gtin() -> None:
    data = parse_digital_link("https://labels.example.invalid/dl/gtin/4006381333931/ser/A%2FB")
    assert data is not None
    assert data.fields == {"01": "04006381333931", "21": "A/B"}
    giai = parse_digital_link("https://example.invalid/8004/0614141IT-004217")
    assert giai is not None and giai.fields == {"8004": "0614141IT-004217"}


def test_digital_link_with_wrong_check_digit_is_a_misread() -> None:
    with pytest.raises(GS1Error) as caught:
        parse_digital_link("https://id.gs1.org/01/09501101530004")
    assert caught.value.reason is MisreadReason.CHECK_DIGIT


@pytest.mark.parametrize(
    "url",
    [
        "https://intranet.example.invalid/2024/01/report",
        "https://assets.example.invalid/a/IT-004217",
        "ftp://id.gs1.org/01/09501101530003",
        "https://[broken/01/09501101530003",
    ],
)
def test_other_urls_are_not_digital_links(url: str) -> None:
    assert parse_digital_link(url) is None
