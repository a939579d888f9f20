"""Push and pull, and the lead's view of devices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from fieldops.protocol import (
    DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT,
    ClientInfo,
    Paths,
    PullResponse,
    PushRequest,
    PushResponse,
    Role,
)
from fieldops.server.schema import Client, User
from fieldops.server.web import PrincipalDep, ServicesDep, error_responses, needs

router = APIRouter(tags=["sync"])


@router.post(
    Paths.PUSH,
    response_model=PushResponse,
    responses=error_responses(401, 403, 409, 422, 426, 503),
    **needs(Role.TECHNICIAN),
)
def push(body: PushRequest, principal: PrincipalDep, svc: ServicesDep) -> Response:
    """Applies a batch of one device's mutations, in order, exactly once each."""
    answer = svc.pusher.push(principal, body)
    return Response(content=answer.to_json(), media_type="application/json")


@router.get(
    Paths.PULL,
    response_model=PullResponse,
    responses=error_responses(401, 403, 410, 422, 426),
    **needs(Role.TECHNICIAN),
)
def pull(
    principal: PrincipalDep,
    svc: ServicesDep,
    cursor: Annotated[
        int, Query(ge=0, le=2**62, description="The next_cursor of the last page")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = DEFAULT_PULL_LIMIT,
) -> Response:
    """The records changed after a cursor, for the caller's sites, oldest first."""
    text = svc.puller.page(principal, cursor, limit)
    return Response(content=text, media_type="application/json")


@router.get(
    Paths.CLIENTS,
    response_model=list[ClientInfo],
    responses=error_responses(401, 403),
    **needs(Role.LEAD),
)
def clients(svc: ServicesDep) -> list[ClientInfo]:
    """Every device that has pushed, most recent first."""
    query = (
        select(Client, User.name)
        .outerjoin(User, User.id == Client.user_id)
        .order_by(Client.updated_at.desc())
        .limit(10_000)
    )
    with svc.read_factory() as session:
        return [
            ClientInfo(
                client_id=row.Client.client_id,
                user=row.name,
                last_seq=row.Client.last_seq,
                last_push_at=row.Client.updated_at,
            )
            for row in session.execute(query)
        ]
