"""Barcodes in images: every code in a photo, with its format, text, position and pass.

Images are recognised by their content (JPEG, PNG, WebP, TIFF, BMP, HEIC/HEIF), upright by
their EXIF orientation, and read with zxing-cpp in passes ordered so the usual photo is
done after the first: a fast pass on a reduced copy, then light-on-dark, full resolution
(the cheaper detectors), rotated copies (+22.5°, +45°), the heavy 2D detectors at full
resolution, and an enlarged copy of small images for codes of 1-2 pixels a module. The
first pass that finds something ends the search. Results the decoder marks as errors, and
formats the caller does not accept (MicroQR unless asked for), are dropped and never reach
the caller.
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pillow_heif
import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

from fieldops.domain.errors import FieldOpsError
from fieldops.domain.scan import CodePattern, ScanResult, ScanSource, normalise_scan

log = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

MAX_PIXELS = 120_000_000
FAST_SIDE = 2000  # longest side of the first pass's copy
TIME_BUDGET_S = 4.0
PIL_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "HEIF")

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


class ImageReadError(FieldOpsError):
    """The file is missing, not an image of a supported kind, or damaged."""

    code = "image-unreadable"


class ImageTooLargeError(ImageReadError):
    """The image has more pixels than can be decoded safely."""

    code = "image-too-large"

    def __init__(self, message: str, *, pixels: int) -> None:
        super().__init__(message)
        self.pixels = pixels


Point = tuple[float, float]


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
    image = _LoadedImage.open(source, max_pixels)
    run = _Run(accept, started + time_budget_s)
    found: list[DecodedCode] = []
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


# A pass: a name and a function making its image plus the map back to upright pixels.
Mapping = Callable[[float, float], Point]
PassImage = tuple[Image.Image, Mapping]


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
            if found or self.out_of_time():
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


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(f"The file {path.name} does not exist.") from None
    except IsADirectoryError:
        raise ImageReadError(f"{path.name} is a folder, not an image file.") from None
    except OSError as exc:
        raise ImageReadError(f"The file {path.name} cannot be opened: {exc.strerror}.") from None


_BOMB = re.compile(r"\((\d+) pixels\)")


def _too_large(name: str, pixels: int, limit: int) -> ImageTooLargeError:
    return ImageTooLargeError(
        f"The image {name} has {pixels:,} pixels, more than the {limit:,} FieldOps decodes "
        "safely. Use a smaller photo or crop it around the code.",
        pixels=pixels,
    )


def _identify(data: bytes, name: str, limit: int) -> Image.Image:
    """Opens the header only: the format comes from the content, never the file name."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=PIL_FORMATS)
    except Image.DecompressionBombError as exc:
        found = _BOMB.search(str(exc))
        raise _too_large(name, int(found.group(1)) if found else 0, limit) from None
    except UnidentifiedImageError:
        raise ImageReadError(
            f"{name} is not an image FieldOps can read. Use a JPEG, PNG, WebP, TIFF, BMP or "
            "HEIC photo."
        ) from None
    except Exception as exc:  # a damaged header can fail in any of Pillow's plugins
        log.warning("cannot read the header of %s: %r", name, exc)
        raise _damaged(name) from None


def _damaged(name: str) -> ImageReadError:
    return ImageReadError(
        f"The image {name} is damaged or incomplete (it may have been cut short while copying); "
        "it cannot be read."
    )


