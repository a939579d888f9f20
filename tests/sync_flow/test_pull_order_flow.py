"""A fresh device's first sync finishes when records come a page before what they point at.

The server sends records in the order they last changed, so editing a parent after its child
was made puts the child on an earlier page. A real server on loopback, one record per page.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from fieldops.domain.identifiers import new_id
from fieldops.protocol import PROTOCOL_VERSION
from fieldops.protocol.messages import Mutation, MutationResult, Op, Outcome, PushRequest
from fieldops.services.datadir import DataDir
from fieldops.services.workspace import Workspace
from fieldops.store.models import (
    Asset,
    Base,
    Component,
    Incident,
    Location,
    Note,
    Photo,
    Replacement,
)
from fieldops.sync import engine, local
from fieldops.sync.credentials import CredentialStore
from fieldops.sync.transport import SyncClient
from tests.sync.central import USERS, Central, start_central

WHEN = "2026-12-04T10:00:00+00:00"


class Writer:
    """Another device, as the server sees it: raw mutations pushed one at a time."""

    def __init__(self, url: str, user: str = "ada") -> None:
        self.client = SyncClient(url)
        self.client.set_token(self.client.login(user, USERS[user][2]).token)
        self.client_id, self.seq = new_id(), 0
        self.versions: dict[str, int] = {}

    def send(self, entity: str, entity_id: str, op: Op = Op.CREATE, **fields: Any) -> str:
        self.seq += 1
        mutation = Mutation(
            mutation_id=new_id(), seq=self.seq, entity=entity, entity_id=entity_id, op=op,
            fields=fields, base_version=self.versions.get(entity_id),
        )  # fmt: skip
        request = PushRequest(
            client_id=self.client_id, protocol_version=PROTOCOL_VERSION, mutations=[mutation]
        )
        [result] = self.client.push(request).results
        assert result.outcome in (Outcome.APPLIED, Outcome.MERGED), result
        self.versions[entity_id] = _version(result)
        return entity_id

    def new(self, entity: str, **fields: Any) -> str:
        return self.send(entity, new_id(), **fields)

    def edit(self, entity: str, entity_id: str, **fields: Any) -> None:
        self.send(entity, entity_id, Op.UPDATE, **fields)

    def asset(self, tag: str, site: str = "HQ-DC1") -> str:
        return self.new("asset", asset_tag=tag, site_code=site)

    def incident(self, asset_id: str | None, title: str, site: str = "HQ-DC1") -> str:
        return self.new(
            "incident", asset_id=asset_id, site_code=site, category="hardware", impact="low",
            urgency="low", title=title, occurred_at=WHEN, reported_at=WHEN,
        )  # fmt: skip

    def note(self, incident_id: str | None, asset_id: str | None = None) -> str:
        return self.new("note", incident_id=incident_id, asset_id=asset_id, body="seen",
                        created_at=WHEN)  # fmt: skip

    def photo(self, incident_id: str) -> str:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, format="PNG")
        data = buffer.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        self.client.upload_blob(digest, data)
        return self.new("photo", incident_id=incident_id, sha256=digest, size=len(data),
                        mime="image/png", width=8, height=6, created_at=WHEN)  # fmt: skip


def _version(result: MutationResult) -> int:
    assert result.version is not None
    return result.version


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    """One server on SQLite with two sites; each test makes its own records."""
    server = start_central(tmp_path_factory.mktemp("server"))
    writer = Writer(server.url)
    for code in ("HQ-DC1", "BR-LEEDS"):
        writer.new("site", code=code, name=code)
    yield server
    server.stop()


@pytest.fixture
def writer(central: Central) -> Iterator[Writer]:
    made = Writer(central.url)
    yield made
    made.client.close()


@pytest.fixture
def fresh(
    tmp_path: Path, central: Central, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Workspace]]:
    """Opens a device with nothing on it yet, pulling one record per page."""
    monkeypatch.setattr(engine, "PULL_LIMIT", 1)
    opened: list[Workspace] = []

    def _open(name: str = "fresh", user: str = "ada") -> Workspace:
        workspace = Workspace(DataDir(tmp_path / name))
        # Kept in memory: the keyring itself is tested in tests/sync.
        workspace.sync.credentials = CredentialStore(session_only=True)
        workspace.sync.login(central.url, user, USERS[user][2])
        opened.append(workspace)
        return workspace

    yield _open
    for workspace in opened:
        workspace.close()


def row(ws: Workspace, model: type[Base], entity_id: str) -> Any:
    with ws.db.read() as s:
        found = s.get(model, entity_id)
        assert found is not None, f"{model.__name__} {entity_id} is missing"
        s.expunge(found)
        return found


def waiting(ws: Workspace) -> int:
    with ws.db.read() as s:
        return local.counts(s)["waiting"]


def test_a_component_pulled_a_page_before_its_asset(writer: Writer, fresh) -> None:
    target = writer.asset("PO-0001")
    part = writer.new("component", asset_id=target, kind="psu", serial="PO-PSU-0001")
    writer.edit("asset", target, name="renamed after its part was added")
    ws = fresh()
    assert ws.sync.sync().pulled > 0
    assert waiting(ws) == 0 and row(ws, Component, part).asset_id == target
    found = ws.lookup.lookup("PO-PSU-0001")
    assert found.card is not None and found.card.id == target


def test_an_incident_before_its_asset(writer: Writer, fresh) -> None:
    target = writer.asset("PO-0002")
    case = writer.incident(target, "fan noise")
    writer.edit("asset", target, notes="edited later")
    ws = fresh()
    ws.sync.sync()
    assert row(ws, Incident, case).asset_id == target and waiting(ws) == 0


def test_a_photo_and_a_note_before_their_incident(writer: Writer, fresh) -> None:
    case = writer.incident(writer.asset("PO-0003"), "cracked bezel")
    shot, text = writer.photo(case), writer.note(case)
    writer.edit("incident", case, description="edited after the photo and note")
    ws = fresh()
    ws.sync.sync()
    assert row(ws, Photo, shot).incident_id == case and row(ws, Note, text).incident_id == case
    assert row(ws, Incident, case).description == "edited after the photo and note"


def test_a_child_location_before_its_parent(writer: Writer, fresh) -> None:
    hall = writer.new("location", site_code="HQ-DC1", kind="building", name="PO hall")
    room = writer.new("location", site_code="HQ-DC1", parent_id=hall, kind="room", name="PO 1")
    writer.edit("location", hall, name="PO hall, renamed")
    ws = fresh()
    ws.sync.sync()
    assert row(ws, Location, room).parent_id == hall and waiting(ws) == 0


def test_a_replacement_before_its_component(writer: Writer, fresh) -> None:
    target = writer.asset("PO-0005")
    part = writer.new("component", asset_id=target, kind="disk", serial="PO-D-OLD")
    swap = writer.new("replacement", asset_id=target, component_id=part, old_serial="PO-D-OLD",
                      new_serial="PO-D-NEW", old_part_fate="scrapped", created_at=WHEN)  # fmt: skip
    writer.edit("component", part, serial="PO-D-NEW")
    ws = fresh()
    ws.sync.sync()
    assert row(ws, Replacement, swap).component_id == part
    assert ws.lookup.lookup("PO-D-NEW").found and not ws.lookup.lookup("PO-D-OLD").found


def test_a_chain_across_three_pages(writer: Writer, fresh) -> None:
    """photo, then incident, then asset: each waits for the next."""
    target = writer.asset("PO-0006")
    case = writer.incident(target, "chain")
    shot = writer.photo(case)
    writer.edit("incident", case, title="chain, edited")
    writer.edit("asset", target, name="chain, edited last")
    ws = fresh()
    ws.sync.sync()
    assert row(ws, Photo, shot).incident_id == case
    assert row(ws, Incident, case).title == "chain, edited"
    assert row(ws, Asset, target).name == "chain, edited last" and waiting(ws) == 0


def test_a_record_waiting_for_two_parents(writer: Writer, fresh) -> None:
    case = writer.incident(writer.asset("PO-0007"), "two parents")
    other = writer.asset("PO-0008")
    text = writer.note(case, other)
    writer.edit("incident", case, description="edited")
    writer.edit("asset", other, name="edited")
    ws = fresh()
    ws.sync.sync()
    found = row(ws, Note, text)
    assert (found.incident_id, found.asset_id, waiting(ws)) == (case, other, 0)


def test_a_crash_between_pages_loses_and_doubles_nothing(
    writer: Writer, fresh, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = writer.asset("PO-0009")
    case = writer.incident(target, "crash")
    for _ in range(3):
        writer.note(case)
    writer.edit("incident", case, title="crash, edited")
    writer.edit("asset", target, name="crash, edited")
    clean = fresh("clean")
    clean.sync.sync()

    real, failed = local.apply_page, []

    def apply_once_failing(session: Any, page: Any) -> int:
        # The page bringing the incident, while its notes wait for it and it for its asset.
        if not failed and any(change.entity_id == case for change in page.changes):
            failed.append(page.next_cursor)
            assert local.counts(session)["waiting"] >= 3
            raise RuntimeError("the device lost power")
        return real(session, page)

    monkeypatch.setattr(local, "apply_page", apply_once_failing)
    ws = fresh("crashed")
    with pytest.raises(RuntimeError):
        ws.sync.sync()
    ws.sync.sync()
    assert failed
    for model in (Asset, Incident, Note, Location, Component, Photo, Replacement):
        assert _ids(ws, model) == _ids(clean, model), model.__name__
    assert waiting(ws) == waiting(clean) == 0


def _ids(ws: Workspace, model: type[Base]) -> list[str]:
    with ws.db.read() as s:
        return sorted(s.scalars(select(model.id)))  # type: ignore[attr-defined]


def test_what_waited_for_an_asset_deleted_on_the_server(writer: Writer, fresh) -> None:
    """The server keeps a deleted asset's parts and incidents; a fresh device keeps them too."""
    target = writer.asset("PO-0010")
    part = writer.new("component", asset_id=target, kind="fan", serial="PO-FAN-0010")
    case = writer.incident(target, "before the delete")
    writer.send("asset", target, Op.DELETE)
    ws = fresh()
    ws.sync.sync()
    assert waiting(ws) == 0 and row(ws, Asset, target).status == "deleted"
    assert row(ws, Component, part).asset_id == target
    assert row(ws, Incident, case).asset_id == target
    assert not ws.lookup.lookup("PO-FAN-0010").found


def test_a_record_whose_parent_is_outside_the_sites_waits_and_is_named(
    writer: Writer, fresh, caplog: pytest.LogCaptureFixture
) -> None:
    """tom works at HQ-DC1: a note on an HQ incident naming a Leeds asset comes without it."""
    leeds = writer.asset("PO-LEEDS-1", site="BR-LEEDS")
    text = writer.note(writer.incident(None, "seen from HQ"), leeds)
    caplog.set_level(logging.WARNING, logger="fieldops.sync.local")
    ws = fresh(user="tom")
    ws.sync.sync()
    with ws.db.read() as s:
        assert s.get(Note, text) is None and local.counts(s)["waiting"] >= 1
    assert ws.sync.status().pulled_waiting == waiting(ws)  # what `fieldops status` shows
    named = [r.getMessage() for r in caplog.records if text in r.getMessage()]
    assert named == [f"note {text} waits for asset {leeds}"]
    ws.sync.sync()
    assert len([r for r in caplog.records if text in r.getMessage()]) == 2
