"""Labels printed to PDF and read back: every tag decodes exactly and looks up to its asset."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fieldops.labels.content import LabelOptions, Symbology, digital_link
from fieldops.labels.layouts import SHEETS, SheetLayout
from fieldops.labels.service import LabelService
from tests.labels.support import crop, decode_one, open_pdf, page_image

RACK = "BR-LYON / Comms Closet 2F / R04"  # 37 assets in the demo catalogue


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FIELDOPS_DATA_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "fieldops", "--data-dir", str(data_dir), "labels", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def rack_dir(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.support.workspaces import copy_data_dir

    return copy_data_dir(demo_template, tmp_path_factory.mktemp("labels") / "data").root


@pytest.mark.parametrize(
    ("layout", "symbology"),
    list(itertools.product(SHEETS, list(Symbology))),
    ids=lambda v: v.name if isinstance(v, SheetLayout) else v.value,
)
def test_every_label_decodes_to_its_asset(
    rack_dir: Path, tmp_path: Path, layout: SheetLayout, symbology: Symbology, demo_workspace
) -> None:
    # Rendered by the command line in its own process, as a person would print them.
    out = tmp_path / "labels.pdf"
    extra = ["--digital-link"] if symbology is not Symbology.CODE128 else []
    done = run_cli(rack_dir, "--location", RACK, "--symbology", symbology.value,
                   "--layout", layout.name, *extra, "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr

    service = LabelService(demo_workspace.db)
    assets = service.for_location(service.find_location(RACK))
    assert len(assets) == 37
    document = open_pdf(out)
    assert document.pageCount() == layout.pages_for(len(assets))
    pages: dict[int, object] = {}
    for asset, (page, rect) in zip(assets, layout.placements(len(assets)), strict=True):
        image = pages.get(page) or pages.setdefault(page, page_image(document, page))
        code = decode_one(crop(image, rect), symbology.zxing_format)
        expected = asset.tag if not extra else digital_link(asset.tag)
        assert code.text == expected
        found = demo_workspace.lookup.lookup(code.scan_text)
        assert found.card is not None and found.card.id == asset.asset_id
        assert found.card.asset_tag == asset.tag


@pytest.mark.parametrize("layout", SHEETS, ids=lambda v: v.name)
def test_labels_lie_inside_the_page_and_apart(layout: SheetLayout) -> None:
    rects = [layout.slot(i) for i in range(layout.per_sheet)]
    for rect in rects:
        assert rect.x >= 0 and rect.y >= 0
        assert rect.right <= layout.page_width + 1e-6 and rect.bottom <= layout.page_height + 1e-6
    for a, b in itertools.combinations(rects, 2):
        assert not a.overlaps(b)
    # Margins are the same on both sides: the published templates are centred.
    right = layout.page_width - rects[-1].right
    assert abs(right - layout.side_margin) < 0.5


def test_ink_stays_inside_the_labels(demo_workspace, tmp_path: Path, qapp) -> None:
    from fieldops.labels.layouts import layout_named
    from fieldops.labels.service import LabelJob, make_labels

    layout = layout_named("L7160")
    service = LabelService(demo_workspace.db)
    assets = service.for_location(service.find_location(RACK))[:21]
    options = LabelOptions(Symbology.QR)
    job = LabelJob(make_labels(assets, options), options, layout)
    service.render(job, tmp_path / "sheet.pdf")
    page = page_image(open_pdf(tmp_path / "sheet.pdf"), 0, dpi=100)
    pixels = page.load()
    f = 100 / 25.4
    inside = [layout.slot(i) for i in range(layout.per_sheet)]
    dark_outside = 0
    for y in range(0, page.height, 2):
        for x in range(0, page.width, 2):
            if pixels[x, y] < 128 and not any(
                r.x * f - 1 <= x <= r.right * f + 1 and r.y * f - 1 <= y <= r.bottom * f + 1
                for r in inside
            ):
                dark_outside += 1
    assert dark_outside == 0
