"""GS1 check digits: known keys, every single-digit error caught, UPC-E expansion."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldops.domain.checkdigits import (
    expand_upce,
    gs1_check_digit,
    gtin14,
    has_valid_gs1_check_digit,
    is_valid_gtin,
)


@pytest.mark.parametrize(
    "key",
    [
        "4006381333931",  # EAN-13
        "96385074",  # EAN-8
        "036000291452",  # UPC-A
        "09501101530003",  # GTIN-14
        "106141411234567897",  # SSCC
    ],
)
def test_known_keys_are_valid(key: str) -> None:
    assert has_valid_gs1_check_digit(key)


@pytest.mark.parametrize("key", ["4006381333932", "96385075", "036000291453", "09501101530004"])
def test_wrong_check_digit_is_invalid(key: str) -> None:
    assert not has_valid_gs1_check_digit(key)


def test_gtin_lengths_and_widening() -> None:
    assert is_valid_gtin("4006381333931")
    assert not is_valid_gtin("106141411234567897")  # an SSCC is not a GTIN
    assert gtin14("4006381333931") == "04006381333931"
    assert gtin14("96385074") == "00000096385074"
    with pytest.raises(ValueError):
        gtin14("12345")


def test_non_digits_are_never_valid() -> None:
    assert not has_valid_gs1_check_digit("40063813339A1")
    assert not has_valid_gs1_check_digit("٤٠٠٦٣٨١٣٣٣٩٣١")  # Arabic-Indic digits
    assert not has_valid_gs1_check_digit("")
    with pytest.raises(ValueError):
        gs1_check_digit("12a")


def test_upce_expands_to_its_upca() -> None:
    assert expand_upce("01234565") == "012345000065"
    assert expand_upce("04252614") == "042100005264"
    assert has_valid_gs1_check_digit(expand_upce("04252614"))


@settings(max_examples=200)
@given(st.text(alphabet="0123456789", min_size=1, max_size=17), st.data())
def test_every_single_digit_substitution_is_caught(body: str, data: st.DataObject) -> None:
    key = body + str(gs1_check_digit(body))
    assert has_valid_gs1_check_digit(key)
    position = data.draw(st.integers(0, len(key) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != key[position]]))
    assert not has_valid_gs1_check_digit(key[:position] + wrong + key[position + 1 :])
