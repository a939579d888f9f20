"""Preparing decoded photos for encoding, encoding them bare, and writing files atomically."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from PIL import Image

# Sources whose copies stay lossless; photographic formats are written as JPEG.
_LOSSLESS_SOURCES = frozenset({"PNG", "GIF", "BMP"})
_PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "I;16"})
_SIXTEEN_BIT = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})


def for_thumbnail(image: Image.Image) -> Image.Image:
    """The image in a mode JPEG takes: grey or RGB, transparency flattened onto white."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in _SIXTEEN_BIT:
        return _to_eight_bit_grey(image)
    if _has_alpha(image):
        return _flatten_on_white(image)
    return image.convert("RGB")


def for_copy(image: Image.Image, source_format: str) -> tuple[str, Image.Image]:
    """The output format for a copy of this image, and the image in a mode it can hold."""
    if source_format in _LOSSLESS_SOURCES or _has_alpha(image):
        if image.mode == "P" and _has_alpha(image):
            return "PNG", image.convert("RGBA")
        if image.mode in _PNG_MODES:
            return "PNG", image
        return "PNG", image.convert("RGBA" if _has_alpha(image) else "RGB")
    return "JPEG", for_thumbnail(image)


def encode(
    image: Image.Image, fmt: str, *, quality: int, icc: bytes | None = None, exif: bytes = b""
) -> bytes:
    """The image encoded with only the metadata given here: no info the decoder left behind."""
    # Pillow copies a source's info (XMP, EXIF, transparency) along every transform; clear it
    # so that nothing but the arguments reaches the encoder.
    image.info = {}
    options: dict[str, object] = {}
    if icc:
        options["icc_profile"] = icc
    if exif:
        options["exif"] = exif
    if fmt == "JPEG":
        options.update(quality=quality, optimize=False)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def write_atomically(dest: Path, data: bytes) -> None:
    """Write data to dest so that a crash leaves either the old file, the whole new one or none."""
    handle, temporary = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, dest)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    sync_directory(dest.parent)


def sync_directory(folder: Path) -> None:
    """Make the rename itself durable (POSIX only; Windows has no directory handles for this)."""
    if os.name == "nt":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )


def _flatten_on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _to_eight_bit_grey(image: Image.Image) -> Image.Image:
    """Scale 16-bit or float grey to 8 bits (a plain convert would clip everything above 255)."""
    if image.mode == "F":
        return image.convert("L")
    return image.convert("I").point(lambda value: value / 256).convert("L")
