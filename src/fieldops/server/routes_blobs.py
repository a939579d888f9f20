"""Photo blobs: ask how much is here, upload resumably, download."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select
from starlette.requests import ClientDisconnect

from fieldops.protocol import (
    UPLOAD_LENGTH_HEADER,
    UPLOAD_OFFSET_HEADER,
    BlobStatus,
    Paths,
    Role,
)
from fieldops.protocol.values import SHA256_PATTERN
from fieldops.server.auth import Principal
from fieldops.server.errors import ApiError, not_found
from fieldops.server.records import RECORDS
from fieldops.server.web import PrincipalDep, ServicesDep, error_responses, needs

log = logging.getLogger(__name__)

router = APIRouter(tags=["blobs"])

Sha = Annotated[str, Path(pattern=SHA256_PATTERN, description="SHA-256, lower-case hex")]

_BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.head(
    Paths.BLOB,
    responses={
        200: {"description": "Whole"},
        404: {"description": "Not whole yet"},
        **error_responses(401, 403, 422),
    },
    **needs(Role.TECHNICIAN),
)
def blob_status(sha256: Sha, svc: ServicesDep) -> Response:
    """How many bytes of a blob the server holds (200 when whole, 404 until then)."""
    state = svc.blobs.state(sha256)
    headers = {UPLOAD_OFFSET_HEADER: str(state.offset)}
    if state.complete:
        headers[UPLOAD_LENGTH_HEADER] = str(state.offset)
    return Response(status_code=200 if state.complete else 404, headers=headers)


@router.put(
    Paths.BLOB,
    response_model=BlobStatus,
    status_code=201,
    responses={
        200: {"model": BlobStatus, "description": "Already whole"},
        202: {"model": BlobStatus, "description": "Partly here: resume from offset"},
        **error_responses(401, 403, 409, 413, 422),
    },
    **needs(Role.TECHNICIAN, _BINARY_BODY),
)
async def upload_blob(
    sha256: Sha,
    request: Request,
    svc: ServicesDep,
    upload_length: Annotated[int, Header(alias=UPLOAD_LENGTH_HEADER, ge=1, le=2**62)],
    upload_offset: Annotated[int, Header(alias=UPLOAD_OFFSET_HEADER, ge=0, le=2**62)] = 0,
) -> JSONResponse:
    """Stores bytes of a blob from an offset; the whole blob is checked against its name."""
    store = svc.blobs
    if store.size(sha256) is not None:
        return _status(200, sha256, upload_length, True)
    store.check_length(upload_length)
    try:
        with store.writer(sha256, upload_offset, upload_length) as writer:
            try:
                async for chunk in request.stream():
                    writer.write(chunk)
            except ClientDisconnect:
                log.info("upload of blob %s cut off at %d bytes", sha256, writer.offset)
            offset, complete = writer.offset, writer.complete
        # Checked only after the writer has flushed and closed the partial file: a small blob
        # is still in the file buffer until then, and would hash wrong.
        if complete:
            await run_in_threadpool(store.finish, sha256)
    except ApiError as error:
        if error.code == "invalid_request":
            store.discard(sha256)
        raise
    return _status(201 if complete else 202, sha256, offset, complete)


def _status(status: int, sha256: str, offset: int, complete: bool) -> JSONResponse:
    body = BlobStatus(sha256=sha256, offset=offset, complete=complete)
    return JSONResponse(
        body.model_dump(), status_code=status, headers={UPLOAD_OFFSET_HEADER: str(offset)}
    )


@router.get(
    Paths.BLOB,
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        **error_responses(401, 403, 404, 422),
    },
    **needs(Role.TECHNICIAN),
)
def download_blob(sha256: Sha, principal: PrincipalDep, svc: ServicesDep) -> FileResponse:
    """A whole blob, to callers who may see a photo that names it."""
    if svc.blobs.size(sha256) is None or not _may_read(svc, principal, sha256):
        raise not_found("file")
    return FileResponse(svc.blobs.path(sha256), media_type="application/octet-stream")


def _may_read(svc: ServicesDep, principal: Principal, sha256: str) -> bool:
    """Whether a live photo in the caller's sites names this blob."""
    if principal.sees_all_sites:
        return True
    query = (
        select(RECORDS.c.id)
        .where(
            RECORDS.c.blob == sha256,
            RECORDS.c.deleted.is_(False),
            RECORDS.c.site_code.in_(sorted(principal.sites)),
        )
        .limit(1)
    )
    with svc.read_factory() as session:
        return session.execute(query).first() is not None
