"""One incident, read-only, with its photos."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from fieldops.services.incidents import IncidentDetail
from fieldops.ui.labels import (
    category_label,
    level_label,
    priority_style,
    status_label,
    subtype_label,
)
from fieldops.ui.photo_strip import PhotoStrip


class IncidentViewDialog(QDialog):
    """Shows an incident; thumbnails come in as bytes read in a lane."""

    def __init__(
        self,
        detail: IncidentDetail,
        thumbnails: dict[str, bytes | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        s = detail.summary
        self.detail = detail
        self.setWindowTitle(self.tr("Incident {ref}").format(ref=s.number or s.id[:8]))
        self.setMinimumWidth(640)
        layout = QVBoxLayout(self)
        title = QLabel(f"<h2>{escape(s.title)}</h2>")
        title.setWordWrap(True)
        layout.addWidget(title)
        form = QFormLayout()
        priority = QLabel(s.priority)
        priority.setStyleSheet(priority_style(s.priority))
        priority.setMaximumWidth(60)
        category = category_label(s.category) + (
            f" / {subtype_label(s.subtype)}" if s.subtype else ""
        )
        rows = [
            (self.tr("Number"), s.number or self.tr("assigned when synced")),
            (self.tr("Category"), category),
            (
                self.tr("Impact / urgency"),
                f"{level_label(detail.impact)} / {level_label(detail.urgency)}",
            ),
            (self.tr("Status"), status_label(s.status)),
            (self.tr("Asset"), s.asset_tag or "—"),
            (self.tr("Where"), detail.place.describe() or "—"),
            (self.tr("Happened at"), s.occurred_at.astimezone().strftime("%Y-%m-%d %H:%M")),
            (self.tr("Reported by"), detail.reporter or "—"),
        ]
        form.addRow(self.tr("Priority"), priority)
        for label, value in rows:
            field = QLabel(value)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(label, field)
        description = QLabel(escape(detail.description) or "—")
        description.setWordWrap(True)
        description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.tr("Description"), description)
        layout.addLayout(form)
        self.photos = PhotoStrip()
        self.photos.set_drops_allowed(False)
        for photo in detail.photos:
            tip = f"{photo.original_name}\n{photo.width} × {photo.height}"
            self.photos.add_photo(photo.id, photo.original_name, thumbnails.get(photo.id), tip)
        layout.addWidget(QLabel(self.tr("Photos ({n})").format(n=len(detail.photos))))
        layout.addWidget(self.photos)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
