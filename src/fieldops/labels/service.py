"""Labels for one asset, or for every asset of a site, room or rack, rendered to a file."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldops.domain.errors import NotFoundError, ValidationError
from fieldops.labels.content import AssetLabelData, LabelContent, LabelOptions, build_label
from fieldops.labels.layouts import Layout, SheetLayout, ThermalLayout
from fieldops.labels.pdf import Cancelled, Progress, render_pdf
from fieldops.labels.zpl import render_zpl
from fieldops.services.label_prints import record_label_prints
from fieldops.store.database import Database
from fieldops.store.models import Asset, Location, Site

log = logging.getLogger(__name__)

FORMATS = ("pdf", "zpl")


@dataclass(frozen=True)
class LabelJob:
    """What to print: the labels, on which layout, from which position, in which format."""

    labels: tuple[LabelContent, ...]
    options: LabelOptions
    layout: Layout
    output_format: str = "pdf"
    start: int = 1


@dataclass(frozen=True)
class RenderReport:
    """What a render wrote."""

    path: Path
    labels: int
    pages: int
    recorded: int


def layout_id(layout: Layout) -> str:
    """How a layout is named where prints are recorded, such as `avery-l7651` or `zpl-2x1`."""
    return f"avery-{layout.name.lower()}" if isinstance(layout, SheetLayout) else layout.name


def check_format(layout: Layout, output_format: str) -> None:
    """Refuses ZPL for a sheet of labels: thermal printers print one label at a time."""
    if output_format not in FORMATS:
        raise ValidationError(f"Labels are written as PDF or ZPL, not {output_format!r}.")
    if output_format == "zpl" and not isinstance(layout, ThermalLayout):
        raise ValidationError(
            f"ZPL is for thermal printers: choose a zpl-… layout, not the {layout.name} sheet."
        )


def check_target(path: Path) -> None:
    """Refuses a label file name that cannot be written, before anything is drawn.

    The labels are written to a temporary file beside the target and then renamed over it,
    so the folder must exist and take a new file; an existing file is replaced.
    """
    if not str(path) or not path.name or str(path) in (".", ".."):
        raise ValidationError("Give the name of the file to write the labels to.")
    if path.is_dir():
        raise ValidationError(
            f"{path} is a folder; give a file name in it, such as {path / 'labels.pdf'}."
        )
    folder = path.parent
    if not folder.is_dir():
        raise ValidationError(f"The folder {folder} does not exist; create it or choose another.")
    probe = folder / f".{path.name}.part"
    try:
        with probe.open("xb"):
            pass
    except FileExistsError:
        return  # left by an earlier run; the writer replaces it
    except OSError as exc:
        reason = (exc.strerror or "it cannot be written").lower()
        raise ValidationError(
            f"Labels cannot be written in {folder} ({reason}); choose another folder."
        ) from None
    probe.unlink(missing_ok=True)


class LabelService:
    """Collects the assets to label (read only) and writes the label file."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def for_asset(self, asset_id: str) -> list[AssetLabelData]:
        """The label data of one asset; NotFoundError when it is not here."""
        with self._db.read() as session:
            asset = session.get(Asset, asset_id)
            if asset is None:
                raise NotFoundError("That asset is not on this device.")
            tree = _Tree.load(session, asset.site_code or None)
            return [tree.data(asset)]

    def for_location(self, location_id: str) -> list[AssetLabelData]:
        """Every asset at a location and under it, by rack, then U, then tag.

        A site code stands for the whole site. NotFoundError when there is no such place.
        """
        with self._db.read() as session:
            if session.get(Location, location_id) is None:
                if session.get(Site, location_id) is None:
                    raise NotFoundError("There is no such site, room or rack on this device.")
                tree = _Tree.load(session, location_id)
                query = select(Asset).where(
                    (Asset.site_code == location_id) | Asset.location_id.in_(tree.ids())
                )
            else:
                tree = _Tree.load(session, None)
                query = select(Asset).where(Asset.location_id.in_(tree.under(location_id)))
            rows = [tree.data(asset) for asset in session.scalars(query)]
        return sorted(rows, key=_order)

    def find_location(self, text: str) -> str:
        """The id of a location given by id, by path (`SITE / Room / Rack`) or a site code."""
        wanted = " / ".join(p.strip() for p in text.split("/")).casefold()
        with self._db.read() as session:
            if session.get(Location, text.strip()) is not None:
                return text.strip()
            tree = _Tree.load(session, None)
            for location_id in tree.ids():
                if tree.path(location_id).casefold() == wanted:
                    return location_id
            site = session.scalars(select(Site.code)).all()
        for code in site:
            if code.casefold() == wanted:
                return code
        raise NotFoundError(
            f"No site, room or rack is called {text!r}. Write it as SITE / Room / Rack."
        )

    def render(
        self,
        job: LabelJob,
        path: Path,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> RenderReport:
        """Writes the labels to `path` (nothing on any error); does not record the print."""
        check_format(job.layout, job.output_format)
        check_target(path)
        if not job.labels:
            raise NotFoundError("There are no assets to label there.")
        if job.output_format == "zpl":
            assert isinstance(job.layout, ThermalLayout)
            count = render_zpl(job.labels, job.layout, path, progress=progress, cancelled=cancelled)
            return RenderReport(path, count, count, 0)
        pages = render_pdf(
            job.labels, job.layout, path, start=job.start, progress=progress, cancelled=cancelled
        )
        return RenderReport(path, len(job.labels), pages, 0)

    def record_printed(self, job: LabelJob) -> int:
        """Records, to travel with the next sync, that these assets' labels were printed."""
        return record_label_prints(
            self._db,
            [label.asset_id for label in job.labels],
            job.options.symbology.value,
            job.options.digital_link and job.options.symbology.two_dimensional,
            layout_id(job.layout),
            job.output_format,
        )


def make_labels(
    assets: Sequence[AssetLabelData], options: LabelOptions
) -> tuple[LabelContent, ...]:
    """The label of every asset; the first that cannot be made raises a LabelError naming it."""
    return tuple(build_label(asset, options) for asset in assets)


def _order(data: AssetLabelData) -> tuple[bool, str, bool, int, str]:
    return (
        not data.rack,
        data.rack.casefold(),
        data.rack_u is None,
        data.rack_u or 0,
        data.tag.casefold(),
    )


class _Tree:
    """The locations of one site (or all), to walk up to a rack and room, or down a subtree."""

    def __init__(self, rows: Sequence[Location]) -> None:
        self._rows = {row.id: (row.parent_id, row.kind, row.name, row.site_code) for row in rows}

    @classmethod
    def load(cls, session: Session, site_code: str | None) -> _Tree:
        query = select(Location)
        if site_code:
            query = query.where(Location.site_code == site_code)
        return cls(session.scalars(query).all())

    def ids(self) -> list[str]:
        return list(self._rows)

    def under(self, location_id: str) -> list[str]:
        children: dict[str | None, list[str]] = {}
        for ident, (parent, *_rest) in self._rows.items():
            children.setdefault(parent, []).append(ident)
        found, todo = [], [location_id]
        while todo:
            current = todo.pop()
            found.append(current)
            todo.extend(children.get(current, []))
        return found

    def _chain(self, location_id: str | None) -> list[tuple[str, str, str]]:
        chain, seen = [], set()
        while location_id and location_id in self._rows and location_id not in seen:
            seen.add(location_id)
            parent, kind, name, site = self._rows[location_id]
            chain.append((kind, name, site))
            location_id = parent
        return chain

    def path(self, location_id: str) -> str:
        chain = self._chain(location_id)
        site = chain[-1][2] if chain else ""
        return " / ".join([site, *(name for _, name, _ in reversed(chain))])

    def data(self, asset: Asset) -> AssetLabelData:
        chain = self._chain(asset.location_id)
        rack = next((name for kind, name, _ in chain if kind == "rack"), "")
        room = next((name for kind, name, _ in chain if kind in ("room", "building")), "")
        site = asset.site_code or (chain[-1][2] if chain else "")
        return AssetLabelData(
            asset_id=asset.id, tag=asset.asset_tag, name=asset.name,
            manufacturer=asset.manufacturer, model=asset.model, site_code=site or "",
            room=room, rack=rack, rack_u=asset.rack_u, rack_face=asset.rack_face,
        )  # fmt: skip
