"""The form for a new incident: what, how bad, where, when, who, and damage photos."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QDateTime, QSettings, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldops.domain.errors import FieldOpsError
from fieldops.domain.incidents import Category, Level, PhysicalSubtype, priority_for
from fieldops.domain.times import utcnow
from fieldops.services.incidents import IncidentDraft, PreparedPhoto
from fieldops.services.lookup import AssetCard
from fieldops.services.workspace import LocationChoice, Workspace
from fieldops.ui.confirm import may_discard
from fieldops.ui.errors import describe_error
from fieldops.ui.labels import category_label, level_label, priority_style, subtype_label
from fieldops.ui.lanes import Lanes
from fieldops.ui.photo_strip import PhotoStrip
from fieldops.ui.thumbnails import read_thumbnail

log = logging.getLogger(__name__)

PICTURE_FILTER = "*.jpg *.jpeg *.png *.heic *.heif *.webp *.tif *.tiff *.bmp *.gif"
FUTURE_SLACK = timedelta(minutes=5)


class IncidentDialog(QDialog):
    """Records one incident on an asset, or on a location when there is no asset."""

    # (incident id) once the incident and its photos are saved
    incident_saved = Signal(str)
    # (count) when the number of photos still being prepared changes
    photos_pending_changed = Signal(int)

    def __init__(
        self,
        workspace: Workspace,
        lanes: Lanes,
        asset: AssetCard | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.lanes = lanes
        self.asset = asset
        self.prepared: dict[str, PreparedPhoto] = {}
        self._pending = 0
        self._saving = False
        self.setWindowTitle(self.tr("New incident"))
        self.setMinimumWidth(720)
        self._build()
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)
        self._update_priority()
        self._update_subtype()
        if asset is None:
            self.lanes.read.submit(lambda job: workspace.locations(), self._fill_locations)

    # -- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(self._where_widget())
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.category = QComboBox()
        for category in Category:
            self.category.addItem(category_label(category.value), category.value)
        self.category.currentIndexChanged.connect(self._update_subtype)
        self.subtype = QComboBox()
        self.subtype.addItem(self.tr("— choose —"), None)
        for subtype in PhysicalSubtype:
            self.subtype.addItem(subtype_label(subtype.value), subtype.value)
        form.addRow(self.tr("&Category"), self.category)
        form.addRow(self.tr("S&ubtype"), self.subtype)

        self.impact = self._level_box()
        self.urgency = self._level_box()
        self.priority = QLabel()
        self.priority.setAccessibleName(self.tr("Priority"))
        levels = QHBoxLayout()
        levels.addWidget(QLabel(self.tr("&Impact")))
        levels.itemAt(0).widget().setBuddy(self.impact)  # type: ignore[attr-defined]
        levels.addWidget(self.impact)
        urgency_label = QLabel(self.tr("U&rgency"))
        urgency_label.setBuddy(self.urgency)
        levels.addWidget(urgency_label)
        levels.addWidget(self.urgency)
        levels.addWidget(QLabel(self.tr("Priority")))
        levels.addWidget(self.priority)
        levels.addStretch(1)
        form.addRow(self.tr("Severity"), levels)

        self.title = QLineEdit()
        self.title.setMaxLength(200)
        self.title.setPlaceholderText(self.tr("What broke, in a few words"))
        form.addRow(self.tr("&Title"), self.title)
        self.description = QPlainTextEdit()
        self.description.setPlaceholderText(self.tr("What happened, what you saw, what you did"))
        self.description.setTabChangesFocus(True)
        self.description.setMinimumHeight(90)
        form.addRow(self.tr("&Description"), self.description)
        self.occurred = QDateTimeEdit(QDateTime.currentDateTime())
        self.occurred.setCalendarPopup(True)
        self.occurred.setDisplayFormat("yyyy-MM-dd HH:mm")
        form.addRow(self.tr("&Happened at"), self.occurred)
        self.reporter = QLineEdit(str(QSettings().value("incident/reporter", "")))
        self.reporter.setPlaceholderText(self.tr("Who found it"))
        form.addRow(self.tr("Re&ported by"), self.reporter)
        layout.addLayout(form)
        layout.addWidget(self._photos_widget())
        layout.addLayout(self._buttons())
        for widget in (self.impact, self.urgency):
            widget.currentIndexChanged.connect(self._update_priority)

    def _where_widget(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        if self.asset is not None:
            place = self.asset.place.describe()
            text = f"<b>{self.asset.asset_tag}</b> · {self.asset.manufacturer} {self.asset.model}"
            row.addWidget(QLabel(text + (f" · {place}" if place else "")))
            self.location = None
            return box
        label = QLabel(self.tr("&Location"))
        self.location = QComboBox()
        self.location.setEditable(True)
        self.location.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.location.lineEdit().setPlaceholderText(self.tr("Type to find a site, room or rack"))
        label.setBuddy(self.location)
        row.addWidget(label)
        row.addWidget(self.location, 1)
        return box

    def _level_box(self) -> QComboBox:
        box = QComboBox()
        for level in Level:
            box.addItem(level_label(level.value), level.value)
        box.setCurrentIndex(1)
        return box

    def _photos_widget(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        header.addWidget(QLabel(self.tr("Damage photos (drop files here)")))
        header.addStretch(1)
        self.add_photos_button = QPushButton(self.tr("&Add photos…"))
        self.add_photos_button.setAutoDefault(False)
        self.add_photos_button.clicked.connect(self._choose_photos)
        self.remove_photos_button = QPushButton(self.tr("Remo&ve"))
        self.remove_photos_button.setAutoDefault(False)
        self.remove_photos_button.clicked.connect(self._remove_selected)
        header.addWidget(self.add_photos_button)
        header.addWidget(self.remove_photos_button)
        column.addLayout(header)
        self.photos = PhotoStrip()
        self.photos.files_dropped.connect(self.add_photos)
        column.addWidget(self.photos)
        self.photo_progress = QProgressBar()
        self.photo_progress.setRange(0, 0)
        self.photo_progress.setFormat(self.tr("Preparing photos…"))
        self.photo_progress.setVisible(False)
        column.addWidget(self.photo_progress)
        return box

    def _buttons(self) -> QHBoxLayout:
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#b71c1c;")
        self.problem.setVisible(False)
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

    def _fill_locations(self, choices: list[LocationChoice]) -> None:
        assert self.location is not None
        self.location.clear()
        for choice in choices:
            self.location.addItem(choice.label, choice.id)
        self.location.setCurrentIndex(-1)

    def _update_priority(self) -> None:
        priority = priority_for(Level(self.impact.currentData()), Level(self.urgency.currentData()))
        self.priority.setText(priority.value)
        self.priority.setStyleSheet(priority_style(priority.value))

    def _update_subtype(self) -> None:
        physical = self.category.currentData() == Category.PHYSICAL.value
        self.subtype.setEnabled(physical)
        if not physical:
            self.subtype.setCurrentIndex(0)

    def _choose_photos(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self,
            self.tr("Add damage photos"),
            "",
            self.tr("Pictures ({patterns});;All files (*)").format(patterns=PICTURE_FILTER),
        )
        self.add_photos([Path(n) for n in names])

    def add_photos(self, paths: list[Path]) -> None:
        """Checks and copies in each photo in the background, showing it when ready."""
        for path in paths:
            self._set_pending(self._pending + 1)
            self.lanes.io.submit(
                lambda job, p=path: self._prepare(p),
                self._photo_ready,
                lambda exc, p=path: self._photo_refused(p, exc),
                name="prepare-photo",
            )

    def _prepare(self, path: Path) -> tuple[PreparedPhoto, bytes | None]:
        prepared = self.workspace.incidents.prepare_photo(path)
        thumb = read_thumbnail(self.workspace.incidents.thumbnail_path(prepared.sha256))
        return prepared, thumb

    def _photo_ready(self, result: tuple[PreparedPhoto, bytes | None]) -> None:
        prepared, thumb = result
        self._set_pending(self._pending - 1)
        if prepared.sha256 in self.prepared:
            return
        self.prepared[prepared.sha256] = prepared
        tooltip = f"{prepared.original_name}\n{prepared.width} × {prepared.height}, " + self.tr(
            "{kb} kB"
        ).format(kb=prepared.size // 1024)
        self.photos.add_photo(prepared.sha256, prepared.original_name, thumb, tooltip)

    def _photo_refused(self, path: Path, exc: BaseException) -> None:
        self._set_pending(self._pending - 1)
        reason = describe_error(exc)
        if path.name not in reason:
            reason = self.tr("“{name}”: {reason}").format(name=path.name, reason=reason)
        self._show_problem(self.tr("Not added. {reason}").format(reason=reason))

    def _set_pending(self, count: int) -> None:
        self._pending = count
        self.photo_progress.setVisible(count > 0)
        self.photos_pending_changed.emit(count)

    def _remove_selected(self) -> None:
        keys = self.photos.selected_keys()
        self.photos.remove_keys(keys)
        for key in keys:
            self.prepared.pop(key, None)

    def _show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(True)

    def scan_received(self, code: str) -> None:
        """A scan arrived while typing in the form: it is not typed into a text field."""
        self._show_problem(
            self.tr("Scan received: {code}. It was not typed into the form.").format(code=code)
        )

    def draft(self) -> IncidentDraft:
        """What the form holds, as a draft the service can check and save."""
        subtype = self.subtype.currentData() if self.subtype.isEnabled() else None
        location_id = None
        if self.location is not None:
            index = self.location.findText(self.location.currentText())
            location_id = self.location.itemData(index) if index >= 0 else None
        occurred = self.occurred.dateTime().toPython().astimezone()
        return IncidentDraft(
            title=self.title.text(),
            category=Category(self.category.currentData()),
            subtype=PhysicalSubtype(subtype) if subtype else None,
            impact=Level(self.impact.currentData()),
            urgency=Level(self.urgency.currentData()),
            description=self.description.toPlainText(),
            asset_id=self.asset.id if self.asset else None,
            location_id=location_id,
            occurred_at=occurred,
            reporter=self.reporter.text(),
            prepared_photos=[
                self.prepared[k] for k in self.photos.photo_keys() if k in self.prepared
            ],
        )

    def save(self) -> None:
        """Checks the form and saves it in the database lane."""
        if self._saving:
            return
        if self._pending:
            self._show_problem(self.tr("Photos are still being prepared; save again in a moment."))
            return
        draft = self.draft()
        if self.location is not None and draft.location_id is None:
            self._show_problem(self.tr("Choose the location from the list."))
            self.location.setFocus()
            return
        if draft.occurred_at and draft.occurred_at > utcnow() + FUTURE_SLACK:
            self._show_problem(self.tr("The time it happened is in the future."))
            self.occurred.setFocus()
            return
        self._saving = True
        self.save_button.setEnabled(False)
        QSettings().setValue("incident/reporter", draft.reporter.strip())
        self.lanes.db.submit(
            lambda job: self.workspace.incidents.record(draft),
            self._saved,
            self._save_failed,
            name="save-incident",
        )

    def _saved(self, incident_id: str) -> None:
        self._saving = False
        self.incident_saved.emit(incident_id)
        self.accept()

    def _save_failed(self, exc: BaseException) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        if not isinstance(exc, FieldOpsError):
            log.error("saving an incident failed", exc_info=exc)
        self._show_problem(describe_error(exc))
        if "title" in describe_error(exc).lower():
            self.title.setFocus()

    def is_dirty(self) -> bool:
        """Whether the person typed or attached anything."""
        return bool(
            self.title.text().strip()
            or self.description.toPlainText().strip()
            or self.photos.count()
        )

    def reject(self) -> None:
        """Escape and Cancel: ask before throwing away what was typed."""
        if self._saving:
            return
        if may_discard(
            self,
            self.is_dirty(),
            self.tr("Discard this incident?"),
            self.tr("What you typed and the photos you added will not be saved."),
        ):
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()
        self.reject()
