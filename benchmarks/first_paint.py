"""Starts the real main window and prints how long until it was first painted.

Run as its own process by bench_client: `python -m benchmarks.first_paint DATA_DIR`. It prints
two numbers, seconds from interpreter start to the first paint and to the database being open.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

STARTED = time.perf_counter()

from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from fieldops.services.datadir import DataDir  # noqa: E402
from fieldops.ui.app import configure_application  # noqa: E402
from fieldops.ui.main_window import MainWindow  # noqa: E402


class PaintWatch(QObject):
    """Notes the first paint of the window."""

    def __init__(self) -> None:
        super().__init__()
        self.painted: float | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.painted is None:
            self.painted = time.perf_counter() - STARTED
        return False


def main(data_dir: str) -> int:
    app = QApplication(sys.argv)
    directory = DataDir(Path(data_dir))
    configure_application(app, directory)
    window = MainWindow(directory)
    watch = PaintWatch()
    window.installEventFilter(watch)
    ready: list[float] = []

    def opened() -> None:
        ready.append(time.perf_counter() - STARTED)
        QTimer.singleShot(50, app.quit)

    window.workspace_ready.connect(opened)
    window.show()
    QTimer.singleShot(30_000, app.quit)
    app.exec()
    window.close()
    print(f"{watch.painted or -1:.4f} {ready[0] if ready else -1:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
