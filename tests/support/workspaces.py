"""Data directories for tests: one demo catalogue imported once per run, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

from fieldops.services.datadir import DataDir
from fieldops.services.workspace import Workspace

DEMO_FILES = ("catalogue-snipeit.csv", "catalogue-netbox.csv", "components.csv")


def build_demo_template(root: Path, demo: Path) -> Path:
    """A data directory holding the whole demo catalogue, closed and ready to copy."""
    workspace = Workspace(DataDir(root))
    for name in DEMO_FILES:
        workspace.catalogue.import_file(demo / name)
    workspace.close()
    return root


def copy_data_dir(template: Path, target: Path) -> DataDir:
    """A private copy of a template data directory."""
    shutil.copytree(template, target)
    return DataDir(target)
