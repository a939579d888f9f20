"""C16: HEIC photos decode to a thumbnail and a JPEG copy, or fail in words that say why."""

from __future__ import annotations

import io

import pillow_heif
import pytest
from PIL import Image

from fieldops.media.photos import (
    PhotoError,
    PhotoProblem,
    heif_support,
    inspect_image,
    make_thumbnail,
    privacy_copy,
)
from tests.media.test_photos_samples import arrow_picture, assert_upright, stored_pixels


@pytest.fixture(scope="module")
def iphone_heic(tmp_path_factory):
    """(a) A 4032x3024 HEIC as an iOS 17 iPhone writes it, held in portrait (rotation box)."""
    path = tmp_path_factory.mktemp("heic") / "IMG_0001.HEIC"
    exif = Image.Exif()
    exif[0x0112] = 6
    portrait_scene = arrow_picture(4032, 3024).rotate(90, expand=True)
    stored_pixels(portrait_scene, 6).save(path, "HEIF", exif=exif.tobytes(), quality=30)
    return path


def test_sample_heic_reads_thumbnails_and_copies_as_jpeg(photos_dir, tmp_path):
    source = photos_dir / "server-front.heic"

    info = inspect_image(source)
    thumbnail = Image.open(io.BytesIO(make_thumbnail(source)))
    copy = privacy_copy(source, tmp_path / "server-front.jpg")

    assert (info.format, info.mime, info.width, info.height) == ("HEIF", "image/heic", 1600, 1200)
    assert thumbnail.size == (320, 240)
    assert (copy.format, copy.width, copy.height) == ("JPEG", 1600, 1200)


def test_iphone_heic_is_portrait_and_turned_once(iphone_heic, tmp_path):
    info = inspect_image(iphone_heic)
    thumbnail = Image.open(io.BytesIO(make_thumbnail(iphone_heic)))
    copy = privacy_copy(iphone_heic, tmp_path / "copy.jpg")

    assert (info.width, info.height, info.orientation) == (3024, 4032, 6)
    assert thumbnail.size == (240, 320)
    assert_upright(thumbnail.rotate(-90, expand=True))
    assert (copy.width, copy.height, copy.orientation) == (3024, 4032, 1)
    with Image.open(tmp_path / "copy.jpg") as written:
        assert_upright(written.rotate(-90, expand=True))


def test_heic_with_an_extra_brand_still_decodes(tmp_path):
    """(b) iOS 18 files list the `tmap` brand; its mere presence must not stop decoding.

    The gain-map image such files carry cannot be written here, so this covers the brand,
    not the auxiliary image behind it.
    """
    path = tmp_path / "ios18.heic"
    arrow_picture().save(path, "HEIF", quality=40)
    data = path.read_bytes()
    ftyp_end = int.from_bytes(data[0:4], "big")
    assert b"miaf" in data[:ftyp_end]
    path.write_bytes(data[:ftyp_end].replace(b"miaf", b"tmap") + data[ftyp_end:])

    assert_upright(Image.open(io.BytesIO(make_thumbnail(path))))


def test_heic_holding_several_images_uses_the_primary_one(tmp_path):
    """(d) Burst and live files hold several images; the primary one is the photo."""
    path = tmp_path / "burst.heic"
    first = Image.new("RGB", (640, 480), (0, 0, 200))
    primary = arrow_picture(640, 480)
    first.save(path, "HEIF", save_all=True, append_images=[primary], primary_index=1, quality=50)
    assert len(pillow_heif.open_heif(path)) == 2

    info = inspect_image(path)
    thumbnail = Image.open(io.BytesIO(make_thumbnail(path)))

    assert (info.width, info.height) == (640, 480)
    assert_upright(thumbnail)


def test_heic_whose_pixels_cannot_be_decoded_names_the_decoder(tmp_path):
    path = tmp_path / "damaged.heic"
    arrow_picture().save(path, "HEIF", quality=40)
    data = bytearray(path.read_bytes())
    mdat = data.index(b"mdat") + 4
    data[mdat : mdat + 4000] = bytes(4000)  # the coded picture, zeroed in place
    path.write_bytes(bytes(data))

    with pytest.raises(PhotoError) as refused:
        make_thumbnail(path)

    assert refused.value.problem is PhotoProblem.HEIC_UNDECODABLE
    libheif = pillow_heif.libheif_info()["libheif"]
    assert str(refused.value) == (
        f"FieldOps cannot preview this HEIC picture (decoder libheif {libheif})."
    )


def test_heic_cut_short_is_refused_as_incomplete(tmp_path):
    whole = tmp_path / "whole.heic"
    arrow_picture().save(whole, "HEIF", quality=40)
    cut = tmp_path / "cut.heic"
    cut.write_bytes(whole.read_bytes()[:-3000])

    with pytest.raises(PhotoError) as refused:
        inspect_image(cut)

    assert refused.value.problem is PhotoProblem.TRUNCATED


def test_about_box_text_names_both_versions():
    text = heif_support()

    assert f"pillow-heif {pillow_heif.__version__}" in text
    assert f"libheif {pillow_heif.libheif_info()['libheif']}" in text
    assert "libde265" in text  # the HEVC decoder that makes HEIC readable at all
