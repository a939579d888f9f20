"""The fast import and lookup paths on small generated catalogues: the same results as before.

Chunks are made a few rows long so every test crosses many chunk boundaries; timing is the
benchmark's business (benchmarks/bench_scale.py), not these tests'.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from benchmarks.bench_scale import (
    FIELDOPS_HEADER,
    CatalogueSpec,
    write_catalogue,
    write_components,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldops.domain.catalogue import (
    AssetRow,
    CatalogueError,
    ComponentRow,
    decode_lines,
    parse_catalogue,
    stream_catalogue,
)
from fieldops.domain.identifiers import catalogue_asset_id, code_key, new_id
from fieldops.domain.incidents import Category, Level
from fieldops.domain.scan import CandidateKind, normalise_scan
from fieldops.domain.scan_errors import ScanError
from fieldops.services import catalogue as catalogue_module
from fieldops.services.catalogue import ImportCancelled, ImportRefused
from fieldops.services.datadir import DataDir
from fieldops.services.incidents import IncidentDraft
from fieldops.services.lookup import (
    CANDIDATE_KINDS,
    KIND_ORDER,
    AssetCard,
    ComponentView,
    LookupResult,
    Place,
    clean_scan,
    place_of,
    summarise,
)
from fieldops.services.scanned_codes import LABEL_KINDS
from fieldops.services.workspace import Workspace
from fieldops.store.models import (
    Asset,
    AssetCode,
    Component,
    Incident,
    Location,
    Outbox,
    Site,
)

SPEC = CatalogueSpec(assets=53)


@pytest.fixture
def workspace(tmp_path: Path):
    ws = Workspace(DataDir(tmp_path / "data"))
    yield ws
    ws.close()


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seven rows per chunk, and the first-load path from ten rows on."""
    monkeypatch.setattr(catalogue_module, "CHUNK", 7)
    monkeypatch.setattr(catalogue_module, "BULK_ROWS", 10)


def count(ws: Workspace, model) -> int:
    with ws.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def codes(ws: Workspace) -> set[tuple[str, str | None, str, str]]:
    with ws.db.read() as s:
        rows = s.execute(
            select(AssetCode.asset_id, AssetCode.component_id, AssetCode.kind, AssetCode.code)
        ).all()
    assert len(rows) == len(set(rows)), "a code is stored twice"
    return {tuple(r) for r in rows}


def indexes(ws: Workspace) -> list[tuple[str, str]]:
    with ws.db.engine.connect() as c:
        return c.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "ORDER BY name"
        ).all()


def expected_codes(rows: list[AssetRow]) -> set[tuple[str, str | None, str, str]]:
    found = set()
    for row in rows:
        asset_id = catalogue_asset_id(row.asset_tag)
        found.add((asset_id, None, "tag", code_key(row.asset_tag)))
        if row.serial:
            found.add((asset_id, None, "serial", code_key(row.serial)))
    return found


@pytest.mark.parametrize("first_load", [True, False])
def test_bulk_import_stores_exactly_the_rows_read(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_load: bool
) -> None:
    if not first_load:
        monkeypatch.setattr(catalogue_module, "BULK_ROWS", 10**9)
    schema = indexes(workspace)
    path = write_catalogue(tmp_path / "c.csv", SPEC)
    started = datetime.now(UTC)
    report = workspace.catalogue.import_file(path)
    assert (report.created, report.updated, report.unchanged) == (SPEC.assets, 0, 0)
    rows = parse_catalogue(path.read_bytes()).assets
    with workspace.db.read() as s:
        for row in rows:
            asset = s.get(Asset, catalogue_asset_id(row.asset_tag))
            assert asset is not None
            assert (asset.asset_tag, asset.tag_key, asset.serial, asset.name) == (
                row.asset_tag,
                code_key(row.asset_tag),
                row.serial,
                row.name,
            )
            assert (asset.manufacturer, asset.model, asset.model_number) == (
                row.manufacturer,
                row.model,
                row.model_number,
            )
            assert (asset.category, asset.status, asset.notes) == (row.category, row.status, "")
            assert (asset.rack_u, asset.rack_face) == (row.rack_u, row.rack_face)
            assert (asset.provisional, asset.version) == (False, 0)
            assert started - timedelta(seconds=1) <= asset.updated_at <= datetime.now(UTC)
            place = place_of(s, asset.location_id, asset.site_code)
            assert (place.site_code, place.site_name) == (row.site_code, row.site_code)
            assert (place.room, place.rack) == (row.room or "", row.rack or "")
        site_count = s.scalar(select(func.count()).select_from(Site))
        assert site_count == len({r.site_code for r in rows})
    assert codes(workspace) == expected_codes(rows)
    assert indexes(workspace) == schema  # built again after a first load, as they were
    assert count(workspace, Outbox) == 0


