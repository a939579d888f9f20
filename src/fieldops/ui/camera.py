"""Scan with the camera: a live viewfinder that reads a label and looks it up.

Frames come from a `FrameSource` (a camera in a capture session) into a `QVideoSink`; the
viewfinder paints the newest one and offers it to a `FrameDecoder`, which decodes on its own
thread and drops frames while it is busy. The first confident read (see `ReadJudge`) closes
the viewfinder and goes to `window.look_up` as a scanner's text would. Without a camera, or
when it fails, is taken away or may not be used, a sentence says so and offers the photo
route instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image
from PySide6.QtCore import (
    QCameraPermission,
    QCoreApplication,
    QObject,
    QPermission,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QHideEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtMultimedia import (
    QCamera,
    QCameraDevice,
    QMediaCaptureSession,
    QMediaDevices,
    QVideoFrame,
    QVideoSink,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from fieldops.domain.errors import FieldOpsError
from fieldops.domain.scan import ScanSource
from fieldops.media.barcodes import UNREADABLE_HINT, DecodedCode, DecodeReport
from fieldops.ui.camera_frames import (
    FrameDecoder,
    FrameRead,
    ReadJudge,
    ViewfinderView,
    decode_frame,
    usable,
)
from fieldops.ui.camera_frames import stop_all_decoders as _stop_all_decoders
from fieldops.ui.errors import describe_error

if TYPE_CHECKING:
    from fieldops.ui.main_window import MainWindow

log = logging.getLogger(__name__)


def _t(text: str) -> str:
    return QCoreApplication.translate("Camera", text)


class CameraError(FieldOpsError):
    """The camera cannot be used: none, not allowed, failed or taken away."""

    code = "camera"


def no_camera() -> CameraError:
    """This computer has no camera."""
    return CameraError(
        _t("This computer has no camera FieldOps can use, so scan a photo of the label instead."),
        code="camera-none",
    )


def camera_refused() -> CameraError:
    """The system does not let FieldOps use the camera."""
    return CameraError(
        _t(
            "FieldOps is not allowed to use the camera: allow it under Camera in the system's "
            "privacy settings and try again, or scan a photo of the label instead."
        ),
        code="camera-denied",
    )


def camera_failed(name: str) -> CameraError:
    """The camera stopped working or could not start."""
    return CameraError(
        _t(
            "The camera “{name}” stopped working; try again, choose another camera, or scan a "
            "photo of the label instead."
        ).format(name=name),
        code="camera-failed",
    )


def camera_removed(name: str) -> CameraError:
    """The camera in use was disconnected."""
    return CameraError(
        _t(
            "The camera “{name}” was disconnected; connect it again, choose another camera, or "
            "scan a photo of the label instead."
        ).format(name=name),
        code="camera-removed",
    )


@dataclass(frozen=True)
class CameraChoice:
    """One camera the person can pick."""

    id: str
    name: str
    device: QCameraDevice | None = None


def list_cameras() -> list[CameraChoice]:
    """The cameras connected now, the system's default first."""
    default = QMediaDevices.defaultVideoInput()
    devices = sorted(QMediaDevices.videoInputs(), key=lambda device: device != default)
    return [
        CameraChoice(
            bytes(device.id().data()).decode("utf-8", "replace"), device.description(), device
        )
        for device in devices
    ]


class FrameSource(QObject):
    """Where the viewfinder's frames come from; it sends them to the sink it is started on."""

    # (CameraError) when the source stops working
    failed = Signal(object)

    def start(self, sink: QVideoSink) -> None:
        """Starts sending frames to `sink`."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stops sending frames and lets the device go."""
        raise NotImplementedError


