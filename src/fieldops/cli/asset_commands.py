"""`fieldops attach-code` and `fieldops replace`: changes to an asset from a terminal."""

from __future__ import annotations

import argparse
from typing import Any

from fieldops.domain.errors import NotFoundError
from fieldops.domain.scan import ScanSource
from fieldops.services.asset_codes import attach_scan
from fieldops.services.datadir import DataDir
from fieldops.services.lookup import AssetCard
from fieldops.services.replacements import OldPartFate, ReplacementDraft
from fieldops.services.workspace import Workspace

EXIT_OK = 0


def register(sub: Any) -> None:
    """Adds `attach-code` and `replace` to the parser."""
    p = sub.add_parser("attach-code", help="make an unknown label find a known asset")
    p.add_argument("asset", metavar="ASSET", help="tag, serial or component serial of the asset")
    p.add_argument("code", help="the label's code exactly as read (quote it)")
    p.add_argument("--source", choices=["scan", "typed", "profile-corrected"], default="typed")
    p.set_defaults(handler=attach)

    p = sub.add_parser("replace", help="record a part replacement on an asset")
    p.add_argument("asset", metavar="ASSET", help="tag, serial or component serial of the asset")
    p.add_argument("--old", required=True, metavar="SERIAL", help="serial of the part taken out")
    p.add_argument("--new", required=True, metavar="SERIAL", help="serial of the part put in")
    p.add_argument(
        "--fate",
        required=True,
        choices=[f.value for f in OldPartFate],
        help="what became of the old part",
    )
    p.add_argument("--rma", default="", metavar="NUMBER", help="the vendor's RMA number")
    p.add_argument("--incident", metavar="ID", help="the incident it fixes (id or INC number)")
    p.add_argument("--notes", default="")
    p.set_defaults(handler=replace)


def _asset(workspace: Workspace, code: str) -> AssetCard:
    result = workspace.lookup.lookup(code, source=ScanSource.TYPED)
    if result.card is None:
        raise NotFoundError(
            result.misread
            or f"No asset matches {result.code!r}; scan its tag or serial, or import it first."
        )
    return result.card


def attach(args: argparse.Namespace, data_dir: DataDir) -> int:
    """Attaches a code to an asset; it finds the asset at once and syncs like any change."""
    workspace = Workspace(data_dir)
    card = _asset(workspace, args.asset)
    code = attach_scan(workspace.db, card.id, args.code, args.source, workspace.scanner.profile)
    print(f"{code} now finds {card.asset_tag}; it will sync when online.")
    return EXIT_OK


def replace(args: argparse.Namespace, data_dir: DataDir) -> int:
    """Records a replacement; a part whose serial is the old one takes the new serial."""
    workspace = Workspace(data_dir)
    card = _asset(workspace, args.asset)
    incident_id = None
    if args.incident:
        with workspace.db.read() as session:
            incident_id = workspace.incidents.resolve_id(session, args.incident).id
    workspace.replacements.record(
        ReplacementDraft(
            asset_id=card.id,
            component_id=None,  # the part whose serial is the old one, found by the service
            incident_id=incident_id,
            old_serial=args.old,
            new_serial=args.new,
            rma_number=args.rma,
            old_part_fate=OldPartFate(args.fate),
            notes=args.notes,
        )
    )
    saved = workspace.replacements.history(card.id)[0]
    where = f" in {saved.part}" if saved.part else ""
    print(
        f"Replacement recorded on {card.asset_tag}{where}: {saved.old_serial} out, "
        f"{saved.new_serial} in; it will sync when online."
    )
    return EXIT_OK