def test_reimport_creates_updates_and_leaves_by_tag_across_chunks(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.catalogue.import_file(write_catalogue(tmp_path / "a.csv", SPEC))
    grown = CatalogueSpec(assets=SPEC.assets + 5, revision=1)
    path = write_catalogue(tmp_path / "b.csv", grown)
    report = workspace.catalogue.import_file(path)
    changed = sum(grown.revised(i) for i in range(SPEC.assets))
    assert (report.created, report.updated, report.unchanged) == (
        5,
        changed,
        SPEC.assets - changed,
    )
    assert count(workspace, Asset) == grown.assets
    assert codes(workspace) == expected_codes(parse_catalogue(path.read_bytes()).assets)
    old, new = SPEC.serial(10), grown.serial(10)
    assert old != new
    assert not workspace.lookup.lookup(old).found
    card = workspace.lookup.lookup(new).card
    assert card is not None and card.asset_tag == SPEC.tag(10)
    assert card.place.rack_u == grown.place(10)[3]
    again = workspace.catalogue.import_file(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, grown.assets)


def test_components_in_chunks_attach_and_update_their_codes(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.catalogue.import_file(write_catalogue(tmp_path / "a.csv", SPEC))
    parts = write_components(tmp_path / "p.csv", SPEC)
    report = workspace.catalogue.import_file(parts)
    assert report.created == SPEC.components == count(workspace, Component)
    serial = SPEC.component_serial(8, 1)
    found = workspace.lookup.lookup(serial.lower())
    assert found.matched_kind == "component_serial" and found.card.asset_tag == SPEC.tag(8)
    assert [c.slot for c in found.card.components] == ["Bay 0", "Bay 1", "PSU1", "PSU2"]

    text = parts.read_text().replace(serial, "NEW-PSU-SERIAL")
    changed = tmp_path / "p2.csv"
    changed.write_text(text)
    again = workspace.catalogue.import_file(changed)
    assert (again.created, again.updated, again.unchanged) == (0, 1, SPEC.components - 1)
    assert not workspace.lookup.lookup(serial).found
    assert workspace.lookup.lookup("new-psu-serial").card.asset_tag == SPEC.tag(8)
    part_codes = [c for c in codes(workspace) if c[2] == "component_serial"]
    assert len(part_codes) == SPEC.components


def test_bad_rows_in_later_chunks_import_nothing_and_are_all_named(
    workspace: Workspace, tmp_path: Path
) -> None:
    lines = write_catalogue(tmp_path / "a.csv", SPEC).read_text().splitlines(keepends=True)
    lines[19] = "," + lines[19].split(",", 1)[1]  # line 20: no asset tag
    lines[41] = lines[41].replace(",rear,", ",sideways,").replace(",front,", ",sideways,")
    path = tmp_path / "bad.csv"
    path.write_text("".join(lines))
    with pytest.raises(ImportRefused) as refused:
        workspace.catalogue.import_file(path)
    assert [e.line for e in refused.value.errors] == [20, 42]
    assert f"2 of {SPEC.assets} rows" in refused.value.message
    for model in (Asset, AssetCode, Location, Site):
        assert count(workspace, model) == 0

    report = workspace.catalogue.import_file(path, skip_bad_rows=True)
    assert report.created == SPEC.assets - 2
    assert [e.line for e in report.skipped] == [20, 42]


def test_parts_of_an_unknown_asset_in_a_later_chunk_import_no_part(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.catalogue.import_file(write_catalogue(tmp_path / "a.csv", SPEC))
    lines = write_components(tmp_path / "p.csv", SPEC).read_text().splitlines(keepends=True)
    lines[30] = lines[30].replace("FO-", "XX-")
    path = tmp_path / "parts.csv"
    path.write_text("".join(lines))
    with pytest.raises(ImportRefused, match="line 31: no asset with tag 'XX-"):
        workspace.catalogue.import_file(path)
    assert count(workspace, Component) == 0
    assert not [c for c in codes(workspace) if c[2] == "component_serial"]

    report = workspace.catalogue.import_file(path, skip_bad_rows=True)
    assert report.created == SPEC.components - 1 and [e.line for e in report.skipped] == [31]


def test_cancel_after_chunks_were_written_leaves_nothing_and_keeps_the_indexes(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue_module, "PROGRESS_EVERY", 5)
    schema = indexes(workspace)
    seen: list[int] = []
    with pytest.raises(ImportCancelled):
        workspace.catalogue.import_file(
            write_catalogue(tmp_path / "a.csv", SPEC),
            progress=lambda done, total: seen.append(done),
            cancelled=lambda: len(seen) >= 6,  # past four chunks of seven
        )
    assert seen[-1] == 25
    assert count(workspace, Asset) == count(workspace, AssetCode) == 0
    assert indexes(workspace) == schema


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
def test_progress_counts_rows_up_to_the_total(
    workspace: Workspace, tmp_path: Path, line_end: str
) -> None:
    path = write_catalogue(tmp_path / "a.csv", SPEC)
    path.write_bytes(path.read_bytes().replace(b"\n", line_end.encode()))
    seen: list[tuple[int, int]] = []
    report = workspace.catalogue.import_file(path, progress=lambda d, t: seen.append((d, t)))
    assert report.created == SPEC.assets
    assert seen[0] == (0, SPEC.assets) and seen[-1] == (SPEC.assets, SPEC.assets)
    done = [d for d, _ in seen]
    assert done == sorted(done) and all(d <= t for d, t in seen)


def test_a_bad_byte_far_down_the_file_names_its_line(workspace: Workspace, tmp_path: Path) -> None:
    data = write_catalogue(tmp_path / "a.csv", SPEC).read_bytes().splitlines(keepends=True)
    data[40] = data[40].replace(b"Deployed", b"D\xe9ployed")
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"".join(data))
    with pytest.raises(CatalogueError, match=r"not UTF-8 text \(line 41\)"):
        workspace.catalogue.import_file(path)
    assert count(workspace, Asset) == 0


def test_import_file_and_import_parsed_store_the_same(tmp_path: Path) -> None:
    path = write_catalogue(tmp_path / "a.csv", SPEC)
    parts = write_components(tmp_path / "p.csv", SPEC)
    tables = []
    for name, streamed in (("one", True), ("two", False)):
        ws = Workspace(DataDir(tmp_path / name))
        for source in (path, parts):
            if streamed:
                ws.catalogue.import_file(source)
            else:
                ws.catalogue.import_parsed(parse_catalogue(source.read_bytes()))
        with ws.db.engine.connect() as c:
            tables.append(
                [
                    sorted(c.exec_driver_sql(f"SELECT * FROM {table}").all())
                    for table in ("sites", "locations", "components")
                ]
                + [sorted(c.exec_driver_sql("SELECT asset_id, kind, code FROM asset_codes"))]
                + [sorted(c.exec_driver_sql("SELECT id, tag_key, location_id FROM assets"))]
            )
        ws.close()
    assert tables[0] == tables[1]


def test_bulk_statements_write_every_column_of_their_tables() -> None:
    statements = {
        "assets": catalogue_module.INSERT_ASSET,
        "asset_codes": catalogue_module.INSERT_CODE,
        "sites": catalogue_module.INSERT_SITE,
        "locations": catalogue_module.INSERT_LOCATION,
        "components": catalogue_module.INSERT_PART,
    }
    by_name = {m.__tablename__: m for m in (Asset, AssetCode, Site, Location, Component)}
    for table, sql in statements.items():
        columns = re.match(r"INSERT INTO (\w+) \(([^)]*)\)", sql)
        assert columns is not None and columns.group(1) == table
        written = {name.strip() for name in columns.group(2).split(",")}
        model_columns = {c.name for c in by_name[table].__table__.columns}
        assert written == model_columns - ({"id"} if table == "asset_codes" else set())
    update = catalogue_module.UPDATE_ASSET
    assert [n for n in catalogue_module.ASSET_FIELDS if f"{n} = ?" not in update] == []


def test_the_import_gives_back_the_usual_page_cache(workspace: Workspace, tmp_path: Path) -> None:
    with workspace.db.engine.connect() as c:
        before = c.exec_driver_sql("PRAGMA cache_size").scalar_one()
    workspace.catalogue.import_file(write_catalogue(tmp_path / "a.csv", SPEC))
    with workspace.db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA cache_size").scalar_one() == before


TRICKY_FILES = [
    b"\xef\xbb\xbf"
    + FIELDOPS_HEADER.encode().replace(b"\n", b"\r\n")
    + b"T-1,S1,,,,,,,HQ,Room 1,R1,3,front,\r\nT-2,S2,,,,,,,HQ,,,,,\r\n",
    b"\n\n  \n" + FIELDOPS_HEADER.encode() + b"T-1,S1,,,,,,,HQ,,,,,\n\nT-1,S9,,,,,,,HQ,,,,,\n",
    FIELDOPS_HEADER.encode().replace(b"\n", b"\r") + b"T-1,S1,,,,,,,HQ,,,,,\rT-2,S2,,,,,,,HQ,,,,,",
    FIELDOPS_HEADER.encode()
    + b'T-1,S1,"two\nlines",,,,,,HQ,,,,,"a \x1c b"\nT-2,"unclosed,,,,,,,HQ,,,,,\nT-3\n',
    FIELDOPS_HEADER.encode() + "T-\u00e9,S\u2028X,,,,,,,HQ,,,99,,\n".encode(),
    b"asset_tag,kind,slot,model,serial\nA1,psu,2,,X\nA,psu,12,,Y\nA1,psu,2,,Z\nA1,PSU,,,W\n"
    b"a1,psu,,,V\n",
]


def pieces(data: bytes, size: int | None) -> list[bytes]:
    """The file cut into pieces of `size` bytes, or into lines (None)."""
    if size is None:
        return list(io.BytesIO(data))
    return [data[i : i + size] for i in range(0, len(data), size)]


PIECE_SIZES = [None, 1, 2, 3, 7, 1 << 20]


@pytest.mark.parametrize("size", PIECE_SIZES)
@pytest.mark.parametrize("data", TRICKY_FILES)
def test_the_stream_reads_what_the_whole_file_parser_reads(data: bytes, size: int | None) -> None:
    whole = parse_catalogue(data)
    stream = stream_catalogue(decode_lines(pieces(data, size)))
    items = list(stream.items)
    assert stream.format is whole.format
    assert [i for i in items if isinstance(i, AssetRow)] == whole.assets
    assert [i for i in items if isinstance(i, ComponentRow)] == whole.components
    assert [i for i in items if not isinstance(i, AssetRow | ComponentRow)] == whole.errors


@pytest.mark.parametrize("size", PIECE_SIZES)
def test_lines_come_out_whole_however_the_bytes_are_cut(size: int | None) -> None:
    text = "\ufeffa,b\r\nc\rd\n\ne\u00e9\u20ac\U0001f600\r\r\nlast"
    assert list(decode_lines(pieces(text.encode(), size))) == text[1:].splitlines(keepends=True)


def test_parts_whose_tag_and_slot_run_together_are_not_repeats() -> None:
    result = parse_catalogue(TRICKY_FILES[-1])
    assert [(p.asset_tag, p.slot) for p in result.components] == [("A1", "2"), ("A", "12"),
                                                                    ("A1", "")]  # fmt: skip
    assert [e.line for e in result.errors] == [4, 6]


@pytest.mark.parametrize("size", PIECE_SIZES)
@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n \n",
        b"\xef\xbb",
        FIELDOPS_HEADER.encode() + b"T-1,\xff\n",
        FIELDOPS_HEADER.encode() + b"T-1,S1,,,,,,,HQ,,,,,\n\nT-2,\xe2\x82\n",
        FIELDOPS_HEADER.encode() + b"T-1,S1,,,,,,,HQ,,,,,\nT-2,\xe2\x82",
        b'"unclosed\n',
    ],
)
def test_the_stream_refuses_what_the_whole_file_parser_refuses(
    data: bytes, size: int | None
) -> None:
    with pytest.raises(CatalogueError) as whole:
        parse_catalogue(data)
    with pytest.raises(CatalogueError) as streamed:
        list(stream_catalogue(decode_lines(pieces(data, size))).items)
    assert streamed.value.message == whole.value.message


