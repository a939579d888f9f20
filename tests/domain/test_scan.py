"""The scan normaliser on the field cases: prefixes, GS1, AIM, bursts, input methods, suffixes."""

from __future__ import annotations

import pytest

from fieldops.domain.errors import FieldOpsError, ValidationError
from fieldops.domain.scan import (
    Candidate,
    CandidateKind,
    CodePattern,
    ScanKind,
    ScanSource,
    normalise_scan,
)
from fieldops.domain.scan_errors import (
    LayoutMismatchError,
    MisreadError,
    MisreadReason,
    ScanError,
)
from fieldops.domain.scanner_profile import LeadingZeroMode, LeadingZeroRule, ScannerProfile

GS = "\x1d"
GTIN = "09501101530003"
TAG_PATTERN = CodePattern("asset tag", "IT-", r"IT-\d{6}")


def misread(raw: str, profile: ScannerProfile | None = None, **kw: object) -> MisreadError:
    with pytest.raises(MisreadError) as caught:
        normalise_scan(raw, profile, **kw)  # type: ignore[arg-type]
    return caught.value


# C01: a scanner prefix left in the focused field.


def test_c01_configured_prefix_and_suffix_are_stripped_for_burst_and_paste() -> None:
    profile = ScannerProfile(prefix="*", suffix="\r")
    burst = normalise_scan("*000122521\r", profile)
    pasted = normalise_scan("*000122521", profile)
    assert burst.code == pasted.code == "000122521"
    assert burst.raw == "*000122521\r"  # kept for the debug log
    assert "prefix removed" in burst.corrections


def test_c01_without_a_profile_the_star_is_data_and_nothing_is_guessed() -> None:
    result = normalise_scan("*000122521")
    assert result.code == "*000122521"
    assert result.candidates == (Candidate("*000122521"),)  # one exact code, no fuzzy variants


def test_c01_prefix_that_did_not_arrive_is_not_required() -> None:
    assert normalise_scan("000122521", ScannerProfile(prefix="*")).code == "000122521"


# C03: GS1 separators dropped, delivered, or replaced.


def test_c03a_gs_delivered() -> None:
    result = normalise_scan(f"01{GTIN}21SN88213{GS}10LOT7A\r")
    assert result.kind is ScanKind.GS1
    assert result.gs1 == {"01": GTIN, "21": "SN88213", "10": "LOT7A"}
    assert result.code == "SN88213"
    assert result.candidates[0] == Candidate("SN88213", CandidateKind.GS1_SERIAL)


def test_c03b_configured_gs_substitute() -> None:
    result = normalise_scan(f"01{GTIN}21SN88213~10LOT7A\r", ScannerProfile(gs_substitute="~"))
    assert result.gs1 == {"01": GTIN, "21": "SN88213", "10": "LOT7A"}


def test_c03b_tilde_without_profile_is_read_as_separator_with_a_warning() -> None:
    result = normalise_scan(f"01{GTIN}21SN88213~10LOT7A")
    assert result.gs1["21"] == "SN88213"
    assert any("~" in warning for warning in result.warnings)


def test_c03b_substitute_in_an_ordinary_code_stays_data() -> None:
    assert normalise_scan("RACK~12", ScannerProfile(gs_substitute="|")).code == "RACK~12"
    assert normalise_scan("RACK|12", ScannerProfile(gs_substitute="|")).code == "RACK|12"


def test_c03c_stripped_gs_is_flagged_never_stored_as_serial() -> None:
    error = misread(f"01{GTIN}21SN8821310LOT7A\r")
    assert error.reason is MisreadReason.GS1_SEPARATOR_MISSING
    assert "GS1 separator missing, serial/lot boundary ambiguous" in error.message
    assert "SN8821310LOT7A" not in error.message


def test_c03c_scanner_known_to_send_gs_is_trusted() -> None:
    profile = ScannerProfile(gs_transmitted=True)
    assert normalise_scan(f"]C101{GTIN}21SN8821310", profile).code == "SN8821310"


def test_c03_gs_in_text_that_is_not_gs1_is_a_misread() -> None:
    assert misread(f"IT-004217{GS}X").reason is MisreadReason.GS1_MALFORMED


# C04: AIM symbology identifiers.


