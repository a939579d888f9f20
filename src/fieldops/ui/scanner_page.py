"""Settings > Scanner: scan the test labels, see what the scanner does, keep the profile.

The page shows the test label as a QR code and as Code 128 (every printable ASCII character)
and a GS1 DataMatrix. What the scanner sends for them is recorded exactly, the profile is
worked out (`detect_profile`) and described in words; Save stores it for every later scan,
Forget removes it. "Try a scan" shows what a scan reads as through the profile on screen.
"""

from __future__ import annotations

import logging
from difflib import SequenceMatcher

import zxingcpp
from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from fieldops.domain.errors import FieldOpsError
from fieldops.domain.gs1 import parse_separated
from fieldops.domain.keyboard_layouts import LAYOUT_NAMES, Layout, untype
from fieldops.domain.scan import normalise_scan
from fieldops.domain.scan_errors import MisreadReason
from fieldops.domain.scanner_profile import (
    TEST_LABEL_GS1,
    TEST_LABEL_TEXT,
    ScannerProfile,
    detect_profile,
)
from fieldops.services.scanner_setup import ScannerSetup
from fieldops.ui.errors import describe_error
from fieldops.ui.lanes import Lanes
from fieldops.ui.scan_field import ScanField, ime_warning
from fieldops.ui.scanner_capture import CaptureArea, barcode_pixmap, visible

log = logging.getLogger(__name__)

_GS1_HEAD = TEST_LABEL_GS1[:16]  # the GTIN field: how a scan of the GS1 label starts
MIN_PART = 12  # characters of the test label in a row: a piece of it, not another code


def _tr(text: str) -> str:
    return QCoreApplication.translate("ScannerPage", text)


def _ends(text: str) -> str:
    names = {"": _tr("none"), "\r": _tr("Enter"), "\n": _tr("line feed"), "\t": _tr("Tab")}
    names["\r\n"] = _tr("Enter + line feed")
    return names.get(text, f"“{visible(text)}”")


def describe_profile(profile: ScannerProfile) -> list[tuple[str, str]]:
    """The profile in words, one (what, how) pair per setting."""
    aim = {True: _tr("sent"), False: _tr("not sent"), None: _tr("not known")}[profile.aim]
    caps = _tr("inverts letter case (corrected)") if profile.caps_lock_inverted else _tr("off")
    if profile.layout is Layout.US:
        keyboard = _tr("US scanner on US layout (nothing to correct)")
    else:
        keyboard = _tr("US scanner on {layout} layout (corrected)").format(
            layout=LAYOUT_NAMES[profile.layout]
        )
    if profile.gs_transmitted is None:
        gs = _tr("not checked (scan the GS1 label)")
    elif not profile.gs_transmitted:
        gs = _tr("dropped: GS1 codes with lots or serials may be refused")
    elif profile.gs_substitute is not None:
        gs = _tr("sent as “{char}”").format(char=visible(profile.gs_substitute))
    else:
        gs = _tr("sent")
    return [
        (_tr("Prefix"), _ends(profile.prefix)),
        (_tr("Suffix"), _ends(profile.suffix)),
        (_tr("AIM identifiers"), aim),
        (_tr("Caps Lock"), caps),
        (_tr("Keyboard"), keyboard),
        (_tr("GS1 separator"), gs),
    ]


def profile_summary(profile: ScannerProfile) -> str:
    """The profile as one line: `Prefix: none · Suffix: Enter · …`."""
    return " · ".join(f"{what}: {how}" for what, how in describe_profile(profile))


def part_of_label(scanned: str) -> bool:
    """Whether a scan is a good stretch of the test label, under some layout: a cut-off read."""
    core = "".join(char for char in scanned if char.isprintable()).strip()
    if len(core) < MIN_PART:
        return False
    for layout in Layout:
        for caps in (False, True):
            meant = untype(core, layout, caps_lock=caps)
            matcher = SequenceMatcher(None, meant, TEST_LABEL_TEXT, autojunk=False)
            matched = sum(block.size for block in matcher.get_matching_blocks())
            if matched >= max(MIN_PART, 0.9 * len(meant)):
                return True
    return False


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("font-weight: bold;")
    return label


def _picture(pixmap_label: QLabel, caption: str) -> QWidget:
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.addWidget(_caption(caption))
    column.addWidget(pixmap_label, 0, Qt.AlignmentFlag.AlignLeft)
    column.addStretch(1)
    return box


