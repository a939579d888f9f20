"""C20: the copy that leaves the device carries no location and no device identifiers."""

from __future__ import annotations

import io

import pytest
from PIL import Image, PngImagePlugin

from fieldops.media.photos import inspect_image, make_thumbnail, privacy_copy
from tests.media.test_photos_samples import (
    BODY_SERIAL,
    CAPTURE_TIME,
    XMP_WITH_GPS,
    arrow_picture,
    assert_upright,
    exiftool_tags,
    field_exif,
    gps_tags,
    png_with_exif_after_pixels,
    save_jpeg,
    stored_pixels,
)


def _field_jpeg(path):
    """The C20 photo: GPS, capture time, camera, serial numbers, Orientation=6 and GPS XMP."""
    stored = stored_pixels(arrow_picture(), 6)
    return save_jpeg(stored, path, field_exif(6), xmp=XMP_WITH_GPS)


def _field_heic(path):
    # pillow_heif turns Orientation into the HEIF rotation box, as iPhones write it.
    stored = stored_pixels(arrow_picture(), 6)
    stored.save(path, "HEIF", exif=field_exif(6).tobytes(), xmp=XMP_WITH_GPS, quality=60)
    return path


def _field_png(path):
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP_WITH_GPS.decode())
    arrow_picture().save(path, "PNG", exif=field_exif(1).tobytes(), pnginfo=info)
    return path


def _field_png_exif_after_pixels(path):
    return png_with_exif_after_pixels(arrow_picture(), path, field_exif(1))


def _field_webp(path):
    stored = stored_pixels(arrow_picture(), 6)
    stored.save(path, "WEBP", exif=field_exif(6).tobytes(), xmp=XMP_WITH_GPS, quality=80)
    return path


def _field_tiff(path):
    stored_pixels(arrow_picture(), 6).save(path, "TIFF", exif=field_exif(6).tobytes())
    return path


def _xmp_only_jpeg(path):
    return save_jpeg(arrow_picture(), path, xmp=XMP_WITH_GPS)


def _jpeg_with_gps_in_a_trailing_image(path):
    """A primary image without GPS followed by a second JPEG that has it (as MPF files do)."""
    primary = save_jpeg(arrow_picture(), path, field_exif(1, gps=False)).read_bytes()
    second = save_jpeg(arrow_picture(300, 200), path, field_exif(1)).read_bytes()
    path.write_bytes(primary + second)
    return path


MAKERS = {
    "jpeg": _field_jpeg,
    "heic": _field_heic,
    "png": _field_png,
    "png-exif-after-pixels": _field_png_exif_after_pixels,
    "webp": _field_webp,
    "tiff": _field_tiff,
    "jpeg-xmp-only": _xmp_only_jpeg,
}


@pytest.fixture(scope="module")
def field_photos(tmp_path_factory):
    """Each C20 photo, and its privacy copy."""
    folder = tmp_path_factory.mktemp("c20")
    made = {}
    for name, make in MAKERS.items():
        source = make(folder / f"{name}.img")
        copy = folder / f"{name}-copy.img"
        made[name] = (source, copy, privacy_copy(source, copy))
    return made


@pytest.mark.parametrize("name", MAKERS)
def test_gps_is_noticed_in_every_place_it_hides(field_photos, name):
    source, _, _ = field_photos[name]

    assert inspect_image(source).has_gps is True


@pytest.mark.parametrize("name", MAKERS)
def test_copy_reports_no_gps_and_is_upright(field_photos, name):
    _, copy, info = field_photos[name]

    assert info.has_gps is False
    assert (info.width, info.height, info.orientation) == (1200, 800, 1)
    with Image.open(copy) as written:
        assert_upright(written)
        assert "xmp" not in written.info
        exif = written.getexif()
        assert exif.get(0x0112, 1) == 1
        assert dict(exif.get_ifd(0x8825)) == {}


def test_heic_copy_is_a_jpeg_and_keeps_the_capture_time(field_photos):
    _, copy, info = field_photos["heic"]

    assert (info.format, info.mime, info.extension) == ("JPEG", "image/jpeg", ".jpg")
    with Image.open(copy) as written:
        assert written.getexif().get_ifd(0x8769).get(0x9003) == CAPTURE_TIME


def test_exiftool_finds_no_gps_serial_or_xmp_in_any_copy(field_photos):
    copies = [copy for _, copy, _ in field_photos.values()]

    for tags in exiftool_tags(*copies):
        where = tags["SourceFile"]
        assert gps_tags(tags) == [], where
        assert [k for k in tags if "serial" in k.lower()] == [], where
        assert [k for k in tags if k.startswith("XMP")] == [], where
        assert [k for k in tags if "owner" in k.lower() or k.startswith("MakerNotes")] == []
        assert tags.get("IFD0:Orientation", 1) == 1, where
        assert BODY_SERIAL not in str(tags), where