# The lookup as it was built on the ORM, kept here as the reference the fast path must match.
def reference_card(session: Session, asset_id: str) -> AssetCard | None:
    asset = session.get(Asset, asset_id)
    if asset is None:
        return None
    place = place_of(session, asset.location_id, asset.site_code)
    incidents = session.scalars(
        select(Incident).where(Incident.asset_id == asset_id).order_by(Incident.occurred_at.desc())
    ).all()
    return AssetCard(
        id=asset.id,
        asset_tag=asset.asset_tag,
        serial=asset.serial,
        name=asset.name,
        manufacturer=asset.manufacturer,
        model=asset.model,
        model_number=asset.model_number,
        category=asset.category,
        status=asset.status,
        provisional=asset.provisional,
        place=Place(
            place.site_code, place.site_name, place.room, place.rack, asset.rack_u, asset.rack_face
        ),
        location_id=asset.location_id,
        components=[
            ComponentView(c.id, c.kind, c.slot, c.model, c.serial) for c in asset.components
        ],
        incidents=[summarise(session, i) for i in incidents],
    )


def reference_lookup(ws: Workspace, raw: str) -> LookupResult:
    try:
        scan = normalise_scan(raw)
    except ScanError as bad:
        return LookupResult(raw=raw, code=clean_scan(raw), card=None, misread=bad.message)
    symbology = scan.symbology.name if scan.symbology else None
    with ws.db.read() as session:
        for candidate in scan.candidates:
            kinds = CANDIDATE_KINDS.get(candidate.kind)
            if kinds is None:
                continue
            rows = session.execute(
                select(AssetCode.asset_id, AssetCode.kind).where(
                    AssetCode.code == code_key(candidate.code), AssetCode.kind.in_(kinds)
                )
            ).all()
            if not rows:
                continue
            rows.sort(key=lambda r: KIND_ORDER.get(r.kind, 99))
            tags = {a.id: a.asset_tag for a in session.scalars(select(Asset))}
            best: dict[str, int] = {}
            for r in rows:
                best.setdefault(r.asset_id, KIND_ORDER.get(r.kind, 99))
            asset_ids = sorted(best, key=lambda a: (best[a], tags[a]))
            matched = "gs1_serial" if candidate.kind is CandidateKind.GS1_SERIAL else rows[0].kind
            return LookupResult(
                raw=raw,
                code=candidate.code,
                card=reference_card(session, asset_ids[0]),
                matched_kind=matched,
                other_matches=len(asset_ids) - 1,
                symbology=symbology,
                warnings=scan.warnings,
                other_tags=tuple(tags[a] for a in asset_ids[1:]),
            )
    attachable = any(c.kind in LABEL_KINDS for c in scan.candidates)
    return LookupResult(raw=raw, code=scan.code, card=None, symbology=symbology,
                        warnings=scan.warnings, attachable=attachable)  # fmt: skip


