"""Recording incidents with their photos, and reading them back."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fieldops.domain.errors import NotFoundError, ValidationError
from fieldops.domain.identifiers import new_id
from fieldops.domain.incidents import (
    Category,
    Level,
    PhysicalSubtype,
    Priority,
    Status,
    check_subtype,
    check_transition,
    priority_for,
)
from fieldops.domain.times import as_utc, utcnow
from fieldops.i18n import tr
from fieldops.media import photos as media
from fieldops.services.lookup import IncidentSummary, Place, place_of, summarise
from fieldops.store.blobs import BlobStore
from fieldops.store.database import Database
from fieldops.store.models import Asset, BlobUpload, Incident, Location, Photo
from fieldops.store.outbox import enqueue, enqueue_create

log = logging.getLogger(__name__)

TITLE_MAX = 200
Progress = Callable[[int, int], None]

INCIDENT_FIELDS = [
    "number",
    "asset_id",
    "location_id",
    "site_code",
    "category",
    "subtype",
    "impact",
    "urgency",
    "priority",
    "status",
    "title",
    "description",
    "occurred_at",
    "reported_at",
    "reporter",
    "resolution",
    "root_cause",
    "contributing_factors",
    "lessons_learned",
    "follow_up_actions",
]
EDITABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "status",
        "resolution",
        "root_cause",
        "contributing_factors",
        "lessons_learned",
        "follow_up_actions",
        "reporter",
    }
)
PHOTO_FIELDS = [
    "incident_id",
    "asset_id",
    "sha256",
    "size",
    "mime",
    "width",
    "height",
    "created_at",
]


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo already copied into the blob folder, ready to be linked to a record."""

    sha256: str
    size: int
    mime: str
    width: int
    height: int
    original_name: str
    original_sha256: str = ""


@dataclass
class IncidentDraft:
    """What a person filled in for a new incident."""

    title: str
    category: Category
    impact: Level
    urgency: Level
    subtype: PhysicalSubtype | None = None
    description: str = ""
    asset_id: str | None = None
    location_id: str | None = None
    occurred_at: datetime | None = None
    reporter: str = ""
    photos: list[Path] = field(default_factory=list)
    # Photos the window already checked and copied in while the person was typing.
    prepared_photos: list[PreparedPhoto] = field(default_factory=list)

    @property
    def priority(self) -> Priority:
        """The priority impact and urgency give."""
        return priority_for(self.impact, self.urgency)


@dataclass(frozen=True)
class PhotoView:
    """A stored photo and where its preview is."""

    id: str
    sha256: str
    mime: str
    width: int
    height: int
    size: int
    original_name: str
    copy: Path
    """The upright, location-free copy that travels to the server."""
    original: Path | None
    """The photo as taken, kept on this device only."""
    thumbnail: Path | None


@dataclass(frozen=True)
class IncidentDetail:
    """Everything about one incident."""

    summary: IncidentSummary
    impact: str
    urgency: str
    description: str
    reporter: str
    reported_at: datetime
    asset_id: str | None
    place: Place
    resolution: str
    photos: list[PhotoView]


def _check_draft(draft: IncidentDraft) -> None:
    if not draft.title.strip():
        raise ValidationError(tr("Give the incident a title."))
    if len(draft.title.strip()) > TITLE_MAX:
        raise ValidationError(tr("The title is too long: keep it under 200 characters."))
    check_subtype(draft.category, draft.subtype)
    if draft.asset_id is None and draft.location_id is None:
        raise ValidationError(tr("Say which asset or location the incident is about."))


