"""The command line in a subprocess: the same flow as the window, exit codes, clean errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(data_dir: Path, *args: str, env: dict[str, str] | None = None):
    full_env = {k: v for k, v in os.environ.items() if k != "FIELDOPS_DATA_DIR"}
    full_env.update(env or {})
    command = [sys.executable, "-m", "fieldops"]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=full_env, timeout=120
    )


@pytest.fixture
def data_dir(demo_data_dir) -> Path:
    return demo_data_dir.root


def test_lookup_found_not_found_and_json(data_dir: Path) -> None:
    found = run(data_dir, "lookup", "it-000217")
    assert found.returncode == 0, found.stderr
    assert "J344WPWW" in found.stdout and "R08" in found.stdout
    missing = run(data_dir, "lookup", "3271")
    assert missing.returncode == 3
    assert "'3271'" in missing.stdout
    as_json = json.loads(run(data_dir, "--json", "lookup", "003271").stdout)
    assert as_json["found"] and as_json["matched"] == "tag"
    assert as_json["asset"]["place"]["rack"] == "R02"


def test_incident_new_list_show(data_dir: Path, photos_dir: Path) -> None:
    created = run(
        data_dir,
        "incident", "new", "--asset", "IT-000217", "--category", "physical",
        "--subtype", "flood", "--impact", "high", "--urgency", "high",
        "--title", "Water under rack R08", "--description", "Ceiling leak",
        "--photo", str(photos_dir / "asset-label-exif-rotated.jpg"),
        "--photo", str(photos_dir / "water-damage-with-gps.jpg"),
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    incident_id = created.stdout.strip()
    assert len(incident_id) == 36

    listed = run(data_dir, "--json", "incident", "list")
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["priority"], r["photo_count"]) for r in rows] == [(incident_id, "P1", 2)]
    shown = run(data_dir, "incident", "show", incident_id)
    assert shown.returncode == 0
    assert "Water under rack R08" in shown.stdout and "physical / flood" in shown.stdout
    detail = json.loads(run(data_dir, "--json", "incident", "show", incident_id).stdout)
    assert len(detail["photos"]) == 2
    card = json.loads(run(data_dir, "--json", "lookup", "IT-000217").stdout)
    assert [i["title"] for i in card["asset"]["incidents"]] == ["Water under rack R08"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--category", "meteor", "--impact", "high"], "Unknown category 'meteor'"),
        (["--category", "physical", "--impact", "high"], "needs a subtype"),
        (["--category", "hardware", "--impact", "huge"], "Unknown impact 'huge'"),
    ],
)
def test_bad_incident_input_is_one_sentence_exit_1(
    data_dir: Path, args: list[str], message: str
) -> None:
    result = run(
        data_dir, "incident", "new", "--asset", "IT-000217", *args,
        "--urgency", "low", "--title", "t",
    )  # fmt: skip
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2


def test_photo_that_is_not_a_picture(data_dir: Path, tmp_path: Path) -> None:
    fake = tmp_path / "notes.jpg"
    fake.write_text("hello")
    result = run(
        data_dir, "incident", "new", "--asset", "IT-000217", "--category", "hardware",
        "--impact", "low", "--urgency", "low", "--title", "t", "--photo", str(fake),
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert run(data_dir, "--json", "incident", "list").stdout.strip() == "[]"


def test_import_assets_and_refused_file(tmp_path: Path, demo_dir: Path) -> None:
    fresh = tmp_path / "fresh"
    ok = run(fresh, "import-assets", str(demo_dir / "catalogue-netbox.csv"))
    assert ok.returncode == 0 and "400 new" in ok.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("Asset Tag,Serial Number,Location\nIT-1,S1,HQ / Room\n,S2,HQ / Room\n")
    refused = run(fresh, "import-assets", str(bad))
    assert refused.returncode == 1
    assert "line 3" in refused.stderr and "nothing was imported" in refused.stderr
    assert run(fresh, "lookup", "IT-1").returncode == 3
    skipped = run(fresh, "import-assets", str(bad), "--skip-bad-rows")
    assert skipped.returncode == 0 and "skipped line 3" in skipped.stdout
    assert run(fresh, "lookup", "IT-1").returncode == 0


def test_data_dir_from_environment(tmp_path: Path, demo_dir: Path) -> None:
    env = {"FIELDOPS_DATA_DIR": str(tmp_path / "env-data")}
    result = run(None, "import-assets", str(demo_dir / "catalogue-netbox.csv"), env=env)
    assert result.returncode == 0
    assert (tmp_path / "env-data" / "fieldops.sqlite").is_file()
    assert (tmp_path / "env-data" / "logs" / "fieldops.log").is_file()


def test_missing_file_and_no_display(tmp_path: Path) -> None:
    result = run(tmp_path / "d", "import-assets", str(tmp_path / "nope.csv"))
    assert result.returncode == 1 and "There is no file" in result.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    window = subprocess.run(
        [sys.executable, "-m", "fieldops", "--data-dir", str(tmp_path / "d")],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert window.returncode == 1 and "no display" in window.stderr


def test_lookup_misread_exits_4(data_dir: Path) -> None:
    result = run(data_dir, "lookup", "]E04006381333932")
    assert result.returncode == 4 and "check digit" in result.stdout
    as_json = json.loads(run(data_dir, "--json", "lookup", "]E04006381333932").stdout)
    assert as_json["misread"] and not as_json["found"]


def test_decode_photos(data_dir: Path, photos_dir: Path) -> None:
    label = run(data_dir, "--json", "decode", str(photos_dir / "asset-label-exif-rotated.jpg"))
    assert label.returncode == 0, label.stderr
    [code] = json.loads(label.stdout)["codes"]
    assert (code["format"], code["text"], code["asset_tag"]) == (
        "Code128",
        "IT-000217",
        "IT-000217",
    )
    nothing = run(data_dir, "decode", str(photos_dir / "water-damage-with-gps.jpg"))
    assert nothing.returncode == 3 and "move closer" in nothing.stdout
    unreadable = run(data_dir, "decode", str(Path(__file__)))
    assert unreadable.returncode == 1 and "Traceback" not in unreadable.stderr


def test_bad_times_and_filters_are_plain_errors(data_dir: Path) -> None:
    base = ["incident", "new", "--asset", "IT-000217", "--category", "hardware",
            "--impact", "low", "--urgency", "low", "--title", "t"]  # fmt: skip
    for when, message in (("yesterday", "is not a time"), ("2031-01-01T10:00", "in the future")):
        result = run(data_dir, *base, "--occurred", when)
        assert result.returncode == 1 and message in result.stderr
        assert "unexpected" not in result.stderr
    local = run(data_dir, "--json", *base, "--occurred", "2026-01-01T10:00")
    assert local.returncode == 0, local.stderr
    for flag, value, message in (("--status", "bogus", "Unknown status"),
                                 ("--priority", "P9", "Unknown priority")):  # fmt: skip
        result = run(data_dir, "incident", "list", flag, value)
        assert result.returncode == 1 and message in result.stderr
    assert run(data_dir, "incident", "list", "--priority", "p4", "--status", "New").returncode == 0


def test_refused_import_names_the_skip_option(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Asset Tag,Serial Number,Location\n,S2,HQ / Room\n")
    result = run(tmp_path / "d", "import-assets", str(bad))
    assert result.returncode == 1 and "--skip-bad-rows" in result.stderr
