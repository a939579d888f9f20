"""Window fixtures: the real main window on a private copy of the demo data directory."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from fieldops.services.datadir import DataDir
from fieldops.ui.main_window import MainWindow


@pytest.fixture
def window(open_window, demo_data_dir: DataDir) -> MainWindow:
    """The main window on the demo catalogue."""
    return open_window(demo_data_dir)


def answer_next_message_box(qtbot, button_text: str) -> list[str]:
    """Clicks the button with this text in the next modal message box; returns its text."""
    seen: list[str] = []

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            qtbot_timer()
            return
        seen.append(box.text())
        for button in box.findChildren(QPushButton):
            if button.text().replace("&", "") == button_text:
                button.click()
                return
        raise AssertionError(f"no button {button_text!r} in {box.text()!r}")

    def qtbot_timer() -> None:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(20, click)

    qtbot_timer()
    return seen
