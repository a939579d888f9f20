"""Removing metadata from a JPEG without decoding it, so an upright photo loses no quality."""

from __future__ import annotations

import re

_SOI = b"\xff\xd8"
_EOI = 0xD9
_SOS = 0xDA
_APP0, _APP1, _APP2, _APP14, _COM = 0xE0, 0xE1, 0xE2, 0xEE, 0xFE

# In entropy-coded data a 0xFF byte is followed by 0x00 (stuffing), a restart marker
# (0xD0-0xD7) or more 0xFF fill; anything else is a real marker.
_NEXT_MARKER = re.compile(rb"\xff+([^\x00\xd0-\xd7\xff])")


class JpegStructureError(ValueError):
    """The JPEG's marker structure is not what the standard allows."""


def strip_metadata(data: bytes, exif_payload: bytes) -> bytes:
    """The primary image of a JPEG with only colour and decoding segments kept.

    Every APPn and comment segment goes except the JFIF header (when it carries no
    thumbnail), the ICC colour profile and Adobe's colour-transform flag; `exif_payload`
    (b"Exif\\0\\0..." or b"") is written as the only APP1. Anything after the primary
    image's End Of Image marker (extra MPF images, vendor trailers) is dropped.
    """
    if not data.startswith(_SOI):
        raise JpegStructureError("no start of image marker")
    out = [_SOI]
    position = 2
    exif_written = False
    while True:
        marker, start, end = _segment_at(data, position)
        if not exif_written and marker != _APP0:
            out.append(_app1(exif_payload))
            exif_written = True
        if marker == _EOI:
            out.append(data[start:end])
            return b"".join(out)
        if _keep(marker, data[start + 4 : end]):
            out.append(data[start:end])
        position = end
        if marker == _SOS:
            position = _end_of_scan(data, position)
            out.append(data[end:position])


def _segment_at(data: bytes, position: int) -> tuple[int, int, int]:
    """The marker at `position` (after any fill bytes), its start and its end."""
    while position < len(data) and data[position] == 0xFF and position + 1 < len(data):
        if data[position + 1] != 0xFF:
            break
        position += 1
    if position + 2 > len(data) or data[position] != 0xFF:
        raise JpegStructureError("marker expected")
    marker = data[position + 1]
    if marker == _EOI:
        return marker, position, position + 2
    if position + 4 > len(data):
        raise JpegStructureError("segment cut short")
    length = int.from_bytes(data[position + 2 : position + 4], "big")
    end = position + 2 + length
    if length < 2 or end > len(data):
        raise JpegStructureError("segment length out of range")
    return marker, position, end


def _end_of_scan(data: bytes, position: int) -> int:
    """Where the entropy-coded data starting at `position` ends: at the next marker."""
    found = _NEXT_MARKER.search(data, position)
    if found is None:
        raise JpegStructureError("scan data has no end")
    return found.start()


def _keep(marker: int, payload: bytes) -> bool:
    if marker == _APP0:
        # JFIF header: byte 12 and 13 are the thumbnail's width and height.
        return payload.startswith(b"JFIF\x00") and payload[12:14] == b"\x00\x00"
    if marker == _APP2:
        return payload.startswith(b"ICC_PROFILE\x00")
    if marker == _APP14:
        return payload.startswith(b"Adobe")
    return not (_APP0 <= marker <= 0xEF or marker == _COM)


def _app1(exif_payload: bytes) -> bytes:
    if not exif_payload:
        return b""
    length = len(exif_payload) + 2
    if length > 0xFFFF:
        raise JpegStructureError("EXIF block too large")
    return b"\xff\xe1" + length.to_bytes(2, "big") + exif_payload
