"""The image a barcode decode reads: opened safely, upright, grey, at the scales passes ask for.

Memory is what limits a decode. A JPEG is decoded straight to luminance (one byte a pixel)
and at 1/2, 1/4 or 1/8 scale when that is all a pass needs; other formats decode in their
own mode first (Pillow keeps colour at four bytes a pixel), so their pixel limit depends on
their mode. Full-resolution passes read the image in overlapping tiles, so the decoder's
own working copies are those of one tile, never of the whole photo.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pillow_heif
from PIL import Image, UnidentifiedImageError

from fieldops.domain.errors import FieldOpsError
from fieldops.media.image_files import PictureFileError, open_picture

log = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

PIL_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "HEIF")
MAX_PIXELS = 120_000_000
FAST_SIDE = 2000  # longest side of the first pass's copy
# Bytes a non-JPEG image may take while it is decoded and turned grey. With the process
# itself (about 100 MB), the full-size grey copy and one tile's decoder work, the whole
# decode stays under 500 MB.
DECODE_BUDGET_BYTES = 300_000_000
# Full-resolution passes on larger images read tiles of at most TILE_SIDE a side, which
# overlap by TILE_OVERLAP so a code up to that wide is whole in at least one of them.
TILE_SIDE = 4096
TILE_OVERLAP = 1024


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
Mapping = Callable[[float, float], Point]
# A pass's image with the map from its pixels back to upright pixels of the photo.
PassImage = tuple[Image.Image, Mapping]


def bytes_per_pixel(mode: str, fmt: str) -> int:
    """What decoding an image of this mode and turning it grey costs, in bytes a pixel."""
    if fmt == "JPEG" and mode in ("L", "RGB", "YCbCr"):
        return 1  # decoded straight to luminance (draft)
    if fmt == "HEIF":
        return 6  # libheif's own 3-4 bytes, a grey array and its copy in Pillow (heif_gray)
    if mode in ("1", "L", "P"):
        return 2  # the decoded image and its grey copy
    if mode.startswith("I;16"):
        return 7  # 16-bit pixels, one float32 working copy, the grey copy
    if mode in ("I", "F"):
        return 9
    if mode in ("RGBA", "LA", "PA"):
        return 8  # four bytes decoded, alpha, grey, white and the composite
    return 5  # colour: four bytes a pixel in Pillow, and the grey copy


def pixel_limit(mode: str, fmt: str, limit: int) -> int:
    """The most pixels an image of this mode and format is decoded with."""
    return min(limit, DECODE_BUDGET_BYTES // bytes_per_pixel(mode, fmt))


_BOMB = re.compile(r"\((\d+) pixels\)")


def too_large(name: str, pixels: int, limit: int) -> ImageTooLargeError:
    """The error for an image above its pixel limit, with both counts."""
    return ImageTooLargeError(
        f"The image {name} has {pixels:,} pixels, more than the {limit:,} FieldOps decodes "
        "safely for a picture of its kind. Use a smaller photo, a JPEG, or crop it around "
        "the code.",
        pixels=pixels,
    )


def damaged(name: str) -> ImageReadError:
    """The error for an image whose data a decoder rejected."""
    return ImageReadError(
        f"The image {name} is damaged or incomplete (it may have been cut short while copying); "
        "it cannot be read."
    )


def _identify(fp: BinaryIO, name: str, limit: int) -> Image.Image:
    """Opens the header only: the format comes from the content, never the file name."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            fp.seek(0)
            return Image.open(fp, formats=PIL_FORMATS)
    except Image.DecompressionBombError as exc:
        found = _BOMB.search(str(exc))
        raise too_large(name, int(found.group(1)) if found else 0, limit) from None
    except UnidentifiedImageError:
        raise ImageReadError(
            f"{name} is not an image FieldOps can read. Use a JPEG, PNG, WebP, TIFF, BMP or "
            "HEIC photo."
        ) from None
    except Exception as exc:  # a damaged header can fail in any of Pillow's plugins
        log.warning("cannot read the header of %s: %r", name, exc)
        raise damaged(name) from None


