"""Registering an asset the catalogue does not know yet, offline, as provisional."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldops.domain.errors import NotFoundError, ValidationError
from fieldops.domain.identifiers import code_key, new_id
from fieldops.domain.times import utcnow
from fieldops.i18n import tr
from fieldops.services.incidents import IncidentService, PreparedPhoto, link_photo
from fieldops.store.database import Database
from fieldops.store.models import Asset, AssetCode, Location
from fieldops.store.outbox import enqueue_create

log = logging.getLogger(__name__)

ASSET_FIELDS = (
    *("asset_tag", "serial", "name", "manufacturer", "model", "model_number", "category"),
    *("status", "site_code", "location_id", "rack_u", "rack_face", "notes", "provisional"),
)


@dataclass
class ProvisionalAsset:
    """What a technician knows about an unknown label."""

    asset_tag: str
    location_id: str
    serial: str = ""
    model: str = ""
    manufacturer: str = ""
    label_photo: Path | None = None


class AssetService:
    """Provisional assets: made on the device, queued, marked until the server confirms them."""

    def __init__(self, db: Database, photos: IncidentService) -> None:
        self._db = db
        self._photos = photos

    def register_provisional(self, draft: ProvisionalAsset) -> str:
        """Saves the asset (and its label photo) and queues it; returns the asset id."""
        tag = draft.asset_tag.strip()
        if not tag:
            raise ValidationError(tr("Give the asset tag printed on the label."))
        prepared = self._photos.prepare_photo(draft.label_photo) if draft.label_photo else None
        asset_id = self._db.write(lambda s: self._insert(s, draft, tag, prepared))
        log.info("provisional asset %s registered", asset_id)
        return asset_id

    def _insert(
        self, session: Session, draft: ProvisionalAsset, tag: str, prepared: PreparedPhoto | None
    ) -> str:
        if session.scalar(select(Asset.id).where(Asset.tag_key == code_key(tag))):
            raise ValidationError(
                tr("An asset with the tag {tag} is already in the catalogue.").format(tag=tag)
            )
        location = session.get(Location, draft.location_id)
        if location is None:
            raise NotFoundError(tr("Choose where the asset is from the list of locations."))
        now = utcnow()
        asset = Asset(
            id=new_id(), asset_tag=tag, tag_key=code_key(tag), serial=draft.serial.strip(),
            model=draft.model.strip(), manufacturer=draft.manufacturer.strip(),
            site_code=location.site_code, location_id=location.id, provisional=True,
            status="provisional", version=0, updated_at=now,
        )  # fmt: skip
        session.add(asset)
        session.flush()
        session.add(AssetCode(asset_id=asset.id, kind="tag", code=code_key(tag)))
        if asset.serial:
            session.add(AssetCode(asset_id=asset.id, kind="serial", code=code_key(asset.serial)))
        enqueue_create(session, "asset", asset, ASSET_FIELDS)
        if prepared is not None:
            link_photo(session, prepared, now, asset_id=asset.id)
        return asset.id
