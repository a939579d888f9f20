"""Loopback test servers for transport failures, and a throwaway certificate authority.

`make_pki(folder)` writes an invented "Contoso Test Root CA" and certificates it signed: one
for 127.0.0.1 and localhost, one for another host name, and one that has expired.

The servers listen on 127.0.0.1 on a free port, each in its own threads, and stop (closing
every connection) when their context ends:

- `ScriptedServer`: answers each request with what a function returns (JSON, a captive
  portal's HTML page, a redirect, any status), over HTTP or HTTPS;
- `SilentServer`: accepts connections and never sends a byte;
- `TrickleServer`: sends headers, then one body byte every `interval` seconds;
- `ResetServer`: reads the request, then resets the connection;
- `TunnelProxy`: an HTTP CONNECT proxy, optionally wanting a user name and password (407);
- `closed_port()`: a loopback port with nothing listening.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import ipaddress
import json
import select
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CA_NAME = "Contoso Test Root CA"
WRONG_HOST = "wrong-host.fieldops.test"


# Certificates.


@dataclass(frozen=True)
class Pki:
    """Files of a throwaway CA and the certificates it signed (PEM)."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    wrong_host_cert: Path
    wrong_host_key: Path
    expired_cert: Path
    expired_key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _write_cert(cert: x509.Certificate, path: Path) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso Test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _leaf(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    names: list[x509.GeneralName],
    key: ec.EllipticCurvePrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    common = names[0].value if isinstance(names[0], x509.DNSName) else str(names[0].value)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(str(common)))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def make_pki(folder: Path) -> Pki:
    """A CA named CA_NAME and three server certificates it signed, written to `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = _key()
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(CA_NAME))
        .issuer_name(_name(CA_NAME))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    local = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    keys = {name: _key() for name in ("server", "wrong", "expired")}
    year = dt.timedelta(days=365)
    server = _leaf(ca_key, ca_cert, local, keys["server"], now - dt.timedelta(days=1), now + year)
    wrong = _leaf(
        ca_key, ca_cert, [x509.DNSName(WRONG_HOST)], keys["wrong"], now - year, now + year
    )
    expired = _leaf(
        ca_key, ca_cert, local, keys["expired"], now - 2 * year, now - dt.timedelta(days=2)
    )
    return Pki(
        ca_cert=_write_cert(ca_cert, folder / "ca.pem"),
        server_cert=_write_cert(server, folder / "server.pem"),
        server_key=_write_key(keys["server"], folder / "server.key"),
        wrong_host_cert=_write_cert(wrong, folder / "wrong-host.pem"),
        wrong_host_key=_write_key(keys["wrong"], folder / "wrong-host.key"),
        expired_cert=_write_cert(expired, folder / "expired.pem"),
        expired_key=_write_key(keys["expired"], folder / "expired.key"),
    )


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A TLS server context presenting this certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Servers.


class LoopbackServer:
    """A TCP server on 127.0.0.1 that hands each connection to `handle` in its own thread."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = int(self.listener.getsockname()[1])
        self.stopping = threading.Event()
        self.accepted = threading.Event()
        """Set once the first connection came in."""
        self.connections: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackServer:
        self._spawn(self._accept_loop)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Closes the listener and every connection, and waits for the threads."""
        self.stopping.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept loop
        with contextlib.suppress(OSError):
            self.listener.close()
        with self._lock:
            connections = list(self.connections)
        for conn in connections:
            # shutdown wakes a thread blocked in recv on it; close alone would not.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections.append(conn)
            self.accepted.set()
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
                with self._lock:
                    self.connections.append(conn)
            self.handle(conn)
        except (OSError, ssl.SSLError, ValueError):
            pass  # the client went away or refused our certificate: expected in these tests
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def handle(self, conn: socket.socket) -> None:
        """Serves one connection; subclasses say how."""
        raise NotImplementedError


@dataclass
class Request:
    """One HTTP request as a test server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    """What a scripted server sends back."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, status: int = 200, **headers: str) -> Reply:
        """A JSON answer."""
        return cls(
            status, json.dumps(value).encode(), {"Content-Type": "application/json", **headers}
        )

    @classmethod
    def html(cls, text: str, status: int = 200, **headers: str) -> Reply:
        """A web page, such as a captive portal's sign-in page."""
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8", **headers})


