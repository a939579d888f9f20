"""Decoding files: formats by content, damaged and huge files, EXIF, large photos (C13), samples."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from fieldops.domain.errors import FieldOpsError
from fieldops.domain.scan import ScanKind
from fieldops.media.barcodes import (
    NO_CODE_HINT,
    DecodedCode,
    ImageReadError,
    ImageTooLargeError,
    decode_image,
    read_codes,
)
from tests.media.test_barcodes import TAG, inside, on_canvas, symbol, texts


def qr_photo(size: tuple[int, int] = (900, 700)) -> tuple[Image.Image, tuple[int, int, int, int]]:
    return on_canvas(symbol(TAG, "QRCode", 8), 15, size, background=225)


# Formats recognised by content.


@pytest.mark.parametrize(
    ("name", "pil_format", "options"),
    [
        ("label.jpg", "JPEG", {"quality": 85}),
        ("label.png", "PNG", {}),
        ("label.webp", "WEBP", {"quality": 90}),
        ("label.tif", "TIFF", {"compression": "tiff_lzw"}),
        ("label.bmp", "BMP", {}),
        ("label.heic", "HEIF", {"quality": 90}),
        ("png-named.jpg", "PNG", {}),  # the extension lies
        ("jpeg-named.png", "JPEG", {}),
        ("no-extension", "WEBP", {}),
    ],
)
def test_formats_are_recognised_by_content(
    tmp_path: Path, name: str, pil_format: str, options: dict[str, object]
) -> None:
    photo, box = qr_photo()
    path = tmp_path / name
    photo.convert("RGB").save(path, format=pil_format, **options)
    codes = decode_image(path)
    assert texts(codes) == [TAG] and inside(codes[0], box, slack=6)


def test_sixteen_bit_tiff_and_transparent_png(tmp_path: Path) -> None:
    photo, _ = qr_photo()
    deep = Image.fromarray(np.asarray(photo, dtype=np.uint16) * 257)
    assert deep.mode.startswith("I;16")
    deep.save(tmp_path / "deep.tif")
    assert texts(decode_image(tmp_path / "deep.tif")) == [TAG]
    # Black modules on a transparent background: transparent must read as white.
    modules = symbol(TAG, "QRCode", 8)
    rgba = Image.new("RGBA", (500, 500), (0, 0, 0, 0))
    ink = Image.new("RGBA", modules.size, (0, 0, 0, 255))
    rgba.paste(ink, (100, 100), mask=Image.eval(modules, lambda v: 255 - v))
    rgba.save(tmp_path / "clear.png")
    assert texts(decode_image(tmp_path / "clear.png")) == [TAG]


def test_unicode_paths(tmp_path: Path) -> None:
    folder = tmp_path / "Étiquettes – 标签 🏷"
    folder.mkdir()
    path = folder / "ラベル ÆØÅ.png"
    qr_photo()[0].save(path)
    assert texts(decode_image(path)) == [TAG]
    assert texts(decode_image(str(path))) == [TAG]


# Files that cannot be read.


def read_error(path: Path) -> ImageReadError:
    with pytest.raises(ImageReadError) as caught:
        decode_image(path)
    error = caught.value
    assert isinstance(error, FieldOpsError)
    assert "Traceback" not in error.message and error.message.endswith(".")
    assert error.message.count(". ") <= 2  # one or two plain sentences
    return error


@pytest.mark.parametrize(("name", "keep"), [("cut.jpg", 0.5), ("cut.png", 0.6), ("cut.webp", 0.5)])
def test_truncated_files_are_refused_with_a_sentence(
    tmp_path: Path, name: str, keep: float
) -> None:
    photo, _ = qr_photo()
    whole = tmp_path / ("whole" + Path(name).suffix)
    photo.save(whole)
    data = whole.read_bytes()
    (tmp_path / name).write_bytes(data[: int(len(data) * keep)])
    assert "damaged or incomplete" in read_error(tmp_path / name).message


def test_not_an_image_missing_folder_and_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not a picture", encoding="utf-8")
    assert "not an image FieldOps can read" in read_error(tmp_path / "notes.png").message
    (tmp_path / "empty.jpg").write_bytes(b"")
    read_error(tmp_path / "empty.jpg")
    assert "does not exist" in read_error(tmp_path / "missing.jpg").message
    assert "folder" in read_error(tmp_path).message
    Image.new("RGB", (40, 40)).save(tmp_path / "anim.gif")
    read_error(tmp_path / "anim.gif")  # GIF is not a photo format FieldOps takes


def test_over_the_pixel_limit_is_refused_with_its_count(tmp_path: Path) -> None:
    Image.new("1", (11000, 11000), 1).save(tmp_path / "poster.png")  # 121 MP, small file
    with pytest.raises(ImageTooLargeError) as caught:
        decode_image(tmp_path / "poster.png")
    assert caught.value.pixels == 121_000_000
    assert "121,000,000 pixels" in caught.value.message


def test_decompression_bomb_is_refused_without_decoding(tmp_path: Path) -> None:
    Image.new("1", (14000, 14000), 1).save(tmp_path / "bomb.png")  # over Pillow's own guard
    started = time.perf_counter()
    with pytest.raises(ImageTooLargeError) as caught:
        decode_image(tmp_path / "bomb.png")
    assert "196,000,000 pixels" in caught.value.message
    assert time.perf_counter() - started < 1.0


def test_jpeg_over_the_limit_is_downscaled_while_reading(tmp_path: Path) -> None:
    photo, box = on_canvas(symbol(TAG, "QRCode", 16), 0, (3000, 2000), at=(2000, 1200))
    photo.save(tmp_path / "wide.jpg", quality=90)
    report = read_codes(tmp_path / "wide.jpg", max_pixels=2_000_000)
    assert report.read_scale == 0.5 and report.size == (3000, 2000)
    assert texts(list(report.codes)) == [TAG]
    assert inside(report.codes[0], box, slack=8)  # corners in the photo's own pixels
    photo.save(tmp_path / "wide.png")
    with pytest.raises(ImageTooLargeError):
        read_codes(tmp_path / "wide.png", max_pixels=2_000_000)


# EXIF orientation.


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(tmp_path: Path, orientation: int) -> None:
    upright, box = on_canvas(symbol(TAG, "Code128", 3), 0, (1200, 800), at=(100, 500))
    undo = {
        2: [Image.Transpose.FLIP_LEFT_RIGHT],
        3: [Image.Transpose.ROTATE_180],
        4: [Image.Transpose.FLIP_TOP_BOTTOM],
        5: [Image.Transpose.TRANSPOSE],
        6: [Image.Transpose.ROTATE_90],
        7: [Image.Transpose.TRANSVERSE],
        8: [Image.Transpose.ROTATE_270],
    }.get(orientation, [])
    stored = upright
    for step in undo:  # store the pixels so that the tag turns them upright again
        stored = stored.transpose(step)
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.save(tmp_path / "turned.jpg", exif=exif, quality=92)
    report = read_codes(tmp_path / "turned.jpg")
    assert report.size == (1200, 800)
    assert texts(list(report.codes)) == [TAG]
    assert inside(report.codes[0], box, slack=6)


# C13: resolution.


def big_photo_with_label(
    path: Path, width: int, blur: float = 0.0, *, corner: bool = True
) -> tuple[int, int, int, int]:
    """An 8000x6000 JPEG holding a Code 128 label `width` pixels wide."""
    bars = symbol("5CG1234OLD", "Code128", 1)
    if corner:  # 3 pixels a module on a 700 px label, bottom right
        bars = symbol("5CG1234OLD", "Code128", 3)
        label = Image.new("L", (width, bars.height + 60), 255)
        label.paste(bars, ((width - bars.width) // 2, 30))
        at = (8000 - width - 100, 6000 - label.height - 100)
    else:
        label = bars.resize((width, width // 4), Image.Resampling.NEAREST)
        at = ((8000 - width) // 2, 2000)
    if blur:
        label = label.filter(ImageFilter.GaussianBlur(blur))
    photo = Image.new("L", (8000, 6000), 118)
    photo.paste(label, at)
    photo.save(path, quality=88)
    return (at[0], at[1], at[0] + label.width, at[1] + label.height)


@pytest.mark.slow
def test_c13a_small_code_in_a_corner_of_a_48mp_photo(tmp_path: Path) -> None:
    box = big_photo_with_label(tmp_path / "a.jpg", 700)
    started = time.perf_counter()
    report = read_codes(tmp_path / "a.jpg")
    elapsed = time.perf_counter() - started
    assert texts(list(report.codes)) == ["5CG1234OLD"]
    assert report.codes[0].pass_name in ("half", "full", "inverted-full", "enlarged")
    assert inside(report.codes[0], box, slack=10)
    assert elapsed < 3.0


@pytest.mark.slow
def test_c13b_huge_slightly_blurred_code_in_a_48mp_photo(tmp_path: Path) -> None:
    big_photo_with_label(tmp_path / "b.jpg", 6000, blur=6, corner=False)
    started = time.perf_counter()
    report = read_codes(tmp_path / "b.jpg")
    assert texts(list(report.codes)) == ["5CG1234OLD"]
    assert time.perf_counter() - started < 3.0


def test_c13c_code_at_one_pixel_a_module_fails_cleanly() -> None:
    bars = symbol("5CG1234OLD", "Code128", 1).resize((120, 40), Image.Resampling.BILINEAR)
    photo = Image.new("L", (640, 480), 200)
    photo.paste(bars, (260, 220))
    report = read_codes(photo)
    assert report.codes == ()  # never a wrong value, and no value at all
    assert report.hint == NO_CODE_HINT
    assert "code too small or blurred, move closer or use the scanner" in report.hint


def test_small_code_is_found_by_the_enlarged_pass() -> None:
    bars = symbol("5CG1234OLD", "Code128", 1).resize((240, 50), Image.Resampling.BILINEAR)
    photo, box = on_canvas(bars, 0, (640, 480), background=200)
    report = read_codes(photo)
    assert texts(list(report.codes)) == ["5CG1234OLD"]
    assert report.codes[0].pass_name == "enlarged" and inside(report.codes[0], box, slack=6)


# The sample photos that ship with FieldOps.


def only(codes: list[DecodedCode]) -> DecodedCode:
    assert len(codes) == 1, codes
    return codes[0]


def test_sample_exif_rotated_asset_label(photos_dir: Path) -> None:
    report = read_codes(photos_dir / "asset-label-exif-rotated.jpg")
    code = only(list(report.codes))
    assert (code.format, code.text, code.pass_name) == ("Code128", "IT-000217", "fast")
    assert report.size == (1600, 1200)  # stored 1200x1600, turned upright by its EXIF tag
    assert inside(code, (540, 450, 1030, 690))
    assert code.normalise().code == "IT-000217"


def test_sample_branch_qr_keeps_its_leading_zero(photos_dir: Path) -> None:
    code = only(decode_image(photos_dir / "branch-qr-label.jpg"))
    assert (code.format, code.text) == ("QRCode", "013231")
    assert code.normalise().code == "013231"


def test_sample_psu_gs1_datamatrix(photos_dir: Path) -> None:
    code = only(decode_image(photos_dir / "psu-gs1-datamatrix.jpg"))
    assert (code.format, code.text) == ("DataMatrix", "(01)09501101530003(21)10PSU88231")
    result = code.normalise()
    assert result.kind is ScanKind.GS1 and result.code == "10PSU88231"
    assert result.gs1 == {"01": "09501101530003", "21": "10PSU88231"}


def test_sample_rack_12mp_photo_is_fast(photos_dir: Path) -> None:
    decode_image(photos_dir / "rack-12mp.jpg")  # warm up the codecs
    started = time.perf_counter()
    report = read_codes(photos_dir / "rack-12mp.jpg")
    elapsed = time.perf_counter() - started
    code = only(list(report.codes))
    assert (code.format, code.text, code.pass_name) == ("Code128", "IT-000008", "fast")
    assert report.size == (4000, 3000) and inside(code, (1860, 1400, 2570, 1740))
    assert elapsed < 0.3


def test_sample_heic_server_front(photos_dir: Path) -> None:
    code = only(decode_image(photos_dir / "server-front.heic"))
    assert (code.format, code.text) == ("Code128", "IT-000043")


def test_sample_photo_without_a_code(photos_dir: Path) -> None:
    report = read_codes(photos_dir / "water-damage-with-gps.jpg")
    assert report.codes == () and report.hint == NO_CODE_HINT


def test_pil_images_are_taken_as_they_are_and_left_alone(photos_dir: Path) -> None:
    with Image.open(photos_dir / "asset-label-exif-rotated.jpg") as opened:
        from_pil = only(decode_image(opened))
        assert opened.size == (1200, 1600)  # the caller's image is not turned in place
    from_path = only(decode_image(photos_dir / "asset-label-exif-rotated.jpg"))
    assert from_pil.text == from_path.text == "IT-000217"
    assert inside(from_pil, (540, 450, 1030, 690))
    photo, box = on_canvas(symbol(TAG, "QRCode", 20), 0, (5000, 3000), at=(3500, 1800))
    palette = photo.convert("P")
    codes = decode_image(palette)
    assert texts(codes) == [TAG] and inside(codes[0], box, slack=10)
    assert palette.mode == "P"


@pytest.mark.slow
def test_small_datamatrix_in_a_48mp_photo_gets_the_full_resolution_2d_pass(
    tmp_path: Path,
) -> None:
    photo, box = on_canvas(symbol(TAG, "DataMatrix", 3), 0, (8000, 6000), at=(7500, 5600))
    photo.save(tmp_path / "psu.jpg", quality=92)
    started = time.perf_counter()
    report = read_codes(tmp_path / "psu.jpg")
    assert time.perf_counter() - started < 3.0
    assert texts(list(report.codes)) == [TAG]
    assert report.codes[0].pass_name == "full-2d" and inside(report.codes[0], box, slack=6)
    assert "enlarged" not in report.passes  # too many pixels to enlarge


def test_time_budget_ends_the_search(tmp_path: Path) -> None:
    noise = Image.effect_noise((4000, 3000), 30)
    noise.save(tmp_path / "static.jpg", quality=85)
    started = time.perf_counter()
    report = read_codes(tmp_path / "static.jpg", time_budget_s=0.2)
    assert time.perf_counter() - started < 1.5  # the pass under way finishes, no more start
    assert report.codes == () and report.hint == NO_CODE_HINT
    assert len(report.passes) < 7
