"""Window fixtures: the real main window on a private copy of the demo data directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from fieldops.services.datadir import DataDir
from fieldops.ui.main_window import MainWindow


@pytest.fixture
def open_window(qtbot, tmp_path: Path) -> Iterator[Callable[[DataDir], MainWindow]]:
    """Opens a real main window on a data directory and waits until its database is open."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qs"))
    opened: list[MainWindow] = []

    def _open(data_dir: DataDir) -> MainWindow:
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
