"""Signing in to the central server: the token goes to the system keyring, never the password."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldops.services.workspace import Workspace
from fieldops.sync.credential_errors import CredentialError
from fieldops.ui.errors import describe_error
from fieldops.ui.lanes import Lanes


class SignInDialog(QDialog):
    """Server, user and password; offers 'this session only' when no keyring can keep it."""

    # (user name) once signed in
    signed_in = Signal(str)

    def __init__(self, workspace: Workspace, lanes: Lanes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.lanes = lanes
        self.setWindowTitle(self.tr("Sign in to the FieldOps server"))
        self.setMinimumWidth(520)
        settings = QSettings()
        self.server = QLineEdit(str(settings.value("sync/server", "")))
        self.server.setPlaceholderText("https://fieldops.example.com")
        self.user = QLineEdit(str(settings.value("sync/user", "")))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.session_only = QCheckBox(self.tr("Keep the sign-in for this session only"))
        form = QFormLayout()
        form.addRow(self.tr("&Server"), self.server)
        form.addRow(self.tr("&User"), self.user)
        form.addRow(self.tr("&Password"), self.password)
        form.addRow("", self.session_only)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#b71c1c;")
        self.sign_in_button = QPushButton(self.tr("Sign &in"))
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.sign_in)
        cancel = QPushButton(self.tr("Cancel"))
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.sign_in_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)

    def sign_in(self) -> None:
        """Signs in in the io lane; the password is dropped as soon as the answer comes."""
        server, user, password = (
            self.server.text().strip(),
            self.user.text().strip(),
            self.password.text(),
        )
        if not (server and user and password):
            self.problem.setText(self.tr("Fill in the server, your user name and your password."))
            return
        service = self.workspace.sync
        if self.session_only.isChecked():
            service.credentials.use_session_only()
        self.sign_in_button.setEnabled(False)
        self.problem.setText(self.tr("Signing in…"))
        self.lanes.io.submit(
            lambda job: service.login(server, user, password),
            lambda info: self._done(server, info.name),
            self._failed,
            name="sign-in",
        )
        self.password.clear()

    def _done(self, server: str, name: str) -> None:
        settings = QSettings()
        settings.setValue("sync/server", server)
        settings.setValue("sync/user", name)
        self.signed_in.emit(name)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.sign_in_button.setEnabled(True)
        text = describe_error(exc)
        if isinstance(exc, CredentialError) and getattr(exc, "session_only_helps", False):
            self.session_only.setChecked(True)
            text += " " + self.tr(
                "You can sign in for this session only (ticked below): the sign-in is then "
                "kept in memory and asked again next time."
            )
        self.problem.setText(text)
