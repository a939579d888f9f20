"""What certificate a server presents: issuer, subject, names and dates, read from its DER.

Python's ssl module only describes a peer certificate after it has been verified, yet the
certificate is most worth naming exactly when verification failed. So after a failure the
client takes one more look at the handshake, with verification off, reads the certificate
and closes the connection without sending a request. No data ever travels on such a
connection; every request still goes over a verified one.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

_NAME_OIDS = {
    bytes.fromhex("550403"): "CN",
    bytes.fromhex("55040a"): "O",
    bytes.fromhex("55040b"): "OU",
    bytes.fromhex("550406"): "C",
}
_SUBJECT_ALT_NAME = bytes.fromhex("551d11")
_STRING_TAGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be"}


@dataclass(frozen=True)
class CertificateSummary:
    """The parts of a certificate a person needs to tell what went wrong."""

    subject: str
    issuer: str
    not_before: datetime | None
    not_after: datetime | None
    names: list[str] = field(default_factory=list)
    """Host names and addresses the certificate is for (its subject alternative names)."""
    chain_length: int = 1


class _Der:
    """A cursor over DER bytes: reads one tag-length-value at a time."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def more(self) -> bool:
        return self.pos < len(self.data)

    def read(self) -> tuple[int, bytes]:
        tag = self.data[self.pos]
        length = self.data[self.pos + 1]
        self.pos += 2
        if length & 0x80:
            count = length & 0x7F
            if count == 0 or count > 4:
                raise ValueError("unsupported DER length")
            length = int.from_bytes(self.data[self.pos : self.pos + count], "big")
            self.pos += count
        value = self.data[self.pos : self.pos + length]
        if len(value) != length:
            raise ValueError("truncated DER")
        self.pos += length
        return tag, value


def summarise(der: bytes, chain_length: int = 1) -> CertificateSummary | None:
    """The summary of a DER certificate, or None when it cannot be read."""
    try:
        return _summarise(der, chain_length)
    except (ValueError, IndexError, UnicodeDecodeError):
        log.debug("could not read the presented certificate", exc_info=True)
        return None


def _summarise(der: bytes, chain_length: int) -> CertificateSummary:
    _, certificate = _Der(der).read()
    _, tbs = _Der(certificate).read()
    fields = _Der(tbs)
    tag, value = fields.read()
    if tag == 0xA0:  # explicit version; the serial number follows
        tag, value = fields.read()
    fields.read()  # signature algorithm
    _, issuer = fields.read()
    _, validity = fields.read()
    _, subject = fields.read()
    fields.read()  # subject public key info
    names: list[str] = []
    while fields.more():
        tag, value = fields.read()
        if tag == 0xA3:
            names = _alt_names(value)
    times = _Der(validity)
    not_before, not_after = _time(*times.read()), _time(*times.read())
    return CertificateSummary(
        subject=_name(subject),
        issuer=_name(issuer),
        not_before=not_before,
        not_after=not_after,
        names=names,
        chain_length=chain_length,
    )


def _name(der: bytes) -> str:
    """A distinguished name as people read it: the common name, else the organisation."""
    parts: dict[str, str] = {}
    rdns = _Der(der)
    while rdns.more():
        _, rdn = rdns.read()
        attributes = _Der(rdn)
        while attributes.more():
            _, pair = attributes.read()
            inner = _Der(pair)
            _, oid = inner.read()
            tag, value = inner.read()
            label = _NAME_OIDS.get(oid)
            if label and label not in parts:
                parts[label] = value.decode(_STRING_TAGS.get(tag, "utf-8"), "replace")
    if "CN" in parts:
        return parts["CN"]
    return ", ".join(f"{key}={value}" for key, value in parts.items()) or "(no name)"


def _time(tag: int, value: bytes) -> datetime | None:
    text = value.decode("ascii")
    formats = {0x17: "%y%m%d%H%M%SZ", 0x18: "%Y%m%d%H%M%SZ"}
    if tag not in formats:
        return None
    return datetime.strptime(text, formats[tag]).replace(tzinfo=UTC)


def _alt_names(extensions_field: bytes) -> list[str]:
    """Host names and IP addresses from the subject alternative name extension."""
    _, extensions = _Der(extensions_field).read()
    cursor = _Der(extensions)
    while cursor.more():
        _, extension = cursor.read()
        inner = _Der(extension)
        _, oid = inner.read()
        tag, value = inner.read()
        if tag == 0x01:  # the optional "critical" flag
            tag, value = inner.read()
        if oid == _SUBJECT_ALT_NAME:
            return _general_names(value)
    return []


def _general_names(octets: bytes) -> list[str]:
    _, sequence = _Der(octets).read()
    cursor = _Der(sequence)
    names: list[str] = []
    while cursor.more():
        tag, value = cursor.read()
        if tag == 0x82:
            names.append(value.decode("ascii"))
        elif tag == 0x87 and len(value) in (4, 16):
            names.append(str(ipaddress.ip_address(value)))
    return names


def presented_certificate(
    url: str, *, proxy: str | None = None, timeout: float = 5.0
) -> CertificateSummary | None:
    """The certificate the server at `url` presents, read without trusting it; None if unreadable.

    Only the TLS handshake happens: no request is sent and the connection is closed at once.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only to read the certificate; no data is sent
    try:
        connection = _connection(host, port, proxy, context, timeout)
        try:
            connection.connect()
            sock = connection.sock
            if not isinstance(sock, ssl.SSLSocket):
                return None
            der = sock.getpeercert(binary_form=True)
            chain = getattr(sock, "get_unverified_chain", lambda: None)()
        finally:
            connection.close()
    except (OSError, http.client.HTTPException) as error:
        log.info("could not read the certificate of %s: %s", host, type(error).__name__)
        return None
    if not der:
        return None
    return summarise(der, len(chain) if chain else 1)


def _connection(
    host: str, port: int, proxy: str | None, context: ssl.SSLContext, timeout: float
) -> http.client.HTTPSConnection:
    """A connection to the host, through an http:// proxy's tunnel when one is in use."""
    if not proxy:
        return http.client.HTTPSConnection(host, port, context=context, timeout=timeout)
    proxy_parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    connection = http.client.HTTPSConnection(
        proxy_parts.hostname or "", proxy_parts.port or 8080, context=context, timeout=timeout
    )
    connection.set_tunnel(host, port)
    return connection
