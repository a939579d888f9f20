"""Asking before a form throws away what the person entered."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def may_discard(parent: QWidget, dirty: bool, title: str, text: str) -> bool:
    """Whether the form may close: nothing was entered, or the person chose Discard."""
    if not dirty:
        return True
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Discard
