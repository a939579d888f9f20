"""Photo blobs: upload by SHA-256, resume, verification, limits, names, and the photo rows."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import requests

from fieldops.protocol import UPLOAD_LENGTH_HEADER, UPLOAD_OFFSET_HEADER, Paths
from tests.server.conftest import RunningServer
from tests.server.helpers import Api, Device, incident, photo


def _image(size: int = 200_000) -> bytes:
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 4)


def _put(
    api: Api, data: bytes, offset: int = 0, length: int | None = None, name: str | None = None
) -> requests.Response:
    sha = name or hashlib.sha256(data if offset == 0 else b"").hexdigest()
    headers = {
        UPLOAD_LENGTH_HEADER: str(length if length is not None else len(data)),
        UPLOAD_OFFSET_HEADER: str(offset),
        "Content-Type": "application/octet-stream",
    }
    return api.call("PUT", Paths.blob(sha), data=data, headers=headers)


def test_whole_upload_then_head(server: RunningServer) -> None:
    tom = server.api("tom")
    data = _image()
    sha = hashlib.sha256(data).hexdigest()
    assert tom.call("HEAD", Paths.blob(sha)).status_code == 404
    answer = _put(tom, data)
    assert answer.status_code == 201
    assert answer.json() == {"sha256": sha, "offset": len(data), "complete": True}
    head = tom.call("HEAD", Paths.blob(sha))
    assert head.status_code == 200
    assert (
        head.headers[UPLOAD_OFFSET_HEADER] == head.headers[UPLOAD_LENGTH_HEADER] == str(len(data))
    )
    stored = server.settings.blob_dir / sha[:2] / sha
    assert stored.read_bytes() == data
    assert _put(tom, data).status_code == 200  # already whole: nothing to do


def test_upload_resumes_from_the_offset(server: RunningServer) -> None:
    tom = server.api("tom")
    data = _image(300_000)
    sha = hashlib.sha256(data).hexdigest()
    half = 123_457
    first = _put(tom, data[:half], 0, len(data), name=sha)
    assert first.status_code == 202 and first.json()["offset"] == half
    head = tom.call("HEAD", Paths.blob(sha))
    assert head.status_code == 404 and head.headers[UPLOAD_OFFSET_HEADER] == str(half)
    wrong = _put(tom, data[10:], 10, len(data), name=sha)
    assert wrong.status_code == 409
    assert wrong.json()["code"] == "offset_mismatch" and wrong.json()["offset"] == half
    rest = _put(tom, data[half:], half, len(data), name=sha)
    assert rest.status_code == 201 and rest.json()["complete"] is True
    assert (server.settings.blob_dir / sha[:2] / sha).read_bytes() == data


def test_wrong_hash_is_refused_and_dropped(server: RunningServer) -> None:
    tom = server.api("tom")
    data = _image()
    claimed = hashlib.sha256(b"something else").hexdigest()
    answer = _put(tom, data, name=claimed)
    assert answer.status_code == 422 and answer.json()["code"] == "hash_mismatch"
    head = tom.call("HEAD", Paths.blob(claimed))
    assert head.status_code == 404 and head.headers[UPLOAD_OFFSET_HEADER] == "0"
    assert not list(server.settings.blob_dir.glob("??/*"))


def test_oversize_is_refused_before_reading(server: RunningServer) -> None:
    tom = server.api("tom")
    limit = server.settings.max_blob_bytes
    answer = _put(tom, b"tiny", length=limit + 1, name="a" * 64)
    assert answer.status_code == 413 and answer.json()["code"] == "blob_too_large"
    assert str(limit) in answer.json()["message"]


def test_more_bytes_than_declared_is_refused(server: RunningServer) -> None:
    tom = server.api("tom")
    data = _image(5000)
    answer = _put(tom, data, length=4000)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_request"
    head = tom.call("HEAD", Paths.blob(hashlib.sha256(data).hexdigest()))
    assert head.headers[UPLOAD_OFFSET_HEADER] == "0"


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "A" * 64,
        "a" * 63,
        "a" * 65,
        "g" * 64,
        "partial",
        ("a" * 64) + "%00",
    ],
)
def test_path_like_names_never_touch_the_file_system(
    server: RunningServer, name: str, tmp_path: Path
) -> None:
    tom = server.api("tom")
    before = sorted(
        p.relative_to(server.settings.data_dir) for p in server.settings.data_dir.rglob("*")
    )
    answer = tom.call(
        "PUT",
        f"{Paths.blob('x')[:-1]}{name}",
        data=b"data",
        headers={UPLOAD_LENGTH_HEADER: "4"},
    )
    assert answer.status_code in (404, 422), answer.text
    assert answer.json()["code"] in ("invalid_request", "not_found")
    after = sorted(
        p.relative_to(server.settings.data_dir) for p in server.settings.data_dir.rglob("*")
    )
    assert after == before


def test_photo_waits_for_its_blob(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    data = _image()
    case = device.create("incident", incident())
    shot = device.create("photo", photo(case["entity_id"], data))
    after = device.create("incident", incident(title="Next one"))
    answer = tom.push(device, [case, shot, after]).json()
    assert [r["entity"] for r in answer["results"]] == ["incident"]
    assert answer["last_seq"] == 1
    assert answer["missing_blobs"] == [shot["fields"]["sha256"]]
    assert _put(tom, data).status_code == 201
    results = tom.push_ok(device, case, shot, after)
    assert [(r["outcome"], r["replayed"]) for r in results] == [
        ("applied", True),
        ("applied", False),
        ("applied", False),
    ]


def test_photo_size_must_match_its_blob(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    data = _image()
    _put(tom, data)
    case = device.create("incident", incident())
    shot = device.create("photo", {**photo(case["entity_id"], data), "size": 5})
    results = tom.push_ok(device, case, shot)
    assert results[1]["code"] == "invalid_fields"


def test_download_is_scoped_like_the_photo(server: RunningServer) -> None:
    tom, tia, lee = server.api("tom"), server.api("tia"), server.api("lee")
    device = Device()
    data = _image()
    sha = hashlib.sha256(data).hexdigest()
    _put(tom, data)
    case = device.create("incident", incident())
    tom.push_ok(device, case, device.create("photo", photo(case["entity_id"], data)))
    assert tom.get(Paths.blob(sha)).content == data
    assert lee.get(Paths.blob(sha)).content == data
    hidden = tia.get(Paths.blob(sha))
    missing = tia.get(Paths.blob("b" * 64))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_blob_endpoints_need_a_token(server: RunningServer) -> None:
    anonymous = server.api()
    assert anonymous.call("HEAD", Paths.blob("a" * 64)).status_code == 401
    assert _put(anonymous, b"abcd").status_code == 401


def test_a_tiny_blob_is_stored(server: RunningServer) -> None:
    """The partial file is flushed before it is hashed, however small the blob."""
    tom = server.api("tom")
    data = b"\xff\xd8 tiny"
    answer = _put(tom, data)
    assert answer.status_code == 201, answer.text
    sha = hashlib.sha256(data).hexdigest()
    assert (server.settings.blob_dir / sha[:2] / sha).read_bytes() == data


def test_a_whole_partial_is_finished_by_an_empty_put(server: RunningServer) -> None:
    """Every byte arrived but the answer did not: the device resumes at the end."""
    tom = server.api("tom")
    data = _image(50_000)
    sha = hashlib.sha256(data).hexdigest()
    partial = server.settings.blob_dir / "partial" / sha
    partial.write_bytes(data)  # as left by a server stopped before it could check the hash
    head = tom.call("HEAD", Paths.blob(sha))
    assert head.status_code == 404 and head.headers[UPLOAD_OFFSET_HEADER] == str(len(data))
    done = _put(tom, b"", offset=len(data), length=len(data), name=sha)
    assert done.status_code == 201 and done.json()["complete"] is True
    assert not partial.exists()
