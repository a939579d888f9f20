"""The Labels dialog: asset tag labels for the shown asset, or a rack or room, to PDF or ZPL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from fieldops.labels.content import DEFAULT_BASE_URL, AssetLabelData, LabelOptions, Symbology
from fieldops.labels.layouts import LAYOUTS, SheetLayout, ThermalLayout, layout_named
from fieldops.labels.pdf import preview_image
from fieldops.labels.service import (
    LabelJob,
    LabelService,
    RenderReport,
    check_target,
    make_labels,
)
from fieldops.services.lookup import AssetCard
from fieldops.services.workspace import Workspace
from fieldops.ui.errors import describe_error
from fieldops.ui.lanes import Job, Lanes

if TYPE_CHECKING:
    from fieldops.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class LabelsDialog(QDialog):
    """Choose what to label, the code, the layout and the file; preview; save."""

    # (path, label count) once the file is written
    labels_saved = Signal(str, int)

    def __init__(self, workspace: Workspace, lanes: Lanes, card: AssetCard | None,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.workspace, self.lanes, self.card = workspace, lanes, card
        self.service = LabelService(workspace.db)
        self.assets: list[AssetLabelData] = []
        self._running: Job | None = None  # the render under way
        self._recording = False  # the render is done and the print is being recorded
        self._cancelling = False  # Cancel or Esc came during a save: close once it stops
        self._confirmed = ""  # a file name QFileDialog already asked about replacing
        self.replace_box: QMessageBox | None = None
        self.setWindowTitle(self.tr("Print labels"))
        self.setMinimumWidth(620)
        self._build()
        self.lanes.read.submit(lambda job: workspace.locations(), self._show_locations)
        self._reload()

    def _build(self) -> None:
        tag = self.card.asset_tag if self.card else self.tr("no asset shown")
        self.this_asset = QRadioButton(self.tr("This asset ({tag})").format(tag=tag))
        self.this_asset.setEnabled(self.card is not None)
        self.a_place = QRadioButton(self.tr("A rack or room:"))
        (self.this_asset if self.card else self.a_place).setChecked(True)
        self.place = QComboBox()
        # No place is chosen for the person: one Save on a preselected room would print
        # hundreds of labels nobody asked for.
        self.place.addItem(self.tr("Choose a rack or room…"), None)
        self.symbology = QComboBox()
        for symbology in Symbology:
            self.symbology.addItem(symbology.display_name, symbology)
        self.digital_link = QCheckBox(self.tr("GS1 Digital Link in the code"))
        self.base_url = QLineEdit(DEFAULT_BASE_URL)
        self.layout_box = QComboBox()
        for layout in LAYOUTS.values():
            self.layout_box.addItem(layout.description, layout.name)
        self.layout_box.setCurrentIndex(self.layout_box.findData("L7160"))
        self.start = QSpinBox()
        self.file = QLineEdit()
        choose = QPushButton(self.tr("&Choose…"))
        choose.setAutoDefault(False)
        choose.clicked.connect(self._choose_file)
        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.count = QLabel()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        self.progress = QProgressBar()
        self.progress.hide()
        self._lay_out(choose)
        for signal in (self.this_asset.toggled, self.place.currentIndexChanged):
            signal.connect(self._reload)
        changes = (
            self.symbology.currentIndexChanged,
            self.digital_link.toggled,
            self.base_url.editingFinished,
            self.layout_box.currentIndexChanged,
        )
        for signal in changes:
            signal.connect(self._refresh)

    def _lay_out(self, choose: QPushButton) -> None:
        place_row = QHBoxLayout()
        place_row.addWidget(self.a_place)
        place_row.addWidget(self.place, 1)
        link_row = QHBoxLayout()
        link_row.addWidget(self.digital_link)
        link_row.addWidget(self.base_url, 1)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file, 1)
        file_row.addWidget(choose)
        form = QFormLayout()
        form.addRow(self.tr("Labels for:"), self.this_asset)
        form.addRow("", place_row)
        form.addRow(self.tr("&Code:"), self.symbology)
        form.addRow("", link_row)
        form.addRow(self.tr("&Layout:"), self.layout_box)
        form.addRow(self.tr("&Start at label:"), self.start)
        file_label = QLabel(self.tr("&Output file:"))
        file_label.setBuddy(self.file)
        form.addRow(file_label, file_row)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(self.tr("First label:")))
        layout.addWidget(self.preview)
        layout.addWidget(self.count)
        layout.addWidget(self.error)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)

    # -- what and how ---------------------------------------------------------------------------

    def _show_locations(self, choices: list[Any]) -> None:
        for choice in choices:
            self.place.addItem(choice.label, choice.id)

    def options(self) -> LabelOptions:
        """The options as chosen."""
        symbology = Symbology(self.symbology.currentData())
        return LabelOptions(symbology, self.digital_link.isChecked(), self.base_url.text())

    def chosen_layout(self) -> SheetLayout | ThermalLayout:
        """The layout as chosen."""
        return layout_named(str(self.layout_box.currentData()))

    def _reload(self) -> None:
        service, card = self.service, self.card
        if self.this_asset.isChecked() and card is not None:
            work = lambda job: service.for_asset(card.id)  # noqa: E731
        elif self.place.currentData():
            place = str(self.place.currentData())
            work = lambda job: service.for_location(place)  # noqa: E731
        else:
            self.assets = []
            self._refresh()
            return
        self.lanes.read.submit(work, self._loaded, self._failed, name="labels-load")

    def _loaded(self, assets: list[AssetLabelData]) -> None:
        self.assets = assets
        self._refresh()

    def _refresh(self) -> None:
        layout = self.chosen_layout()
        sheet = isinstance(layout, SheetLayout)
        self.start.setEnabled(sheet)
        self.start.setRange(1, layout.per_sheet if sheet else 1)
        matrix = Symbology(self.symbology.currentData()).two_dimensional
        self.digital_link.setEnabled(matrix)
        self.base_url.setEnabled(matrix and self.digital_link.isChecked())
        self._fix_suffix(layout)
        self.error.clear()
        self.preview.clear()
        self.save_button.setEnabled(bool(self.assets) and not self._busy())
        if not self.assets:
            self.count.setText(
                self.tr("Choose a rack or room above, or close this and scan an asset first.")
                if self.card is None and not self.place.currentData()
                else self.tr("No assets to label yet.")
            )
            return
        try:
            first = make_labels(self.assets[:1], self.options())[0]
            width, height = layout.label_size
            # As large as fits a 460 x 260 box, so a small label is readable and a big one fits.
            scale = min(460 / width, 260 / height, 10.0)
            image = preview_image(first, layout, scale)
            self.preview.setPixmap(QPixmap.fromImage(image))
            self.preview.setFixedSize(image.width(), image.height())
        except Exception as exc:
            self.error.setText(describe_error(exc))
        pages = (
            layout.pages_for(len(self.assets), self.start.value()) if sheet else len(self.assets)
        )
        self.count.setText(
            self.tr("{n} label(s) on {pages} sheet(s)").format(n=len(self.assets), pages=pages)
            if sheet
            else self.tr("Labels for the thermal printer: {n}").format(n=len(self.assets))
        )

    def _fix_suffix(self, layout: SheetLayout | ThermalLayout) -> None:
        text = self.file.text().strip()
        if text:
            suffix = ".zpl" if isinstance(layout, ThermalLayout) else ".pdf"
            self.file.setText(str(Path(text).with_suffix(suffix)))

    def _choose_file(self) -> None:
        zpl = isinstance(self.chosen_layout(), ThermalLayout)
        name, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Save labels"),
            self.file.text() or ("labels.zpl" if zpl else "labels.pdf"),
            self.tr("ZPL files (*.zpl)") if zpl else self.tr("PDF files (*.pdf)"),
        )
        if name:
            self.file.setText(name)
            self._fix_suffix(self.chosen_layout())
            self._confirmed = self.file.text().strip()  # the file dialog asked about replacing

    # -- saving -------------------------------------------------------------------------------

    def save(self) -> None:
        """Renders every label off the GUI thread, then records the print."""
        self.error.clear()
        if self._busy():
            return
        if not self.file.text().strip():
            self.error.setText(self.tr("Choose the file to save the labels in."))
            return
        if not self.assets:
            self.error.setText(self.tr("Choose a rack or room to label first."))
            return
        layout = self.chosen_layout()
        try:
            options = self.options()
            fmt = "zpl" if isinstance(layout, ThermalLayout) else "pdf"
            job = LabelJob(
                make_labels(self.assets, options), options, layout, fmt, self.start.value()
            )
            path = Path(self.file.text().strip())
            check_target(path)
        except Exception as exc:
            self.error.setText(describe_error(exc))
            return
        if path.exists() and str(path) != self._confirmed:
            self._ask_to_replace(job, path)
            return
        self._start(job, path)

    def _ask_to_replace(self, job: LabelJob, path: Path) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Replace the file?"),
            self.tr("{name} already exists. Replace it with these labels?").format(name=path.name),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.replace_box = box

        def answered(button: int) -> None:
            self.replace_box = None
            box.deleteLater()
            if button == QMessageBox.StandardButton.Yes:
                self._start(job, path)

        box.finished.connect(answered)
        box.open()

    def _start(self, job: LabelJob, path: Path) -> None:
        self.save_button.setEnabled(False)
        self.progress.setRange(0, len(job.labels))
        self.progress.setValue(0)
        self.progress.show()
        service = self.service
        self._running = self.lanes.io.submit(
            lambda work: service.render(job, path, work.report, lambda: work.cancelled),
            lambda report: self._rendered(job, report),
            self._failed,
            name="labels-render",
        )
        self._running.progressed.connect(lambda done, _total: self.progress.setValue(done))

    def _busy(self) -> bool:
        return self._running is not None or self._recording

    def reject(self) -> None:
        """Cancel and Esc: during a save, stop the render and close once it has stopped."""
        if self._running is not None:
            self._cancelling = True
            self._running.cancel()
            self.error.setText(self.tr("Stopping… no labels will be saved."))
            return
        if self._recording:
            return  # the file is written; recording it takes a moment, then the dialog closes
        super().reject()

    def _rendered(self, job: LabelJob, report: RenderReport) -> None:
        self._running = None
        if self._cancelling:
            # The last label was drawn as Cancel came: the person asked for no file.
            report.path.unlink(missing_ok=True)
            log.info("labels cancelled after the file was written; removed it")
            super().reject()
            return
        self._recording = True
        service = self.service
        self.lanes.db.submit(
            lambda _job: service.record_printed(job),
            lambda _n: self._done(report),
            self._failed,
            name="labels-record",
        )

    def _done(self, report: RenderReport) -> None:
        self._recording = False
        self.labels_saved.emit(str(report.path), report.labels)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._running, self._recording = None, False
        if self._cancelling:
            super().reject()
            return
        self.progress.hide()
        self.error.setText(describe_error(exc))
        self.save_button.setEnabled(bool(self.assets))


def open_labels(window: MainWindow, for_card: bool) -> LabelsDialog | None:
    """Opens the Labels dialog on the window's shown asset, or on a rack or room."""
    if window.workspace is None:
        return None
    card = window.card.card if for_card else None
    dialog = LabelsDialog(window.workspace, window.lanes, card, window)
    dialog.labels_saved.connect(
        lambda path, n: window.status.showMessage(
            window.tr("{n} label(s) saved to {path}.").format(n=n, path=path), 10000
        )
    )
    window.track_dialog(dialog)
    dialog.open()
    return dialog


def install(window: MainWindow) -> None:
    """Adds File > Print labels… (Ctrl+P) and File > Labels for a rack or room…."""
    file_menu = next(
        a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File"
    )
    quit_action = file_menu.actions()[-1]
    one = QAction(window.tr("Print &labels…"), window)
    one.setShortcut(QKeySequence("Ctrl+P"))
    one.triggered.connect(lambda: open_labels(window, True))
    many = QAction(window.tr("Labels for a rack or &room…"), window)
    many.triggered.connect(lambda: open_labels(window, False))
    file_menu.insertAction(quit_action, one)
    file_menu.insertAction(quit_action, many)
    file_menu.insertSeparator(quit_action)
    window.labels_actions = (one, many)  # type: ignore[attr-defined]