@pytest.mark.parametrize(
    ("raw", "identifier", "kind", "code"),
    [
        (f"]d201{GTIN}21SN88213\r", "]d2", ScanKind.GS1, "SN88213"),
        (f"]C101{GTIN}\r", "]C1", ScanKind.GS1, GTIN),
        (f"]Q301{GTIN}\r", "]Q3", ScanKind.GS1, GTIN),
        ("]Q1IT-004217\r", "]Q1", ScanKind.PLAIN, "IT-004217"),
        ("]C0IT-004217\r", "]C0", ScanKind.PLAIN, "IT-004217"),
        ("]A0IT-004217\r", "]A0", ScanKind.PLAIN, "IT-004217"),
        ("]E04006381333931\r", "]E0", ScanKind.GTIN, "4006381333931"),
    ],
)
def test_c04_known_identifiers_are_stripped_and_recorded(
    raw: str, identifier: str, kind: ScanKind, code: str
) -> None:
    result = normalise_scan(raw)
    assert result.symbology is not None and result.symbology.identifier == identifier
    assert (result.kind, result.code) == (kind, code)


def test_c04_gs1_identifiers_name_the_gs1_symbology() -> None:
    symbology = normalise_scan(f"]d201{GTIN}").symbology
    assert symbology is not None and symbology.gs1 and symbology.name == "GS1 DataMatrix"


def test_c04_ean_with_identifier_is_checksum_validated() -> None:
    error = misread("]E04006381333932")
    assert error.reason is MisreadReason.CHECK_DIGIT
    assert "misread" in error.message and "Scan it again" in error.message


def test_c04_setting_off_keeps_the_raw_value() -> None:
    result = normalise_scan("]C0IT-004217\r", ScannerProfile(aim=False))
    assert result.code == "]C0IT-004217" and result.symbology is None


@pytest.mark.parametrize("raw", ["]x9IT-004217", "]C9IT-004217", "]Z0IT-004217"])
def test_c04_unknown_identifier_is_never_half_stripped(raw: str) -> None:
    result = normalise_scan(raw)
    assert result.code == raw and result.symbology is None


def test_c04_identifier_alone_is_an_incomplete_scan() -> None:
    assert misread("]C0\r").reason is MisreadReason.INCOMPLETE


# EAN/UPC check digits: only when the symbology says so.


def test_long_digit_run_without_symbology_is_looked_up_as_it_is() -> None:
    result = normalise_scan("4006381333932")  # wrong EAN check digit, but no symbology
    assert (result.kind, result.code) == (ScanKind.PLAIN, "4006381333932")
    assert normalise_scan(f"01{GTIN}").code == f"01{GTIN}"


@pytest.mark.parametrize(
    ("raw", "code", "gtin"),
    [
        ("]E04006381333931", "4006381333931", "04006381333931"),
        ("]E0036000291452", "036000291452", "00036000291452"),  # UPC-A as 12 digits
        ("]E00036000291452", "0036000291452", "00036000291452"),  # UPC-A as EAN-13
        ("]E496385074", "96385074", "00000096385074"),  # EAN-8
        ("]E004252614", "04252614", "00042100005264"),  # UPC-E, checked on its UPC-A
        ("]I109501101530003", GTIN, GTIN),  # ITF-14
    ],
)
def test_gtin_symbologies(raw: str, code: str, gtin: str) -> None:
    result = normalise_scan(raw)
    assert result.kind is ScanKind.GTIN
    assert result.code == code and result.gs1 == {"01": gtin}


def test_truncated_ean_is_a_misread() -> None:
    assert misread("]E040063813339").reason is MisreadReason.INCOMPLETE
    assert misread("]E0400638133393").reason is MisreadReason.CHECK_DIGIT  # 12: read as UPC-A


# Leading zeros are data; a profile rule may say otherwise, and says so.


def test_leading_zeros_are_kept() -> None:
    assert normalise_scan("012345").code == "012345"
    assert normalise_scan("]Q1013231").code == "013231"


def test_leading_zero_rules_are_named_in_the_result() -> None:
    pad = ScannerProfile(leading_zeros=LeadingZeroRule(LeadingZeroMode.PAD, 9))
    result = normalise_scan("122521\r", pad)
    assert result.code == "000122521"
    assert result.codes == ("000122521", "122521")
    assert result.rule == "scanner drops leading zeros: padded to 9 digits"
    strip = ScannerProfile(leading_zeros=LeadingZeroRule(LeadingZeroMode.STRIP, 6))
    assert normalise_scan("0013231", strip).code == "013231"
    assert normalise_scan("1013231", strip).rule is None  # the rule does not apply
    assert normalise_scan("012345").rule is None


# C06: long codes arrive whole, or are refused as incomplete.


def test_c06_long_url_qr_is_understood() -> None:
    url = "https://assets.example.invalid/a/IT-004217?sn=5CG1234OLD&site=HQ-03&ts=20250203T101500Z"
    result = normalise_scan(url + "\r")
    assert result.kind is ScanKind.URL
    assert result.candidates == (
        Candidate("IT-004217", CandidateKind.ASSET_TAG),
        Candidate("5CG1234OLD", CandidateKind.SERIAL),
    )


