"""The real window at a million assets: scan key to painted card, and an import it survives.

The million-asset catalogue and its components come from bench_scale's generator. A first
window process, on a fresh data directory, imports both files through the window's own import
path (the progress dialog and a background lane) while a 5 ms timer on the GUI thread records
the longest gap between its ticks and a lookup is asked for every 250 ms. A second window
process opens the filled directory and takes 300 scanner bursts in its scan field, sent key by
key through the window handle with 2 ms time stamps; each is timed from the moment its Enter key
is delivered to the end of the paint pass that painted the card with the new answer.

Both run under Xvfb when `xvfb-run` is there (the X11 platform plugin, a real backing store
flushed to an X server, as on a desktop), else under the offscreen platform, which paints into
an image. The platform is named in the figures. `FIELDOPS_SCALE_ASSETS` makes a smaller run.

Only figures come back from the window processes, as one JSON line each; the peak resident size
is the whole window process's (`getrusage` high-water mark).
"""

from __future__ import annotations

import gc
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench_scale import (
    ASSETS,
    IMPORT_LIMIT_S,
    PEAK_LIMIT_MIB,
    CatalogueSpec,
    _record_incidents,
    _scans,
    write_catalogue,
    write_components,
)
from benchmarks.common import Measure, percentile

SCANS = 300
WARM_UP_SCANS = 20
SCAN_P99_MS = 30.0
KEY_GAP_MS = 2  # a wedge scanner's keys, by their time stamps
PAUSE_MS = 30  # between two scans the window goes back to its event loop
PAINT_TIMEOUT_MS = 3000
HEARTBEAT_MS = 5
LOOKUP_EVERY_MS = 250
# The window counts as responsive when no input waits behind a stall for more than 50 ms:
# with about as long again to answer, a key or click still shows its effect within the
# 100 ms in which a response feels immediate. bench_sync holds a window sync to the same bound.
STALL_LIMIT_MS = 50.0
WINDOW_TIMEOUT_S = 900


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _platform_command() -> tuple[list[str], str]:
    """The prefix that starts a window process, and the name of its Qt platform."""
    if os.environ.get("QT_QPA_PLATFORM", "") == "offscreen" or shutil.which("xvfb-run") is None:
        return [], "offscreen"
    return ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"], "xcb on Xvfb"


def _window_process(*args: str) -> dict[str, Any]:
    """Runs one phase in a fresh window process and returns what it measured."""
    prefix, platform = _platform_command()
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen" if not prefix else "xcb"
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "benchmarks.bench_window", *args],
        capture_output=True, text=True, env=env, timeout=WINDOW_TIMEOUT_S, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"window phase {args[0]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["platform"] = platform
    return result


# -- inside a window process --------------------------------------------------------------------


def _open_window(root: Path, app: Any) -> Any:
    """The main window on `root`, shown, active, its database open and its lanes idle."""
    from fieldops.services.datadir import DataDir
    from fieldops.ui.app import configure_application
    from fieldops.ui.main_window import MainWindow

    directory = DataDir(root)
    configure_application(app, directory)
    window = MainWindow(directory)
    window.show()
    window.activateWindow()
    _wait(app, lambda: window.workspace is not None, 60)
    _wait(app, lambda: _idle(window) and window.isActiveWindow(), 60)
    window.focus_scan()
    _wait(app, window.scan_field.hasFocus, 10)
    return window


def _idle(window: Any) -> bool:
    """Whether the window's database lanes have nothing queued or running."""
    return not (window.lanes.db.busy() or window.lanes.read.busy())


def _wait(app: Any, condition: Callable[[], bool], seconds: float) -> None:
    """Runs the event loop until the condition holds, checking it every 10 ms."""
    from PySide6.QtCore import QEventLoop, QTimer

    if condition():
        return
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(10)
    check.timeout.connect(lambda: condition() and loop.quit())
    check.start()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    check.stop()
    if not condition():
        raise TimeoutError("the window did not get there in time")


