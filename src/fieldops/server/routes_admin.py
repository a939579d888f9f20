"""Administration: users, sites and catalogue import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from fieldops.domain.catalogue import CatalogueFormat
from fieldops.protocol import (
    ErrorCode,
    ImportSummary,
    Paths,
    RevokeResult,
    Role,
    SiteInfo,
    SiteUpdate,
    UserCreate,
    UserInfo,
    UserUpdate,
)
from fieldops.protocol.messages import USER_NAME_PATTERN
from fieldops.protocol.values import SITE_CODE_PATTERN
from fieldops.server import users
from fieldops.server.catalogue_import import CatalogueImporter
from fieldops.server.db import in_transaction
from fieldops.server.errors import ApiError, not_found
from fieldops.server.sites import put_site, site_list
from fieldops.server.web import PrincipalDep, ServicesDep, error_responses, needs

router = APIRouter(tags=["administration"])

MAX_IMPORT_BYTES = 64 * 1024 * 1024

_CSV_BODY = {
    "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
}

UserPath = Annotated[str, Path(pattern=USER_NAME_PATTERN)]
SitePath = Annotated[str, Path(pattern=SITE_CODE_PATTERN)]


@router.get(
    Paths.USERS,
    response_model=list[UserInfo],
    responses=error_responses(401, 403),
    **needs(Role.ADMIN),
)
def list_users(svc: ServicesDep) -> list[UserInfo]:
    """Every user, by name."""
    with svc.read_factory() as session:
        return users.list_users(session)


@router.post(
    Paths.USERS,
    response_model=UserInfo,
    status_code=201,
    responses=error_responses(401, 403, 409, 422),
    **needs(Role.ADMIN),
)
def create_user(body: UserCreate, svc: ServicesDep) -> UserInfo:
    """Adds a user."""
    now = svc.settings.clock()
    return in_transaction(
        svc.factory,
        lambda s: users.create_user(
            s, svc.passwords, body.name, body.role, body.sites, body.password, now
        ),
    )


@router.patch(
    Paths.USER,
    response_model=UserInfo,
    responses=error_responses(401, 403, 404, 422),
    **needs(Role.ADMIN),
)
def update_user(name: UserPath, body: UserUpdate, svc: ServicesDep) -> UserInfo:
    """Changes a user's role, sites, password or whether they may log in."""
    now = svc.settings.clock()
    return in_transaction(
        svc.factory,
        lambda s: users.update_user(
            s,
            svc.passwords,
            name,
            now,
            role=body.role,
            sites=body.sites,
            disabled=body.disabled,
            password=body.password,
        ),
    )


@router.post(
    Paths.USER_REVOKE,
    response_model=RevokeResult,
    responses=error_responses(401, 403, 404),
    **needs(Role.ADMIN),
)
def revoke_tokens(name: UserPath, svc: ServicesDep) -> RevokeResult:
    """Ends every token a user holds."""
    now = svc.settings.clock()
    count = in_transaction(svc.factory, lambda s: users.revoke_tokens(s, name, now))
    return RevokeResult(revoked=count)


@router.get(
    Paths.SITES,
    response_model=list[SiteInfo],
    responses=error_responses(401, 403),
    **needs(Role.TECHNICIAN),
)
def list_sites(principal: PrincipalDep, svc: ServicesDep) -> list[SiteInfo]:
    """The sites the caller works at (every site for leads and administrators)."""
    with svc.read_factory() as session:
        return site_list(session, None if principal.sees_all_sites else principal.sites)


@router.put(
    Paths.SITE,
    response_model=SiteInfo,
    responses=error_responses(401, 403, 422),
    **needs(Role.ADMIN),
)
def set_site(
    code: SitePath, body: SiteUpdate, principal: PrincipalDep, svc: ServicesDep
) -> SiteInfo:
    """Creates a site or renames it."""
    now = svc.settings.clock()
    in_transaction(svc.factory, lambda s: put_site(s, code, body.name, principal.user_id, now))
    with svc.read_factory() as session:
        found = [site for site in site_list(session, frozenset({code})) if site.code == code]
    if not found:
        raise not_found("site")
    return found[0]


@router.post(
    Paths.CATALOGUE_IMPORT,
    response_model=ImportSummary,
    responses=error_responses(401, 403, 413, 422),
    **needs(Role.ADMIN, _CSV_BODY),
)
async def import_catalogue(
    request: Request,
    principal: PrincipalDep,
    svc: ServicesDep,
    fmt: Annotated[CatalogueFormat | None, Query(alias="format")] = None,
) -> ImportSummary:
    """Imports a Snipe-IT, NetBox, FieldOps or components CSV file."""
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_IMPORT_BYTES:
            raise ApiError(
                413,
                ErrorCode.TOO_LARGE,
                "The file is larger than 64 MB; split it and import again.",
            )
    now = svc.settings.clock()
    return await run_in_threadpool(
        in_transaction,
        svc.factory,
        lambda s: CatalogueImporter(s, now, principal.user_id).run(bytes(data), fmt),
    )
