"""HTTP answers that are not a success: each status and error code has its own error.

Captive portals (an HTML page where JSON was expected, a redirect to another host, 511) are
told apart from the server's own errors. Redirects are never followed.
"""

from __future__ import annotations

from typing import Any

import pytest

from fieldops.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, PushRequest
from fieldops.sync import errors as e
from fieldops.sync.answers import retry_after
from fieldops.sync.transport import SyncClient, Timeouts
from tests.support.tls import CAPTIVE_PAGE, Reply, Request, ScriptedServer, always

QUICK = Timeouts(connect=1.0, read=2.0, deadline=5.0)
SHA = "a" * 64


def _error(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **details}


def _fails_with(reply: Reply, call: str = "pull") -> e.SyncError:
    """The error a client call raises when the server gives this reply."""
    with ScriptedServer(always(reply)) as server:
        client = SyncClient(server.url, token="secret-token", timeouts=QUICK)
        with pytest.raises(e.SyncError) as caught:
            getattr(client, call)()
        assert len(server.requests) == 1, "one request, no retry, no redirect followed"
    return caught.value


MAPPINGS = [
    (Reply.json(_error("token_expired", "Log in again."), 401), e.SignInRequired, "sign_in"),
    (Reply.json(_error("forbidden", "Your role does not allow this."), 403), e.AccessDenied, ""),
    (Reply.json(_error("not_found", "No such record."), 404), e.NotOnServer, "not_found"),
    (Reply.json(_error("conflict", "Taken."), 409), e.Conflict, "conflict"),
    (Reply.json(_error("resync_required", "Too old."), 410), e.ResyncRequired, ""),
    (Reply.json(_error("blob_too_large", "Over 50 MB."), 413), e.TooLarge, "too_large"),
    (Reply.json(_error("invalid_request", "Bad cursor."), 422), e.RequestRejected, "rejected"),
    (Reply.json(_error("internal_error", "Logged."), 500), e.ServerFailure, "server_error"),
    (Reply(502, b"Bad gateway"), e.ServerFailure, "server_error"),
    (Reply.html("<h1>502 Bad Gateway</h1>", 502), e.ServerFailure, "server_error"),
]


@pytest.mark.parametrize(("reply", "kind", "code"), MAPPINGS)
def test_each_status_has_its_own_error(reply: Reply, kind: type[e.SyncError], code: str) -> None:
    error = _fails_with(reply)
    assert type(error) is kind
    assert isinstance(error, e.HttpFailure) and error.status == reply.status
    if code:
        assert error.kind == code


def test_401_keeps_the_queue_and_asks_to_sign_in_again() -> None:
    error = _fails_with(Reply.json(_error("invalid_token", "Unknown token."), 401))
    assert isinstance(error, e.SignInRequired) and not isinstance(error, e.WrongCredentials)
    assert "Sign in again" in str(error) and "unsent changes are kept" in str(error)
    assert not error.transient


def test_426_names_the_version_the_server_asks_for() -> None:
    body = _error("upgrade_required", "Too old.", min_client_version=3, protocol_version=3)
    error = _fails_with(Reply.json(body, 426))
    assert isinstance(error, e.UpgradeRequired) and error.min_client_version == 3
    assert "protocol 3 or newer" in str(error) and "unsent changes are kept" in str(error)


def test_410_asks_for_a_full_resync() -> None:
    error = _fails_with(Reply.json(_error("resync_required", "Cursor too old."), 410))
    assert isinstance(error, e.ResyncRequired) and error.kind == "resync_required"
    assert "full resync" in str(error)


def test_409_sequence_gap_carries_the_expected_sequence() -> None:
    body = _error("sequence_gap", "Expected 5.", expected_seq=5, last_seq=4)
    error = _fails_with(Reply.json(body, 409))
    assert isinstance(error, e.SequenceGap) and error.expected_seq == 5


