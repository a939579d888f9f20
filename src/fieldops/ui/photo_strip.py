"""A strip of photo thumbnails that files can be dropped on."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QIcon
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem, QWidget

from fieldops.ui.thumbnails import THUMB_SIZE, pixmap_from_bytes


class PhotoStrip(QListWidget):
    """Thumbnails in a row; dropping files on it asks for them to be added."""

    # (paths) local files dropped on the strip
    files_dropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(THUMB_SIZE)
        self.setGridSize(QSize(THUMB_SIZE.width() + 16, THUMB_SIZE.height() + 36))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWrapping(False)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setMinimumHeight(THUMB_SIZE.height() + 52)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.viewport().setAcceptDrops(True)

    def set_drops_allowed(self, allowed: bool) -> None:
        """Turns dropping files on the strip on or off."""
        self.setAcceptDrops(allowed)
        self.viewport().setAcceptDrops(allowed)

    def add_photo(self, key: str, name: str, thumbnail: bytes | None, tooltip: str) -> None:
        """Adds one thumbnail, keyed so it can be found and removed later."""
        pixmap = pixmap_from_bytes(thumbnail)
        icon = QIcon(pixmap) if pixmap is not None else QIcon()
        label = name if pixmap is not None else name + "\n" + self.tr("(no preview)")
        item = QListWidgetItem(icon, label)
        item.setData(Qt.ItemDataRole.UserRole, key)
        item.setToolTip(tooltip)
        self.addItem(item)

    def photo_keys(self) -> list[str]:
        """The keys of the photos shown, in order."""
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def selected_keys(self) -> list[str]:
        """The keys of the selected photos."""
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.selectedItems()]

    def remove_keys(self, keys: list[str]) -> None:
        """Removes the photos with these keys."""
        for row in reversed(range(self.count())):
            if self.item(row).data(Qt.ItemDataRole.UserRole) in keys:
                self.takeItem(row)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragEnterEvent) -> None:  # type: ignore[override]
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)
        else:
            super().dropEvent(event)
