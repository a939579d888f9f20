"""Recognising a photo's format from the first bytes of the file, never from its name."""

from __future__ import annotations

from dataclasses import dataclass

#: How many bytes of the file's start `sniff` wants to see.
SNIFF_BYTES = 512

# ISO base media (ftyp) brands that libheif reads as HEIF/HEIC.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2", b"mif3"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})

_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


@dataclass(frozen=True, slots=True)
class Sniffed:
    """What the start of a file says it is: a readable image format, or a description."""

    format: str | None
    """Pillow's format name when FieldOps reads this kind of image, else None."""
    mime: str = ""
    looks_like: str = ""
    """For files FieldOps does not read, a few words a person recognises ("a PDF")."""
    unsupported_image: bool = False
    """True when it is a picture, just in a format FieldOps does not read."""


def sniff(head: bytes) -> Sniffed:
    """Identify a file by its leading bytes (SNIFF_BYTES of them, or all a short file has)."""
    found = _sniff_image(head)
    if found is not None:
        return found
    return Sniffed(None, looks_like=_describe_other(head))


def _sniff_image(head: bytes) -> Sniffed | None:
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("JPEG", "image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("PNG", "image/png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("GIF", "image/gif")
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return Sniffed("TIFF", "image/tiff")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("WEBP", "image/webp")
    if head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return Sniffed("BMP", "image/bmp")
    if head[4:8] == b"ftyp":
        return _sniff_iso_media(head)
    return _sniff_unsupported_image(head)


def _sniff_iso_media(head: bytes) -> Sniffed:
    """HEIF, AVIF or a video: all start with an ISO base media `ftyp` box."""
    box_size = int.from_bytes(head[0:4], "big")
    end = min(len(head), box_size if box_size >= 16 else 16)
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    if brands & _HEIC_BRANDS:
        return Sniffed("HEIF", "image/heic")
    if brands & _AVIF_BRANDS:
        return Sniffed(None, looks_like="an AVIF picture", unsupported_image=True)
    if brands & _HEIF_BRANDS:
        return Sniffed("HEIF", "image/heif")
    return Sniffed(None, looks_like="a video")


def _sniff_unsupported_image(head: bytes) -> Sniffed | None:
    pictures = {
        b"8BPS": "a Photoshop document",
        b"\x00\x00\x01\x00": "an icon file",
        b"\xff\x0a": "a JPEG XL picture",
        b"\x00\x00\x00\x0cJXL ": "a JPEG XL picture",
    }
    for magic, words in pictures.items():
        if head.startswith(magic):
            return Sniffed(None, looks_like=words, unsupported_image=True)
    return None


_OTHER_MAGIC = (
    (b"%PDF-", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive or an Office document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office document"),
    (b"{\\rtf", "an RTF document"),
    (b"Rar!", "a compressed archive"),
    (b"7z\xbc\xaf\x27\x1c", "a compressed archive"),
    (b"\x1f\x8b", "a compressed archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a program"),
    (b"ID3", "an audio file"),
    (b"OggS", "an audio or video file"),
    (b"\x1a\x45\xdf\xa3", "a video"),
)


def _describe_other(head: bytes) -> str:
    """A few words on what a file that is not a readable picture seems to be ('' if unknown)."""
    for magic, words in _OTHER_MAGIC:
        if head.startswith(magic):
            return words
    if head[:4] == b"RIFF":
        return {b"AVI ": "a video", b"WAVE": "an audio file"}.get(head[8:12], "")
    text = _as_text(head)
    if text is None:
        return ""
    lowered = text.lstrip().lower()
    if "<svg" in lowered:
        return "an SVG drawing"
    if lowered.startswith(("<!doctype html", "<html")):
        return "a web page"
    return "a text file"


def _as_text(head: bytes) -> str | None:
    """The head decoded as text when it reads as text, else None."""
    if b"\x00" in head:
        return None
    try:
        # A multi-byte character may be cut at the end of the head: ignore only that tail.
        text = head.decode("utf-8", errors="strict") if head else ""
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return None
        text = head[: exc.start].decode("utf-8")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return text if text and printable >= 0.95 * len(text) else None
