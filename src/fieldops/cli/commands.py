"""The terminal commands; each calls the same services as the window."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fieldops.cli import sync_commands
from fieldops.cli.output import emit_json, emit_lines
from fieldops.domain.catalogue import CatalogueFormat
from fieldops.domain.incidents import (
    CATEGORY_LABELS,
    SUBTYPE_LABELS,
    parse_category,
    parse_level,
    parse_priority,
    parse_status,
    parse_subtype,
)
from fieldops.domain.scan import ScanSource
from fieldops.resources import demo_dir
from fieldops.services.datadir import DataDir
from fieldops.services.incidents import IncidentDetail, IncidentDraft
from fieldops.services.lookup import KIND_LABELS, AssetCard, IncidentSummary
from fieldops.services.workspace import Workspace

EXIT_OK, EXIT_NOT_FOUND, EXIT_MISREAD = 0, 3, 4
DEMO_FILES = ("catalogue-snipeit.csv", "catalogue-netbox.csv", "components.csv")


def register(sub: Any) -> None:
    """Adds every command to the parser."""
    p = sub.add_parser("import-assets", help="import a Snipe-IT, NetBox or components CSV")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--format", choices=["auto", *[f.value for f in CatalogueFormat]], default="auto"
    )
    p.add_argument(
        "--skip-bad-rows", action="store_true", help="import the good rows, list the bad ones"
    )
    p.set_defaults(handler=import_assets)

    p = sub.add_parser("demo-seed", help="fill an empty data directory with the demo catalogue")
    p.set_defaults(handler=demo_seed)

    p = sub.add_parser("lookup", help="look an asset up by tag, serial or component serial")
    p.add_argument("code", help="the code exactly as read (quote it)")
    p.add_argument(
        "--scanned",
        action="store_true",
        help="the code came from this computer's keyboard scanner: correct it through the "
        "stored scanner profile (Settings > Scanner)",
    )
    p.set_defaults(handler=lookup)

    p = sub.add_parser("decode", help="every barcode and QR code in a photo")
    p.add_argument("image", type=Path)
    p.set_defaults(handler=decode)

    incident = sub.add_parser("incident", help="record and read incidents")
    isub = incident.add_subparsers(dest="incident_command", metavar="ACTION", required=True)
    p = isub.add_parser("new", help="record an incident")
    p.add_argument("--asset", metavar="CODE", help="tag, serial or component serial")
    p.add_argument("--location", metavar="PATH", help="site / room / rack, when no asset")
    p.add_argument("--category", required=True, help=", ".join(c.value for c in CATEGORY_LABELS))
    p.add_argument("--subtype", help=", ".join(s.value for s in SUBTYPE_LABELS) + " (physical)")
    p.add_argument("--impact", required=True, help="high, medium or low")
    p.add_argument("--urgency", required=True, help="high, medium or low")
    p.add_argument("--title", required=True)
    p.add_argument("--description", default="")
    p.add_argument("--occurred", metavar="TIME", help="ISO 8601 time (default now)")
    p.add_argument("--reporter", default="")
    p.add_argument("--photo", action="append", default=[], type=Path, metavar="FILE")
    p.set_defaults(handler=incident_new)
    p = isub.add_parser("list", help="list incidents, newest first")
    p.add_argument("--status")
    p.add_argument("--priority")
    p.set_defaults(handler=incident_list)
    p = isub.add_parser("show", help="show one incident")
    p.add_argument("id", help="the id, its first characters, or the INC number")
    p.set_defaults(handler=incident_show)
    register_sync(sub)


def register_sync(sub: Any) -> None:
    """The server side of things: login, logout, sync, status."""
    p = sub.add_parser(
        "login", help="sign in to the central server (the token goes to the keyring)"
    )
    p.add_argument("--server", required=True, metavar="URL")
    p.add_argument("--user", required=True, metavar="NAME")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(handler=sync_commands.login)
    p = sub.add_parser("logout", help="forget this device's sign-in")
    p.set_defaults(handler=sync_commands.logout)
    p = sub.add_parser("sync", help="send queued changes and photos, fetch the catalogue")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="sign in for this run only, with the password from stdin (no keyring needed)",
    )
    p.add_argument("--server", metavar="URL", help="with --password-stdin: the server")
    p.add_argument("--user", metavar="NAME", help="with --password-stdin: the user")
    p.set_defaults(handler=sync_commands.sync)
    p = sub.add_parser("proxy-login", help="keep the company proxy's sign-in in the keyring")
    p.add_argument("--user", required=True, metavar="NAME")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--server", metavar="URL", help="the sync server (default: the one set up)")
    p.set_defaults(handler=sync_commands.proxy_login)
    p = sub.add_parser("status", help="what waits to be sent, and the last sync")
    p.set_defaults(handler=sync_commands.status)


def _open(data_dir: DataDir) -> Workspace:
    workspace = Workspace(data_dir)
    if workspace.scanner.problem:
        print(f"fieldops: {workspace.scanner.problem}", file=sys.stderr)
    return workspace


def import_assets(args: argparse.Namespace, data_dir: DataDir) -> int:
    """`fieldops import-assets FILE`."""
    from fieldops.domain.errors import FieldOpsError
    from fieldops.services.catalogue import ImportRefused

    fmt = None if args.format == "auto" else CatalogueFormat(args.format)
    try:
        report = _open(data_dir).catalogue.import_file(
            args.file, fmt, skip_bad_rows=args.skip_bad_rows
        )
    except ImportRefused as refused:
        raise FieldOpsError(
            refused.message + "\nTo import the good rows and skip these, add --skip-bad-rows."
        ) from refused
    if args.json:
        emit_json(report)
        return EXIT_OK
    print(
        f"Imported {args.file.name} ({report.format.value}): {report.created} new, "
        f"{report.updated} updated, {report.unchanged} unchanged."
    )
    for error in report.skipped:
        print(f"  skipped line {error.line}: {error.reason}")
    return EXIT_OK


def demo_seed(args: argparse.Namespace, data_dir: DataDir) -> int:
    """`fieldops demo-seed`: imports the demo catalogue once into an empty data directory."""
    workspace = _open(data_dir)
    if workspace.counts().assets:
        print(f"The data directory {data_dir.root} already holds a catalogue.")
        return EXIT_OK
    for name in DEMO_FILES:
        report = workspace.catalogue.import_file(demo_dir() / name)
        print(f"Demo catalogue: {name}: {report.created} rows.")
    return EXIT_OK


def _card_lines(card: AssetCard, matched: str | None) -> list[tuple[str, str]]:
    place = card.place
    lines = [
        ("Asset tag", card.asset_tag + ("  (provisional)" if card.provisional else "")),
        ("Serial", card.serial),
        ("Model", " ".join(p for p in (card.manufacturer, card.model) if p)),
        ("Category", card.category),
        ("Status", card.status),
        ("Site", place.site_code or ""),
        ("Room", place.room),
        ("Rack", place.rack),
        ("U", f"{place.rack_u} {place.rack_face or ''}".strip() if place.rack_u else ""),
        ("Components", str(len(card.components))),
        ("Incidents", str(len(card.incidents))),
    ]
    if matched:
        lines.append(("Matched by", KIND_LABELS.get(matched, matched)))
    return lines


def lookup(args: argparse.Namespace, data_dir: DataDir) -> int:
    """`fieldops lookup CODE`: exit 0 found, 3 not found, 4 misread (scan again)."""
    source = ScanSource.KEYBOARD if args.scanned else ScanSource.TYPED
    result = _open(data_dir).lookup.lookup(args.code, source=source)
    if args.json:
        emit_json(
            {
                "found": result.found,
                "misread": result.misread,
                "raw": result.raw,
                "code": result.code,
                "symbology": result.symbology,
                "matched": result.matched_kind,
                "other_matches": result.other_matches,
                "other_assets": list(result.other_tags),
                "asset": result.card,
            }
        )
    elif result.misread:
        print(f"Misread: {result.misread} (read: {result.raw!r})")
    elif result.card is None:
        print(f"No asset matches {result.code!r} (read: {result.raw!r}).")
    else:
        emit_lines(_card_lines(result.card, result.matched_kind))
        if result.other_tags:
            print(
                f"Also named by this code: {', '.join(result.other_tags)}. "
                "Check the tag on the asset."
            )
    if result.misread:
        return EXIT_MISREAD
    return EXIT_OK if result.found else EXIT_NOT_FOUND


def decode(args: argparse.Namespace, data_dir: DataDir) -> int:
    """`fieldops decode IMAGE`: exit 0 when a code was found, 3 when none, 1 unreadable."""
    from fieldops.media.barcodes import read_codes

    report = read_codes(args.image)
    lookup = _open(data_dir).lookup
    found = []
    for code in report.codes:
        match = lookup.lookup(code.scan_text, source=ScanSource.IMAGE)
        found.append(
            {
                "format": code.format,
                "text": code.text,
                "position": [list(point) for point in code.position],
                "asset_tag": match.card.asset_tag if match.card else None,
                "matched": match.matched_kind,
            }
        )
    if args.json:
        emit_json({"codes": found, "hint": report.hint, "size": list(report.size)})
    elif not found:
        print(report.hint or "No code was found in the picture.")
    for item in [] if args.json else found:
        asset = f"  -> asset {item['asset_tag']}" if item["asset_tag"] else "  (no asset matches)"
        print(f"{item['format']:<12} {item['text']}{asset}")
    return EXIT_OK if found else EXIT_NOT_FOUND


def _where(workspace: Workspace, args: argparse.Namespace) -> tuple[str | None, str | None]:
    from fieldops.domain.errors import NotFoundError, ValidationError

    if args.asset:
        result = workspace.lookup.lookup(args.asset, source=ScanSource.TYPED)
        if result.card is None:
            raise NotFoundError(f"No asset matches {result.code!r}; check the code or import it.")
        return result.card.id, None
    if args.location:
        wanted = " / ".join(p.strip() for p in args.location.split("/")).casefold()
        for choice in workspace.locations():
            if choice.label.casefold() == wanted:
                return None, choice.id
        raise NotFoundError(f"No location is called {args.location!r}.")
    raise ValidationError("Say where the incident is: --asset CODE or --location PATH.")


def incident_new(args: argparse.Namespace, data_dir: DataDir) -> int:
    """`fieldops incident new ...`: prints the new incident's id."""
    workspace = _open(data_dir)
    asset_id, location_id = _where(workspace, args)
    draft = IncidentDraft(
        title=args.title,
        category=parse_category(args.category),
        subtype=parse_subtype(args.subtype) if args.subtype else None,
        impact=parse_level(args.impact, "impact"),
        urgency=parse_level(args.urgency, "urgency"),
        description=args.description,
        asset_id=asset_id,
        location_id=location_id,
        occurred_at=_occurred(args.occurred) if args.occurred else None,
        reporter=args.reporter,
        photos=list(args.photo),
    )
    incident_id = workspace.incidents.record(draft)
    if args.json:
        emit_json({"id": incident_id, "priority": draft.priority.value})
    else:
        print(incident_id)
    return EXIT_OK


