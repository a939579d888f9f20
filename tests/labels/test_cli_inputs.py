"""`fieldops labels` given wrong input: one sentence on stderr, the README's exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.labels.test_round_trip import run_cli


@pytest.fixture(scope="module")
def data(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.support.workspaces import copy_data_dir

    return copy_data_dir(demo_template, tmp_path_factory.mktemp("inputs") / "data").root


def refused(data: Path, *args: str) -> str:
    """The one sentence a refused command prints; fails unless it exits 1 with no traceback."""
    done = run_cli(data, *args)
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "unexpected" not in done.stderr and "Traceback" not in done.stderr
    assert "QPainter" not in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("fieldops: "), done.stderr
    return done.stderr


def test_a_folder_as_output_is_refused(data: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    message = refused(data, "--asset", "IT-000001", "-o", str(tmp_path / "out"))
    assert "is a folder; give a file name in it" in message
    assert list((tmp_path / "out").iterdir()) == []


def test_empty_names_are_refused(data: Path, tmp_path: Path) -> None:
    assert "after -o" in refused(data, "--asset", "IT-000001", "-o", "")
    assert "after --asset" in refused(data, "--asset", "", "-o", str(tmp_path / "a.pdf"))
    assert "after --location" in refused(data, "--location", " ", "-o", str(tmp_path / "a.pdf"))
    assert not (tmp_path / "a.pdf").exists()


def test_a_folder_that_is_not_there_is_named_before_drawing(data: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    for target in (tmp_path / "missing" / "l.pdf", tmp_path / "notes.txt" / "l.pdf"):
        message = refused(data, "--asset", "IT-000001", "-o", str(target))
        assert f"The folder {target.parent} does not exist" in message


def test_options_that_would_be_ignored_are_refused(data: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "b.pdf")
    message = refused(data, "--asset", "IT-000001", "--base", "https://example.com", "-o", out)
    assert "--base is only used with --digital-link" in message
    message = refused(data, "--asset", "IT-000001", "--start", "3", "-o", str(tmp_path / "b.zpl"))
    assert "leave --start out with ZPL" in message
    assert not (tmp_path / "b.pdf").exists() and not (tmp_path / "b.zpl").exists()


def test_dash_writes_zpl_to_the_terminal_and_refuses_pdf(data: Path, tmp_path: Path) -> None:
    done = run_cli(data, "--asset", "IT-000001", "--format", "zpl", "-o", "-")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("^XA") and done.stdout.count("^XZ") == 1
    assert "Wrote 1 label as ZPL" in done.stderr
    assert "Only ZPL can be written to the terminal" in refused(
        data, "--asset", "IT-000001", "--format", "pdf", "-o", "-"
    )
    assert not Path("-").exists()


def test_an_existing_file_is_replaced_as_help_says(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "old.zpl"
    out.write_text("old", encoding="utf-8")
    done = run_cli(data, "--asset", "IT-000001", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("^XA")
    assert [p.name for p in tmp_path.iterdir()] == ["old.zpl"]  # no temporary file left
    helped = run_cli(data, "--help")
    assert "existing file is replaced" in " ".join(helped.stdout.split())


def test_base_with_digital_link_still_works(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "dl.zpl"
    done = run_cli(data, "--asset", "IT-000001", "--symbology", "qr", "--digital-link",
                   "--base", "https://example.com/", "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "https://example.com/8004/IT-000001" in out.read_text(encoding="utf-8")
