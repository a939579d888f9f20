"""The local database's tables, as SQLAlchemy 2 typed models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, MetaData, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from fieldops.domain.identifiers import new_id
from fieldops.domain.times import utcnow
from fieldops.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every local table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Site(Base):
    """A place the organisation works in: a data centre or a branch."""

    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=0)


class Location(Base):
    """A node in a site's tree: building, room, row or rack."""

    __tablename__ = "locations"
    __table_args__ = (Index("ix_locations_site_parent_name", "site_code", "parent_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("locations.id"), default=None)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[Location | None] = relationship(remote_side=[id])
    site: Mapped[Site] = relationship()


class Asset(Base):
    """A thing with a label: server, switch, UPS, laptop."""

    __tablename__ = "assets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    asset_tag: Mapped[str] = mapped_column(String(128))
    # The tag in matching form (see fieldops.domain.identifiers.code_key): unique, so the same
    # tag in another case is the same asset.
    tag_key: Mapped[str] = mapped_column(String(128), unique=True)
    serial: Mapped[str] = mapped_column(String(128), default="")
    name: Mapped[str] = mapped_column(String(256), default="")
    manufacturer: Mapped[str] = mapped_column(String(128), default="")
    model: Mapped[str] = mapped_column(String(128), default="")
    model_number: Mapped[str] = mapped_column(String(128), default="")
    category: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(64), default="")
    site_code: Mapped[str | None] = mapped_column(ForeignKey("sites.code"), default=None)
    location_id: Mapped[str | None] = mapped_column(ForeignKey("locations.id"), default=None)
    rack_u: Mapped[int | None] = mapped_column(Integer, default=None)
    rack_face: Mapped[str | None] = mapped_column(String(8), default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site | None] = relationship()
    location: Mapped[Location | None] = relationship()
    components: Mapped[list[Component]] = relationship(
        back_populates="asset", order_by="Component.slot"
    )


class Component(Base):
    """A part inside an asset: PSU, disk, fan, DIMM, battery."""

    __tablename__ = "components"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    slot: Mapped[str] = mapped_column(String(64), default="")
    model: Mapped[str] = mapped_column(String(128), default="")
    serial: Mapped[str] = mapped_column(String(128), default="")
    version: Mapped[int] = mapped_column(Integer, default=0)

    asset: Mapped[Asset] = relationship(back_populates="components")


class AssetCode(Base):
    """One identifier an asset answers to, in its matching form, so one query serves every scan."""

    __tablename__ = "asset_codes"
    __table_args__ = (
        Index("ix_asset_codes_code", "code"),
        # A part's codes are replaced and cascade-deleted by its id; only parts' codes have one.
        Index(
            "ix_asset_codes_component_id",
            "component_id",
            sqlite_where=text("component_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    component_id: Mapped[str | None] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str] = mapped_column(String(24))
    code: Mapped[str] = mapped_column(String(256))

    # Declared so the unit of work inserts assets and components before their codes.
    asset: Mapped[Asset] = relationship()
    component: Mapped[Component | None] = relationship()


class Incident(Base):
    """Something that broke, on an asset or at a location, and what was done about it."""

    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    number: Mapped[str | None] = mapped_column(String(32), default=None)
    asset_id: Mapped[str | None] = mapped_column(ForeignKey("assets.id"), default=None, index=True)
    location_id: Mapped[str | None] = mapped_column(ForeignKey("locations.id"), default=None)
    site_code: Mapped[str | None] = mapped_column(ForeignKey("sites.code"), default=None)
    category: Mapped[str] = mapped_column(String(32))
    subtype: Mapped[str | None] = mapped_column(String(32), default=None)
    impact: Mapped[str] = mapped_column(String(8))
    urgency: Mapped[str] = mapped_column(String(8))
    priority: Mapped[str] = mapped_column(String(4), index=True)
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    reporter: Mapped[str] = mapped_column(String(128), default="")
    resolution: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    contributing_factors: Mapped[str] = mapped_column(Text, default="")
    lessons_learned: Mapped[str] = mapped_column(Text, default="")
    follow_up_actions: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site | None] = relationship()
    asset: Mapped[Asset | None] = relationship()
    location: Mapped[Location | None] = relationship()
    photos: Mapped[list[Photo]] = relationship(order_by="Photo.created_at")


class Note(Base):
    """A line of text added to an incident or asset; never edited."""

    __tablename__ = "notes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    incident_id: Mapped[str | None] = mapped_column(ForeignKey("incidents.id"), default=None)
    asset_id: Mapped[str | None] = mapped_column(ForeignKey("assets.id"), default=None)
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Photo(Base):
    """A picture attached to an incident or asset; the bytes live in the blob folder."""

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    incident_id: Mapped[str | None] = mapped_column(
        ForeignKey("incidents.id"), default=None, index=True
    )
    asset_id: Mapped[str | None] = mapped_column(ForeignKey("assets.id"), default=None)
    # The copy that travels (upright, no GPS or serial numbers): what the server stores.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # The original as taken, kept on this device only.
    original_sha256: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str] = mapped_column(String(260), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Replacement(Base):
    """A part swapped: old serial out, new serial in, the RMA and what became of the old part."""

    __tablename__ = "replacements"
    __table_args__ = (Index("ix_replacements_asset_created", "asset_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id"))
    incident_id: Mapped[str | None] = mapped_column(ForeignKey("incidents.id"), default=None)
    component_id: Mapped[str | None] = mapped_column(ForeignKey("components.id"), default=None)
    old_serial: Mapped[str] = mapped_column(String(128))
    new_serial: Mapped[str] = mapped_column(String(128))
    rma_number: Mapped[str] = mapped_column(String(64), default="")
    old_part_fate: Mapped[str] = mapped_column(String(32), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BlobUpload(Base):
    """A photo file the server has not confirmed yet; uploads resume from the server's offset."""

    __tablename__ = "blob_uploads"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Outbox(Base):
    """One change waiting to go to the server, written in the same transaction as the change."""

    __tablename__ = "outbox"
    # AUTOINCREMENT: a sequence number is never reused, even after the outbox empties, so the
    # server can tell a replay from a new change.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mutation_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(8))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    base_version: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    reject_code: Mapped[str] = mapped_column(String(32), default="")


class Conflict(Base):
    """A field changed here and on the server; the person chooses which value stays."""

    __tablename__ = "conflicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(64))
    mine: Mapped[dict[str, Any]] = mapped_column(JSON)
    theirs: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class SyncState(Base):
    """This device's identity towards the server and how far it has pulled (one row)."""

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    client_id: Mapped[str] = mapped_column(String(36), default=new_id)
    server_url: Mapped[str] = mapped_column(String(512), default="")
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    epoch: Mapped[str] = mapped_column(String(64), default="")
    # Wire sequence = outbox.seq - seq_base; moved when the server starts this client afresh.
    seq_base: Mapped[int] = mapped_column(Integer, default=0)
    username: Mapped[str] = mapped_column(String(64), default="")
    last_sync_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    clock_offset_s: Mapped[float | None] = mapped_column(default=None)


class AssetCodeEvent(Base):
    """A code a technician attached to an asset in the field, as recorded; never edited.

    Its matching form lives in asset_codes (kind "label" or "mac"), once per asset and code
    however many times it was attached, so a scan finds it.
    """

    __tablename__ = "asset_code_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default="label")
    source: Mapped[str] = mapped_column(String(24))
    # What the scanner sent, control characters written as escapes; for the history only.
    raw: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")

    asset: Mapped[Asset] = relationship()


class LabelPrint(Base):
    """Labels printed for an asset: symbology, layout and output; never edited."""

    __tablename__ = "label_prints"
    __table_args__ = (Index("ix_label_prints_asset_printed", "asset_id", "printed_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    symbology: Mapped[str] = mapped_column(String(16))
    digital_link: Mapped[bool] = mapped_column(Boolean, default=False)
    layout: Mapped[str] = mapped_column(String(64))
    output: Mapped[str] = mapped_column(String(8))
    printed_at: Mapped[datetime] = mapped_column(default=utcnow)
    printed_by: Mapped[str] = mapped_column(String(128), default="")

    asset: Mapped[Asset] = relationship()


class WaitingChange(Base):
    """A pulled record naming a record that has not arrived yet; applied when it does.

    The server sends records in the order they last changed, so an asset edited after a part
    was added to it comes after the part, possibly on a later page. Rows are taken in the
    order they were inserted (SQLite's rowid).
    """

    __tablename__ = "waiting_changes"

    entity_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    # The id of the record this one waits for (a code for a site); one at a time.
    waits_for: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