def _run_for(milliseconds: int) -> None:
    """Runs the event loop for a while."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()


class GcPasses:
    """Times the garbage collector's passes on the GUI thread, through `gc.callbacks`.

    This only observes them, so a stall or a slow scan can be told to hold one.
    """

    def __init__(self) -> None:
        self.passes: list[tuple[float, float]] = []
        self._begun: float | None = None
        self._gui = threading.get_ident()

    def _callback(self, phase: str, _info: dict[str, int]) -> None:
        if threading.get_ident() != self._gui:
            return
        if phase == "start":
            self._begun = time.perf_counter()
        elif self._begun is not None:
            self.passes.append((self._begun, time.perf_counter()))
            self._begun = None

    def start(self) -> None:
        """Starts timing passes, with none recorded yet."""
        self.passes.clear()
        gc.callbacks.append(self._callback)

    def stop(self) -> None:
        """Stops timing passes."""
        gc.callbacks.remove(self._callback)

    def within(self, begin: float, end: float) -> bool:
        """Whether a pass ran between these two perf_counter times."""
        return any(b < end and e > begin for b, e in self.passes)

    def longest_ms(self) -> float:
        """The longest pass in ms, or 0 when there was none."""
        return max(((e - b) * 1000 for b, e in self.passes), default=0.0)


class Heartbeat:
    """A 5 ms timer on the GUI thread; the gaps between its ticks show every stall.

    Garbage-collection passes on the GUI thread are timed too, so a stall can be told to hold
    one.
    """

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.gaps: list[tuple[float, float]] = []
        self.collections = GcPasses()
        self._last: float | None = None
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(HEARTBEAT_MS)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append((self._last, now))
        self._last = now

    def start(self) -> None:
        """Starts ticking, with no gaps recorded yet."""
        self.gaps.clear()
        self._last = None
        self.collections.start()
        self._timer.start()

    def stop(self) -> dict[str, float]:
        """Stops ticking; the longest stall, stalls over 50 ms, and the collections in them."""
        self._timer.stop()
        self.collections.stop()
        stalls = [(end - begin) * 1000 - HEARTBEAT_MS for begin, end in self.gaps]
        over = [gap for gap, stall in zip(self.gaps, stalls, strict=True) if stall > STALL_LIMIT_MS]
        return {
            "longest_stall_ms": max(stalls, default=float("nan")),
            "stalls_over_limit": len(over),
            "stalls_with_collection": sum(self.collections.within(*gap) for gap in over),
            "collections": len(self.collections.passes),
            "longest_collection_ms": self.collections.longest_ms(),
            "ticks": len(stalls),
        }


def _timed_import(app: Any, window: Any, path: Path, codes: list[str]) -> dict[str, Any]:
    """Imports one file through the window while the heartbeat runs and lookups are asked."""
    from PySide6.QtCore import QTimer

    heartbeat = Heartbeat()
    asked: dict[str, float] = {}
    answered: list[float] = []
    finished: list[Any] = []
    codes = list(codes)

    def ask() -> None:
        if codes:
            code = codes.pop()
            asked[code] = time.perf_counter()
            window.look_up(code)

    def shown(result: Any) -> None:
        if not finished and result.raw in asked:
            answered.append((time.perf_counter() - asked[result.raw]) * 1000)

    def imported(report: Any) -> None:
        finished.append((time.perf_counter(), report.created + report.updated))

    window.lookup_shown.connect(shown)
    window.import_finished.connect(imported)
    lookups = QTimer()
    lookups.setInterval(LOOKUP_EVERY_MS)
    lookups.timeout.connect(ask)
    heartbeat.start()
    lookups.start()
    started = time.perf_counter()
    job = window.import_catalogue(path)
    assert job is not None, "the window's database is not open"
    _wait(app, lambda: bool(finished), WINDOW_TIMEOUT_S)
    lookups.stop()
    beat = heartbeat.stop()
    window.lookup_shown.disconnect(shown)
    window.import_finished.disconnect(imported)
    ended, rows = finished[0]
    _wait(app, lambda: _idle(window), 60)
    return {
        "seconds": ended - started,
        "rows": rows,
        "peak_mib": _peak_mib(),
        "lookups_asked": len(asked),
        "lookups_answered": len(answered),
        "lookup_p50_ms": percentile(answered, 50) if answered else float("nan"),
        "lookup_p99_ms": percentile(answered, 99) if answered else float("nan"),
        **beat,
    }


def import_phase(root: Path, catalogue: Path, components: Path, assets: int) -> dict[str, Any]:
    """Opens a window on a fresh data directory and imports the catalogue, then its parts."""
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    window = _open_window(root, app)
    spec = CatalogueSpec(assets=assets)
    rng = random.Random(5)
    tags = [spec.tag(i) for i in rng.sample(range(assets), min(assets, 2000))]
    opened_mib = _peak_mib()
    first = _timed_import(app, window, catalogue, tags)
    parts = _timed_import(app, window, components, tags)
    window.close()
    return {"opened_mib": opened_mib, "catalogue": first, "components": parts}


class PaintClock:
    """Sees every event the GUI thread delivers, to find the end of the card's paint pass.

    Armed when the window has shown an answer; the first paint of the card (or anything in it)
    after that is the answer being painted, and the end of the outermost event in which it was
    painted (the update request or expose that paints and flushes the window) is when the new
    card is on screen.
    """

    def __init__(self) -> None:
        self.card: Any = None
        self.armed = False
        self.painted_at: float | None = None
        self.done_at: float | None = None
        self.on_done: Callable[[], None] = lambda: None
        self._depth = 0
        self._gui = threading.get_ident()

    def reset(self) -> None:
        """A new scan: nothing shown or painted yet."""
        self.armed = False
        self.painted_at = self.done_at = None

    def arm(self) -> None:
        """An answer has been shown: look for its paint."""
        self.reset()
        self.armed = True

    def notify(self, deliver: Callable[[Any, Any], bool], receiver: Any, event: Any) -> bool:
        """Delivers one event, noting the card's paint and the end of its outermost event."""
        from PySide6.QtCore import QEvent
        from PySide6.QtWidgets import QWidget

        if threading.get_ident() != self._gui:
            return deliver(receiver, event)
        if (
            self.armed
            and self.painted_at is None
            and event.type() == QEvent.Type.Paint
            and isinstance(receiver, QWidget)
            and (receiver is self.card or self.card.isAncestorOf(receiver))
        ):
            self.painted_at = time.perf_counter()
        self._depth += 1
        try:
            return deliver(receiver, event)
        finally:
            self._depth -= 1
            if self._depth == 0 and self.armed and self.painted_at is not None:
                self.done_at = time.perf_counter()
                self.armed = False
                self.on_done()