class CameraSource(FrameSource):
    """A real camera in a capture session."""

    def __init__(self, choice: CameraChoice, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._choice = choice
        self._session = QMediaCaptureSession(self)
        self._camera: QCamera | None = None

    def start(self, sink: QVideoSink) -> None:
        """Opens the camera and sends its picture to `sink`."""
        device = self._choice.device
        if device is None or device.isNull():
            self.failed.emit(camera_removed(self._choice.name))
            return
        self._camera = QCamera(device, self)
        self._camera.errorOccurred.connect(self._camera_error)
        self._session.setCamera(self._camera)
        self._session.setVideoSink(sink)
        self._camera.start()

    def stop(self) -> None:
        """Stops the camera so the system can give it to someone else."""
        if self._camera is not None:
            self._camera.stop()
            self._session.setCamera(None)  # type: ignore[arg-type]  # Qt takes a null camera
            self._camera.deleteLater()
            self._camera = None
        self._session.setVideoSink(None)  # type: ignore[arg-type]  # and a null sink

    @Slot(QCamera.Error, str)
    def _camera_error(self, error: QCamera.Error, text: str) -> None:
        log.warning("camera %s failed: %s (%s)", self._choice.name, error, text)
        self.stop()
        self.failed.emit(camera_failed(self._choice.name))


class CameraPermission:
    """Whether FieldOps may use the camera (asked on macOS and Windows; granted elsewhere)."""

    def check(self) -> Qt.PermissionStatus:
        """The system's answer so far."""
        app = QCoreApplication.instance()
        if app is None:
            return Qt.PermissionStatus.Granted
        return app.checkPermission(QCameraPermission())

    def request(self, context: QObject, answered: Callable[[Qt.PermissionStatus], None]) -> None:
        """Asks the person; `answered` gets the outcome on the GUI thread."""
        app = QCoreApplication.instance()
        if app is None:
            answered(Qt.PermissionStatus.Granted)
            return

        def reply(permission: QPermission) -> None:
            answered(permission.status())

        app.requestPermission(QCameraPermission(), context, reply)


_VIEW, _MESSAGE = 0, 1
UNREADABLE_FRAMES = 3


class CameraDialog(QDialog):
    """The viewfinder: shows the camera's picture until a label is read confidently."""

    # (DecodedCode) the confident read; the dialog has closed
    code_read = Signal(object)
    # (str) a scanner sent this while the viewfinder was open; the dialog has closed
    text_scanned = Signal(str)
    # () the person chose to scan a photo instead; the dialog has closed
    photo_requested = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        cameras: Sequence[CameraChoice] | None = None,
        make_source: Callable[[CameraChoice], FrameSource] | None = None,
        decode: Callable[[Image.Image], DecodeReport] = decode_frame,
        permission: CameraPermission | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Scan with camera"))
        self._cameras = list_cameras() if cameras is None else list(cameras)
        self._make_source = make_source or (lambda choice: CameraSource(choice, self))
        self._permission = permission or CameraPermission()
        self._source: FrameSource | None = None
        self._current: CameraChoice | None = None
        self._judge = ReadJudge()
        self._unreadable = 0  # frames in a row where a code was seen but not read
        self._closing = False
        self._begun = False
        self.sink = QVideoSink(self)
        # The sink may signal from the camera's own thread: the queued call reaches the GUI
        # thread, where taking or dropping a frame is quick.
        self.sink.videoFrameChanged.connect(self._frame_arrived)
        self.decoder = FrameDecoder(decode)
        self.decoder.frame_decoded.connect(self._frame_decoded)
        self.decoder.frame_failed.connect(self._frame_failed)
        # Deleted with its window without being closed: the decoder's thread must still end.
        self.destroyed.connect(self.decoder.stop)
        self._build()
        if cameras is None:  # real devices: follow them being plugged in and taken away
            self._devices = QMediaDevices(self)
            self._devices.videoInputsChanged.connect(lambda: self.cameras_changed(list_cameras()))
        self._fill_chooser()

    # -- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        chooser_row = QHBoxLayout()
        self.chooser_label = QLabel(self.tr("Ca&mera:"))
        self.chooser = QComboBox()
        self.chooser_label.setBuddy(self.chooser)
        self.chooser.activated.connect(self._camera_chosen)
        chooser_row.addWidget(self.chooser_label)
        chooser_row.addWidget(self.chooser, 1)
        layout.addLayout(chooser_row)

        self.pages = QStackedWidget()
        self.view = ViewfinderView()
        self.pages.addWidget(self.view)
        self.pages.addWidget(self._message_page())
        layout.addWidget(self.pages, 1)

        self.hint = QLabel(self._aim_hint())
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        layout.addWidget(buttons)
        if self._cameras:
            self.resize(760, 600)
        else:  # only a sentence to show: no room kept for a picture
            self.view.setMinimumSize(QSize(0, 0))
            self.resize(560, 200)

    def _message_page(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.addStretch(1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.message.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.message.setFont(font)
        column.addWidget(self.message)
        row = QHBoxLayout()
        row.addStretch(1)
        self.photo_button = QPushButton(self.tr("Scan from &photo…"))
        self.photo_button.clicked.connect(self._photo_chosen)
        self.retry_button = QPushButton(self.tr("&Try again"))
        self.retry_button.clicked.connect(self._begin)
        row.addWidget(self.photo_button)
        row.addWidget(self.retry_button)
        row.addStretch(1)
        column.addLayout(row)
        column.addStretch(1)
        return page

    def _fill_chooser(self) -> None:
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for choice in self._cameras:
            self.chooser.addItem(choice.name, choice.id)
        if self._current is not None and self._current in self._cameras:
            self.chooser.setCurrentIndex(self._cameras.index(self._current))
        self.chooser.blockSignals(False)
        several = len(self._cameras) > 1
        self.chooser.setVisible(several)
        self.chooser_label.setVisible(several)

    def _aim_hint(self) -> str:
        return self.tr("Hold the label inside the frame, about a hand's width from the camera.")

    # -- starting and stopping ------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._begun:
            self._begun = True
            self._begin()

    def _begin(self) -> None:
        if self._closing:
            return
        if not self._cameras:
            self._show_problem(no_camera())
            return
        status = self._permission.check()
        if status == Qt.PermissionStatus.Undetermined:
            self.hint.setText(self.tr("Waiting for permission to use the camera…"))
            self._permission.request(self, self._permission_answered)
        elif status == Qt.PermissionStatus.Denied:
            self._show_problem(camera_refused())
        else:
            self._start(self._cameras[max(0, self.chooser.currentIndex())])

    def _permission_answered(self, status: Qt.PermissionStatus) -> None:
        if status == Qt.PermissionStatus.Granted:
            self._begin()
        else:
            self._show_problem(camera_refused())

    def _start(self, choice: CameraChoice) -> None:
        self._stop_source()
        self._current = choice
        self._judge = ReadJudge()
        self.view.set_outlines(None, [])
        self.view.setMinimumSize(QSize(480, 320))
        self.pages.setCurrentIndex(_VIEW)
        self.hint.setVisible(True)
        self.hint.setText(self._aim_hint())
        self.cancel_button.setText(self.tr("Cancel"))
        source = self._make_source(choice)
        source.failed.connect(lambda error: self._source_failed(source, error))
        self._source = source
        log.info("viewfinder started on camera %s", choice.name)
        source.start(self.sink)

    def _stop_source(self) -> None:
        if self._source is not None:
            self._source.stop()
            if self._source.parent() is self:
                self._source.deleteLater()
            self._source = None

    def _shut_down(self) -> None:
        """Stops the camera and the decoder; a frame being decoded is finished and dropped."""
        self._closing = True
        self._stop_source()
        self.decoder.stop()

    def done(self, result: int) -> None:
        self._shut_down()
        super().done(result)

    def hideEvent(self, event: QHideEvent) -> None:
        # Hidden along with its window (not minimised): nobody is looking, let the camera go.
        if not event.spontaneous():
            self._shut_down()
        super().hideEvent(event)

    # -- frames -------------------------------------------------------------------------------

    @Slot(QVideoFrame)
    def _frame_arrived(self, frame: QVideoFrame) -> None:
        if self._closing or self._source is None or not frame.isValid():
            return
        self.view.show_frame(frame)
        self.decoder.offer(frame)

    @Slot(object)
    def _frame_decoded(self, read: FrameRead) -> None:
        if self._closing:
            return
        code = self._judge.judge(read)
        if code is not None:
            self._read(code)
            return
        seen = usable(read.report.codes)
        self.view.set_outlines(read, seen)
        if seen:
            self._unreadable = 0
            self.hint.setText(
                self.tr("Found {kind} {text}; hold still to confirm.").format(
                    kind=seen[0].label or seen[0].format, text=seen[0].text
                )
            )
            return
        # A textured scene can look like a damaged code in one frame: only a run of such
        # frames means a real code too small or blurred to read.
        self._unreadable = self._unreadable + 1 if read.report.hint == UNREADABLE_HINT else 0
        if self._unreadable >= UNREADABLE_FRAMES:
            self.hint.setText(self.tr(UNREADABLE_HINT))
        else:
            self.hint.setText(self._aim_hint())

    @Slot(object)
    def _frame_failed(self, exc: BaseException) -> None:
        if not self._closing:
            self.hint.setText(describe_error(exc))

    def _read(self, code: DecodedCode) -> None:
        log.info("camera read a %s code", code.format)
        self.accept()
        self.code_read.emit(code)

    # -- problems and choices -----------------------------------------------------------------

    def _show_problem(self, error: CameraError) -> None:
        self._stop_source()
        self.message.setText(describe_error(error))
        self.retry_button.setVisible(bool(self._cameras) and error.code != "camera-none")
        self.photo_button.setDefault(True)
        self.pages.setCurrentIndex(_MESSAGE)
        self.hint.setText("")
        self.hint.setVisible(False)
        self.cancel_button.setText(self.tr("Close"))
        self.photo_button.setFocus()

    def _source_failed(self, source: FrameSource, error: CameraError) -> None:
        if source is self._source and not self._closing:  # not an old camera's last word
            self._show_problem(error)

    @Slot(int)
    def _camera_chosen(self, index: int) -> None:
        if 0 <= index < len(self._cameras) and not self._closing:
            self._start(self._cameras[index])

    def cameras_changed(self, cameras: Sequence[CameraChoice]) -> None:
        """The connected cameras changed: follow them, and say so if ours was taken away."""
        self._cameras = list(cameras)
        current = self._current
        self._fill_chooser()
        if self._closing:
            return
        if current is not None and current not in self._cameras:
            log.warning("camera %s was disconnected", current.name)
            self._current = None
            self._show_problem(camera_removed(current.name))
        elif current is None and self.pages.currentIndex() == _MESSAGE:
            self.retry_button.setVisible(bool(self._cameras))

    def _photo_chosen(self) -> None:
        self.reject()
        self.photo_requested.emit()

    def scan_received(self, code: str) -> None:
        """A scanner sent a code while the viewfinder was open: the scanner's read wins."""
        self.accept()
        self.text_scanned.emit(code)

    @property
    def showing_problem(self) -> bool:
        """Whether a sentence about the camera is shown instead of the picture."""
        return self.pages.currentIndex() == _MESSAGE


# -- the window ---------------------------------------------------------------------------------


def install(window: MainWindow) -> None:
    """Adds File > Scan with camera… (Ctrl+Shift+C) to the window."""
    menu = _file_menu(window)
    action = QAction(_t("Scan with &camera…"), window)
    action.setShortcut(QKeySequence("Ctrl+Shift+C"))
    action.triggered.connect(lambda: open_camera(window))
    actions = menu.actions()
    photo = QCoreApplication.translate("MainWindow", "Scan from &photo…")
    after = next((i for i, a in enumerate(actions) if a.text() == photo), None)
    if after is not None and after + 1 < len(actions):
        menu.insertAction(actions[after + 1], action)
    else:
        menu.addAction(action)
    app = QApplication.instance()
    if app is not None and not app.property("fieldopsCameraExit"):
        # A frame being decoded at exit is finished before the interpreter goes.
        app.aboutToQuit.connect(lambda: _stop_all_decoders(3000))
        app.setProperty("fieldopsCameraExit", True)


def _file_menu(window: MainWindow) -> QMenu:
    wanted = QCoreApplication.translate("MainWindow", "&File")
    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and action.text() == wanted:
            return menu
    return window.menuBar().addMenu(wanted)


def open_camera(
    window: MainWindow,
    *,
    cameras: Sequence[CameraChoice] | None = None,
    make_source: Callable[[CameraChoice], FrameSource] | None = None,
    decode: Callable[[Image.Image], DecodeReport] = decode_frame,
    permission: CameraPermission | None = None,
) -> CameraDialog:
    """Opens the viewfinder over the window; a read goes to the window's lookup."""
    dialog = CameraDialog(
        window, cameras=cameras, make_source=make_source, decode=decode, permission=permission
    )
    dialog.code_read.connect(
        lambda code: _look_up(window, code.text, code.scan_text, ScanSource.IMAGE)
    )
    dialog.text_scanned.connect(lambda text: _look_up(window, text, text, ScanSource.KEYBOARD))
    # After the viewfinder has gone: the photo route opens a file dialog of its own.
    dialog.photo_requested.connect(lambda: QTimer.singleShot(0, lambda: window.choose_photo_scan()))
    # Tracked like the window's own dialogs, so a scanner's burst reaches `scan_received`.
    window.track_dialog(dialog)
    dialog.open()
    return dialog


def _look_up(window: MainWindow, shown: str, scanned: str, source: ScanSource) -> None:
    """Hands a read to the window like a scanner's text: field filled, then looked up.

    A frame's code never went through a keyboard, so the scanner profile is not applied to it.
    """
    window.show_code(shown)
    window.look_up(scanned, source)