CAPTIVE_PAGE = (
    "<!DOCTYPE html><html><head><title>Guest Wi-Fi</title></head>"
    "<body><h1>Welcome to Guest Wi-Fi</h1><form>Accept the terms to continue</form></body></html>"
)


def read_request(conn: socket.socket) -> Request | None:
    """Reads one HTTP/1.1 request (headers and a Content-Length body), None at end of stream."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            return None
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        piece = conn.recv(65536)
        if not piece:
            break
        rest += piece
    return Request(method, path, headers, rest[:length])


def send_reply(conn: socket.socket, reply: Reply, method: str = "GET") -> None:
    """Writes a whole answer and asks the client to close the connection."""
    reasons = {200: "OK", 302: "Found", 407: "Proxy Authentication Required"}
    headers = {"Content-Length": str(len(reply.body)), "Connection": "close", **reply.headers}
    head = f"HTTP/1.1 {reply.status} {reasons.get(reply.status, 'Status')}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    conn.sendall(head.encode("latin-1") + (b"" if method == "HEAD" else reply.body))


class ScriptedServer(LoopbackServer):
    """Answers every request with what `respond` returns; records the requests it got."""

    def __init__(
        self, respond: Callable[[Request], Reply], tls: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(tls)
        self.respond = respond
        self.requests: list[Request] = []

    def handle(self, conn: socket.socket) -> None:
        request = read_request(conn)
        if request is None:
            return
        self.requests.append(request)
        send_reply(conn, self.respond(request), request.method)


def always(reply: Reply) -> Callable[[Request], Reply]:
    """A `respond` function giving the same answer to every request."""
    return lambda _request: reply


class SilentServer(LoopbackServer):
    """Accepts connections, reads what comes, and never answers."""

    def handle(self, conn: socket.socket) -> None:
        while not self.stopping.is_set():
            if not conn.recv(65536):
                return


class TrickleServer(LoopbackServer):
    """Sends a 200 with a long body, one byte every `interval` seconds."""

    def __init__(self, interval: float, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(tls)
        self.interval = interval
        self.sent = 0

    def handle(self, conn: socket.socket) -> None:
        if read_request(conn) is None:
            return
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
        )
        while not self.stopping.wait(self.interval):
            conn.sendall(b" ")
            self.sent += 1


class ResetServer(LoopbackServer):
    """Reads the request, then resets the connection (a TCP RST, no answer)."""

    def handle(self, conn: socket.socket) -> None:
        read_request(conn)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()


class TunnelProxy(LoopbackServer):
    """An HTTP proxy that opens CONNECT tunnels to loopback ports only.

    With `credentials`, a CONNECT without the matching Proxy-Authorization gets 407.
    """

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        super().__init__(None)
        self.credentials = credentials
        self.tunnels: list[str] = []

    def handle(self, conn: socket.socket) -> None:
        request = read_request(conn)
        if request is None:
            return
        if request.method != "CONNECT":
            send_reply(conn, Reply(405, b"CONNECT only"))
            return
        if not self._authorised(request):
            send_reply(conn, Reply(407, b"", {"Proxy-Authenticate": 'Basic realm="test"'}))
            return
        host, _, port = request.path.rpartition(":")
        if host not in ("127.0.0.1", "localhost"):
            send_reply(conn, Reply(403, b"loopback only"))
            return
        upstream = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
        self.tunnels.append(request.path)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self._relay(conn, upstream)

    def _authorised(self, request: Request) -> bool:
        if self.credentials is None:
            return True
        wanted = base64.b64encode(":".join(self.credentials).encode()).decode()
        return request.headers.get("proxy-authorization", "") == f"Basic {wanted}"

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        with upstream:
            while not self.stopping.is_set():
                ready, _, _ = select.select([client, upstream], [], [], 0.2)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is client else client).sendall(data)