def _send_key(window: Any, key: int, text: str, stamp: list[int]) -> float:
    """One key press and release through the window handle; when the press was delivered."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    stamp[0] += KEY_GAP_MS
    sent = 0.0
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, text)
        event.setTimestamp(stamp[0])
        if kind == QEvent.Type.KeyPress:
            sent = time.perf_counter()
        QApplication.sendEvent(window.windowHandle(), event)
    return sent


def _one_scan(window: Any, clock: PaintClock, raw: str, stamp: list[int]) -> Any:
    """Types one burst; ms from Enter to answer shown, to paint start and end; found; when."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    shown: list[tuple[float, Any]] = []
    loop = QEventLoop()
    clock.reset()
    clock.on_done = loop.quit

    def answer(result: Any) -> None:
        shown.append((time.perf_counter(), result))
        clock.arm()

    window.lookup_shown.connect(answer)
    for char in raw:
        _send_key(window, ord(char.upper()), char, stamp)
    entered = _send_key(window, int(Qt.Key.Key_Return), "\r", stamp)
    if clock.done_at is None:
        QTimer.singleShot(PAINT_TIMEOUT_MS, loop.quit)
        loop.exec()
    window.lookup_shown.disconnect(answer)
    if clock.done_at is None or not shown or clock.painted_at is None:
        clock.armed = False
        return None
    return (
        (shown[0][0] - entered) * 1000,
        (clock.painted_at - entered) * 1000,
        (clock.done_at - entered) * 1000,
        shown[0][1].found,
        (entered, clock.done_at),
    )


def scan_phase(root: Path, assets: int) -> dict[str, Any]:
    """Opens a window on the filled data directory and times scans to the painted card."""
    from PySide6.QtWidgets import QApplication

    clock = PaintClock()

    class ClockedApplication(QApplication):
        def notify(self, receiver: Any, event: Any) -> bool:
            return clock.notify(super().notify, receiver, event)

    app = ClockedApplication([sys.argv[0]])
    window = _open_window(root, app)
    clock.card = window.card
    spec = CatalogueSpec(assets=assets)
    scans = [raw.rstrip("\r") for raw, _ in _scans(spec, WARM_UP_SCANS + SCANS, seed=3)]
    stamp = [10_000_000]
    timings, missed = [], 0
    collections = GcPasses()
    collections.start()
    for number, raw in enumerate(scans):
        timing = _one_scan(window, clock, raw, stamp)
        if number >= WARM_UP_SCANS:
            if timing is None:
                missed += 1
            else:
                timings.append(timing)
        _run_for(PAUSE_MS)
        stamp[0] += 500
    collections.stop()
    window.close()
    held = [collections.within(*t[4]) for t in timings]
    return {
        "with_collection": sum(held),
        "without_collection_ms": [t[2] for t, h in zip(timings, held, strict=True) if not h],
        "longest_collection_ms": collections.longest_ms(),
        "shown_ms": [t[0] for t in timings],
        "paint_start_ms": [t[1] for t in timings],
        "painted_ms": [t[2] for t in timings],
        "found": sum(t[3] for t in timings),
        "unpainted": missed,
    }


# -- the benchmark ------------------------------------------------------------------------------


