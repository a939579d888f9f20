"""Photo intake: formats by content, refusals in plain words, thumbnails, copies and hashes."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from PIL import Image

from fieldops.domain.errors import FieldOpsError
from fieldops.media.photos import (
    PhotoError,
    PhotoLimits,
    PhotoProblem,
    inspect_image,
    make_thumbnail,
    privacy_copy,
    sha256_of,
)
from tests.media.test_photos_samples import (
    arrow_picture,
    assert_upright,
    exiftool_tags,
    field_exif,
    save_jpeg,
    save_oriented,
    stored_pixels,
)

FORMATS = {
    # Pillow format, what FieldOps reports, mime
    "JPEG": ("JPEG", "image/jpeg"),
    "PNG": ("PNG", "image/png"),
    "WEBP": ("WEBP", "image/webp"),
    "TIFF": ("TIFF", "image/tiff"),
    "BMP": ("BMP", "image/bmp"),
    "GIF": ("GIF", "image/gif"),
    "HEIF": ("HEIF", "image/heic"),
}


def _save_as(fmt: str, path):
    picture = arrow_picture(600, 400)
    (picture.convert("P") if fmt == "GIF" else picture).save(path, fmt)
    return path


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_recognised_by_content_whatever_its_name(tmp_path, fmt):
    path = _save_as(fmt, tmp_path / "photo.dat")

    info = inspect_image(path)
    thumbnail = Image.open(io.BytesIO(make_thumbnail(path)))

    assert (info.format, info.mime) == FORMATS[fmt]
    assert (info.width, info.height, info.pixel_count) == (600, 400, 240_000)
    assert thumbnail.format == "JPEG" and thumbnail.size == (320, 213)
    assert_upright(thumbnail)


def test_png_named_heic_is_read_as_png(tmp_path):
    path = _save_as("PNG", tmp_path / "server-front.heic")

    info = inspect_image(path)

    assert (info.format, info.mime, info.extension) == ("PNG", "image/png", ".png")


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        (b"Rack 12, U34: PSU fan noisy.\nChecked by tech01.\n", "(it looks like a text file)"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n", "(it looks like a PDF)"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(40), "(it looks like a ZIP archive"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "(it looks like an SVG drawing)"),
    ],
)
def test_a_file_that_is_not_a_picture_is_refused_saying_what_it_looks_like(tmp_path, content, hint):
    path = tmp_path / "IMG_0042.jpg"
    path.write_bytes(content)

    with pytest.raises(PhotoError) as refused:
        inspect_image(path)

    assert refused.value.problem is PhotoProblem.NOT_A_PICTURE
    assert str(refused.value).startswith("This file is not a picture FieldOps can read")
    assert hint in str(refused.value)
    assert isinstance(refused.value, FieldOpsError)


def test_random_bytes_are_refused_without_a_guess(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(bytes(range(256)) * 4)

    with pytest.raises(PhotoError, match=r"^This file is not a picture FieldOps can read\.$"):
        inspect_image(path)


def test_a_picture_format_fieldops_does_not_read_says_so(tmp_path):
    path = tmp_path / "photo.avif"
    path.write_bytes(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(64))

    with pytest.raises(PhotoError, match="AVIF picture, a format FieldOps cannot read") as refused:
        inspect_image(path)

    assert refused.value.problem is PhotoProblem.UNSUPPORTED_FORMAT


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")

    with pytest.raises(PhotoError, match="empty") as refused:
        make_thumbnail(path)

    assert refused.value.problem is PhotoProblem.EMPTY


def test_missing_file_and_folder_are_refused_in_words(tmp_path):
    with pytest.raises(PhotoError, match="no longer there") as missing:
        inspect_image(tmp_path / "gone.jpg")
    with pytest.raises(PhotoError, match="it is a folder") as folder:
        inspect_image(tmp_path)

    assert missing.value.problem is PhotoProblem.FILE_MISSING
    assert folder.value.problem is PhotoProblem.FILE_UNREADABLE


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_file_cut_short_is_refused_as_incomplete(tmp_path, fmt):
    whole = _save_as(fmt, tmp_path / "whole").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole[: int(len(whole) * 0.6)])

    for action in (inspect_image, make_thumbnail):
        with pytest.raises(PhotoError) as refused:
            action(cut)
        assert refused.value.problem is PhotoProblem.TRUNCATED, action
        assert "incomplete" in str(refused.value)


def test_truncated_jpeg_is_caught_by_inspect_and_no_copy_is_written(tmp_path):
    whole = save_oriented(arrow_picture(), tmp_path / "whole.jpg", 6).read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole[: len(whole) - 2000])
    dest = tmp_path / "out" / "copy.jpg"
    dest.parent.mkdir()

    with pytest.raises(PhotoError, match="cut short"):
        inspect_image(cut)
    with pytest.raises(PhotoError, match="cut short"):
        privacy_copy(cut, dest)

    assert list(dest.parent.iterdir()) == []


def test_jpeg_with_data_after_its_end_marker_is_accepted(tmp_path):
    """Motion photos and some cameras append data after the image; that is not a cut."""
    path = save_jpeg(arrow_picture(), tmp_path / "motion.jpg")
    path.write_bytes(path.read_bytes() + b"\x00\x00\x00\x18ftypmp42" + os.urandom(5000))

    info = inspect_image(path)

    assert (info.format, info.width) == ("JPEG", 1200)


def test_damaged_header_is_refused_as_damaged(tmp_path):
    data = bytearray(save_jpeg(arrow_picture(), tmp_path / "ok.jpg").read_bytes())
    frame = data.index(b"\xff\xc0")
    data[frame + 4 : frame + 9] = b"\x00\x00\x00\x00\x00"  # precision and size zeroed
    path = tmp_path / "damaged.jpg"
    path.write_bytes(bytes(data))

    with pytest.raises(PhotoError, match="damaged") as refused:
        inspect_image(path)

    assert refused.value.problem is PhotoProblem.DAMAGED


def test_unicode_paths_work_throughout(tmp_path):
    folder = tmp_path / "Baustelle Süd 写真"
    folder.mkdir()
    path = save_oriented(arrow_picture(), folder / "Schäden 写真 📷.jpg", 6)
    dest = folder / "Kopie ohne Ort 📷.jpg"

    info = inspect_image(path)
    thumbnail = make_thumbnail(path)
    copy = privacy_copy(path, dest)

    assert (info.width, info.height, info.has_gps) == (1200, 800, True)
    assert_upright(Image.open(io.BytesIO(thumbnail)))
    assert (copy.width, copy.has_gps) == (1200, False)
    assert sha256_of(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_sha256_of_streams_a_large_file(tmp_path):
    path = tmp_path / "big.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)
    path.write_bytes(data)

    assert sha256_of(path) == hashlib.sha256(data).hexdigest()
    with pytest.raises(PhotoError, match="no longer there"):
        sha256_of(tmp_path / "missing.bin")


def test_thumbnail_respects_max_side_and_carries_no_metadata(tmp_path):
    path = save_oriented(arrow_picture(), tmp_path / "phone.jpg", 8)

    small = Image.open(io.BytesIO(make_thumbnail(path, max_side=120)))

    assert small.size == (120, 80)
    assert len(small.getexif()) == 0
    assert "exif" not in small.info and "xmp" not in small.info


def test_exiftool_finds_no_exif_xmp_or_gps_in_thumbnails(tmp_path, photos_dir):
    sources = [
        save_oriented(arrow_picture(), tmp_path / "phone.jpg", 6),
        photos_dir / "water-damage-with-gps.jpg",
        photos_dir / "server-front.heic",
    ]
    thumbnails = []
    for index, source in enumerate(sources):
        thumbnails.append(tmp_path / f"thumb-{index}.jpg")
        thumbnails[-1].write_bytes(make_thumbnail(source))

    for tags in exiftool_tags(*thumbnails):
        metadata = [
            key
            for key in tags
            if not key.startswith("ExifTool:")
            and ("exif" in key.lower() or "gps" in key.lower() or key.startswith(("IFD", "XMP")))
        ]
        assert metadata == [], tags["SourceFile"]


def test_privacy_copy_is_written_atomically_and_leaves_no_temporary_file(tmp_path):
    source = save_oriented(arrow_picture(), tmp_path / "phone.jpg", 3)
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "copy.jpg"
    dest.write_bytes(b"an older copy")

    privacy_copy(source, dest)

    assert [p.name for p in out.iterdir()] == ["copy.jpg"]
    with Image.open(dest) as written:
        assert_upright(written)


def test_privacy_copy_into_a_missing_folder_says_it_could_not_save(tmp_path):
    source = save_jpeg(arrow_picture(), tmp_path / "photo.jpg")

    with pytest.raises(PhotoError, match="could not save the copy") as refused:
        privacy_copy(source, tmp_path / "no-such-folder" / "copy.jpg")

    assert refused.value.problem is PhotoProblem.WRITE_FAILED


def test_privacy_copy_can_be_downscaled_by_policy(tmp_path):
    source = save_oriented(arrow_picture(), tmp_path / "phone.jpg", 6)

    info = privacy_copy(source, tmp_path / "small.jpg", max_side=600)

    assert (info.width, info.height) == (600, 400)
    with Image.open(tmp_path / "small.jpg") as written:
        assert_upright(written)


def test_upright_jpeg_copy_keeps_its_pixels_exactly(tmp_path):
    """An upright JPEG is cleaned without re-encoding, so it loses no quality."""
    source = save_jpeg(arrow_picture(), tmp_path / "upright.jpg", field_exif(1))
    dest = tmp_path / "copy.jpg"

    privacy_copy(source, dest)

    with Image.open(source) as before, Image.open(dest) as after:
        assert before.tobytes() == after.tobytes()
    assert dest.stat().st_size < source.stat().st_size


def test_alpha_picture_copies_as_png_and_thumbnails_on_white(tmp_path):
    picture = arrow_picture(600, 400).convert("RGBA")
    picture.putpixel((599, 399), (0, 0, 0, 0))
    source = tmp_path / "screenshot.webp"
    picture.save(source, "WEBP", lossless=True)

    info = privacy_copy(source, tmp_path / "copy.png")
    thumbnail = Image.open(io.BytesIO(make_thumbnail(source)))

    assert (info.format, info.extension) == ("PNG", ".png")
    assert thumbnail.mode == "RGB"
    assert_upright(thumbnail)


def test_sixteen_bit_grey_png_thumbnails_without_clipping(tmp_path):
    grey = Image.new("I;16", (400, 300), 32768)  # mid grey on a 16-bit scale
    source = tmp_path / "scan.png"
    grey.save(source)

    thumbnail = Image.open(io.BytesIO(make_thumbnail(source)))

    assert abs(thumbnail.convert("L").getpixel((10, 10)) - 128) <= 2


def test_pixel_limit_can_be_configured(tmp_path):
    source = save_jpeg(arrow_picture(), tmp_path / "photo.jpg")

    assert inspect_image(source, limits=PhotoLimits(max_pixels=960_000)).pixel_count == 960_000
    with pytest.raises(PhotoError, match=r"1200 × 800 pixels \(1 million\)") as refused:
        make_thumbnail(source, limits=PhotoLimits(max_pixels=959_999))

    assert refused.value.problem is PhotoProblem.TOO_LARGE


@pytest.mark.parametrize(
    ("fmt", "budget", "size"),
    [
        ("JPEG", 240_000, (600, 400)),  # decoded at half scale
        ("JPEG", 200_000, (300, 200)),  # a quarter: JPEG scales by powers of two
        ("PNG", 200_000, (400, 267)),  # decoded, then reduced by three
    ],
)
def test_copy_that_must_be_reencoded_is_reduced_to_the_pixel_budget(tmp_path, fmt, budget, size):
    source = tmp_path / "sideways.img"
    exif = field_exif(6).tobytes()
    stored_pixels(arrow_picture(), 6).save(source, fmt, exif=exif)

    info = privacy_copy(source, tmp_path / "copy.img", limits=PhotoLimits(max_copy_pixels=budget))

    assert (info.width, info.height) == size
    with Image.open(tmp_path / "copy.img") as written:
        assert_upright(written)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_malformed_exif_is_ignored_not_fatal(tmp_path):
    source = save_jpeg(arrow_picture(), tmp_path / "odd.jpg")
    data = source.read_bytes()
    broken = b"\xff\xe1\x00\x12Exif\x00\x00MM\x00*\xff\xff\xff\xf0\x00\x00"
    source.write_bytes(data[:2] + broken + data[2:])

    info = inspect_image(source)
    copy = privacy_copy(source, tmp_path / "copy.jpg")

    assert (info.orientation, info.width) == (1, 1200)
    assert copy.width == 1200
    assert_upright(Image.open(io.BytesIO(make_thumbnail(source))))
