"""The part replacement form: old serial, new serial, RMA and what became of the old part.

Scans go where the form expects them. The old serial's terminator moves to the new serial,
the new serial's to the RMA number, and no scan ever presses Save. A scan that arrives while
the person is writing notes is not typed there: the form asks where it belongs.
"""

from __future__ import annotations

import logging
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldops.domain.errors import FieldOpsError
from fieldops.domain.identifiers import code_key
from fieldops.services.lookup import AssetCard
from fieldops.services.replacements import (
    OldPartFate,
    ReplacementDraft,
    draft_problem,
)
from fieldops.services.workspace import Workspace
from fieldops.ui.confirm import may_discard
from fieldops.ui.errors import describe_error
from fieldops.ui.labels import fate_label
from fieldops.ui.lanes import Lanes
from fieldops.ui.serial_field import SerialField

log = logging.getLogger(__name__)


class ReplacementDialog(QDialog):
    """Logs one part swapped in an asset."""

    # (replacement id) once saved
    replacement_saved = Signal(str)

    def __init__(
        self,
        workspace: Workspace,
        lanes: Lanes,
        asset: AssetCard,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.lanes = lanes
        self.asset = asset
        self._saving = False
        self._offered: str | None = None
        self.setWindowTitle(self.tr("Part replacement on {tag}").format(tag=asset.asset_tag))
        self.setMinimumWidth(620)
        self._build()
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)
        self._validate()
        self.old_serial.setFocus()

    # -- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        heading = QLabel(
            self.tr("<b>{tag}</b> · {model} · {place}").format(
                tag=self.asset.asset_tag,
                model=" ".join(p for p in (self.asset.manufacturer, self.asset.model) if p)
                or self.tr("model unknown"),
                place=self.asset.place.describe() or self.tr("place unknown"),
            )
        )
        layout.addWidget(heading)
        form = QFormLayout()
        self.part = QComboBox()
        for component in self.asset.components:
            words = [component.kind.upper(), component.slot, component.model]
            label = " · ".join(w for w in words if w)
            if component.serial:
                label += "  (" + self.tr("serial {serial}").format(serial=component.serial) + ")"
            self.part.addItem(label, component.id)
        self.part.addItem(self.tr("Other part (not listed)"), None)
        self.part.setCurrentIndex(self.part.count() - 1)
        self.old_serial = SerialField()
        self.old_serial.setPlaceholderText(self.tr("Scan the label of the part taken out"))
        self.new_serial = SerialField()
        self.new_serial.setPlaceholderText(self.tr("Scan the label of the part put in"))
        self.rma = SerialField()
        self.rma.setPlaceholderText(self.tr("Optional: the vendor's RMA number"))
        self.fate = QComboBox()
        for fate in OldPartFate:
            self.fate.addItem(fate_label(fate.value), fate.value)
        self.incident = QComboBox()
        self.incident.addItem(self.tr("None"), None)
        for summary in self.asset.incidents:
            if summary.status in ("resolved", "closed"):
                continue
            number = summary.number or self.tr("not synced")
            self.incident.addItem(f"{number} · {summary.title}", summary.id)
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText(self.tr("What was wrong, what was done"))
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(90)
        form.addRow(self.tr("&Part"), self.part)
        form.addRow(self.tr("&Old serial"), self.old_serial)
        form.addRow(self.tr("&New serial"), self.new_serial)
        form.addRow(self.tr("&RMA number"), self.rma)
        form.addRow(self.tr("Old part &went to"), self.fate)
        form.addRow(self.tr("&Incident"), self.incident)
        form.addRow(self.tr("No&tes"), self.notes)
        layout.addLayout(form)
        layout.addWidget(self._offer_bar())
        layout.addLayout(self._buttons())
        self.old_serial.completed.connect(self._old_done)
        self.new_serial.completed.connect(self._new_done)
        self.rma.completed.connect(lambda _text: self.fate.setFocus())
        for field in (self.old_serial, self.new_serial):
            field.textChanged.connect(self._validate)

    def _offer_bar(self) -> QFrame:
        self.offer = QFrame()
        self.offer.setFrameShape(QFrame.Shape.StyledPanel)
        self.offer.setStyleSheet("QFrame{background:#fff8e1;}")
        row = QHBoxLayout(self.offer)
        self.offer_text = QLabel()
        self.offer_text.setWordWrap(True)
        self.use_new = QPushButton(self.tr("Use as Ne&w serial"))
        self.use_old = QPushButton(self.tr("Use as Ol&d serial"))
        self.ignore = QPushButton(self.tr("I&gnore"))
        for button in (self.use_new, self.use_old, self.ignore):
            button.setAutoDefault(False)
        self.use_new.clicked.connect(lambda: self._use_offer(self.new_serial))
        self.use_old.clicked.connect(lambda: self._use_offer(self.old_serial))
        self.ignore.clicked.connect(self._drop_offer)
        row.addWidget(self.offer_text, 1)
        row.addWidget(self.use_new)
        row.addWidget(self.use_old)
        row.addWidget(self.ignore)
        self.offer.setVisible(False)
        return self.offer

    def _buttons(self) -> QHBoxLayout:
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#8a5300;")
        self.save_button = QPushButton(self.tr("&Save  (Ctrl+S)"))
        self.cancel_button = QPushButton(self.tr("Cancel  (Esc)"))
        for button in (self.save_button, self.cancel_button):
            button.setAutoDefault(False)
            button.setDefault(False)
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.problem, 1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.save_button)
        return row

    # -- behaviour ----------------------------------------------------------------------------

    def _clean(self, field: SerialField) -> str | None:
        """The field's scan through the normaliser; None (and the reason shown) if it is bad."""
        try:
            cleaned = self.workspace.replacements.clean_serial(
                field.text(), scanned=field.came_as_burst
            )
        except FieldOpsError as bad:
            self.problem.setText(bad.message)
            self.save_button.setEnabled(False)
            field.setFocus()
            field.selectAll()  # the next scan replaces it
            return None
        if cleaned != field.text():
            field.setText(cleaned)
        return cleaned

    def _new_done(self, _text: str) -> None:
        if self._clean(self.new_serial) is not None:
            self.rma.setFocus()

    def _old_done(self, _text: str) -> None:
        """The old serial is in: pick the part it names, and move on to the new serial."""
        text = self._clean(self.old_serial)
        if text is None:
            return
        key = code_key(text)
        for index in range(self.part.count()):
            component_id = self.part.itemData(index)
            match = next((c for c in self.asset.components if c.id == component_id), None)
            if match is not None and match.serial and code_key(match.serial) == key:
                self.part.setCurrentIndex(index)
                break
        self.new_serial.setFocus()

    def problem_text(self) -> str | None:
        """Why the form cannot be saved yet, or None when it can."""
        old, new = self.old_serial.text(), self.new_serial.text()
        tag = code_key(self.asset.asset_tag)
        for text in (old, new):
            if text.strip() and code_key(text.strip()) == tag:
                return self.tr(
                    "{code} is the asset's own tag; scan the serial label on the part."
                ).format(code=text.strip())
        return draft_problem(old, new)

    def _validate(self) -> None:
        problem = self.problem_text()
        self.save_button.setEnabled(problem is None and not self._saving)
        self.problem.setText(problem or "")

    def scan_received(self, code: str) -> None:
        """A scan arrived while the focus was outside the serial fields: ask where it goes."""
        try:
            # Only the window-wide listener sends these: always a scanner's burst.
            self._offered = self.workspace.replacements.clean_serial(code, scanned=True)
        except FieldOpsError as bad:
            self.problem.setText(bad.message)
            return
        wants_old = not self.old_serial.text().strip()
        question = (
            self.tr("Scan received: <b>{code}</b>. Use it as the old serial?")
            if wants_old
            else self.tr("Scan received: <b>{code}</b>. Use it as the new serial?")
        )
        self.offer_text.setText(question.format(code=escape(self._offered)))
        self.offer.setVisible(True)
        (self.use_old if wants_old else self.use_new).setFocus()

    def _use_offer(self, field: SerialField) -> None:
        if self._offered is not None:
            field.setText(self._offered)
        self._drop_offer()
        field.setFocus()

    def _drop_offer(self) -> None:
        self._offered = None
        self.offer.setVisible(False)

    def draft(self) -> ReplacementDraft:
        """What the form holds."""
        return ReplacementDraft(
            asset_id=self.asset.id,
            component_id=self.part.currentData(),
            incident_id=self.incident.currentData(),
            old_serial=self.old_serial.text(),
            new_serial=self.new_serial.text(),
            rma_number=self.rma.text(),
            old_part_fate=OldPartFate(self.fate.currentData()),
            notes=self.notes.toPlainText(),
        )

    def save(self) -> None:
        """Saves in the database lane once both serials are valid and differ."""
        if self._saving or self.problem_text() is not None:
            self._validate()
            return
        draft = self.draft()
        self._saving = True
        self._validate()
        self.lanes.db.submit(
            lambda job: self.workspace.replacements.record(draft),
            self._saved,
            self._save_failed,
            name="save-replacement",
        )

    def _saved(self, replacement_id: str) -> None:
        self._saving = False
        self.replacement_saved.emit(replacement_id)
        self.accept()

    def _save_failed(self, exc: BaseException) -> None:
        self._saving = False
        if not isinstance(exc, FieldOpsError):
            log.error("saving a replacement failed", exc_info=exc)
        self._validate()
        self.problem.setText(describe_error(exc))

    def is_dirty(self) -> bool:
        """Whether anything was scanned or typed."""
        return any(f.text().strip() for f in (self.old_serial, self.new_serial, self.rma)) or bool(
            self.notes.toPlainText().strip()
        )

    def reject(self) -> None:
        """Escape and Cancel: ask before throwing away what was scanned."""
        if self._saving:
            return
        if may_discard(
            self,
            self.is_dirty(),
            self.tr("Discard this replacement?"),
            self.tr("The serials and notes you entered will not be saved."),
        ):
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()
        self.reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter anywhere in the form must not press a button the person did not choose.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return
        super().keyPressEvent(event)
