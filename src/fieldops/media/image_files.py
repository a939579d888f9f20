"""Opening a picture file safely: a regular file, not larger than a photo can be.

A device (`/dev/zero`), a pipe or a socket never ends, and a sparse or runaway file can be
gigabytes long: both are refused from the file's metadata, before a byte is read. The file
is opened without blocking (a pipe would otherwise wait for a writer) and checked on the
open descriptor, so what is checked is what is read.
"""

from __future__ import annotations

import os
import stat
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from fieldops.domain.errors import FieldOpsError

# Photos of 48-108 megapixels are 10-40 MB as JPEG or HEIC; a PNG or TIFF of the largest
# picture FieldOps decodes stays under this too. Anything larger is not a photo of a label.
MAX_FILE_BYTES = 200 * 1024 * 1024


class FileRefusal(StrEnum):
    """Why a picture file was refused before reading it."""

    MISSING = "missing"
    FOLDER = "folder"
    NOT_A_FILE = "not-a-file"
    TOO_BIG = "too-big"
    UNREADABLE = "unreadable"


class PictureFileError(FieldOpsError):
    """A picture file refused before reading, with a sentence a person can act on."""

    code = "picture-file-refused"

    def __init__(self, message: str, refusal: FileRefusal) -> None:
        super().__init__(message)
        self.refusal = refusal


def megabytes(size: int) -> str:
    """A file size for people: "2,048 MB", "12.5 MB"."""
    value = size / (1024 * 1024)
    return f"{value:,.0f} MB" if value >= 100 else f"{value:.1f} MB"


def open_picture(path: Path, max_bytes: int = MAX_FILE_BYTES) -> BinaryIO:
    """The file, open for reading; PictureFileError unless it is a regular file of photo size."""
    name = path.name or str(path)
    try:
        return open_checked(path, max_bytes)
    except FileNotFoundError:
        raise PictureFileError(f"The file {name} does not exist.", FileRefusal.MISSING) from None
    except IsADirectoryError:
        raise _folder(name) from None
    except OSError as exc:
        raise PictureFileError(
            f"The file {name} cannot be opened: {(exc.strerror or 'input/output error').lower()}.",
            FileRefusal.UNREADABLE,
        ) from None


def open_checked(path: Path, max_bytes: int = MAX_FILE_BYTES) -> BinaryIO:
    """Like open_picture, but a file that cannot be opened raises the OSError itself."""
    # O_NONBLOCK: opening a pipe must not wait for a writer; regular files ignore it.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        check_regular(os.fstat(fd), path.name or str(path), max_bytes)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_regular(info: os.stat_result, name: str, max_bytes: int = MAX_FILE_BYTES) -> None:
    """Refuses anything but a regular file no larger than `max_bytes`."""
    if stat.S_ISDIR(info.st_mode):
        raise _folder(name)
    if not stat.S_ISREG(info.st_mode):
        raise PictureFileError(
            f"{name} is not a picture file but a device, pipe or socket; choose a photo file.",
            FileRefusal.NOT_A_FILE,
        )
    if info.st_size > max_bytes:
        raise PictureFileError(
            f"The file {name} is {megabytes(info.st_size)}, larger than the "
            f"{megabytes(max_bytes)} a photo can be, so FieldOps does not open it; use the "
            "camera's usual photo size or crop the picture.",
            FileRefusal.TOO_BIG,
        )


def _folder(name: str) -> PictureFileError:
    return PictureFileError(f"{name} is a folder, not an image file.", FileRefusal.FOLDER)