def gray(image: Image.Image) -> Image.Image:
    """A grayscale copy; transparent parts become white, 16-bit images are rescaled."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        colour = image if image.mode in ("RGBA", "LA") else image.convert("RGBA")
        alpha = colour.getchannel("A")
        white = Image.new("L", colour.size, 255)
        return Image.composite(colour.convert("L"), white, alpha)
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        values = np.asarray(image, dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        values -= low  # in place: one working copy of the pixels, not three
        values *= 255.0 / (high - low if high > low else 1.0)
        return Image.fromarray(values.astype(np.uint8), "L")
    return image if image.mode == "L" else image.convert("L")


@dataclass
class LoadedImage:
    """An image to decode, loaded at the scales the passes ask for, upright."""

    name: str
    stored_size: tuple[int, int]  # as stored, before EXIF orientation
    orientation: int
    limit: int
    fp: BinaryIO | None = None
    given: Image.Image | None = None
    is_jpeg: bool = False
    is_heif: bool = False
    _cache: dict[str, PassImage] = field(default_factory=dict)

    @classmethod
    def open(cls, source: str | Path | Image.Image, limit: int) -> LoadedImage:
        """Reads the header (of a file, or a PIL image as it is); refuses what cannot be read."""
        if isinstance(source, Image.Image):
            return cls("the image", source.size, orientation(source), limit, given=source)
        path = Path(source)
        try:
            fp = open_picture(path)
        except PictureFileError as exc:
            raise ImageReadError(exc.message) from None
        try:
            header = _identify(fp, path.name, limit)
            fmt = header.format or ""
            turn = orientation(header)
            loaded = cls(
                path.name, header.size, turn, limit, fp, None, fmt == "JPEG", fmt == "HEIF"
            )
            pixels = header.size[0] * header.size[1]
            allowed = pixel_limit(header.mode, fmt, limit)
            if pixels > allowed and not loaded.is_jpeg:
                raise too_large(path.name, pixels, allowed)
            return loaded
        except BaseException:
            fp.close()
            raise

    def close(self) -> None:
        """Lets go of the file and the decoded copies."""
        self._cache.clear()
        if self.fp is not None:
            self.fp.close()

    @property
    def size(self) -> tuple[int, int]:
        """Upright width and height, in the image's own pixels."""
        width, height = self.stored_size
        return (height, width) if self.orientation in (5, 6, 7, 8) else (width, height)

    @property
    def read_scale(self) -> float:
        """Below 1 when even the full pass reads a reduced copy."""
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

    def half(self) -> PassImage:
        """The full image at half its size, for codes too wide for a tile yet too fine for fast."""
        if "half" not in self._cache:
            image, to_upright = self.full()
            self._cache["half"] = (image.reduce(2), lambda x, y: to_upright(x * 2, y * 2))
        return self._cache["half"]

    def downscaled(self) -> bool:
        """Whether the fast copy is smaller than the full image."""
        return self._fast_factor() > self._full_factor()

    def tiled(self) -> bool:
        """Whether the full-resolution passes read tiles rather than the whole image."""
        width, height = self.size
        factor = self._full_factor()
        return max(width, height) / factor > TILE_SIDE

    def wants_half(self) -> bool:
        """Whether fast and tiles leave a gap a half-size pass fills (fast at 1/4 or less)."""
        return self.tiled() and self._fast_factor() >= 4 * self._full_factor()

    def full_tiles(self) -> Iterator[PassImage]:
        """The full image, or its overlapping tiles when it is larger than a tile."""
        base = self.full()
        if not self.tiled():
            yield base
            return
        yield from tiles(base)

    def _at(self, key: str, factor: int) -> PassImage:
        if key not in self._cache:
            image = self._load(factor)
            turn = UPRIGHT.get(self.orientation)
            if turn is not None:
                image = image.transpose(turn)
            scale = image.size[0] / self.size[0]
            self._cache[key] = (image, lambda x, y: (x / scale, y / scale))
        return self._cache[key]

    def _load(self, factor: int) -> Image.Image:
        target = (math.ceil(self.stored_size[0] / factor), math.ceil(self.stored_size[1] / factor))
        if self.given is not None:
            grey = gray(self.given)
            return grey if factor == 1 else grey.reduce(factor)
        assert self.fp is not None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                self.fp.seek(0)
                if self.is_heif:
                    grey = heif_gray(self.fp)
                    return grey if factor == 1 else grey.reduce(factor)
                opened = Image.open(self.fp, formats=PIL_FORMATS)
                if self.is_jpeg:
                    # Luminance only, and at 1/2, 1/4 or 1/8 scale when asked: the decoder
                    # never builds the full-size colour image.
                    opened.draft("L", target)
                opened.load()
                image: Image.Image = opened
        except MemoryError:
            pixels = self.stored_size[0] * self.stored_size[1]
            raise too_large(self.name, pixels, self.limit) from None
        except Exception as exc:  # truncated or corrupt data fails inside the codec
            log.warning("cannot decode %s: %r", self.name, exc)
            raise damaged(self.name) from None
        grey = gray(image)
        del image, opened  # the colour original is freed before any reduced copy is made
        if grey.size[0] > target[0]:  # draft could not go as far, or not a JPEG
            grey = grey.reduce(max(1, round(grey.size[0] / target[0])))
        return grey


