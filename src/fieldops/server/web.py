"""What every route shares: the caller, role checks, JSON errors, protocol headers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fieldops.domain.errors import FieldOpsError, NotFoundError
from fieldops.protocol import (
    EPOCH_HEADER,
    MIN_CLIENT_VERSION,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    ErrorBody,
    ErrorCode,
    Role,
)
from fieldops.server.auth import Principal, authenticate
from fieldops.server.errors import ApiError, forbidden
from fieldops.server.push import upgrade_required
from fieldops.server.services import Services

log = logging.getLogger(__name__)

ROLE_EXTENSION = "x-fieldops-role"
"""OpenAPI extension naming the least role an operation needs ('public' for none)."""

_bearer = HTTPBearer(auto_error=False, description="The token from POST /api/v1/login.")


def services(request: Request) -> Services:
    """The process's services."""
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


def current_principal(
    request: Request,
    svc: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The user the bearer token stands for."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(
            401,
            ErrorCode.UNAUTHENTICATED,
            "Log in first: this needs a bearer token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with svc.read_factory() as session:
        principal = authenticate(session, credentials.credentials, svc.settings.clock())
    request.state.user = principal.name
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(role: Role) -> Callable[[Principal], Principal]:
    """A dependency refusing callers below `role`."""

    def check(principal: PrincipalDep) -> Principal:
        if not principal.at_least(role):
            raise forbidden()
        return principal

    return check


def needs(role: Role | None, openapi: dict[str, Any] | None = None) -> dict[str, Any]:
    """Route options: the role check, and its declaration in the OpenAPI description."""
    extra = {**(openapi or {}), ROLE_EXTENSION: role.value if role else "public"}
    if role is None:
        return {"openapi_extra": extra}
    return {"dependencies": [Depends(require(role))], "openapi_extra": extra}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give."""
    return {status: {"model": ErrorBody} for status in statuses}


def _json(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, headers=headers or None
    )


def install_error_handlers(app: FastAPI) -> None:
    """Every error answer is an ErrorBody: a code and a sentence."""

    @app.exception_handler(ApiError)
    async def _api(_request: Request, error: ApiError) -> JSONResponse:
        return _json(error.status, error.body(), error.headers)

    @app.exception_handler(NotFoundError)
    async def _missing(_request: Request, error: NotFoundError) -> JSONResponse:
        return _json(404, ErrorBody(code=ErrorCode.NOT_FOUND, message=error.message))

    @app.exception_handler(FieldOpsError)
    async def _domain(_request: Request, error: FieldOpsError) -> JSONResponse:
        status = 409 if error.code == "user_exists" else 422
        code = ErrorCode.CONFLICT if status == 409 else ErrorCode.INVALID_REQUEST
        return _json(status, ErrorBody(code=code, message=error.message))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid"}
        where = ".".join(str(part) for part in first.get("loc", ())) or "request"
        message = f"The request is not valid: {where}: {first.get('msg', 'invalid')}."
        return _json(422, ErrorBody(code=ErrorCode.INVALID_REQUEST, message=message))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 404:
            body = ErrorBody(code=ErrorCode.NOT_FOUND, message="There is no such endpoint.")
        elif error.status_code == 405:
            body = ErrorBody(
                code=ErrorCode.METHOD_NOT_ALLOWED,
                message="This endpoint does not take that method.",
            )
        else:
            body = ErrorBody(code=ErrorCode.INVALID_REQUEST, message=str(error.detail))
        return _json(error.status_code, body, dict(error.headers or {}))

    @app.exception_handler(DataError)
    async def _bad_value(_request: Request, error: DataError) -> JSONResponse:
        # A value the database cannot store that the schema let through: refuse, never crash.
        log.warning("database refused a value: %s", type(error.orig).__name__)
        body = ErrorBody(
            code=ErrorCode.INVALID_REQUEST, message="A value in the request cannot be stored."
        )
        return _json(422, body)

    @app.exception_handler(OperationalError)
    async def _busy(_request: Request, error: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", type(error.orig).__name__)
        body = ErrorBody(code=ErrorCode.BUSY, message="The server's database is busy. Try again.")
        return _json(503, body, {"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _crash(request: Request, error: Exception) -> JSONResponse:
        log.exception("request %s %s failed", request.method, request.url.path)
        body = ErrorBody(
            code=ErrorCode.INTERNAL, message="The server failed on this request; it was logged."
        )
        return _json(500, body)


class ProtocolMiddleware:
    """Refuses clients too old for the server; marks every answer with protocol and epoch."""

    def __init__(self, app: ASGIApp, epoch: Callable[[], str]) -> None:
        self.app = app
        self.epoch = epoch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        marks = [
            (PROTOCOL_HEADER.lower().encode(), str(PROTOCOL_VERSION).encode()),
            (EPOCH_HEADER.lower().encode(), self.epoch().encode()),
        ]

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *marks]}
            await send(message)

        if refusal is not None:
            await refusal(scope, receive, marked)
            return
        await self.app(scope, receive, marked)

    @staticmethod
    def _refusal(scope: Scope) -> JSONResponse | None:
        """The answer to a request whose protocol header is too old or not a number."""
        wanted = PROTOCOL_HEADER.lower().encode()
        value = next((v for k, v in scope.get("headers", []) if k == wanted), None)
        if value is None:
            return None
        try:
            version = int(value)
        except ValueError:
            body = ErrorBody(
                code=ErrorCode.INVALID_REQUEST,
                message=f"The {PROTOCOL_HEADER} header must be a whole number.",
            )
            return _json(422, body)
        if version < MIN_CLIENT_VERSION:
            error = upgrade_required(version)
            return _json(error.status, error.body())
        return None
