"""Attaching an unknown label to an asset already in the catalogue.

A relabelled box, a second label, a label that reads differently from the catalogue: the
technician scans the asset's known tag or serial, sees which asset it is, and attaches the
unknown code to it. From then on the code finds the asset here at once, and after the next
sync on every other device.
"""

from __future__ import annotations

import logging
from html import escape

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldops.domain.errors import FieldOpsError
from fieldops.domain.scan import ScanSource
from fieldops.services.asset_codes import attach_scan
from fieldops.services.lookup import AssetCard, LookupResult
from fieldops.services.workspace import Workspace
from fieldops.ui.errors import describe_error
from fieldops.ui.lanes import Lanes
from fieldops.ui.serial_field import SerialField

log = logging.getLogger(__name__)


class AttachCodeDialog(QDialog):
    """Asks which known asset an unknown label belongs to, and attaches it."""

    # (code) once the code is attached
    attached = Signal(str)

    def __init__(
        self,
        workspace: Workspace,
        lanes: Lanes,
        unknown: LookupResult,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.lanes = lanes
        self.unknown = unknown
        self.code = unknown.code
        self.target: AssetCard | None = None
        self._busy = False
        self.setWindowTitle(self.tr("Attach a label to an asset"))
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "The label <b>{code}</b> matches no asset. If it is on an asset the catalogue "
                "knows under another tag, scan or type that asset's tag or serial."
            ).format(code=escape(self.code))
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.asset_field = SerialField()
        self.asset_field.setPlaceholderText(self.tr("Tag or serial of the known asset"))
        self.asset_field.completed.connect(
            lambda text: self.find(text, scanned=self.asset_field.came_as_burst)
        )
        form.addRow(self.tr("&Known asset"), self.asset_field)
        self.found = QLabel(self.tr("No asset chosen yet."))
        self.found.setWordWrap(True)
        form.addRow("", self.found)
        layout.addLayout(form)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#b71c1c;")
        self.attach_button = QPushButton(self.tr("&Attach"))
        self.cancel_button = QPushButton(self.tr("Cancel  (Esc)"))
        for button in (self.attach_button, self.cancel_button):
            button.setAutoDefault(False)
        self.attach_button.setEnabled(False)
        self.attach_button.clicked.connect(self.attach)
        self.cancel_button.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.problem, 1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.attach_button)
        layout.addLayout(row)
        self.asset_field.setFocus()

    def scan_received(self, code: str) -> None:
        """A scan outside the field: it names the known asset."""
        self.asset_field.setText(code.strip())
        self.find(code.strip(), scanned=True)

    def find(self, text: str, *, scanned: bool = False) -> None:
        """Looks the known asset up in the read lane (a scanner's burst through its profile)."""
        if not text.strip() or self._busy:
            return
        self.problem.clear()
        workspace = self.workspace
        source = ScanSource.KEYBOARD if scanned else ScanSource.TYPED
        self.lanes.read.submit(
            lambda job: workspace.lookup.lookup(text, source=source),
            self._found,
            self._failed,
            name="attach-find",
        )

    def _found(self, result: LookupResult) -> None:
        self.target = result.card
        if result.card is None:
            self.found.setText(
                result.misread
                or self.tr("No asset matches {code} either.").format(code=escape(result.code))
            )
        else:
            card = result.card
            model = " ".join(p for p in (card.manufacturer, card.model) if p)
            self.found.setText(
                f"<b>{escape(card.asset_tag)}</b> · {escape(model)} · "
                + escape(card.place.describe())
            )
        self.attach_button.setEnabled(result.card is not None)
        if result.card is not None:
            self.attach_button.setFocus()

    def attach(self) -> None:
        """Attaches the code to the asset found, in the database lane."""
        if self.target is None or self._busy:
            return
        self._busy = True
        self.attach_button.setEnabled(False)
        asset_id, db, unknown = self.target.id, self.workspace.db, self.unknown
        profile = self.workspace.scanner.profile
        how = "profile-corrected" if profile is not None and unknown.warnings else "scan"
        self.lanes.db.submit(
            lambda job: attach_scan(
                db, asset_id, unknown.raw, how, profile, scan_source=unknown.source
            ),
            self._attached,
            self._failed,
            name="attach-code",
        )

    def _attached(self, code: str) -> None:
        self._busy = False
        self.attached.emit(code)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        if not isinstance(exc, FieldOpsError):
            log.error("attaching a code failed", exc_info=exc)
        self.problem.setText(describe_error(exc))
        self.attach_button.setEnabled(self.target is not None)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._busy:
            event.ignore()
            return
        super().closeEvent(event)
