"""Photo intake: recognise a photo, measure it, make its thumbnail and its privacy copy.

A file is recognised by its content, never by its name. Headers are read first and a photo
larger than the pixel limit is refused before any pixel is decoded; thumbnails decode at a
reduced scale, so even a 100-megapixel photo costs a few megabytes of memory.

Loading photos in the Qt interface: never use plain ``QPixmap(path)`` or ``QImage(path)`` for
a photo. Both ignore the EXIF orientation, so a portrait phone photo shows on its side, and
both decode at full size, which Qt 6 refuses above its allocation limit and shows as a blank
preview. Show the JPEG bytes ``make_thumbnail`` returns instead (``QPixmap.loadFromData(data,
"JPEG")``): they are upright, small and carry no metadata. A larger preview asks this module
for a thumbnail with a bigger ``max_side``.
"""

from __future__ import annotations

import hashlib
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
from fieldops.media.jpeg_segments import JpegStructureError, strip_metadata
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
from fieldops.media.photo_output import encode, for_copy, for_thumbnail, write_atomically


def _load_heif_support() -> ModuleType | None:
    """pillow_heif, registered with Pillow; None in a build that lacks it."""
    try:
        import pillow_heif  # optional: the other formats work without it
    except ImportError:  # pragma: no cover - a build without HEIC support still reads the rest
        logger.warning("pillow_heif is missing: HEIC photos cannot be read")
        return None
    pillow_heif.register_heif_opener()
    return pillow_heif


__all__ = [
    "DEFAULT_LIMITS",
    "ImageInfo",
    "PhotoError",
    "PhotoLimits",
    "PhotoProblem",
    "heif_support",
    "inspect_image",
    "make_thumbnail",
    "privacy_copy",
    "sha256_of",
]

logger = logging.getLogger(__name__)
pillow_heif = _load_heif_support()

_ORIENTATION_TAG = 0x0112
_TIFF_WIDTH_TAG, _TIFF_HEIGHT_TAG = 0x0100, 0x0101

_EXTENSIONS = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "WEBP": ".webp",
    "TIFF": ".tif",
    "BMP": ".bmp",
    "GIF": ".gif",
    "HEIF": ".heic",
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
class _Opened:
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
        return self.sniffed.format or ""

    @property
    def turn(self) -> int:
        """The orientation still to apply to the decoded pixels.

        libheif turns HEIF pixels itself; recent Pillow turns TIFF pixels while loading and
        then drops the tag, so a TIFF still carrying the tag after loading needs the turn.
        """
        if self.format == "HEIF":
            return 1
        if self.format == "TIFF" and _ORIENTATION_TAG not in getattr(self.image, "tag_v2", {}):
            return 1
        return self.facts.orientation


def inspect_image(
    path: str | os.PathLike[str], *, limits: PhotoLimits = DEFAULT_LIMITS
) -> ImageInfo:
    """Identify a photo and read its displayed size and metadata facts, from its headers."""
    with _open_photo(Path(path), limits) as opened:
        if opened.complete is None:
            with _decoding(opened):
                _probe_decode(opened)
        return opened.info


def make_thumbnail(
    path: str | os.PathLike[str], max_side: int = 320, *, limits: PhotoLimits = DEFAULT_LIMITS
) -> bytes:
    """An upright JPEG no larger than max_side on either side, with no metadata at all."""
    if max_side < 1:
        raise ValueError("max_side must be positive")
    with _open_photo(Path(path), limits) as opened, _decoding(opened):
        image = opened.image
        image.thumbnail((max_side, max_side), reducing_gap=2.0)
        small = exif_facts.upright(for_thumbnail(image), opened.turn)
        return encode(small, "JPEG", quality=85, icc=opened.image.info.get("icc_profile"))


