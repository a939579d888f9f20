"""Decoding generated images: rotation (C11), inversion, several codes, formats, bogus reads."""

from __future__ import annotations

import math

import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageFilter, ImageOps

from fieldops.domain.scan import CandidateKind, ScanKind
from fieldops.media.barcodes import (
    NO_CODE_HINT,
    UNREADABLE_HINT,
    DecodedCode,
    decode_image,
    read_codes,
)

TAG = "IT-004217"
CANVAS = 1200


def symbol(text: str, fmt: str, scale: int, **options: object) -> Image.Image:
    """A generated symbol with its quiet zone, as a grayscale PIL image."""
    barcode = zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, fmt), **options)
    return Image.fromarray(np.array(barcode.to_image(scale=scale)), "L")


def on_canvas(
    image: Image.Image,
    angle: float = 0.0,
    size: tuple[int, int] = (CANVAS, CANVAS),
    *,
    at: tuple[int, int] | None = None,
    background: int = 255,
    resample: Image.Resampling = Image.Resampling.BICUBIC,
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The image rotated by `angle` and pasted on a canvas; also the box it covers."""
    turned = image.rotate(angle, expand=True, fillcolor=255, resample=resample)
    canvas = Image.new("L", size, background)
    if at is None:
        at = ((size[0] - turned.width) // 2, (size[1] - turned.height) // 2)
    canvas.paste(turned, at)
    return canvas, (at[0], at[1], at[0] + turned.width, at[1] + turned.height)


def inside(code: DecodedCode, box: tuple[int, int, int, int], slack: float = 4.0) -> bool:
    """Whether every corner of the code lies in the box (give or take `slack` pixels)."""
    left, top, right, bottom = box
    return all(
        left - slack <= x <= right + slack and top - slack <= y <= bottom + slack
        for x, y in code.position
    )


def texts(codes: list[DecodedCode]) -> list[str]:
    return [code.text for code in codes]


# C11: in-plane rotation.

ANGLES = [0, 10, 20, 30, 37, 45, 60, 90, 135, 180]


@pytest.mark.parametrize("fmt", ["QRCode", "DataMatrix"])
@pytest.mark.parametrize("angle", ANGLES)
def test_c11_matrix_codes_at_any_angle(fmt: str, angle: int) -> None:
    canvas, box = on_canvas(symbol(TAG, fmt, 8), angle)
    codes = decode_image(canvas)
    assert texts(codes) == [TAG]
    assert codes[0].format == fmt and inside(codes[0], box)
    assert codes[0].normalise().code == TAG


@pytest.mark.parametrize("angle", [0, 90, 180, 270, 8, -8])
def test_c11_code128_at_right_angles_and_a_slight_tilt(angle: int) -> None:
    canvas, box = on_canvas(symbol(TAG, "Code128", 3), angle)
    codes = decode_image(canvas)
    assert texts(codes) == [TAG] and codes[0].format == "Code128"
    assert inside(codes[0], box)


@pytest.mark.parametrize("angle", [30, 55, 125])
def test_c11_tilted_code128_is_found_by_the_rotated_passes(angle: int) -> None:
    canvas, box = on_canvas(symbol(TAG, "Code128", 3), angle)
    assert zxingcpp.read_barcodes(canvas) == []  # the single direct pass misses it
    report = read_codes(canvas)
    assert texts(list(report.codes)) == [TAG]
    assert report.codes[0].pass_name.startswith("rotated+")
    assert inside(report.codes[0], box, slack=8)  # corners mapped back to this image


def test_c11_marginal_datamatrix_read_after_rotating_the_photo() -> None:
    blurred, box = on_canvas(symbol(TAG, "DataMatrix", 3), 60, resample=Image.Resampling.NEAREST)
    blurred = blurred.filter(ImageFilter.GaussianBlur(1.5))
    report = read_codes(blurred)
    assert texts(list(report.codes)) == [TAG]
    assert report.codes[0].pass_name != "fast"
    assert inside(report.codes[0], box, slack=8)


def perspective(image: Image.Image, squeeze: float) -> Image.Image:
    """The image seen at an angle: its top edge `squeeze` (0.35 = 35%) narrower."""
    w, h = image.size
    inset = w * squeeze / 2
    out = [(inset, 0.0), (w - inset, 0.0), (float(w), float(h)), (0.0, float(h))]
    src = [(0.0, 0.0), (float(w), 0.0), (float(w), float(h)), (0.0, float(h))]
    rows = []
    for (x, y), (u, v) in zip(out, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    coeffs = np.linalg.solve(np.array(rows), np.array([c for pt in src for c in pt]))
    return image.transform(
        image.size, Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BICUBIC
    )


def test_c11_qr_with_35_percent_perspective_skew() -> None:
    canvas, _ = on_canvas(symbol(TAG, "QRCode", 8))
    skewed = perspective(canvas, 0.35)
    assert texts(decode_image(skewed)) == [TAG]


def test_c11_checksum_failures_are_dropped_never_returned() -> None:
    tiny, _ = on_canvas(symbol(TAG, "QRCode", 2))
    tiny = tiny.filter(ImageFilter.GaussianBlur(1))
    raw = zxingcpp.read_barcodes(tiny, return_errors=True)
    assert raw and all(result.error for result in raw)  # bogus reads, some with garbage text
    report = read_codes(tiny)
    assert texts(list(report.codes)) == [TAG]  # the garbage was dropped; a later pass read it
    assert report.rejected >= len(raw) and report.codes[0].pass_name != "fast"


def test_c11_a_code_seen_but_unreadable_ends_with_the_hint() -> None:
    tiny, _ = on_canvas(symbol(TAG, "DataMatrix", 3))
    tiny = tiny.filter(ImageFilter.GaussianBlur(1.6))
    assert any(result.error for result in zxingcpp.read_barcodes(tiny, return_errors=True))
    report = read_codes(tiny)
    assert report.codes == () and report.hint == UNREADABLE_HINT and report.rejected > 0
    assert "too small or blurred, move closer or use the scanner" in report.hint


def test_c11_micro_qr_is_never_accepted_unless_asked_for() -> None:
    micro = symbol(TAG, "MicroQRCode", 8)
    qr = symbol("IT-000217", "QRCode", 8)
    canvas, _ = on_canvas(micro, at=(100, 100))
    canvas.paste(qr, (700, 700))
    assert texts(decode_image(canvas)) == ["IT-000217"]
    alone, _ = on_canvas(micro)
    assert read_codes(alone).codes == () and read_codes(alone).hint == NO_CODE_HINT
    asked = decode_image(alone, formats=["MicroQRCode"])
    assert texts(asked) == [TAG] and asked[0].format == "MicroQRCode"


def test_c08_case_of_a_decoded_code_is_kept() -> None:
    for text in ("it-004217", TAG):
        canvas, _ = on_canvas(symbol(text, "Code128", 3))
        (code,) = decode_image(canvas)
        assert code.normalise().code == text


# Inverted labels.


@pytest.mark.parametrize(("fmt", "scale"), [("Code128", 3), ("QRCode", 8), ("DataMatrix", 8)])
def test_light_on_dark_labels(fmt: str, scale: int) -> None:
    label = ImageOps.invert(symbol(TAG, fmt, scale))
    canvas, box = on_canvas(label, background=140)
    report = read_codes(canvas)
    assert texts(list(report.codes)) == [TAG]
    assert report.codes[0].pass_name == "inverted" and inside(report.codes[0], box)


# Several codes, formats, payloads.


def four_codes() -> tuple[Image.Image, dict[str, tuple[int, int, int, int]]]:
    canvas = Image.new("L", (CANVAS, CANVAS), 235)
    boxes: dict[str, tuple[int, int, int, int]] = {}
    for text, fmt, scale, at in [
        (TAG, "QRCode", 8, (60, 60)),
        ("IT-000217", "DataMatrix", 8, (760, 60)),
        ("5CG1234OLD", "Code128", 3, (60, 800)),
        ("4006381333931", "EAN13", 3, (700, 800)),
    ]:
        image = symbol(text, fmt, scale)
        canvas.paste(image, at)
        boxes[text] = (at[0], at[1], at[0] + image.width, at[1] + image.height)
    return canvas, boxes


def test_several_codes_in_one_image_are_all_returned() -> None:
    canvas, boxes = four_codes()
    codes = decode_image(canvas)
    assert sorted(texts(codes)) == sorted(boxes)
    for code in codes:
        assert inside(code, boxes[code.text])
    ean = next(code for code in codes if code.format == "EAN13")
    assert ean.normalise().kind is ScanKind.GTIN


def test_caller_formats_filter_the_others_out() -> None:
    canvas, _ = four_codes()
    assert texts(decode_image(canvas, formats=["Code128"])) == ["5CG1234OLD"]
    both = decode_image(canvas, formats=[zxingcpp.BarcodeFormat.QRCode, "DataMatrix"])
    assert sorted(texts(both)) == ["IT-000217", TAG]
    with pytest.raises(ValueError):
        decode_image(canvas, formats=["NoSuchFormat"])


def test_gs1_datamatrix_reaches_the_normaliser_with_its_separators() -> None:
    element = "(01)09501101530003(21)SN88213(10)LOT7A"
    canvas, _ = on_canvas(symbol(element, "DataMatrix", 8, gs1=True), 20)
    (code,) = decode_image(canvas)
    assert code.text == element and code.symbology_identifier == "]d2"
    assert code.scan_text == "]d2010950110153000321SN88213\x1d10LOT7A"
    result = code.normalise()
    assert result.gs1 == {"01": "09501101530003", "21": "SN88213", "10": "LOT7A"}
    assert result.candidates[0].kind is CandidateKind.GS1_SERIAL


def test_c06_long_url_qr_decodes_whole() -> None:
    url = "https://assets.example.invalid/a/IT-004217?sn=5CG1234OLD&site=HQ-03&ts=20250203T101500Z"
    canvas, _ = on_canvas(symbol(url, "QRCode", 6), 30)
    (code,) = decode_image(canvas)
    assert code.text == url
    assert code.normalise().codes == (TAG, "5CG1234OLD")


def test_a_photo_with_no_code_gives_the_hint() -> None:
    noise = Image.fromarray(np.random.default_rng(7).integers(0, 255, (480, 640), np.uint8))
    report = read_codes(noise)
    assert report.codes == () and report.hint == NO_CODE_HINT
    assert report.passes[0] == "fast" and "enlarged" in report.passes


def test_exhaustive_mode_runs_every_pass_and_counts_each_code_once() -> None:
    canvas, _ = on_canvas(symbol(TAG, "QRCode", 8), 10)
    report = read_codes(canvas, exhaustive=True)
    assert texts(list(report.codes)) == [TAG]
    assert report.passes[-1] == "enlarged"


@pytest.mark.parametrize("angle", [22.5, 45.0])
def test_rotated_copies_map_their_pixels_back_to_the_photo(angle: float) -> None:
    from fieldops.media.barcodes import _rotated  # the mapping every rotated result uses

    photo = Image.new("L", (900, 600), 255)
    photo.paste(0, (700, 120, 704, 124))  # a dot near the top right corner
    turned, back = _rotated((photo, lambda x, y: (x, y)), angle)
    found = np.argwhere(np.asarray(turned) < 128).mean(axis=0)  # (row, column)
    x, y = back(float(found[1]), float(found[0]))
    assert math.hypot(x - 702, y - 122) < 2
