"""Reading Snipe-IT, NetBox, FieldOps and components CSV files into typed rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldops.domain.catalogue import (
    AssetRow,
    CatalogueError,
    CatalogueFormat,
    ComponentRow,
    RowError,
    RowValueError,
    detect_format,
    parse_catalogue,
    parse_location,
    parse_rack_note,
    sniff_delimiter,
)

SNIPE_HEADER = (
    "Company,Item Name,Asset Tag,Serial Number,Model Name,Model No.,Manufacturer,Category,"
    "Status,Location,Purchase Date,Warranty Months,Notes\n"
)
NETBOX_HEADER = (
    "name,role,manufacturer,device_type,status,site,location,rack,position,face,serial,"
    "asset_tag,description\n"
)


def test_demo_snipeit_file_reads_whole(demo_dir: Path) -> None:
    result = parse_catalogue((demo_dir / "catalogue-snipeit.csv").read_bytes())
    assert result.format is CatalogueFormat.SNIPEIT
    assert result.errors == []
    assert len(result.assets) == 2000
    first = result.assets[0]
    assert first == AssetRow(
        line=2,
        asset_tag="IT-000001",
        serial="AS6915283040",
        name="Smart-UPS SRT 3000 IT-000001",
        manufacturer="APC",
        model="Smart-UPS SRT 3000",
        model_number="SRT3000RMXLI",
        category="UPS",
        status="Pending",
        site_code="HQ-DC1",
        room="Server Room B3",
        rack="R02",
        rack_u=34,
        rack_face="front",
        notes="U34 front",
    )
    second = result.assets[1]
    assert (second.room, second.rack, second.rack_u, second.rack_face) == (
        "Server Room B2",
        None,
        None,
        None,
    )


def test_demo_netbox_file_keeps_leading_zeros(demo_dir: Path) -> None:
    result = parse_catalogue((demo_dir / "catalogue-netbox.csv").read_text("utf-8"))
    assert result.format is CatalogueFormat.NETBOX
    assert result.errors == []
    assert len(result.assets) == 400
    first = result.assets[0]
    assert first.asset_tag == "003271"
    assert (first.site_code, first.room, first.rack, first.rack_u, first.rack_face) == (
        "BR-MUC",
        "Serverraum UG",
        "R02",
        37,
        "front",
    )
    assert (first.model, first.category, first.status) == ("PowerEdge R750", "Server", "planned")
    no_rack = result.assets[1]
    assert (no_rack.rack, no_rack.rack_u, no_rack.rack_face) == (None, None, None)


def test_demo_components_file(demo_dir: Path) -> None:
    result = parse_catalogue((demo_dir / "components.csv").read_bytes())
    assert result.format is CatalogueFormat.COMPONENTS
    assert result.errors == []
    assert len(result.components) == 9576
    assert result.assets == []
    assert result.components[0] == ComponentRow(
        line=2,
        asset_tag="IT-000001",
        kind="battery",
        slot="Battery module 1",
        model="Eaton 9PXEBM",
        serial="3E68754E73TK",
    )


def test_bom_and_semicolons_are_read() -> None:
    text = SNIPE_HEADER.replace(",", ";") + (
        "Corp;Box;IT-1;S1;M;MN;Dell;Server;Deployed;HQ-DC1 / Room 1 / R01;;;U3 rear\n"
    )
    result = parse_catalogue(("\ufeff" + text).encode("utf-8"))
    assert result.errors == []
    assert [(a.asset_tag, a.rack_u, a.rack_face) for a in result.assets] == [("IT-1", 3, "rear")]


def test_lines_without_line_ends_are_accepted() -> None:
    lines = ["asset_tag,kind,slot,model,serial", "A1,PSU,PSU1,X,0001"]
    result = parse_catalogue(lines)
    assert result.components[0].kind == "psu"
    assert result.components[0].serial == "0001"


def test_row_errors_carry_line_numbers_and_do_not_stop_the_rest() -> None:
    text = (
        NETBOX_HEADER
        + "a,Server,Dell,R650,active,HQ-DC1,Room,R01,12,front,S1,T1,\n"
        + ",Server,Dell,R650,active,HQ-DC1,Room,R01,12,front,S2,,\n"
        + "c,Server,Dell,R650,active,HQ-DC1,Room,R01,U12,front,S3,T3,\n"
        + "d,Server,Dell,R650,active,HQ-DC1,Room,R01,12,side,S4,T4,\n"
        + "\n"
        + "e,Server,Dell,R650,active,,Room,R01,12,front,S5,T5,\n"
        + "f,Server,Dell,R650,active,HQ-DC1,Room,R01,12.0,rear,S6,t1,\n"
        + "g,Server,Dell,R650,active,HQ-DC1,Room,R01,0,rear,S7,T7,\n"
        + "h,Server,Dell,R650,active,HQ-DC1,Room,R01,2,rear,S8,T8,,extra\n"
        + '"multi\nline",Server,Dell,R650,active,HQ-DC1,Room,R01,2,rear,S9,T9,\n'
        + "j,Server,Dell,R650,active,HQ DC1,Room,R01,2,rear,S10,T10,\n"
    )
    result = parse_catalogue(text)
    assert [a.asset_tag for a in result.assets] == ["T1", "T9"]
    assert result.assets[1].line == 11
    lines = [(e.line, e.reason) for e in result.errors]
    assert [line for line, _ in lines] == [3, 4, 5, 7, 8, 9, 10, 13]
    reasons = dict(lines)
    assert reasons[3] == "no asset tag"
    assert "not a whole rack unit" in reasons[4]
    assert "neither front nor rear" in reasons[5]
    assert reasons[7] == "no site"
    assert reasons[8] == "asset tag 't1' already appears on line 2"
    assert "outside 1 to 100" in reasons[9]
    assert "header names 13 columns" in reasons[10]
    assert "is not a site code" in reasons[13]
    assert result.rows_read == 10


def test_netbox_decimal_position_is_a_whole_unit() -> None:
    text = NETBOX_HEADER + "a,Server,Dell,R650,active,HQ-DC1,Room,R01,12.0,Rear,S1,T1,\n"
    row = parse_catalogue(text).assets[0]
    assert (row.rack_u, row.rack_face) == (12, "rear")


def test_fieldops_own_format() -> None:
    text = (
        "asset_tag,serial,name,manufacturer,model,model_number,category,status,site_code,room,"
        "rack,rack_u,rack_face,notes\n"
        "0042,00SN,Core switch,Cisco,C9300,C9300-48P,Switch,Deployed,HQ-DC1,B2,R05,40,rear,\n"
    )
    result = parse_catalogue(text)
    assert result.format is CatalogueFormat.FIELDOPS
    row = result.assets[0]
    assert (row.asset_tag, row.serial, row.rack, row.rack_u) == ("0042", "00SN", "R05", 40)


def test_explicit_format_overrides_detection() -> None:
    text = "asset_tag,kind,slot,model,serial\nA1,fan,F1,X,1\n"
    result = parse_catalogue(text, fmt=CatalogueFormat.COMPONENTS)
    assert len(result.components) == 1


def test_duplicate_component_slot_is_refused() -> None:
    text = "asset_tag,kind,slot,model,serial\nA1,fan,F1,X,1\na1,FAN,f1,Y,2\nA1,fan,F2,X,3\n"
    result = parse_catalogue(text)
    assert [c.slot for c in result.components] == ["F1", "F2"]
    assert result.errors == [
        RowError(3, "fan in slot 'f1' of asset 'a1' already appears on line 2")
    ]


def test_component_kind_must_be_a_word() -> None:
    result = parse_catalogue("asset_tag,kind,slot,model,serial\nA1,<b>,F1,X,1\n")
    assert "not a part kind" in result.errors[0].reason


@pytest.mark.parametrize(
    ("header", "fmt"),
    [
        (SNIPE_HEADER.strip().split(","), CatalogueFormat.SNIPEIT),
        (NETBOX_HEADER.strip().split(","), CatalogueFormat.NETBOX),
        (["asset_tag", "kind", "slot", "model", "serial"], CatalogueFormat.COMPONENTS),
        (["Asset Tag", "Asset Name", "Serial", "Location"], CatalogueFormat.SNIPEIT),
        (["\ufeffasset_tag", "site_code", "serial"], CatalogueFormat.FIELDOPS),
    ],
)
def test_detect_format(header: list[str], fmt: CatalogueFormat) -> None:
    assert detect_format(header) is fmt


@pytest.mark.parametrize(
    "source",
    ["", "\n\n", "id,hostname,ip\n1,a,10.0.0.1\n", b"Asset Tag,Location\n\xff\xfe,x\n"],
)
def test_unreadable_files_raise_one_plain_error(source: str | bytes) -> None:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(source)
    assert "\n" not in caught.value.message
    assert caught.value.message.endswith(".")


def test_non_utf8_names_the_line() -> None:
    with pytest.raises(CatalogueError, match="line 2"):
        parse_catalogue(b"Asset Tag,Location\n\xe9,x\n")


def test_broken_quote_is_a_row_error() -> None:
    text = 'asset_tag,kind,slot,model,serial\nA1,fan,"F1"x,X,1\nA2,fan,F1,X,1\n'
    result = parse_catalogue(text)
    assert [c.asset_tag for c in result.components] == ["A2"]
    assert result.errors[0].line == 2
    assert "not valid CSV" in result.errors[0].reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HQ-DC1", ("HQ-DC1", None, None)),
        ("HQ-DC1 / Server Room B3", ("HQ-DC1", "Server Room B3", None)),
        (" HQ-DC1/Server Room B3/ R02 ", ("HQ-DC1", "Server Room B3", "R02")),
    ],
)
def test_parse_location(text: str, expected: tuple[str, str | None, str | None]) -> None:
    assert parse_location(text) == expected


@pytest.mark.parametrize("text", ["", "  ", "/ Room", "A / B / C / D", "A // C"])
def test_parse_location_refuses(text: str) -> None:
    with pytest.raises(RowValueError):
        parse_location(text)


@pytest.mark.parametrize(
    ("notes", "expected"),
    [
        ("U34 front", (34, "front")),
        ("u2 REAR", (2, "rear")),
        ("moved to U 7", (7, None)),
        ("Dell U2719D monitor", (None, None)),
        ("", (None, None)),
    ],
)
def test_parse_rack_note(notes: str, expected: tuple[int | None, str | None]) -> None:
    assert parse_rack_note(notes) == expected


def test_sniff_delimiter_ignores_quoted_commas() -> None:
    assert sniff_delimiter('"a,b,c";d;e\n') == ";"
    assert sniff_delimiter("a\tb\tc\n") == "\t"
    assert sniff_delimiter("single\n") == ","
