"""Several server processes on one PostgreSQL: interleaved pushes from one client, exactly once.

The processes share nothing but the database, as in production behind a load balancer.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from fieldops.protocol import Paths
from fieldops.server.db import make_engine, session_factory
from fieldops.server.schema import AppliedMutation, Client, Record
from fieldops.server.services import Services
from tests.server.conftest import light_settings, seed_users
from tests.server.helpers import Api, Device, incident, note, wait_until
from tests.support.postgres import free_port

pytestmark = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


@contextlib.contextmanager
def server_process(data_dir: Path, database: str, *extra: str) -> Iterator[tuple[str, int]]:
    """`fieldops-server serve` as its own process; yields its URL and pid."""
    port = free_port()
    command = [sys.executable, "-m", "fieldops.server", "--data-dir", str(data_dir)]
    command += ["--db", database, "serve", "--port", str(port), *extra]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            return requests.get(url + Paths.INFO, timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_until(ready, timeout=30, what="a server process")
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def seeded(tmp_path: Path, database: str) -> str:
    services = Services.build(light_settings(tmp_path / "data", database))
    seed_users(services)
    services.engine.dispose()
    return database


def _check_exactly_once(database: str, device: Device, incidents: int, notes: int) -> None:
    engine = make_engine(light_settings(Path("."), database))
    with session_factory(engine)() as session:
        seqs = session.scalars(
            select(AppliedMutation.seq)
            .where(AppliedMutation.client_id == device.client_id)
            .order_by(AppliedMutation.seq)
        ).all()
        assert seqs == list(range(1, device.seq + 1))  # no duplicate, no gap
        client = session.get(Client, device.client_id)
        assert client is not None and client.last_seq == device.seq
        counts = dict(
            session.execute(select(Record.entity, func.count()).group_by(Record.entity)).all()
        )
        assert (counts.get("incident", 0), counts.get("note", 0)) == (incidents, notes)
        numbers = session.scalars(select(Record.fields).where(Record.entity == "incident")).all()
        assert len({n for n in numbers}) == incidents
    engine.dispose()


def _push(url: str, token: str, device: Device, batch: list[dict[str, Any]]) -> requests.Response:
    return Api(url, token).push(device, batch)


def _same_answers(answers: list[requests.Response]) -> list[dict[str, Any]]:
    """Both answers to one batch: 200, equal results, each mutation applied by one of them."""
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    a, b = (x.json()["results"] for x in answers)
    assert all(x["replayed"] or y["replayed"] for x, y in zip(a, b, strict=True))
    strip = [{k: v for k, v in r.items() if k != "replayed"} for r in a]
    assert strip == [{k: v for k, v in r.items() if k != "replayed"} for r in b]
    return list(a)


def test_two_processes_receive_interleaved_pushes(tmp_path: Path, seeded: str) -> None:
    with (
        server_process(tmp_path / "a", seeded) as (first, _),
        server_process(tmp_path / "b", seeded) as (second, _),
    ):
        token = Api(first).login("tom").json()["token"]
        device = Device()
        cases = [device.create("incident", incident(title=f"Case {n}")) for n in range(40)]
        cases += [device.create("note", note(cases[n]["entity_id"])) for n in range(20)]
        batches = [cases[n : n + 6] for n in range(0, len(cases), 6)]
        gate = threading.Barrier(2)

        def send(url: str, batch: list[dict[str, Any]]) -> requests.Response:
            gate.wait(timeout=10)
            return _push(url, token, device, batch)

        results: list[dict[str, Any]] = []
        with ThreadPoolExecutor(max_workers=2) as pool:
            for index in range(0, len(batches), 3):
                # A retry racing its original: the same batch to both processes at once.
                same = [pool.submit(send, url, batches[index]) for url in (first, second)]
                results += _same_answers([f.result(timeout=60) for f in same])
                if index + 1 == len(batches):
                    break
                # The next two batches to different processes at the same moment: the later
                # one waits for the earlier's commit, or is refused as a gap and sent again.
                pair = [
                    pool.submit(send, second, batches[index + 1]),
                    pool.submit(send, first, batches[index + 2]),
                ]
                earlier, later = (f.result(timeout=60) for f in pair)
                assert earlier.status_code == 200, earlier.text
                if later.status_code == 409:
                    assert later.json()["code"] == "sequence_gap"
                    later = _push(first, token, device, batches[index + 2])
                assert later.status_code == 200, later.text
                results += earlier.json()["results"] + later.json()["results"]
        # An old batch replayed to either process at the end changes nothing.
        assert _push(second, token, device, batches[0]).status_code == 200
    assert [r["seq"] for r in results] == list(range(1, device.seq + 1))
    numbers = [r["number"] for r in results if r["entity"] == "incident"]
    assert len(set(numbers)) == 40 and None not in numbers
    _check_exactly_once(seeded, device, incidents=40, notes=20)


def test_a_gap_sent_to_one_process_waits_for_the_other(tmp_path: Path, seeded: str) -> None:
    with (
        server_process(tmp_path / "a", seeded) as (first, _),
        server_process(tmp_path / "b", seeded) as (second, _),
    ):
        token = Api(first).login("tom").json()["token"]
        device = Device()
        early = [device.create("incident", incident()) for _ in range(3)]
        late = [device.create("incident", incident()) for _ in range(3)]
        refused = _push(second, token, device, late)
        assert refused.status_code == 409 and refused.json()["expected_seq"] == 1
        assert _push(first, token, device, early).status_code == 200
        assert _push(second, token, device, late).status_code == 200
    _check_exactly_once(seeded, device, incidents=6, notes=0)


def _children(pid: int) -> int:
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            count += int(fields[1]) == pid
    return count


def test_workers_option_runs_several_processes(tmp_path: Path, seeded: str) -> None:
    with server_process(tmp_path / "w", seeded, "--workers", "2") as (url, pid):
        wait_until(lambda: _children(pid) >= 2, timeout=20, what="two worker processes")
        token = Api(url).login("tom").json()["token"]
        devices = [Device() for _ in range(8)]
        batches = [(d, [d.create("incident", incident()) for _ in range(5)]) for d in devices]
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda job: _push(url, token, *job), batches * 2))
        assert all(a.status_code == 200 for a in answers)
    engine = make_engine(light_settings(Path("."), seeded))
    with session_factory(engine)() as session:
        assert session.execute(select(func.count()).select_from(Record)).scalar() == 40
    engine.dispose()
