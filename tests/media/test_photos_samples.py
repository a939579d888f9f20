"""Pictures the photo tests make on disk, and checks that they are what they claim to be.

The helpers here build every test image with Pillow (the two huge ones are written by hand,
see `huge_png` and `patched_jpeg`). The tests in this file check the samples themselves
against Pillow's own EXIF handling and exiftool, so that the photo tests do not rest on a
sample that is wrong in the same way as the code under test.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image, ImageDraw, ImageOps

pillow_heif.register_heif_opener()

RGB = tuple[int, int, int]
Sampler = Callable[[int, int], RGB]

CAPTURE_TIME = "2025:02:03 10:15:00"
BODY_SERIAL = "CAM-000123"

XMP_WITH_GPS = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/"'
    ' xmlns:tiff="http://ns.adobe.com/tiff/1.0/"'
    ' exif:GPSLatitude="51,30.44N" exif:GPSLongitude="0,7.665W" tiff:Orientation="6"/>'
    "</rdf:RDF></x:xmpmeta>"
    '<?xpacket end="w"?>'
).encode()


# --- the "UP" arrow picture -------------------------------------------------------------


def arrow_picture(width: int = 1200, height: int = 800) -> Image.Image:
    """An upright picture: a black arrow pointing up and a red square in the top-left corner."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    def at(x: float, y: float) -> tuple[int, int]:
        return round(x * width), round(y * height)

    draw.polygon([at(0.5, 0.1), at(0.7, 0.5), at(0.3, 0.5)], fill="black")
    draw.rectangle([at(0.44, 0.5), at(0.56, 0.9)], fill="black")
    draw.rectangle([at(0.03, 0.03), at(0.15, 0.15)], fill=(220, 0, 0))
    return image