@pytest.mark.parametrize(
    "raw",
    [
        "IT-00421",  # a character dropped from a tag the site's format knows
        "https://assets.example.invalid/a/IT-004217?sn=5CG1234OLD&ts=2025%2",
        '{"tag": "IT-0042',
        f"]C101{GTIN[:9]}",
        "]E0400638133",
    ],
)
def test_c06_incomplete_bursts_are_rejected(raw: str) -> None:
    error = misread(raw, patterns=[TAG_PATTERN])
    assert error.reason is MisreadReason.INCOMPLETE


def test_c06_incomplete_message_asks_for_a_rescan() -> None:
    serial = CodePattern("serial", "1234", r"1234[A-Z]{5}\d{8}")
    assert normalise_scan("1234ABCDE12345678\r", patterns=[serial]).code == "1234ABCDE12345678"
    error = misread("1234ABCDE1234\r", patterns=[serial])
    assert "incomplete scan, please rescan" in error.message.lower()


def test_code_pattern_must_compile() -> None:
    with pytest.raises(ValidationError):
        CodePattern("tag", "IT-", "IT-(")


# C08: an input method between scanner and field.


def test_c08_kana_from_an_input_method_is_refused() -> None:
    error = misread("いt-004217\r")
    assert error.reason is MisreadReason.INPUT_METHOD
    assert "input method active, switch to direct input" in error.message.lower()
    for composed in ("ＩＴ－００４２１７あ", "아이티-004217", "IT-00四217"):
        assert misread(composed).reason is MisreadReason.INPUT_METHOD


def test_c08_latin_scans_arrive_as_ascii_with_their_case() -> None:
    assert normalise_scan("it-004217\r").code == "it-004217"
    assert normalise_scan("IT-004217\r").code == "IT-004217"
    folded = normalise_scan("ｉｔ－００４２１７")
    assert folded.code == "it-004217" and folded.warnings


def test_c08_decoded_images_may_hold_any_script() -> None:
    result = normalise_scan("]Q1倉庫-12", source=ScanSource.IMAGE)
    assert result.code == "倉庫-12"


# C09: suffixes end a scan and never add an empty one.


@pytest.mark.parametrize("suffix", ["\r", "\t", "\r\n", ""])
def test_c09_every_suffix_mode_gives_the_same_code(suffix: str) -> None:
    for serial in ("5CG1234OLD", "5CG5678NEW"):
        assert normalise_scan(serial + suffix).code == serial
        assert normalise_scan(serial + suffix, ScannerProfile(suffix=suffix)).code == serial


@pytest.mark.parametrize("raw", ["\n", "\r\n", "\t", "   ", "\x00\x1b"])
def test_c09_a_bare_terminator_is_empty_not_a_lookup(raw: str) -> None:
    assert misread(raw).reason is MisreadReason.EMPTY


# Control characters, Code 39, payloads.


def test_controls_removed_except_gs() -> None:
    result = normalise_scan(f"\x02 01{GTIN}21SN1{GS}10L\x00OT \x03\r\n")
    assert result.gs1 == {"01": GTIN, "21": "SN1", "10": "LOT"}
    assert normalise_scan("\u200bIT-004217\ufeff").code == "IT-004217"


def test_code39_asterisks_removed_only_in_pairs() -> None:
    assert normalise_scan("*IT-004217*").code == "IT-004217"
    assert normalise_scan("]A0*IT-004217*").code == "IT-004217"
    assert normalise_scan("*IT-004217").code == "*IT-004217"
    # Asterisks copied into a Code 128 label follow the same habit; never part of a tag.
    assert normalise_scan("]C0*IT-004217*").code == "IT-004217"
    assert normalise_scan("**").code == "**"


def test_snipe_it_and_netbox_links() -> None:
    by_tag = normalise_scan("https://snipe.example.invalid/hardware/bytag/IT-004217")
    assert by_tag.candidates == (Candidate("IT-004217", CandidateKind.ASSET_TAG),)
    by_id = normalise_scan("https://snipe.example.invalid/hardware/1234")
    assert by_id.candidates == (Candidate("1234", CandidateKind.SYSTEM_ID),)
    assert by_id.fields["system"] == "snipeit"
    netbox = normalise_scan("https://netbox.example.invalid/dcim/devices/77/")
    assert netbox.candidates == (Candidate("77", CandidateKind.SYSTEM_ID),)


def test_unknown_link_is_looked_up_as_it_is() -> None:
    result = normalise_scan("https://wiki.example.invalid/page")
    assert result.kind is ScanKind.URL and result.code == "https://wiki.example.invalid/page"
    assert result.warnings


