"""Photo transfers: a streamed upload body from an offset, and a download checked by hash."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from fieldops.sync.errors import BadResponse, SyncError

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) as a transfer goes on."""

CHUNK = 256 * 1024


class LocalFileError(SyncError):
    """A photo file could not be read or written on this device."""

    kind = "local_file"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"The photo file {path} could not be used on this device ({reason}).")
        self.path = path


class SourceFailed(Exception):
    """Carries a local read error through urllib3, which takes any OSError for the network's."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error

    def as_error(self) -> LocalFileError:
        """The error to show: which file, and why."""
        name = self.error.filename
        return LocalFileError(str(name) if name else "?", self.error.strerror or "read failed")


def source_size(source: Path | bytes) -> int:
    """How many bytes the blob has."""
    if isinstance(source, bytes):
        return len(source)
    try:
        return source.stat().st_size
    except OSError as error:
        raise SourceFailed(error).as_error() from error


class UploadBody:
    """A streamed request body of known length, so it goes with a Content-Length.

    It reads the blob from `offset` in chunks and reports progress each time a chunk has
    been handed to the connection.
    """

    def __init__(
        self,
        source: Path | bytes,
        offset: int,
        size: int,
        progress: ProgressCallback | None = None,
        chunk_size: int = CHUNK,
    ) -> None:
        self._source = source
        self._offset = offset
        self._size = size
        self._progress = progress
        self._chunk = chunk_size

    def __len__(self) -> int:
        return self._size - self._offset

    def __iter__(self) -> Iterator[bytes]:
        done = self._offset
        self._report(done)
        for piece in self._pieces():
            yield piece
            done += len(piece)
            self._report(done)

    def _report(self, done: int) -> None:
        if self._progress is not None:
            self._progress(done, self._size)

    def _pieces(self) -> Iterator[bytes]:
        if isinstance(self._source, bytes):
            view = memoryview(self._source)
            for start in range(self._offset, self._size, self._chunk):
                yield bytes(view[start : start + self._chunk])
            return
        try:
            with self._source.open("rb") as handle:
                yield from self._file_pieces(handle)
        except OSError as error:
            raise SourceFailed(error) from error

    def _file_pieces(self, handle: BinaryIO) -> Iterator[bytes]:
        handle.seek(self._offset)
        left = self._size - self._offset
        while left > 0:
            piece = handle.read(min(self._chunk, left))
            if not piece:
                return
            left -= len(piece)
            yield piece


class DownloadSink:
    """Writes a downloaded blob to a part file, hashing it; `finish` checks and renames it."""

    def __init__(
        self, target: Path, sha256: str, size: int | None, progress: ProgressCallback | None
    ) -> None:
        self.target = target
        self.sha256 = sha256
        self.size = size
        self.progress = progress
        self.part = target.with_name(target.name + ".part")
        self.done = 0
        self._hash = hashlib.sha256()
        try:
            self._handle: BinaryIO = self.part.open("wb")
        except OSError as error:
            raise SourceFailed(error).as_error() from error

    def __call__(self, piece: bytes) -> None:
        try:
            self._handle.write(piece)
        except OSError as error:
            raise SourceFailed(error) from error
        self._hash.update(piece)
        self.done += len(piece)
        if self.progress is not None:
            self.progress(self.done, self.size or self.done)

    def finish(self, url: str) -> int:
        """Keeps the file when its bytes hash to its name; returns its size."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        if self._hash.hexdigest() != self.sha256:
            self.part.unlink(missing_ok=True)
            raise BadResponse("the downloaded photo does not match its hash", url)
        os.replace(self.part, self.target)
        return self.done

    def abandon(self) -> None:
        """Removes the part file after a failed download."""
        if not self._handle.closed:
            self._handle.close()
        self.part.unlink(missing_ok=True)
