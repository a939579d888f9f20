"""The asset card: what was scanned, where it is, what is inside it, what happened to it."""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fieldops.services.lookup import KIND_LABELS, AssetCard, IncidentSummary, LookupResult
from fieldops.ui.labels import category_label, fate_label, priority_style, status_label


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setAlternatingRowColors(True)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(value))


class AssetCardView(QWidget):
    """Shows one asset, a not-found message, or the hint to scan."""

    # (asset id) when the person asks to log an incident on the shown asset
    incident_requested = Signal(str)
    # (incident id) when the person opens one of the asset's incidents
    incident_opened = Signal(str)
    # (code) when the person asks to register an unknown code as a provisional asset
    register_requested = Signal(str)
    # (asset tag) when the person opens another asset named on the card
    asset_link_opened = Signal(str)
    # (asset id) when the person asks to log a part replacement on the shown asset
    replacement_requested = Signal(str)
    # (asset id) when the person asks to print the shown asset's label
    labels_requested = Signal(str)
    # (LookupResult of the unknown code) when the person says it is the label of an asset
    # already known
    attach_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.card: AssetCard | None = None
        self._incident_ids: list[str] = []
        self._stack = QStackedWidget(self)
        self._message = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._register = QPushButton(self.tr("&Register this asset…"))
        self._register.setAutoDefault(False)
        self._register.setVisible(False)
        self._register.clicked.connect(lambda: self.register_requested.emit(self._missing))
        self._attach = QPushButton(self.tr("This label belongs to a known asset: &attach it…"))
        self._attach.setAutoDefault(False)
        self._attach.setVisible(False)
        self._attach.clicked.connect(lambda: self.attach_requested.emit(self._missing_result))
        self._missing = ""
        self._missing_result: LookupResult | None = None
        message_page = QWidget()
        message_column = QVBoxLayout(message_page)
        message_column.addStretch(1)
        message_column.addWidget(self._message)
        message_column.addWidget(self._register, 0, Qt.AlignmentFlag.AlignHCenter)
        message_column.addWidget(self._attach, 0, Qt.AlignmentFlag.AlignHCenter)
        message_column.addStretch(1)
        self._stack.addWidget(message_page)
        self._stack.addWidget(self._build_card())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)
        self.show_hint()

    def _build_card(self) -> QWidget:
        page = QWidget()
        self._title = QLabel()
        self._title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._subtitle = QLabel()
        self._where = QLabel()
        self._where.setObjectName("where")
        self._where.setStyleSheet("font-size: 13pt; font-weight: bold; color: #1565c0;")
        self._where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._matched = QLabel()
        self._matched.setObjectName("matched")
        self._matched.setWordWrap(True)
        self._matched.setTextFormat(Qt.TextFormat.RichText)
        self._matched.linkActivated.connect(self.asset_link_opened.emit)
        self._log_button = QPushButton(self.tr("&Log incident on this asset…"))
        self._log_button.setAutoDefault(False)
        self._log_button.clicked.connect(self._request_incident)
        self._replace_button = QPushButton(self.tr("Log part &replacement…"))
        self._replace_button.setAutoDefault(False)
        self._replace_button.clicked.connect(lambda: self._request(self.replacement_requested))
        self._label_button = QPushButton(self.tr("&Print label…"))
        self._label_button.setAutoDefault(False)
        self._label_button.clicked.connect(lambda: self._request(self.labels_requested))
        self._label_button.setVisible(False)  # shown once label printing is connected
        actions = QVBoxLayout()
        for button in (self._log_button, self._replace_button, self._label_button):
            actions.addWidget(button)
        actions.addStretch(1)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self._title)
        titles.addWidget(self._subtitle)
        titles.addWidget(self._where)
        titles.addWidget(self._matched)
        header.addLayout(titles, 1)
        header.addLayout(actions)

        self._fields: dict[str, QLabel] = {}
        identity = self._form(
            self.tr("Asset"),
            [
                ("serial", self.tr("Serial")),
                ("model", self.tr("Model")),
                ("category", self.tr("Category")),
                ("status", self.tr("Status")),
                ("also", self.tr("Also answers to")),
                ("label", self.tr("Label")),
            ],
        )
        place = self._form(
            self.tr("Location"),
            [
                ("site", self.tr("Site")),
                ("room", self.tr("Room")),
                ("rack", self.tr("Rack")),
                ("u", self.tr("Rack unit")),
            ],
        )
        boxes = QHBoxLayout()
        boxes.addWidget(identity, 1)
        boxes.addWidget(place, 1)

        self._components = _table(
            [self.tr("Kind"), self.tr("Slot"), self.tr("Model"), self.tr("Serial")]
        )
        self._incidents = _table(
            [self.tr("Priority"), self.tr("Status"), self.tr("Occurred"), self.tr("Title")]
        )
        self._incidents.doubleClicked.connect(self._open_incident)
        self._incidents.activated.connect(self._open_incident)
        self._components_box = QGroupBox(self.tr("Components"))
        QVBoxLayout(self._components_box).addWidget(self._components)
        self._replacements = _table(
            [self.tr("When"), self.tr("Part"), self.tr("Old serial"), self.tr("New serial"),
             self.tr("RMA"), self.tr("Old part")]
        )  # fmt: skip
        self._history = QTabWidget()
        self._history.addTab(self._incidents, self.tr("Incidents"))
        self._history.addTab(self._replacements, self.tr("Replacements"))
        self._incidents_box = QGroupBox(self.tr("History"))
        QVBoxLayout(self._incidents_box).addWidget(self._history)
        tables = QHBoxLayout()
        tables.addWidget(self._components_box, 1)
        tables.addWidget(self._incidents_box, 1)

        layout = QVBoxLayout(page)
        layout.addLayout(header)
        layout.addLayout(boxes)
        layout.addLayout(tables, 1)
        return page

    def _form(self, title: str, rows: list[tuple[str, str]]) -> QGroupBox:
        box = QGroupBox(title)
        form = QFormLayout(box)
        for key, label in rows:
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._fields[key] = value
            form.addRow(label, value)
        return box

    def show_hint(self) -> None:
        """The empty state: tells the person what to do."""
        self.card = None
        self._register.setVisible(False)
        self._message.setText(
            "<h2>"
            + self.tr("Scan an asset label")
            + "</h2><p>"
            + self.tr("Or type a tag, serial or component serial and press Enter.")
            + "</p>"
        )
        self._stack.setCurrentIndex(0)

    def show_result(self, result: LookupResult) -> None:
        """Shows a lookup's answer: the card, or exactly what was read when nothing matched."""
        self._register.setVisible(False)
        self._attach.setVisible(False)
        if result.misread:
            self.card = None
            self._message.setText(
                "<h2>" + self.tr("Misread: scan again") + "</h2><p>"
                + escape(result.misread)
                + "</p><p>"
                + self.tr("Read: <b>{code}</b>").format(code=escape(result.code))
                + "</p>"
            )  # fmt: skip
            self._stack.setCurrentIndex(0)
            return
        if result.card is None:
            self.card = None
            self._message.setText(
                "<h2>"
                + self.tr("No asset matches this code")
                + "</h2><p>"
                + self.tr("Read: <b>{code}</b>").format(code=escape(result.code))
                + "</p><p>"
                + self.tr("Check the label and scan again, or import the site's catalogue.")
                + "</p>"
            )
            self._missing = result.code
            self._missing_result = result
            self._register.setVisible(bool(result.code))
            self._attach.setVisible(result.attachable)
            self._stack.setCurrentIndex(0)
            return
        self.show_card(result.card, result.matched_kind, result.other_tags, result.warnings)

    def show_card(
        self,
        card: AssetCard,
        matched: str | None = None,
        others: tuple[str, ...] = (),
        notes: tuple[str, ...] = (),
    ) -> None:
        """Fills the card with an asset.

        `others` are the tags of other assets answering to the same code (each a link that
        opens it); `notes` say what was corrected in the scan.
        """
        self.card = card
        provisional = self.tr("  (provisional)") if card.provisional else ""
        self._title.setText(f"<h1>{escape(card.asset_tag)}{provisional}</h1>")
        self._subtitle.setText(escape(card.name or f"{card.manufacturer} {card.model}"))
        matched_text = ""
        if matched and matched != "tag":
            matched_text = self.tr("Matched by its {kind}.").format(
                kind=self.tr(KIND_LABELS.get(matched, matched))
            )
        if others:
            links = ", ".join(f'<a href="{escape(t)}">{escape(t)}</a>' for t in others)
            matched_text += " " + self.tr(
                "<b>This code also names {links}</b>: check the tag on the asset."
            ).format(links=links)
        if notes:
            matched_text += " " + self.tr("Scan: {notes}.").format(notes="; ".join(notes))
        self._matched.setText(matched_text.strip())
        self._matched.setVisible(bool(matched_text))
        place = card.place
        where = place.describe().replace(" / ", "  ›  ")
        self._where.setText(where or self.tr("Location not recorded"))
        values = {
            "serial": card.serial,
            "model": " ".join(p for p in (card.manufacturer, card.model, card.model_number) if p),
            "category": card.category,
            "status": card.status,
            "also": ", ".join(card.attached_codes),
            "label": card.last_label.describe() if card.last_label else self.tr("none printed"),
            "site": place.site_code or "—",
            "room": place.room or "—",
            "rack": place.rack or "—",
            "u": f"U{place.rack_u} {place.rack_face or ''}".strip() if place.rack_u else "—",
        }
        for key, value in values.items():
            self._fields[key].setText(value or "—")
        _fill(self._components, [[c.kind, c.slot, c.model, c.serial] for c in card.components])
        self._components_box.setTitle(self.tr("Components ({n})").format(n=len(card.components)))
        self._show_incidents(card.incidents)
        self._show_replacements(card)
        self._stack.setCurrentIndex(1)

    def _show_replacements(self, card: AssetCard) -> None:
        _fill(
            self._replacements,
            [
                [
                    r.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                    r.part or self.tr("other part"),
                    r.old_serial,
                    r.new_serial,
                    r.rma_number,
                    fate_label(r.old_part_fate),
                ]
                for r in card.replacements
            ],
        )
        self._history.setTabText(1, self.tr("Replacements ({n})").format(n=len(card.replacements)))

    def _show_incidents(self, incidents: list[IncidentSummary]) -> None:
        self._incident_ids = [i.id for i in incidents]
        _fill(
            self._incidents,
            [
                [
                    i.priority,
                    status_label(i.status),
                    i.occurred_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                    f"{i.title} ({category_label(i.category)})",
                ]
                for i in incidents
            ],
        )
        for row, incident in enumerate(incidents):
            badge = QLabel(incident.priority)
            badge.setStyleSheet(priority_style(incident.priority))
            badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._incidents.setCellWidget(row, 0, badge)
        self._history.setTabText(0, self.tr("Incidents ({n})").format(n=len(incidents)))

    def incident_rows(self) -> list[str]:
        """The titles column of the incidents table, for tests and accessibility."""
        return [self._incidents.item(r, 3).text() for r in range(self._incidents.rowCount())]

    def _request_incident(self) -> None:
        if self.card is not None:
            self.incident_requested.emit(self.card.id)

    def offer_labels(self, offered: bool = True) -> None:
        """Shows the Print label button (once something listens to labels_requested)."""
        self._label_button.setVisible(offered)

    def _request(self, signal: Any) -> None:
        if self.card is not None:
            signal.emit(self.card.id)

    def _open_incident(self) -> None:
        row = self._incidents.currentRow()
        if 0 <= row < len(self._incident_ids):
            self.incident_opened.emit(self._incident_ids[row])
