"""A million assets: catalogue import time and peak memory, lookup beside a bare SQLite query.

A generator writes a 1,000,000-row FieldOps catalogue, a components file (four parts in every
fourth asset), a revision of the catalogue (one asset in ten changed) and the same catalogue
as a Snipe-IT export into a temporary folder. Each import runs through the real import service
in a fresh interpreter, which reports the import's wall time and its peak resident size
(`getrusage` high-water mark of the whole process). Then a few hundred incidents are recorded,
and `LookupService.lookup(raw)` is timed on a random mix of tags, serials, component serials
and misses, each followed by the bare indexed query on the same file with `sqlite3`, so both
see the same caches. `FIELDOPS_SCALE_ASSETS` makes a smaller run.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.common import Measure, percentile

ASSETS = int(os.environ.get("FIELDOPS_SCALE_ASSETS", "1000000"))
LOOKUPS = 20_000
WARM_UP = 2_000
INCIDENTS = 300
IMPORT_LIMIT_S = 60.0
PEAK_LIMIT_MIB = 500.0
LOOKUP_P99_MS = 1.0
RATIO_LIMIT = 20.0
BARE_SQL = "SELECT asset_id FROM asset_codes WHERE code = ?"


SITES = [f"DC{n:02d}" for n in range(20)]
MODELS = [
    ("Dell", "PowerEdge R650", "R650-8SFF", "Server"),
    ("HPE", "ProLiant DL380 Gen10", "P20174-B21", "Server"),
    ("Cisco", "Catalyst 9300", "C9300-48P", "Switch"),
    ("APC", "Smart-UPS SRT 3000", "SRT3000RMXLI", "UPS"),
    ("Lenovo", "ThinkPad T14", "20W0", "Laptop"),
]
FIELDOPS_HEADER = (
    "asset_tag,serial,name,manufacturer,model,model_number,category,status,site_code,room,"
    "rack,rack_u,rack_face,notes\n"
)
SNIPEIT_HEADER = (
    "Company,Item Name,Asset Tag,Serial Number,Model Name,Model No.,Manufacturer,Category,"
    "Status,Location,Purchase Date,Warranty Months,Notes\n"
)
# Multiplying by a number prime to 10**k is a bijection modulo 10**k: unique serials that
# look random.
_SPREAD = 2654435761


@dataclass(frozen=True)
class CatalogueSpec:
    """The generated catalogue: which asset has which tag, serial, place and parts."""

    assets: int
    server_every: int = 4
    parts_per_server: int = 4
    revision: int = 0
    """From 1 on, every tenth asset has a new serial and has moved down its rack."""

    @property
    def components(self) -> int:
        """How many component rows the components file holds."""
        servers = (self.assets + self.server_every - 1) // self.server_every
        return servers * self.parts_per_server

    def tag(self, index: int) -> str:
        """The asset tag of asset `index`."""
        return f"FO-{index:07d}"

    def revised(self, index: int) -> bool:
        """Whether this revision of the catalogue changed asset `index`."""
        return self.revision > 0 and index % 10 == 0

    def serial(self, index: int) -> str:
        """The serial of asset `index`."""
        serial = f"SN{index * _SPREAD % 10**10:010d}"
        return f"{serial}R{self.revision}" if self.revised(index) else serial

    def component_serial(self, server: int, part: int) -> str:
        """The serial of part `part` of the server at index `server`."""
        return f"C{(server * self.parts_per_server + part) * _SPREAD % 10**11:011d}"

    def place(self, index: int) -> tuple[str, str, str, int | None, str]:
        """Site, room, rack, rack unit and face; every fifth asset is not in a rack."""
        site = SITES[index % len(SITES)]
        room = f"Room {index // len(SITES) % 10}"
        if index % 5 == 4:
            return site, room, "", None, ""
        rack = f"R{index // 200 % 50:02d}"
        unit = (index + self.revised(index)) % 42 + 1
        return site, room, rack, unit, "front" if index % 2 else "rear"


def write_catalogue(path: Path, spec: CatalogueSpec, *, snipeit: bool = False) -> Path:
    """Writes the catalogue as a FieldOps or Snipe-IT CSV file."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(SNIPEIT_HEADER if snipeit else FIELDOPS_HEADER)
        lines = []
        for index in range(spec.assets):
            lines.append(_snipeit_line(spec, index) if snipeit else _fieldops_line(spec, index))
            if len(lines) == 10_000:
                out.write("".join(lines))
                lines.clear()
        out.write("".join(lines))
    return path


