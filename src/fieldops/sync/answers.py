"""Reads an HTTP answer: the sync error it stands for, or its JSON as a protocol model."""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as SchemaError

from fieldops.protocol import ErrorBody, ErrorCode
from fieldops.sync import errors as e
from fieldops.sync.urls import safe_url

Model = TypeVar("Model", bound=BaseModel)
Parsed = TypeVar("Parsed")

_GATEWAY_STATUSES = {502, 504}


@dataclass(frozen=True)
class Answer:
    """An answer as the transport read it: status, headers and the whole body."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    """The request's address, already stripped of secrets."""

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def looks_like_json(self) -> bool:
        """Whether the answer says it is JSON (or, saying nothing, starts like JSON)."""
        kind = self.content_type
        if kind:
            return kind == "application/json" or kind.endswith("+json")
        return self.body.lstrip()[:1] in (b"{", b"[")

    def looks_like_html(self) -> bool:
        """Whether the answer is a web page."""
        kind = self.content_type
        if kind in ("text/html", "application/xhtml+xml"):
            return True
        return not kind and self.body.lstrip()[:1] == b"<"


def parse(answer: Answer, model: type[Model]) -> Model:
    """The answer's JSON as a protocol model; a web page or bad JSON is an error."""
    check_json(answer)
    try:
        return model.model_validate_json(answer.body)
    except SchemaError as error:
        raise e.BadResponse(_schema_detail(error, model.__name__), answer.url) from error


def parse_list(answer: Answer, item: type[Parsed]) -> list[Parsed]:
    """The answer's JSON as a list of protocol models."""
    check_json(answer)
    try:
        return TypeAdapter(list[item]).validate_json(answer.body)  # type: ignore[valid-type]
    except SchemaError as error:
        raise e.BadResponse(_schema_detail(error, f"list of {item}"), answer.url) from error


def _schema_detail(error: SchemaError, name: str) -> str:
    problems = error.errors()
    if not problems:
        return f"not a valid {name}"
    where = ".".join(str(part) for part in problems[0]["loc"]) or "body"
    return f"not a valid {name}: {where}: {problems[0]['msg']}"


def check_json(answer: Answer) -> None:
    """Raises when a successful answer is not JSON (a captive portal's page, usually)."""
    if answer.looks_like_json():
        return
    if answer.looks_like_html():
        raise e.CaptivePortal(answer.status, answer.url)
    raise e.BadResponse(f"expected JSON, got {answer.content_type or 'no type'}", answer.url)


def error_for(answer: Answer, *, login: bool = False, proxy: str | None = None) -> e.SyncError:
    """The sync error an answer that is not a success stands for."""
    status = answer.status
    if 300 <= status < 400:
        return _redirect(answer)
    if status == 407:
        return e.ProxyAuthRequired(proxy or "in use", answer.url)
    if status == 511:  # Network Authentication Required: the portal says so itself
        return e.CaptivePortal(status, answer.url)
    body = _error_body(answer)
    if body is None and answer.body.strip() and not answer.looks_like_json():
        if status >= 500:
            return e.ServerFailure(status, None, answer.url, gateway=status in _GATEWAY_STATUSES)
        if answer.looks_like_html():
            return e.CaptivePortal(status, answer.url)
    return _by_status(status, body, answer, login)


def _by_status(status: int, body: ErrorBody | None, answer: Answer, login: bool) -> e.SyncError:
    url = answer.url
    if status == 401:
        wrong = login or (body is not None and body.code == ErrorCode.INVALID_CREDENTIALS)
        return e.WrongCredentials(body, url) if wrong else e.SignInRequired(body, url)
    if status == 409:
        return _conflict(body, url)
    if status in (429, 503):
        wait = retry_after(answer.headers, body)
        return e.RateLimited(body, wait, url) if status == 429 else e.ServerBusy(body, wait, url)
    simple: dict[int, Callable[[ErrorBody | None, str], e.HttpFailure]] = {
        403: e.AccessDenied,
        404: e.NotOnServer,
        410: e.ResyncRequired,
        413: e.TooLarge,
        426: e.UpgradeRequired,
    }
    if status in simple:
        return simple[status](body, url)
    if status >= 500:
        return e.ServerFailure(status, body, url, gateway=status in _GATEWAY_STATUSES)
    return e.RequestRejected(status, body, url)


def _conflict(body: ErrorBody | None, url: str) -> e.Conflict:
    code = body.code if body else None
    if code == ErrorCode.SEQUENCE_GAP:
        return e.SequenceGap(body, url)
    if code == ErrorCode.OFFSET_MISMATCH:
        return e.OffsetMismatch(body, url)
    return e.Conflict(body, url)


def _error_body(answer: Answer) -> ErrorBody | None:
    if not answer.body.strip() or not answer.looks_like_json():
        return None
    try:
        return ErrorBody.model_validate_json(answer.body)
    except SchemaError:
        return None


def _redirect(answer: Answer) -> e.SyncError:
    location = answer.headers.get("Location", "")
    target = urljoin(answer.url, location) if location else ""
    if target and urlsplit(target).hostname != urlsplit(answer.url).hostname:
        # Sent to another host: what a captive portal does with every request.
        return e.CaptivePortal(answer.status, answer.url)
    return e.UnexpectedRedirect(safe_url(target) if target else "another address", answer.url)


def retry_after(headers: Mapping[str, str], body: ErrorBody | None = None) -> float | None:
    """Seconds to wait, from a Retry-After header (seconds or a date), else from the body."""
    value = headers.get("Retry-After", "").strip()
    if value:
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
    if body is not None and body.retry_after is not None:
        return float(body.retry_after)
    return None
