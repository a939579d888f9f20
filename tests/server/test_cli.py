"""The `fieldops-server` command line, run in-process on real databases and files."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from fieldops.protocol import Paths
from fieldops.server.cli import main
from tests.server.helpers import Api, wait_until

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(
    tmp_path: Path,
    database: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Run:
    """Runs one command against the test's database; returns exit code, stdout and stderr."""
    monkeypatch.setenv("FIELDOPS_SERVER_DATA_DIR", str(tmp_path / "data"))

    def invoke(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["--db", database, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_users_are_created_listed_disabled_and_revoked(run: Run) -> None:
    code, out, _ = run(
        "create-user",
        "tom",
        "--role",
        "technician",
        "--site",
        "HQ-DC1",
        "--site",
        "BR-LEEDS",
        "--password-stdin",
        stdin="tom-password-1\n",
    )
    assert code == 0 and "User tom created" in out
    assert run("create-user", "ada", "--role", "admin", "--password-stdin", stdin="a" * 12)[0] == 0
    code, _, err = run("create-user", "TOM", "--role", "lead", "--password-stdin", stdin="x" * 12)
    assert code == 1 and "already exists" in err and "Traceback" not in err
    code, _, err = run("create-user", "sam", "--role", "lead", "--password-stdin", stdin="short")
    assert code == 1 and "at least 10 characters" in err
    listed = json.loads(run("list-users", "--json")[1])
    assert listed == [
        {"name": "ada", "role": "admin", "sites": [], "disabled": False},
        {"name": "tom", "role": "technician", "sites": ["BR-LEEDS", "HQ-DC1"], "disabled": False},
    ]
    assert run("set-password", "tom", "--password-stdin", stdin="tom-password-2\n")[0] == 0
    assert run("disable-user", "tom")[0] == 0
    assert json.loads(run("list-users", "--json")[1])[1]["disabled"] is True
    assert run("disable-user", "tom", "--enable")[0] == 0
    code, out, _ = run("revoke-tokens", "tom")
    assert code == 0 and "Ended 0 sign-in(s)" in out
    code, _, err = run("revoke-tokens", "nobody")
    assert code == 1 and "no user 'nobody'" in err


def test_password_must_come_from_stdin_when_not_at_a_terminal(run: Run) -> None:
    code, _, err = run("create-user", "tom", "--role", "technician")
    assert code == 1 and "--password-stdin" in err


def test_import_of_the_demo_catalogues(run: Run, demo_dir: Path) -> None:
    code, out, _ = run("import-assets", str(demo_dir / "catalogue-snipeit.csv"))
    assert code == 0
    assert "(snipeit): 2000 created, 0 updated, 0 unchanged, 0 line(s) refused" in out
    assert run("import-assets", str(demo_dir / "catalogue-netbox.csv"))[0] == 0
    code, out, _ = run("import-assets", str(demo_dir / "components.csv"), "--json")
    assert code == 0 and json.loads(out)["created"] == 9576
    code, out, _ = run("import-assets", str(demo_dir / "catalogue-snipeit.csv"))
    assert "0 created, 0 updated, 2000 unchanged" in out
    sites = {s["code"]: s["assets"] for s in json.loads(run("sites", "--json")[1])}
    assert sum(sites.values()) == 2400 and set(sites) == {"HQ-DC1", "BR-LEEDS", "BR-LYON", "BR-MUC"}


def test_import_reports_refused_lines_and_changes(run: Run, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text(
        "Asset Tag,Item Name,Serial Number,Location,Notes\n"
        "IT-1,Box,S1,HQ-DC1 / Room 1 / R01,U3 front\n"
        "IT-2,Box,S2,,\n",
        encoding="utf-8",
    )
    code, out, _ = run("import-assets", str(first))
    assert code == 3
    assert "1 created" in out and "line 3: no location" in out
    first.write_text(
        "Asset Tag;Item Name;Serial Number;Location;Notes\n"
        "IT-1;Box;S1-new;HQ-DC1 / Room 1 / R01;\n",
        encoding="utf-8",
    )
    code, out, _ = run("import-assets", str(first))
    assert code == 0 and "1 updated" in out
    parts = tmp_path / "parts.csv"
    parts.write_text("asset_tag,kind,slot,model,serial\nIT-404,fan,F1,X,1\n", encoding="utf-8")
    code, out, _ = run("import-assets", str(parts))
    assert code == 3 and "no asset with tag 'IT-404'" in out
    code, _, err = run("import-assets", str(tmp_path / "missing.csv"))
    assert code == 1 and "Cannot read" in err
    junk = tmp_path / "junk.csv"
    junk.write_text("id,hostname\n1,a\n", encoding="utf-8")
    code, _, err = run("import-assets", str(junk))
    assert code == 1 and "does not look like" in err


def test_sites_can_be_added_and_renamed(run: Run) -> None:
    assert run("sites")[1].strip() == "No sites."
    assert run("sites", "--add", "HQ-DC1", "--name", "Head office")[0] == 0
    run("sites", "--add", "HQ-DC1", "--name", "Head office, Dublin")
    assert json.loads(run("sites", "--json")[1]) == [
        {"code": "HQ-DC1", "name": "Head office, Dublin", "assets": 0}
    ]
    code, _, err = run("sites", "--add", "HQ DC1")
    assert code == 1 and "is not a site code" in err and "Traceback" not in err


def test_backup_and_restore_give_a_new_epoch(run: Run, tmp_path: Path, demo_dir: Path) -> None:
    run("create-user", "ada", "--role", "admin", "--password-stdin", stdin="a" * 12)
    run("import-assets", str(demo_dir / "catalogue-netbox.csv"))
    archive = tmp_path / "server-backup.tar.gz"
    code, out, _ = run("backup", str(archive), "--with-blobs")
    assert code == 0 and archive.exists() and "1 users" in out
    fresh = tmp_path / "restored"
    code = main(["--data-dir", str(fresh), "restore", str(archive)])
    assert code == 0
    code = main(["--data-dir", str(fresh), "restore", str(archive)])
    assert code == 1  # only into an empty database
    assert main(["--data-dir", str(fresh), "list-users", "--json"]) == 0


def test_purge_and_new_epoch(run: Run) -> None:
    assert run("purge")[1].startswith("Purged 0")
    assert "New epoch" in run("new-epoch")[1]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_one_command_serves_with_no_setup(tmp_path: Path, database: str) -> None:
    """`fieldops-server --data-dir DIR serve` on an empty directory: SQLite, schema, API."""
    from tests.support.postgres import free_port

    port = free_port()
    data = tmp_path / "fresh"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fieldops.server",
            "--data-dir",
            str(data),
            "serve",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return requests.get(base + Paths.INFO, timeout=1).status_code == 200
            except requests.ConnectionError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                return False

        wait_until(answers, timeout=20, what="the server to answer")
        assert (data / "server.db").exists()
        assert Api(base).login("nobody", "whatever-pass").status_code == 401
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "no users yet" in output