def link_photo(
    session: Session,
    prepared: PreparedPhoto,
    now: datetime,
    *,
    incident_id: str | None = None,
    asset_id: str | None = None,
) -> Photo:
    """Records a prepared photo on an incident or an asset, queues it and its upload."""
    photo = Photo(
        id=new_id(),
        incident_id=incident_id,
        asset_id=asset_id,
        sha256=prepared.sha256,
        size=prepared.size,
        mime=prepared.mime,
        width=prepared.width,
        height=prepared.height,
        original_name=prepared.original_name,
        original_sha256=prepared.original_sha256,
        created_at=now,
    )
    session.add(photo)
    if session.get(BlobUpload, prepared.sha256) is None:
        session.add(BlobUpload(sha256=prepared.sha256, size=prepared.size))
    session.flush()
    enqueue_create(session, "photo", photo, PHOTO_FIELDS)
    return photo


class IncidentService:
    """Records incidents and photos; every change is queued for sync in the same transaction."""

    def __init__(self, db: Database, blobs: BlobStore, thumbnails: BlobStore) -> None:
        self._db = db
        self._blobs = blobs
        self._thumbnails = thumbnails

    def thumbnail_path(self, sha256: str) -> Path | None:
        """Where a photo's thumbnail is, if it has one."""
        path = self._thumbnails.path_for(sha256)
        return path if path.is_file() else None

    def prepare_photo(self, path: Path) -> PreparedPhoto:
        """Checks a picture, keeps the original and makes the copy that travels and a thumbnail.

        The travelling copy is upright and carries no GPS position, serial numbers or XMP; the
        original stays on this device only.
        """
        try:
            media.inspect_image(path)
        except media.PhotoError as refused:
            raise media.PhotoError(
                f"“{path.name}”: {refused.message}", problem=refused.problem
            ) from refused
        original, _ = self._blobs.put_file(path)
        with tempfile.TemporaryDirectory(dir=self._blobs.root) as tmp:
            clean = Path(tmp) / "outgoing"
            info = media.privacy_copy(self._blobs.path_for(original), clean)
            sha, size = self._blobs.put_file(clean)
        if not self._thumbnails.has(sha):
            self._thumbnails.put_bytes(media.make_thumbnail(self._blobs.path_for(sha)), sha)
        log.info("photo %s stored (%s, %d bytes)", sha[:12], info.mime, size)
        return PreparedPhoto(
            sha, size, info.mime, info.width, info.height, path.name, original_sha256=original
        )

    def record(self, draft: IncidentDraft, progress: Progress | None = None) -> str:
        """Saves a new incident and its photos; returns the incident's id."""
        _check_draft(draft)
        prepared = list(draft.prepared_photos)
        for index, path in enumerate(draft.photos):
            prepared.append(self.prepare_photo(Path(path)))
            if progress:
                progress(index + 1, len(draft.photos) + 1)
        incident_id = self._db.write(lambda s: self._insert(s, draft, prepared))
        if progress:
            progress(len(draft.photos) + 1, len(draft.photos) + 1)
        log.info("incident %s recorded with %d photos", incident_id, len(prepared))
        return incident_id

    def _insert(self, session: Session, draft: IncidentDraft, photos: list[PreparedPhoto]) -> str:
        site_code = self._site_of(session, draft)
        now = utcnow()
        incident = Incident(
            id=new_id(),
            asset_id=draft.asset_id,
            location_id=draft.location_id,
            site_code=site_code,
            category=draft.category.value,
            subtype=draft.subtype.value if draft.subtype else None,
            impact=draft.impact.value,
            urgency=draft.urgency.value,
            priority=draft.priority.value,
            status=Status.NEW.value,
            title=draft.title.strip(),
            description=draft.description.strip(),
            occurred_at=as_utc(draft.occurred_at) if draft.occurred_at else now,
            reported_at=now,
            reporter=draft.reporter.strip(),
            version=0,
            updated_at=now,
        )
        session.add(incident)
        session.flush()
        enqueue_create(session, "incident", incident, INCIDENT_FIELDS)
        for prepared in photos:
            link_photo(session, prepared, now, incident_id=incident.id, asset_id=incident.asset_id)
        return incident.id

    def _site_of(self, session: Session, draft: IncidentDraft) -> str | None:
        if draft.asset_id is not None:
            asset = session.get(Asset, draft.asset_id)
            if asset is None:
                raise NotFoundError(tr("That asset is no longer in the local catalogue."))
            if draft.location_id is None:
                draft.location_id = asset.location_id
            return asset.site_code
        location = session.get(Location, draft.location_id)
        if location is None:
            raise NotFoundError(tr("That location is no longer in the local catalogue."))
        return location.site_code

    def update(self, ref: str, changes: dict[str, Any]) -> int:
        """Changes some fields of an incident (queued as one update); returns its version."""
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise ValidationError(
                tr("These fields cannot be changed here: {names}.").format(
                    names=", ".join(sorted(unknown))
                )
            )

        def work(session: Session) -> int:
            incident = self.resolve_id(session, ref)
            if "status" in changes:
                check_transition(Status(incident.status), Status(changes["status"]))
            if "title" in changes and not str(changes["title"]).strip():
                raise ValidationError(tr("Give the incident a title."))
            for name, value in changes.items():
                setattr(incident, name, value)
            incident.updated_at = utcnow()
            enqueue(session, "incident", incident.id, "update", dict(changes), incident.version)
            return incident.version

        return self._db.write(work)

    def list(
        self,
        *,
        status: str | None = None,
        priority: str | None = None,
        asset_id: str | None = None,
        limit: int = 5000,
    ) -> list[IncidentSummary]:
        """Incidents, newest first, optionally filtered."""
        query = select(Incident).order_by(Incident.occurred_at.desc()).limit(limit)
        if status:
            query = query.where(Incident.status == status)
        if priority:
            query = query.where(Incident.priority == priority)
        if asset_id:
            query = query.where(Incident.asset_id == asset_id)
        with self._db.read() as session:
            return [summarise(session, i) for i in session.scalars(query).all()]

    def resolve_id(self, session: Session, ref: str) -> Incident:
        """Finds an incident by its id, a unique start of its id, or its INC number."""
        ref = ref.strip()
        incident = session.get(Incident, ref)
        if incident is not None:
            return incident
        numbered = session.scalar(select(Incident).where(Incident.number == ref.upper()))
        if numbered is not None:
            return numbered
        if len(ref) < 6:
            raise NotFoundError(tr("Give at least the first 6 characters of the incident id."))
        matches = session.scalars(
            select(Incident).where(or_(Incident.id.startswith(ref), Incident.number == ref.upper()))
        ).all()
        if not matches:
            raise NotFoundError(tr("No incident matches '{ref}'.").format(ref=ref))
        if len(matches) > 1:
            raise NotFoundError(
                tr("'{ref}' matches {n} incidents; give more of the id.").format(
                    ref=ref, n=len(matches)
                )
            )
        return matches[0]

    def get(self, ref: str) -> IncidentDetail:
        """One incident with its photos."""
        with self._db.read() as session:
            incident = self.resolve_id(session, ref)
            photos = [self._photo_view(p) for p in incident.photos]
            return IncidentDetail(
                summary=summarise(session, incident),
                impact=incident.impact,
                urgency=incident.urgency,
                description=incident.description,
                reporter=incident.reporter,
                reported_at=incident.reported_at,
                asset_id=incident.asset_id,
                place=place_of(session, incident.location_id, incident.site_code),
                resolution=incident.resolution,
                photos=photos,
            )

    def _photo_view(self, photo: Photo) -> PhotoView:
        thumb = self._thumbnails.path_for(photo.sha256)
        return PhotoView(
            id=photo.id,
            sha256=photo.sha256,
            mime=photo.mime,
            width=photo.width,
            height=photo.height,
            size=photo.size,
            original_name=photo.original_name,
            copy=self._blobs.path_for(photo.sha256),
            original=self._blobs.path_for(photo.original_sha256) if photo.original_sha256 else None,
            thumbnail=thumb if thumb.is_file() else None,
        )
