"""Saves a screenshot of the main window with the demo catalogue and one asset shown.

Run under a real (or virtual) X display: `xvfb-run -a python tools/screenshot.py OUT.png`.
It uses a fresh temporary data directory, so it never touches real data.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from fieldops.domain.incidents import Category, Level, PhysicalSubtype
from fieldops.resources import demo_dir
from fieldops.services.datadir import DataDir
from fieldops.services.incidents import IncidentDraft
from fieldops.services.workspace import Workspace
from fieldops.ui.app import configure_application
from fieldops.ui.main_window import MainWindow

DEMO_FILES = ("catalogue-snipeit.csv", "catalogue-netbox.csv", "components.csv")
TAG = "IT-000217"


def seed(data_dir: DataDir) -> None:
    """Demo catalogue plus two incidents on the asset the screenshot shows."""
    workspace = Workspace(data_dir)
    for name in DEMO_FILES:
        workspace.catalogue.import_file(demo_dir() / name)
    asset = workspace.lookup.lookup(TAG).card
    assert asset is not None
    photos = demo_dir() / "photos"
    workspace.incidents.record(
        IncidentDraft(
            title="Water dripping onto the top of rack R08",
            category=Category.PHYSICAL,
            subtype=PhysicalSubtype.FLOOD,
            impact=Level.HIGH,
            urgency=Level.HIGH,
            asset_id=asset.id,
            reporter="tech01",
            photos=[photos / "water-damage-with-gps.jpg", photos / "asset-label-exif-rotated.jpg"],
        )
    )
    workspace.incidents.record(
        IncidentDraft(
            title="PSU2 amber light, fan noise",
            category=Category.HARDWARE,
            impact=Level.MEDIUM,
            urgency=Level.LOW,
            asset_id=asset.id,
            reporter="tech01",
        )
    )
    workspace.close()


def main(out: str) -> int:
    app = QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = DataDir(Path(tmp) / "data")
        seed(data_dir)
        configure_application(app, data_dir)
        window = MainWindow(data_dir)
        window.show()

        def scan() -> None:
            window.scan_field.setText(TAG)
            window.look_up(TAG)

        def shoot() -> None:
            window.grab().save(out)
            print(f"saved {out}")
            window.close()
            app.quit()

        window.workspace_ready.connect(scan)
        window.lookup_shown.connect(lambda _r: QTimer.singleShot(400, shoot))
        QTimer.singleShot(20_000, app.quit)
        app.exec()
    return 0 if Path(out).is_file() else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "main-window.png"))
