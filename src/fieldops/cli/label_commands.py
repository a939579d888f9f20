"""`fieldops labels`: asset tag labels to a PDF sheet or to ZPL, for one asset or a place."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fieldops.domain.errors import NotFoundError
from fieldops.labels.content import DEFAULT_BASE_URL, LabelOptions, Symbology, check_base_url
from fieldops.labels.layouts import (
    DEFAULT_SHEET,
    DEFAULT_THERMAL,
    LAYOUTS,
    ThermalLayout,
    check_start,
    layout_named,
)
from fieldops.labels.service import LabelJob, LabelService, check_format, make_labels
from fieldops.services.datadir import DataDir
from fieldops.services.workspace import Workspace

EXIT_OK, EXIT_ERROR, EXIT_NOT_FOUND = 0, 1, 3


def register(sub: Any) -> None:
    """Adds `labels` to the parser."""
    p = sub.add_parser("labels", help="print asset tag labels to a PDF sheet or ZPL")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--asset", metavar="TAG", help="one asset, by its tag (or any code on it)")
    what.add_argument(
        "--location", metavar="PLACE", help="every asset of a site, room or rack: id or path"
    )
    p.add_argument("--symbology", choices=[s.value for s in Symbology], default="code128")
    p.add_argument(
        "--digital-link", action="store_true", help="QR/DataMatrix hold a GS1 Digital Link URL"
    )
    p.add_argument("--base", metavar="URL", default=DEFAULT_BASE_URL, help="Digital Link base")
    p.add_argument(
        "--layout",
        metavar="NAME",
        help=", ".join(layout.name for layout in LAYOUTS.values())
        + f" (default {DEFAULT_SHEET}, or {DEFAULT_THERMAL} for ZPL)",
    )
    p.add_argument("--format", choices=["pdf", "zpl"], help="default: from the file's ending")
    p.add_argument("--start", type=int, default=1, metavar="N", help="first free label on a sheet")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    p.set_defaults(handler=labels)


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.layout and isinstance(layout_named(args.layout), ThermalLayout):
        return "zpl" if args.output.suffix.lower() != ".pdf" else "pdf"
    return "zpl" if args.output.suffix.lower() == ".zpl" else "pdf"


def _ensure_gui() -> None:
    """Qt draws PDF text only with a QGuiApplication; offscreen needs no display."""
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        app = QGuiApplication(["fieldops", "-platform", "offscreen"])
        _keep.append(app)


_keep: list[Any] = []


def labels(args: argparse.Namespace, data_dir: DataDir) -> int:
    """`fieldops labels`: exit 0 written, 3 no asset or none at that place, 1 bad input."""
    output_format = _format(args)
    layout = layout_named(
        args.layout or (DEFAULT_THERMAL if output_format == "zpl" else DEFAULT_SHEET)
    )
    check_format(layout, output_format)
    options = LabelOptions(
        symbology=Symbology(args.symbology),
        digital_link=bool(args.digital_link),
        base_url=check_base_url(args.base),
    )
    job_start = args.start
    if not isinstance(layout, ThermalLayout):
        check_start(layout, job_start)
    workspace = Workspace(data_dir)
    service = LabelService(workspace.db)
    try:
        assets = _assets(workspace, service, args)
    except NotFoundError as exc:
        print(f"fieldops: {exc.message}", file=sys.stderr)
        return EXIT_NOT_FOUND
    job = LabelJob(make_labels(assets, options), options, layout, output_format, job_start)
    if output_format == "pdf":
        _ensure_gui()
    report = service.render(job, args.output)
    service.record_printed(job)

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    what = "page" if output_format == "pdf" else "label"
    print(
        f"Wrote {plural(report.labels, 'label')} to {report.path} "
        f"({plural(report.pages, what)}, {layout.name})."
    )
    return EXIT_OK


def _assets(workspace: Workspace, service: LabelService, args: argparse.Namespace) -> list[Any]:
    if args.asset:
        result = workspace.lookup.lookup(args.asset)
        if result.card is None:
            raise NotFoundError(f"No asset matches {result.code!r}.")
        return service.for_asset(result.card.id)
    found = service.for_location(service.find_location(args.location))
    if not found:
        raise NotFoundError(f"There are no assets at {args.location!r}.")
    return found
