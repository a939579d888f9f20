"""Registering an unknown label as a provisional asset, offline."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldops.services.assets import ProvisionalAsset
from fieldops.services.workspace import LocationChoice, Workspace
from fieldops.ui.errors import describe_error
from fieldops.ui.lanes import Lanes
from fieldops.ui.scan_field import make_scan_capable


class ProvisionalAssetDialog(QDialog):
    """Tag, serial, model, where it is and a photo of the label; synced later like any change."""

    # (asset id) once saved
    asset_registered = Signal(str)

    def __init__(
        self, workspace: Workspace, lanes: Lanes, code: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.lanes = lanes
        self.photo: Path | None = None
        self.setWindowTitle(self.tr("Register an unknown asset"))
        self.setMinimumWidth(560)
        self.tag = QLineEdit(code)
        self.serial = QLineEdit()
        for field in (self.tag, self.serial):
            make_scan_capable(field)
        self.manufacturer = QLineEdit()
        self.model = QLineEdit()
        self.location = QComboBox()
        self.location.setEditable(True)
        self.location.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.photo_label = QLabel(self.tr("No photo of the label"))
        photo_button = QPushButton(self.tr("Label &photo…"))
        photo_button.setAutoDefault(False)
        photo_button.clicked.connect(self._choose_photo)
        photo_row = QHBoxLayout()
        photo_row.addWidget(self.photo_label, 1)
        photo_row.addWidget(photo_button)
        form = QFormLayout()
        form.addRow(self.tr("Asset &tag"), self.tag)
        form.addRow(self.tr("&Serial"), self.serial)
        form.addRow(self.tr("&Manufacturer"), self.manufacturer)
        form.addRow(self.tr("M&odel"), self.model)
        form.addRow(self.tr("&Location"), self.location)
        form.addRow(self.tr("Photo"), photo_row)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#b71c1c;")
        hint = QLabel(self.tr("It is marked provisional until the catalogue's owners confirm it."))
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.lanes.read.submit(lambda job: workspace.locations(), self._fill_locations)

    def _fill_locations(self, choices: list[LocationChoice]) -> None:
        for choice in choices:
            self.location.addItem(choice.label, choice.id)
        self.location.setCurrentIndex(-1)

    def _choose_photo(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, self.tr("Photo of the label"))
        if name:
            self.photo = Path(name)
            self.photo_label.setText(self.photo.name)

    def save(self) -> None:
        """Checks the form and saves it in the database lane."""
        index = self.location.findText(self.location.currentText())
        if index < 0:
            self.problem.setText(self.tr("Choose where the asset is from the list."))
            return
        draft = ProvisionalAsset(
            asset_tag=self.tag.text(),
            location_id=str(self.location.itemData(index)),
            serial=self.serial.text(),
            model=self.model.text(),
            manufacturer=self.manufacturer.text(),
            label_photo=self.photo,
        )
        assets = self.workspace.assets
        self.lanes.db.submit(
            lambda job: assets.register_provisional(draft),
            self._saved,
            lambda exc: self.problem.setText(describe_error(exc)),
        )

    def _saved(self, asset_id: str) -> None:
        self.asset_registered.emit(asset_id)
        self.accept()
