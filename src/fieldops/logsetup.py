"""Logging for the entry points: a rotating file in the data directory, secrets scrubbed."""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

LOG_FILE = "fieldops.log"
_SECRET = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(bearer\s+)?|token[\"']?\s*[:=]\s*[\"']?|"
    r"password[\"']?\s*[:=]\s*[\"']?)([^\s\"',;]+)"
)


class ScrubSecrets(logging.Filter):
    """Replaces anything that looks like a token or password in a record with ***."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _SECRET.sub(lambda m: m.group(1) + "***", message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure(log_dir: Path, *, level: int = logging.INFO, console: bool = False) -> Path:
    """Sends every module's log to `log_dir/fieldops.log` (5 files of 2 MB); returns its path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_fieldops", False):
            root.removeHandler(handler)
            handler.close()
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    )
    handler.addFilter(ScrubSecrets())
    handler._fieldops = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if console:
        stream = logging.StreamHandler()
        stream.setLevel(logging.WARNING)
        stream.addFilter(ScrubSecrets())
        stream._fieldops = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    root.setLevel(level)
    return path


def route_qt_messages() -> None:
    """Sends Qt's own messages to the log file instead of the terminal.

    Qt reports things a person cannot act on ("Couldn't load pipewire-0.3 library",
    "QPainter::begin(): Returned false"); FieldOps says what matters in its own words.
    """
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("fieldops.qt")
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handle(kind: QtMsgType, _context: object, message: str) -> None:
        qt_log.log(levels.get(kind, logging.INFO), "Qt: %s", message)

    qInstallMessageHandler(handle)