def test_409_offset_mismatch_carries_the_servers_offset() -> None:
    body = _error("offset_mismatch", "Resume at 10.", offset=10)
    with ScriptedServer(always(Reply.json(body, 409))) as server:
        client = SyncClient(server.url, token="t", timeouts=QUICK)
        with pytest.raises(e.OffsetMismatch) as caught:
            client.upload_blob(SHA, b"0123456789abcdef", offset=3)
    assert caught.value.offset == 10


@pytest.mark.parametrize(
    ("status", "kind"), [(429, e.RateLimited), (503, e.ServerBusy)], ids=["429", "503"]
)
def test_retry_after_is_read_from_the_header(status: int, kind: type[e.SyncError]) -> None:
    error = _fails_with(Reply.json(_error("busy", "Busy."), status, **{"Retry-After": "7"}))
    assert type(error) is kind and error.transient and error.retry_after == 7.0
    assert "7 s" in str(error)


def test_retry_after_from_a_date_or_the_body() -> None:
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after({}, e.ErrorBody(code="too_many_attempts", message="", retry_after=30)) == 30
    assert retry_after({"Retry-After": "soon"}) is None


def test_captive_portal_page_where_json_was_expected() -> None:
    error = _fails_with(Reply.html(CAPTIVE_PAGE))
    assert isinstance(error, e.CaptivePortal) and error.kind == "captive_portal"
    assert "sign in through a browser" in str(error) and not error.offline


def test_captive_portal_redirect_to_another_host_is_not_followed() -> None:
    reply = Reply(302, b"", {"Location": "http://portal.guest-wifi.test/login?ref=1"})
    assert isinstance(_fails_with(reply), e.CaptivePortal)


def test_captive_portal_511_and_html_on_a_push() -> None:
    assert isinstance(_fails_with(Reply.html(CAPTIVE_PAGE, 511)), e.CaptivePortal)
    push = PushRequest.model_validate(
        {
            "client_id": "0190a6f6-0000-7000-8000-000000000001",
            "protocol_version": PROTOCOL_VERSION,
            "mutations": [
                {
                    "mutation_id": "0190a6f6-0000-7000-8000-000000000002",
                    "seq": 1,
                    "entity": "note",
                    "entity_id": "0190a6f6-0000-7000-8000-000000000003",
                    "op": "create",
                }
            ],
        }
    )
    with ScriptedServer(always(Reply.html(CAPTIVE_PAGE))) as server, pytest.raises(e.CaptivePortal):
        SyncClient(server.url, token="t", timeouts=QUICK).push(push)


def test_captive_portal_answering_a_blob_head() -> None:
    with ScriptedServer(always(Reply.html(CAPTIVE_PAGE))) as server, pytest.raises(e.CaptivePortal):
        SyncClient(server.url, token="t", timeouts=QUICK).blob_status(SHA)


def test_redirect_on_the_same_host_names_the_target() -> None:
    reply = Reply(301, b"", {"Location": "https://127.0.0.1/api/v1/sync/pull"})
    error = _fails_with(reply)
    assert isinstance(error, e.UnexpectedRedirect)
    assert "https://127.0.0.1/api/v1/sync/pull" in str(error)


def test_json_that_does_not_fit_the_schema_is_a_bad_response() -> None:
    error = _fails_with(Reply.json({"changes": "not a list"}))
    assert isinstance(error, e.BadResponse) and "PullResponse" in str(error)


def test_every_request_carries_user_agent_protocol_and_token_per_request() -> None:
    seen: list[Request] = []

    def respond(request: Request) -> Reply:
        seen.append(request)
        return Reply.json(_error("not_found", "No."), 404)

    with ScriptedServer(respond) as server:
        client = SyncClient(server.url, token="tok-1", timeouts=QUICK)
        with pytest.raises(e.NotOnServer):
            client.me()
        client.set_token(None)
        with pytest.raises(e.NotOnServer):
            client.me()
    first, second = seen
    assert first.headers["user-agent"].startswith("FieldOps/")
    assert first.headers[PROTOCOL_HEADER.lower()] == str(PROTOCOL_VERSION)
    assert first.headers["authorization"] == "Bearer tok-1"
    assert "authorization" not in second.headers
