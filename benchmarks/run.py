"""Runs every benchmarks/bench_*.py and writes one table of results.

Each benchmark module has `run() -> list[Measure]`. The table goes to stdout and to
benchmarks/results/latest.md; `python -m benchmarks.run NAME ...` runs only the named ones.
"""

from __future__ import annotations

import importlib
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


def main(argv: list[str]) -> int:
    rows: list[tuple[str, Measure]] = []
    for name in discover(argv):
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        for measure in module.run():
            rows.append((name.removeprefix("bench_"), measure))
        print(f"  {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    header = (
        f"Measured on {platform.machine()} with {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}.\n\n"
    )
    text = header + table(rows) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    return 0 if all(m.ok is not False for _, m in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
