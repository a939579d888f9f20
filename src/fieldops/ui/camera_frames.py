"""Camera frames: shown, converted, decoded one at a time, and judged for a confident read.

A frame is turned into a small grayscale picture on the decoding thread (never on the GUI
thread), decoded with the same passes as a photo, and the results of successive frames are
judged by `ReadJudge`: a code whose symbology carries strong error detection is taken from
one frame; any other must read the same in two decoded frames in a row.
"""

from __future__ import annotations

import logging
import math
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from PySide6.QtCore import (
    QCoreApplication,
    QObject,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QThread,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtMultimedia import QVideoFrame
from PySide6.QtWidgets import QWidget

from fieldops.domain.errors import FieldOpsError
from fieldops.domain.scan import ScanError
from fieldops.media.barcodes import DecodedCode, DecodeReport, read_codes

log = logging.getLogger(__name__)

# Longest side a frame is decoded at: a label filling a fifth of a 1080p frame keeps about
# three pixels a module, and decoding stays near 50 ms a pass on a small machine.
MAX_SIDE = 1280
# A frame is one of many: a short budget keeps the viewfinder answering quickly, and the
# next frame gets its own chance.
FRAME_BUDGET_S = 0.3

# Symbologies whose reads a single frame can be trusted for: Reed-Solomon error correction
# (QR, DataMatrix, Aztec, PDF417) or a mandatory check character (Code 128). A wrong read of
# these is all but impossible; EAN/UPC (one mod-10 digit), Code 39 (no check at all) and the
# rest must read the same twice.
SINGLE_FRAME_FORMATS = frozenset({"QRCode", "DataMatrix", "Aztec", "PDF417", "Code128"})


class FrameError(FieldOpsError):
    """A camera frame could not be turned into a picture."""

    code = "camera-frame"


def frame_to_gray(frame: QVideoFrame, max_side: int = MAX_SIDE) -> Image.Image:
    """A grayscale picture of a video frame, no longer than `max_side` pixels."""
    image = frame.toImage()  # converts any pixel format, applies the frame's rotation
    if image.isNull():
        raise FrameError("The camera sent a picture FieldOps cannot read.")
    return qimage_to_gray(image, max_side)


def qimage_to_gray(image: QImage, max_side: int = MAX_SIDE) -> Image.Image:
    """A grayscale PIL copy of a QImage, downscaled to fit `max_side`."""
    if max(image.width(), image.height()) > max_side:
        # Scaling before the gray conversion: Qt's smooth scaling of 8-bit gray is about ten
        # times slower than of 32-bit colour.
        image = image.scaled(
            max_side,
            max_side,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = gray.width(), gray.height(), gray.bytesPerLine()
    rows = np.frombuffer(gray.constBits(), dtype=np.uint8, count=stride * height)
    # Lines are padded to a multiple of four bytes: cut the padding off each row. The copy
    # is the picture's own: the QImage's memory goes when this function returns.
    pixels = rows.reshape(height, stride)[:, :width].copy()
    return Image.fromarray(pixels, "L")


def decode_frame(image: Image.Image) -> DecodeReport:
    """Every code in one frame's picture, within a frame's time budget."""
    return read_codes(image, time_budget_s=FRAME_BUDGET_S)


@dataclass(frozen=True)
class FrameRead:
    """What one decoded frame held."""

    report: DecodeReport
    frame_size: tuple[int, int]  # the frame's own size
    scale: float  # decoded picture size / frame size (positions are in decoded pixels)
    elapsed_ms: float  # conversion and decoding


class _Worker(QObject):
    """Runs on the decoder's thread: converts and decodes one frame per call."""

    # (FrameRead) when a frame was decoded, found codes or not
    frame_decoded = Signal(object)
    # (BaseException) when a frame could not be decoded
    frame_failed = Signal(object)

    def __init__(self, decode: Callable[[Image.Image], DecodeReport], max_side: int) -> None:
        super().__init__()
        self._decode = decode
        self._max_side = max_side

    @Slot(object)
    def work(self, frame: QVideoFrame) -> None:
        started = time.perf_counter()
        try:
            picture = frame_to_gray(frame, self._max_side)
            report = self._decode(picture)
        except Exception as exc:  # one bad frame must not end the viewfinder
            log.warning("a camera frame could not be decoded: %r", exc)
            self.frame_failed.emit(exc)
            return
        size = (frame.width(), frame.height())
        scale = picture.width / size[0] if size[0] else 1.0
        elapsed = (time.perf_counter() - started) * 1000
        self.frame_decoded.emit(FrameRead(report, size, scale, elapsed))


_decoders: weakref.WeakSet[FrameDecoder] = weakref.WeakSet()
_stopping: set[FrameDecoder] = set()  # kept alive until their thread has ended


class FrameDecoder(QObject):
    """Decodes frames one at a time on its own thread; frames offered while busy are dropped."""

    # (FrameRead) on the GUI thread, for each frame decoded while running
    frame_decoded = Signal(object)
    # (BaseException) on the GUI thread, for a frame that could not be decoded
    frame_failed = Signal(object)
    # (QVideoFrame) hands a frame to the worker thread
    _frame_offered = Signal(object)

    def __init__(
        self,
        decode: Callable[[Image.Image], DecodeReport] = decode_frame,
        max_side: int = MAX_SIDE,
    ) -> None:
        super().__init__()  # no parent: it may outlive its dialog until the thread ends
        self.offered = 0
        self.dropped = 0
        self.decoded = 0
        self._busy = False
        self._stopped = False
        self._thread = QThread()
        self._thread.setObjectName("camera-decoder")
        self._worker = _Worker(decode, max_side)
        self._worker.moveToThread(self._thread)
        self._frame_offered.connect(self._worker.work)
        self._worker.frame_decoded.connect(self._decoded)
        self._worker.frame_failed.connect(self._failed)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.finished.connect(self._ended)
        self._thread.start()
        _decoders.add(self)

    @property
    def busy(self) -> bool:
        """Whether a frame is being decoded."""
        return self._busy

    def offer(self, frame: QVideoFrame) -> bool:
        """Starts decoding `frame` unless one is in hand; False when it was dropped."""
        self.offered += 1
        if self._busy or self._stopped:
            self.dropped += 1
            return False
        self._busy = True
        self._frame_offered.emit(frame)
        return True

    def stop(self) -> None:
        """Stops without waiting: a frame in hand is finished on the thread, then dropped."""
        if self._stopped:
            return
        self._stopped = True
        _stopping.add(self)
        self._thread.quit()

    def is_running(self) -> bool:
        """Whether the decoding thread is still alive."""
        return self._thread.isRunning()

    def wait(self, msecs: int) -> bool:
        """Waits for the thread to end after `stop` (for shutdown); True when it did."""
        return bool(self._thread.wait(msecs))

    @Slot(object)
    def _decoded(self, read: FrameRead) -> None:
        self._busy = False
        self.decoded += 1
        if not self._stopped:
            self.frame_decoded.emit(read)

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        if not self._stopped:
            self.frame_failed.emit(exc)

    @Slot()
    def _ended(self) -> None:
        _stopping.discard(self)


def running_decoders() -> int:
    """How many decoding threads are alive."""
    return sum(1 for decoder in list(_decoders) if decoder.is_running())


def stop_all_decoders(msecs: int = 3000) -> bool:
    """Stops every decoder and waits for their threads (at application exit)."""
    decoders = list(_decoders)
    for decoder in decoders:
        decoder.stop()
    return all(decoder.wait(msecs) for decoder in decoders)


class ReadJudge:
    """Decides when what the frames show is a confident read."""

    def __init__(self, single_frame_formats: frozenset[str] = SINGLE_FRAME_FORMATS) -> None:
        self._single = single_frame_formats
        self._last: tuple[str, str] | None = None

    def judge(self, read: FrameRead) -> DecodedCode | None:
        """The code to look up once this frame makes the read confident, else None."""
        code = _aimed_at(usable(read.report.codes), read)
        if code is None:
            self._last = None  # a frame without the code breaks the run
            return None
        key = (code.format, code.text)
        if code.format in self._single or key == self._last:
            return code
        self._last = key
        return None


def usable(codes: Sequence[DecodedCode]) -> list[DecodedCode]:
    """The codes that mean something: a misread (a wrong check digit) is left out."""
    kept = []
    for code in codes:
        try:
            code.normalise()
        except ScanError as exc:
            log.info("camera frame: a %s code was misread (%s)", code.format, exc)
            continue
        kept.append(code)
    return kept


def _aimed_at(codes: list[DecodedCode], read: FrameRead) -> DecodedCode | None:
    """The code nearest the frame's centre: the one the person is pointing at."""
    if not codes:
        return None
    width, height = read.frame_size
    cx, cy = width * read.scale / 2, height * read.scale / 2

    def distance(code: DecodedCode) -> float:
        x = sum(px for px, _ in code.position) / 4
        y = sum(py for _, py in code.position) / 4
        return math.hypot(x - cx, y - cy)

    return min(codes, key=distance)


class ViewfinderView(QWidget):
    """Paints the newest frame, an aiming frame, and the outline of codes it saw."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(QSize(480, 320))
        self._frame: QVideoFrame | None = None
        self._outlines: list[list[QPointF]] = []  # corners in frame pixels

    def show_frame(self, frame: QVideoFrame) -> None:
        """Shows this frame at the next paint (paints are merged, so fast frames are cheap)."""
        self._frame = frame
        self.update()

    def set_outlines(self, read: FrameRead | None, codes: Sequence[DecodedCode]) -> None:
        """Outlines these codes, whose corners are in the decoded picture's pixels."""
        scale = read.scale if read is not None and read.scale > 0 else 1.0
        self._outlines = [
            [QPointF(x / scale, y / scale) for x, y in code.position] for code in codes
        ]
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#1e1e1e"))
        frame = self._frame
        if frame is None or not frame.isValid():
            painter.setPen(QColor("#dddddd"))
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                QCoreApplication.translate("Camera", "Starting the camera…"),
            )
            return
        target = self._target(frame)
        frame.paint(painter, target, QVideoFrame.PaintOptions())
        self._paint_aim(painter, target)
        self._paint_outlines(painter, target, frame)

    def _target(self, frame: QVideoFrame) -> QRectF:
        size = QSize(frame.width(), frame.height()).scaled(
            self.size(), Qt.AspectRatioMode.KeepAspectRatio
        )
        left = (self.width() - size.width()) / 2
        top = (self.height() - size.height()) / 2
        return QRectF(left, top, size.width(), size.height())

    def _paint_aim(self, painter: QPainter, target: QRectF) -> None:
        side = min(target.width(), target.height()) * 0.6
        box = QRectF(0, 0, side * 1.3, side).translated(
            target.center() - QPointF(side * 0.65, side / 2)
        )
        arm = side / 6
        painter.setPen(QPen(QColor(255, 255, 255, 210), 3))
        for corner, dx, dy in (
            (box.topLeft(), 1, 1),
            (box.topRight(), -1, 1),
            (box.bottomRight(), -1, -1),
            (box.bottomLeft(), 1, -1),
        ):
            painter.drawLine(corner, corner + QPointF(dx * arm, 0))
            painter.drawLine(corner, corner + QPointF(0, dy * arm))

    def _paint_outlines(self, painter: QPainter, target: QRectF, frame: QVideoFrame) -> None:
        if not self._outlines or not frame.width():
            return
        factor = target.width() / frame.width()
        painter.setPen(QPen(QColor("#43a047"), 3))
        for outline in self._outlines:
            shown = QPolygonF(
                [
                    QPointF(target.left() + p.x() * factor, target.top() + p.y() * factor)
                    for p in outline
                ]
            )
            painter.drawPolygon(shown)
