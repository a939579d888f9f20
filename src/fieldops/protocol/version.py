"""The protocol's version numbers, paths and header names, shared by client and server."""

from __future__ import annotations

from typing import Final

PROTOCOL_VERSION: Final = 1
"""The version this code speaks; it goes up when the wire schema changes."""

MIN_CLIENT_VERSION: Final = 1
"""The oldest client protocol the server still accepts; older ones get 426."""

API_PREFIX: Final = "/api/v1"

PROTOCOL_HEADER: Final = "X-FieldOps-Protocol"
"""Sent by the client on every request (its PROTOCOL_VERSION) and by the server on answers."""

EPOCH_HEADER: Final = "X-FieldOps-Epoch"
"""Sent by the server on every answer: changes when its database is restored from a backup."""

UPLOAD_OFFSET_HEADER: Final = "Upload-Offset"
"""Blob uploads: how many bytes of the blob the server holds, or where this PUT starts."""

UPLOAD_LENGTH_HEADER: Final = "Upload-Length"
"""Blob uploads: the whole blob's size in bytes, sent with every PUT."""

MAX_PUSH_MUTATIONS: Final = 1000
DEFAULT_PULL_LIMIT: Final = 1000
MAX_PULL_LIMIT: Final = 5000


class Paths:
    """Every endpoint of the API, by name."""

    INFO: Final = f"{API_PREFIX}/info"
    LOGIN: Final = f"{API_PREFIX}/login"
    LOGOUT: Final = f"{API_PREFIX}/logout"
    ME: Final = f"{API_PREFIX}/me"
    PUSH: Final = f"{API_PREFIX}/sync/push"
    PULL: Final = f"{API_PREFIX}/sync/pull"
    BLOB: Final = f"{API_PREFIX}/blobs/{{sha256}}"
    USERS: Final = f"{API_PREFIX}/users"
    USER: Final = f"{API_PREFIX}/users/{{name}}"
    USER_REVOKE: Final = f"{API_PREFIX}/users/{{name}}/revoke-tokens"
    SITES: Final = f"{API_PREFIX}/sites"
    SITE: Final = f"{API_PREFIX}/sites/{{code}}"
    CATALOGUE_IMPORT: Final = f"{API_PREFIX}/catalogue/import"
    CLIENTS: Final = f"{API_PREFIX}/clients"

    @staticmethod
    def blob(sha256: str) -> str:
        """The path of one blob."""
        return f"{API_PREFIX}/blobs/{sha256}"