def test_exiftool_sees_the_capture_time_kept_and_the_camera_dropped(field_photos):
    _, copy, _ = field_photos["jpeg"]

    [tags] = exiftool_tags(copy)

    assert tags["ExifIFD:DateTimeOriginal"] == CAPTURE_TIME
    assert "IFD0:Make" not in tags and "IFD0:Model" not in tags


def test_exiftool_confirms_the_sources_did_hold_gps(field_photos):
    """Guards the test above: the inputs must really carry what the copies must lose."""
    sources = [field_photos[name][0] for name in ("jpeg", "heic", "png", "webp", "tiff")]

    for tags in exiftool_tags(*sources):
        assert gps_tags(tags), tags["SourceFile"]


def test_sample_photo_with_gps_loses_it(photos_dir, tmp_path):
    source = photos_dir / "water-damage-with-gps.jpg"
    copy = tmp_path / "water-damage.jpg"

    assert inspect_image(source).has_gps is True
    info = privacy_copy(source, copy)

    assert info.has_gps is False
    [tags] = exiftool_tags(copy)
    assert gps_tags(tags) == []
    assert tags["ExifIFD:DateTimeOriginal"] == "2026:11:02 09:41:27"


def test_gps_in_a_trailing_image_is_dropped_with_the_trailer(tmp_path):
    source = _jpeg_with_gps_in_a_trailing_image(tmp_path / "mpf.jpg")
    copy = tmp_path / "copy.jpg"

    privacy_copy(source, copy)

    data = copy.read_bytes()
    assert data.count(b"\xff\xd8") == 1 and data.endswith(b"\xff\xd9")
    [tags] = exiftool_tags(copy)
    assert gps_tags(tags) == []


def test_thumbnails_of_gps_photos_hold_no_gps(field_photos, tmp_path):
    thumbnails = []
    for name, (source, _, _) in field_photos.items():
        thumbnails.append(tmp_path / f"{name}-thumb.jpg")
        thumbnails[-1].write_bytes(make_thumbnail(source))

    for tags in exiftool_tags(*thumbnails):
        assert gps_tags(tags) == [], tags["SourceFile"]
        assert [k for k in tags if k.startswith(("XMP", "IFD", "ExifIFD"))] == []


@pytest.mark.parametrize(
    "options",
    [
        {"progressive": True},
        {"restart_marker_blocks": 4},
        {"subsampling": 0, "comment": b"tech01 at 51.5N 0.12W"},
    ],
    ids=["progressive", "restart-markers", "comment"],
)
def test_upright_jpeg_variants_are_cleaned_without_changing_a_pixel(tmp_path, options):
    source = save_jpeg(arrow_picture(), tmp_path / "upright.jpg", field_exif(1), **options)
    copy = tmp_path / "copy.jpg"

    privacy_copy(source, copy)

    with Image.open(source) as before, Image.open(copy) as after:
        assert before.tobytes() == after.tobytes()
        assert "comment" not in after.info
    [tags] = exiftool_tags(copy)
    assert gps_tags(tags) == [] and "File:Comment" not in tags


def test_cmyk_jpeg_keeps_its_colours_in_copy_and_thumbnail(tmp_path):
    source = tmp_path / "cmyk.jpg"
    arrow_picture().convert("CMYK").save(source, "JPEG", quality=95, exif=field_exif(1).tobytes())
    copy = tmp_path / "copy.jpg"

    privacy_copy(source, copy)
    thumbnail = Image.open(io.BytesIO(make_thumbnail(source)))

    with Image.open(source) as before, Image.open(copy) as after:
        assert after.mode == "CMYK" and before.tobytes() == after.tobytes()
    assert thumbnail.mode == "RGB"
    assert_upright(thumbnail)


def test_png_with_imagemagick_raw_exif_profile_is_seen_to_hold_gps(tmp_path):
    raw = field_exif(1).tobytes()[6:]  # the TIFF structure, without the "Exif\0\0" marker
    profile = f"\nexif\n{len(raw):8d}\n{raw.hex()}\n"
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", profile, zip=True)
    source = tmp_path / "convert-output.png"
    arrow_picture().save(source, "PNG", pnginfo=info)

    assert inspect_image(source).has_gps is True
    assert privacy_copy(source, tmp_path / "copy.png").has_gps is False
    [tags] = exiftool_tags(tmp_path / "copy.png")
    assert gps_tags(tags) == []
