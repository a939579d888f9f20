"""Server information, login, logout and who-am-I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from fieldops.protocol import (
    MIN_CLIENT_VERSION,
    PROTOCOL_VERSION,
    LoginRequest,
    LoginResponse,
    Paths,
    Role,
    ServerInfo,
    UserInfo,
)
from fieldops.server.auth import revoke_token
from fieldops.server.db import in_transaction
from fieldops.server.meta import read_epoch
from fieldops.server.web import PrincipalDep, ServicesDep, error_responses, needs

router = APIRouter(tags=["session"])


@router.get(Paths.INFO, response_model=ServerInfo, **needs(None))
def server_info(svc: ServicesDep) -> ServerInfo:
    """The server's protocol versions and epoch; asked before logging in."""
    with svc.read_factory() as session:
        epoch = read_epoch(session)
    return ServerInfo(
        protocol_version=PROTOCOL_VERSION,
        min_client_version=MIN_CLIENT_VERSION,
        epoch=epoch,
        server_time=svc.settings.clock(),
    )


@router.post(
    Paths.LOGIN,
    response_model=LoginResponse,
    responses=error_responses(401, 403, 422, 426, 429),
    **needs(None),
)
def login(body: LoginRequest, request: Request, svc: ServicesDep) -> LoginResponse:
    """A bearer token for a correct user name and password."""
    address = request.client.host if request.client else "unknown"
    issued = svc.logins.login(body.username, body.password, address, body.device)
    with svc.read_factory() as session:
        epoch = read_epoch(session)
    principal = issued.principal
    return LoginResponse(
        token=issued.token,
        expires_at=issued.expires_at,
        user=UserInfo(name=principal.name, role=principal.role, sites=sorted(principal.sites)),
        epoch=epoch,
        protocol_version=PROTOCOL_VERSION,
    )


@router.post(
    Paths.LOGOUT, status_code=204, responses=error_responses(401, 403), **needs(Role.TECHNICIAN)
)
def logout(principal: PrincipalDep, svc: ServicesDep) -> Response:
    """Ends the token this request carries."""
    token_id = principal.token_id
    if token_id is not None:
        now = svc.settings.clock()
        in_transaction(svc.factory, lambda s: revoke_token(s, token_id, now))
    return Response(status_code=204)


@router.get(
    Paths.ME, response_model=UserInfo, responses=error_responses(401, 403), **needs(Role.TECHNICIAN)
)
def me(principal: PrincipalDep) -> UserInfo:
    """The user the token belongs to, with their role and sites."""
    return UserInfo(name=principal.name, role=principal.role, sites=sorted(principal.sites))