def stored_pixels(upright: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera stores for an upright scene when it writes this Orientation tag.

    The tag says how a viewer must turn the stored pixels; the camera stores the scene
    turned the other way. Written with rotate/mirror/flip rather than the transposes the code
    under test uses, and checked against Pillow's exif_transpose below.
    """
    turned = {
        1: lambda im: im.copy(),
        2: ImageOps.mirror,
        3: lambda im: im.rotate(180),
        4: ImageOps.flip,
        5: lambda im: ImageOps.flip(im.rotate(90, expand=True)),
        6: lambda im: im.rotate(90, expand=True),
        7: lambda im: ImageOps.mirror(im.rotate(90, expand=True)),
        8: lambda im: im.rotate(-90, expand=True),
    }[orientation]
    return turned(upright)


def pillow_sampler(image: Image.Image) -> Sampler:
    """Read pixels of a Pillow image as RGB triples."""
    rgb = image.convert("RGB")
    return lambda x, y: rgb.getpixel((x, y))  # type: ignore[return-value]


def arrow_problems(width: int, height: int, pixel: Sampler) -> list[str]:
    """What is wrong with how an arrow picture is shown (empty when it is upright)."""
    problems = []
    if width <= height:
        problems.append(f"picture is {width}x{height}, expected landscape")

    def sample(x: float, y: float) -> RGB:
        return pixel(min(width - 1, round(x * width)), min(height - 1, round(y * height)))

    def dark(p: RGB) -> bool:
        return sum(p) < 200

    def light(p: RGB) -> bool:
        return min(p) > 180

    def red(p: RGB) -> bool:
        return p[0] > 150 and p[1] < 90 and p[2] < 90

    expected = {
        "arrow head": (0.5, 0.35, dark),
        "head's base, left": (0.36, 0.46, dark),
        "beside the shaft": (0.36, 0.58, light),
        "shaft": (0.5, 0.75, dark),
        "above the tip": (0.5, 0.04, light),
        "red mark top-left": (0.09, 0.09, red),
        "top-right corner": (0.91, 0.09, light),
    }
    for name, (x, y, check) in expected.items():
        if not check(sample(x, y)):
            problems.append(f"{name} at ({x}, {y}) is {sample(x, y)}")
    return problems


def assert_upright(image: Image.Image) -> None:
    """Fail unless the arrow picture shows upright and unmirrored."""
    problems = arrow_problems(image.width, image.height, pillow_sampler(image))
    assert not problems, problems


# --- metadata --------------------------------------------------------------------------


def field_exif(orientation: int = 6, *, gps: bool = True) -> Image.Exif:
    """EXIF as a phone writes it: capture time, camera, serial numbers and a GPS position."""
    exif = Image.Exif()
    exif[0x010F] = "ExampleCam"
    exif[0x0110] = "Field Camera X1"
    exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = CAPTURE_TIME
    sub[0xA430] = "tech01"  # CameraOwnerName
    sub[0xA431] = BODY_SERIAL  # BodySerialNumber
    sub[0xA435] = "LENS-000456"  # LensSerialNumber
    if gps:
        position = exif.get_ifd(0x8825)
        position[1] = "N"
        position[2] = (51.0, 30.0, 26.4)
        position[3] = "W"
        position[4] = (0.0, 7.0, 39.9)
        position[6] = 35.5  # GPSAltitude
    return exif


def save_jpeg(image: Image.Image, path: Path, exif: Image.Exif | None = None, **options) -> Path:
    """Write a JPEG, with EXIF when given."""
    if exif is not None:
        options["exif"] = exif.tobytes()
    image.save(path, "JPEG", quality=90, **options)
    return path


def save_oriented(upright: Image.Image, path: Path, orientation: int, **exif_args) -> Path:
    """Write the upright picture as a camera would with this Orientation tag."""
    exif = field_exif(orientation, **exif_args)
    return save_jpeg(stored_pixels(upright, orientation), path, exif)


def png_with_exif_after_pixels(image: Image.Image, path: Path, exif: Image.Exif) -> Path:
    """A PNG whose eXIf chunk comes after the pixel data, where header readers do not look."""
    image.save(path, "PNG", exif=exif.tobytes())
    chunks = list(_png_chunks(path.read_bytes()))
    exif_chunk = next(c for c in chunks if c[4:8] == b"eXIf")
    others = [c for c in chunks if c is not exif_chunk]
    last_idat = max(i for i, c in enumerate(others) if c[4:8] == b"IDAT")
    others.insert(last_idat + 1, exif_chunk)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(others))
    return path


def _png_chunks(data: bytes):
    position = 8
    while position < len(data):
        length = struct.unpack(">I", data[position : position + 4])[0]
        yield data[position : position + 12 + length]
        position += 12 + length


# --- huge pictures, written by hand ----------------------------------------------------


def huge_png(path: Path, side: int = 30000) -> Path:
    """A real single-colour PNG of side × side pixels, about 110 KB on disk.

    Pillow cannot make it: it would hold the 900-megapixel image in memory first. So the
    rows are compressed here in a stream, as any PNG encoder does.
    """
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte, then 1-bit grey pixels
    compressor = zlib.compressobj(9)
    block = row * 1000
    idat = b"".join(compressor.compress(block) for _ in range(side // 1000))
    idat += compressor.compress(row * (side % 1000)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND")
    )
    return path


def _chunk(kind: bytes, data: bytes = b"") -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def patched_jpeg(path: Path, width: int, height: int) -> Path:
    """A small Pillow JPEG whose frame header claims width × height pixels.

    Only the header is ever read for such sizes, which is the point: a full decode of the
    claimed size would need gigabytes before it found the data missing.
    """
    buffer = path.with_suffix(".small.jpg")
    save_jpeg(arrow_picture(64, 48), buffer, field_exif(1, gps=False))
    data = bytearray(buffer.read_bytes())
    buffer.unlink()
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))
    return path


# --- exiftool --------------------------------------------------------------------------


def exiftool_tags(*paths: Path) -> list[dict[str, object]]:
    """Every tag exiftool finds (embedded documents too), as "Group:Tag" keys per file."""
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed, so metadata cannot be checked independently")
    command = ["exiftool", "-json", "-a", "-G1", "-ee", "-u", "-n", *map(str, paths)]
    result = subprocess.run(command, capture_output=True, check=False)
    return json.loads(result.stdout.decode("utf-8"))


def gps_tags(tags: dict[str, object]) -> list[str]:
    """The GPS-related tags exiftool reported."""
    return [key for key in tags if "gps" in key.lower()]


# --- checks of the samples themselves --------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_stored_samples_turn_upright_with_pillows_own_exif_transpose(tmp_path, orientation):
    path = save_oriented(arrow_picture(), tmp_path / f"o{orientation}.jpg", orientation)
    with Image.open(path) as stored:
        assert_upright(ImageOps.exif_transpose(stored))


def test_exiftool_reads_the_samples_metadata(tmp_path):
    path = save_oriented(arrow_picture(), tmp_path / "phone.jpg", 6)

    [tags] = exiftool_tags(path)

    assert tags["IFD0:Orientation"] == 6
    assert tags["ExifIFD:SerialNumber"] == BODY_SERIAL  # exiftool names BodySerialNumber so
    assert tags["ExifIFD:DateTimeOriginal"] == CAPTURE_TIME
    assert abs(float(tags["GPS:GPSLatitude"]) - 51.5073) < 1e-3


def test_upright_check_rejects_a_picture_shown_upside_down_or_mirrored():
    picture = arrow_picture()
    assert arrow_problems(*picture.size, pillow_sampler(picture)) == []
    for wrong in (picture.rotate(180), ImageOps.mirror(picture), ImageOps.flip(picture)):
        assert arrow_problems(*wrong.size, pillow_sampler(wrong))


def test_huge_samples_are_real_images_of_the_claimed_size(tmp_path):
    png = huge_png(tmp_path / "huge.png")
    jpeg = patched_jpeg(tmp_path / "200mp.jpg", 16320, 12240)

    assert png.stat().st_size < 2 * 1024 * 1024
    # Pillow's own guard recognises both as decompression bombs, from their headers.
    for path in (png, jpeg):
        with pytest.raises(Image.DecompressionBombError):
            Image.open(path)