def test_digital_link_qr() -> None:
    result = normalise_scan(f"]Q1https://id.gs1.org/01/{GTIN}/21/SN88213?10=LOT7A")
    assert result.kind is ScanKind.GS1 and result.code == "SN88213"
    assert result.gs1 == {"01": GTIN, "21": "SN88213", "10": "LOT7A"}
    assert misread("https://id.gs1.org/01/09501101530004").reason is MisreadReason.CHECK_DIGIT


def test_json_payload_with_tag() -> None:
    result = normalise_scan('{"v": 1, "asset_tag": "IT-004217", "sn": "5CG1234OLD"}')
    assert result.kind is ScanKind.JSON
    assert result.codes == ("IT-004217", "5CG1234OLD")
    empty = normalise_scan('{"site": "HQ-03"}')
    assert empty.candidates == () and empty.warnings


def test_gs1_asset_identifier_comes_first() -> None:
    result = normalise_scan(f"]C101{GTIN}21SN1{GS}80040614141IT-004217")
    assert result.candidates[0] == Candidate("0614141IT-004217", CandidateKind.GS1_ASSET_ID)
    assert result.candidates[1] == Candidate("SN1", CandidateKind.GS1_SERIAL)


def test_bracketed_gs1_as_printed_under_a_symbol() -> None:
    result = normalise_scan(f"(01){GTIN}(21)10PSU88231")
    assert result.kind is ScanKind.GS1 and result.code == "10PSU88231"


def test_iso15434_data_identifiers() -> None:
    raw = f"[)>\x1e06{GS}PABC-123{GS}S5CG1234OLD\x1e\x04"
    result = normalise_scan(raw)
    assert result.kind is ScanKind.DATA_IDENTIFIERS
    assert result.candidates == (Candidate("5CG1234OLD", CandidateKind.SERIAL),)
    gs1 = normalise_scan(f"[)>\x1e05{GS}01{GTIN}21SN1\x1e\x04")
    assert gs1.kind is ScanKind.GS1 and gs1.code == "SN1"
    assert misread(f"[)>\x1e12{GS}X\x1e\x04").reason is MisreadReason.UNSUPPORTED


def test_a_payload_value_that_reads_as_another_code_is_refused() -> None:
    assert misread('{"tag": "*X*"}').reason is MisreadReason.AMBIGUOUS


# Layout mismatch without a profile.


@pytest.mark.parametrize(
    ("typed", "layout", "meant"),
    [
        ("ITß004217", "de", "IT-004217"),
        ("IT)àà'é&è", "fr", "IT-004217"),
        ("IT'004217", "it", "IT-004217"),
        ("{@tag@:@IT-004217@}", "uk", '{"tag":"IT-004217"}'),
        (
            "httpsÖ--assets.example.invalid-a-IT-004217",
            "de",
            "https://assets.example.invalid/a/IT/004217",
        ),
    ],
)
def test_layout_mismatch_says_what_happened(typed: str, layout: str, meant: str) -> None:
    with pytest.raises(LayoutMismatchError) as caught:
        normalise_scan(typed + "\r")
    error = caught.value
    assert error.layouts[0] == layout and error.probable_text == meant
    assert "US keyboard" in error.message and "test label" in error.message
    assert isinstance(error, MisreadError) and isinstance(error, FieldOpsError)


def test_plain_codes_with_ordinary_characters_are_not_suspected() -> None:
    for code in ("IT-004217", "5CG1234OLD", "R&D-01", "Küche-01", "tech01@example.invalid"):
        assert normalise_scan(code).code == code


def test_with_a_profile_the_profile_decides() -> None:
    from fieldops.domain.keyboard_layouts import Layout

    assert normalise_scan("ITß004217", ScannerProfile(layout=Layout.DE)).code == "IT-004217"
    assert normalise_scan("O'NEIL-01", ScannerProfile()).code == "O'NEIL-01"


def test_every_error_is_a_scan_error_with_raw_kept() -> None:
    for raw in ("]E04006381333932", "いt", "ITß004217", "\r"):
        with pytest.raises(ScanError) as caught:
            normalise_scan(raw)
        assert caught.value.raw == raw


def test_scan_modules_import_only_the_domain() -> None:
    import ast
    from pathlib import Path

    import fieldops.domain.scan as scan_module

    folder = Path(scan_module.__file__).parent
    names = ["scan", "scan_errors", "scan_payloads", "scan_text", "scanner_profile"]
    names += ["gs1", "checkdigits", "keyboard_layouts", "symbology"]
    for name in names:
        tree = ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
            elif isinstance(node, ast.Import):
                module = node.names[0].name
            else:
                continue
            if module.startswith("fieldops"):
                assert module.startswith("fieldops.domain."), (name, module)
            else:
                assert module.split(".")[0] in {
                    "__future__", "collections", "dataclasses", "difflib", "enum", "json",
                    "re", "typing", "unicodedata", "urllib",
                }, (name, module)  # fmt: skip
