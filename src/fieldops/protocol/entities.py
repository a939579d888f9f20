"""The entity kinds that travel between client and server, and the fields each one has.

Adding a kind means adding its fields model and an EntityKind entry here, and an applier in
the server's table; no new endpoint is needed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from fieldops.domain.incidents import Category, Level, PhysicalSubtype, Priority, Status
from fieldops.protocol.values import (
    LongText,
    RackUnit,
    RequiredText,
    Sha256,
    ShortText,
    SiteCode,
    Title,
    UtcTime,
    Uuid,
)


def no_control(text: str) -> str:
    """Text without control characters (a code, or a scan with its controls escaped)."""
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise ValueError("contains a control character")
    return text


def not_blank(text: str) -> str:
    """Text with something besides white space in it."""
    if not text.strip():
        raise ValueError("is blank")
    return text


CodeText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128),
    AfterValidator(no_control),
    AfterValidator(not_blank),
]
"""A code as printed on a label: no control characters, leading zeros kept."""

RawScan = Annotated[str, StringConstraints(max_length=256), AfterValidator(no_control)]
"""What a scanner sent, with its control characters written out as escapes."""

LayoutName = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(no_control)
]
"""A label layout such as avery-l7651 or zpl-203dpi-2x1in."""

PartKind = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9 _-]{0,31}$")]
"""A part kind word: psu, disk, fan, dimm, battery, or another lower-case word."""


class Ownership(StrEnum):
    """Who writes a kind and how its changes combine."""

    CATALOGUE = "catalogue"
    """Server-owned reference data: pulled by every client, written by administrators."""
    MUTABLE = "mutable"
    """Edited on devices and merged field by field against the base version."""
    APPEND_ONLY = "append-only"
    """Created once and never edited, so never in conflict."""


class EntityFields(BaseModel):
    """Base of every kind's fields: unknown fields are refused, values are checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteFields(EntityFields):
    """A site such as a data centre or a branch office."""

    code: SiteCode
    name: ShortText = ""


class LocationFields(EntityFields):
    """A place inside a site: building, floor, room, row or rack, as a tree."""

    site_code: SiteCode
    parent_id: Uuid | None = None
    kind: Literal["building", "floor", "room", "row", "rack"]
    name: RequiredText


class AssetFields(EntityFields):
    """A piece of equipment with a label."""

    asset_tag: RequiredText
    serial: ShortText = ""
    name: ShortText = ""
    manufacturer: ShortText = ""
    model: ShortText = ""
    model_number: ShortText = ""
    category: ShortText = ""
    status: ShortText = ""
    site_code: SiteCode
    location_id: Uuid | None = None
    rack_u: RackUnit | None = None
    rack_face: Literal["front", "rear"] | None = None
    notes: LongText = ""
    provisional: bool = False


class ComponentFields(EntityFields):
    """A part inside an asset: PSU, disk, fan, DIMM, battery and so on."""

    asset_id: Uuid
    kind: PartKind
    slot: ShortText = ""
    model: ShortText = ""
    serial: ShortText = ""


class IncidentFields(EntityFields):
    """Something that broke or happened, with its post-mortem."""

    number: str | None = None
    asset_id: Uuid | None = None
    location_id: Uuid | None = None
    site_code: SiteCode
    category: Category
    subtype: PhysicalSubtype | None = None
    impact: Level
    urgency: Level
    priority: Priority | None = None
    status: Status = Status.NEW
    title: Title
    description: LongText = ""
    occurred_at: UtcTime
    reported_at: UtcTime
    reporter: ShortText = ""
    resolution: LongText = ""
    root_cause: LongText = ""
    contributing_factors: LongText = ""
    lessons_learned: LongText = ""
    follow_up_actions: LongText = ""


class NoteFields(EntityFields):
    """A note on an incident or an asset."""

    incident_id: Uuid | None = None
    asset_id: Uuid | None = None
    body: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    author: ShortText = ""
    created_at: UtcTime


class PhotoFields(EntityFields):
    """A photo on an incident or an asset; the image itself is a blob named by its hash."""

    incident_id: Uuid | None = None
    asset_id: Uuid | None = None
    sha256: Sha256
    size: int = Field(ge=1)
    mime: Annotated[str, StringConstraints(pattern=r"^image/[a-z0-9.+-]{1,40}$")]
    width: int | None = Field(default=None, ge=1)
    height: int | None = Field(default=None, ge=1)
    created_at: UtcTime


class ReplacementFields(EntityFields):
    """A part swapped in an asset: old and new serial, RMA and what became of the old part."""

    asset_id: Uuid
    incident_id: Uuid | None = None
    component_id: Uuid | None = None
    old_serial: ShortText = ""
    new_serial: ShortText = ""
    rma_number: ShortText = ""
    old_part_fate: Literal[
        "returned-to-vendor", "scrapped", "kept-as-spare", "sent-for-repair", "other"
    ]
    notes: LongText = ""
    created_at: UtcTime


