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
from pathlib import Path

from PIL import Image

from fieldops.media import exif as exif_facts
from fieldops.media.jpeg_segments import JpegStructureError, strip_metadata
from fieldops.media.photo_errors import PhotoError, PhotoProblem, file_error
from fieldops.media.photo_output import encode, for_copy, for_thumbnail, write_atomically
from fieldops.media.photo_reader import (
    DEFAULT_LIMITS,
    ImageInfo,
    OpenedPhoto,
    PhotoLimits,
    decoding,
    open_photo,
    pillow_heif,
    probe_decode,
)

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


def inspect_image(
    path: str | os.PathLike[str], *, limits: PhotoLimits = DEFAULT_LIMITS
) -> ImageInfo:
    """Identify a photo and read its displayed size and metadata facts, from its headers."""
    with open_photo(Path(path), limits) as opened:
        if opened.complete is None:
            with decoding(opened):
                probe_decode(opened)
        return opened.info


def make_thumbnail(
    path: str | os.PathLike[str], max_side: int = 320, *, limits: PhotoLimits = DEFAULT_LIMITS
) -> bytes:
    """An upright JPEG no larger than max_side on either side, with no metadata at all.

    This is what the interface shows (QPixmap.loadFromData), never the original file.
    """
    if max_side < 1:
        raise ValueError("max_side must be positive")
    with open_photo(Path(path), limits) as opened, decoding(opened):
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
    with open_photo(Path(path), limits) as opened:
        privacy_exif = exif_facts.privacy_exif(opened.facts)
        stripped = _stripped_jpeg(opened, privacy_exif, max_side)
        if stripped is not None:
            data = stripped
        else:
            with decoding(opened):
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


def _stripped_jpeg(opened: OpenedPhoto, privacy_exif: bytes, max_side: int | None) -> bytes | None:
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
    opened: OpenedPhoto, privacy_exif: bytes, max_side: int | None, limits: PhotoLimits
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


def _draft_within(opened: OpenedPhoto, max_pixels: int) -> None:
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
