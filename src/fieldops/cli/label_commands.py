"""`fieldops labels`: asset tag labels to a PDF sheet or to ZPL, for one asset or a place."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from fieldops.domain.errors import NotFoundError, ValidationError
from fieldops.domain.scan import ScanSource
from fieldops.labels.content import DEFAULT_BASE_URL, LabelOptions, Symbology, check_base_url
from fieldops.labels.layouts import (
    DEFAULT_SHEET,
    DEFAULT_THERMAL,
    LAYOUTS,
    ThermalLayout,
    check_start,
    layout_named,
)
from fieldops.labels.service import (
    LabelJob,
    LabelService,
    check_format,
    check_target,
    make_labels,
)
from fieldops.labels.zpl import label_zpl
from fieldops.logsetup import route_qt_messages
from fieldops.services.datadir import DataDir
from fieldops.services.workspace import Workspace

log = logging.getLogger(__name__)

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
    p.add_argument(
        "--base", metavar="URL", help=f"Digital Link base, with --digital-link ({DEFAULT_BASE_URL})"
    )
    p.add_argument(
        "--layout",
        metavar="NAME",
        help=", ".join(layout.name for layout in LAYOUTS.values())
        + f" (default {DEFAULT_SHEET}, or {DEFAULT_THERMAL} for ZPL)",
    )
    p.add_argument("--format", choices=["pdf", "zpl"], help="default: from the file's ending")
    p.add_argument(
        "--start", type=int, metavar="N", help="first free label on a sheet (PDF only; default 1)"
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="the file to write; an existing file is replaced. `-` writes ZPL to the terminal",
    )
    p.set_defaults(handler=labels)


def _format(args: argparse.Namespace, output: Path | None) -> str:
    if args.format:
        return str(args.format)
    suffix = output.suffix.lower() if output is not None else ".zpl"
    if args.layout and isinstance(layout_named(args.layout), ThermalLayout):
        return "zpl" if suffix != ".pdf" else "pdf"
    return "zpl" if suffix == ".zpl" else "pdf"


def _output(args: argparse.Namespace) -> Path | None:
    """The file to write, None for the terminal (`-o -`); refuses an empty name."""
    text = str(args.output)
    if not text.strip():
        raise ValidationError("Give the name of the file to write the labels to after -o.")
    return None if text == "-" else Path(text)


def _check_arguments(args: argparse.Namespace, output_format: str, to_terminal: bool) -> None:
    for flag, value in (("--asset", args.asset), ("--location", args.location)):
        if value is not None and not value.strip():
            raise ValidationError(f"Give what to label after {flag}; it is empty.")
    if args.base is not None and not args.digital_link:
        raise ValidationError(
            "--base is only used with --digital-link; add --digital-link or leave --base out."
        )
    if args.start is not None and output_format == "zpl":
        raise ValidationError(
            "--start is for sheets of labels; a thermal printer prints one label at a time, "
            "so leave --start out with ZPL."
        )
    if to_terminal and output_format != "zpl":
        raise ValidationError(
            "Only ZPL can be written to the terminal (-o -); give a file name for a PDF."
        )


def _ensure_gui() -> None:
    """Qt draws PDF text only with a QGuiApplication; offscreen needs no display."""
    from PySide6.QtGui import QGuiApplication

    # Qt's own warnings ("QPainter::begin(): Returned false") go to the log, not the
    # terminal: the person reads one sentence from FieldOps instead.
    route_qt_messages()
    if QGuiApplication.instance() is None:
        app = QGuiApplication(["fieldops", "-platform", "offscreen"])
        _keep.append(app)


_keep: list[Any] = []


def labels(args: argparse.Namespace, data_dir: DataDir) -> int:
    """`fieldops labels`: exit 0 written, 3 no asset or none at that place, 1 bad input."""
    output = _output(args)
    output_format = _format(args, output)
    _check_arguments(args, output_format, output is None)
    layout = layout_named(
        args.layout or (DEFAULT_THERMAL if output_format == "zpl" else DEFAULT_SHEET)
    )
    check_format(layout, output_format)
    options = LabelOptions(
        symbology=Symbology(args.symbology),
        digital_link=bool(args.digital_link),
        base_url=check_base_url(args.base or DEFAULT_BASE_URL),
    )
    job_start = args.start or 1
    if not isinstance(layout, ThermalLayout):
        check_start(layout, job_start)
    if output is not None:
        check_target(output)
    workspace = Workspace(data_dir)
    service = LabelService(workspace.db)
    try:
        assets = _assets(workspace, service, args)
    except NotFoundError as exc:
        print(f"fieldops: {exc.message}", file=sys.stderr)
        return EXIT_NOT_FOUND
    job = LabelJob(make_labels(assets, options), options, layout, output_format, job_start)
    if output is None:
        assert isinstance(layout, ThermalLayout)
        sys.stdout.write("".join(label_zpl(label, layout) for label in job.labels))
        sys.stdout.flush()
        service.record_printed(job)
        print(f"Wrote {_plural(len(job.labels), 'label')} as ZPL ({layout.name}).", file=sys.stderr)
        return EXIT_OK
    if output_format == "pdf":
        _ensure_gui()
    report = service.render(job, output)
    service.record_printed(job)
    what = "page" if output_format == "pdf" else "label"
    print(
        f"Wrote {_plural(report.labels, 'label')} to {report.path} "
        f"({_plural(report.pages, what)}, {layout.name})."
    )
    return EXIT_OK


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _assets(workspace: Workspace, service: LabelService, args: argparse.Namespace) -> list[Any]:
    if args.asset:
        result = workspace.lookup.lookup(args.asset, source=ScanSource.TYPED)
        if result.card is None:
            raise NotFoundError(f"No asset matches {result.code!r}.")
        return service.for_asset(result.card.id)
    found = service.for_location(service.find_location(args.location))
    if not found:
        raise NotFoundError(f"There are no assets at {args.location!r}.")
    return found