class AssetCodeFields(EntityFields):
    """A code a technician attached to an asset in the field: a relabel, a corrected scan."""

    asset_id: Uuid
    code: CodeText
    kind: Literal["label", "mac"] = "label"
    source: Literal["scan", "typed", "profile-corrected"]
    raw: RawScan = ""
    created_at: UtcTime
    created_by: ShortText = ""


class LabelPrintFields(EntityFields):
    """Labels printed for an asset: which symbology, layout and output."""

    asset_id: Uuid
    symbology: Literal["code128", "qr", "datamatrix"]
    digital_link: bool = False
    layout: LayoutName
    output: Literal["pdf", "zpl"]
    printed_at: UtcTime
    printed_by: ShortText = ""


@dataclass(frozen=True)
class EntityKind:
    """How one kind travels: its fields, who owns it, and how it maps to a site."""

    name: str
    fields: type[EntityFields]
    ownership: Ownership
    site_field: str | None = None
    """The field that names the record's site directly (site_code, or code for a site)."""
    parents: tuple[str, ...] = ()
    """Fields, in order of preference, naming the record whose site this one belongs to."""
    references: dict[str, str] = field(default_factory=dict)
    """Fields holding the id of another record, and that record's kind."""
    unique: tuple[str, ...] = ()
    """Fields whose value is unique across all records of the kind, ignoring case."""
    unique_shared_by: dict[str, str] = field(default_factory=dict)
    """Unique fields whose value records may share when this other field is equal too.

    An attached code names one asset: two devices attaching it to the same asset both count,
    while attaching it to another asset is refused.
    """
    server_fields: frozenset[str] = frozenset()
    """Fields the server assigns; values a client sends for them are ignored."""
    blob_field: str | None = None
    """The field naming a blob (by SHA-256) that must be on the server first."""

    @property
    def append_only(self) -> bool:
        """Whether records of this kind are never edited."""
        return self.ownership is Ownership.APPEND_ONLY

    @property
    def field_names(self) -> tuple[str, ...]:
        """The kind's field names, in declaration order."""
        return tuple(self.fields.model_fields)

    def required_fields(self) -> tuple[str, ...]:
        """Fields a create must carry."""
        return tuple(
            name
            for name, info in self.fields.model_fields.items()
            if info.is_required() and name not in self.server_fields
        )


def _kinds(*kinds: EntityKind) -> dict[str, EntityKind]:
    """The kinds by name."""
    return {kind.name: kind for kind in kinds}


ENTITY_KINDS: dict[str, EntityKind] = _kinds(
    EntityKind("site", SiteFields, Ownership.CATALOGUE, site_field="code", unique=("code",)),
    EntityKind(
        "location",
        LocationFields,
        Ownership.CATALOGUE,
        site_field="site_code",
        references={"parent_id": "location"},
    ),
    EntityKind(
        "asset",
        AssetFields,
        Ownership.MUTABLE,
        site_field="site_code",
        references={"location_id": "location"},
        unique=("asset_tag",),
    ),
    EntityKind(
        "component",
        ComponentFields,
        Ownership.MUTABLE,
        parents=("asset_id",),
        references={"asset_id": "asset"},
    ),
    EntityKind(
        "incident",
        IncidentFields,
        Ownership.MUTABLE,
        site_field="site_code",
        references={"asset_id": "asset", "location_id": "location"},
        server_fields=frozenset({"number", "priority"}),
    ),
    EntityKind(
        "note",
        NoteFields,
        Ownership.APPEND_ONLY,
        parents=("incident_id", "asset_id"),
        references={"incident_id": "incident", "asset_id": "asset"},
    ),
    EntityKind(
        "photo",
        PhotoFields,
        Ownership.APPEND_ONLY,
        parents=("incident_id", "asset_id"),
        references={"incident_id": "incident", "asset_id": "asset"},
        blob_field="sha256",
    ),
    EntityKind(
        "replacement",
        ReplacementFields,
        Ownership.APPEND_ONLY,
        parents=("asset_id",),
        references={
            "asset_id": "asset",
            "incident_id": "incident",
            "component_id": "component",
        },
    ),
    EntityKind(
        "asset_code",
        AssetCodeFields,
        Ownership.APPEND_ONLY,
        parents=("asset_id",),
        references={"asset_id": "asset"},
        unique=("code",),
        unique_shared_by={"code": "asset_id"},
        server_fields=frozenset({"created_by"}),
    ),
    EntityKind(
        "label_print",
        LabelPrintFields,
        Ownership.APPEND_ONLY,
        parents=("asset_id",),
        references={"asset_id": "asset"},
        server_fields=frozenset({"printed_by"}),
    ),
)
"""Every kind this protocol version carries, by wire name."""


def entity_kind(name: str) -> EntityKind | None:
    """The kind with this wire name, or None when this version does not know it."""
    return ENTITY_KINDS.get(name)


def dump_fields(model: EntityFields) -> dict[str, Any]:
    """A fields model as the JSON-ready dict that travels and is stored."""
    return model.model_dump(mode="json")
