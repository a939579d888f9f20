"""Sites: listing them with their asset counts, creating and renaming them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldops.domain.errors import ValidationError
from fieldops.domain.identifiers import new_id
from fieldops.protocol import ENTITY_KINDS, SiteInfo
from fieldops.server.apply import Rejection, validated
from fieldops.server.records import RECORDS, RecordState, WorkSet


def site_list(session: Session, visible: frozenset[str] | None) -> list[SiteInfo]:
    """Sites with their live asset counts; `visible` None means every site."""
    sites = select(RECORDS.c.site_code, RECORDS.c.fields).where(
        RECORDS.c.entity == "site", RECORDS.c.deleted.is_(False)
    )
    counts = (
        select(RECORDS.c.site_code, func.count())
        .where(RECORDS.c.entity == "asset", RECORDS.c.deleted.is_(False))
        .group_by(RECORDS.c.site_code)
    )
    if visible is not None:
        sites = sites.where(RECORDS.c.site_code.in_(sorted(visible)))
        counts = counts.where(RECORDS.c.site_code.in_(sorted(visible)))
    assets: dict[str | None, int] = {row[0]: row[1] for row in session.execute(counts)}
    found = []
    for code, text in session.execute(sites.order_by(RECORDS.c.site_code)):
        name = ENTITY_KINDS["site"].fields.model_validate_json(text).model_dump()["name"]
        found.append(SiteInfo(code=code, name=name, assets=assets.get(code, 0)))
    return found


def put_site(session: Session, code: str, name: str, user_id: int | None, now: datetime) -> None:
    """Creates a site or renames it."""
    work = WorkSet(session, now)
    owner = work.unique_owner("site", "code", code)
    try:
        values = validated(ENTITY_KINDS["site"], {"code": code, "name": name})
    except Rejection:
        raise ValidationError(
            f"'{code}' is not a site code: use letters, digits and - . _ (up to 32), and a "
            "name of up to 255 characters."
        ) from None
    if owner is None:
        state = RecordState(
            id=new_id(),
            entity="site",
            version=1,
            site_code=code,
            parent_id=None,
            blob=None,
            deleted=False,
            fields=values,
            field_versions={},
            created_at=now,
            created_by=user_id,
        )
        work.create(state)
        work.claim_unique("site", "code", code, state.id)
    else:
        work.load([owner])
        current = work.records[owner]
        if current.fields != values:
            current.version += 1
            current.fields = values
            current.field_versions["name"] = current.version
            work.touch(current)
    work.flush()
