"""The error a refused photo raises, and the plain sentences it carries."""

from __future__ import annotations

import errno
import struct
from enum import StrEnum
from pathlib import Path

from fieldops.domain.errors import FieldOpsError
from fieldops.media.photo_formats import Sniffed

# What Pillow and its plugins raise on a damaged file: plugins signal a bad header with
# SyntaxError, decoders with OSError or ValueError, and struct/index errors leak out of
# header parsers given too few bytes.
DECODE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    RuntimeError,
)


class PhotoProblem(StrEnum):
    """Why a photo was refused; PhotoError.code holds one of these values."""

    EMPTY = "photo_empty"
    NOT_A_PICTURE = "photo_not_a_picture"
    UNSUPPORTED_FORMAT = "photo_unsupported_format"
    TRUNCATED = "photo_truncated"
    DAMAGED = "photo_damaged"
    TOO_LARGE = "photo_too_large"
    HEIC_UNDECODABLE = "photo_heic_undecodable"
    """The file is HEIF but this computer's decoder cannot show it; the bytes may still be kept."""
    OUT_OF_MEMORY = "photo_out_of_memory"
    FILE_MISSING = "photo_file_missing"
    FILE_UNREADABLE = "photo_file_unreadable"
    NOT_A_FILE = "photo_not_a_file"
    """A folder, device, pipe or socket: refused before reading."""
    FILE_TOO_BIG = "photo_file_too_big"
    """Larger on disk than any photo: refused before reading."""
    WRITE_FAILED = "photo_write_failed"


class PhotoError(FieldOpsError):
    """A photo FieldOps cannot take, with one sentence saying why and what to do."""

    code = PhotoProblem.DAMAGED.value

    def __init__(self, message: str, problem: PhotoProblem) -> None:
        super().__init__(message, code=problem.value)
        self.problem = problem


def not_a_picture(sniffed: Sniffed) -> PhotoError:
    """The error for a file whose content is not a picture FieldOps reads."""
    if sniffed.unsupported_image:
        return PhotoError(
            f"This file is {sniffed.looks_like}, a format FieldOps cannot read; save it as "
            "JPEG or PNG and attach it again.",
            PhotoProblem.UNSUPPORTED_FORMAT,
        )
    hint = f" (it looks like {sniffed.looks_like})" if sniffed.looks_like else ""
    return PhotoError(
        f"This file is not a picture FieldOps can read{hint}.", PhotoProblem.NOT_A_PICTURE
    )


def too_large(width: int, height: int, max_pixels: int) -> PhotoError:
    """The error for a photo above the pixel limit, naming its size and the limit."""
    return PhotoError(
        f"The picture is {width} × {height} pixels ({_millions(width * height)} million), "
        f"too large to open safely; FieldOps opens up to {_millions(max_pixels)} million.",
        PhotoProblem.TOO_LARGE,
    )


def decode_error(exc: BaseException, fmt: str, heif_decoder: str) -> PhotoError:
    """The error for a photo whose header or pixels a decoder rejected."""
    if fmt == "HEIF":
        return PhotoError(
            f"FieldOps cannot preview this HEIC picture (decoder {heif_decoder}).",
            PhotoProblem.HEIC_UNDECODABLE,
        )
    if "truncated" in str(exc).lower():
        return truncated()
    return PhotoError(
        "The picture is damaged and cannot be read; copy it again from the camera or phone.",
        PhotoProblem.DAMAGED,
    )


def truncated() -> PhotoError:
    """The error for a photo file that was cut short."""
    return PhotoError(
        "The picture is incomplete (the file was cut short); copy it again from the camera "
        "or phone.",
        PhotoProblem.TRUNCATED,
    )


def file_error(path: Path, exc: OSError, *, writing: bool = False) -> PhotoError:
    """The error for a file that cannot be opened, read or written at all."""
    name = path.name or str(path)
    if writing:
        return PhotoError(
            f"FieldOps could not save the copy of the picture as {name} ({_reason(exc)}).",
            PhotoProblem.WRITE_FAILED,
        )
    if isinstance(exc, FileNotFoundError):
        return PhotoError(
            f"The file {name} is no longer there; attach it again.", PhotoProblem.FILE_MISSING
        )
    return PhotoError(
        f"FieldOps cannot read the file {name} ({_reason(exc)}).", PhotoProblem.FILE_UNREADABLE
    )


def _reason(exc: OSError) -> str:
    reasons = {
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EISDIR: "it is a folder",
        errno.ENOSPC: "the disk is full",
        errno.EROFS: "the disk is read-only",
    }
    return reasons.get(exc.errno or 0, exc.strerror or "input/output error").lower()


def _millions(pixels: int) -> str:
    text = f"{pixels / 1_000_000:.1f}"
    return text.removesuffix(".0")
