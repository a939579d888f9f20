"""Finding the files that ship with FieldOps: demo catalogue, icons, translations."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """The resources folder, in a source checkout or inside a frozen build."""
    override = os.environ.get("FIELDOPS_RESOURCES")
    if override:
        return Path(override)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def demo_dir() -> Path:
    """The demo catalogue and photos."""
    return resources_dir() / "demo"
