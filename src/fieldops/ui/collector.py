"""Python's cycle collector, run on the GUI thread only.

Qt objects must be destroyed on the thread they live on. Left alone, Python's collector runs
on whichever thread happens to allocate when a threshold is crossed, often a background lane,
and collecting a cycle there that holds a widget crashes the process. So automatic collection
is turned off while the window runs and a timer collects on the GUI thread instead.

A full pass over every object takes 50–300 ms once a large catalogue is being imported,
which the window would show as a stall. So the timer collects young objects every second
(a few milliseconds), the middle generation every five seconds, and everything only once a
minute; and the objects that live as long as the window (modules, Qt wrappers, table
definitions) are frozen out of the passes once the window is up.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

INTERVAL_MS = 1_000
MIDDLE_EVERY = 5  # ticks between collections of the middle generation
FULL_EVERY = 60  # ticks between full collections
_installed: list[MainThreadCollector] = []


class MainThreadCollector(QObject):
    """Collects garbage from the GUI thread's event loop, young objects most often."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        gc.disable()
        self._ticks = 0
        self._frozen = False
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        self._ticks += 1
        if self._ticks % FULL_EVERY == 0:
            generation = 2
        elif self._ticks % MIDDLE_EVERY == 0:
            generation = 1
        else:
            generation = 0
        found = gc.collect(generation)
        if found > 10_000:
            log.debug("collected %d objects (generation %d)", found, generation)

    def collect(self) -> None:
        """Collects everything now (also called when a window closes)."""
        found = gc.collect()
        if found > 10_000:
            log.debug("collected %d objects", found)

    def freeze_startup(self) -> None:
        """Leaves what exists now (it lives as long as the window) out of every later pass.

        Once per process: what a later window leaves behind must stay collectable.
        """
        if self._frozen:
            return
        self._frozen = True
        gc.collect()
        gc.freeze()
        log.debug("%d long-lived objects frozen out of collection", gc.get_freeze_count())


def install(parent: QObject) -> MainThreadCollector:
    """The one collector of the application, made on first use."""
    if not _installed:
        _installed.append(MainThreadCollector(parent))
    return _installed[0]
