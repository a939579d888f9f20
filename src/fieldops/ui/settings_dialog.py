"""Settings (Edit > Settings…, Ctrl+,): a list of pages on the left, the page on the right.

The first page is Scanner (`fieldops.ui.scanner_page`); later pages are added with
`SettingsDialog.add_page`. `install(window)` puts Settings in the window's Edit menu and shows,
in the status bar, what the scanner profile corrected in each scan and when an input method
is composing a scanner's keys.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QListWidget,
    QMenu,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from fieldops.services.lookup import LookupResult
from fieldops.services.scanner_setup import ScannerSetup
from fieldops.ui.lanes import Lanes
from fieldops.ui.scan_field import InputMethodWatch, ime_warning
from fieldops.ui.scanner_page import ScannerPage

if TYPE_CHECKING:
    from fieldops.ui.main_window import MainWindow

log = logging.getLogger(__name__)

SHORTCUT = "Ctrl+,"
MESSAGE_MS = 10_000


class SettingsDialog(QDialog):
    """FieldOps' settings, one page per subject."""

    def __init__(self, scanner: ScannerSetup, lanes: Lanes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self.pages = QListWidget()
        self.pages.setFixedWidth(150)
        self.stack = QStackedWidget()
        self.pages.currentRowChanged.connect(self.stack.setCurrentIndex)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        body = QHBoxLayout()
        body.addWidget(self.pages)
        body.addWidget(self.stack, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)
        self.scanner_page = ScannerPage(scanner, lanes)
        self.add_page(self.tr("Scanner"), self.scanner_page)
        self.pages.setCurrentRow(0)
        self.resize(1160, 700)

    def add_page(self, title: str, page: QWidget) -> None:
        """Adds a page under `title` at the end of the list."""
        self.pages.addItem(title)
        self.stack.addWidget(page)
        self.pages.setVisible(self.pages.count() > 1)  # one page needs no list

    def scan_received(self, code: str) -> None:
        """A scan that arrived outside the capture area and the Try field: it is tried."""
        self.scanner_page.scan_received(code)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.scanner_page.capture.setFocus(Qt.FocusReason.OtherFocusReason)


def _tr(text: str) -> str:
    return QCoreApplication.translate("Settings", text)


def install(window: MainWindow) -> None:
    """Adds Edit > Settings… (Ctrl+,) and the scanner messages to the window."""
    action = QAction(_tr("&Settings…"), window)
    action.setShortcut(QKeySequence(SHORTCUT))
    action.setMenuRole(QAction.MenuRole.PreferencesRole)
    action.setEnabled(window.workspace is not None)
    action.triggered.connect(lambda: open_settings(window))
    _edit_menu(window).addAction(action)
    window.workspace_ready.connect(lambda: _ready(window, action))
    if window.workspace is not None:
        _ready(window, action)
    window.lookup_shown.connect(lambda result: _show_scan_notes(window, result))
    window.scan_field.input_method_active.connect(
        lambda message: window.status.showMessage(message, MESSAGE_MS)
    )
    watch = InputMethodWatch(window)  # a child: removed from the application with the window
    watch.input_method_active.connect(
        lambda _widget: window.status.showMessage(ime_warning(), MESSAGE_MS)
    )
    app = QApplication.instance()
    if isinstance(app, QApplication):
        app.installEventFilter(watch)


def _edit_menu(window: MainWindow) -> QMenu:
    """The window's Edit menu, added after File when there is none."""
    bar = window.menuBar()
    actions = bar.actions()
    for action in actions:
        if action.text().replace("&", "") == "Edit" and action.menu() is not None:
            menu = action.menu()
            assert isinstance(menu, QMenu)
            return menu
    menu = QMenu(_tr("&Edit"), window)
    after_file = next(
        (i + 1 for i, a in enumerate(actions) if a.text().replace("&", "") == "File"), 0
    )
    if after_file < len(actions):
        bar.insertMenu(actions[after_file], menu)
    else:
        bar.addMenu(menu)
    return menu


def _ready(window: MainWindow, action: QAction) -> None:
    action.setEnabled(True)
    workspace = window.workspace
    if workspace is not None and workspace.scanner.problem:
        window.status.showMessage(workspace.scanner.problem, 15_000)


def open_settings(window: MainWindow) -> SettingsDialog | None:
    """Opens Settings on the Scanner page; None while the data directory is not open."""
    if window.workspace is None:
        return None
    dialog = SettingsDialog(window.workspace.scanner, window.lanes, window)
    _track(window, dialog)
    dialog.open()
    return dialog


def _track(window: MainWindow, dialog: SettingsDialog) -> None:
    """Lets the window route scans to the open dialog, and refocus the scan field after it."""
    window.track_dialog(dialog)


def _show_scan_notes(window: MainWindow, result: LookupResult) -> None:
    """Says in the status bar what the scanner profile corrected, or that an IME interfered."""
    if result.misread:
        if "input method" in result.misread.lower():
            window.status.showMessage(ime_warning(), MESSAGE_MS)
        return
    if not result.warnings:
        return
    notes = "; ".join(result.warnings)
    if result.card is not None:
        text = _tr("{tag}: {notes}.").format(tag=result.card.asset_tag, notes=notes)
    else:
        text = _tr("Not found: {code} ({notes}).").format(code=result.code, notes=notes)
    window.status.showMessage(text, MESSAGE_MS)
