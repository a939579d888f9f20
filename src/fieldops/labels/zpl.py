"""ZPL II for thermal label printers: one ^XA…^XZ format a label.

Field data goes through ^FH with `_` as the hex indicator, so `^`, `~` and `_` in a tag are
written as `_5E`, `_7E` and `_5F` and can never end a field or start a command. The printer
draws the code itself (^BC, ^BQ, ^BX); positions and module sizes come from the same
arrangement as the PDF, in whole dots.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from fieldops.labels.arrange import Arrangement, TextBox, arrange
from fieldops.labels.content import PLACE_SEPARATOR, LabelContent, Symbology
from fieldops.labels.layouts import MM_PER_INCH, ThermalLayout
from fieldops.labels.pdf import Cancelled, LabelsCancelled, Progress

log = logging.getLogger(__name__)

_ESCAPED = {"^": "_5E", "~": "_7E", "_": "_5F"}
# ^BX's own escape character (quality 200): one the data does not hold, and never ^ ~ or ,.
_MATRIX_ESCAPES = "`|{}"


def escape(text: str) -> str:
    """Field data for ^FH: the characters ZPL would act on, as _hex."""
    return "".join(_ESCAPED.get(ch, ch) for ch in text)


def _dots(mm: float, dpi: int) -> int:
    return round(mm * dpi / MM_PER_INCH)


def _code(arrangement: Arrangement, content: LabelContent, dpi: int) -> list[str]:
    x, y = _dots(arrangement.code.x, dpi), _dots(arrangement.code.y, dpi)
    module = max(1, _dots(arrangement.module, dpi))
    data = escape(content.payload)
    if content.symbology is Symbology.CODE128:
        height = _dots(arrangement.code.height, dpi)
        # Mode A: the printer picks the subsets; no interpretation line (the tag is printed).
        return [f"^FO{x},{y}^BY{module}^BCN,{height},N,N,N,A^FH_^FD{data}^FS"]
    if content.symbology is Symbology.QR:
        # ^BQ's field data starts with the error correction level and input mode: M, Automatic.
        # The printer places a QR code a few dots lower than ^FO; the label has room for it.
        return [f"^FO{x},{y}^BQN,2,{min(module, 10)}^FH_^FDMA,{data}^FS"]
    free = next(ch for ch in _MATRIX_ESCAPES if ch not in content.payload)
    return [f"^FO{x},{y}^BXN,{module},200,,,,{free}^FH_^FD{data}^FS"]


def _text(box: TextBox, dpi: int, centred: bool) -> str:
    x, y = _dots(box.rect.x, dpi), _dots(box.rect.y, dpi)
    width, height = _dots(box.rect.width, dpi), _dots(box.size, dpi)
    align = "C" if centred else "L"
    # The printer's resident font may lack "›": the place line uses a plain ">" here.
    text = escape(box.text.replace(PLACE_SEPARATOR, " > "))
    return f"^FO{x},{y}^A0N,{height},{height}^FB{width},1,0,{align},0^FH_^FD{text}^FS"


def label_zpl(content: LabelContent, layout: ThermalLayout) -> str:
    """The ZPL format of one label on a thermal label of `layout`'s size."""
    width, height = layout.label_size
    step = MM_PER_INCH / layout.dpi
    arrangement = arrange(content, width, height, step=step)
    dots_w, dots_h = layout.dots
    lines = ["^XA", "^CI28", f"^PW{dots_w}", f"^LL{dots_h}", "^LH0,0"]
    lines += _code(arrangement, content, layout.dpi)
    centred = not content.symbology.two_dimensional
    lines += [_text(box, layout.dpi, centred) for box in arrangement.texts]
    lines += ["^PQ1", "^XZ"]
    return "\n".join(lines) + "\n"


def render_zpl(
    labels: Sequence[LabelContent],
    layout: ThermalLayout,
    path: Path,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> int:
    """Writes every label's ZPL to one file, whole or not at all; returns the label count."""
    parts = []
    for done, label in enumerate(labels, start=1):
        if cancelled is not None and cancelled():
            raise LabelsCancelled("Labels stopped; no file was written.")
        parts.append(label_zpl(label, layout))
        if progress is not None:
            progress(done, len(labels))
    temporary = path.with_name(f".{path.name}.part")
    try:
        temporary.write_text("".join(parts), encoding="utf-8", newline="\n")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    log.info("wrote %d ZPL labels (%s)", len(parts), layout.name)
    return len(parts)
