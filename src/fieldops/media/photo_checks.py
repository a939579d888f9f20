"""Cheap structural checks that tell a complete image file from a cut-short one.

Each check reads a few bytes at the end of the file or walks the container's chunk headers;
none decodes pixels. When a check cannot decide, it answers None and the caller decodes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from PIL import Image

# Metadata chunks larger than this are not read: real EXIF and XMP are far smaller, and a
# huge one is either an attack or not something FieldOps needs to look inside.
_MAX_METADATA_BYTES = 4 * 1024 * 1024

_JPEG_TAIL_BYTES = 4096


@dataclass(frozen=True, slots=True)
class PngScan:
    """What walking a PNG's chunks found: whether it ends properly, and its metadata."""

    complete: bool
    exif: bytes | None = None
    xmp: bytes | None = None


def is_complete(fmt: str, fp: IO[bytes], size: int, image: Image.Image | None) -> bool | None:
    """True if the file is whole, False if it is cut short, None if this check cannot tell.

    `image` is the parsed header; without it the checks that need it answer None.
    """
    checks: dict[str, Callable[[], bool | None]] = {
        "JPEG": lambda: _jpeg_ends_with_eoi(fp, size),
        "PNG": lambda: scan_png(fp, size).complete,
        "GIF": lambda: _gif_ends_with_trailer(fp, size),
        "WEBP": lambda: _riff_complete(fp, size),
        "BMP": lambda: _raw_tiles_complete(image, size),
        "TIFF": lambda: _tiff_strips_complete(image, size),
        "HEIF": lambda: _boxes_complete(fp, size),
    }
    check = checks.get(fmt)
    return None if check is None else check()


def _tail(fp: IO[bytes], size: int, count: int) -> bytes:
    fp.seek(max(0, size - count))
    return fp.read(count)


def _jpeg_ends_with_eoi(fp: IO[bytes], size: int) -> bool | None:
    """True when the file ends with the End Of Image marker; None (ask a decode) otherwise.

    Cameras often append data after the marker (motion photos, vendor trailers), so a
    missing marker at the very end is not proof of a cut.
    """
    tail = _tail(fp, size, _JPEG_TAIL_BYTES).rstrip(b"\x00")
    return True if tail.endswith(b"\xff\xd9") else None


def _gif_ends_with_trailer(fp: IO[bytes], size: int) -> bool | None:
    return True if _tail(fp, size, 16).rstrip(b"\x00").endswith(b"\x3b") else None


def _riff_complete(fp: IO[bytes], size: int) -> bool:
    fp.seek(4)
    declared = int.from_bytes(fp.read(4), "little") + 8
    return size >= declared


def _raw_tiles_complete(image: Image.Image | None, size: int) -> bool | None:
    """For uncompressed BMP: the pixel rows the header promises fit in the file."""
    if image is None:
        return None
    tiles: list[Any] = list(getattr(image, "tile", []))
    if len(tiles) != 1 or tiles[0][0] != "raw":
        return None
    _, _, offset, args = tiles[0]
    stride = args[1] if isinstance(args, tuple) and len(args) > 1 else 0
    if not isinstance(stride, int) or stride <= 0:
        return None
    return bool(offset + stride * image.height <= size)


def _tiff_strips_complete(image: Image.Image | None, size: int) -> bool | None:
    """Every strip or tile the first directory points at lies inside the file."""
    tags = getattr(image, "tag_v2", None)
    if tags is None:
        return None
    for offsets_tag, counts_tag in ((273, 279), (324, 325)):
        offsets, counts = tags.get(offsets_tag), tags.get(counts_tag)
        if offsets is None or counts is None:
            continue
        offsets = offsets if isinstance(offsets, tuple) else (offsets,)
        counts = counts if isinstance(counts, tuple) else (counts,)
        return all(o + c <= size for o, c in zip(offsets, counts, strict=False))
    return None


def _boxes_complete(fp: IO[bytes], size: int) -> bool:
    """HEIF: the top-level boxes tile the file exactly, none running past its end."""
    position = 0
    while position < size:
        fp.seek(position)
        header = fp.read(16)
        if len(header) < 8:
            return False
        box_size = int.from_bytes(header[0:4], "big")
        if box_size == 1:
            if len(header) < 16:
                return False
            box_size = int.from_bytes(header[8:16], "big")
        elif box_size == 0:
            return True  # the last box runs to the end of the file by definition
        if box_size < 8 or position + box_size > size:
            return False
        position += box_size
    return True


def scan_png(fp: IO[bytes], size: int) -> PngScan:
    """Walk a PNG's chunk headers to its IEND, collecting EXIF and XMP wherever they sit.

    Pillow only sees an eXIf chunk that follows the pixel data after a full decode, so the
    walk is how a header-only reader finds it.
    """
    exif: bytes | None = None
    xmp: bytes | None = None
    position = 8
    while position + 12 <= size:
        fp.seek(position)
        header = fp.read(8)
        length, kind = int.from_bytes(header[0:4], "big"), header[4:8]
        end = position + 12 + length
        if end > size:
            return PngScan(False, exif, xmp)
        if kind == b"IEND":
            return PngScan(True, exif, xmp)
        if kind in (b"eXIf", b"iTXt", b"zTXt", b"tEXt") and length <= _MAX_METADATA_BYTES:
            exif, xmp = _png_metadata(kind, fp.read(length), exif, xmp)
        position = end
    return PngScan(False, exif, xmp)


def _png_metadata(
    kind: bytes, data: bytes, exif: bytes | None, xmp: bytes | None
) -> tuple[bytes | None, bytes | None]:
    if kind == b"eXIf":
        return data, xmp
    keyword, _, rest = data.partition(b"\x00")
    if kind == b"iTXt" and keyword == b"XML:com.adobe.xmp":
        return exif, _itxt_text(rest)
    if keyword.lower() in (b"raw profile type exif", b"raw profile type app1"):
        # ImageMagick keeps EXIF as hex text in a text chunk.
        text = _inflate(rest[1:]) if kind == b"zTXt" else rest
        return _raw_profile_bytes(text) or exif, xmp
    return exif, xmp


def _itxt_text(rest: bytes) -> bytes | None:
    """The text of an iTXt chunk after its keyword: flags, language and translated keyword."""
    if len(rest) < 2:
        return None
    compressed, body = rest[0], rest[2:]
    _, _, body = body.partition(b"\x00")  # language tag
    _, _, body = body.partition(b"\x00")  # translated keyword
    return _inflate(body) if compressed else body


def _inflate(data: bytes) -> bytes | None:
    try:
        inflater = zlib.decompressobj()
        return inflater.decompress(data, _MAX_METADATA_BYTES)
    except zlib.error:
        return None


def _raw_profile_bytes(text: bytes | None) -> bytes | None:
    """Decode ImageMagick's "\\nexif\\n   LENGTH\\nHEX..." raw profile text."""
    if not text:
        return None
    parts = text.split(b"\n", 3)
    if len(parts) < 4:
        return None
    try:
        return bytes.fromhex(parts[3].decode("ascii"))
    except ValueError:
        return None
