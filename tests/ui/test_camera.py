"""Scan with the camera: frames through Qt's real capture pipeline, read, looked up, shown.

This machine has no camera: frames come from Qt's own `QVideoFrameInput` set on a
`QMediaCaptureSession`, which sends them to the viewfinder's `QVideoSink` as a camera would.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest
import shiboken6
import zxingcpp
from PIL import Image
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import (
    QMediaCaptureSession,
    QMediaDevices,
    QVideoFrame,
    QVideoFrameFormat,
    QVideoFrameInput,
    QVideoSink,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from fieldops.domain.scan import ScanSource
from fieldops.media.barcodes import DecodedCode, DecodeReport
from fieldops.ui.camera import (
    CameraChoice,
    CameraDialog,
    CameraPermission,
    FrameSource,
    camera_failed,
    camera_refused,
    camera_removed,
    no_camera,
    open_camera,
)
from fieldops.ui.camera_frames import (
    FrameRead,
    ReadJudge,
    decode_frame,
    frame_to_gray,
    running_decoders,
    stop_all_decoders,
)
from fieldops.ui.main_window import MainWindow
from tests.ui.test_scan_anywhere import burst

TAG = "IT-000217"  # a demo asset: serial J344WPWW, BR-LEEDS
FRAME = (1280, 720)
TEST_CAMERA = CameraChoice("test-camera", "Test camera")


class FrameInputSource(FrameSource):
    """Frames pushed by the test through Qt's QVideoFrameInput: stands in for a camera."""

    def __init__(self) -> None:
        super().__init__()
        self.session = QMediaCaptureSession(self)
        self.input = QVideoFrameInput(self)
        self.running = False
        self.starts = 0

    def start(self, sink: QVideoSink) -> None:
        self.session.setVideoFrameInput(self.input)
        self.session.setVideoSink(sink)
        self.running = True
        self.starts += 1

    def stop(self) -> None:
        self.running = False
        self.session.setVideoSink(None)

    def push(self, image: QImage) -> bool:
        """Sends one frame as the camera would; False once stopped."""
        return self.running and bool(self.input.sendVideoFrame(QVideoFrame(image)))


