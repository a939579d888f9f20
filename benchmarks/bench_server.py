"""The central server on PostgreSQL: push rate against a bare INSERT, a 1,000,000-asset pull,
and 200 devices pushing at once.

Everything runs on this machine: a throwaway PostgreSQL cluster, `fieldops-server serve` with
two worker processes, and the simulated devices in this process.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, insert, select
from tests.support.postgres import free_port, running_postgres

from benchmarks.common import Measure, percentile
from fieldops.domain.identifiers import new_id
from fieldops.protocol import PROTOCOL_VERSION, Paths, Role
from fieldops.server import migrate
from fieldops.server.db import in_transaction
from fieldops.server.records import RECORDS, allocate
from fieldops.server.schema import AppliedMutation
from fieldops.server.services import Services
from fieldops.server.settings import Settings
from fieldops.server.users import create_user

PUSH_MUTATIONS = 10_000
PUSH_BATCH = 1000  # the protocol's largest batch (MAX_PUSH_MUTATIONS)
ROUNDS = 5  # push and bare INSERT run back to back in each round; the median ratio is reported
CATALOGUE_ASSETS = 1_000_000
PULL_PAGE = 5000
CLIENTS = 200
CLIENT_MUTATIONS = 50
CLIENT_BATCH = 10
WORKERS = 2
PASSWORD = "bench-password-1"
SITES = ("HQ-DC1", "BR-LEEDS", "BR-LYON", "BR-MUC")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _incident(title: str) -> dict[str, Any]:
    now = _now()
    return {
        "site_code": "HQ-DC1",
        "category": "hardware",
        "impact": "medium",
        "urgency": "medium",
        "status": "new",
        "title": title,
        "description": "Fan noise from the PSU side; replaced under warranty.",
        "occurred_at": now,
        "reported_at": now,
        "reporter": "bench",
    }


class Device:
    """A simulated device: its client id, its outbox sequence, its mutations."""

    def __init__(self) -> None:
        self.client_id = str(uuid.uuid4())
        self.seq = 0

    def mutations(self, count: int) -> list[dict[str, Any]]:
        """Half new incidents, half notes on them: what a day in the field produces."""
        out: list[dict[str, Any]] = []
        while len(out) < count:
            self.seq += 1
            incident_id = new_id()
            out.append(self._mutation("incident", incident_id, _incident(f"Case {self.seq}")))
            if len(out) < count:
                self.seq += 1
                note = {"incident_id": incident_id, "body": "Checked again.", "created_at": _now()}
                out.append(self._mutation("note", new_id(), note))
        return out

    def _mutation(self, entity: str, entity_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return {
            "mutation_id": new_id(),
            "seq": self.seq,
            "entity": entity,
            "entity_id": entity_id,
            "op": "create",
            "fields": fields,
            "base_version": None,
            "client_time": _now(),
        }


def _post_push(
    session: requests.Session, base: str, device: Device, batch: list[dict[str, Any]]
) -> requests.Response:
    body = {"client_id": device.client_id, "protocol_version": PROTOCOL_VERSION, "mutations": batch}
    answer = session.post(base + Paths.PUSH, json=body, timeout=120)
    answer.raise_for_status()
    return answer


@contextlib.contextmanager
def _server(data_dir: Path, database: str) -> Iterator[str]:
    """`fieldops-server serve --workers 2` on a free loopback port."""
    port = free_port()
    command = [sys.executable, "-m", "fieldops.server", "--data-dir", str(data_dir)]
    command += ["--db", database, "serve", "--port", str(port), "--workers", str(WORKERS)]
    log = open(data_dir.parent / "server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    pause = threading.Event()
    try:
        while True:
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(base + Paths.INFO, timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            pause.wait(0.05)
        yield base
    except Exception:
        sys.stderr.write((data_dir.parent / "server.log").read_text(errors="replace")[-3000:])
        raise
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _session(base: str) -> requests.Session:
    session = requests.Session()
    answer = session.post(
        base + Paths.LOGIN, json={"username": "bench", "password": PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    session.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    return session


def _push_rate(base: str) -> tuple[float, list[str]]:
    """Mutations per second for one device pushing its outbox in batches."""
    session = _session(base)
    device = Device()
    mutations = device.mutations(PUSH_MUTATIONS)
    batches = [mutations[n : n + PUSH_BATCH] for n in range(0, len(mutations), PUSH_BATCH)]
    _post_push(session, base, Device(), Device().mutations(20))  # warm both workers' pools
    started = time.perf_counter()
    for batch in batches:
        results = _post_push(session, base, device, batch).json()["results"]
        assert all(r["outcome"] == "applied" for r in results)
    elapsed = time.perf_counter() - started
    return PUSH_MUTATIONS / elapsed, [m["entity_id"] for m in mutations]


def _bare_insert_rate(svc: Services, ids: list[str]) -> float:
    """Rows per second for a plain batched INSERT of the same rows into the same table."""
    with svc.read_factory() as session:
        query = select(RECORDS).where(RECORDS.c.id.in_(ids))
        rows = [dict(r._mapping) for r in session.execute(query)]
    # The copies take cursors the counter hands out, so later pushes do not collide with them.
    top = in_transaction(svc.factory, lambda s: allocate(s, "cursor", len(rows))) - 1
    for n, row in enumerate(rows, 1):
        row["id"] = new_id()
        row["cursor"] = top + n
    started = time.perf_counter()
    for start in range(0, len(rows), PUSH_BATCH):
        part = rows[start : start + PUSH_BATCH]
        in_transaction(svc.factory, lambda s, part=part: s.execute(insert(RECORDS), part))
    return len(rows) / (time.perf_counter() - started)


def _crowd(base: str, svc: Services) -> list[Measure]:
    """200 devices pushing 50 mutations each, all at once, in batches of 10."""
    token = _session(base).headers["Authorization"]
    devices = [Device() for _ in range(CLIENTS)]
    work = [(d, d.mutations(CLIENT_MUTATIONS)) for d in devices]
    latencies: list[float] = []
    lock = threading.Lock()
    gate = threading.Barrier(CLIENTS)

    def device_run(job: tuple[Device, list[dict[str, Any]]]) -> int:
        device, mutations = job
        session = requests.Session()
        session.headers["Authorization"] = token
        gate.wait(timeout=120)
        applied = 0
        for start in range(0, len(mutations), CLIENT_BATCH):
            began = time.perf_counter()
            answer = _post_push(session, base, device, mutations[start : start + CLIENT_BATCH])
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)
            applied += sum(r["outcome"] == "applied" for r in answer.json()["results"])
        return applied

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        applied = sum(pool.map(device_run, work))
    elapsed = time.perf_counter() - started
    ids = [d.client_id for d in devices]
    with svc.read_factory() as session:
        stored = session.execute(
            select(func.count(), func.count(func.distinct(AppliedMutation.mutation_id))).where(
                AppliedMutation.client_id.in_(ids)
            )
        ).one()
    total = CLIENTS * CLIENT_MUTATIONS
    exactly_once = applied == total and stored[0] == stored[1] == total
    return [
        Measure("200 devices x 50 mutations: applied exactly once", float(exactly_once), "bool",
                "1", exactly_once),
        Measure("200 devices: wall time", elapsed, "s"),
        Measure("200 devices: push latency p50", percentile(latencies, 50), "ms"),
        Measure("200 devices: push latency p99", percentile(latencies, 99), "ms"),
        Measure("200 devices: throughput", total / elapsed, "mutations/s"),
    ]  # fmt: skip


def _load_catalogue(svc: Services) -> float:
    """Writes 1,000,000 assets straight into the records table with COPY; returns seconds."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    with svc.engine.raw_connection() as raw:
        cursor = raw.cursor()
        top = int(cursor.execute("SELECT value FROM counters WHERE name = 'cursor'").fetchone()[0])
        columns = "id, entity, version, cursor, site_code, deleted, fields, field_versions, "
        columns += "created_at, updated_at"
        with cursor.copy(f"COPY records ({columns}) FROM STDIN") as copy:
            for n in range(CATALOGUE_ASSETS):
                site = SITES[n % len(SITES)]
                fields = {
                    "asset_tag": f"BX-{n:07d}",
                    "serial": f"SN{n * 7919 % 10**9:09d}",
                    "name": f"Server {n}",
                    "manufacturer": "Dell",
                    "model": "PowerEdge R650",
                    "model_number": "R650",
                    "category": "Server",
                    "status": "Deployed",
                    "site_code": site,
                    "location_id": None,
                    "rack_u": n % 42 + 1,
                    "rack_face": "front",
                    "notes": "",
                    "provisional": False,
                }
                copy.write_row(
                    (str(uuid.uuid4()), "asset", 1, top + n + 1, site, False,
                     json.dumps(fields, separators=(",", ":")), "{}", now, now)
                )  # fmt: skip
        cursor.execute(
            "UPDATE counters SET value = %s WHERE name = 'cursor'", (top + CATALOGUE_ASSETS,)
        )
        raw.commit()
        cursor.execute("ANALYZE records")
        raw.commit()
    return time.perf_counter() - started