def _extra_assets(session: Session) -> None:
    """A provisional asset whose serial is another asset's tag, and one with no location."""
    session.add(Site(code="BR-X", name="Branch X"))
    session.add(
        Asset(id=new_id(), asset_tag="P-1", tag_key="P-1", serial="IT-000217", provisional=True,
              site_code="BR-X")
    )  # fmt: skip
    session.add(Asset(id=new_id(), asset_tag="BARE-1", tag_key="BARE-1"))
    session.flush()
    for asset in session.scalars(select(Asset).where(Asset.asset_tag.in_(["P-1", "BARE-1"]))):
        session.add(AssetCode(asset_id=asset.id, kind="tag", code=asset.tag_key))
        if asset.serial:
            session.add(AssetCode(asset_id=asset.id, kind="serial", code=asset.serial))
    gs1 = session.scalar(select(Asset.id).where(Asset.asset_tag == "IT-000218"))
    session.add(AssetCode(asset_id=gs1, kind="gs1_serial", code="J344WPWW"))


def test_fast_lookup_answers_exactly_what_the_orm_lookup_answered(
    demo_workspace: Workspace, photos_dir: Path
) -> None:
    ws = demo_workspace
    ws.db.write(_extra_assets)
    asset_id = ws.lookup.lookup("IT-000001").card.id
    for days, photos in ((3, [photos_dir / "water-damage-with-gps.jpg"]), (1, []), (5, [])):
        ws.incidents.record(
            IncidentDraft(
                title=f"Fan {days}",
                category=Category.HARDWARE,
                impact=Level.LOW,
                urgency=Level.HIGH,
                asset_id=asset_id,
                occurred_at=datetime.now(UTC) - timedelta(days=days),
                photos=photos,
            )
        )
    scans = [
        "IT-000001", "it-000001\r", "]C0IT-000217", "*IT-000217*", "J344WPWW", "3e68754e73tk",
        "003271", "3271", "P-1", "BARE-1", "NOPE-1", "]d20109501101530003\x1d21J344WPWW",
        "(01)09501101530003(21)J344WPWW", '{"tag": "IT-000002"}', "]E04006381333932",
        "https://assets.example.invalid/hardware/217", "", "   ",
    ]  # fmt: skip
    for raw in scans:
        assert ws.lookup.lookup(raw) == reference_lookup(ws, raw), raw
    card = ws.lookup.lookup("IT-000001").card
    assert [i.title for i in card.incidents] == ["Fan 1", "Fan 3", "Fan 5"]
    assert [i.photo_count for i in card.incidents] == [0, 1, 0]
    assert card.incidents[0].occurred_at.tzinfo is not None
    ambiguous = ws.lookup.lookup("IT-000217")
    assert ambiguous.matched_kind == "tag" and ambiguous.other_matches == 1
    with ws.db.read() as s:
        for ident in s.scalars(select(Asset.id).limit(40)):
            assert ws.lookup.card(ident) == reference_card(s, ident)
    assert ws.lookup.card("no-such-asset") is None


def test_a_loop_in_the_location_tree_ends_the_walk(workspace: Workspace) -> None:
    def looped(session: Session) -> None:
        session.add(Site(code="HQ", name="Head office"))
        session.add(Location(id="a", site_code="HQ", kind="rack", name="R1"))
        session.add(Location(id="b", site_code="HQ", kind="room", name="Room 1", parent_id="a"))
        session.add(Asset(id="x", asset_tag="T-1", tag_key="T-1", location_id="a"))
        session.add(AssetCode(asset_id="x", kind="tag", code="T-1"))
        session.flush()
        session.get(Location, "a").parent_id = "b"  # bad data: each is the other's parent

    workspace.db.write(looped)
    card = workspace.lookup.lookup("T-1").card
    assert card is not None
    assert (card.place.site_code, card.place.room, card.place.rack) == ("HQ", "Room 1", "R1")
