"""What a benchmark reports, and small helpers to measure with."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    """One measured figure, with the target it is held to (if any) and whether it was met."""

    name: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None


def percentile(samples: list[float], pct: float) -> float:
    """The pct-th percentile (0-100) of the samples, by the inclusive method."""
    if len(samples) == 1:
        return samples[0]
    cuts = statistics.quantiles(samples, n=1000, method="inclusive")
    index = min(len(cuts) - 1, max(0, round(pct * 10) - 1))
    return cuts[index]
