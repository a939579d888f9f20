"""The Qt binding keeps Python's reference counts straight over a long session.

PySide6 6.12.0 dropped a reference to None on every call of a method returning nothing;
after a few thousand calls Python aborted with "deallocating None". The pin in
pyproject.toml keeps that release out; this test catches any release that brings it back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject
from PySide6.QtGui import QColor


def test_void_methods_leave_none_reference_count_alone() -> None:
    holder, colour = QObject(), QColor()
    before = sys.getrefcount(None)
    for _ in range(400):  # few enough that a leaking binding fails here rather than aborts
        holder.setObjectName("fieldops")
        colour.setRed(3)
    after = sys.getrefcount(None)
    assert abs(after - before) < 100, f"None lost {before - after} references in 800 calls"
