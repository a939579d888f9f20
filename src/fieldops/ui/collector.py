"""Python's cycle collector, run on the GUI thread only.

Qt objects must be destroyed on the thread they live on. Left alone, Python's collector runs
on whichever thread happens to allocate when a threshold is crossed, often a background lane,
and collecting a cycle there that holds a widget crashes the process. So automatic collection
is turned off while the window runs and a timer collects on the GUI thread instead.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

INTERVAL_MS = 5_000
_installed: list[MainThreadCollector] = []


class MainThreadCollector(QObject):
    """Collects garbage every few seconds from the GUI thread's event loop."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    def collect(self) -> None:
        """Collects now (also called when a window closes)."""
        found = gc.collect()
        if found > 10_000:
            log.debug("collected %d objects", found)


def install(parent: QObject) -> MainThreadCollector:
    """The one collector of the application, made on first use."""
    if not _installed:
        _installed.append(MainThreadCollector(parent))
    return _installed[0]