def _gray(image: Image.Image) -> Image.Image:
    """A grayscale copy; transparent parts become white, 16-bit images are rescaled."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        return white.convert("L")
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        values = np.asarray(image, dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        span = high - low if high > low else 1.0
        return Image.fromarray(((values - low) * (255.0 / span)).astype(np.uint8), "L")
    return image if image.mode == "L" else image.convert("L")


@dataclass
class _LoadedImage:
    """An image to decode, loaded at the scales the passes ask for, upright."""

    name: str
    stored_size: tuple[int, int]  # as stored, before EXIF orientation
    orientation: int
    limit: int
    data: bytes | None = None
    given: Image.Image | None = None
    is_jpeg: bool = False
    _cache: dict[str, PassImage] = field(default_factory=dict)

    @classmethod
    def open(cls, source: str | os.PathLike[str] | Image.Image, limit: int) -> _LoadedImage:
        if isinstance(source, Image.Image):
            loaded = cls("the image", source.size, _orientation(source), limit, given=source)
        else:
            path = Path(source)
            data = _read_file(path)
            header = _identify(data, path.name, limit)
            loaded = cls(
                path.name,
                header.size,
                _orientation(header),
                limit,
                data=data,
                is_jpeg=header.format == "JPEG",
            )
        pixels = loaded.stored_size[0] * loaded.stored_size[1]
        if pixels > limit and not (loaded.is_jpeg or loaded.given is not None):
            raise _too_large(loaded.name, pixels, limit)
        return loaded

    @property
    def size(self) -> tuple[int, int]:
        width, height = self.stored_size
        return (height, width) if self.orientation in (5, 6, 7, 8) else (width, height)

    @property
    def read_scale(self) -> float:
        return 1.0 / self._full_factor()

    def _full_factor(self) -> int:
        pixels = self.stored_size[0] * self.stored_size[1]
        factor = 1
        while pixels / (factor * factor) > self.limit:
            factor *= 2
        return factor

    def _fast_factor(self) -> int:
        factor = self._full_factor()
        while max(self.stored_size) / factor > FAST_SIDE * 1.25:
            factor *= 2
        return factor

    def full(self) -> PassImage:
        """The upright grayscale image at the largest scale it is decoded at."""
        return self._at("full", self._full_factor())

    def fast(self) -> PassImage:
        """An upright grayscale copy no longer than about FAST_SIDE pixels."""
        return self._at("fast", self._fast_factor())

    def downscaled(self) -> bool:
        """Whether the fast copy is smaller than the full image."""
        return self._fast_factor() > self._full_factor()

    def _at(self, key: str, factor: int) -> PassImage:
        if key not in self._cache:
            image = self._load(factor)
            turn = _UPRIGHT.get(self.orientation)
            if turn is not None:
                image = image.transpose(turn)
            scale = image.size[0] / self.size[0]
            self._cache[key] = (image, lambda x, y: (x / scale, y / scale))
        return self._cache[key]

    def _load(self, factor: int) -> Image.Image:
        target = (math.ceil(self.stored_size[0] / factor), math.ceil(self.stored_size[1] / factor))
        if self.given is not None:
            gray = _gray(self.given)
            return gray if factor == 1 else gray.reduce(factor)
        assert self.data is not None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                opened = Image.open(io.BytesIO(self.data), formats=PIL_FORMATS)
                if self.is_jpeg:
                    # Luminance only, and at 1/2, 1/4 or 1/8 scale when asked: the decoder
                    # never builds the full-size colour image.
                    opened.draft("L", target)
                opened.load()
                image: Image.Image = opened
        except MemoryError:
            pixels = self.stored_size[0] * self.stored_size[1]
            raise _too_large(self.name, pixels, self.limit) from None
        except Exception as exc:  # truncated or corrupt data fails inside the codec
            log.warning("cannot decode %s: %r", self.name, exc)
            raise _damaged(self.name) from None
        gray = _gray(image)
        if gray.size[0] > target[0]:  # draft could not go as far, or not a JPEG
            gray = gray.reduce(max(1, round(gray.size[0] / target[0])))
        return gray


# EXIF orientation -> the transpose that turns the stored pixels upright.
_UPRIGHT: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not stop the decode
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


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


def _passes(image: _LoadedImage) -> Iterator[tuple[str, PassMaker, str]]:
    """The passes, cheapest and most often successful first, with the formats they read."""
    yield "fast", lambda: iter([image.fast()]), "all"
    yield "inverted", lambda: iter([_inverted(image.fast())]), "all"
    if image.downscaled():
        yield "full", lambda: iter([image.full()]), "light"
        yield "inverted-full", lambda: iter([_inverted(image.full())]), "light"
    yield "rotated+22.5", lambda: iter([_rotated(image.fast(), 22.5)]), "all"
    yield "rotated+45", lambda: iter([_rotated(image.fast(), 45.0)]), "all"
    if image.downscaled():
        yield "full-2d", lambda: iter([image.full()]), "heavy"
    width, height = image.size
    if width * height * image.read_scale**2 <= ENLARGE_MAX_PIXELS:
        yield "enlarged", lambda: iter([_enlarged(image.full())]), "all"
