"""The GUI-thread collector: young cycles go within a second, every cycle within a minute."""

from __future__ import annotations

import gc
import weakref

from fieldops.ui.collector import FULL_EVERY, MainThreadCollector


class Node:
    """An object that can be part of a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_automatic_collection_stays_off_and_ticks_collect_cycles(qapp) -> None:
    collector = MainThreadCollector()
    try:
        assert not gc.isenabled()
        young = _cycle()
        collector._tick()
        assert young() is None, "a young cycle is collected by the next tick"
        keep = Node()
        keep.other = Node()
        keep.other.other = keep
        old = weakref.ref(keep)
        gc.collect(1)  # still in use: moves on to the oldest generation
        gc.collect(1)
        del keep  # now garbage, but in the generation only full passes look at
        collector._tick()
        assert old() is not None
        for _ in range(FULL_EVERY - 1):
            collector._tick()
        assert old() is None, "the full pass each minute collects old cycles too"
    finally:
        collector._timer.stop()
        collector.deleteLater()
