"""C15 in Qt: photos reach the screen upright only through the thumbnail bytes.

Plain QPixmap(path) and QImage(path) ignore EXIF orientation. The first test shows that on a
real file, the next ones that Qt shows this module's thumbnails upright, and the last ones
fail if any code in FieldOps loads a photo through a plain path constructor.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fieldops.media.photos import make_thumbnail
from tests.media.test_photos_samples import arrow_picture, arrow_problems, save_oriented

QtGui = pytest.importorskip("PySide6.QtGui")

SOURCE_ROOT = Path(__file__).resolve().parents[2] / "src" / "fieldops"
_PATHY_WORDS = ("path", "file", "photo", "picture", "image_name")


def _qt_problems(image) -> list[str]:
    assert not image.isNull()
    return arrow_problems(
        image.width(), image.height(), lambda x, y: image.pixelColor(x, y).getRgb()[:3]
    )


@pytest.fixture(scope="module")
def sideways(tmp_path_factory) -> Path:
    """The arrow photo stored sideways with Orientation=6, as a phone held upright saves it."""
    return save_oriented(arrow_picture(), tmp_path_factory.mktemp("qt") / "IMG.jpg", 6)


def test_plain_qimage_of_a_path_shows_the_photo_sideways(sideways):
    """Why the rule exists: Qt's plain path constructors ignore the Orientation tag."""
    assert _qt_problems(QtGui.QImage(str(sideways)))


def test_qt_shows_the_thumbnail_bytes_upright(sideways):
    image = QtGui.QImage()

    assert image.loadFromData(make_thumbnail(sideways), "JPEG")
    assert _qt_problems(image) == []


def test_qimagereader_with_auto_transform_agrees(sideways):
    reader = QtGui.QImageReader(str(sideways))
    reader.setAutoTransform(True)

    assert _qt_problems(reader.read()) == []


def plain_path_loads(source: str, filename: str = "<source>") -> list[str]:
    """Places where code builds a QPixmap or QImage straight from a file path.

    QIcon is left out: icons are the app's own files, never photos.
    """
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call) or len(node.args) != 1 or node.keywords:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else None
        name = node.func.id if isinstance(node.func, ast.Name) else name
        if name in ("QPixmap", "QImage") and _looks_like_a_path(node.args[0]):
            found.append(f"{filename}:{node.lineno}: {ast.unparse(node)}")
    return found


def _looks_like_a_path(arg: ast.expr) -> bool:
    if isinstance(arg, ast.Constant):
        # Qt resource paths (":/icons/...") are the app's own icons, not photos.
        return isinstance(arg.value, str) and not arg.value.startswith(":")
    if isinstance(arg, ast.JoinedStr):
        return True
    if isinstance(arg, ast.Call):
        callee = arg.func.id if isinstance(arg.func, ast.Name) else getattr(arg.func, "attr", "")
        return callee in ("str", "Path", "fspath", "as_posix")
    words = ast.unparse(arg).lower()
    return any(word in words for word in _PATHY_WORDS)


def test_no_code_in_fieldops_loads_a_photo_from_a_plain_path():
    offenders = []
    for file in sorted(SOURCE_ROOT.rglob("*.py")):
        offenders += plain_path_loads(file.read_text(encoding="utf-8"), str(file))

    assert offenders == [], "show photos from make_thumbnail bytes, never QPixmap(path)"


def test_the_plain_path_check_catches_what_it_should():
    flagged = """
QPixmap(photo_path)
QtGui.QPixmap(str(p))
QImage(f"{folder}/{name}.jpg")
QPixmap(self.photo.path)
"""
    allowed = """
QPixmap.fromImage(image)
QPixmap(QSize(64, 64))
QPixmap(":/icons/camera.png")
QPixmap(other_pixmap)
QIcon(str(icon))
"""
    assert len(plain_path_loads(flagged)) == 4
    assert plain_path_loads(allowed) == []