def privacy_copy(
    path: str | os.PathLike[str],
    dest_path: str | os.PathLike[str],
    *,
    max_side: int | None = None,
    limits: PhotoLimits = DEFAULT_LIMITS,
) -> ImageInfo:
    """Write the copy of a photo that may leave the device, and describe it.

    Pixels are turned upright and no orientation tag is written; GPS, serial numbers, maker
    notes, XMP and every other tag except the capture time are left out. An upright JPEG
    is copied without re-encoding; everything else is re-encoded (HEIC and other photos as
    JPEG, PNG, GIF, BMP and pictures with transparency as PNG).
    """
    dest = Path(dest_path)
    with _open_photo(Path(path), limits) as opened:
        privacy_exif = exif_facts.privacy_exif(opened.facts)
        stripped = _stripped_jpeg(opened, privacy_exif, max_side)
        if stripped is not None:
            data = stripped
        else:
            with _decoding(opened):
                data = _reencoded_copy(opened, privacy_exif, max_side, limits)
    try:
        write_atomically(dest, data)
    except OSError as exc:
        raise file_error(dest, exc, writing=True) from exc
    logger.info("wrote privacy copy %s (%d bytes)", dest.name, len(data))
    return inspect_image(dest, limits=limits)


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes as 64 lowercase hex digits, read in chunks."""
    file = Path(path)
    try:
        with file.open("rb") as fp:
            return hashlib.file_digest(fp, "sha256").hexdigest()
    except OSError as exc:
        raise file_error(file, exc) from exc


def heif_support() -> str:
    """The HEIC/HEIF decoder versions, for the About box ("pillow-heif 1.9.0, libheif ...")."""
    if pillow_heif is None:
        return "HEIC support is not installed"
    info = pillow_heif.libheif_info()
    decoders = ", ".join(str(v) for v in info.get("decoders", {}).values()) or "none"
    return (
        f"pillow-heif {pillow_heif.__version__}, libheif {info['libheif']} (decoders: {decoders})"
    )


def _heif_decoder() -> str:
    if pillow_heif is None:
        return "not installed"
    return f"libheif {pillow_heif.libheif_info()['libheif']}"


@contextmanager
def _open_photo(path: Path, limits: PhotoLimits) -> Iterator[_Opened]:
    """Open, identify and measure a photo from its headers; refuse it if it is unusable."""
    try:
        fp = path.open("rb")
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
            yield _Opened(image, fp, sniffed, facts, info, complete)
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
        raise decode_error(exc, sniffed.format, _heif_decoder()) from exc
    if not isinstance(image, ImageFile.ImageFile) or min(image.size) < 1:
        raise decode_error(ValueError("no size"), sniffed.format, _heif_decoder())
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


def _probe_decode(opened: _Opened) -> None:
    """Decode just enough to know the pixel data is whole (JPEG at one eighth of its size)."""
    image = opened.image
    if opened.format == "JPEG":
        width, height = image.size
        image.draft(image.mode, (math.ceil(width / 8), math.ceil(height / 8)))
    image.load()


@contextmanager
def _decoding(opened: _Opened) -> Iterator[None]:
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
        raise decode_error(exc, opened.format, _heif_decoder()) from exc


def _stripped_jpeg(opened: _Opened, privacy_exif: bytes, max_side: int | None) -> bytes | None:
    """An upright, full-size JPEG with its metadata removed without re-encoding, if possible."""
    if opened.format != "JPEG" or opened.turn != 1:
        return None
    width, height = opened.image.size
    if max_side is not None and max(width, height) > max_side:
        return None
    opened.fp.seek(0)
    try:
        return strip_metadata(opened.fp.read(), privacy_exif)
    except JpegStructureError:
        logger.info("JPEG structure not plain enough to strip in place; re-encoding", exc_info=True)
        return None


def _reencoded_copy(
    opened: _Opened, privacy_exif: bytes, max_side: int | None, limits: PhotoLimits
) -> bytes:
    """Decode (reduced when the limits or max_side ask), turn upright and encode."""
    image: Image.Image = opened.image
    icc = image.info.get("icc_profile")
    if max_side is not None and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    _draft_within(opened, limits.max_copy_pixels)
    image.load()
    image = _reduced_within(image, limits.max_copy_pixels)
    fmt, prepared = for_copy(image, opened.format)
    if prepared is not image:
        image.close()  # free the decoded original before turning the prepared copy
    upright = exif_facts.upright(prepared, opened.turn)
    if upright is not prepared:
        prepared.close()
    return encode(upright, fmt, quality=92, icc=icc, exif=privacy_exif)


def _draft_within(opened: _Opened, max_pixels: int) -> None:
    """Have a JPEG decode at 1/2, 1/4 or 1/8 scale when full size exceeds max_pixels.

    Decoding at a reduced scale costs a fraction of the memory of decoding, then shrinking.
    """
    width, height = opened.image.size
    if opened.format != "JPEG" or width * height <= max_pixels:
        return
    factor = 2
    while factor < 8 and (width // factor) * (height // factor) > max_pixels:
        factor *= 2
    opened.image.draft(opened.image.mode, (width // factor, height // factor))


def _reduced_within(image: Image.Image, max_pixels: int) -> Image.Image:
    """The image shrunk by a whole factor until it has at most max_pixels."""
    width, height = image.size
    if width * height <= max_pixels:
        return image
    factor = math.ceil(math.sqrt(width * height / max_pixels))
    while (width // factor) * (height // factor) > max_pixels:
        factor += 1
    reduced = image.reduce(factor)
    image.close()
    return reduced
