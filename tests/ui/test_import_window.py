"""Importing from the window: progress in the background, bad rows refused or skipped."""

from __future__ import annotations

from pathlib import Path

from fieldops.services.datadir import DataDir
from tests.ui.conftest import answer_next_message_box


def test_import_runs_in_the_background_and_updates_counts(
    qtbot, open_window, tmp_path: Path, demo_dir: Path
) -> None:
    window = open_window(DataDir(tmp_path / "empty"))
    with qtbot.waitSignal(window.import_finished, timeout=30_000) as done:
        job = window.import_catalogue(demo_dir / "catalogue-snipeit.csv")
        assert job is not None
        assert window.scan_field.isEnabled()  # the window is not blocked while it runs
    assert done.args[0].created == 2000
    qtbot.waitUntil(lambda: window.counts_label.text().startswith("2,000 assets"), timeout=10_000)


def test_bad_rows_are_listed_and_can_be_skipped(qtbot, open_window, tmp_path: Path) -> None:
    window = open_window(DataDir(tmp_path / "empty"))
    bad = tmp_path / "bad.csv"
    bad.write_text("Asset Tag,Serial Number,Location\nIT-1,S1,HQ / Room\n,S2,HQ / Room\n")
    seen = answer_next_message_box(qtbot, "Skip bad rows and import")
    with qtbot.waitSignal(window.import_finished, timeout=30_000) as done:
        window.import_catalogue(bad)
    assert seen and "line 3" in seen[0]
    assert done.args[0].created == 1 and [e.line for e in done.args[0].skipped] == [3]


def test_refused_import_leaves_the_catalogue_as_it_was(qtbot, open_window, tmp_path: Path) -> None:
    window = open_window(DataDir(tmp_path / "empty"))
    bad = tmp_path / "bad.csv"
    bad.write_text("Asset Tag,Serial Number,Location\nIT-1,S1,HQ / Room\n,S2,HQ / Room\n")
    seen = answer_next_message_box(qtbot, "Cancel")
    job = window.import_catalogue(bad)
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    qtbot.waitUntil(lambda: not window.lanes.db.busy(), timeout=10_000)
    assert job is not None and window.workspace.counts().assets == 0
