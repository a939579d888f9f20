"""Barcodes in images: every code in a photo, with its format, text, position and pass.

Images are recognised by their content (JPEG, PNG, WebP, TIFF, BMP, HEIC/HEIF), upright by
their EXIF orientation, and read with zxing-cpp in passes ordered so the usual photo is
done after the first: a fast pass on a reduced copy, then light-on-dark, a half-size copy of
very large photos, full resolution (the cheaper detectors), rotated copies (+22.5°, +45°),
the heavy 2D detectors at full resolution, and an enlarged copy of small images for codes of
1-2 pixels a module. Full resolution is read in overlapping tiles (see barcode_image). The
first pass that finds something ends the search. Results the decoder marks as errors, and
formats the caller does not accept (MicroQR unless asked for), are dropped and never reach
the caller.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pillow_heif
import zxingcpp
from PIL import Image, ImageOps

from fieldops.domain.scan import CodePattern, ScanResult, ScanSource, normalise_scan
from fieldops.media.barcode_image import (
    MAX_PIXELS,
    ImageReadError,
    ImageTooLargeError,
    LoadedImage,
    Mapping,
    PassImage,
    Point,
)

__all__ = [
    "MAX_PIXELS",
    "DecodeReport",
    "DecodedCode",
    "ImageReadError",
    "ImageTooLargeError",
    "decode_image",
    "read_codes",
]

log = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

TIME_BUDGET_S = 4.0

NO_CODE_HINT = "No code found: code too small or blurred, move closer or use the scanner."
UNREADABLE_HINT = (
    "A code was seen but could not be read reliably: code too small or blurred, move closer "
    "or use the scanner."
)

# What asset labels use. MicroQR, rMQR, MaxiCode, Codabar, plain ITF and the rest are read
# only when a caller asks for them: in photos they mostly turn up as false detections.
DEFAULT_FORMATS: tuple[str, ...] = (
    "QRCode", "DataMatrix", "Aztec", "PDF417", "Code128", "Code39", "Code93",
    "EAN13", "EAN8", "UPCA", "UPCE", "ITF14", "DataBar", "DataBarExpanded", "DataBarLimited",
)  # fmt: skip

# "QRCode" means the ordinary symbol; its zxing family would also bring MicroQR and rMQR.
_QR_MODELS = ("QRCodeModel1", "QRCodeModel2")
_FAMILIES = ("QRCode", "EANUPC", "ITF", "DataBar", "Code39", "PDF417", "Aztec")
# Detectors that cost several times more than the rest on a large, textured photo: at full
# resolution they get a pass of their own, after the cheaper ones have had their turn.
_HEAVY = frozenset({"DataMatrix", "Aztec", "PDF417", "MaxiCode"})


@dataclass(frozen=True)
class DecodedCode:
    """One code found in an image."""

    format: str  # zxing-cpp format name: "QRCode", "DataMatrix", "Code128", "EAN13", ...
    text: str  # as shown to a person (GS1 in its bracketed spelling)
    position: tuple[Point, Point, Point, Point]  # corners TL, TR, BR, BL in upright pixels
    pass_name: str
    symbology_identifier: str = ""  # AIM identifier, e.g. "]Q1"
    label: str = ""  # format for people: "QR Code"
    gs1_data: str | None = None  # GS1 element string with GS separators, when GS1

    @property
    def scan_text(self) -> str:
        """The text as a scanner with AIM identifiers on would send it."""
        data = self.gs1_data if self.gs1_data is not None else self.text
        return self.symbology_identifier + data

    def normalise(self, patterns: Iterable[CodePattern] = ()) -> ScanResult:
        """What this code means, through the same normaliser as every scan."""
        return normalise_scan(self.scan_text, source=ScanSource.IMAGE, patterns=tuple(patterns))


@dataclass(frozen=True)
class DecodeReport:
    """Everything one decode found, and how it got there."""

    codes: tuple[DecodedCode, ...]
    hint: str | None  # a sentence to show when nothing was found
    passes: tuple[str, ...]  # the passes that ran, in order
    size: tuple[int, int]  # upright size of the image, in its own pixels
    read_scale: float = 1.0  # below 1 when the image was downscaled while reading
    rejected: int = 0  # results dropped: decoder errors or formats not accepted
    elapsed_ms: float = 0.0


def decode_image(
    source: str | os.PathLike[str] | Image.Image,
    formats: Iterable[str | zxingcpp.BarcodeFormat] | None = None,
) -> list[DecodedCode]:
    """Every code in an image (a path or a PIL image); empty when there is none."""
    return list(read_codes(source, formats).codes)


def read_codes(
    source: str | os.PathLike[str] | Image.Image,
    formats: Iterable[str | zxingcpp.BarcodeFormat] | None = None,
    *,
    max_pixels: int = MAX_PIXELS,
    time_budget_s: float = TIME_BUDGET_S,
    exhaustive: bool = False,
) -> DecodeReport:
    """Decodes an image pass by pass; raises `ImageReadError` when it cannot be read.

    With `exhaustive`, every pass runs and the results are merged (slower; for tools).
    """
    started = time.perf_counter()
    accept = _Accepted.of(formats)
    image = LoadedImage.open(source, max_pixels)
    run = _Run(accept, started + time_budget_s)
    found: list[DecodedCode] = []
    try:
        for name, make, weight in _passes(image):
            request = accept.part(weight)
            if not request:
                continue
            if run.out_of_time() and run.names:
                log.info("decode stopped after %s: time budget spent", ", ".join(run.names))
                break
            found = _merge(found, run.decode(name, make, request))
            if found and not exhaustive:
                break
    finally:
        image.close()
    hint = None if found else (UNREADABLE_HINT if run.errors else NO_CODE_HINT)
    elapsed = (time.perf_counter() - started) * 1000
    log.debug("decoded %d code(s) in %.0f ms, passes %s", len(found), elapsed, run.names)
    return DecodeReport(
        tuple(found),
        hint,
        tuple(run.names),
        image.size,
        image.read_scale,
        run.rejected,
        elapsed,
    )


@dataclass(frozen=True)
class _Accepted:
    """The formats asked for: what to pass to zxing and which result names to keep."""

    request: tuple[zxingcpp.BarcodeFormat, ...]
    names: frozenset[str]

    @classmethod
    def of(cls, formats: Iterable[str | zxingcpp.BarcodeFormat] | None) -> _Accepted:
        wanted = DEFAULT_FORMATS if formats is None else tuple(formats)
        request: list[zxingcpp.BarcodeFormat] = []
        names: set[str] = set()
        for item in wanted:
            fmt = _format(item)
            members = _QR_MODELS if fmt.name == "QRCode" else (fmt.name,)
            for member in members:
                request.append(getattr(zxingcpp.BarcodeFormat, member))
                names.update(_members(member))
            names.add(fmt.name)
            # Results may be reported under the family name (an ITF-14 as "ITF").
            names.update(family for family in _FAMILIES if _contains(family, members))
        return cls(tuple(request), frozenset(names))

    def part(self, weight: str) -> tuple[zxingcpp.BarcodeFormat, ...]:
        """The formats a pass of this weight reads: "all", "light" or "heavy"."""
        if weight == "all":
            return self.request
        heavy = weight == "heavy"
        return tuple(fmt for fmt in self.request if (fmt.name in _HEAVY) is heavy)


def _format(item: str | zxingcpp.BarcodeFormat) -> zxingcpp.BarcodeFormat:
    if isinstance(item, zxingcpp.BarcodeFormat):
        return item
    found = getattr(zxingcpp.BarcodeFormat, str(item), None)
    if not isinstance(found, zxingcpp.BarcodeFormat):
        raise ValueError(f"unknown barcode format {item!r}")
    return found


def _members(name: str) -> set[str]:
    """The format names zxing groups under `name` (itself included)."""
    listed = zxingcpp.barcode_formats_list(zxingcpp.BarcodeFormats(_format(name)))
    return {fmt.name for fmt in listed}


def _contains(family: str, members: tuple[str, ...]) -> bool:
    listed = _members(family)
    return any(member in listed for member in members)


@dataclass
class _Run:
    accept: _Accepted
    deadline: float
    names: list[str] = field(default_factory=list)
    rejected: int = 0
    errors: int = 0

    def out_of_time(self) -> bool:
        return time.perf_counter() > self.deadline

    def decode(
        self,
        name: str,
        make: Callable[[], Iterator[PassImage]],
        request: tuple[zxingcpp.BarcodeFormat, ...],
    ) -> list[DecodedCode]:
        self.names.append(name)
        found: list[DecodedCode] = []
        for picture, to_upright in make():
            for barcode in zxingcpp.read_barcodes(
                picture,
                formats=zxingcpp.BarcodeFormats(list(request)),
                try_rotate=True,
                try_downscale=True,
                try_invert=False,
                return_errors=True,
            ):
                code = self._keep(barcode, name, to_upright)
                if code is not None:
                    found = _merge(found, [code])
            # The tiles of one pass are one look at the whole photo: all are read, so a
            # second label elsewhere in the photo is not missed.
            if self.out_of_time():
                break
        return found

    def _keep(
        self, barcode: zxingcpp.Barcode, name: str, to_upright: Mapping
    ) -> DecodedCode | None:
        fmt = barcode.format.name
        if barcode.error or not barcode.valid or not barcode.text:
            self.rejected += 1
            self.errors += 1
            log.debug("pass %s: dropped a %s result with error %s", name, fmt, barcode.error)
            return None
        if fmt not in self.accept.names:
            self.rejected += 1
            log.info("pass %s: ignored a %s code, a format not accepted here", name, fmt)
            return None
        p = barcode.position
        corners = tuple(
            to_upright(float(pt.x), float(pt.y))
            for pt in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
        )
        gs1 = None
        if barcode.content_type == zxingcpp.ContentType.GS1:
            gs1 = barcode.bytes.decode("ascii", errors="replace")
        return DecodedCode(
            format=fmt,
            text=barcode.text,
            position=(corners[0], corners[1], corners[2], corners[3]),
            pass_name=name,
            symbology_identifier=barcode.symbology_identifier,
            label=str(barcode.format),
            gs1_data=gs1,
        )


def _merge(found: list[DecodedCode], more: list[DecodedCode]) -> list[DecodedCode]:
    """Adds codes not already found: the same content at the same place counts once."""
    merged = list(found)
    for code in more:
        if not any(_same(code, other) for other in merged):
            merged.append(code)
    return merged


def _same(a: DecodedCode, b: DecodedCode) -> bool:
    if (a.format, a.text) != (b.format, b.text):
        return False
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    reach = max(_extent(a), _extent(b)) / 2
    return math.hypot(ax - bx, ay - by) <= reach


def _centre(code: DecodedCode) -> Point:
    xs = [x for x, _ in code.position]
    ys = [y for _, y in code.position]
    return sum(xs) / 4, sum(ys) / 4


def _extent(code: DecodedCode) -> float:
    xs = [x for x, _ in code.position]
    ys = [y for _, y in code.position]
    return max(max(xs) - min(xs), max(ys) - min(ys), 1.0)


def _rotated(base: PassImage, angle: float) -> PassImage:
    image, to_upright = base
    turned = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    theta = math.radians(angle)
    cos, sin = math.cos(theta), math.sin(theta)
    cx, cy = image.size[0] / 2, image.size[1] / 2
    rx, ry = turned.size[0] / 2, turned.size[1] / 2

    def back(x: float, y: float) -> Point:
        u, v = x - rx, y - ry
        return to_upright(cx + u * cos - v * sin, cy + u * sin + v * cos)

    return turned, back


def _inverted(base: PassImage) -> PassImage:
    image, to_upright = base
    return ImageOps.invert(image), to_upright


# Enlarging helps codes of 1-2 pixels a module, and costs four times the pixels: only for
# images up to this size. Larger photos already had a full-resolution pass, which reads
# down to about 2 pixels a module; below that the hint asks the person to move closer.
ENLARGE_MAX_PIXELS = 4_000_000


def _enlarged(base: PassImage) -> PassImage:
    image, to_upright = base
    bigger = image.resize((image.size[0] * 2, image.size[1] * 2), Image.Resampling.BICUBIC)
    return bigger, lambda x, y: to_upright(x / 2, y / 2)


PassMaker = Callable[[], Iterator[PassImage]]


def _passes(image: LoadedImage) -> Iterator[tuple[str, PassMaker, str]]:
    """The passes, cheapest and most often successful first, with the formats they read."""
    yield "fast", lambda: iter([image.fast()]), "all"
    yield "inverted", lambda: iter([_inverted(image.fast())]), "all"
    if image.wants_half():
        yield "half", lambda: iter([image.half()]), "light"
    if image.downscaled():
        yield "full", image.full_tiles, "light"
        yield "inverted-full", lambda: map(_inverted, image.full_tiles()), "light"
    yield "rotated+22.5", lambda: iter([_rotated(image.fast(), 22.5)]), "all"
    yield "rotated+45", lambda: iter([_rotated(image.fast(), 45.0)]), "all"
    if image.downscaled():
        yield "full-2d", image.full_tiles, "heavy"
    width, height = image.size
    if width * height * image.read_scale**2 <= ENLARGE_MAX_PIXELS:
        yield "enlarged", lambda: iter([_enlarged(image.full())]), "all"