def heif_gray(fp: BinaryIO) -> Image.Image:
    """A HEIF picture's luminance, made from libheif's pixels a band of rows at a time.

    Pillow's own path would hold libheif's pixels and a four-byte-a-pixel copy at once; a
    48 MP photo then takes 340 MB before it is even grey.
    """
    heif = pillow_heif.open_heif(fp, convert_hdr_to_8bit=True)
    width, height = heif.size
    bands = len(heif.mode)
    rows = np.frombuffer(heif.data, np.uint8).reshape(height, heif.stride)
    out = np.empty((height, width), np.uint8)
    for top in range(0, height, 256):
        band = rows[top : top + 256, : width * bands].reshape(-1, width, bands)
        if bands < 3:
            out[top : top + 256] = band[:, :, 0]
            continue
        # ITU-R 601-2 luma, as Pillow's convert("L") computes it.
        luma = (
            band[:, :, 0] * np.uint32(299)
            + band[:, :, 1] * np.uint32(587)
            + band[:, :, 2] * np.uint32(114)
        ) // 1000
        if bands == 4:  # transparent parts become white
            alpha = band[:, :, 3].astype(np.uint32)
            luma = (luma * alpha + 255 * (255 - alpha)) // 255
        out[top : top + 256] = luma
    del rows, heif
    return Image.fromarray(out, "L")


def _starts(length: int) -> list[int]:
    """Tile origins along one side: evenly spread, each tile at most TILE_SIDE long."""
    if length <= TILE_SIDE:
        return [0]
    count = math.ceil((length - TILE_OVERLAP) / (TILE_SIDE - TILE_OVERLAP))
    step = (length - TILE_SIDE) / (count - 1)
    return [round(n * step) for n in range(count)]


def tiles(base: PassImage) -> Iterator[PassImage]:
    """Overlapping tiles of an image, each with its map back to the photo's pixels."""
    image, to_upright = base
    width, height = image.size
    for top in _starts(height):
        for left in _starts(width):
            box = (left, top, min(width, left + TILE_SIDE), min(height, top + TILE_SIDE))

            def back(x: float, y: float, left: int = left, top: int = top) -> Point:
                return to_upright(x + left, y + top)

            yield image.crop(box), back


# EXIF orientation -> the transpose that turns the stored pixels upright.
UPRIGHT: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def orientation(image: Image.Image) -> int:
    """The EXIF orientation (1-8), 1 when absent or broken."""
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not stop the decode
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1
