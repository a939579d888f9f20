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


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated data directory with the demo catalogue, built once per test run."""
    from tests.support.workspaces import build_demo_template

    return build_demo_template(tmp_path_factory.mktemp("template") / "data", DEMO)


@pytest.fixture
def demo_data_dir(demo_template: Path, tmp_path: Path):
    """A private copy of the demo data directory for one test."""
    from tests.support.workspaces import copy_data_dir

    return copy_data_dir(demo_template, tmp_path / "data")


@pytest.fixture
def demo_workspace(demo_data_dir):
    """An open workspace on a private copy of the demo data."""
    from fieldops.services.workspace import Workspace

    workspace = Workspace(demo_data_dir)
    yield workspace
    workspace.close()


@pytest.fixture
def open_window(qtbot, tmp_path: Path):
    """Opens a real main window on a data directory and waits until its database is open."""
    from PySide6.QtCore import QSettings

    from fieldops.ui.main_window import MainWindow

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qs"))
    opened: list[MainWindow] = []

    def _open(data_dir):
        window = MainWindow(data_dir)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.workspace_ready, timeout=20_000):
            window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        window.focus_scan()
        opened.append(window)
        return window

    yield _open
    for window in opened:
        window.lanes.wait(10_000)
