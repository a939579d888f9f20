"""Conflicts and rejected changes: what sync handed back, and the person's decisions."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fieldops.services.sync_review import ConflictView, RejectedView
from fieldops.services.workspace import Workspace
from fieldops.ui.errors import describe_error
from fieldops.ui.lanes import Lanes


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.setWordWrap(True)
    return table


class ReviewDialog(QDialog):
    """Side by side per field: keep mine or take theirs; rejected changes: resend or discard."""

    # () after any decision, so the window can refresh its counts
    decided = Signal()

    def __init__(self, workspace: Workspace, lanes: Lanes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.lanes = lanes
        self.conflict_rows: list[ConflictView] = []
        self.rejected_rows: list[RejectedView] = []
        self.setWindowTitle(self.tr("Sync: decisions needed"))
        self.resize(900, 480)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._conflicts_page(), self.tr("&Conflicts"))
        self.tabs.addTab(self._rejected_page(), self.tr("&Rejected changes"))
        self.problem = QLabel()
        self.problem.setStyleSheet("color:#b71c1c;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.reload()

    def _conflicts_page(self) -> QWidget:
        hint = QLabel(
            self.tr(
                "These fields were changed here and on the server. The server's value is shown "
                "now; keep yours to send it again."
            )
        )
        hint.setWordWrap(True)
        self.conflicts = _table(
            [self.tr("Record"), self.tr("Field"), self.tr("Yours"), self.tr("Server's")]
        )
        self.keep_mine_button = QPushButton(self.tr("&Keep mine"))
        self.take_theirs_button = QPushButton(self.tr("&Take theirs"))
        self.keep_mine_button.clicked.connect(lambda: self._decide_conflict(True))
        self.take_theirs_button.clicked.connect(lambda: self._decide_conflict(False))
        return self._page(hint, self.conflicts, [self.keep_mine_button, self.take_theirs_button])

    def _rejected_page(self) -> QWidget:
        page_hint = QLabel(
            self.tr(
                "The server refused these changes. They are kept here until you send them "
                "again or discard them; the records stay on this device."
            )
        )
        page_hint.setWordWrap(True)
        self.rejected = _table(
            [self.tr("Record"), self.tr("Change"), self.tr("Reason"), self.tr("Fields")]
        )
        self.edit_button = QPushButton(self.tr("&Edit and send again…"))
        self.resend_button = QPushButton(self.tr("&Send again"))
        self.discard_button = QPushButton(self.tr("&Discard"))
        self.edit_button.clicked.connect(self._edit_rejected)
        self.resend_button.clicked.connect(lambda: self._decide_rejected(True))
        self.discard_button.clicked.connect(lambda: self._decide_rejected(False))
        buttons = [self.edit_button, self.resend_button, self.discard_button]
        return self._page(page_hint, self.rejected, buttons)

    def _page(self, hint: QLabel, table: QTableWidget, buttons: list[QPushButton]) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.addWidget(hint)
        column.addWidget(table, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        for button in buttons:
            button.setAutoDefault(False)
            row.addWidget(button)
        column.addLayout(row)
        return page

    def reload(self) -> None:
        """Reads conflicts and rejections again in the database lane."""
        review = self.workspace.review
        self.lanes.db.submit(
            lambda job: (review.conflicts(), review.rejected()), self._show, self._failed
        )

    def _show(self, loaded: tuple[list[ConflictView], list[RejectedView]]) -> None:
        self.conflict_rows, self.rejected_rows = loaded
        self._fill(
            self.conflicts,
            [[c.label, c.field, _shown(c.mine), _shown(c.theirs)] for c in self.conflict_rows],
        )
        self._fill(
            self.rejected,
            [[r.label, r.op, r.reason, _shown(r.fields)] for r in self.rejected_rows],
        )
        self.tabs.setTabText(0, self.tr("&Conflicts ({n})").format(n=len(self.conflict_rows)))
        self.tabs.setTabText(
            1, self.tr("&Rejected changes ({n})").format(n=len(self.rejected_rows))
        )
        if not self.conflict_rows and self.rejected_rows:
            self.tabs.setCurrentIndex(1)

    def _fill(self, table: QTableWidget, rows: list[list[str]]) -> None:
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                item.setTextAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
                table.setItem(r, c, item)
        if rows:
            table.selectRow(0)

    def _decide_conflict(self, keep_mine: bool) -> None:
        row = self.conflicts.currentRow()
        if not 0 <= row < len(self.conflict_rows):
            return
        conflict_id, review = self.conflict_rows[row].id, self.workspace.review
        action = review.keep_mine if keep_mine else review.take_theirs
        self.lanes.db.submit(lambda job: action(conflict_id), self._done, self._failed)

    def _decide_rejected(self, resend: bool) -> None:
        row = self.rejected.currentRow()
        if not 0 <= row < len(self.rejected_rows):
            return
        seq, review = self.rejected_rows[row].seq, self.workspace.review
        action = review.resend if resend else review.discard
        self.lanes.db.submit(lambda job: action(seq), self._done, self._failed)

    def _edit_rejected(self) -> None:
        row = self.rejected.currentRow()
        if not 0 <= row < len(self.rejected_rows):
            return
        change = self.rejected_rows[row]
        editor = ChangeEditor(change, self)
        if editor.exec() != QDialog.DialogCode.Accepted:
            return
        seq, fields, review = change.seq, editor.changed(), self.workspace.review
        self.lanes.db.submit(lambda job: review.resend(seq, fields), self._done, self._failed)

    def _done(self, _result: object) -> None:
        self.problem.clear()
        self.decided.emit()
        self.reload()

    def _failed(self, exc: BaseException) -> None:
        self.problem.setText(describe_error(exc))


class ChangeEditor(QDialog):
    """The text fields of a refused change, to correct before sending it again."""

    def __init__(self, change: RejectedView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Correct the change"))
        self.setMinimumWidth(520)
        self.change = change
        self.editors: dict[str, QLineEdit] = {}
        form = QFormLayout()
        reason = QLabel(change.reason)
        reason.setWordWrap(True)
        reason.setStyleSheet("color:#b71c1c;")
        form.addRow(self.tr("Server's reason"), reason)
        for name, value in change.fields.items():
            if isinstance(value, str) or value is None:
                editor = QLineEdit(value or "")
                self.editors[name] = editor
                form.addRow(name, editor)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Send again"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def changed(self) -> dict[str, Any]:
        """The fields the person changed, with their new values."""
        result: dict[str, Any] = {}
        for name, editor in self.editors.items():
            before = self.change.fields.get(name) or ""
            if editor.text() != before:
                result[name] = editor.text() or None
        return result
