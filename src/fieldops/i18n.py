"""Translation of user-visible text below the Qt layer.

Services and the command line call `tr()`; inside the window it goes through Qt's translator,
elsewhere the English text is used as it is. Qt is looked up, never imported, here, so the
lower layers stay free of it.
"""

from __future__ import annotations

import sys

CONTEXT = "FieldOps"


def tr(text: str) -> str:
    """The text in the person's language, when a Qt application with translations runs."""
    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is not None and qtcore.QCoreApplication.instance() is not None:
        return str(qtcore.QCoreApplication.translate(CONTEXT, text))
    return text
