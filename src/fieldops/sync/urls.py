"""Server addresses: their host and port, and a form that is safe to log."""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fieldops.domain.errors import ValidationError

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SECRET_WORDS = ("token", "password", "passwd", "secret", "key", "auth", "sig", "session", "code")
REDACTED = "redacted"


def safe_url(url: str) -> str:
    """The URL without user name, password or secret-looking query values, for logs and errors."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(unreadable address)"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    query = urlencode(
        [(name, REDACTED if _looks_secret(name) else value) for name, value in _pairs(parts.query)]
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def _looks_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def normalise_base_url(url: str) -> str:
    """A server address as http(s)://host[:port][/prefix] without a trailing slash.

    Refuses addresses that carry a user name or password, a query or a fragment, since
    those would end up in logs and in the keyring's account name.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ValidationError(f"The server address {safe_url(text)} is not valid.") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValidationError(
            "The server address must start with https:// (or http:// on a test network) "
            "and name a host, for example https://fieldops.example.com."
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValidationError(
            "The server address must not contain a user name, password, query or fragment."
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def host_port(url: str) -> str:
    """The server's host and port as host:port (the scheme's port when none is written)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}"


def host_of(url: str) -> str:
    """The host name or address the URL points at."""
    return urlsplit(url).hostname or ""


def is_ip_literal(host: str) -> bool:
    """Whether the host is written as an IP address (so no name lookup happens)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
