"""The incident list: a sortable table with status and priority filters."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from fieldops.domain.incidents import Priority, Status
from fieldops.services.lookup import IncidentSummary
from fieldops.ui.labels import PRIORITY_COLOURS, category_label, status_label, subtype_label

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("priority", "status", "occurred", "asset", "site", "category", "title", "photos")


class IncidentTableModel(QAbstractTableModel):
    """Serves cached incident rows; it never reads the database itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[IncidentSummary] = []
        self._headers = [
            self.tr("Priority"),
            self.tr("Status"),
            self.tr("Occurred"),
            self.tr("Asset"),
            self.tr("Site"),
            self.tr("Category"),
            self.tr("Title"),
            self.tr("Photos"),
        ]

    def set_rows(self, rows: list[IncidentSummary]) -> None:
        """Replaces the rows shown."""
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.UserRole:
            return self._sort_key(row, column)
        if role == Qt.ItemDataRole.BackgroundRole and column == "priority":
            return QColor(PRIORITY_COLOURS.get(row.priority, "#607d8b"))
        if role == Qt.ItemDataRole.ForegroundRole and column == "priority":
            return QColor("#000000" if row.priority == "P3" else "#ffffff")
        if role == Qt.ItemDataRole.TextAlignmentRole and column in ("priority", "photos"):
            return Qt.AlignmentFlag.AlignCenter
        return None

    def _display(self, row: IncidentSummary, column: str) -> str:
        if column == "priority":
            return row.priority
        if column == "status":
            return status_label(row.status)
        if column == "occurred":
            return row.occurred_at.astimezone().strftime("%Y-%m-%d %H:%M")
        if column == "asset":
            return row.asset_tag or "—"
        if column == "site":
            return row.site_code or "—"
        if column == "category":
            sub = f" / {subtype_label(row.subtype)}" if row.subtype else ""
            return category_label(row.category) + sub
        if column == "photos":
            return str(row.photo_count) if row.photo_count else ""
        return row.title

    def _sort_key(self, row: IncidentSummary, column: str) -> Any:
        if column == "occurred":
            return row.occurred_at.timestamp()
        if column == "photos":
            return row.photo_count
        return self._display(row, column)


class IncidentListView(QWidget):
    """The table of incidents with its filters; asks for rows, never reads them itself."""

    # (status or None, priority or None) when a filter changes and rows should be fetched
    refresh_requested = Signal(object, object)
    # (incident id) when a row is opened
    incident_opened = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = IncidentTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.status = QComboBox()
        self.status.addItem(self.tr("All statuses"), None)
        for status in Status:
            self.status.addItem(status_label(status.value), status.value)
        self.priority = QComboBox()
        self.priority.addItem(self.tr("All priorities"), None)
        for priority in Priority:
            self.priority.addItem(priority.value, priority.value)
        for box in (self.status, self.priority):
            box.currentIndexChanged.connect(self.request_refresh)
        self.count = QLabel()
        filters = QHBoxLayout()
        status_label_widget = QLabel(self.tr("&Status"))
        status_label_widget.setBuddy(self.status)
        priority_label_widget = QLabel(self.tr("&Priority"))
        priority_label_widget.setBuddy(self.priority)
        for widget in (status_label_widget, self.status, priority_label_widget, self.priority):
            filters.addWidget(widget)
        filters.addStretch(1)
        filters.addWidget(self.count)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COLUMNS.index("occurred"), Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        # Fixed starting widths: sizing columns to their contents measures every row, which
        # stalls the window on a long list.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        widths = {"priority": 70, "status": 100, "occurred": 130, "asset": 100, "site": 90,
                  "category": 200, "photos": 60}  # fmt: skip
        for name, width in widths.items():
            header.resizeSection(COLUMNS.index(name), width)
        header.setSectionResizeMode(COLUMNS.index("title"), QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.activated.connect(self._open)
        self.table.doubleClicked.connect(self._open)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)

    def request_refresh(self) -> None:
        """Asks for the rows matching the current filters."""
        self.refresh_requested.emit(self.status.currentData(), self.priority.currentData())

    def set_rows(self, rows: list[IncidentSummary]) -> None:
        """Shows fetched rows."""
        self.model.set_rows(rows)
        self.count.setText(self.tr("{n} incident(s)").format(n=len(rows)))

    def titles(self) -> list[str]:
        """The titles in the order shown (for tests and screen readers)."""
        column = COLUMNS.index("title")
        return [self.proxy.index(r, column).data() for r in range(self.proxy.rowCount())]

    def _open(self, index: QModelIndex) -> None:
        source = self.proxy.mapToSource(index)
        if source.isValid():
            self.incident_opened.emit(self.model.rows[source.row()].id)
