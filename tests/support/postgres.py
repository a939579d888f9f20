"""A throwaway PostgreSQL cluster for tests, started from this machine's server binaries.

`running_postgres()` is a context manager; `postgres_cluster` is the same as a session-scoped
pytest fixture (import it into a conftest.py). As root, initdb and pg_ctl run as the
`postgres` user (PostgreSQL refuses root); the data and socket directories live in a temporary
folder owned by that user, and the server listens on a free loopback port.

When the binaries are missing the fixture fails with a message saying what to install;
setting FIELDOPS_SKIP_POSTGRES=1 turns that into a skip, on purpose, for machines without them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SKIP_ENV = "FIELDOPS_SKIP_POSTGRES"
BIN_ENV = "FIELDOPS_PG_BIN"
SUPERUSER = "app"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not on this machine."""


@dataclass(frozen=True)
class PostgresCluster:
    """A running throwaway cluster: where it listens and how to make databases in it."""

    host: str
    port: int
    bin_dir: Path
    root: Path

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of a database in this cluster (psycopg 3 driver)."""
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """The plain libpq connection string of a database."""
        return f"host={self.host} port={self.port} user={SUPERUSER} dbname={database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """Creates a database (optionally copied from a template); returns its URL."""
        import psycopg

        clause = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"{clause}')  # type: ignore[arg-type]
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drops a database, ending any connection still open to it."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            statement = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            connection.execute(statement)  # type: ignore[arg-type]


def find_bin_dir() -> Path:
    """The directory holding initdb and pg_ctl."""
    candidates = [os.environ[BIN_ENV]] if os.environ.get(BIN_ENV) else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        path = Path(candidate)
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    raise PostgresUnavailable(
        "The PostgreSQL server binaries (initdb, pg_ctl) were not found under "
        "/usr/lib/postgresql/*/bin. Install them with tools/system-deps.sh (Debian package "
        f"'postgresql'), or point {BIN_ENV} at their directory."
    )


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_owner(command: list[str]) -> list[str]:
    """Runs as `postgres` when we are root (PostgreSQL refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], log: Path | None = None) -> None:
    result = subprocess.run(_as_owner(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        if log is not None and log.exists():
            detail += "\n" + log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{Path(command[0]).name} failed: {detail}")


def _prepare_root() -> Path:
    """A temporary folder the cluster's user owns, inside a folder anyone may enter."""
    root = Path(tempfile.mkdtemp(prefix="fieldops-pg-"))
    root.chmod(0o755)
    for sub in ("data", "sock"):
        (root / sub).mkdir(mode=0o700)
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (root / "data", root / "sock", root):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    return root


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresCluster]:
    """Starts a throwaway cluster on a free loopback port and removes it afterwards."""
    bin_dir = find_bin_dir()
    root = _prepare_root()
    data, sock, log = root / "data", root / "sock", root / "server.log"
    pg_ctl = str(bin_dir / "pg_ctl")
    started = False
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ]
        )
        for attempt in range(3):  # a free port can be taken between probing and binding
            port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
            )
            try:
                _run([pg_ctl, "-D", str(data), "-l", str(log), "-w", "-o", options, "start"], log)
            except RuntimeError:
                if attempt == 2:
                    raise
                continue
            started = True
            break
        yield PostgresCluster("127.0.0.1", port, bin_dir, root)
    finally:
        if started:
            subprocess.run(
                _as_owner([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster for the whole test session; fails clearly when it cannot start."""
    try:
        with running_postgres() as cluster:
            yield cluster
    except PostgresUnavailable as missing:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"{missing} ({SKIP_ENV}=1)")
        pytest.fail(str(missing), pytrace=False)