def code_frame(text: str, fmt: str = "QRCode", scale: int = 6, size=FRAME) -> QImage:
    """A colour frame with one generated code in the middle of a grey, textured scene."""
    barcode = zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, fmt))
    symbol = Image.fromarray(np.array(barcode.to_image(scale=scale)), "L")
    scene = blank_scene(size)
    scene.paste(symbol, ((size[0] - symbol.width) // 2, (size[1] - symbol.height) // 2))
    return to_qimage(scene)


def blank_scene(size=FRAME) -> Image.Image:
    rng = np.random.default_rng(5)
    noise = rng.normal(150, 12, (size[1], size[0])).clip(0, 255).astype(np.uint8)
    return Image.fromarray(noise, "L")


def to_qimage(gray: Image.Image) -> QImage:
    """An RGB32 frame (what many cameras' frames turn into) holding its own pixels."""
    rgb = gray.convert("RGB")
    data = rgb.tobytes()  # QImage reads from this buffer without copying: keep it alive
    image = QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888)
    return image.convertToFormat(QImage.Format.Format_RGB32)


@pytest.fixture
def window(open_window, demo_data_dir) -> MainWindow:
    """The main window on the demo catalogue (the window installs the camera action itself)."""
    return open_window(demo_data_dir)


@pytest.fixture(autouse=True)
def no_decoder_left():
    """Every test ends with its decoding threads gone, whatever it left open."""
    yield
    assert stop_all_decoders(10_000), "a decoding thread did not end"


@pytest.fixture
def looked_up(window: MainWindow, monkeypatch) -> list[str]:
    """Every code handed to the window's lookup (which still runs for real)."""
    calls: list[str] = []
    sources: list[ScanSource] = []
    window.looked_up_sources = sources  # type: ignore[attr-defined]
    real = window.look_up

    def spy(code: str, source: ScanSource = ScanSource.KEYBOARD) -> None:
        calls.append(code)
        sources.append(source)
        real(code, source)

    monkeypatch.setattr(window, "look_up", spy)
    return calls


@pytest.fixture
def photo_route(window: MainWindow, monkeypatch) -> list[int]:
    """Records the photo route being taken; the real one opens a native file dialog that an
    offscreen test cannot answer."""
    taken: list[int] = []
    monkeypatch.setattr(window, "choose_photo_scan", lambda: taken.append(1))
    return taken


class Gate:
    """A decoder that waits to be let through, to make decoding as slow as a test needs."""

    def __init__(self, decode: Callable[[Image.Image], DecodeReport] = decode_frame) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self._decode = decode

    def __call__(self, image: Image.Image) -> DecodeReport:
        self.started.set()
        assert self.release.wait(20), "the test never let the decode through"
        return self._decode(image)


def open_fake(window: MainWindow, source: FrameSource, **options) -> CameraDialog:
    options.setdefault("cameras", [TEST_CAMERA])
    dialog = open_camera(window, make_source=lambda choice: source, **options)
    assert isinstance(source, FrameInputSource)
    assert source.running, "the viewfinder did not start its source"
    return dialog


def closed(dialog: CameraDialog) -> bool:
    """Whether the viewfinder has gone (the window deletes closed dialogs)."""
    return not shiboken6.isValid(dialog) or not dialog.isVisible()


def card_tag(window: MainWindow) -> str | None:
    return window.card.card.asset_tag if window.card.card is not None else None


# -- reading --------------------------------------------------------------------------------------


def test_a_qr_of_a_demo_tag_is_looked_up_and_its_card_shown(qtbot, window, looked_up) -> None:
    source = FrameInputSource()
    dialog = open_fake(window, source)
    with qtbot.waitSignal(window.lookup_shown, timeout=15_000) as shown:
        assert source.push(code_frame(TAG))
    result = shown.args[0]
    assert result.found and result.card.asset_tag == TAG
    assert card_tag(window) == TAG
    assert window.card._fields["serial"].text() == "J344WPWW"
    assert window.scan_field.text() == TAG
    assert looked_up == [f"]Q1{TAG}"], "handed over as a scanner with AIM identifiers sends it"
    assert window.looked_up_sources == [ScanSource.IMAGE], "a frame skips the keyboard profile"
    assert closed(dialog) and not source.running, "the camera must stop after a read"


def test_blank_frames_then_a_code_frame_make_one_lookup(qtbot, window, looked_up) -> None:
    source = FrameInputSource()
    dialog = open_fake(window, source)
    for count in (1, 2):
        source.push(to_qimage(blank_scene()))
        qtbot.waitUntil(lambda n=count: dialog.decoder.decoded >= n, timeout=10_000)
    assert looked_up == [] and dialog.isVisible()
    assert "hand's width" in dialog.hint.text()

    code = code_frame(TAG, "Code128", scale=3)
    pusher = QTimer()
    pusher.timeout.connect(lambda: source.push(code))
    with qtbot.waitSignal(window.lookup_shown, timeout=15_000):
        pusher.start(15)
    pusher.stop()
    qtbot.waitUntil(lambda: not window.lanes.read.busy(), timeout=10_000)
    assert looked_up == [f"]C0{TAG}"]
    assert card_tag(window) == TAG
    assert not source.push(code), "no frame is taken after the read"
    assert closed(dialog)


def test_a_code_without_strong_checks_must_read_the_same_twice(qtbot, window, looked_up) -> None:
    source = FrameInputSource()
    dialog = open_fake(window, source)
    code = code_frame(TAG, "Code39", scale=3)
    source.push(code)
    qtbot.waitUntil(lambda: dialog.decoder.decoded >= 1, timeout=10_000)
    assert looked_up == [], "one Code 39 read is not enough: it has no check character"
    assert "hold still" in dialog.hint.text() and TAG in dialog.hint.text()

    with qtbot.waitSignal(window.lookup_shown, timeout=15_000):
        source.push(code)
    assert len(looked_up) == 1 and looked_up[0].endswith(TAG)
    assert card_tag(window) == TAG


def test_a_flood_of_frames_while_decoding_is_slow(qtbot, window, looked_up) -> None:
    source = FrameInputSource()
    gate = Gate()
    dialog = open_fake(window, source, decode=gate)
    frame = code_frame(TAG)
    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
    rss: list[int] = [resident_bytes()]
    pushed: list[int] = []

    def push() -> None:
        if len(pushed) < 100:
            # A copy of its own for each frame, as a camera's buffers are: a queue of them
            # would show in the memory used.
            source.push(frame.copy())
            pushed.append(1)
            rss.append(resident_bytes())

    pusher = QTimer()
    pusher.timeout.connect(push)
    heartbeat.start(5)
    pusher.start(1)
    qtbot.waitUntil(lambda: len(pushed) == 100, timeout=30_000)
    pusher.stop()
    assert gate.started.is_set() and dialog.decoder.busy
    assert dialog.decoder.offered == 100 and dialog.decoder.dropped == 99

    with qtbot.waitSignal(window.lookup_shown, timeout=15_000):
        gate.release.set()
    heartbeat.stop()
    qtbot.waitUntil(lambda: running_decoders() == 0, timeout=10_000)

    gaps = np.diff(beats) * 1000
    assert len(beats) > 20 and gaps.max() < 50, f"the GUI stalled {gaps.max():.0f} ms"
    frame_bytes = frame.sizeInBytes()
    assert max(rss) - rss[0] < 20 * frame_bytes, "frames were kept instead of dropped"
    assert looked_up == [f"]Q1{TAG}"]


def resident_bytes() -> int:
    """This process's resident memory (Linux /proc; the test machines run Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_closing_mid_decode_leaves_no_thread_running(qtbot, window, looked_up) -> None:
    source = FrameInputSource()
    gate = Gate()
    dialog = open_fake(window, source, decode=gate)
    source.push(code_frame(TAG))
    qtbot.waitUntil(gate.started.is_set, timeout=10_000)
    decoder = dialog.decoder

    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert closed(dialog) and not source.running, "Escape stops the camera at once"
    assert decoder.is_running(), "the decode in hand is finished on its thread, not waited for"
    gate.release.set()
    qtbot.waitUntil(lambda: not decoder.is_running() and decoder.decoded == 1, timeout=10_000)
    assert running_decoders() == 0
    assert looked_up == [], "a read finished after closing is dropped"


def test_cancel_closes_the_viewfinder(qtbot, window) -> None:
    source = FrameInputSource()
    dialog = open_fake(window, source)
    source.push(to_qimage(blank_scene()))
    qtbot.waitUntil(lambda: dialog.decoder.decoded >= 1, timeout=10_000)
    assert dialog.cancel_button.text() == "Cancel"
    dialog.cancel_button.click()
    assert closed(dialog) and not source.running
    qtbot.waitUntil(lambda: running_decoders() == 0, timeout=10_000)
    assert dialog not in window._dialogs


def test_a_scanner_burst_while_the_viewfinder_is_open_wins(qtbot, window, looked_up) -> None:
    source = FrameInputSource()
    dialog = open_fake(window, source)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.isAncestorOf(QApplication.focusWidget()), timeout=5000)
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000):
        burst(dialog, "003271")
    assert looked_up == ["003271"] and card_tag(window) == "003271"
    assert closed(dialog) and not source.running


# -- no camera, and cameras that fail --------------------------------------------------------


def test_the_menu_has_scan_with_camera_after_scan_from_photo(window) -> None:
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    texts = [a.text() for a in file_menu.actions()]
    at = texts.index("Scan from &photo…")
    assert texts[at + 1] == "Scan with &camera…"
    assert file_menu.actions()[at + 1].shortcut().toString() == "Ctrl+Shift+C"


def test_no_camera_here_explains_and_offers_the_photo_route(qtbot, window, photo_route) -> None:
    if QMediaDevices.videoInputs():
        pytest.skip("this machine has a camera; the forced test below covers the branch")
    QTest.keySequence(window, "Ctrl+Shift+C")
    qtbot.waitUntil(
        lambda: isinstance(QApplication.activeModalWidget(), CameraDialog), timeout=5000
    )
    assert_no_camera(qtbot, QApplication.activeModalWidget(), photo_route)


def test_no_camera_forced_explains_and_offers_the_photo_route(qtbot, window, photo_route) -> None:
    dialog = open_camera(window, cameras=[])
    assert_no_camera(qtbot, dialog, photo_route)


def assert_no_camera(qtbot, dialog: CameraDialog, photo_route: list[int]) -> None:
    assert dialog.showing_problem
    assert dialog.message.text() == no_camera().message
    assert dialog.message.text().count(".") == 1, "one sentence"
    assert dialog.photo_button.isVisible() and not dialog.retry_button.isVisible()
    assert not dialog.chooser.isVisible()
    assert dialog.cancel_button.text() == "Close"
    dialog.photo_button.click()
    assert closed(dialog)
    qtbot.waitUntil(lambda: photo_route == [1], timeout=5000)


def test_a_failing_camera_shows_a_sentence_and_can_be_retried(qtbot, window) -> None:
    source = FrameInputSource()
    dialog = open_fake(window, source)
    source.failed.emit(camera_failed("Test camera"))
    assert dialog.showing_problem and not source.running
    assert dialog.message.text() == camera_failed("Test camera").message
    assert "Traceback" not in dialog.message.text()
    assert dialog.retry_button.isVisible()
    dialog.retry_button.click()
    assert not dialog.showing_problem and source.running and source.starts == 2
    dialog.reject()


def test_a_camera_that_is_not_there_any_more_says_so(qtbot, window) -> None:
    # The real camera source, on a camera that is gone by the time it starts.
    dialog = open_camera(window, cameras=[CameraChoice("usb-1", "USB camera", None)])
    assert dialog.showing_problem
    assert dialog.message.text() == camera_removed("USB camera").message
    dialog.reject()


def test_a_camera_taken_away_mid_use_says_so(qtbot, window) -> None:
    front, back = CameraChoice("front", "Front camera"), CameraChoice("back", "Back camera")
    sources: dict[str, FrameInputSource] = {}

    def make(choice: CameraChoice) -> FrameSource:
        sources[choice.id] = FrameInputSource()
        return sources[choice.id]

    dialog = open_camera(window, cameras=[front, back], make_source=make)
    assert dialog.chooser.isVisible() and dialog.chooser.count() == 2
    dialog.cameras_changed([front, back])  # a list that still holds ours changes nothing
    assert not dialog.showing_problem

    dialog.cameras_changed([back])
    assert dialog.showing_problem and not sources["front"].running
    assert dialog.message.text() == camera_removed("Front camera").message
    assert not dialog.chooser.isVisible(), "one camera left: nothing to choose"
    dialog.retry_button.click()
    assert sources["back"].running and not dialog.showing_problem
    dialog.reject()


def test_several_cameras_offer_a_chooser(qtbot, window, looked_up) -> None:
    cameras = [CameraChoice("front", "Front camera"), CameraChoice("back", "Back camera")]
    started: list[str] = []
    sources: dict[str, FrameInputSource] = {}

    def make(choice: CameraChoice) -> FrameSource:
        started.append(choice.id)
        sources[choice.id] = FrameInputSource()
        return sources[choice.id]

    dialog = open_camera(window, cameras=cameras, make_source=make)
    assert [dialog.chooser.itemText(i) for i in range(2)] == ["Front camera", "Back camera"]
    dialog.chooser.setCurrentIndex(1)
    dialog.chooser.activated.emit(1)
    assert started == ["front", "back"]
    assert not sources["front"].running and sources["back"].running
    with qtbot.waitSignal(window.lookup_shown, timeout=15_000):
        sources["back"].push(code_frame(TAG))
    assert card_tag(window) == TAG


class AnsweredPermission(CameraPermission):
    """The system's camera permission as macOS or Windows would give it: on this machine Qt
    grants the camera without asking, so the refusal is played here."""

    def __init__(self, now: Qt.PermissionStatus, answer: Qt.PermissionStatus) -> None:
        self.now, self.answer, self.asked = now, answer, 0

    def check(self) -> Qt.PermissionStatus:
        return self.now

    def request(self, context, answered) -> None:
        self.asked += 1
        self.now = self.answer
        QTimer.singleShot(0, lambda: answered(self.answer))


def test_the_permission_check_here_grants_the_camera() -> None:
    assert CameraPermission().check() == Qt.PermissionStatus.Granted


@pytest.mark.parametrize("now", [Qt.PermissionStatus.Denied, Qt.PermissionStatus.Undetermined])
def test_a_refused_camera_permission_is_explained(qtbot, window, now) -> None:
    source = FrameInputSource()
    permission = AnsweredPermission(now, Qt.PermissionStatus.Denied)
    dialog = open_camera(
        window, cameras=[TEST_CAMERA], make_source=lambda c: source, permission=permission
    )
    qtbot.waitUntil(lambda: dialog.showing_problem, timeout=5000)
    assert dialog.message.text() == camera_refused().message
    assert not source.running and source.starts == 0
    assert permission.asked == (1 if now == Qt.PermissionStatus.Undetermined else 0)
    dialog.reject()


def test_a_granted_permission_starts_the_camera(qtbot, window) -> None:
    source = FrameInputSource()
    permission = AnsweredPermission(Qt.PermissionStatus.Undetermined, Qt.PermissionStatus.Granted)
    dialog = open_camera(
        window, cameras=[TEST_CAMERA], make_source=lambda c: source, permission=permission
    )
    assert "permission" in dialog.hint.text()
    qtbot.waitUntil(lambda: source.running, timeout=5000)
    assert not dialog.showing_problem and permission.asked == 1
    dialog.reject()


def test_a_yuv_frame_reaches_the_viewfinder(qtbot, window) -> None:
    """A frame in a camera's own pixel format (NV12, padded lines) is painted and decoded."""
    source = FrameInputSource()
    dialog = open_fake(window, source)
    frame = nv12_frame(np.full((120, 161), 60, np.uint8))
    assert source.input.sendVideoFrame(frame)
    qtbot.waitUntil(lambda: dialog.decoder.decoded >= 1, timeout=10_000)
    shot = dialog.view.grab().toImage()
    centre = shot.pixelColor(shot.width() // 2, shot.height() // 2)
    assert centre.lightness() < 80, "the frame was not painted"
    dialog.reject()


def nv12_frame(luma: np.ndarray) -> QVideoFrame:
    """An NV12 video frame holding this luma plane and neutral colour."""
    height, width = luma.shape
    frame = QVideoFrame(
        QVideoFrameFormat(QSize(width, height), QVideoFrameFormat.PixelFormat.Format_NV12)
    )
    assert frame.map(QVideoFrame.MapMode.WriteOnly)
    stride = frame.bytesPerLine(0)
    plane = np.zeros((height, stride), np.uint8)
    plane[:, :width] = luma
    y = frame.bits(0)
    y[:] = plane.tobytes()[: len(y)]
    uv = frame.bits(1)
    uv[:] = bytes([128]) * len(uv)
    frame.unmap()
    return frame


# -- frames and the confident read ----------------------------------------------------------------


def test_frames_are_downscaled_before_decoding(qapp) -> None:
    frame = QVideoFrame(to_qimage(blank_scene((1920, 1080))))
    picture = frame_to_gray(frame)
    assert picture.size == (1280, 720) and picture.mode == "L"


def test_frame_lines_are_read_without_their_padding(qapp) -> None:
    # 170 wide: the frame's lines are 176 bytes and the gray picture's 172 (whole words);
    # NV12 needs an even width.
    luma = np.full((120, 170), 40, np.uint8)
    luma[:, 100:] = 220  # the last columns sit next to the padding at the end of each line
    frame = nv12_frame(luma)
    assert frame.map(QVideoFrame.MapMode.ReadOnly)
    assert frame.bytesPerLine(0) > 170, "the frame's lines should be padded for this test"
    frame.unmap()
    pixels = np.asarray(frame_to_gray(frame))
    assert pixels.shape == (120, 170)
    assert pixels[:, :95].max() < 60 and pixels[:, 105:].min() > 200


def found(
    fmt: str, text: str, at: tuple[float, float] = (640, 360), ident: str = ""
) -> DecodedCode:
    x, y = at
    corners = ((x - 20, y - 20), (x + 20, y - 20), (x + 20, y + 20), (x - 20, y + 20))
    return DecodedCode(fmt, text, corners, "fast", ident or _IDENT.get(fmt, ""), fmt)


_IDENT = {"QRCode": "]Q1", "EAN13": "]E0", "Code39": "]A0", "Code128": "]C0"}


def frame_read(*codes: DecodedCode) -> FrameRead:
    report = DecodeReport(codes, None if codes else "none", ("fast",), FRAME)
    return FrameRead(report, FRAME, 1.0, 10.0)


def test_the_judge_takes_strong_symbologies_from_one_frame() -> None:
    judge = ReadJudge()
    assert judge.judge(frame_read()) is None
    assert judge.judge(frame_read(found("QRCode", TAG))).text == TAG
    assert judge.judge(frame_read(found("Code128", "003271"))).text == "003271"


def test_the_judge_wants_two_frames_in_a_row_for_weak_symbologies() -> None:
    judge = ReadJudge()
    ean = found("EAN13", "4006381333931")
    assert judge.judge(frame_read(ean)) is None
    assert judge.judge(frame_read()) is None, "a frame without it breaks the run"
    assert judge.judge(frame_read(ean)) is None
    assert judge.judge(frame_read(found("EAN13", "4006381333948"))) is None, "another code"
    assert judge.judge(frame_read(found("EAN13", "4006381333948"))).text == "4006381333948"


def test_the_judge_drops_misreads_and_picks_the_code_aimed_at() -> None:
    judge = ReadJudge()
    wrong_check = found("EAN13", "4006381333932")
    assert judge.judge(frame_read(wrong_check)) is None
    assert judge.judge(frame_read(wrong_check)) is None, "a misread never becomes a read"
    edge = found("QRCode", "IT-000001", at=(100, 80))
    middle = found("QRCode", TAG, at=(660, 350))
    assert judge.judge(frame_read(edge, middle)).text == TAG
