"""The stored scanner profile: one small JSON file in the data directory.

The profile is learnt once from a scan of the test label (Settings > Scanner) and then
corrects every keyboard scan: the window's scan field, scans anywhere in the window, and the
command line. The file is replaced atomically, so a crash while saving leaves the old profile
or the new one, never half of either. A damaged file is never fatal: the app works without a
profile and says so.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fieldops.domain.errors import FieldOpsError
from fieldops.domain.scanner_profile import ScannerProfile
from fieldops.media.photo_output import sync_directory, write_atomically
from fieldops.services.datadir import DataDir

log = logging.getLogger(__name__)

PROFILE_FILE = "scanner-profile.json"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 64 * 1024  # a profile is a few hundred bytes; more is not ours

DAMAGED = (
    "The stored scanner profile is damaged, so scans are not corrected. Set the scanner up "
    "again in Settings > Scanner."
)
TOO_NEW = (
    "The stored scanner profile was written by a newer FieldOps, so scans are not corrected. "
    "Set the scanner up again in Settings > Scanner, or update FieldOps."
)


class ScannerProfileError(FieldOpsError):
    """The stored scanner profile cannot be read or written."""

    code = "scanner-profile"


@dataclass(frozen=True)
class StoredProfile:
    """What the data directory holds: a profile, or None, and why not when it is damaged."""

    profile: ScannerProfile | None
    problem: str | None = None


def profile_path(data_dir: DataDir | Path) -> Path:
    """Where the profile of this data directory lives."""
    root = data_dir.root if isinstance(data_dir, DataDir) else Path(data_dir)
    return root / PROFILE_FILE


def read_profile(data_dir: DataDir | Path) -> StoredProfile:
    """The stored profile; a missing file is no profile, a damaged one is a problem to show."""
    path = profile_path(data_dir)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return StoredProfile(None)
    except OSError as exc:
        log.warning("scanner profile unreadable: %s", exc.strerror)
        return StoredProfile(None, DAMAGED)
    try:
        return StoredProfile(_parse(raw))
    except ScannerProfileError as exc:
        log.warning("scanner profile ignored: %s", exc.message)
        return StoredProfile(None, exc.message)


def load_profile(data_dir: DataDir | Path) -> ScannerProfile | None:
    """The stored profile, or None when there is none or it is damaged (logged)."""
    return read_profile(data_dir).profile


def _parse(raw: bytes) -> ScannerProfile:
    if len(raw) > MAX_FILE_BYTES:
        raise ScannerProfileError(DAMAGED)
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ScannerProfileError(DAMAGED) from None
    if not isinstance(document, dict) or not isinstance(document.get("profile"), dict):
        raise ScannerProfileError(DAMAGED)
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ScannerProfileError(DAMAGED)
    if version > FORMAT_VERSION:
        raise ScannerProfileError(TOO_NEW)
    try:
        return ScannerProfile.from_dict(document["profile"])
    except FieldOpsError:  # from_dict's ValidationError, or a value the profile refuses
        raise ScannerProfileError(DAMAGED) from None


def save_profile(data_dir: DataDir | Path, profile: ScannerProfile) -> Path:
    """Stores the profile, replacing the old one atomically (temp file, fsync, replace)."""
    path = profile_path(data_dir)
    document: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": profile.to_dict(),
    }
    data = json.dumps(document, indent=2, ensure_ascii=True).encode("ascii") + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, data)
    log.info("scanner profile saved (layout %s)", profile.layout.value)
    return path


def clear_profile(data_dir: DataDir | Path) -> bool:
    """Forgets the stored profile; whether there was one."""
    path = profile_path(data_dir)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    sync_directory(path.parent)
    log.info("scanner profile forgotten")
    return True


class ScannerSetup:
    """The profile in use for one data directory: loaded at open, changed from Settings.

    Lookups read `profile` on a worker thread while Settings may save on another; the
    attribute is replaced whole, under a lock, so a lookup sees the old or the new profile.
    """

    def __init__(self, data_dir: DataDir | Path) -> None:
        self._data_dir = data_dir
        self._lock = threading.Lock()
        stored = read_profile(data_dir)
        self._profile = stored.profile
        self.problem: str | None = stored.problem
        """Set when the stored file was damaged: a sentence for the window to show."""

    @property
    def profile(self) -> ScannerProfile | None:
        """The profile every keyboard scan goes through, or None."""
        with self._lock:
            return self._profile

    @property
    def path(self) -> Path:
        """The file the profile is stored in."""
        return profile_path(self._data_dir)

    def save(self, profile: ScannerProfile) -> None:
        """Stores the profile and uses it from the next scan on."""
        with self._lock:
            save_profile(self._data_dir, profile)
            self._profile = profile
            self.problem = None

    def forget(self) -> None:
        """Removes the stored profile; later scans are not corrected."""
        with self._lock:
            clear_profile(self._data_dir)
            self._profile = None
            self.problem = None
