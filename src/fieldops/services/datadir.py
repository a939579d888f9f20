"""Where FieldOps keeps its files: the data directory and what lives in it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

ENV_VAR = "FIELDOPS_DATA_DIR"


@dataclass(frozen=True)
class DataDir:
    """The data directory's layout."""

    root: Path

    @property
    def database(self) -> Path:
        """The SQLite file."""
        return self.root / "fieldops.sqlite"

    @property
    def blobs(self) -> Path:
        """Photo originals, named by SHA-256."""
        return self.root / "photos"

    @property
    def thumbnails(self) -> Path:
        """Small JPEG previews, named by the original's SHA-256."""
        return self.root / "thumbnails"

    @property
    def logs(self) -> Path:
        """Rotating log files."""
        return self.root / "logs"

    @property
    def backups(self) -> Path:
        """Database copies taken before each schema upgrade."""
        return self.root / "backups"

    def create(self) -> None:
        """Makes the folders that do not exist yet."""
        for folder in (self.root, self.blobs, self.thumbnails, self.logs, self.backups):
            folder.mkdir(parents=True, exist_ok=True)


def default_root() -> Path:
    """The platform's standard per-user data location (local, not roaming, on Windows)."""
    return Path(user_data_dir("FieldOps", appauthor=False, roaming=False))


def resolve(explicit: str | os.PathLike[str] | None = None) -> DataDir:
    """The data directory: the one given, else FIELDOPS_DATA_DIR, else the platform default."""
    chosen = explicit or os.environ.get(ENV_VAR) or default_root()
    return DataDir(Path(chosen).expanduser().resolve())
