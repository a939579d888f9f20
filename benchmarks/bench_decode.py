"""Barcode decoding: the 12 MP sample photo, a small label photo, and large-photo passes.

Times are whole calls of `read_codes` on a file (read, decode at the needed scale, every pass
until a code is found). Peak memory of the 48 MP case is measured in a fresh interpreter as
the growth of its peak resident size over the size just before the call.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image

from benchmarks.common import Measure, percentile
from fieldops.media.barcodes import read_codes

PHOTOS = Path(__file__).resolve().parents[1] / "resources" / "demo" / "photos"

_PEAK = r"""
import json, sys, time
from fieldops.media.barcodes import read_codes

def peak_mib():
    try:
        with open("/proc/self/status") as status:
            line = next(l for l in status if l.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    except OSError:
        import resource
        scale = 1024 * 1024 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale

before = peak_mib()
started = time.perf_counter()
report = read_codes(sys.argv[1])
print(json.dumps({
    "seconds": time.perf_counter() - started,
    "peak_growth_mib": peak_mib() - before,
    "texts": [code.text for code in report.codes],
}))
"""


def _samples_ms(path: Path, repeat: int, expected: str) -> list[float]:
    report = read_codes(path)  # warm up: codec set-up and the file cache
    assert [code.text for code in report.codes] == [expected], report
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        read_codes(path)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _camera_photo(path: Path, size: tuple[int, int], label_width: int) -> None:
    """A camera-like photo (noise over a gradient) with a Code 128 label in a corner."""
    width, height = size
    noise = Image.effect_noise(size, 20)
    photo = Image.blend(noise, Image.linear_gradient("L").resize(size), 0.6)
    bars = Image.fromarray(
        np.array(
            zxingcpp.create_barcode("5CG1234OLD", zxingcpp.BarcodeFormat.Code128).to_image(scale=3)
        )
    )
    label = Image.new("L", (label_width, bars.height + 60), 255)
    label.paste(bars, ((label_width - bars.width) // 2, 30))
    photo.paste(label, (width - label_width - 100, height - label.height - 100))
    photo.save(path, quality=88)


def _fresh_process(path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def run() -> list[Measure]:
    """Decode timings and the large-photo peak memory."""
    measures: list[Measure] = []
    rack = _samples_ms(PHOTOS / "rack-12mp.jpg", 30, "IT-000008")
    p95 = percentile(rack, 95)
    measures += [
        Measure("12 MP sample photo, one code: median", statistics.median(rack), "ms"),
        Measure("12 MP sample photo, one code: p95", p95, "ms", "< 300 ms", p95 < 300),
    ]
    label = _samples_ms(PHOTOS / "branch-qr-label.jpg", 30, "013231")
    measures.append(
        Measure("small label photo (fast pass): median", statistics.median(label), "ms")
    )
    with tempfile.TemporaryDirectory() as folder:
        twelve = Path(folder) / "camera-12mp.jpg"
        _camera_photo(twelve, (4000, 3000), 700)
        camera = _samples_ms(twelve, 10, "5CG1234OLD")
        worst = percentile(camera, 95)
        measures.append(
            Measure(
                "12 MP camera-like photo, small label: p95", worst, "ms", "< 300 ms", worst < 300
            )
        )
        big = Path(folder) / "camera-48mp.jpg"
        _camera_photo(big, (8000, 6000), 700)
        figures = _fresh_process(big)
        seconds = float(figures["seconds"])  # type: ignore[arg-type]
        peak = float(figures["peak_growth_mib"])  # type: ignore[arg-type]
        assert figures["texts"] == ["5CG1234OLD"], figures
        measures += [
            Measure("48 MP photo, 3 px/module code in a corner", seconds * 1000, "ms", "< 3000 ms",
                    seconds < 3),
            Measure("48 MP photo: peak memory growth", peak, "MiB", "< 500 MiB", peak < 500),
        ]  # fmt: skip
    return measures