def _import_measures(label: str, result: dict[str, Any], platform: str) -> list[Measure]:
    seconds, peak, stall = result["seconds"], result["peak_mib"], result["longest_stall_ms"]
    over = result["stalls_over_limit"]
    return [
        Measure(
            f"window import, {label} ({result['rows']:,} rows): time",
            seconds,
            "s",
            f"< {IMPORT_LIMIT_S:.0f} s",
            seconds < IMPORT_LIMIT_S,
        ),
        Measure(
            f"window import, {label}: peak RSS of the window process",
            peak,
            "MiB",
            f"< {PEAK_LIMIT_MIB:.0f} MiB",
            peak < PEAK_LIMIT_MIB,
        ),
        Measure(
            f"window import, {label}: longest GUI-thread stall ({platform})",
            stall,
            "ms",
            f"< {STALL_LIMIT_MS:.0f} ms",
            stall < STALL_LIMIT_MS,
        ),
        Measure(
            f"window import, {label}: stalls over {STALL_LIMIT_MS:.0f} ms", over, "", "0", over == 0
        ),
        Measure(
            f"window import, {label}: lookups answered during it, of those asked",
            result["lookups_answered"],
            f"of {result['lookups_asked']}",
            f">= {max(result['lookups_asked'] - 1, 0)}",
            result["lookups_answered"] >= result["lookups_asked"] - 1,
        ),
        Measure(f"window import, {label}: lookup p99 during it", result["lookup_p99_ms"], "ms"),
        Measure(
            f"window import, {label}: longest garbage-collection pass on the GUI thread",
            result["longest_collection_ms"],
            "ms",
        ),
        Measure(
            f"window import, {label}: stalls over {STALL_LIMIT_MS:.0f} ms"
            " that hold a garbage-collection pass",
            result["stalls_with_collection"],
            f"of {over}",
        ),
    ]


def _scan_measures(result: dict[str, Any], platform: str) -> list[Measure]:
    painted, shown, start = result["painted_ms"], result["shown_ms"], result["paint_start_ms"]
    p99 = percentile(painted, 99)
    count = len(painted) + result["unpainted"]
    return [
        Measure(f"scan Enter to card painted p50 ({platform})", percentile(painted, 50), "ms"),
        Measure("scan Enter to card painted p95", percentile(painted, 95), "ms"),
        Measure(
            f"scan Enter to card painted p99 ({count} scans)",
            p99,
            "ms",
            f"< {SCAN_P99_MS:.0f} ms",
            p99 < SCAN_P99_MS,
        ),
        Measure("scan Enter to card painted max", max(painted), "ms"),
        Measure("scan Enter to answer shown (before paint) p99", percentile(shown, 99), "ms"),
        Measure("scan Enter to card paint start p99", percentile(start, 99), "ms"),
        Measure("scans that found an asset", 100 * result["found"] / len(painted), "%"),
        Measure(
            "scans during which a garbage-collection pass ran on the GUI thread",
            result["with_collection"],
            f"of {len(painted)}",
        ),
        Measure(
            "scan Enter to card painted p99, scans with no garbage-collection pass",
            percentile(result["without_collection_ms"], 99),
            "ms",
        ),
        Measure(
            "longest garbage-collection pass on the GUI thread while scanning",
            result["longest_collection_ms"],
            "ms",
        ),
        Measure(
            "scans with no card paint seen", result["unpainted"], "", "0", result["unpainted"] == 0
        ),
    ]


def run() -> list[Measure]:
    """Generates the catalogue, imports it through a window, then scans in a second window."""
    spec = CatalogueSpec(assets=ASSETS)
    with tempfile.TemporaryDirectory(prefix="fieldops-window-") as tmp:
        folder = Path(tmp)
        catalogue = write_catalogue(folder / "catalogue.csv", spec)
        components = write_components(folder / "components.csv", spec)
        root = folder / "data"
        imported = _window_process(
            "import", str(root), str(catalogue), str(components), str(spec.assets)
        )
        print(f"  import phase: {imported}", file=sys.stderr, flush=True)
        assert imported["catalogue"]["rows"] == spec.assets, imported
        assert imported["components"]["rows"] == spec.components, imported
        _record_incidents(root, spec)
        scanned = _window_process("scans", str(root), str(spec.assets))
    platform = imported["platform"]
    return [
        *_scan_measures(scanned, scanned["platform"]),
        *_import_measures("catalogue into an empty database", imported["catalogue"], platform),
        *_import_measures("components", imported["components"], platform),
        Measure("window process RSS once open, before importing", imported["opened_mib"], "MiB"),
    ]


def main(argv: list[str]) -> int:
    """Entry point of a window process: `import ROOT CATALOGUE COMPONENTS N` or `scans ROOT N`."""
    if argv[0] == "import":
        result = import_phase(Path(argv[1]), Path(argv[2]), Path(argv[3]), int(argv[4]))
    else:
        result = scan_phase(Path(argv[1]), int(argv[2]))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
