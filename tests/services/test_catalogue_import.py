"""Importing catalogues from the real sample exports into a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldops.domain.catalogue import CatalogueFormat
from fieldops.services.catalogue import ImportCancelled, ImportRefused
from fieldops.services.datadir import DataDir
from fieldops.services.workspace import Workspace
from fieldops.store.models import Asset, AssetCode, Component, Location, Outbox


@pytest.fixture
def workspace(tmp_path: Path):
    ws = Workspace(DataDir(tmp_path / "data"))
    yield ws
    ws.close()


def count(ws: Workspace, model) -> int:
    with ws.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def test_snipeit_export_imports_with_rack_positions(workspace: Workspace, demo_dir: Path) -> None:
    report = workspace.catalogue.import_file(demo_dir / "catalogue-snipeit.csv")
    assert report.format is CatalogueFormat.SNIPEIT
    assert (report.created, report.updated, report.skipped) == (2000, 0, [])
    card = workspace.lookup.lookup("IT-000001").card
    assert card is not None
    assert (card.place.site_code, card.place.room, card.place.rack) == (
        "HQ-DC1",
        "Server Room B3",
        "R02",
    )
    assert (card.place.rack_u, card.place.rack_face) == (34, "front")
    two_level = workspace.lookup.lookup("IT-000002").card
    assert two_level.place.room == "Server Room B2" and two_level.place.rack == ""


def test_netbox_export_imports_and_keeps_leading_zeros(
    workspace: Workspace, demo_dir: Path
) -> None:
    report = workspace.catalogue.import_file(demo_dir / "catalogue-netbox.csv")
    assert report.format is CatalogueFormat.NETBOX and report.created == 400
    card = workspace.lookup.lookup("003271").card
    assert card is not None and card.asset_tag == "003271"
    assert card.place.describe() == "BR-MUC / Serverraum UG / R02 / U37 front"
    assert not workspace.lookup.lookup("3271").found


def test_components_file_attaches_parts(workspace: Workspace, demo_dir: Path) -> None:
    workspace.catalogue.import_file(demo_dir / "catalogue-snipeit.csv")
    report = workspace.catalogue.import_file(demo_dir / "components.csv")
    assert report.format is CatalogueFormat.COMPONENTS and report.created == 9576
    assert count(workspace, Component) == 9576
    by_part = workspace.lookup.lookup("3e68754e73tk")  # a battery's serial, in lower case
    assert by_part.found and by_part.card.asset_tag == "IT-000001"
    assert by_part.matched_kind == "component_serial"


def test_reimport_is_idempotent(workspace: Workspace, demo_dir: Path) -> None:
    for name in ("catalogue-snipeit.csv", "catalogue-netbox.csv", "components.csv"):
        workspace.catalogue.import_file(demo_dir / name)
    before = [count(workspace, m) for m in (Asset, AssetCode, Component, Location)]
    again = workspace.catalogue.import_file(demo_dir / "catalogue-snipeit.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2000)
    workspace.catalogue.import_file(demo_dir / "components.csv")
    assert [count(workspace, m) for m in (Asset, AssetCode, Component, Location)] == before


def test_reimport_updates_by_tag_whatever_the_case(workspace: Workspace, tmp_path: Path) -> None:
    header = "asset_tag,serial,name,manufacturer,model,site_code,room,rack,rack_u,rack_face\n"
    first = tmp_path / "a.csv"
    first.write_text(header + "IT-9,SN-OLD,,Dell,R650,HQ,Room 1,R1,10,front\n")
    workspace.catalogue.import_file(first)
    second = tmp_path / "b.csv"
    second.write_text(header + "it-9,SN-NEW,,Dell,R650,HQ,Room 1,R2,12,rear\n")
    report = workspace.catalogue.import_file(second)
    assert (report.created, report.updated) == (0, 1)
    assert count(workspace, Asset) == 1
    assert not workspace.lookup.lookup("SN-OLD").found
    card = workspace.lookup.lookup("sn-new").card
    assert card.place.rack == "R2" and card.place.rack_u == 12


def test_broken_row_names_its_line_and_imports_nothing(
    workspace: Workspace, demo_dir: Path, tmp_path: Path
) -> None:
    lines = (demo_dir / "catalogue-snipeit.csv").read_text().splitlines()
    broken = lines[:1] + lines[1:6]
    broken[3] = broken[3].replace("IT-000003", "")  # line 4 loses its asset tag
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(broken) + "\n")
    with pytest.raises(ImportRefused) as refused:
        workspace.catalogue.import_file(path)
    assert [e.line for e in refused.value.errors] == [4]
    assert "line 4" in refused.value.message
    assert count(workspace, Asset) == 0

    report = workspace.catalogue.import_file(path, skip_bad_rows=True)
    assert report.created == 4 and [e.line for e in report.skipped] == [4]


def test_semicolon_utf8_bom_file_imports(workspace: Workspace, tmp_path: Path) -> None:
    text = (
        "Asset Tag;Serial Number;Model Name;Manufacturer;Category;Status;Location;Notes\r\n"
        "IT-004217;5CG1234OLD;Précision 3660;Dell;Desktop;Deployed;"
        "BR-LYON / Salle serveurs 1 / R03;U12 rear\r\n"
    )
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    report = workspace.catalogue.import_file(path)
    assert report.created == 1
    card = workspace.lookup.lookup("IT-004217").card
    assert card.model == "Précision 3660"
    assert card.place.describe() == "BR-LYON / Salle serveurs 1 / R03 / U12 rear"


def test_components_for_unknown_assets_are_refused_by_line(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "parts.csv"
    path.write_text("asset_tag,kind,slot,model,serial\nIT-404,psu,PSU1,Delta,PS-1\n")
    with pytest.raises(ImportRefused, match="line 2: no asset with tag 'IT-404'"):
        workspace.catalogue.import_file(path)
    assert count(workspace, Component) == 0


def test_import_can_be_cancelled_and_leaves_nothing(workspace: Workspace, demo_dir: Path) -> None:
    seen: list[int] = []

    def cancelled() -> bool:
        return len(seen) >= 2

    with pytest.raises(ImportCancelled):
        workspace.catalogue.import_file(
            demo_dir / "catalogue-snipeit.csv",
            progress=lambda done, total: seen.append(done),
            cancelled=cancelled,
        )
    assert count(workspace, Asset) == 0


def test_import_reports_progress_and_queues_nothing(workspace: Workspace, demo_dir: Path) -> None:
    seen: list[tuple[int, int]] = []
    workspace.catalogue.import_file(
        demo_dir / "catalogue-snipeit.csv", progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (2000, 2000) and len(seen) > 5
    assert count(workspace, Outbox) == 0  # the catalogue's authority is the server


def test_missing_file_is_a_plain_error(workspace: Workspace, tmp_path: Path) -> None:
    from fieldops.domain.errors import ValidationError

    with pytest.raises(ValidationError, match="There is no file"):
        workspace.catalogue.import_file(tmp_path / "nope.csv")