class ScannerPage(QWidget):
    """The scanner page of Settings."""

    # (ScannerProfile or None) after the stored profile was saved or forgotten
    profile_stored = Signal(object)

    def __init__(self, scanner: ScannerSetup, lanes: Lanes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scanner = scanner
        self.lanes = lanes
        self.candidate: ScannerProfile | None = None
        self._label_scan: str | None = None
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "Scan test label 1 (the QR code, or the Code 128 below it), then the GS1 "
                "label. FieldOps learns how this scanner types and corrects every later scan."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        top = QHBoxLayout()
        top.addWidget(self._labels(), 0)
        top.addWidget(self._capture_box(), 1)
        layout.addLayout(top)
        layout.addWidget(self._code128_box())
        layout.addWidget(self._try_box())
        layout.addStretch(1)
        self._show_stored()

    # -- building -----------------------------------------------------------------------------

    def _labels(self) -> QWidget:
        self.qr_label = QLabel()
        self.qr_label.setPixmap(barcode_pixmap(TEST_LABEL_TEXT, zxingcpp.BarcodeFormat.QRCode, 5))
        self.gs1_label = QLabel()
        gs1_text = parse_separated(TEST_LABEL_GS1).bracketed()
        self.gs1_label.setPixmap(
            barcode_pixmap(gs1_text, zxingcpp.BarcodeFormat.DataMatrix, 8, gs1=True)
        )
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(_picture(self.qr_label, self.tr("1. Test label (QR code)")), 0, 0)
        grid.addWidget(_picture(self.gs1_label, self.tr("2. GS1 label (DataMatrix)")), 0, 1)
        return box

    def _capture_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("What the scanner sends"))
        column = QVBoxLayout(box)
        self.step = QLabel()
        self.step.setWordWrap(True)
        self.capture = CaptureArea()
        self.capture.captured.connect(self.take_capture)
        self.capture.input_method_active.connect(lambda: self._show_error(ime_warning()))
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c62828; font-weight: bold;")
        self.problem.setVisible(False)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.save_button = QPushButton(self.tr("&Save profile"))
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save)
        self.forget_button = QPushButton(self.tr("&Forget profile"))
        self.forget_button.setAutoDefault(False)
        self.forget_button.clicked.connect(self.forget)
        self.saved_note = QLabel()
        self.saved_note.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.forget_button)
        buttons.addStretch(1)
        for widget in (self.step, self.capture, self.problem, self.result):
            column.addWidget(widget)
        column.addLayout(buttons)
        column.addWidget(self.saved_note)
        column.addStretch(1)
        return box

    def _code128_box(self) -> QWidget:
        self.code128_label = QLabel()
        self.code128_label.setPixmap(
            barcode_pixmap(TEST_LABEL_TEXT, zxingcpp.BarcodeFormat.Code128, 1, height=70)
        )
        scroller = QScrollArea()
        scroller.setWidget(self.code128_label)
        scroller.setFrameShape(QScrollArea.Shape.NoFrame)
        scroller.setFixedHeight(self.code128_label.pixmap().height() + 20)
        scroller.setAlignment(Qt.AlignmentFlag.AlignCenter)
        caption = self.tr("Test label 1 as Code 128, for scanners that do not read QR codes")
        return _picture_in(scroller, caption)

    def _try_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Try a scan"))
        column = QVBoxLayout(box)
        self.try_field = ScanField()
        self.try_field.setPlaceholderText(self.tr("Scan any label here to see what it reads as"))
        self.try_field.code_entered.connect(self.try_scan)
        self.try_field.input_method_active.connect(self._show_try_problem)
        self.try_result = QLabel()
        self.try_result.setWordWrap(True)
        self.try_result.setTextFormat(Qt.TextFormat.PlainText)
        column.addWidget(self.try_field)
        column.addWidget(self.try_result)
        return box

    # -- the captures -------------------------------------------------------------------------

    def take_capture(self, text: str) -> None:
        """One scan arrived in the capture area: test label 1, the GS1 label, or neither."""
        self.capture.show_text(text)
        try:
            profile = detect_profile(text)
        except FieldOpsError as not_label:
            self._other_capture(text, not_label)
            return
        self._label_scan = text
        self._set_candidate(profile)
        self.step.setText(
            self.tr(
                "Test label read. Now scan the GS1 label so FieldOps learns how the scanner "
                "sends GS1 separators, or save the profile as it is."
            )
        )

    def _other_capture(self, text: str, not_label: FieldOpsError) -> None:
        reason = getattr(not_label, "reason", None)
        looks_gs1 = _GS1_HEAD in text
        if reason is not MisreadReason.INCOMPLETE and not looks_gs1 and part_of_label(text):
            self._show_error(
                self.tr(
                    "Only part of the test label arrived: scan the whole label again, holding "
                    "the scanner so it sees the label from end to end."
                )
            )
            return
        if reason is MisreadReason.INCOMPLETE or not looks_gs1:
            self._show_error(not_label.message)
            return
        if self._label_scan is None:
            self._show_error(
                self.tr(
                    "That was the GS1 label: scan test label 1 (the QR code or the Code 128) "
                    "first, then the GS1 label."
                )
            )
            return
        try:
            profile = detect_profile(self._label_scan, scanned_gs1_label=text)
        except FieldOpsError as bad:
            self._show_error(bad.message)
            return
        self._set_candidate(profile)
        self.step.setText(self.tr("Both labels read. Save the profile to correct later scans."))

    def _set_candidate(self, profile: ScannerProfile) -> None:
        self.candidate = profile
        self.problem.setVisible(False)
        self.result.setText(_profile_html(self.tr("Detected"), profile))
        self.save_button.setEnabled(True)
        log.info("scanner profile detected: layout %s", profile.layout.value)

    def _show_error(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.setVisible(True)

    def scan_received(self, code: str) -> None:
        """A scan arrived elsewhere on the page: it is tried, as if scanned in Try a scan."""
        self.try_field.setText(code)
        self.try_scan(code)

    def try_scan(self, text: str) -> None:
        """Shows what a scan reads as through the detected (or else the stored) profile."""
        profile = self.candidate or self.scanner.profile
        try:
            scan = normalise_scan(text, profile)
        except FieldOpsError as bad:
            self.try_result.setText(bad.message)
            self.try_result.setStyleSheet("color: #c62828;")
            return
        notes = list(scan.corrections) + ([scan.rule] if scan.rule else []) + list(scan.warnings)
        shown = self.tr("Reads as: {code}").format(code=scan.code)
        if notes:
            shown += "  (" + "; ".join(notes) + ")"
        self.try_result.setText(shown)
        self.try_result.setStyleSheet("color: #1b5e20;")

    def _show_try_problem(self, message: str) -> None:
        self.try_result.setText(message)
        self.try_result.setStyleSheet("color: #c62828;")

    # -- storing ------------------------------------------------------------------------------

    def save(self) -> None:
        """Stores the detected profile (off the GUI thread)."""
        profile = self.candidate
        if profile is None:
            return
        self.save_button.setEnabled(False)
        scanner = self.scanner
        self.lanes.io.submit(
            lambda job: scanner.save(profile),
            lambda _r: self._stored(profile),
            self._store_failed,
            name="save-scanner-profile",
        )

    def forget(self) -> None:
        """Removes the stored profile (off the GUI thread)."""
        self.forget_button.setEnabled(False)
        scanner = self.scanner
        self.lanes.io.submit(
            lambda job: scanner.forget(),
            lambda _r: self._stored(None),
            self._store_failed,
            name="forget-scanner-profile",
        )

    def _stored(self, profile: ScannerProfile | None) -> None:
        self.candidate = None
        self._label_scan = None
        self._show_stored()
        if profile is not None:
            self.saved_note.setText(self.tr("Saved. Every later scan is corrected through it."))
        else:
            self.saved_note.setText(self.tr("Forgotten. Scans are no longer corrected."))
        self.profile_stored.emit(profile)

    def _store_failed(self, exc: BaseException) -> None:
        self._show_error(describe_error(exc))
        self.save_button.setEnabled(self.candidate is not None)
        self.forget_button.setEnabled(self.scanner.profile is not None)

    def _show_stored(self) -> None:
        stored = self.scanner.profile
        self.save_button.setEnabled(self.candidate is not None)
        self.forget_button.setEnabled(stored is not None)
        self.step.setText(self.tr("Click in the box below, then scan test label 1."))
        self.capture.show_text("")
        if self.scanner.problem:
            self._show_error(self.scanner.problem)
        if stored is None:
            self.result.setText(self.tr("No profile stored: scans are not corrected."))
        else:
            self.result.setText(_profile_html(self.tr("Stored profile"), stored))


def _picture_in(widget: QWidget, caption: str) -> QWidget:
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.addWidget(_caption(caption))
    column.addWidget(widget)
    return box


def _profile_html(title: str, profile: ScannerProfile) -> str:
    rows = "".join(
        f"<tr><td style='padding-right:12px'>{_html(what)}</td><td><b>{_html(how)}</b></td></tr>"
        for what, how in describe_profile(profile)
    )
    return f"<p><b>{_html(title)}</b></p><table>{rows}</table>"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
