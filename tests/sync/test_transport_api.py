"""The client against the real FieldOps server on loopback: every endpoint, and the answers."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fieldops.protocol import PROTOCOL_VERSION, PushRequest, SiteUpdate
from fieldops.sync import errors as e
from fieldops.sync.transport import SyncClient, Timeouts
from tests.sync.central import USERS, Central, wait_until

QUICK = Timeouts(connect=2.0, read=10.0, deadline=20.0, transfer_deadline=20.0)


def _password(user: str) -> str:
    return USERS[user][2]


def _signed_in(central: Central, user: str = "tom") -> SyncClient:
    client = SyncClient(central.url, timeouts=QUICK)
    client.login(user, _password(user), device="test bench")
    return client


def _incident(title: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "site_code": "HQ-DC1",
        "category": "physical",
        "subtype": "flood",
        "impact": "high",
        "urgency": "medium",
        "status": "new",
        "title": title,
        "occurred_at": now,
        "reported_at": now,
    }


def _push(client_id: str, seq: int, fields: dict[str, Any]) -> PushRequest:
    mutation = {
        "mutation_id": str(uuid.uuid4()),
        "seq": seq,
        "entity": "incident",
        "entity_id": str(uuid.uuid4()),
        "op": "create",
        "fields": fields,
        "client_time": datetime.now(UTC).isoformat(),
    }
    return PushRequest.model_validate(
        {"client_id": client_id, "protocol_version": PROTOCOL_VERSION, "mutations": [mutation]}
    )


def test_info_needs_no_sign_in_and_notes_the_epoch(central: Central) -> None:
    with SyncClient(central.url, timeouts=QUICK) as client:
        info = client.info()
        assert info.protocol_version == PROTOCOL_VERSION
        assert client.last_epoch == info.epoch
        assert client.server_key == central.url.removeprefix("http://")


def test_login_me_and_wrong_password(central: Central) -> None:
    with _signed_in(central) as client:
        assert client.signed_in and client.me().name == "tom"
    with pytest.raises(e.WrongCredentials) as caught:
        SyncClient(central.url, timeouts=QUICK).login("wes", "not-the-password")
    assert str(caught.value) == "The user name or password is wrong."
    assert "not-the-password" not in repr(caught.value)


def test_push_then_pull_the_change(central: Central) -> None:
    with _signed_in(central) as client:
        answer = client.push(_push(str(uuid.uuid4()), 1, _incident("Water under the floor")))
        assert answer.last_seq == 1 and answer.results[0].outcome == "applied"
        assert answer.results[0].number and answer.results[0].number.startswith("INC-")
        cursor, found = 0, []
        while True:
            page = client.pull(cursor, limit=50)
            found += [change.entity_id for change in page.changes]
            cursor = page.next_cursor
            if not page.has_more:
                break
        assert answer.results[0].entity_id in found


def test_push_out_of_sequence_is_a_sequence_gap(central: Central) -> None:
    with _signed_in(central) as client, pytest.raises(e.SequenceGap) as caught:
        client.push(_push(str(uuid.uuid4()), 5, _incident("Rack door bent")))
    assert caught.value.expected_seq == 1 and not caught.value.transient


def test_blob_upload_cut_off_then_resumed_from_the_servers_offset(central: Central) -> None:
    """C26: the link drops mid-upload; the next try sends only the missing bytes."""
    data = os.urandom(1_500_000)
    sha = hashlib.sha256(data).hexdigest()
    with _signed_in(central) as client:
        assert client.blob_status(sha).offset == 0

        def cut_after_half(done: int, total: int) -> None:
            if done >= total // 2:
                client.cancel()

        with pytest.raises(e.RequestCancelled):
            client.upload_blob(sha, data, progress=cut_after_half)
        # The server notices the cut connection a moment later and keeps what had arrived.
        wait_until(lambda: client.blob_status(sha).offset > 0, what="the partial upload")
        held = client.blob_status(sha)
        assert 0 < held.offset < len(data) and not held.complete

        with pytest.raises(e.OffsetMismatch) as caught:
            client.upload_blob(sha, data, offset=held.offset + 1)
        assert caught.value.offset == held.offset

        seen: list[tuple[int, int]] = []
        done = client.resume_upload(sha, data, progress=lambda d, t: seen.append((d, t)))
        assert done.complete and done.offset == len(data)
        assert seen[0] == (held.offset, len(data)) and seen[-1] == (len(data), len(data))
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)
        assert client.blob_status(sha).complete


def test_blob_from_a_file_and_download_checked_by_hash(central: Central, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    sha = hashlib.sha256(data).hexdigest()
    source = tmp_path / "photo.jpg"
    source.write_bytes(data)
    with _signed_in(central) as tom:
        assert tom.upload_blob(sha, source).complete
        assert tom.upload_blob(sha, source).complete, "sending a whole blob again is fine"
    with _signed_in(central, "ada") as ada:
        target = tmp_path / "copy.jpg"
        assert ada.download_blob(sha, target) == len(data)
        assert target.read_bytes() == data
        with pytest.raises(e.NotOnServer):
            ada.download_blob("b" * 64, tmp_path / "missing.jpg")
        assert not (tmp_path / "missing.jpg").exists()
        assert not (tmp_path / "missing.jpg.part").exists()


def test_missing_local_photo_is_a_local_error(central: Central, tmp_path: Path) -> None:
    with _signed_in(central) as client, pytest.raises(e.SyncError) as caught:
        client.upload_blob("c" * 64, tmp_path / "gone.jpg")
    assert caught.value.kind == "local_file" and "gone.jpg" in str(caught.value)


def test_logout_ends_the_token_and_401_asks_to_sign_in_again(central: Central) -> None:
    client = _signed_in(central)
    token = client._token
    client.logout()
    assert not client.signed_in
    client.set_token(token)
    with pytest.raises(e.SignInRequired) as caught:
        client.me()
    assert not isinstance(caught.value, e.WrongCredentials)
    client.set_token(None)
    with pytest.raises(e.SignInRequired):
        client.pull()


def test_lists_and_administration(central: Central) -> None:
    with _signed_in(central, "ada") as ada:
        assert ada.set_site("HQ-DC1", SiteUpdate(name="Head office")).name == "Head office"
        assert "HQ-DC1" in [site.code for site in ada.sites()]
        assert {"tom", "ada"} <= {user.name for user in ada.users()}
        assert isinstance(ada.clients(), list)
    with _signed_in(central) as tom, pytest.raises(e.AccessDenied):
        tom.users()


def test_token_and_password_never_reach_the_log(
    central: Central, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    data = os.urandom(50_000)
    sha = hashlib.sha256(data).hexdigest()
    with SyncClient(central.url, timeouts=QUICK) as client:
        session = client.login("tom", _password("tom"))
        client.push(_push(str(uuid.uuid4()), 1, _incident("Fan noise")))
        client.pull()
        client.resume_upload(sha, data)
        with pytest.raises(e.SequenceGap):
            client.push(_push(str(uuid.uuid4()), 9, _incident("Gap")))
        client.logout()
        with pytest.raises(e.SignInRequired):
            client.me()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "/api/v1/sync/push" in text, "the requests were logged"
    for secret in (session.token, _password("tom")):
        assert secret not in text
    assert "Bearer" not in text and "Authorization" not in text
