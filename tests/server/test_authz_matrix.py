"""Every endpoint of /openapi.json, called by every role: refusals and admissions as declared.

The operations come from the server's own OpenAPI description, so a new endpoint fails this
test until it is added to ROLES here (and so thought about) with the role it needs.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from fieldops.protocol import UPLOAD_LENGTH_HEADER, Paths
from fieldops.server.web import ROLE_EXTENSION
from tests.server.conftest import RunningServer
from tests.server.helpers import Device, incident

ROLES: dict[tuple[str, str], str] = {
    ("GET", Paths.INFO): "public",
    ("POST", Paths.LOGIN): "public",
    ("POST", Paths.LOGOUT): "technician",
    ("GET", Paths.ME): "technician",
    ("POST", Paths.PUSH): "technician",
    ("GET", Paths.PULL): "technician",
    ("HEAD", Paths.BLOB): "technician",
    ("PUT", Paths.BLOB): "technician",
    ("GET", Paths.BLOB): "technician",
    ("GET", Paths.SITES): "technician",
    ("GET", Paths.CLIENTS): "lead",
    ("GET", Paths.USERS): "admin",
    ("POST", Paths.USERS): "admin",
    ("PATCH", Paths.USER): "admin",
    ("POST", Paths.USER_REVOKE): "admin",
    ("PUT", Paths.SITE): "admin",
    ("POST", Paths.CATALOGUE_IMPORT): "admin",
}
"""The least role each operation needs; 'public' needs no token."""

CALLERS = {"anonymous": None, "technician": "tom", "lead": "lee", "admin": "ada"}
RANK = ["public", "technician", "lead", "admin"]
BLOB = b"\xff\xd8 a tiny photo"
CSV = b"asset_tag,kind,slot,model,serial\nIT-1,psu,PSU1,X,1\n"


def _request(method: str, template: str, caller: str) -> dict[str, Any]:
    """A well-formed request for the operation, so only authorisation can refuse it."""
    sha = hashlib.sha256(BLOB).hexdigest()
    path = template.format(sha256=sha, name="victim", code="HQ-DC1")
    kwargs: dict[str, Any] = {}
    if (method, template) == ("POST", Paths.LOGIN):
        kwargs["json"] = {"username": "tom", "password": "tom-password-1"}
    elif (method, template) == ("POST", Paths.PUSH):
        device = Device()
        kwargs["json"] = {
            "client_id": device.client_id,
            "protocol_version": 1,
            "mutations": [device.create("incident", incident())],
        }
    elif (method, template) == ("PUT", Paths.BLOB):
        kwargs["data"] = BLOB
        kwargs["headers"] = {UPLOAD_LENGTH_HEADER: str(len(BLOB))}
    elif (method, template) == ("POST", Paths.USERS):
        kwargs["json"] = {"name": f"new-{caller}", "role": "technician", "password": "x" * 12}
    elif (method, template) == ("PATCH", Paths.USER):
        kwargs["json"] = {"sites": ["HQ-DC1"]}
    elif (method, template) == ("PUT", Paths.SITE):
        kwargs["json"] = {"name": "Head office"}
    elif (method, template) == ("POST", Paths.CATALOGUE_IMPORT):
        kwargs["data"] = CSV
        kwargs["headers"] = {"Content-Type": "text/csv"}
    return {"method": method, "path": path, **kwargs}


def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"get", "put", "post", "patch", "delete", "head"}
    }


def test_every_operation_is_in_the_matrix_with_its_declared_role(server: RunningServer) -> None:
    operations = _operations(server.api().get("/openapi.json").json())
    assert set(operations) == set(ROLES), "endpoints added or removed: update ROLES"
    for key, operation in operations.items():
        assert operation.get(ROLE_EXTENSION) == ROLES[key], key
        secured = bool(operation.get("security"))
        assert secured == (ROLES[key] != "public"), key


def test_every_endpoint_times_every_role(server: RunningServer) -> None:
    server.api("ada").post(
        Paths.USERS, json={"name": "victim", "role": "technician", "password": "v" * 12}
    )
    failures = []
    for (method, template), needed in sorted(ROLES.items()):
        for caller, user in CALLERS.items():
            # A fresh sign-in per call: logout ends the token it is called with.
            api = server.api(user) if user else server.api()
            request = _request(method, template, caller)
            answer = api.call(request.pop("method"), request.pop("path"), **request)
            allowed = RANK.index(caller if user else "public") >= RANK.index(needed)
            if allowed:
                ok = answer.status_code not in (401, 403)
            elif user is None:
                ok = answer.status_code == 401
            else:
                ok = answer.status_code == 403 and answer.json()["code"] == "forbidden"
            if not ok:
                failures.append(f"{method} {template} as {caller}: {answer.status_code}")
            assert answer.status_code < 500, (method, template, caller, answer.text)
    assert failures == []


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_revoked_and_disabled_callers_are_refused_everywhere(server: RunningServer) -> None:
    revoked, disabled = server.api("lee"), server.api("tia")
    revoked.post(Paths.LOGOUT)
    server.api("ada").call("PATCH", Paths.USER.format(name="tia"), json={"disabled": True})
    for (method, template), needed in sorted(ROLES.items()):
        if needed == "public":
            continue
        for api in (revoked, disabled):
            request = _request(method, template, "x")
            answer = api.call(request.pop("method"), request.pop("path"), **request)
            assert answer.status_code == 401, (method, template, answer.status_code)


def test_refused_admin_calls_change_nothing(server: RunningServer) -> None:
    tom = server.api("tom")
    body = {"name": "mallory", "role": "admin", "password": "m" * 12}
    assert tom.post(Paths.USERS, json=body).status_code == 403
    promote = tom.call("PATCH", Paths.USER.format(name="tom"), json={"role": "admin"})
    assert promote.status_code == 403
    names = {u["name"]: u["role"] for u in server.api("ada").get(Paths.USERS).json()}
    assert "mallory" not in names and names["tom"] == "technician"