def _pull_everything(base: str) -> tuple[float, int]:
    """Seconds to pull every change from cursor 0, page by page, decoding each page."""
    session = _session(base)
    cursor, count = 0, 0
    started = time.perf_counter()
    while True:
        answer = session.get(
            base + Paths.PULL, params={"cursor": cursor, "limit": PULL_PAGE}, timeout=120
        )
        answer.raise_for_status()
        page = answer.json()
        count += len(page["changes"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return time.perf_counter() - started, count


def _prepare(root: Path, url: str) -> Services:
    svc = Services.build(Settings(data_dir=root / "data", database=url))
    migrate.upgrade(svc.engine)
    now = datetime.now(UTC)
    in_transaction(
        svc.factory,
        lambda s: create_user(s, svc.passwords, "bench", Role.LEAD, [], PASSWORD, now),
    )
    return svc


def run() -> list[Measure]:
    """Every measure of the server, on a throwaway PostgreSQL."""
    measures: list[Measure] = []
    with running_postgres() as cluster, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = cluster.create_database("bench")
        svc = _prepare(root, url)
        with _server(root / "data", url) as base:
            rounds = []
            for _ in range(ROUNDS):
                rate, ids = _push_rate(base)
                rounds.append((rate, _bare_insert_rate(svc, ids)))
            push_rate = statistics.median(push for push, _ in rounds)
            insert_rate = statistics.median(bare for _, bare in rounds)
            ratio = statistics.median(push / bare for push, bare in rounds)
            measures += [
                Measure("push 10,000 mutations in batches of 1000 (median of 5)", push_rate,
                        "mutations/s", ">= 3000", push_rate >= 3000),
                Measure("bare batched INSERT of the same rows (median of 5)", insert_rate,
                        "rows/s"),
                Measure("push rate / bare INSERT rate, same round (median of 5)", ratio, "ratio",
                        ">= 0.25", ratio >= 0.25),
            ]  # fmt: skip
            measures += _crowd(base, svc)
            load = _load_catalogue(svc)
            seconds, count = _pull_everything(base)
            assert count >= CATALOGUE_ASSETS, count
            measures += [
                Measure("bulk load of 1,000,000 assets (COPY)", load, "s"),
                Measure("pull 1,000,000-asset catalogue, pages of 5000", seconds, "s", "< 60",
                        seconds < 60),
                Measure("pull rate", count / seconds, "records/s"),
            ]  # fmt: skip
        svc.engine.dispose()
    return measures
