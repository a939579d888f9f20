"""The server's settings: where its data lives and the limits it keeps."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from fieldops.domain.errors import ValidationError
from fieldops.domain.times import utcnow

ENV_PREFIX = "FIELDOPS_SERVER_"


@dataclass(frozen=True)
class Settings:
    """Everything a server process needs to know; the same in every worker."""

    data_dir: Path
    database: str = ""
    """The database URL; empty means the SQLite file in the data directory."""
    max_blob_bytes: int = 50 * 1024 * 1024
    token_ttl: timedelta = timedelta(days=30)
    tombstone_retention: timedelta = timedelta(days=180)
    login_user_limit: int = 5
    login_address_limit: int = 20
    login_window: timedelta = timedelta(minutes=15)
    login_block_max: timedelta = timedelta(minutes=15)
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 2
    pool_size: int = 10
    max_overflow: int = 20
    clock: Callable[[], datetime] = field(default=utcnow, compare=False)

    @property
    def database_url(self) -> str:
        """The database to use: the one given, or the SQLite file in the data directory."""
        return self.database or sqlite_url(self.data_dir / "server.db")

    @property
    def blob_dir(self) -> Path:
        """Where photo blobs are kept, named by their SHA-256."""
        return self.data_dir / "blobs"

    def with_changes(self, **changes: object) -> Settings:
        """A copy with some settings changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The settings as environment variables, for worker processes to read back."""
        return {
            ENV_PREFIX + "DATA_DIR": str(self.data_dir),
            ENV_PREFIX + "DB": self.database,
            ENV_PREFIX + "MAX_BLOB_MB": str(self.max_blob_bytes / 1024 / 1024),
            ENV_PREFIX + "TOKEN_DAYS": str(self.token_ttl / timedelta(days=1)),
            ENV_PREFIX + "RETENTION_DAYS": str(self.tombstone_retention / timedelta(days=1)),
        }

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Settings from FIELDOPS_SERVER_* environment variables."""
        env = dict(os.environ if environ is None else environ)
        data_dir = Path(env.get(ENV_PREFIX + "DATA_DIR") or default_data_dir())
        settings = cls(data_dir=data_dir, database=env.get(ENV_PREFIX + "DB", ""))
        changes: dict[str, object] = {}
        if value := env.get(ENV_PREFIX + "MAX_BLOB_MB"):
            changes["max_blob_bytes"] = int(_number(value, "MAX_BLOB_MB") * 1024 * 1024)
        if value := env.get(ENV_PREFIX + "TOKEN_DAYS"):
            changes["token_ttl"] = timedelta(days=_number(value, "TOKEN_DAYS"))
        if value := env.get(ENV_PREFIX + "RETENTION_DAYS"):
            changes["tombstone_retention"] = timedelta(days=_number(value, "RETENTION_DAYS"))
        return settings.with_changes(**changes) if changes else settings


def _number(text: str, name: str) -> float:
    """A positive number from an environment variable."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValidationError(f"{ENV_PREFIX}{name} must be a positive number, not '{text}'.")
    return value


def sqlite_url(path: Path) -> str:
    """The database URL of an SQLite file."""
    return f"sqlite:///{path}"


def default_data_dir() -> Path:
    """Where the server keeps its data when no directory is given."""
    return Path.home() / ".local" / "share" / "fieldops-server"
