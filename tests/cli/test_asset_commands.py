"""`fieldops attach-code` and `fieldops replace` in a subprocess, on the demo catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import run


@pytest.fixture
def data_dir(demo_data_dir) -> Path:
    return demo_data_dir.root


def test_attached_code_finds_the_asset_and_waits_to_sync(data_dir: Path) -> None:
    assert run(data_dir, "lookup", "BOX-LBL-7781").returncode == 3
    done = run(data_dir, "attach-code", "IT-000217", "BOX-LBL-7781")
    assert done.returncode == 0, done.stderr
    assert "now finds IT-000217" in done.stdout
    found = json.loads(run(data_dir, "--json", "lookup", "box-lbl-7781").stdout)
    assert found["found"] and found["matched"] == "label"
    again = run(data_dir, "attach-code", "IT-000217", "BOX-LBL-7781")
    assert again.returncode == 1 and "already answers to" in again.stderr
    assert "Traceback" not in again.stderr
    status = run(data_dir, "status")
    waiting = next(line for line in status.stdout.splitlines() if line.startswith("Changes"))
    assert waiting.split()[-1] == "1"


def test_attach_to_an_unknown_asset_is_one_sentence(data_dir: Path) -> None:
    refused = run(data_dir, "attach-code", "NO-SUCH-1", "BOX-LBL-7781")
    assert refused.returncode == 1
    assert "No asset matches 'NO-SUCH-1'" in refused.stderr and "Traceback" not in refused.stderr


def test_replace_swaps_the_part_serial(data_dir: Path) -> None:
    done = run(
        data_dir,
        *("replace", "IT-000217", "--old", "BZB7Y47H44DR", "--new", "5CG5678NEW"),
        *("--fate", "returned-to-vendor", "--rma", "RMA-1"),
    )
    assert done.returncode == 0, done.stderr
    assert "in psu PSU1" in done.stdout
    found = json.loads(run(data_dir, "--json", "lookup", "5CG5678NEW").stdout)
    assert found["found"] and found["asset"]["asset_tag"] == "IT-000217"
    assert run(data_dir, "lookup", "BZB7Y47H44DR").returncode == 3


def test_replace_with_the_same_serial_is_refused(data_dir: Path) -> None:
    refused = run(
        data_dir,
        *("replace", "IT-000217", "--old", "ABC123", "--new", "abc123", "--fate", "scrapped"),
    )
    assert refused.returncode == 1 and "same as the old one" in refused.stderr


def test_json_may_follow_the_command(data_dir: Path) -> None:
    after = run(data_dir, "lookup", "--json", "IT-000217")
    assert after.returncode == 0 and json.loads(after.stdout)["asset"]["asset_tag"] == "IT-000217"
    assert json.loads(run(data_dir, "incident", "list", "--json").stdout) == []


def test_a_damaged_scanner_profile_is_reported_not_fatal(data_dir: Path) -> None:
    (data_dir / "scanner-profile.json").write_text("{not json", encoding="utf-8")
    answer = run(data_dir, "lookup", "IT-000217")
    assert answer.returncode == 0
    assert "Settings > Scanner" in answer.stderr and "Traceback" not in answer.stderr
