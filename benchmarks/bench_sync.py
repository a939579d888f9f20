"""Sync over loopback against the real server: 10,000 changes and 50 photos of 3 MB.

Also the photo upload rate beside a bare HTTP PUT of the same bytes to a second, identical
server, and the longest stall of the GUI thread while the window syncs.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy.orm import Session

from benchmarks.common import Measure
from benchmarks.server_process import PASSWORDS, ServerProcess, start
from fieldops.domain.identifiers import new_id
from fieldops.domain.incidents import Category, Level
from fieldops.domain.times import utcnow
from fieldops.protocol.version import UPLOAD_LENGTH_HEADER, UPLOAD_OFFSET_HEADER, Paths
from fieldops.resources import demo_dir
from fieldops.services.datadir import DataDir
from fieldops.services.incidents import INCIDENT_FIELDS, IncidentDraft, PreparedPhoto
from fieldops.services.workspace import Workspace
from fieldops.store.models import Incident
from fieldops.store.outbox import enqueue_create
from fieldops.sync.credentials import CredentialStore
from fieldops.sync.transport import SyncClient

CHANGES = 10_000
PHOTOS = 50


def _photo(folder: Path, index: int) -> Path:
    """A JPEG of about 3 MB that stays that size as its travelling copy: noise, no metadata."""
    from PIL import Image

    rng = random.Random(index)
    width, height = 2200, 1660
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    path = folder / f"photo-{index}.jpg"
    image.save(path, "JPEG", quality=88)
    return path


def _queue(workspace: Workspace, asset_id: str, folder: Path) -> None:
    for index in range(PHOTOS):
        prepared = workspace.incidents.prepare_photo(_photo(folder, index))
        workspace.incidents.record(_draft(asset_id, f"photo incident {index}", prepared))

    def many(session: Session) -> None:
        now = utcnow()
        for index in range(CHANGES - 2 * PHOTOS):
            incident = Incident(
                id=new_id(), asset_id=asset_id, site_code="HQ-DC1", category="hardware",
                impact="low", urgency="low", priority="P4", status="new",
                title=f"bench {index}", occurred_at=now, reported_at=now, updated_at=now,
            )  # fmt: skip
            session.add(incident)
            session.flush()
            enqueue_create(session, "incident", incident, INCIDENT_FIELDS)

    workspace.db.write(many)


def _draft(asset_id: str, title: str, prepared: PreparedPhoto | None) -> IncidentDraft:
    return IncidentDraft(
        title=title,
        category=Category.HARDWARE,
        impact=Level.LOW,
        urgency=Level.LOW,
        asset_id=asset_id,
        prepared_photos=[prepared] if prepared else [],
    )


def _bare_put(central: ServerProcess, files: list[Path]) -> float:
    with SyncClient(central.url) as client:
        token = client.login("tom", PASSWORDS["tom"]).token
    session = requests.Session()
    started = time.perf_counter()
    for path in files:
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        answer = session.put(
            central.url + Paths.blob(sha), data=data, timeout=60,
            headers={
                "Authorization": f"Bearer {token}", UPLOAD_LENGTH_HEADER: str(len(data)),
                UPLOAD_OFFSET_HEADER: "0", "Content-Type": "application/octet-stream",
            },
        )  # fmt: skip
        answer.raise_for_status()
    return time.perf_counter() - started


def _workspace(root: Path, central: ServerProcess) -> Workspace:
    workspace = Workspace(DataDir(root))
    workspace.catalogue.import_file(demo_dir() / "catalogue-snipeit.csv")
    workspace.sync.credentials = CredentialStore(session_only=True)
    workspace.sync.login(central.url, "tom", PASSWORDS["tom"])
    return workspace


def _gui_stall(root: Path, central: ServerProcess) -> float:
    """The longest gap between 5 ms timer ticks on the GUI thread while the window syncs."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from fieldops.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    workspace = _workspace(root, central)
    asset = workspace.lookup.lookup("IT-000001").card
    assert asset is not None
    for index in range(200):
        workspace.incidents.record(_draft(asset.id, f"gui {index}", None))
    workspace.close()
    window = MainWindow(DataDir(root))
    window.show()
    gaps: list[float] = []
    clock = QElapsedTimer()
    done: list[bool] = []

    def tick() -> None:
        if clock.isValid():
            gaps.append(clock.nsecsElapsed() / 1e6)
        clock.restart()

    ticker = QTimer()
    ticker.setInterval(5)
    ticker.timeout.connect(tick)

    def opened() -> None:
        opened_workspace = window.workspace
        assert opened_workspace is not None
        opened_workspace.sync.credentials = CredentialStore(session_only=True)
        opened_workspace.sync.login(central.url, "tom", PASSWORDS["tom"])
        window.refresh()
        QTimer.singleShot(300, lambda: (ticker.start(), window.sync_now()))

    window.workspace_ready.connect(opened)
    window.syncing.sync_finished.connect(lambda _r: (done.append(True), app.quit()))
    window.syncing.sync_failed.connect(lambda _m: (done.append(False), app.quit()))
    QTimer.singleShot(120_000, app.quit)
    app.exec()
    ticker.stop()
    window.close()
    assert done == [True], "the window's sync did not finish"
    return max(gaps) - 5 if gaps else float("nan")


def run() -> list[Measure]:
    """Sets two servers up, queues the work, syncs, and compares with bare PUTs."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        central = start(folder / "server")
        bare = start(folder / "bare", catalogue=False)
        try:
            workspace = _workspace(folder / "device", central)
            asset = workspace.lookup.lookup("IT-000001").card
            assert asset is not None
            _queue(workspace, asset.id, folder)
            status = workspace.sync.status()
            started = time.perf_counter()
            report = workspace.sync.sync()
            elapsed = time.perf_counter() - started
            assert report.changes_sent == status.changes, (report, status)
            assert report.photos_sent == status.photos, (report, status)
            with workspace.db.read() as session:
                from sqlalchemy import select

                from fieldops.store.models import Photo

                shas = list(session.scalars(select(Photo.sha256)))
            copies = [workspace.data_dir.blobs / s[:2] / s for s in shas]
            photo_bytes = sum(p.stat().st_size for p in copies)
            upload_started = time.perf_counter()
            # The same bytes again through the engine's transport, to a fresh server.
            with SyncClient(bare.url) as client:
                client.set_token(client.login("tom", PASSWORDS["tom"]).token)
                for path in copies:
                    client.upload_blob(path.name, path)
            ours = time.perf_counter() - upload_started
            third = start(folder / "third", catalogue=False)
            try:
                plain = _bare_put(third, copies)
            finally:
                third.stop()
            workspace.close()
            stall = _gui_stall(folder / "gui", central)
        finally:
            central.stop()
            bare.stop()
    ratio = (photo_bytes / ours) / (photo_bytes / plain)
    return [
        Measure(
            f"sync {status.changes:,} changes and {status.photos} photos of 3 MB",
            elapsed,
            "s",
            "< 30 s",
            elapsed < 30,
        ),
        Measure("average photo size", photo_bytes / len(copies) / 1e6, "MB"),
        Measure("photo upload, FieldOps transport", photo_bytes / ours / 1e6, "MB/s"),
        Measure("photo upload, bare requests PUT", photo_bytes / plain / 1e6, "MB/s"),
        Measure("upload rate, FieldOps / bare PUT", ratio, "x", ">= 0.5", ratio >= 0.5),
        Measure(
            "longest GUI-thread stall during a window sync", stall, "ms", "< 50 ms", stall < 50
        ),
    ]
