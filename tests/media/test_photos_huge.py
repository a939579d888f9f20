"""C18: huge photos are refused from their header or thumbnailed by reduced decoding."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from fieldops.media.photos import (
    PhotoError,
    PhotoProblem,
    inspect_image,
    make_thumbnail,
    privacy_copy,
)
from tests.media.test_photos_samples import huge_png, patched_jpeg

# Measures peak memory in a fresh interpreter, so that nothing the test process did before
# (nor pytest itself) hides a full-size decode. VmHWM is the peak resident size of this
# process image; ru_maxrss would not do, as Linux carries it over from the parent.
_MEASURE = r"""
import json, sys, time
from fieldops.media.photos import PhotoError, inspect_image, make_thumbnail

def peak_mib():
    with open("/proc/self/status") as status:
        line = next(l for l in status if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024

results = {"baseline": peak_mib(), "refused": [], "seconds": {}}
for path in sys.argv[2:]:
    for action in (inspect_image, make_thumbnail):
        started = time.perf_counter()
        try:
            action(path)
            results["refused"].append(None)
        except PhotoError as exc:
            results["refused"].append(str(exc))
        results["seconds"][f"{action.__name__} {path}"] = time.perf_counter() - started
results["after_refusals"] = peak_mib()
started = time.perf_counter()
results["thumbnail_bytes"] = len(make_thumbnail(sys.argv[1]))
results["seconds"]["thumbnail"] = time.perf_counter() - started
results["after_thumbnail"] = peak_mib()
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def huge(tmp_path_factory):
    """(a) a real 50 MP JPEG, (b) a 200 MP and (c) a 108 MP JPEG header, (d) a 30000² PNG."""
    folder = tmp_path_factory.mktemp("huge")
    fifty = Image.new("RGB", (8660, 5774), (90, 110, 140))
    ImageDraw.Draw(fifty).rectangle((1000, 1000, 7000, 4000), fill=(200, 60, 40))
    fifty.save(folder / "50mp.jpg", quality=80)
    del fifty
    return {
        "50mp": folder / "50mp.jpg",
        "200mp": patched_jpeg(folder / "200mp.jpg", 16320, 12240),
        "108mp": patched_jpeg(folder / "108mp.jpg", 12000, 9000),
        "30000": huge_png(folder / "30000x30000.png"),
    }


def test_huge_photos_are_refused_from_the_header_with_their_size(huge):
    for name, size in (("200mp", "16320 × 12240"), ("30000", "30000 × 30000")):
        for action in (inspect_image, make_thumbnail):
            started = time.perf_counter()
            with pytest.raises(PhotoError) as refused:
                action(huge[name])
            assert time.perf_counter() - started < 1.0
            assert refused.value.problem is PhotoProblem.TOO_LARGE
            assert str(refused.value).startswith(f"The picture is {size} pixels (")
            assert "too large to open safely" in str(refused.value)


def test_refused_photo_writes_no_copy(huge, tmp_path):
    with pytest.raises(PhotoError, match="900 million"):
        privacy_copy(huge["30000"], tmp_path / "copy.png")

    assert list(tmp_path.iterdir()) == []


def test_a_photo_just_under_the_limit_is_read_without_pillows_bomb_warning(huge):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow warns above 89 MP when its own open is used
        info = inspect_image(huge["108mp"])

    assert (info.width, info.height, info.pixel_count) == (12000, 9000, 108_000_000)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_peak_memory_stays_small_for_refusals_and_the_50mp_thumbnail(huge):
    """A full decode would need 600+ MB (200 MP), 900 MB (the PNG) or 150 MB (50 MP)."""
    command = [
        sys.executable,
        "-c",
        _MEASURE,
        str(huge["50mp"]),
        str(huge["200mp"]),
        str(huge["30000"]),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    measured = json.loads(done.stdout)

    assert all(measured["refused"]), measured
    assert measured["after_refusals"] - measured["baseline"] < 30, measured
    assert measured["after_thumbnail"] - measured["baseline"] < 60, measured
    assert measured["thumbnail_bytes"] > 1000


def test_50mp_thumbnail_is_the_right_shape(huge):
    thumbnail = Image.open(io.BytesIO(make_thumbnail(huge["50mp"])))

    assert thumbnail.size == (320, 213)
    assert thumbnail.getpixel((160, 106))[0] > 150  # the red block in the middle
