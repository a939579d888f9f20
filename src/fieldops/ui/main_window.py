"""The main window: scan field on top, the asset card and the incident list below."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fieldops import __version__
from fieldops.domain.scan import ScanSource
from fieldops.services.catalogue import ImportCancelled, ImportRefused, ImportReport
from fieldops.services.datadir import DataDir
from fieldops.services.incidents import IncidentDetail
from fieldops.services.lookup import LookupResult
from fieldops.services.sync_service import SyncStatus
from fieldops.services.workspace import Counts, Workspace
from fieldops.ui import camera, collector, labels_dialog, settings_dialog
from fieldops.ui.asset_card import AssetCardView
from fieldops.ui.attach_dialog import AttachCodeDialog
from fieldops.ui.errors import describe_error
from fieldops.ui.incident_dialog import IncidentDialog
from fieldops.ui.incident_list import IncidentListView
from fieldops.ui.incident_view import IncidentViewDialog
from fieldops.ui.lanes import Job, Lanes
from fieldops.ui.provisional_dialog import ProvisionalAssetDialog
from fieldops.ui.replacement_dialog import ReplacementDialog
from fieldops.ui.review_dialog import ReviewDialog
from fieldops.ui.scan_field import ScanField
from fieldops.ui.scan_listener import ScanListener
from fieldops.ui.sign_in_dialog import SignInDialog
from fieldops.ui.sync_bar import SyncBar
from fieldops.ui.sync_scheduler import SyncScheduler
from fieldops.ui.thumbnails import read_thumbnail

log = logging.getLogger(__name__)

CATALOGUE_FILTER = "*.csv *.txt"
PICTURE_PATTERNS = "*.jpg *.jpeg *.png *.heic *.heif *.webp *.tif *.tiff *.bmp"


class MainWindow(QMainWindow):
    """FieldOps' window; all database and file work runs in its lanes."""

    # () once the data directory is open and the scan can be looked up
    workspace_ready = Signal()
    # (LookupResult) after a scan's answer is shown
    lookup_shown = Signal(object)
    # (incident id) after an incident is saved
    incident_saved = Signal(str)
    # (count) after the incident list is refreshed
    incidents_shown = Signal(int)
    # (ImportReport) after an import finished
    import_finished = Signal(object)

    def __init__(self, data_dir: DataDir, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.lanes = Lanes(self)
        self.workspace: Workspace | None = None
        self._waiting_code: tuple[str, ScanSource] | None = None
        self._scan_serial = 0
        self._dialogs: list[Any] = []
        self.setWindowTitle(self.tr("FieldOps"))
        self.resize(1180, 760)
        self._build()
        self._build_menus()
        settings_dialog.install(self)
        labels_dialog.install(self)
        camera.install(self)
        self.card.labels_requested.connect(lambda _id: labels_dialog.open_labels(self, True))
        self.card.offer_labels()
        self.status.showMessage(self.tr("Opening the local database…"))
        self.lanes.db.submit(
            lambda job: Workspace(data_dir), self._opened, self._open_failed, name="open"
        )

    # -- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        bar = QHBoxLayout()
        label = QLabel(self.tr("S&can"))
        self.scan_field = ScanField()
        label.setBuddy(self.scan_field)
        self.scan_field.code_entered.connect(self._entered)
        self.look_up_button = QPushButton(self.tr("Look up"))
        self.look_up_button.setAutoDefault(False)
        self.look_up_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.look_up_button.clicked.connect(
            lambda: self.look_up(self.scan_field.text(), ScanSource.TYPED)
        )
        bar.addWidget(label)
        bar.addWidget(self.scan_field, 1)
        bar.addWidget(self.look_up_button)
        layout.addLayout(bar)

        self.tabs = QTabWidget()
        self.card = AssetCardView()
        self.card.incident_requested.connect(lambda _id: self.new_incident())
        self.card.incident_opened.connect(self.open_incident)
        self.card.register_requested.connect(self.register_asset)
        self.card.replacement_requested.connect(lambda _id: self.new_replacement())
        self.card.attach_requested.connect(self.attach_code)
        self.card.asset_link_opened.connect(self._open_tag)
        self.incident_list = IncidentListView()
        self.incident_list.refresh_requested.connect(self._load_incidents)
        self.incident_list.incident_opened.connect(self.open_incident)
        self.tabs.addTab(self.card, self.tr("&Asset"))
        self.tabs.addTab(self.incident_list, self.tr("&Incidents"))
        self.tabs.currentChanged.connect(self._tab_changed)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.status = self.statusBar()
        self.counts_label = QLabel()
        self.sync_bar = SyncBar()
        self.sync_bar.review_requested.connect(self.review)
        self.sync_bar.cancel_requested.connect(self.cancel_sync)
        self.status.addPermanentWidget(self.counts_label)
        self.status.addPermanentWidget(self.sync_bar)
        self.syncing = SyncScheduler(self)
        self.scans = ScanListener(self)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.scans.install(app)
            self.collector = collector.install(app)
        self.scans.scan_received.connect(self._scan_anywhere)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        self._action(file_menu, self.tr("&Import catalogue…"), "Ctrl+I", self.choose_import)
        self._action(
            file_menu, self.tr("Scan from &photo…"), "Ctrl+Shift+O", self.choose_photo_scan
        )
        file_menu.addSeparator()
        self._action(file_menu, self.tr("&Quit"), QKeySequence.StandardKey.Quit, self.close)
        incident_menu = self.menuBar().addMenu(self.tr("I&ncident"))
        self._action(incident_menu, self.tr("&New incident…"), "Ctrl+N", self.new_incident)
        self._action(
            incident_menu, self.tr("Log part &replacement…"), "Ctrl+Shift+R", self.new_replacement
        )
        self._action(
            incident_menu, self.tr("Incident &list"), "Ctrl+L", lambda: self.tabs.setCurrentIndex(1)
        )
        view_menu = self.menuBar().addMenu(self.tr("&View"))
        self._action(view_menu, self.tr("&Scan field"), "Ctrl+F", self.focus_scan)
        self._action(view_menu, self.tr("&Refresh"), "Ctrl+R", self.refresh)
        sync_menu = self.menuBar().addMenu(self.tr("&Sync"))
        self._action(sync_menu, self.tr("Sync &now"), "F5", self.sync_now)
        self._action(sync_menu, self.tr("&Review conflicts and rejections…"), None, self.review)
        sync_menu.addSeparator()
        self._action(sync_menu, self.tr("Sign &in…"), None, self.sign_in)
        self._action(sync_menu, self.tr("Sign &out"), None, self.sign_out)
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        self._action(help_menu, self.tr("&About FieldOps"), None, self.about)
        QShortcut(QKeySequence("F6"), self, activated=self.focus_scan)
        QShortcut(QKeySequence("Escape"), self, activated=self.focus_scan)

    def _action(self, menu: Any, text: str, shortcut: Any, slot: Any) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    # -- opening ------------------------------------------------------------------------------

    def _opened(self, workspace: Workspace) -> None:
        if self.lanes.db.closed:
            workspace.close()  # the window was closed while the database was opening
            return
        self.workspace = workspace
        self.status.showMessage(self.tr("Ready. Scan a label."), 5000)
        self.refresh()
        self.syncing.begin()
        if hasattr(self, "collector"):
            self.collector.freeze_startup()
        self.workspace_ready.emit()
        if self._waiting_code is not None:
            (code, source), self._waiting_code = self._waiting_code, None
            self.look_up(code, source)

    def _open_failed(self, exc: BaseException) -> None:
        self.status.showMessage(self.tr("The local database could not be opened."))
        QMessageBox.critical(self, self.tr("FieldOps cannot start"), describe_error(exc))

    def refresh(self) -> None:
        """Re-reads the counts, the sync state and the incident list."""
        if self.workspace is None:
            return
        workspace = self.workspace
        self.lanes.read.submit(lambda job: workspace.counts(), self._show_counts)
        self.lanes.read.submit(lambda job: workspace.sync.status(), self._show_sync_status)
        self.incident_list.request_refresh()

    def _show_sync_status(self, status: SyncStatus) -> None:
        self.sync_bar.show_status(status)
        if not status.signed_in:
            self.sync_bar.set_online(None)
        self.syncing.status = status

    # -- sync ---------------------------------------------------------------------------------

    def sync_now(self) -> None:
        """Starts a sync (F5); asks to sign in first when needed."""
        self.syncing.start(manual=True)

    def cancel_sync(self) -> None:
        """Stops the running sync; what was sent so far is kept."""
        self.syncing.cancel()

    def sign_in(self) -> None:
        """Opens the sign-in dialog."""
        if self.workspace is None:
            return
        dialog = SignInDialog(self.workspace, self.lanes, self)
        dialog.signed_in.connect(lambda _name: (self.refresh(), self.syncing.start()))
        self.track_dialog(dialog)
        dialog.open()

    def sign_out(self) -> None:
        """Forgets this device's sign-in (the queue stays)."""
        if self.workspace is None:
            return
        workspace = self.workspace
        self.lanes.io.submit(lambda job: workspace.sync.logout(), lambda _r: self.refresh())

    def review(self) -> None:
        """Opens the list of conflicts and rejected changes."""
        if self.workspace is None:
            return
        dialog = ReviewDialog(self.workspace, self.lanes, self)
        dialog.decided.connect(self.refresh)
        self.track_dialog(dialog)
        dialog.open()

    def _show_counts(self, counts: Counts) -> None:
        self.counts_label.setText(
            self.tr("{assets} assets · {incidents} incidents").format(
                assets=f"{counts.assets:,}", incidents=f"{counts.incidents:,}"
            )
        )

    # -- scanning -----------------------------------------------------------------------------

    def focus_scan(self) -> None:
        """Puts the focus in the scan field with its text selected, ready for the next scan."""
        self.scan_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.scan_field.selectAll()

    def look_up(self, code: str, source: ScanSource = ScanSource.KEYBOARD) -> None:
        """Looks a code up in the database lane and shows the answer.

        `source` says where the text came from: only keyboard text goes through the scanner
        profile (a code read from a picture never passed through a keyboard layout).
        """
        if not code.strip():
            return
        if self.workspace is None:
            self._waiting_code = (code, source)
            return
        self._scan_serial += 1
        serial = self._scan_serial
        workspace = self.workspace
        self.lanes.read.submit(
            lambda job: workspace.lookup.lookup(code, source=source),
            lambda result: self._show_lookup(serial, result),
            self._report_error,
            name="lookup",
        )

    def _entered(self, code: str) -> None:
        """The scan field's code: a scanner's burst goes through the scanner profile, typing not."""
        burst = self.scan_field.last_was_burst
        self.look_up(code, ScanSource.KEYBOARD if burst else ScanSource.TYPED)

    def show_code(self, text: str) -> None:
        """Puts a code in the scan field, selected, with the focus, so the next scan replaces it."""
        self.scan_field.setText(text)
        self.focus_scan()

    def _open_tag(self, tag: str) -> None:
        """Opens an asset named on the card, as if its tag had been scanned."""
        self.show_code(tag)
        self.look_up(tag, ScanSource.TYPED)  # written by FieldOps itself: no scanner profile

    def _scan_anywhere(self, code: str, focus: object) -> None:
        """A scan arrived while the focus was outside the scan field."""
        dialog = next((d for d in self._dialogs if d.isVisible()), None)
        if dialog is not None and hasattr(dialog, "scan_received"):
            dialog.scan_received(code)  # the open form decides what a scan means to it
            return
        if dialog is not None:
            self.status.showMessage(
                self.tr("Scan received: {code}. Close the dialog to look it up.").format(code=code),
                8000,
            )
            return
        self.scan_field.setText(code)
        self.focus_scan()
        self.look_up(code)

    def _show_lookup(self, serial: int, result: LookupResult) -> None:
        if serial != self._scan_serial:
            return  # a newer scan is on its way; this answer is stale
        self.card.show_result(result)
        self.tabs.setCurrentIndex(0)
        if result.warnings and result.code and self.scan_field.text() == result.raw:
            self.scan_field.setText(result.code)  # what the label says, not what was typed
            self.scan_field.selectAll()
        if result.card is None:
            self.status.showMessage(self.tr("Not found: {code}").format(code=result.code), 8000)
        self.lookup_shown.emit(result)

    def _reload_card(self) -> None:
        card = self.card.card
        if card is None or self.workspace is None:
            return
        workspace, asset_id = self.workspace, card.id
        self.lanes.read.submit(
            lambda job: workspace.lookup.card(asset_id),
            lambda fresh: fresh is not None and self.card.show_card(fresh),
        )

    # -- incidents ----------------------------------------------------------------------------

    def new_incident(self) -> None:
        """Opens the incident form for the shown asset, or for a location if none is shown."""
        if self.workspace is None:
            return
        dialog = IncidentDialog(self.workspace, self.lanes, self.card.card, self)
        dialog.incident_saved.connect(self._incident_saved)
        self.track_dialog(dialog)
        dialog.open()
        dialog.title.setFocus()

    def new_replacement(self) -> None:
        """Opens the part replacement form for the shown asset."""
        if self.workspace is None:
            return
        card = self.card.card
        if card is None:
            self.status.showMessage(
                self.tr("Scan the asset first, then log the part replacement on it."), 8000
            )
            self.focus_scan()
            return
        dialog = ReplacementDialog(self.workspace, self.lanes, card, self)
        dialog.replacement_saved.connect(self._replacement_saved)
        self.track_dialog(dialog)
        dialog.open()
        dialog.old_serial.setFocus()

    def _replacement_saved(self, _replacement_id: str) -> None:
        self.status.showMessage(self.tr("Replacement saved; it will sync when online."), 6000)
        self._reload_card()
        self.refresh()
        self.syncing.soon()

    def attach_code(self, unknown: LookupResult) -> None:
        """Opens the form that attaches an unknown label to an asset the catalogue knows."""
        if self.workspace is None or unknown is None:
            return
        dialog = AttachCodeDialog(self.workspace, self.lanes, unknown, self)
        dialog.attached.connect(self._code_attached)
        self.track_dialog(dialog)
        dialog.open()

    def _code_attached(self, code: str) -> None:
        self.status.showMessage(
            self.tr("{code} now finds the asset; it will sync when online.").format(code=code),
            8000,
        )
        self.show_code(code)
        self.look_up(code, ScanSource.TYPED)  # the stored form: no scanner profile again
        self.refresh()
        self.syncing.soon()

    def register_asset(self, code: str) -> None:
        """Opens the form to register an unknown label as a provisional asset."""
        if self.workspace is None:
            return
        dialog = ProvisionalAssetDialog(self.workspace, self.lanes, code, self)
        dialog.asset_registered.connect(lambda _id: (self.look_up(code), self.refresh()))
        self.track_dialog(dialog)
        dialog.open()

    def track_dialog(self, dialog: Any) -> None:
        """Routes scans to the dialog while it is open, and refocuses the scan field after it."""
        self._dialogs.append(dialog)
        dialog.finished.connect(lambda _r: self._dialog_closed(dialog))

    def _dialog_closed(self, dialog: Any) -> None:
        if dialog in self._dialogs:
            self._dialogs.remove(dialog)
        dialog.deleteLater()
        self.focus_scan()

    def _incident_saved(self, incident_id: str) -> None:
        self.status.showMessage(self.tr("Incident saved; it will sync when online."), 6000)
        self._reload_card()
        self.refresh()
        self.syncing.soon()
        self.incident_saved.emit(incident_id)

    def _load_incidents(self, status: str | None, priority: str | None) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace
        self.lanes.read.submit(
            lambda job: workspace.incidents.list(status=status, priority=priority),
            self._show_incidents,
            self._report_error,
        )

    def _show_incidents(self, rows: list[Any]) -> None:
        self.incident_list.set_rows(rows)
        self.incidents_shown.emit(len(rows))

    def open_incident(self, incident_id: str) -> None:
        """Shows one incident with its photos."""
        if self.workspace is None:
            return
        workspace = self.workspace

        def load(job: Job) -> tuple[IncidentDetail, dict[str, bytes | None]]:
            detail = workspace.incidents.get(incident_id)
            return detail, {p.id: read_thumbnail(p.thumbnail) for p in detail.photos}

        self.lanes.read.submit(load, self._show_incident, self._report_error)

    def _show_incident(self, loaded: tuple[IncidentDetail, dict[str, bytes | None]]) -> None:
        dialog = IncidentViewDialog(*loaded, parent=self)
        self.track_dialog(dialog)
        dialog.open()

    # -- scanning from a photo ------------------------------------------------------------------

    def choose_photo_scan(self) -> None:
        """Asks for a photo of a label and looks up the code found in it."""
        name, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Scan from photo"),
            "",
            self.tr("Pictures ({patterns});;All files (*)").format(patterns=PICTURE_PATTERNS),
        )
        if name:
            self.scan_photo(Path(name))

    def scan_photo(self, path: Path) -> None:
        """Decodes every code in a photo off the GUI thread, then looks the right one up."""
        from fieldops.media.barcodes import read_codes

        self.status.showMessage(self.tr("Reading codes in {name}…").format(name=path.name))
        self.lanes.io.submit(
            lambda job: read_codes(path), self._photo_codes, self._report_error, name="decode"
        )

    def _photo_codes(self, report: Any) -> None:
        codes = list({code.scan_text: code for code in report.codes}.values())
        if not codes:
            self.status.showMessage(
                report.hint or self.tr("No code was found in the photo."), 10_000
            )
            return
        if self.workspace is None:
            return
        workspace = self.workspace
        # Text read from a picture never went through a keyboard: no scanner profile applies.
        self.lanes.read.submit(
            lambda job: [
                workspace.lookup.lookup(code.scan_text, source=ScanSource.IMAGE) for code in codes
            ],
            lambda results: self._photo_matches(codes, results),
            self._report_error,
            name="photo-lookup",
        )

    def _photo_matches(self, codes: list[Any], results: list[LookupResult]) -> None:
        """One asset found (a tag and a serial of one asset count as one) is shown; else a pick."""
        by_asset: dict[str, tuple[Any, LookupResult]] = {}
        for code, result in zip(codes, results, strict=True):
            if result.card is None:
                continue
            known = by_asset.get(result.card.id)
            if known is None or (result.matched_kind == "tag" and known[1].matched_kind != "tag"):
                by_asset[result.card.id] = (code, result)
        choices = list(by_asset.values()) or list(zip(codes, results, strict=True))
        if len(choices) == 1:
            self._show_photo_choice(*choices[0])
            return
        shown = []
        for code, result in choices:
            line = f"{code.label or code.format}: {code.text}"
            if result.card is not None:
                line += "  →  " + result.card.asset_tag
            shown.append(line)
        title = (
            self.tr("The photo shows codes of several assets. Show:")
            if by_asset
            else self.tr("The photo holds several codes and none matches an asset. Look at:")
        )
        choice, ok = QInputDialog.getItem(self, self.tr("Several codes"), title, shown, 0, False)
        if ok:
            self._show_photo_choice(*choices[shown.index(choice)])

    def _show_photo_choice(self, code: Any, result: LookupResult) -> None:
        self.status.clearMessage()  # "Reading codes in …" is over
        self.show_code(code.text)
        self._scan_serial += 1
        self._show_lookup(self._scan_serial, result)

    # -- importing ----------------------------------------------------------------------------

    def choose_import(self) -> None:
        """Asks for a catalogue file and imports it."""
        name, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Import catalogue"),
            "",
            self.tr("Catalogue files ({patterns});;All files (*)").format(
                patterns=CATALOGUE_FILTER
            ),
        )
        if name:
            self.import_catalogue(Path(name))

    def import_catalogue(self, path: Path, skip_bad_rows: bool = False) -> Job | None:
        """Imports a catalogue in the database lane with a progress bar and Cancel."""
        if self.workspace is None:
            return None
        workspace = self.workspace
        progress = QProgressDialog(
            self.tr("Importing {name}…").format(name=path.name), self.tr("Cancel"), 0, 0, self
        )
        progress.setWindowTitle(self.tr("Import catalogue"))
        progress.setMinimumDuration(300)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        job = self.lanes.db.submit(
            lambda job: workspace.catalogue.import_file(
                path,
                skip_bad_rows=skip_bad_rows,
                progress=job.report,
                cancelled=lambda: job.cancelled,
            ),
            lambda report: self._imported(path, report),
            lambda exc: self._import_failed(path, exc),
            name="import",
        )
        job.progressed.connect(lambda done, total: _set_progress(progress, done, total))
        progress.canceled.connect(job.cancel)
        job.finished.connect(progress.close)
        job.finished.connect(progress.deleteLater)
        return job

    def _imported(self, path: Path, report: ImportReport) -> None:
        text = self.tr("Imported {name}: {new} new, {updated} updated, {same} unchanged.").format(
            name=path.name, new=report.created, updated=report.updated, same=report.unchanged
        )
        if report.skipped:
            text += " " + self.tr("{n} bad rows skipped.").format(n=len(report.skipped))
        self.status.showMessage(text, 10000)
        self.refresh()
        self._reload_card()
        self.import_finished.emit(report)

    def _import_failed(self, path: Path, exc: BaseException) -> None:
        if isinstance(exc, ImportCancelled):
            self.status.showMessage(exc.message, 8000)
            return
        if isinstance(exc, ImportRefused):
            box = QMessageBox(self)
            box.setIcon(QMessageBox.Icon.Warning)
            box.setWindowTitle(self.tr("Some rows cannot be imported"))
            box.setText(exc.message)
            skip = box.addButton(
                self.tr("Skip bad rows and import"), QMessageBox.ButtonRole.AcceptRole
            )
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            if box.clickedButton() is skip:
                self.import_catalogue(path, skip_bad_rows=True)
            return
        self._report_error(exc)

    # -- general ------------------------------------------------------------------------------

    def _report_error(self, exc: BaseException) -> None:
        self.status.clearMessage()
        QMessageBox.warning(self, self.tr("FieldOps"), describe_error(exc))

    def _tab_changed(self, index: int) -> None:
        if index == 1:
            self.incident_list.request_refresh()

    def about(self) -> None:
        """The About box: version and where the data lives."""
        QMessageBox.about(
            self,
            self.tr("About FieldOps"),
            self.tr("FieldOps {version}\n\nData: {data}\nLog: {log}").format(
                version=__version__,
                data=self.data_dir.root,
                log=self.data_dir.logs / "fieldops.log",
            ),
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.scans)
        self.syncing.stop()
        self.lanes.close()
        self.lanes.wait(10_000)
        if app is not None:
            self.collector.collect()
        if self.workspace is not None:
            self.workspace.close()
        super().closeEvent(event)


def _set_progress(dialog: QProgressDialog, done: int, total: int) -> None:
    if total and dialog.maximum() != total:
        dialog.setMaximum(total)
    dialog.setValue(min(done, total))
