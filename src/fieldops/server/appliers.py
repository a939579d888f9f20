"""The table of appliers: one per entity kind, with that kind's own rules."""

from __future__ import annotations

from typing import Any

from fieldops.domain.errors import ValidationError
from fieldops.domain.incidents import (
    Category,
    Level,
    PhysicalSubtype,
    Status,
    check_subtype,
    check_transition,
    priority_for,
)
from fieldops.protocol import ENTITY_KINDS, RejectCode, Role
from fieldops.server.apply import (
    Applier,
    ApplyContext,
    Prepare,
    Rejection,
    lead_or_above,
)
from fieldops.server.auth import Principal
from fieldops.server.records import RecordState


def _admin_only(principal: Principal, _record: RecordState) -> bool:
    """Catalogue records are deleted by administrators."""
    return principal.role is Role.ADMIN


def _asset_delete(principal: Principal, record: RecordState) -> bool:
    """Administrators delete assets; anyone who covers the site may drop a provisional one."""
    return principal.role is Role.ADMIN or bool(record.fields.get("provisional"))


def _same_site(ctx: ApplyContext, values: dict[str, Any], name: str, site: str) -> None:
    """A referenced location must be at the record's own site."""
    record_id = values.get(name)
    record = ctx.work.get(record_id) if record_id else None
    if record is not None and record.site_code != site:
        raise Rejection(
            RejectCode.INVALID_FIELDS, f"The record named by {name} is at another site."
        )


def _location(ctx: ApplyContext, values: dict[str, Any], _current: RecordState | None) -> None:
    """A location's parent is at the same site."""
    _same_site(ctx, values, "parent_id", values["site_code"])


def _asset(ctx: ApplyContext, values: dict[str, Any], _current: RecordState | None) -> None:
    """An asset's location is at the asset's site."""
    _same_site(ctx, values, "location_id", values["site_code"])


def _incident(ctx: ApplyContext, values: dict[str, Any], current: RecordState | None) -> None:
    """Subtype rule, derived priority, status workflow, and the number on creation."""
    category = Category(values["category"])
    subtype = PhysicalSubtype(values["subtype"]) if values.get("subtype") else None
    try:
        check_subtype(category, subtype)
        if current is not None and values["status"] != current.fields["status"]:
            check_transition(Status(current.fields["status"]), Status(values["status"]))
    except ValidationError as error:
        code = (
            RejectCode.INVALID_FIELDS if "subtype" in error.message else RejectCode.BAD_TRANSITION
        )
        raise Rejection(code, error.message) from None
    closing = values["status"] == Status.CLOSED and (
        current is None or current.fields["status"] != Status.CLOSED
    )
    if closing and not ctx.principal.at_least(Role.LEAD):
        raise Rejection(RejectCode.FORBIDDEN, "Only a lead or an administrator closes incidents.")
    values["priority"] = priority_for(Level(values["impact"]), Level(values["urgency"])).value
    values["number"] = current.fields["number"] if current else ctx.next_incident_number()


def _photo(ctx: ApplyContext, values: dict[str, Any], _current: RecordState | None) -> None:
    """The photo's size is the size of the blob it names."""
    size = ctx.blob_size(values["sha256"])
    if size is None:
        raise Rejection(RejectCode.MISSING_REFERENCE, "The photo's image has not been uploaded.")
    if size != values["size"]:
        raise Rejection(
            RejectCode.INVALID_FIELDS,
            f"The photo says it has {values['size']} bytes but its image has {size}.",
        )


def _made_by(name: str) -> Prepare:
    """Fills the field naming who made the record with the caller's user name."""

    def prepare(ctx: ApplyContext, values: dict[str, Any], _current: RecordState | None) -> None:
        values[name] = ctx.principal.name

    return prepare


APPLIERS: dict[str, Applier] = {
    "site": Applier(ENTITY_KINDS["site"], may_delete=_admin_only),
    "location": Applier(ENTITY_KINDS["location"], _location, _admin_only),
    "asset": Applier(ENTITY_KINDS["asset"], _asset, _asset_delete),
    "component": Applier(ENTITY_KINDS["component"], may_delete=_admin_only),
    "incident": Applier(ENTITY_KINDS["incident"], _incident, lead_or_above),
    "note": Applier(ENTITY_KINDS["note"]),
    "photo": Applier(ENTITY_KINDS["photo"], _photo),
    "replacement": Applier(ENTITY_KINDS["replacement"]),
    "asset_code": Applier(ENTITY_KINDS["asset_code"], _made_by("created_by")),
    "label_print": Applier(ENTITY_KINDS["label_print"], _made_by("printed_by")),
}
"""Every kind the server applies; it must name every kind of ENTITY_KINDS."""
