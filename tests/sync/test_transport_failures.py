"""Each way a request fails below HTTP gets its own error (C42 and the rest of the kind).

Every server here is a real one on 127.0.0.1; the limits are short so the whole file runs in
a few seconds.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from fieldops.sync import errors as e
from fieldops.sync.transport import SyncClient, Timeouts
from tests.support.tls import (
    ResetServer,
    SilentServer,
    TrickleServer,
    closed_port,
)

QUICK = Timeouts(connect=0.5, read=0.4, deadline=5.0, transfer_deadline=5.0)


def _took(started: float) -> float:
    return time.monotonic() - started


def test_refused_port_is_refused_and_offline() -> None:
    with pytest.raises(e.ServerRefused) as caught:
        SyncClient(f"http://127.0.0.1:{closed_port()}", timeouts=QUICK).info()
    assert caught.value.offline and caught.value.transient
    assert "refused the connection" in str(caught.value)


def test_silent_server_times_out_at_the_read_timeout() -> None:
    """C42 (a): accepts the connection, never answers."""
    with SilentServer() as server:
        started = time.monotonic()
        with pytest.raises(e.ReadTimedOut) as caught:
            SyncClient(server.url, timeouts=QUICK).info()
    assert 0.35 <= _took(started) < 2.0
    assert caught.value.transient and not caught.value.offline
    assert caught.value.phase == "read" and caught.value.seconds == 0.4


def test_trickling_server_is_stopped_by_the_overall_deadline() -> None:
    """C42 (b): one byte at a time never trips the read timeout; the deadline stops it."""
    limits = Timeouts(connect=0.5, read=0.5, deadline=1.0)
    with TrickleServer(interval=0.1) as server:
        started = time.monotonic()
        with pytest.raises(e.DeadlineExceeded) as caught:
            SyncClient(server.url, timeouts=limits).info()
        took = _took(started)
        sent = server.sent
    assert 0.9 <= took < 2.5
    assert sent >= 4, "the server kept sending within the read timeout"
    assert caught.value.phase == "deadline" and caught.value.transient


def test_full_backlog_is_a_connect_timeout() -> None:
    """A listener whose queue is full drops new connections: connect times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=1)
    try:
        started = time.monotonic()
        with pytest.raises(e.ConnectTimedOut) as caught:
            SyncClient(f"http://127.0.0.1:{port}", timeouts=QUICK).info()
        assert 0.45 <= _took(started) < 2.0
        assert caught.value.offline and caught.value.phase == "connect"
    finally:
        filler.close()
        listener.close()


def test_reset_connection_is_lost_and_the_post_is_sent_once() -> None:
    """No transport-level retry: a POST that died on the wire was sent exactly once."""
    with ResetServer() as server:
        client = SyncClient(server.url, timeouts=QUICK, token="t")
        with pytest.raises(e.ConnectionDropped) as caught:
            client.logout()
        wait_for(lambda: len(server.connections) >= 1)
        assert len(server.connections) == 1
    assert caught.value.transient


def test_cancel_stops_a_pending_request_within_two_seconds() -> None:
    """C42 (c): the app quits while a request waits on a server that never answers."""
    slow = Timeouts(connect=5, read=30, deadline=60)
    with SilentServer() as server:
        client = SyncClient(server.url, timeouts=slow)
        stopper = threading.Thread(target=lambda: (server.accepted.wait(5), client.cancel()))
        stopper.start()
        started = time.monotonic()
        with pytest.raises(e.RequestCancelled):
            client.info()
        stopper.join()
        assert _took(started) < 2.0
        client.close()
        with pytest.raises(e.RequestCancelled):
            client.info()


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, object]]:
    """Name lookups for *.fieldops.test answered by the test, everything else as usual.

    A stand-in for a DNS server: a real failing or hanging lookup would send queries to the
    machine's resolver, which is not on loopback. The names never reach it.
    """
    real = socket.getaddrinfo
    script: dict[str, object] = {"release": threading.Event(), "calls": 0}

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if isinstance(host, str) and host.endswith(".fieldops.test"):
            script["calls"] = int(script["calls"]) + 1  # type: ignore[call-overload]
            behaviour = script.get(host)
            if behaviour == "hang":
                script["release"].wait(10)  # type: ignore[attr-defined]
            if behaviour == "ok-once" and script["calls"] == 1:
                return real("127.0.0.1", *args, **kwargs)  # type: ignore[arg-type]
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield script
    script["release"].set()  # type: ignore[attr-defined]


def test_unknown_name_is_a_dns_failure(resolver: dict[str, object]) -> None:
    with pytest.raises(e.NameNotResolved) as caught:
        SyncClient("https://sync.fieldops.test", timeouts=QUICK).info()
    assert caught.value.offline and "sync.fieldops.test" in str(caught.value)


def test_dns_failure_inside_urllib3_is_classified_from_its_chain(
    resolver: dict[str, object],
) -> None:
    """The lookup guard passes, then urllib3's own lookup fails: NameResolutionError."""
    resolver["flaky.fieldops.test"] = "ok-once"
    with pytest.raises(e.NameNotResolved):
        SyncClient("http://flaky.fieldops.test:1", timeouts=QUICK).info()
    assert resolver["calls"] == 2


def test_hanging_name_lookup_stops_at_the_connect_timeout(resolver: dict[str, object]) -> None:
    """C42 (d): requests' timeouts do not cover name lookups; the client's own guard does."""
    resolver["stuck.fieldops.test"] = "hang"
    started = time.monotonic()
    with pytest.raises(e.NameLookupTimedOut) as caught:
        SyncClient("https://stuck.fieldops.test", timeouts=QUICK).info()
    assert 0.45 <= _took(started) < 1.5
    assert caught.value.phase == "dns" and caught.value.offline


NO_ROUTE_SCRIPT = """
import json
from fieldops.sync.transport import SyncClient, Timeouts
from fieldops.sync.errors import SyncError
try:
    SyncClient("http://127.0.0.1:8443", timeouts=Timeouts(connect=1, read=1)).info()
except SyncError as error:
    print(json.dumps({"kind": error.kind, "offline": error.offline, "text": str(error)}))
"""


def test_no_route_in_a_network_namespace_without_a_network() -> None:
    """A private network namespace whose loopback is down: connecting gets ENETUNREACH."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    done = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", NO_ROUTE_SCRIPT],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0 and "Operation not permitted" in done.stderr:
        pytest.skip("this machine does not allow new network namespaces")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["kind"] == "no_route" and outcome["offline"]
    assert "no network route" in outcome["text"]


def wait_for(condition: object, timeout: float = 5.0) -> None:
    """Waits until the condition holds, checking often."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        pause.wait(0.01)
