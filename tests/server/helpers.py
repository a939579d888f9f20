"""Test helpers for the server: a uvicorn in a thread, an API client, a fake device."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import uvicorn
from fastapi import FastAPI

from fieldops.domain.identifiers import new_id
from fieldops.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, Paths

TIMEOUT = 30
PASSWORDS = {
    "ada": "ada-password-1",
    "lee": "lee-password-1",
    "tom": "tom-password-1",
    "tia": "tia-password-1",
}
"""Seeded users: ada (admin), lee (lead), tom and tia (technicians at HQ-DC1 and BR-LEEDS)."""


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "it") -> None:
    """Waits for a condition, checking often, and fails after the timeout."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        pause.wait(0.005)


class FakeClock:
    """The server's clock, moved by tests (token expiry, throttling, retention)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class ThreadServer:
    """A real uvicorn serving an app on a free loopback port, in a thread."""

    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        config = uvicorn.Config(app, log_config=None, lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadServer:
        self.thread.start()
        wait_until(lambda: self.server.started, what="uvicorn to start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


class Api:
    """A small client for the API, with requests and a timeout on every call."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers[PROTOCOL_HEADER] = str(PROTOCOL_VERSION)
        self.token = token
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return self.session.request(method, self.base + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def login(
        self, name: str, password: str | None = None, device: str = "", **kwargs: Any
    ) -> requests.Response:
        body = {"username": name, "password": password or PASSWORDS[name], "device": device}
        return self.post(Paths.LOGIN, json=body, **kwargs)

    def logged_in(self, name: str) -> Api:
        answer = self.login(name)
        assert answer.status_code == 200, answer.text
        return Api(self.base, answer.json()["token"])

    def push(self, device: Device, mutations: list[dict[str, Any]]) -> requests.Response:
        body = {
            "client_id": device.client_id,
            "protocol_version": PROTOCOL_VERSION,
            "mutations": mutations,
        }
        return self.post(Paths.PUSH, json=body)

    def push_ok(self, device: Device, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
        answer = self.push(device, list(mutations))
        assert answer.status_code == 200, answer.text
        results: list[dict[str, Any]] = answer.json()["results"]
        return results

    def pull(self, cursor: int = 0, limit: int = 1000) -> requests.Response:
        return self.get(Paths.PULL, params={"cursor": cursor, "limit": limit})

    def pull_all(self, cursor: int = 0, limit: int = 1000) -> tuple[list[dict[str, Any]], int]:
        changes: list[dict[str, Any]] = []
        while True:
            answer = self.pull(cursor, limit)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            changes += page["changes"]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return changes, cursor


@dataclass
class Device:
    """A fake client device: its id and its outbox sequence."""

    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    seq: int = 0

    def mutation(
        self,
        entity: str,
        op: str,
        entity_id: str | None = None,
        fields: dict[str, Any] | None = None,
        base_version: int | None = None,
    ) -> dict[str, Any]:
        self.seq += 1
        return {
            "mutation_id": new_id(),
            "seq": self.seq,
            "entity": entity,
            "entity_id": entity_id or new_id(),
            "op": op,
            "fields": fields or {},
            "base_version": base_version,
            "client_time": datetime.now(UTC).isoformat(),
        }

    def create(
        self, entity: str, fields: dict[str, Any], entity_id: str | None = None
    ) -> dict[str, Any]:
        return self.mutation(entity, "create", entity_id, fields)

    def update(self, entity: str, entity_id: str, base: int, **fields: Any) -> dict[str, Any]:
        return self.mutation(entity, "update", entity_id, fields, base)

    def delete(self, entity: str, entity_id: str, base: int | None = None) -> dict[str, Any]:
        return self.mutation(entity, "delete", entity_id, None, base)


def incident(site: str = "HQ-DC1", **overrides: Any) -> dict[str, Any]:
    """Fields of a valid incident."""
    now = datetime.now(UTC).isoformat()
    fields = {
        "site_code": site,
        "category": "physical",
        "subtype": "flood",
        "impact": "high",
        "urgency": "medium",
        "status": "new",
        "title": "Water under the raised floor",
        "description": "Found during the morning round.",
        "occurred_at": now,
        "reported_at": now,
        "reporter": "tom",
    }
    return {**fields, **overrides}


def asset(tag: str, site: str = "HQ-DC1", **overrides: Any) -> dict[str, Any]:
    """Fields of a valid asset."""
    return {"asset_tag": tag, "serial": f"SN-{tag}", "site_code": site, **overrides}


def note(incident_id: str, body: str = "Checked again at noon.") -> dict[str, Any]:
    """Fields of a note on an incident."""
    return {"incident_id": incident_id, "body": body, "created_at": datetime.now(UTC).isoformat()}


def photo(incident_id: str, data: bytes) -> dict[str, Any]:
    """Fields of a photo on an incident, for this image's bytes."""
    return {
        "incident_id": incident_id,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "mime": "image/jpeg",
        "width": 640,
        "height": 480,
        "created_at": datetime.now(UTC).isoformat(),
    }


def only(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The single result of a one-mutation push."""
    assert len(results) == 1, results
    return results[0]