def _fieldops_line(spec: CatalogueSpec, index: int) -> str:
    maker, model, number, category = MODELS[index % len(MODELS)]
    tag = spec.tag(index)
    site, room, rack, unit, face = spec.place(index)
    return (
        f"{tag},{spec.serial(index)},{model} {tag},{maker},{model},{number},{category},"
        f"Deployed,{site},{room},{rack},{'' if unit is None else unit},{face},\n"
    )


def _snipeit_line(spec: CatalogueSpec, index: int) -> str:
    maker, model, number, category = MODELS[index % len(MODELS)]
    tag = spec.tag(index)
    site, room, rack, unit, face = spec.place(index)
    where = f"{site} / {room} / {rack}" if rack else f"{site} / {room}"
    notes = f"U{unit} {face}" if unit else ""
    return (
        f"Example Corp,{model} {tag},{tag},{spec.serial(index)},{model},{number},{maker},"
        f"{category},Deployed,{where},2024-03-01,36,{notes}\n"
    )


def write_components(path: Path, spec: CatalogueSpec) -> Path:
    """Writes the components file: two PSUs and two disks in every server."""
    kinds = [("psu", "PSU1"), ("psu", "PSU2"), ("disk", "Bay 0"), ("disk", "Bay 1")]
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("asset_tag,kind,slot,model,serial\n")
        lines = []
        for server in range(0, spec.assets, spec.server_every):
            tag = spec.tag(server)
            for part in range(spec.parts_per_server):
                kind, slot = kinds[part % len(kinds)]
                model = "Delta 800W" if kind == "psu" else "Samsung PM893"
                lines.append(f"{tag},{kind},{slot},{model},{spec.component_serial(server, part)}\n")
            if len(lines) >= 10_000:
                out.write("".join(lines))
                lines.clear()
        out.write("".join(lines))
    return path


_IMPORT = r"""
import json, resource, sys, time
from pathlib import Path
from fieldops.services.datadir import DataDir
from fieldops.services.workspace import Workspace

def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

workspace = Workspace(DataDir(Path(sys.argv[1])))
calls = []
before = peak_mib()
started = time.perf_counter()
report = workspace.catalogue.import_file(
    Path(sys.argv[2]), progress=lambda done, total: calls.append(done), cancelled=lambda: False
)
seconds = time.perf_counter() - started
workspace.close()
print(json.dumps({
    "seconds": seconds,
    "peak_mib": peak_mib(),
    "before_mib": before,
    "created": report.created,
    "updated": report.updated,
    "unchanged": report.unchanged,
    "progress_calls": len(calls),
}))
"""


def _import(root: Path, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT, str(root), str(path)],
        capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"import of {path.name} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {path.name}: {result}", file=sys.stderr, flush=True)
    return result


def _import_measures(label: str, result: dict[str, float], rows: int) -> list[Measure]:
    seconds, peak = result["seconds"], result["peak_mib"]
    return [
        Measure(
            f"import {label} ({rows:,} rows): time",
            seconds,
            "s",
            f"< {IMPORT_LIMIT_S:.0f} s",
            seconds < IMPORT_LIMIT_S,
        ),
        Measure(
            f"import {label}: peak RSS of the process",
            peak,
            "MiB",
            f"< {PEAK_LIMIT_MIB:.0f} MiB",
            peak < PEAK_LIMIT_MIB,
        ),
    ]


def _record_incidents(root: Path, spec: CatalogueSpec) -> None:
    """Some assets get incidents, so their cards carry incident lines."""
    from fieldops.domain.identifiers import catalogue_asset_id
    from fieldops.domain.incidents import Category, Level
    from fieldops.services.datadir import DataDir
    from fieldops.services.incidents import IncidentDraft
    from fieldops.services.workspace import Workspace

    workspace = Workspace(DataDir(root))
    rng = random.Random(11)
    for number in range(INCIDENTS):
        tag = spec.tag(rng.randrange(spec.assets))
        workspace.incidents.record(
            IncidentDraft(
                title=f"Fan noise {number}",
                category=Category.HARDWARE,
                impact=Level.LOW,
                urgency=Level.MEDIUM,
                asset_id=catalogue_asset_id(tag),
            )
        )
    workspace.close()


