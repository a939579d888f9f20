"""Photo intake: inspect and thumbnail times, and peak memory on 50 and 108 MP photos.

Peak memory is measured in a fresh interpreter per operation, as the growth of its peak
resident size (VmHWM on Linux, ru_maxrss elsewhere) over the size just before the operation,
so Pillow's native allocations count and nothing else done by the benchmark does.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

from benchmarks.common import Measure
from fieldops.media.photos import inspect_image, make_thumbnail, privacy_copy

PHOTOS = Path(__file__).resolve().parents[1] / "resources" / "demo" / "photos"

_PEAK = r"""
import json, sys, time
from fieldops.media import photos

def peak_mib():
    try:
        with open("/proc/self/status") as status:
            line = next(l for l in status if l.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    except OSError:
        import resource
        scale = 1024 * 1024 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale

action, source = sys.argv[1], sys.argv[2]
before = peak_mib()
started = time.perf_counter()
if action == "thumbnail":
    photos.make_thumbnail(source)
elif action == "inspect":
    photos.inspect_image(source)
else:
    photos.privacy_copy(source, sys.argv[3])
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_growth_mib": peak_mib() - before}))
"""

_MAKE_PHOTO = r"""
import sys
from PIL import Image, ImageDraw
width, height, orientation, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
# Camera-like content: sensor noise over a gradient and some hard edges, so the JPEG has
# realistic entropy (a flat image would decode unrealistically fast).
noise = Image.effect_noise((width, height), 24)
gradient = Image.linear_gradient("L").resize((width, height))
photo = Image.merge("RGB", (noise, gradient, Image.blend(noise, gradient, 0.5)))
del noise, gradient
draw = ImageDraw.Draw(photo)
for i in range(40):
    x, y = (i * 7919) % width, (i * 104729) % height
    draw.rectangle((x, y, x + width // 10, y + height // 12), fill=(20 * (i % 12), 80, 200))
exif = Image.Exif()
exif[0x0112] = orientation
photo.save(path, "JPEG", quality=88, exif=exif.tobytes())
"""


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    action()  # warm up: plugin imports and file cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _in_fresh_process(*args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, *args], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def _make_photo(path: Path, width: int, height: int, orientation: int) -> Path:
    command = [sys.executable, "-c", _MAKE_PHOTO, str(width), str(height), str(orientation)]
    subprocess.run([*command, str(path)], check=True)
    return path


def _samples(folder: Path) -> list[Measure]:
    rack, heic = PHOTOS / "rack-12mp.jpg", PHOTOS / "server-front.heic"
    copy = folder / "copy.jpg"
    return [
        Measure(
            "inspect, 12 MP JPEG (p50)",
            _median_ms(lambda: inspect_image(rack), 30),
            "ms",
            "< 10 ms",
            None,
        ),
        Measure(
            "thumbnail, 12 MP JPEG (p50)",
            _median_ms(lambda: make_thumbnail(rack), 15),
            "ms",
            "< 100 ms",
            None,
        ),
        Measure(
            "privacy copy, 12 MP upright JPEG (p50)",
            _median_ms(lambda: privacy_copy(rack, copy), 10),
            "ms",
            "",
            None,
        ),
        Measure(
            "inspect, HEIC 1600x1200 (p50)",
            _median_ms(lambda: inspect_image(heic), 30),
            "ms",
            "< 20 ms",
            None,
        ),
        Measure(
            "thumbnail, HEIC 1600x1200 (p50)",
            _median_ms(lambda: make_thumbnail(heic), 15),
            "ms",
            "< 250 ms",
            None,
        ),
        Measure(
            "privacy copy, HEIC to JPEG (p50)",
            _median_ms(lambda: privacy_copy(heic, copy), 10),
            "ms",
            "",
            None,
        ),
    ]


def _huge(folder: Path) -> list[Measure]:
    fifty = _make_photo(folder / "50mp.jpg", 8660, 5774, 6)
    hundred = _make_photo(folder / "108mp.jpg", 12000, 9000, 6)
    measures = []
    for label, source in (("50 MP", fifty), ("108 MP", hundred)):
        for action in ("inspect", "thumbnail", "copy"):
            got = _in_fresh_process(action, str(source), str(folder / "out.jpg"))
            name = {"copy": "privacy copy", "inspect": "inspect", "thumbnail": "thumbnail"}
            what = f"{name[action]}, {label} JPEG"
            if action == "copy":
                what += " (Orientation=6: decoded and turned)"
            limit = 600 if action == "copy" else 100
            growth = got["peak_growth_mib"]
            measures.append(Measure(f"{what}: time", got["seconds"] * 1000, "ms"))
            measures.append(
                Measure(
                    f"{what}: peak memory growth", growth, "MiB", f"< {limit} MiB", growth < limit
                )
            )
    return measures


def _refusal(folder: Path) -> Measure:
    path = folder / "200mp.jpg"
    small = Image.new("RGB", (64, 48), "gray")
    ImageDraw.Draw(small).line((0, 0, 63, 47), fill="white")
    small.save(path, "JPEG")
    data = bytearray(path.read_bytes())
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = (12240).to_bytes(2, "big") + (16320).to_bytes(2, "big")
    path.write_bytes(bytes(data))

    def refuse() -> None:
        try:
            inspect_image(path)
        except Exception:  # the refusal is the expected outcome being timed
            return

    ms = _median_ms(refuse, 30)
    return Measure("refusal of a 200 MP JPEG from its header (p50)", ms, "ms", "< 5 ms", ms < 5)


def run() -> list[Measure]:
    """Time the photo operations on the demo photos and on generated 50 and 108 MP photos."""
    with tempfile.TemporaryDirectory(prefix="bench-photos-") as name:
        folder = Path(name)
        measures = _samples(folder)
        measures = [
            Measure(m.name, m.value, m.unit, m.target, m.value < float(m.target.split()[1]))
            if m.target
            else m
            for m in measures
        ]
        return [*measures, *_huge(folder), _refusal(folder)]
