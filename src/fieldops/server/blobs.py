"""Photo blobs on the file system, named by their SHA-256, uploaded resumably.

A blob is first written to a partial file; once all its bytes are there and they hash to its
name it is flushed and renamed into place, so a stored blob is always whole and verified.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fieldops.protocol import ErrorCode
from fieldops.protocol.values import SHA256_PATTERN
from fieldops.server.errors import ApiError

log = logging.getLogger(__name__)

_SHA = re.compile(SHA256_PATTERN)


@dataclass(frozen=True)
class UploadState:
    """How much of a blob the store holds."""

    offset: int
    complete: bool


def check_name(sha256: str) -> str:
    """A blob name: 64 lower-case hex digits, never anything that could be a path."""
    if not _SHA.match(sha256):
        raise ApiError(
            422, ErrorCode.INVALID_REQUEST, "A blob is named by its SHA-256 in lower-case hex."
        )
    return sha256


class BlobStore:
    """Blobs under one directory: `ab/abcdef...` when whole, `partial/abcdef...` meanwhile."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        (root / "partial").mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where a whole blob lives."""
        name = check_name(sha256)
        return self.root / name[:2] / name

    def _partial(self, sha256: str) -> Path:
        return self.root / "partial" / check_name(sha256)

    def size(self, sha256: str) -> int | None:
        """The size of a whole blob, or None when the store does not have it."""
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def state(self, sha256: str) -> UploadState:
        """How much of the blob is here."""
        size = self.size(sha256)
        if size is not None:
            return UploadState(size, True)
        try:
            return UploadState(self._partial(sha256).stat().st_size, False)
        except FileNotFoundError:
            return UploadState(0, False)

    def check_length(self, length: int) -> None:
        """Refuses a blob larger than the configured limit before reading any of it."""
        if length > self.max_bytes:
            raise ApiError(
                413,
                ErrorCode.BLOB_TOO_LARGE,
                f"The file has {length} bytes; this server takes at most {self.max_bytes}.",
            )

    @contextlib.contextmanager
    def writer(self, sha256: str, offset: int, length: int) -> Iterator[PartialWriter]:
        """Appends to the partial file from `offset`, under a lock other workers respect."""
        self.check_length(length)
        partial = self._partial(sha256)
        with open(partial, "ab") as handle:
            try:
                # Never wait for the lock: this runs on the event loop.
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ApiError(
                    409,
                    ErrorCode.OFFSET_MISMATCH,
                    "Another upload of this file is in progress; ask again in a moment.",
                    offset=handle.seek(0, os.SEEK_END),
                ) from None
            held = handle.seek(0, os.SEEK_END)
            if offset != held or held > length:
                raise ApiError(
                    409,
                    ErrorCode.OFFSET_MISMATCH,
                    f"The server holds {held} bytes of this file; resume from there.",
                    headers={"Upload-Offset": str(held)},
                    offset=held,
                )
            yield PartialWriter(handle, held, length)
            handle.flush()
            os.fsync(handle.fileno())

    def finish(self, sha256: str) -> None:
        """Checks a whole partial file against its name and moves it into place."""
        partial = self._partial(sha256)
        try:
            with open(partial, "rb") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # in a worker thread: may wait
                if self.size(sha256) is not None:
                    return  # another upload of the same file finished it meanwhile
                digest = hashlib.sha256()
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
                self._accept(sha256, partial, digest.hexdigest())
        except FileNotFoundError:
            if self.size(sha256) is None:
                raise ApiError(
                    409,
                    ErrorCode.OFFSET_MISMATCH,
                    "The upload was lost; send the file again.",
                    offset=0,
                ) from None

    def _accept(self, sha256: str, partial: Path, digest: str) -> None:
        """Moves a verified partial file into place, or drops one that hashes wrong."""
        if digest != sha256:
            partial.unlink(missing_ok=True)
            log.warning("blob %s refused: its bytes hash to something else", sha256)
            raise ApiError(
                422,
                ErrorCode.HASH_MISMATCH,
                "The uploaded bytes do not match the file's SHA-256; the upload was dropped.",
            )
        target = self.path(sha256)
        target.parent.mkdir(exist_ok=True)
        os.replace(partial, target)
        _fsync_dir(target.parent)
        log.info("blob %s stored (%d bytes)", sha256, target.stat().st_size)

    def discard(self, sha256: str) -> None:
        """Drops a partial upload."""
        self._partial(sha256).unlink(missing_ok=True)


class PartialWriter:
    """Writes one request's bytes to a partial blob, never past its declared length."""

    def __init__(self, handle: BinaryIO, offset: int, length: int) -> None:
        self._handle = handle
        self.offset = offset
        self.length = length

    def write(self, chunk: bytes) -> None:
        """Appends a chunk; refuses bytes beyond the declared length."""
        if self.offset + len(chunk) > self.length:
            raise ApiError(
                422,
                ErrorCode.INVALID_REQUEST,
                f"More bytes were sent than the Upload-Length of {self.length}.",
            )
        self._handle.write(chunk)
        self.offset += len(chunk)

    @property
    def complete(self) -> bool:
        """Whether every byte of the blob is now here."""
        return self.offset == self.length


def _fsync_dir(path: Path) -> None:
    """Makes a rename in this directory durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
