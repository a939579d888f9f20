"""Reading a photo's header: what it is, how large, how it is turned, whether it is whole.

Everything here reads headers and metadata only; pixels are decoded by the caller, inside
`decoding()`, which turns decoder failures into PhotoError.
"""

from __future__ import annotations

import errno
import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO

from PIL import Image, ImageFile

from fieldops.media import exif as exif_facts
from fieldops.media.exif import ExifFacts
from fieldops.media.image_files import FileRefusal, PictureFileError, open_checked
from fieldops.media.photo_checks import is_complete, scan_png
from fieldops.media.photo_errors import (
    DECODE_ERRORS,
    PhotoError,
    PhotoProblem,
    decode_error,
    file_error,
    not_a_picture,
    too_large,
    truncated,
)
from fieldops.media.photo_formats import SNIFF_BYTES, Sniffed, sniff

logger = logging.getLogger(__name__)


def _load_heif_support() -> ModuleType | None:
    """pillow_heif, registered with Pillow; None in a build that lacks it."""
    try:
        import pillow_heif  # optional: the other formats work without it
    except ImportError:  # pragma: no cover - a build without HEIC support still reads the rest
        logger.warning("pillow_heif is missing: HEIC photos cannot be read")
        return None
    pillow_heif.register_heif_opener()
    return pillow_heif


pillow_heif = _load_heif_support()

_TIFF_WIDTH_TAG, _TIFF_HEIGHT_TAG = 0x0100, 0x0101

_REFUSALS = {
    FileRefusal.NOT_A_FILE: PhotoProblem.NOT_A_FILE,
    FileRefusal.TOO_BIG: PhotoProblem.FILE_TOO_BIG,
}

_EXTENSIONS = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "WEBP": ".webp",
    "TIFF": ".tif",
    "BMP": ".bmp",
    "GIF": ".gif",
    "HEIF": ".heif",
}


@dataclass(frozen=True, slots=True)
class PhotoLimits:
    """How large a photo FieldOps opens, and how large a re-encoded copy it writes."""

    max_pixels: int = 120_000_000
    """Photos with more pixels than this are refused before decoding."""
    max_copy_pixels: int = 64_000_000
    """A copy that must be re-encoded is reduced to this many pixels, so turning it upright
    (which holds two full-size images at once) stays within a few hundred megabytes."""


DEFAULT_LIMITS = PhotoLimits()


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What a photo is: its format, its size as displayed and what its metadata holds."""

    format: str
    mime: str
    width: int
    height: int
    orientation: int
    has_gps: bool
    pixel_count: int

    @property
    def extension(self) -> str:
        """The usual file name ending for this format, with its dot (".jpg")."""
        return ".heic" if self.mime == "image/heic" else _EXTENSIONS.get(self.format, "")


@dataclass(slots=True)
class OpenedPhoto:
    """A photo whose header has been read and checked, with its file still open."""

    image: ImageFile.ImageFile
    fp: IO[bytes]
    sniffed: Sniffed
    facts: ExifFacts
    info: ImageInfo
    complete: bool | None
    """True when the file is whole, False when cut short, None when only a decode can tell."""

    @property
    def format(self) -> str:
        """FieldOps' name for the format ("JPEG", "HEIF", ...)."""
        return self.sniffed.format or ""

    @property
    def turn(self) -> int:
        """The orientation still to apply to the decoded pixels.

        libheif turns HEIF pixels itself; recent Pillow turns TIFF pixels while loading and
        then drops the tag, so a TIFF still carrying the tag after loading needs the turn.
        """
        if self.format == "HEIF":
            return 1
        if self.format == "TIFF" and exif_facts.ORIENTATION not in getattr(
            self.image, "tag_v2", {}
        ):
            return 1
        return self.facts.orientation


def heif_decoder() -> str:
    """The HEIF decoder's name and version, for messages ("libheif 1.19.5")."""
    if pillow_heif is None:
        return "not installed"
    return f"libheif {pillow_heif.libheif_info()['libheif']}"


@contextmanager
def open_photo(path: Path, limits: PhotoLimits) -> Iterator[OpenedPhoto]:
    """Open, identify and measure a photo from its headers; refuse it if it is unusable."""
    try:
        fp = open_checked(path)
    except PictureFileError as exc:
        if exc.refusal is FileRefusal.FOLDER:
            raise file_error(path, IsADirectoryError(errno.EISDIR, "folder")) from None
        raise PhotoError(exc.message, _REFUSALS[exc.refusal]) from None
    except OSError as exc:
        raise file_error(path, exc) from exc
    with fp:
        size = os.fstat(fp.fileno()).st_size
        head = fp.read(SNIFF_BYTES)
        if not head:
            raise PhotoError(
                "This file is empty, so there is no picture in it.", PhotoProblem.EMPTY
            )
        sniffed = sniff(head)
        image = _parse_header(fp, size, sniffed)
        try:
            _check_pixels(image.size, limits)
            facts, complete = _read_facts(image, sniffed, fp, size)
            if complete is False:
                raise truncated()
            info = _describe(image, sniffed, facts)
            yield OpenedPhoto(image, fp, sniffed, facts, info, complete)
        finally:
            image.close()


