"""Files that are not photos are refused before reading, and huge photos decode within budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from fieldops.media.barcode_image import DECODE_BUDGET_BYTES, pixel_limit
from fieldops.media.barcodes import ImageReadError, ImageTooLargeError, read_codes
from fieldops.media.image_files import MAX_FILE_BYTES
from fieldops.media.photos import PhotoError, PhotoProblem, inspect_image, privacy_copy
from tests.media.test_barcodes import symbol

# Peak memory of a fresh interpreter doing one decode: VmHWM covers the whole process (the
# interpreter, zxing, Pillow and every copy), as /usr/bin/time's maximum resident size does.
_MEASURE = r"""
import json, sys
from fieldops.media.barcodes import read_codes
from fieldops.media.photos import PhotoError, inspect_image

def peak_mib():
    with open("/proc/self/status") as status:
        return int(next(l for l in status if l.startswith("VmHWM:")).split()[1]) / 1024

out = {}
try:
    if sys.argv[2] == "decode":
        report = read_codes(sys.argv[1])
        out["codes"] = [code.text for code in report.codes]
        out["passes"] = list(report.passes)
    else:
        inspect_image(sys.argv[1])
except Exception as exc:
    out["error"] = str(exc)
out["peak"] = peak_mib()
print(json.dumps(out))
"""

needs_proc = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="peak memory is read from Linux's /proc"
)


def measured(path: Path, action: str = "decode") -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), action],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


@pytest.fixture
def sparse(tmp_path: Path) -> Path:
    """A 2 GiB file that takes no disk space: what `truncate -s 2G` makes."""
    path = tmp_path / "v.jpg"
    with path.open("wb") as file:
        file.truncate(2 * 1024**3)
    return path


def test_a_device_is_refused_in_one_sentence_without_reading() -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    with pytest.raises(ImageReadError) as refused:
        read_codes("/dev/zero")
    assert refused.value.message == (
        "zero is not a picture file but a device, pipe or socket; choose a photo file."
    )
    with pytest.raises(PhotoError) as photo:
        inspect_image("/dev/zero")
    assert photo.value.problem is PhotoProblem.NOT_A_FILE


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.jpg")
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            read_codes(tmp_path / "pipe.jpg")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "opening the pipe blocked"
    assert isinstance(errors[0], ImageReadError)
    assert "device, pipe or socket" in str(errors[0])


def test_a_file_larger_than_any_photo_is_refused_with_its_size(sparse: Path) -> None:
    with pytest.raises(ImageReadError) as refused:
        read_codes(sparse)
    assert refused.value.message.startswith("The file v.jpg is 2,048 MB, larger than the 200 MB")
    for action in (inspect_image, lambda p: privacy_copy(p, sparse.with_name("copy.jpg"))):
        with pytest.raises(PhotoError) as photo:
            action(sparse)
        assert photo.value.problem is PhotoProblem.FILE_TOO_BIG
        assert "2,048 MB" in str(photo.value)
    assert not sparse.with_name("copy.jpg").exists()


def test_a_file_at_the_size_limit_is_still_opened(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    Image.new("L", (64, 48), 200).save(path)
    with path.open("r+b") as file:  # a photo with a long trailer, exactly at the limit
        file.truncate(MAX_FILE_BYTES)
    assert read_codes(path).codes == ()


@needs_proc
def test_refusing_a_huge_file_reads_none_of_it(sparse: Path) -> None:
    for action in ("decode", "inspect"):
        result = measured(sparse, action)
        assert "2,048 MB" in str(result["error"])
        assert float(str(result["peak"])) < 250, result  # reading it would take 2 GB


def test_decode_on_the_command_line_refuses_a_device(tmp_path: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    env = {k: v for k, v in os.environ.items() if k != "FIELDOPS_DATA_DIR"}
    done = subprocess.run(
        [sys.executable, "-m", "fieldops", "--data-dir", str(tmp_path / "data"), "decode",
         "/dev/zero"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "device, pipe or socket" in done.stderr


def test_pixel_limits_follow_what_the_decode_costs() -> None:
    assert pixel_limit("RGB", "JPEG", 120_000_000) == 120_000_000  # straight to grey
    assert pixel_limit("L", "PNG", 120_000_000) == 120_000_000
    assert pixel_limit("RGB", "PNG", 120_000_000) == DECODE_BUDGET_BYTES // 5
    assert pixel_limit("RGBA", "PNG", 120_000_000) < pixel_limit("RGB", "PNG", 120_000_000)
    assert pixel_limit("RGB", "HEIF", 120_000_000) >= 48_000_000  # a 48 MP phone photo


def test_a_colour_png_over_its_limit_is_refused_with_the_count(tmp_path: Path) -> None:
    Image.new("RGB", (9000, 7000), (200, 200, 200)).save(tmp_path / "wide.png")
    with pytest.raises(ImageTooLargeError) as refused:
        read_codes(tmp_path / "wide.png")
    assert refused.value.pixels == 63_000_000
    assert "63,000,000 pixels, more than the 60,000,000" in refused.value.message


def _photo_108mp(path: Path) -> None:
    """A 12000 x 9000 colour JPEG with a small Code 128 label near a corner."""
    photo = Image.new("RGB", (12000, 9000), (118, 118, 118))
    bars = symbol("5CG1234OLD", "Code128", 3)
    photo.paste(bars.convert("RGB"), (11000, 8600))
    ImageDraw.Draw(photo).rectangle((1000, 1000, 5000, 4000), fill=(160, 90, 60))
    photo.save(path, quality=85)


@pytest.mark.slow
@needs_proc
def test_c13_a_108mp_photo_decodes_under_500_mb(tmp_path: Path) -> None:
    _photo_108mp(tmp_path / "108.jpg")
    found = measured(tmp_path / "108.jpg")
    assert found["codes"] == ["5CG1234OLD"], found
    assert float(str(found["peak"])) < 500, found
    Image.new("RGB", (12000, 9000), (120, 130, 140)).save(tmp_path / "flat.jpg")
    nothing = measured(tmp_path / "flat.jpg")  # no code: every pass runs, every copy is made
    assert nothing["codes"] == [] and "full-2d" in nothing["passes"], nothing
    assert float(str(nothing["peak"])) < 500, nothing


@pytest.mark.slow
@needs_proc
def test_a_48mp_heic_decodes_under_500_mb(tmp_path: Path) -> None:
    photo = Image.new("RGB", (8000, 6000), (118, 118, 118))
    photo.paste(symbol("5CG1234OLD", "Code128", 3).convert("RGB"), (7000, 5600))
    photo.save(tmp_path / "48.heic", quality=60)
    found = measured(tmp_path / "48.heic")
    assert found["codes"] == ["5CG1234OLD"], found
    assert float(str(found["peak"])) < 500, found
