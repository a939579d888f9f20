"""That labels were printed for assets: recorded, queued, and read back for the asset card."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldops.domain.errors import NotFoundError, ValidationError
from fieldops.domain.identifiers import new_id
from fieldops.domain.times import utcnow
from fieldops.i18n import tr
from fieldops.protocol.entities import LabelPrintFields, no_control
from fieldops.store.database import Database
from fieldops.store.models import Asset, LabelPrint
from fieldops.store.outbox import enqueue_create
from fieldops.sync.local import state

log = logging.getLogger(__name__)

SYMBOLOGIES: tuple[str, ...] = get_args(LabelPrintFields.model_fields["symbology"].annotation)
OUTPUTS: tuple[str, ...] = get_args(LabelPrintFields.model_fields["output"].annotation)
MAX_LAYOUT = 64
CHUNK = 500  # ids per query, well under SQLite's limit on bound values
# What travels; printed_by is filled by the server with the signed-in user.
WIRE_FIELDS = ("asset_id", "symbology", "digital_link", "layout", "output", "printed_at")
SYMBOLOGY_NAMES = {"code128": "Code 128", "qr": "QR", "datamatrix": "DataMatrix"}
LAYOUT_WORDS = {"avery": "Avery", "zpl": "ZPL", "a4": "A4", "letter": "Letter"}
_PART_NUMBER = re.compile(r"^[a-z]{1,3}\d+$")


@dataclass(frozen=True)
class LabelPrintView:
    """One printing of an asset's labels, as the asset card shows it."""

    id: str
    asset_id: str
    symbology: str
    digital_link: bool
    layout: str
    output: str
    printed_at: datetime
    printed_by: str

    def describe(self) -> str:
        """A line such as `Label printed 2026-12-04 (QR, Avery L7651)`, in local time."""
        day = self.printed_at.astimezone().date().isoformat()
        symbology = SYMBOLOGY_NAMES.get(self.symbology, self.symbology)
        return tr("Label printed {day} ({symbology}, {layout})").format(
            day=day, symbology=symbology, layout=layout_name(self.layout)
        )


def layout_name(layout: str) -> str:
    """A layout id in words, such as `Avery L7651` for `avery-l7651`.

    Brand words and part numbers are spelt out (`zpl-203dpi-2x1in` reads `ZPL 203dpi 2x1in`);
    the rest is kept as written.
    """
    words = []
    for word in layout.split("-"):
        lower = word.lower()
        if lower in LAYOUT_WORDS:
            words.append(LAYOUT_WORDS[lower])
        elif _PART_NUMBER.match(lower):
            words.append(word.upper())
        else:
            words.append(word)
    return " ".join(w for w in words if w)


def _check(symbology: str, layout: str, output: str) -> str:
    if symbology not in SYMBOLOGIES:
        raise ValidationError(
            tr("Labels are printed as {choices}.").format(choices=", ".join(SYMBOLOGIES))
        )
    if output not in OUTPUTS:
        raise ValidationError(
            tr("Labels are printed to {choices}.").format(choices=", ".join(OUTPUTS))
        )
    text = layout.strip()
    try:
        no_control(text)
    except ValueError:
        text = ""
    if not text or len(text) > MAX_LAYOUT:
        raise ValidationError(
            tr("Choose a label layout (a name of at most {limit} characters).").format(
                limit=MAX_LAYOUT
            )
        )
    return text


def record_label_prints(
    db: Database,
    asset_ids: Iterable[str],
    symbology: str,
    digital_link: bool,
    layout: str,
    output: str,
) -> int:
    """Records that labels were printed for these assets, in one transaction; returns how many.

    Each asset counts once however often it is named; an unknown asset saves nothing.
    """
    layout = _check(symbology, layout, output)
    wanted = list(dict.fromkeys(asset_ids))
    if not wanted:
        return 0

    def work(session: Session) -> int:
        known: set[str] = set()
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            known.update(session.scalars(select(Asset.id).where(Asset.id.in_(chunk))))
        missing = [asset_id for asset_id in wanted if asset_id not in known]
        if missing:
            raise NotFoundError(
                tr("{count} of the assets are not on this device; no print was recorded.").format(
                    count=len(missing)
                )
            )
        now, user = utcnow(), state(session).username
        for asset_id in wanted:
            row = LabelPrint(
                id=new_id(), asset_id=asset_id, symbology=symbology, digital_link=digital_link,
                layout=layout, output=output, printed_at=now, printed_by=user,
            )  # fmt: skip
            session.add(row)
            enqueue_create(session, "label_print", row, WIRE_FIELDS)
        session.flush()
        return len(wanted)

    count = db.write(work)
    log.info("label prints recorded for %d assets (%s, %s)", count, symbology, output)
    return count


def last_label_print(session: Session, asset_id: str) -> LabelPrintView | None:
    """The most recent printing of an asset's labels, or None when none was recorded."""
    row = session.scalars(
        select(LabelPrint)
        .where(LabelPrint.asset_id == asset_id)
        .order_by(LabelPrint.printed_at.desc(), LabelPrint.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return LabelPrintView(
        id=row.id, asset_id=row.asset_id, symbology=row.symbology,
        digital_link=row.digital_link, layout=row.layout, output=row.output,
        printed_at=row.printed_at, printed_by=row.printed_by,
    )  # fmt: skip
