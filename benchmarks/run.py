"""Runs every benchmarks/bench_*.py and writes one table of results.

Each benchmark module has `run() -> list[Measure]`. Each module's figures are kept in
benchmarks/results/<name>.json; the table of all of them goes to stdout and to
benchmarks/results/latest.md. `python -m benchmarks.run NAME ...` runs only the named ones and
keeps the others' last figures in the table.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path

from benchmarks.common import Measure

RESULTS = Path(__file__).parent / "results" / "latest.md"


def discover(only: list[str]) -> list[str]:
    """Module names of the benchmarks to run, in name order."""
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    if only:
        names = [n for n in names if any(o in n for o in only)]
    return names


def table(rows: list[tuple[str, Measure]]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| benchmark | measure | value | unit | target | met |",
        "| --- | --- | ---: | --- | --- | --- |",
    ]
    for module, m in rows:
        met = "" if m.ok is None else ("yes" if m.ok else "NO")
        lines.append(
            f"| {module} | {m.name} | {m.value:,.3f} | {m.unit} | {m.target or ''} | {met} |"
        )
    return "\n".join(lines)


def _save(name: str, measures: list[Measure]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = {"measured_at": time.strftime("%Y-%m-%d %H:%M"), "measures": [
        dataclasses.asdict(m) for m in measures
    ]}  # fmt: skip
    (RESULTS.parent / f"{name}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")


def _load_all() -> list[tuple[str, Measure]]:
    rows = []
    for path in sorted(RESULTS.parent.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        rows += [(path.stem, Measure(**m)) for m in data["measures"]]
    return rows


def main(argv: list[str]) -> int:
    failed = False
    for name in discover(argv):
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        measures = module.run()
        failed |= any(m.ok is False for m in measures)
        _save(name.removeprefix("bench_"), measures)
        print(f"  {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    rows = _load_all()
    header = (
        f"Measured on {platform.machine()} with {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}.\n\n"
    )
    text = header + table(rows) + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
