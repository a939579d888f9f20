"""Importing a Snipe-IT, NetBox, FieldOps or components CSV file into the server's records.

Sites, rooms and racks are found or made from the location columns; assets are matched by
asset tag and components by asset, kind and slot, so importing the same file twice changes
nothing the second time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldops.domain.catalogue import (
    AssetRow,
    CatalogueFormat,
    ComponentRow,
    RowError,
    parse_catalogue,
)
from fieldops.domain.identifiers import (
    catalogue_asset_id,
    catalogue_component_id,
    catalogue_location_id,
    code_key,
    new_id,
)
from fieldops.protocol import ENTITY_KINDS, ImportLineError, ImportSummary
from fieldops.server.apply import Rejection, validated
from fieldops.server.records import RECORDS, RecordState, WorkSet, chunks

log = logging.getLogger(__name__)


@dataclass
class _Tally:
    """What the import did so far."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


class CatalogueImporter:
    """Writes parsed catalogue rows into one transaction's records."""

    def __init__(self, session: Session, now: datetime, user_id: int | None) -> None:
        self.work = WorkSet(session, now)
        self.session = session
        self.now = now
        self.user_id = user_id
        self.tally = _Tally()
        self._locations: dict[tuple[str, str | None, str, str], str] = {}

    def run(self, data: bytes | str, fmt: CatalogueFormat | None = None) -> ImportSummary:
        """Imports the file; raises CatalogueError when it cannot be read at all."""
        parsed = parse_catalogue(data, fmt)
        self.tally.errors.extend(parsed.errors)
        if parsed.format is CatalogueFormat.COMPONENTS:
            self._components(parsed.components)
        else:
            self._assets(parsed.assets)
        self.work.flush()
        summary = ImportSummary(
            format=parsed.format.value,
            created=self.tally.created,
            updated=self.tally.updated,
            unchanged=self.tally.unchanged,
            errors=[
                ImportLineError(line=e.line, reason=e.reason)
                for e in sorted(self.tally.errors, key=lambda e: e.line)
            ],
        )
        log.info(
            "imported %s catalogue: %d created, %d updated, %d unchanged, %d refused",
            summary.format,
            summary.created,
            summary.updated,
            summary.unchanged,
            len(summary.errors),
        )
        return summary

    def _assets(self, rows: list[AssetRow]) -> None:
        sites = sorted({row.site_code for row in rows})
        self.work.load_unique("site", "code", sites)
        self.work.load_unique("asset", "asset_tag", [row.asset_tag for row in rows])
        for site in sites:
            self._site(site)
        self._load_locations(sites)
        owners = [self.work.unique_owner("asset", "asset_tag", r.asset_tag) for r in rows]
        self.work.load([o for o in owners if o])
        for row, owner in zip(rows, owners, strict=True):
            location = self._place(row)
            values = {
                "asset_tag": row.asset_tag,
                "serial": row.serial,
                "name": row.name,
                "manufacturer": row.manufacturer,
                "model": row.model,
                "model_number": row.model_number,
                "category": row.category,
                "status": row.status,
                "site_code": row.site_code,
                "location_id": location,
                "rack_u": row.rack_u,
                "rack_face": row.rack_face,
                "notes": row.notes,
                "provisional": False,
            }
            ident = catalogue_asset_id(row.asset_tag)
            self._upsert("asset", owner, values, row.line, site=row.site_code, ident=ident)

    def _components(self, rows: list[ComponentRow]) -> None:
        tags = [row.asset_tag for row in rows]
        self.work.load_unique("asset", "asset_tag", tags)
        owners = {t: self.work.unique_owner("asset", "asset_tag", t) for t in tags}
        asset_ids = sorted({o for o in owners.values() if o})
        self.work.load(asset_ids)
        existing = self._existing_components(asset_ids)
        for row in rows:
            asset_id = owners[row.asset_tag]
            asset = self.work.get(asset_id) if asset_id else None
            if asset is None or asset.deleted:
                self.tally.errors.append(
                    RowError(row.line, f"no asset with tag '{row.asset_tag}' on the server")
                )
                continue
            key = (asset.id, row.kind, row.slot.casefold())
            values = {
                "asset_id": asset.id,
                "kind": row.kind,
                "slot": row.slot,
                "model": row.model,
                "serial": row.serial,
            }
            ident = catalogue_component_id(
                row.asset_tag, row.kind, row.slot, "" if row.slot else row.serial
            )
            record_id = self._upsert(
                "component", existing.get(key), values, row.line, site=asset.site_code, ident=ident
            )
            if record_id:
                existing[key] = record_id

    def _existing_components(self, asset_ids: list[str]) -> dict[tuple[str, str, str], str]:
        """Live components of these assets, by asset, kind and slot."""
        found: dict[tuple[str, str, str], str] = {}
        for part in chunks(asset_ids):
            query = select(RECORDS.c.id).where(
                RECORDS.c.entity == "component",
                RECORDS.c.parent_id.in_(part),
                RECORDS.c.deleted.is_(False),
            )
            self.work.load(list(self.session.scalars(query)))
        for state in self.work.records.values():
            if state.entity == "component" and not state.deleted:
                f = state.fields
                found[(f["asset_id"], f["kind"], str(f["slot"]).casefold())] = state.id
        return found

    def _site(self, code: str) -> str:
        """The site record's id, made when the site is new."""
        owner = self.work.unique_owner("site", "code", code)
        if owner is not None:
            return owner
        state = self._new("site", {"code": code, "name": code}, site=code)
        self.work.claim_unique("site", "code", code, state.id)
        return state.id

    def _load_locations(self, sites: list[str]) -> None:
        """The live locations of these sites, by site, parent, kind and name."""
        for part in chunks(sites):
            query = select(RECORDS.c.id).where(
                RECORDS.c.entity == "location",
                RECORDS.c.site_code.in_(part),
                RECORDS.c.deleted.is_(False),
            )
            self.work.load(list(self.session.scalars(query)), lock=False)
        for state in self.work.records.values():
            if state.entity == "location" and not state.deleted:
                f = state.fields
                key = (f["site_code"], f["parent_id"], f["kind"], code_key(f["name"]))
                self._locations[key] = state.id

    def _location(
        self, site: str, parent: str | None, kind: str, name: str, path: tuple[str, ...]
    ) -> str:
        """A location's id, made when it is new (derived from its path, as devices derive it)."""
        key = (site, parent, kind, code_key(name))
        if key not in self._locations:
            values = {"site_code": site, "parent_id": parent, "kind": kind, "name": name}
            ident = catalogue_location_id(site, *path)
            self._locations[key] = self._new("location", values, site=site, ident=ident).id
        return self._locations[key]

    def _place(self, row: AssetRow) -> str | None:
        """The id of the room or rack an asset is in (made when new)."""
        site = row.site_code
        room = self._location(site, None, "room", row.room, (row.room,)) if row.room else None
        if row.rack:
            path = (row.room, row.rack) if row.room else (row.rack,)
            return self._location(site, room, "rack", row.rack, path)
        return room

    def _new(
        self, entity: str, values: dict[str, Any], site: str | None, ident: str | None = None
    ) -> RecordState:
        """A new record made by the import.

        Catalogue records take the id derived from their natural key (see
        fieldops.domain.identifiers), so a device that imported the same export has the same
        ids; a new id is made only when that one is taken (a record deleted earlier).
        """
        if ident is None or self.work.get(ident) is not None:
            ident = new_id()
        state = RecordState(
            id=ident,
            entity=entity,
            version=1,
            site_code=site,
            parent_id=values.get("asset_id"),
            blob=None,
            deleted=False,
            fields=validated(ENTITY_KINDS[entity], values),
            field_versions={},
            created_at=self.now,
            created_by=self.user_id,
        )
        self.tally.created += entity in ("asset", "component")
        return self.work.create(state)

    def _upsert(
        self,
        entity: str,
        record_id: str | None,
        values: dict[str, Any],
        line: int,
        site: str | None,
        ident: str | None = None,
    ) -> str | None:
        """Creates the record, or updates the fields that differ; returns its id."""
        try:
            checked = validated(ENTITY_KINDS[entity], values)
        except Rejection as rejection:
            self.tally.errors.append(RowError(line, rejection.reason))
            return None
        current = self.work.get(record_id) if record_id else None
        if current is None or current.deleted:
            state = self._new(entity, checked, site=site, ident=ident)
            if entity == "asset":
                self.work.claim_unique("asset", "asset_tag", checked["asset_tag"], state.id)
            return state.id
        changed = [name for name in checked if checked[name] != current.fields.get(name)]
        if not changed:
            self.tally.unchanged += 1
            return current.id
        current.version += 1
        current.fields = {**current.fields, **checked}
        current.site_code = site
        current.field_versions.update({name: current.version for name in changed})
        self.work.touch(current)
        self.tally.updated += 1
        return current.id
