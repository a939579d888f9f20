"""Lost answers and killed processes: every change reaches the server exactly once (C22, C23)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from fieldops.services.datadir import DataDir
from fieldops.services.workspace import Workspace
from fieldops.sync.credentials import CredentialStore
from tests.support.faulty_proxy import FaultyProxy
from tests.sync.central import USERS, wait_until
from tests.sync_flow.test_sync_flow import log_incident, server_incidents


def test_lost_push_answer_is_retried_without_a_duplicate(device, central, photos_dir: Path) -> None:
    pushes = []

    def drop_first_push(method: str, path: str) -> bool:
        if path.endswith("/sync/push"):
            pushes.append(path)
            return len(pushes) == 1
        return False

    proxy = FaultyProxy(central.url, drop_first_push)
    try:
        ws = device("laptop")
        photos = [photos_dir / "asset-label-exif-rotated.jpg", photos_dir / "server-front.heic"]
        incident_id = log_incident(ws, "C22 lost answer", photos)
        ws.sync.login(proxy.url, "tom", USERS["tom"][2])
        report = ws.sync.sync()
    finally:
        proxy.stop()
    assert len(pushes) >= 2, "the first answer was lost, so the push was sent again"
    assert ws.sync.status().changes == 0
    [on_server] = server_incidents(central, "C22 lost answer")
    assert on_server["number"] == ws.incidents.get(incident_id).summary.number
    assert report.changes_sent == 3


KILL_AFTER_SAVE = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from fieldops.services.datadir import DataDir
    from fieldops.services.workspace import Workspace
    from tests.sync_flow.test_sync_flow import log_incident
    ws = Workspace(DataDir(Path(sys.argv[1])))
    log_incident(ws, "C23 killed after save", [Path(p) for p in sys.argv[2:]])
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_changes_survive_a_kill_right_after_saving(device, central, photos_dir: Path) -> None:
    ws = device("laptop")
    root = ws.data_dir.root
    photos = [str(photos_dir / "water-damage-with-gps.jpg"), str(photos_dir / "rack-12mp.jpg")]
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_SAVE, str(root), *photos],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, timeout=60,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    again = Workspace(DataDir(root))
    again.sync.credentials = CredentialStore(session_only=True)
    again.sync.login(central.url, "tom", USERS["tom"][2])
    assert again.sync.status().changes == 3 and again.sync.status().photos == 2
    assert again.sync.sync().changes_sent == 3
    assert len(server_incidents(central, "C23 killed after save")) == 1
    again.close()


SYNC_IN_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from fieldops.services.datadir import DataDir
    from fieldops.services.workspace import Workspace
    from fieldops.sync.credentials import CredentialStore
    ws = Workspace(DataDir(Path(sys.argv[1])))
    ws.sync.credentials = CredentialStore(session_only=True)
    ws.sync.login(sys.argv[2], "tom", sys.argv[3])
    ws.sync.sync()
    """
)


def test_a_sync_killed_half_way_resumes_without_duplicates(
    demo_template, tmp_path: Path, central
) -> None:
    from tests.support.workspaces import copy_data_dir

    root = copy_data_dir(demo_template, tmp_path / "dev").root
    ws = Workspace(DataDir(root))
    for n in range(5):
        log_incident(ws, f"C23 mid-sync {n}")
    ws.close()
    proxy = FaultyProxy(
        central.url, lambda method, path: False, held=lambda method, path: "/sync/push" in path
    )
    proxy.hold.clear()  # push answers wait: the child is killed while its push is in flight
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", SYNC_IN_CHILD, str(root), proxy.url, USERS["tom"][2]],
            cwd=Path(__file__).resolve().parents[2],
        )
        wait_until(lambda: any(p.endswith("/sync/push") for _, p, _ in proxy.seen), 60, "a push")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        proxy.stop()
    again = Workspace(DataDir(root))
    again.sync.credentials = CredentialStore(session_only=True)
    again.sync.login(central.url, "tom", USERS["tom"][2])
    assert again.sync.status().changes == 5  # the answer never arrived: all still queued
    again.sync.sync()
    assert again.sync.status().changes == 0
    for n in range(5):
        assert len(server_incidents(central, f"C23 mid-sync {n}")) == 1
    again.close()
