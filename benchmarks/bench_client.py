"""The desktop client on the demo catalogue: import time, lookup latency, first paint."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Measure, percentile
from fieldops.resources import demo_dir
from fieldops.services.datadir import DataDir
from fieldops.services.workspace import Workspace

LOOKUPS = 5000
STARTS = 5


def _import(root: Path) -> tuple[Workspace, float, float]:
    workspace = Workspace(DataDir(root))
    started = time.perf_counter()
    workspace.catalogue.import_file(demo_dir() / "catalogue-snipeit.csv")
    assets = time.perf_counter() - started
    workspace.catalogue.import_file(demo_dir() / "catalogue-netbox.csv")
    started = time.perf_counter()
    workspace.catalogue.import_file(demo_dir() / "components.csv")
    return workspace, assets, time.perf_counter() - started


def _codes() -> list[str]:
    rows = (demo_dir() / "catalogue-snipeit.csv").read_text().splitlines()[1:]
    parts = (demo_dir() / "components.csv").read_text().splitlines()[1:]
    tags = [r.split(",")[2] for r in rows]
    serials = [r.split(",")[3] for r in rows]
    comps = [p.split(",")[-1] for p in parts]
    rng = random.Random(7)
    pool = tags + [t.lower() for t in tags] + serials + comps + [f"NOPE-{i}" for i in range(500)]
    return [rng.choice(pool) for _ in range(LOOKUPS)]


def _lookups(workspace: Workspace) -> list[float]:
    samples = []
    for code in _codes():
        started = time.perf_counter()
        workspace.lookup.lookup(code)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _first_paint(root: Path) -> list[tuple[float, float]]:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    results = []
    for _ in range(STARTS):
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.first_paint", str(root)],
            capture_output=True, text=True, env=env, timeout=120, check=True,
        )  # fmt: skip
        painted, ready = (float(x) for x in out.stdout.split()[-2:])
        results.append((painted, ready))
    return results


def run() -> list[Measure]:
    """Imports the demo catalogue, looks codes up, and starts the window a few times."""
    with tempfile.TemporaryDirectory() as tmp:
        workspace, assets_s, components_s = _import(Path(tmp) / "data")
        samples = _lookups(workspace)
        workspace.close()
        starts = _first_paint(Path(tmp) / "data")
    paints = sorted(p for p, _ in starts)
    readies = sorted(r for _, r in starts)
    return [
        Measure("import 2,000-row Snipe-IT catalogue", assets_s, "s"),
        Measure("import 9,576-row components file", components_s, "s"),
        Measure("lookup p50 (service layer, 2,400 assets)", percentile(samples, 50), "ms"),
        Measure("lookup p99 (service layer, 2,400 assets)", percentile(samples, 99), "ms"),
        Measure("start to first painted window (median of 5)", paints[len(paints) // 2], "s"),
        Measure("start to database open (median of 5)", readies[len(readies) // 2], "s"),
    ]
