"""`fieldops sync` and `status` in a subprocess against the real server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fieldops.services.datadir import DataDir
from fieldops.services.workspace import Workspace
from tests.support.workspaces import copy_data_dir
from tests.sync.central import USERS
from tests.sync_flow.test_sync_flow import log_incident, server_incidents


def fieldops(root: Path, *args: str, password: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "fieldops", "--data-dir", str(root), *args],
        input=password + "\n" if password else None,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_sync_for_one_run_then_status(demo_template, tmp_path: Path, central) -> None:
    root = copy_data_dir(demo_template, tmp_path / "dev").root
    ws = Workspace(DataDir(root))
    log_incident(ws, "CLI one-run sync")
    ws.close()
    before = json.loads(fieldops(root, "--json", "status").stdout)
    assert before["changes"] == 1 and not before["server"]

    not_signed_in = fieldops(root, "sync")
    assert not_signed_in.returncode == 1 and "not signed in" in not_signed_in.stderr

    synced = fieldops(
        root, "sync", "--password-stdin", "--server", central.url, "--user", "tom",
        password=USERS["tom"][2],
    )  # fmt: skip
    assert synced.returncode == 0, synced.stderr
    assert "Changes sent  1" in synced.stdout.replace("    ", "  ")
    after = json.loads(fieldops(root, "--json", "status").stdout)
    assert after["changes"] == 0 and after["last_sync_at"]
    assert len(server_incidents(central, "CLI one-run sync")) == 1