def _scans(spec: CatalogueSpec, count: int, seed: int) -> list[tuple[str, str]]:
    """(what the scanner typed, the code key a bare query looks for) pairs, mixed kinds."""
    from fieldops.domain.identifiers import code_key

    rng = random.Random(seed)
    scans = []
    for _ in range(count):
        index = rng.randrange(spec.assets)
        pick = rng.random()
        if pick < 0.25:
            code = raw = spec.tag(index)
        elif pick < 0.35:
            code = spec.tag(index)
            raw = code.lower() + "\r"
        elif pick < 0.40:
            code = spec.tag(index)
            raw = "]C0" + code  # a scanner that sends AIM identifiers
        elif pick < 0.65:
            code = raw = spec.serial(index)
        elif pick < 0.90:
            server = index - index % spec.server_every
            code = raw = spec.component_serial(server, rng.randrange(spec.parts_per_server))
        else:
            code = raw = f"NOPE-{rng.randrange(10**9):09d}"
        scans.append((raw, code_key(code)))
    return scans


def _lookups(root: Path, spec: CatalogueSpec) -> tuple[list[float], list[float], int]:
    """Lookup and bare-query times in ms, side by side, and how many lookups found an asset."""
    import sqlite3

    from fieldops.services.datadir import DataDir
    from fieldops.services.workspace import Workspace

    workspace = Workspace(DataDir(root))
    bare = sqlite3.connect(workspace.data_dir.database)
    lookup = workspace.lookup.lookup
    for raw, key in _scans(spec, WARM_UP, seed=1):  # warms the interpreter and connections only
        lookup(raw)
        bare.execute(BARE_SQL, (key,)).fetchall()
    service_ms, bare_ms, found = [], [], 0
    clock = time.perf_counter
    for raw, key in _scans(spec, LOOKUPS, seed=2):
        started = clock()
        result = lookup(raw)
        middle = clock()
        bare.execute(BARE_SQL, (key,)).fetchall()
        ended = clock()
        service_ms.append((middle - started) * 1000)
        bare_ms.append((ended - middle) * 1000)
        found += result.found
    bare.close()
    workspace.close()
    return service_ms, bare_ms, found


def _lookup_measures(service: list[float], bare: list[float], found: int) -> list[Measure]:
    s50, s99 = percentile(service, 50), percentile(service, 99)
    b50, b99 = percentile(bare, 50), percentile(bare, 99)
    return [
        Measure("lookup p50 (service layer)", s50, "ms"),
        Measure("lookup p99 (service layer)", s99, "ms", f"< {LOOKUP_P99_MS} ms", s99 < 1.0),
        Measure("bare sqlite3 point query p50", b50, "ms"),
        Measure("bare sqlite3 point query p99", b99, "ms"),
        Measure("lookup / bare query, p50", s50 / b50, "x"),
        Measure(
            "lookup / bare query, p99",
            s99 / b99,
            "x",
            f"< {RATIO_LIMIT:.0f} x",
            s99 / b99 < RATIO_LIMIT,
        ),
        Measure("lookups that found an asset", 100 * found / len(service), "%"),
    ]


def run() -> list[Measure]:
    """Generates the catalogue, imports it, re-imports a revision of it, and times lookups."""
    spec = CatalogueSpec(assets=ASSETS)
    revised = replace(spec, revision=1)
    changed = len(range(0, spec.assets, 10))
    with tempfile.TemporaryDirectory(prefix="fieldops-scale-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        catalogue = write_catalogue(folder / "catalogue.csv", spec)
        components = write_components(folder / "components.csv", spec)
        revision = write_catalogue(folder / "revision.csv", revised)
        snipeit = write_catalogue(folder / "snipeit.csv", spec, snipeit=True)
        generated = time.perf_counter() - started
        print(f"  generated in {generated:.1f} s", file=sys.stderr, flush=True)
        root = folder / "data"
        first = _import(root, catalogue)
        assert first["created"] == spec.assets, first
        parts = _import(root, components)
        assert parts["created"] == spec.components, parts
        again = _import(root, revision)
        assert (again["updated"], again["unchanged"]) == (changed, spec.assets - changed), again
        other = _import(folder / "snipeit-data", snipeit)
        assert other["created"] == spec.assets, other
        _record_incidents(root, revised)
        service, bare, found = _lookups(root, revised)
    return [
        *_import_measures("FieldOps CSV into an empty database", first, spec.assets),
        *_import_measures("components", parts, spec.components),
        *_import_measures(f"FieldOps CSV again, {changed:,} rows changed", again, spec.assets),
        *_import_measures("Snipe-IT CSV into an empty database", other, spec.assets),
        *_lookup_measures(service, bare, found),
    ]
