"""Label content, ZPL structure, sheets and start positions, and the command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fieldops.labels.content import (
    AssetLabelData,
    LabelError,
    LabelOptions,
    Symbology,
    build_label,
    digital_link,
)
from fieldops.labels.layouts import layout_named
from fieldops.labels.service import LabelJob, LabelService, make_labels
from fieldops.labels.zpl import escape, label_zpl, render_zpl
from fieldops.services.datadir import DataDir
from fieldops.services.workspace import Workspace
from tests.labels.support import crop, decode_one, open_pdf, page_image
from tests.labels.test_round_trip import RACK, run_cli

HEADER = (
    "Company,Item Name,Asset Tag,Serial Number,Model Name,Model No.,Manufacturer,Category,"
    "Status,Location,Purchase Date,Warranty Months,Notes\n"
)


@pytest.fixture
def room_of_70(tmp_path: Path):
    rows = [
        f"Example Corp,Switch {i},TST-{i:04d},SN{i:06d},EX4300,EX4300-48T,Juniper,Switch,"
        f"Deployed,TST / Room 70 / R{i % 3:02d},2024-01-01,36,U{i % 40 + 1} front\n"
        for i in range(70)
    ]
    (tmp_path / "room.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    workspace = Workspace(DataDir(tmp_path / "data"))
    workspace.catalogue.import_file(tmp_path / "room.csv")
    yield workspace
    workspace.close()


def test_a_room_of_70_on_l7651_is_two_pages_ordered_by_rack_u_tag(
    room_of_70: Workspace, tmp_path: Path, qapp
) -> None:
    service = LabelService(room_of_70.db)
    assets = service.for_location(service.find_location("TST / Room 70"))
    assert len(assets) == 70
    keys = [(a.rack, a.rack_u or 0, a.tag) for a in assets]
    assert keys == sorted(keys)
    options = LabelOptions(Symbology.DATAMATRIX)
    layout = layout_named("L7651")
    report = service.render(
        LabelJob(make_labels(assets, options), options, layout), tmp_path / "r.pdf"
    )
    assert report.pages == 2
    document = open_pdf(tmp_path / "r.pdf")
    assert document.pageCount() == 2
    last = page_image(document, 1)
    assert decode_one(crop(last, layout.slot(4)), "DataMatrix").text == assets[69].tag


def test_start_position_skips_used_labels(demo_workspace: Workspace, tmp_path: Path, qapp) -> None:
    service = LabelService(demo_workspace.db)
    assets = service.for_location(service.find_location(RACK))[:5]
    options = LabelOptions(Symbology.CODE128)
    layout = layout_named("5160")
    job = LabelJob(make_labels(assets, options), options, layout, start=29)
    assert service.render(job, tmp_path / "s.pdf").pages == 2
    document = open_pdf(tmp_path / "s.pdf")
    first = page_image(document, 0)
    assert decode_one(crop(first, layout.slot(28)), "Code128").text == assets[0].tag
    assert decode_one(crop(first, layout.slot(29)), "Code128").text == assets[1].tag
    second = page_image(document, 1)
    assert decode_one(crop(second, layout.slot(0)), "Code128").text == assets[2].tag
    # The used labels at the top of the sheet stay blank.
    assert crop(first, layout.slot(0)).getextrema()[0] > 200


def _data(tag: str) -> AssetLabelData:
    return AssetLabelData("id", tag, "", "Dell", "R650", "HQ", "Room", "R01", 12)


def test_zpl_structure_and_escapes() -> None:
    layout = layout_named("zpl-2x1")
    text = label_zpl(build_label(_data("A^B~C_D"), LabelOptions(Symbology.CODE128)), layout)
    assert text.startswith("^XA\n") and text.endswith("^XZ\n")
    assert "^PW406\n" in text and "^LL203\n" in text
    fields = re.findall(r"\^FD(.*?)\^FS", text)
    assert fields[0] == "A_5EB_7EC_5FD"
    assert all("^" not in f and "~" not in f for f in fields)
    assert re.search(r"\^BY\d\^BCN,\d+,N,N,N,A\^FH_\^FD", text)
    qr = label_zpl(
        build_label(_data("IT-1"), LabelOptions(Symbology.QR, digital_link=True)), layout
    )
    assert "^BQN,2," in qr and "^FDMA,https://id.gs1.org/8004/IT-1^FS" in qr
    dm = label_zpl(build_label(_data("IT-`1"), LabelOptions(Symbology.DATAMATRIX)), layout)
    escape_char = re.search(r"\^BXN,\d+,200,,,,(.)\^FH", dm)
    assert escape_char is not None and escape_char.group(1) != "`"
    big = label_zpl(build_label(_data("IT-1"), LabelOptions()), layout_named("zpl-4x2-300"))
    assert "^PW1200\n" in big and "^LL600\n" in big
    assert escape("~^_x") == "_7E_5E_5Fx"


def test_zpl_file_has_one_format_per_label(tmp_path: Path) -> None:
    labels = [build_label(_data(f"T{i}"), LabelOptions()) for i in range(12)]
    assert render_zpl(labels, layout_named("zpl-2x1"), tmp_path / "l.zpl") == 12
    text = (tmp_path / "l.zpl").read_text()
    assert text.count("^XA") == text.count("^XZ") == 12


def test_tags_that_cannot_be_printed_are_named() -> None:
    with pytest.raises(LabelError, match="Büro-7"):
        build_label(_data("Büro-7"), LabelOptions(Symbology.CODE128))
    with pytest.raises(LabelError, match="HAS SPACE"):
        digital_link("HAS SPACE")
    long_tag = "X" * 60
    label = build_label(_data(long_tag), LabelOptions(Symbology.CODE128))
    from fieldops.labels.arrange import arrange

    with pytest.raises(LabelError, match=long_tag):
        arrange(label, *layout_named("5167").label_size)
    assert digital_link("A/B", "https://example.com/") == "https://example.com/8004/A%2FB"


def test_digital_link_with_leading_zeros_looks_up(demo_workspace: Workspace) -> None:
    found = demo_workspace.lookup.lookup(digital_link("003271"))
    assert found.card is not None and found.card.asset_tag == "003271"


def test_cli_exit_codes(rack_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "one.zpl"
    done = run_cli(rack_dir, "--asset", "IT-000001", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text().count("^XA") == 1
    assert run_cli(rack_dir, "--asset", "NO-SUCH", "-o", str(tmp_path / "x.pdf")).returncode == 3
    gone = run_cli(rack_dir, "--location", "NOWHERE / Room", "-o", str(tmp_path / "x.pdf"))
    assert gone.returncode == 3
    bad = run_cli(rack_dir, "--asset", "IT-000001", "--start", "99", "-o", str(tmp_path / "x.pdf"))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1
    assert not (tmp_path / "x.pdf").exists()
    zpl_sheet = run_cli(rack_dir, "--asset", "IT-000001", "--layout", "L7160", "--format", "zpl",
                        "-o", str(tmp_path / "y.zpl"))  # fmt: skip
    assert zpl_sheet.returncode == 1


@pytest.fixture(scope="module")
def rack_dir(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.support.workspaces import copy_data_dir

    return copy_data_dir(demo_template, tmp_path_factory.mktemp("cli") / "data").root