def _parse_header(fp: IO[bytes], size: int, sniffed: Sniffed) -> ImageFile.ImageFile:
    """Pillow's reader for the sniffed format, run on the header only."""
    if sniffed.format is None:
        raise not_a_picture(sniffed)
    if sniffed.format == "HEIF" and pillow_heif is None:
        raise PhotoError(
            "FieldOps cannot read HEIC pictures on this computer (no HEIC decoder is installed).",
            PhotoProblem.HEIC_UNDECODABLE,
        )
    if sniffed.format not in Image.OPEN:
        Image.init()
    # Pillow's own Image.open would refuse a huge photo without saying how large it is;
    # calling the format's reader directly lets the pixel limit below speak plainly.
    factory, _accept = Image.OPEN[sniffed.format]
    fp.seek(0)
    try:
        image = factory(fp, "")
    except DECODE_ERRORS as exc:
        # A container cut short often fails in its header parser; say "cut short" if so.
        if is_complete(sniffed.format, fp, size, None) is False:
            raise truncated() from exc
        logger.warning("could not read the header of a %s photo: %s", sniffed.format, exc)
        raise decode_error(exc, sniffed.format, heif_decoder()) from exc
    if not isinstance(image, ImageFile.ImageFile) or min(image.size) < 1:
        raise decode_error(ValueError("no size"), sniffed.format, heif_decoder())
    return image


def _stored_size(image: ImageFile.ImageFile, sniffed: Sniffed) -> tuple[int, int]:
    """Width and height as stored; recent Pillow reports a turned TIFF's displayed size."""
    tags = getattr(image, "tag_v2", {}) if sniffed.format == "TIFF" else {}
    width, height = tags.get(_TIFF_WIDTH_TAG), tags.get(_TIFF_HEIGHT_TAG)
    if isinstance(width, int) and isinstance(height, int):
        return width, height
    return image.size


def _check_pixels(size: tuple[int, int], limits: PhotoLimits) -> None:
    width, height = size
    if width * height > limits.max_pixels:
        logger.info("refused a photo of %d x %d pixels", width, height)
        raise too_large(width, height, limits.max_pixels)


def _read_facts(
    image: ImageFile.ImageFile, sniffed: Sniffed, fp: IO[bytes], size: int
) -> tuple[ExifFacts, bool | None]:
    """The EXIF facts, and whether the file is whole (see photo_checks)."""
    raw_exif: bytes | Image.Exif | None = image.info.get("exif")
    xmp = image.info.get("xmp")
    complete: bool | None
    if sniffed.format == "PNG":
        scan = scan_png(fp, size)
        raw_exif, xmp, complete = scan.exif or raw_exif, scan.xmp or xmp, scan.complete
    else:
        complete = is_complete(sniffed.format or "", fp, size, image)
    if sniffed.format == "TIFF":
        raw_exif, xmp = image.getexif(), getattr(image, "tag_v2", {}).get(700, xmp)
    facts = exif_facts.read_facts(raw_exif, xmp.encode() if isinstance(xmp, str) else xmp)
    if sniffed.format == "HEIF":
        # pillow_heif resets EXIF orientation because libheif applies the turn itself.
        original = image.info.get("original_orientation") or 1
        facts = ExifFacts(original, facts.has_gps, facts.captured)
    return facts, complete


def _describe(image: ImageFile.ImageFile, sniffed: Sniffed, facts: ExifFacts) -> ImageInfo:
    width, height = _stored_size(image, sniffed)
    if sniffed.format != "HEIF":
        width, height = exif_facts.shown_size(width, height, facts.orientation)
    return ImageInfo(
        format=sniffed.format or "",
        mime=sniffed.mime,
        width=width,
        height=height,
        orientation=facts.orientation,
        has_gps=facts.has_gps,
        pixel_count=width * height,
    )


def probe_decode(opened: OpenedPhoto) -> None:
    """Decode just enough to know the pixel data is whole (JPEG at one eighth of its size)."""
    image = opened.image
    if opened.format == "JPEG":
        width, height = image.size
        image.draft(image.mode, (math.ceil(width / 8), math.ceil(height / 8)))
    image.load()


@contextmanager
def decoding(opened: OpenedPhoto) -> Iterator[None]:
    """Turn whatever a decoder raises into a PhotoError a person can act on."""
    try:
        yield
    except PhotoError:
        raise
    except MemoryError as exc:
        raise PhotoError(
            "There is not enough free memory to open this picture; close other programs and "
            "try again.",
            PhotoProblem.OUT_OF_MEMORY,
        ) from exc
    except DECODE_ERRORS as exc:
        logger.warning("could not decode a %s photo: %s", opened.format, exc)
        raise decode_error(exc, opened.format, heif_decoder()) from exc
