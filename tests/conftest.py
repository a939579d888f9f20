"""Test-wide settings: Qt runs offscreen unless a display is given on purpose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "resources" / "demo"
PHOTOS = DEMO / "photos"


@pytest.fixture
def demo_dir() -> Path:
    """The demo catalogue and photos that ship with FieldOps."""
    return DEMO


@pytest.fixture
def photos_dir() -> Path:
    """Sample photos: EXIF-rotated label, QR, GS1 DataMatrix, GPS-tagged, 12 MP, HEIC."""
    return PHOTOS
