"""Importing a Snipe-IT, NetBox, FieldOps or components CSV file into the server's records.

Sites, rooms and racks are found or made from the location columns; assets are matched by
asset tag and components by asset, kind and slot, so importing the same file twice changes
nothing the second time.

A re-import is a three-way merge per field against what the previous import wrote (kept in
the import_baselines table, see fieldops.server.import_merge): a field the file has not
changed since then keeps the record's value, so a part replaced or an asset moved in the field
is not undone by importing the same export again.
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
from fieldops.protocol import ENTITY_KINDS, ImportConflict, ImportLineError, ImportSummary
from fieldops.server.apply import Rejection, validated
from fieldops.server.import_merge import Baselines, Merged, conflict_entries, merge
from fieldops.server.records import RECORDS, RecordState, WorkSet, chunks

log = logging.getLogger(__name__)


@dataclass
class _Tally:
    """What the import did so far."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    errors: list[RowError] = field(default_factory=list)
    conflicts: list[ImportConflict] = field(default_factory=list)


class CatalogueImporter:
    """Writes parsed catalogue rows into one transaction's records."""

    def __init__(self, session: Session, now: datetime, user_id: int | None) -> None:
        self.work = WorkSet(session, now)
        self.baselines = Baselines(session, now)
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
        self.baselines.flush()
        summary = ImportSummary(
            format=parsed.format.value,
            created=self.tally.created,
            updated=self.tally.updated,
            unchanged=self.tally.unchanged,
            errors=[
                ImportLineError(line=e.line, reason=e.reason)
                for e in sorted(self.tally.errors, key=lambda e: e.line)
            ],
            kept=self.tally.kept,
            conflicts=self.tally.conflicts,
        )
        log.info(
            "imported %s catalogue: %d created, %d updated, %d unchanged, %d refused, "
            "%d field changes kept, %d conflicts",
            summary.format,
            summary.created,
            summary.updated,
            summary.unchanged,
            len(summary.errors),
            summary.kept,
            len(summary.conflicts),
        )
        return summary

    def _assets(self, rows: list[AssetRow]) -> None:
        sites = sorted({row.site_code for row in rows})
        self.work.load_unique("site", "code", sites)
        self.work.load_unique("asset", "asset_tag", [row.asset_tag for row in rows])
        for site in sites:
            self._site(site)
        self._load_locations(sites)
        owners = self._asset_owners(rows)
        self.work.load([o for o in owners if o])
        self.baselines.load(o for o in owners if o)
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
            key = code_key(row.asset_tag)
            self._upsert("asset", owner, values, row.line, key, ident=ident)

    def _asset_owners(self, rows: list[AssetRow]) -> list[str | None]:
        """The record each row is about: the holder of its tag, else the one last imported under it.

        A tag changed in the field since the last import no longer finds its asset by tag; the
        baseline still names it, so the row merges into that asset instead of making another.
        """
        owners = [self.work.unique_owner("asset", "asset_tag", r.asset_tag) for r in rows]
        missing = [code_key(r.asset_tag) for r, o in zip(rows, owners, strict=True) if o is None]
        if not missing:
            return owners
        before = self.baselines.records_by_key("asset", missing)
        self.work.load(before.values())
        taken = set(owners)
        for n, row in enumerate(rows):
            record_id = before.get(code_key(row.asset_tag))
            state = self.work.get(record_id) if record_id and owners[n] is None else None
            if state is not None and not state.deleted and state.id not in taken:
                owners[n] = state.id
                taken.add(state.id)
        return owners

    def _components(self, rows: list[ComponentRow]) -> None:
        tags = [row.asset_tag for row in rows]
        self.work.load_unique("asset", "asset_tag", tags)
        owners = {t: self.work.unique_owner("asset", "asset_tag", t) for t in tags}
        asset_ids = sorted({o for o in owners.values() if o})
        self.work.load(asset_ids)
        existing = self._existing_components(asset_ids)
        self.baselines.load(existing.values())
        for state_id in list(existing.values()):
            self._index_by_baseline(existing, state_id)
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
            natural = "/".join(code_key(p) for p in (row.asset_tag, row.kind, row.slot))
            record_id = self._upsert(
                "component", existing.get(key), values, row.line, natural, ident
            )
            if record_id:
                existing[key] = record_id

    def _index_by_baseline(self, existing: dict[tuple[str, str, str], str], state_id: str) -> None:
        """Finds a component also by the asset, kind and slot the last import gave it.

        So a part whose slot or kind was corrected in the field still matches its file row.
        """
        baseline = self.baselines.get(state_id)
        if baseline is None:
            return
        f = baseline.fields
        if all(isinstance(f.get(n), str) for n in ("asset_id", "kind", "slot")):
            existing[(f["asset_id"], f["kind"], f["slot"].casefold())] = state_id

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
        key: str,
        ident: str | None = None,
    ) -> str | None:
        """Creates the record, or merges the file's values into it; returns its id."""
        try:
            checked = validated(ENTITY_KINDS[entity], values)
        except Rejection as rejection:
            self.tally.errors.append(RowError(line, rejection.reason))
            return None
        current = self.work.get(record_id) if record_id else None
        if current is None or current.deleted:
            state = self._new(entity, checked, site=self._site_for(entity, checked), ident=ident)
            if entity == "asset":
                self.work.claim_unique("asset", "asset_tag", checked["asset_tag"], state.id)
            self.baselines.write(state, key, checked)
            return state.id
        merged = merge(entity, checked, current, self.baselines.get(current.id))
        self.tally.kept += merged.kept
        self.tally.conflicts += conflict_entries(merged, line, entity, current.id, key)
        self.baselines.write(current, key, checked, merged)
        if not self._apply(entity, current, merged, line):
            self.tally.unchanged += 1
        return current.id

    def _apply(self, entity: str, current: RecordState, merged: Merged, line: int) -> bool:
        """Writes the merged fields to the record; False when none changed."""
        try:
            fields = validated(ENTITY_KINDS[entity], merged.fields)
        except Rejection as rejection:
            self.tally.errors.append(RowError(line, rejection.reason))
            return False
        if entity == "asset" and not self._move_tag(current, fields["asset_tag"], line):
            fields["asset_tag"] = current.fields["asset_tag"]
        changed = [name for name in fields if fields[name] != current.fields.get(name)]
        if not changed:
            return False
        site = self._site_for(entity, fields)
        if site != current.site_code:
            self._move_children(current, site)
        current.version += 1
        current.fields = fields
        current.site_code = site
        current.parent_id = fields.get("asset_id")
        current.field_versions.update({name: current.version for name in changed})
        self.work.touch(current)
        self.tally.updated += 1
        return True

    def _site_for(self, entity: str, fields: dict[str, Any]) -> str | None:
        """The site a record is scoped to: its own, or its asset's."""
        if entity == "component":
            asset = self.work.get(fields["asset_id"])
            return asset.site_code if asset else None
        site: str | None = fields.get("site_code")
        return site

    def _move_tag(self, current: RecordState, tag: str, line: int) -> bool:
        """Gives the asset the merged tag; False when another asset holds it (the tag stays)."""
        old = current.fields.get("asset_tag")
        if not isinstance(old, str) or code_key(old) == code_key(tag):
            return True
        owner = self.work.unique_owner("asset", "asset_tag", tag)
        if owner is not None and owner != current.id:
            reason = f"asset tag '{tag}' is held by another asset; '{old}' was kept"
            self.tally.errors.append(RowError(line, reason))
            return False
        self.work.release_unique("asset", "asset_tag", old)
        self.work.claim_unique("asset", "asset_tag", tag, current.id)
        return True

    def _move_children(self, record: RecordState, site: str | None) -> None:
        """Records scoped through this one follow it to its new site."""
        for child in self.work.children(record.id):
            if child.site_code != site:
                child.site_code = site
                self.work.touch(child)
