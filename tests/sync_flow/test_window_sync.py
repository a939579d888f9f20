"""Sync from the real window: F5, the status bar, and the review of what came back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from fieldops.sync.credentials import CredentialStore
from tests.support.workspaces import copy_data_dir
from tests.sync.central import USERS
from tests.sync_flow.test_sync_flow import log_incident


def signed_in_window(open_window, demo_template: Path, tmp_path: Path, central, title: str):
    """A real window on a copy of the demo data, signed in as tom, with one incident queued."""
    window = open_window(copy_data_dir(demo_template, tmp_path / "laptop"))
    workspace = window.workspace
    workspace.sync.credentials = CredentialStore(session_only=True)
    workspace.sync.login(central.url, "tom", USERS["tom"][2])
    log_incident(workspace, title)
    return window, workspace


def test_f5_syncs_and_the_status_bar_follows(
    qtbot, open_window, demo_template: Path, tmp_path: Path, central
) -> None:
    window, _ = signed_in_window(open_window, demo_template, tmp_path, central, "Window sync")
    window.refresh()
    qtbot.waitUntil(lambda: "1 changes" in window.sync_bar.waiting.text(), timeout=10_000)

    with qtbot.waitSignal(window.syncing.sync_finished, timeout=30_000) as done:
        QTest.keyClick(window, Qt.Key.Key_F5)
    assert done.args[0].changes_sent == 1
    qtbot.waitUntil(lambda: "0 changes" in window.sync_bar.waiting.text(), timeout=10_000)
    assert "Online" in window.sync_bar.online.text()
    assert "never" not in window.sync_bar.last.text()
    assert not window.sync_bar.progress.isVisible()


def test_f5_when_not_signed_in_opens_the_sign_in(
    qtbot,
    open_window,
    demo_data_dir,
) -> None:
    window = open_window(demo_data_dir)
    window.refresh()
    qtbot.waitUntil(lambda: window.syncing.status is not None, timeout=10_000)
    QTest.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: any(type(d).__name__ == "SignInDialog" for d in window._dialogs))


def test_offline_server_is_shown_offline_and_keeps_the_queue(
    qtbot, open_window, demo_template: Path, tmp_path: Path, central
) -> None:
    window, workspace = signed_in_window(
        open_window, demo_template, tmp_path, central, "Queued offline"
    )
    from fieldops.sync import local
    from tests.support.tls import closed_port

    dead = f"http://127.0.0.1:{closed_port()}"
    token = workspace.sync.credentials.load("tom", central.url)
    workspace.sync.credentials.save("tom", dead, token)
    workspace.db.write(lambda s: setattr(local.state(s), "server_url", dead))
    window.refresh()
    qtbot.waitUntil(lambda: window.syncing.status is not None, timeout=10_000)
    with qtbot.waitSignal(window.syncing.sync_failed, timeout=60_000) as failed:
        window.sync_now()
    assert "refused" in failed.args[0].lower() or "reach" in failed.args[0].lower()
    assert "Offline" in window.sync_bar.online.text()
    assert workspace.sync.status().changes == 1
