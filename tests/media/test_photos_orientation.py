"""C15: EXIF orientation is applied once, everywhere: size, thumbnail and the upload copy."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from fieldops.media.photos import inspect_image, make_thumbnail, privacy_copy
from tests.media.test_photos_samples import (
    arrow_picture,
    assert_upright,
    exiftool_tags,
    save_jpeg,
    save_oriented,
    stored_pixels,
)

ORIENTATIONS = range(1, 9)


@pytest.fixture(scope="module")
def oriented(tmp_path_factory) -> dict[int, object]:
    """Eight 1200x800 "UP" arrow JPEGs, one per Orientation tag value."""
    folder = tmp_path_factory.mktemp("oriented")
    picture = arrow_picture()
    return {n: save_oriented(picture, folder / f"up-{n}.jpg", n) for n in ORIENTATIONS}


@pytest.fixture(scope="module")
def phone_photo(tmp_path_factory):
    """A phone-like 4032x3024 JPEG held in portrait: stored sideways with Orientation=6."""
    path = tmp_path_factory.mktemp("phone") / "IMG_0001.JPG"
    # The scene is portrait (3024 wide, 4032 high): the arrow picture turned a quarter left.
    portrait_scene = arrow_picture(4032, 3024).rotate(90, expand=True)
    return save_jpeg(stored_pixels(portrait_scene, 6), path, _orientation_only(6))


def _orientation_only(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_inspect_reports_displayed_size_and_the_tag(oriented, orientation):
    info = inspect_image(oriented[orientation])

    assert (info.width, info.height) == (1200, 800)
    assert info.orientation == orientation
    assert info.pixel_count == 960_000


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_thumbnail_arrow_points_up(oriented, orientation):
    thumbnail = Image.open(io.BytesIO(make_thumbnail(oriented[orientation])))

    assert thumbnail.size == (320, 213)
    assert_upright(thumbnail)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_privacy_copy_has_upright_pixels_and_no_turn_left_to_do(oriented, tmp_path, orientation):
    copy = tmp_path / "copy.jpg"

    info = privacy_copy(oriented[orientation], copy)

    assert (info.width, info.height, info.orientation) == (1200, 800, 1)
    with Image.open(copy) as stored:
        assert stored.getexif().get(0x0112, 1) == 1
        assert_upright(stored)  # read without any EXIF handling: the pixels themselves
    # Re-opening the copy, and copying the copy, must not turn it again.
    assert_upright(Image.open(io.BytesIO(make_thumbnail(copy))))
    again = tmp_path / "copy-of-copy.jpg"
    privacy_copy(copy, again)
    with Image.open(again) as stored:
        assert_upright(stored)


def test_exiftool_sees_no_orientation_left_in_the_copies(oriented, tmp_path):
    copies = []
    for n in ORIENTATIONS:
        copies.append(tmp_path / f"copy-{n}.jpg")
        privacy_copy(oriented[n], copies[-1])

    for tags in exiftool_tags(*copies):
        assert tags.get("IFD0:Orientation", 1) == 1, tags["SourceFile"]
        assert (tags["File:ImageWidth"], tags["File:ImageHeight"]) == (1200, 800)


def test_phone_portrait_photo_reads_as_portrait(phone_photo, tmp_path):
    with Image.open(phone_photo) as stored:
        assert stored.size == (4032, 3024)

    info = inspect_image(phone_photo)
    thumbnail = Image.open(io.BytesIO(make_thumbnail(phone_photo)))
    copy = privacy_copy(phone_photo, tmp_path / "copy.jpg")

    assert (info.width, info.height) == (3024, 4032)
    assert thumbnail.size == (240, 320)
    assert_upright(thumbnail.rotate(-90, expand=True))
    assert (copy.width, copy.height, copy.orientation) == (3024, 4032, 1)
    with Image.open(tmp_path / "copy.jpg") as stored:
        assert stored.size == (3024, 4032)


def test_sample_label_photo_is_shown_the_way_it_was_taken(photos_dir):
    """The demo label photo is stored sideways with Orientation=6; its light corner is
    bottom-right once upright, as in the upright demo photos."""
    rotated = photos_dir / "asset-label-exif-rotated.jpg"
    with Image.open(rotated) as stored:
        assert stored.size == (1200, 1600)

    info = inspect_image(rotated)
    thumbnail = Image.open(io.BytesIO(make_thumbnail(rotated))).convert("L")

    assert (info.width, info.height, info.orientation) == (1600, 1200, 6)
    assert thumbnail.size == (320, 240)
    top_left = thumbnail.getpixel((10, 10))
    bottom_right = thumbnail.getpixel((309, 229))
    assert top_left < bottom_right - 40


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "HEIF"])
def test_orientation_is_applied_once_in_every_format_that_carries_it(tmp_path, fmt):
    source = tmp_path / "sideways.img"
    stored_pixels(arrow_picture(), 6).save(source, fmt, exif=_orientation_only(6).tobytes())

    info = inspect_image(source)
    thumbnail = Image.open(io.BytesIO(make_thumbnail(source)))
    copy = privacy_copy(source, tmp_path / "copy.img")

    assert (info.width, info.height, info.orientation) == (1200, 800, 6)
    assert_upright(thumbnail)
    assert (copy.width, copy.height, copy.orientation) == (1200, 800, 1)
    with Image.open(tmp_path / "copy.img") as written:
        assert_upright(written)