def _occurred(text: str) -> datetime:
    """An ISO 8601 time; one without a zone is this computer's local time."""
    from fieldops.domain.errors import ValidationError

    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"--occurred {text!r} is not a time. Write it like 2026-12-04T09:30 or "
            "2026-12-04T09:30+01:00."
        ) from None
    value = value.astimezone() if value.tzinfo is None else value
    if value > datetime.now(UTC) + timedelta(minutes=5):
        raise ValidationError(f"--occurred {text!r} is in the future.")
    return value


def _summary_row(s: IncidentSummary) -> str:
    when = s.occurred_at.astimezone().strftime("%Y-%m-%d %H:%M")
    return f"{s.id}  {s.priority}  {s.status:<11}  {when}  {(s.asset_tag or '-'):<12}  {s.title}"


def incident_list(args: argparse.Namespace, data_dir: DataDir) -> int:
    """`fieldops incident list`."""
    status = parse_status(args.status).value if args.status else None
    priority = parse_priority(args.priority).value if args.priority else None
    rows = _open(data_dir).incidents.list(status=status, priority=priority)
    if args.json:
        emit_json(rows)
        return EXIT_OK
    if not rows:
        print("No incidents.")
    for row in rows:
        print(_summary_row(row))
    return EXIT_OK


def _detail_lines(d: IncidentDetail) -> list[tuple[str, str]]:
    s = d.summary
    category = s.category + (f" / {s.subtype}" if s.subtype else "")
    return [
        ("Id", s.id),
        ("Number", s.number or "(assigned at sync)"),
        ("Title", s.title),
        ("Category", category),
        ("Priority", f"{s.priority} (impact {d.impact}, urgency {d.urgency})"),
        ("Status", s.status),
        ("Asset", s.asset_tag or "-"),
        ("Where", d.place.describe() or "-"),
        ("Occurred", s.occurred_at.astimezone().isoformat(timespec="minutes")),
        ("Reported by", d.reporter or "-"),
        ("Description", d.description or "-"),
        ("Photos", ", ".join(p.original_name or p.sha256[:12] for p in d.photos) or "-"),
    ]


def incident_show(args: argparse.Namespace, data_dir: DataDir) -> int:
    """`fieldops incident show ID`."""
    detail = _open(data_dir).incidents.get(args.id)
    if args.json:
        emit_json(detail)
    else:
        emit_lines(_detail_lines(detail))
    return EXIT_OK
