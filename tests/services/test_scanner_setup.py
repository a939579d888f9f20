"""The stored scanner profile: saved atomically, read back, damage survived, used by lookups."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fieldops.domain.keyboard_layouts import Layout, type_through
from fieldops.domain.scan import ScanSource
from fieldops.domain.scanner_profile import TEST_LABEL_TEXT, ScannerProfile, detect_profile
from fieldops.services.datadir import DataDir
from fieldops.services.scanner_setup import (
    PROFILE_FILE,
    ScannerSetup,
    clear_profile,
    load_profile,
    profile_path,
    read_profile,
    save_profile,
)
from fieldops.services.workspace import Workspace

GERMAN = ScannerProfile(suffix="\r", aim=False, layout=Layout.DE)


def test_save_then_load_gives_the_same_profile(tmp_path: Path) -> None:
    profile = detect_profile("*" + type_through("]C0" + TEST_LABEL_TEXT, Layout.FR) + "\r\n")
    path = save_profile(tmp_path, profile)
    assert path == tmp_path / PROFILE_FILE
    assert load_profile(tmp_path) == profile
    assert load_profile(DataDir(tmp_path)) == profile
    document = json.loads(path.read_text("ascii"))
    assert document["version"] == 1 and document["profile"]["layout"] == "fr"
    assert document["profile"]["prefix"] == "*" and document["profile"]["suffix"] == "\r\n"
    assert [p.name for p in tmp_path.iterdir()] == [PROFILE_FILE], "no temporary file is left"


def test_saving_again_replaces_and_clearing_removes(tmp_path: Path) -> None:
    save_profile(tmp_path, GERMAN)
    save_profile(tmp_path, ScannerProfile(layout=Layout.UK))
    assert load_profile(tmp_path) == ScannerProfile(layout=Layout.UK)
    assert clear_profile(tmp_path) is True
    assert load_profile(tmp_path) is None and not profile_path(tmp_path).exists()
    assert clear_profile(tmp_path) is False


def test_no_file_is_no_profile_and_no_problem(tmp_path: Path) -> None:
    stored = read_profile(tmp_path)
    assert stored.profile is None and stored.problem is None


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff\xfe not json",
        b'{"version": 1, "profile": {"prefix": "',  # cut off mid-write by an old tool
        b"[1, 2, 3]",
        b'{"version": 1}',
        b'{"version": "1", "profile": {}}',
        b'{"version": 1, "profile": {"layout": "klingon"}}',
        b'{"version": 1, "profile": {"gs_substitute": "AB"}}',
        b'{"version": 1, "profile": {"prefix": "' + b"x" * 40 + b'"}}',
        b'{"version": 1, "profile": {"aim": "yes"}}',
        b"{" * 100_000,
    ],
)
def test_a_damaged_file_is_no_profile_with_a_message(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    profile_path(tmp_path).write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="fieldops.services.scanner_setup"):
        stored = read_profile(tmp_path)
    assert stored.profile is None
    assert stored.problem is not None and "Settings > Scanner" in stored.problem
    assert "damaged" in stored.problem
    assert any("scanner profile" in r.getMessage() for r in caplog.records)


def test_a_profile_from_a_newer_version_is_not_guessed_at(tmp_path: Path) -> None:
    profile_path(tmp_path).write_text('{"version": 2, "profile": {"layout": "de"}}')
    stored = read_profile(tmp_path)
    assert stored.profile is None and stored.problem is not None
    assert "newer FieldOps" in stored.problem


def test_a_failed_replace_keeps_the_old_profile(tmp_path: Path, monkeypatch) -> None:
    save_profile(tmp_path, GERMAN)

    # A crash between writing the temporary file and renaming it cannot be staged for real
    # in a test; a failing os.replace stands in for it.
    def broken_replace(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_profile(tmp_path, ScannerProfile(layout=Layout.IT))
    monkeypatch.undo()
    assert load_profile(tmp_path) == GERMAN
    assert [p.name for p in tmp_path.iterdir()] == [PROFILE_FILE]


def test_scanner_setup_saves_and_forgets(tmp_path: Path) -> None:
    setup = ScannerSetup(tmp_path)
    assert setup.profile is None and setup.problem is None
    setup.save(GERMAN)
    assert setup.profile == GERMAN and ScannerSetup(tmp_path).profile == GERMAN
    setup.forget()
    assert setup.profile is None and ScannerSetup(tmp_path).profile is None


def test_workspace_opens_with_a_damaged_profile(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    profile_path(data_dir).write_text("{not json")
    workspace = Workspace(data_dir)
    try:
        assert workspace.scanner.profile is None
        assert workspace.scanner.problem is not None
        assert workspace.lookup.lookup("IT-000217").card is None  # works, finds nothing
    finally:
        workspace.close()


def test_lookup_uses_the_stored_profile(demo_workspace: Workspace) -> None:
    german_scan = type_through("IT-000217", Layout.DE)
    assert german_scan == "ITß000217"
    refused = demo_workspace.lookup.lookup(german_scan)
    assert refused.card is None and refused.misread is not None
    assert "German" in refused.misread and "Settings > Scanner" in refused.misread

    demo_workspace.scanner.save(GERMAN)
    found = demo_workspace.lookup.lookup(german_scan)
    assert found.card is not None and found.card.asset_tag == "IT-000217"
    assert "US scanner on German layout corrected" in found.warnings
    # A profile given by the caller wins over the stored one.
    assert demo_workspace.lookup.lookup("IT-000217", ScannerProfile()).card is not None


def test_the_stored_profile_is_read_when_the_workspace_opens(demo_data_dir: DataDir) -> None:
    save_profile(demo_data_dir, GERMAN)
    workspace = Workspace(demo_data_dir)
    try:
        assert workspace.scanner.profile == GERMAN
        assert workspace.lookup.lookup("ITß000217").card is not None
    finally:
        workspace.close()


def test_decoded_pictures_are_not_put_through_the_keyboard_profile(
    demo_workspace: Workspace,
) -> None:
    # IT-000004's serial holds a Y: through the German profile a keyboard Y is a Z.
    demo_workspace.scanner.save(GERMAN)
    assert demo_workspace.lookup.lookup("YWQUFTD").card is None
    from_picture = demo_workspace.lookup.lookup("YWQUFTD", source=ScanSource.IMAGE)
    assert from_picture.card is not None and from_picture.card.asset_tag == "IT-000004"
    assert from_picture.warnings == ()


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FIELDOPS_DATA_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "fieldops", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_command_line_lookup_uses_the_stored_profile(demo_data_dir: DataDir) -> None:
    without = _cli(demo_data_dir.root, "lookup", "--scanned", "ITß000217")
    assert without.returncode == 4, without.stdout + without.stderr
    assert "Settings > Scanner" in without.stdout
    save_profile(demo_data_dir, GERMAN)
    typed = _cli(demo_data_dir.root, "lookup", "IT-000217")  # typed by a person: no profile
    assert typed.returncode == 0, typed.stdout + typed.stderr
    found = _cli(demo_data_dir.root, "--json", "lookup", "--scanned", "ITß000217\r")
    assert found.returncode == 0, found.stdout + found.stderr
    answer = json.loads(found.stdout)
    assert answer["found"] is True and answer["code"] == "IT-000217"
    assert answer["raw"] == "ITß000217\r"
