"""Overall deadlines and cancellation for requests, and a time limit on name lookups.

requests' read timeout counts the gap between two bytes, so a server that trickles one byte
every few seconds never trips it. A `RequestWatch` gives one request an overall deadline: the
connections the request uses register their sockets with the watch of the calling thread,
and when the deadline passes (or the request is cancelled) the watch shuts those sockets
down, which makes the blocked read or write fail at once.

Name lookups happen before any socket exists and no requests timeout covers them, so
`resolve_within` runs the lookup in a daemon thread and stops waiting after a time limit.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

_local = threading.local()


@dataclass(eq=False)
class RequestWatch:
    """Watches one request: fires at its deadline or on cancel, shutting its sockets."""

    deadline: float
    reason: str | None = None
    """None while the request may go on; "deadline" or "cancelled" once it was stopped."""
    _sockets: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _timer: threading.Timer | None = None
    _over: bool = False

    def attach(self, sock: socket.socket | None) -> None:
        """Puts a socket the request uses under this watch."""
        if sock is None:
            return
        with self._lock:
            if sock not in self._sockets:
                self._sockets.append(sock)
            fired = self.reason is not None
        if fired:
            _shut(sock)

    def fire(self, reason: str) -> None:
        """Stops the request: the blocked read or write on its sockets fails at once."""
        with self._lock:
            if self.reason is not None or self._over:
                return
            self.reason = reason
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def start(self) -> None:
        """Arms the deadline timer."""
        self._timer = threading.Timer(self.deadline, self.fire, args=("deadline",))
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        """Disarms the timer once the request is over; its sockets go back to the pool intact."""
        with self._lock:
            self._over = True
        if self._timer is not None:
            self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    """Shuts a socket down for both directions; the owner's blocked call then returns."""
    # The plain socket method, even on an SSL socket: it leaves the TLS state to the thread
    # that is blocked in it, which then sees the connection end.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


@contextmanager
def watching(watch: RequestWatch) -> Iterator[RequestWatch]:
    """Makes `watch` the one the calling thread's connections register with."""
    previous = getattr(_local, "watch", None)
    _local.watch = watch
    watch.start()
    try:
        yield watch
    finally:
        watch.stop()
        _local.watch = previous


def attach_to_current(sock: socket.socket | None) -> None:
    """Registers a socket with the calling thread's watch, if a request is being watched."""
    watch: RequestWatch | None = getattr(_local, "watch", None)
    if watch is not None:
        watch.attach(sock)


class LookupTimedOut(Exception):
    """The name lookup did not finish in time (it goes on in the background)."""


def resolve_within(host: str, port: int, seconds: float) -> None:
    """Looks the host up, raising socket.gaierror on failure or LookupTimedOut after `seconds`.

    A lookup that hangs keeps its daemon thread until the system resolver gives up; the
    caller is free at once.
    """
    outcome: list[BaseException | None] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            outcome.append(None)
        except BaseException as error:  # handed to the waiting thread
            outcome.append(error)
        finally:
            done.set()

    threading.Thread(target=lookup, name="fieldops-name-lookup", daemon=True).start()
    if not done.wait(seconds):
        log.warning("looking up %s took longer than %g s", host, seconds)
        raise LookupTimedOut(host)
    if outcome and outcome[0] is not None:
        raise outcome[0]
