"""A label's code as a grid of modules, from zxing-cpp, ready to draw as rectangles."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import zxingcpp

from fieldops.labels.content import LabelError, Symbology

# Quiet zone on each side, in modules, drawn inside the label. Code 128 needs ten; QR's four
# are made up by the label's own white border, so two are enough here; DataMatrix needs one.
QUIET = {Symbology.CODE128: 10, Symbology.QR: 2, Symbology.DATAMATRIX: 1}
# Medium error correction: a label survives a scratch or a smudge.
QR_EC_LEVEL = "M"


@dataclass(frozen=True)
class Symbol:
    """The dark modules of one code: runs of (row, first column, length)."""

    symbology: Symbology
    columns: int
    rows: int  # 1 for Code 128: every bar is one run the full height
    runs: tuple[tuple[int, int, int], ...]

    @property
    def quiet(self) -> int:
        """Modules of quiet zone wanted on each side."""
        return QUIET[self.symbology]


def _runs(row: np.ndarray, index: int) -> list[tuple[int, int, int]]:
    dark = np.concatenate(([False], row < 128, [False]))
    edges = np.flatnonzero(dark[1:] != dark[:-1])
    return [(index, int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


@lru_cache(maxsize=4096)
def encode(payload: str, symbology: Symbology) -> Symbol:
    """The module grid of `payload` in `symbology`; a LabelError when it cannot be encoded."""
    fmt = getattr(zxingcpp.BarcodeFormat, symbology.zxing_format)
    options = {"ec_level": QR_EC_LEVEL} if symbology is Symbology.QR else {}
    try:
        barcode = zxingcpp.create_barcode(payload, fmt, **options)
    except (ValueError, RuntimeError) as exc:
        raise LabelError(
            f"{payload!r} cannot be printed as {symbology.display_name} ({exc})."
        ) from exc
    grid = np.asarray(barcode.to_image(scale=1, add_quiet_zones=False))
    if symbology is Symbology.CODE128:
        return Symbol(symbology, grid.shape[1], 1, tuple(_runs(grid[0], 0)))
    runs = [run for index, row in enumerate(grid) for run in _runs(row, index)]
    return Symbol(symbology, grid.shape[1], grid.shape[0], tuple(runs))
