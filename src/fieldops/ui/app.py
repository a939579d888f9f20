"""Starting the window: the Qt application, settings, translations and the main window."""

from __future__ import annotations

import logging
import os
import signal
import sys

from PySide6.QtCore import QLibraryInfo, QLocale, QSettings, QTimer, QTranslator
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from fieldops.logsetup import route_qt_messages
from fieldops.resources import resources_dir
from fieldops.services.datadir import DataDir

log = logging.getLogger(__name__)


def _no_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def configure_application(app: QApplication, data_dir: DataDir) -> None:
    """Names, settings file in the data directory, translations and the icon."""
    # A background lane in a long stretch of Python (an import parsing a million rows) keeps
    # the interpreter lock for up to this long before the GUI thread gets a turn; the default
    # 5 ms let keys and paints wait several turns in a row on a busy machine.
    sys.setswitchinterval(0.001)
    app.setOrganizationName("FieldOps")
    app.setApplicationName("FieldOps")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(data_dir.root / "settings")
    )
    locale = QLocale.system()
    for folder, prefix in (
        (QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath), "qtbase"),
        (str(resources_dir() / "translations"), "fieldops"),
    ):
        translator = QTranslator(app)
        if translator.load(locale, prefix, "_", folder):
            app.installTranslator(translator)
    icon = resources_dir() / "icons" / "fieldops.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


def run_window(data_dir: DataDir) -> int:
    """Opens the main window on a data directory and runs until it is closed."""
    if _no_display():
        log.error("no display: DISPLAY and WAYLAND_DISPLAY are not set")
        # The person started the window from a terminal: the answer belongs there too.
        print(
            "fieldops: no display was found (DISPLAY and WAYLAND_DISPLAY are not set). "
            "Run it in a desktop session, or under xvfb-run for a virtual screen.",
            file=sys.stderr,
        )
        return 1
    route_qt_messages()  # before Qt Multimedia loads, which reports missing audio libraries
    from fieldops.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    configure_application(app, data_dir)
    window = MainWindow(data_dir)
    window.show()
    window.focus_scan()
    _close_on_interrupt(window)
    log.info("window shown")
    return app.exec()


def _close_on_interrupt(window: QWidget) -> None:
    """Ctrl+C in the terminal closes the window as its Quit does, with no traceback."""

    def interrupted(_signum: int, _frame: object) -> None:
        log.info("interrupted from the terminal: closing the window")
        window.close()

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    # Python runs signal handlers between its own instructions; while Qt waits for events no
    # Python runs, so a timer hands it a turn a few times a second.
    ticker = QTimer(window)
    ticker.timeout.connect(lambda: None)
    ticker.start(200)
