"""Scans typed by the X server into the real window, as a wedge scanner types them (C06, C07).

The app runs as its own process on a private X server; xdotool injects the keys through XTEST
with no delay between them, Shift and all. What the app did is read from its log: the lookup
service logs every code it receives, the window-wide listener every burst it takes as a scan.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import pytest

from fieldops.services.datadir import DataDir
from tests.e2e.x11 import RunningApp, XServer, missing_tools

if not sys.platform.startswith("linux") or missing_tools():
    pytest.skip(
        f"needs an X server and xdotool ({', '.join(missing_tools()) or 'Linux'} missing); "
        "tools/system-deps.sh installs them",
        allow_module_level=True,
    )

VIN = "1234ABCDE12345678"
SERIAL = "MX-HT7030Z2200004519"
URL = "https://assets.example.invalid/a/IT-004217?sn=5CG1234OLD&site=HQ-03&ts=20250203T101500Z"
KNOWN_TAG = "IT-000217"
INCIDENT_TABLE = (590, 450)  # a point inside the incident table of the Incidents tab


@pytest.fixture(scope="module")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private X server for this module."""
    server = XServer(tmp_path_factory.mktemp("xvfb") / "xvfb.log")
    yield server.display
    server.stop()


@pytest.fixture
def app(display: str, demo_data_dir: DataDir) -> Iterator[RunningApp]:
    """The real app on a private copy of the demo data, its window focused."""
    running = RunningApp(display, demo_data_dir)
    yield running
    running.kill()


def focus_incident_table(app: RunningApp) -> None:
    """Ctrl+L shows the incident list; a click puts the focus in its table."""
    app.keys.run("key ctrl+l")
    app.click(app.window, *INCIDENT_TABLE)


def test_200_scans_in_the_scan_field_arrive_exact(app: RunningApp) -> None:
    """C06: 200 bursts, the app stopped for 300 ms in the middle of every fifth one."""
    started = time.monotonic()
    for n in range(200):
        if n % 5 == 4:
            app.stalled_scan(VIN, split_at=8)
        else:
            app.scan(VIN)
    app.wait_for_log("lookup raw=", count=200, timeout_s=30)
    typed_s = time.monotonic() - started
    assert app.quit() == 0
    assert app.looked_up() == [VIN] * 200, f"typed in {typed_s:.1f} s"
    assert app.scans_outside_the_field() == []  # the scan field itself took every one


def test_a_long_url_arrives_whole_in_the_field_and_outside_it(app: RunningApp) -> None:
    """C06: the QR URL, with Shift for ':', '?' and '&', once in the field, once outside."""
    app.scan(URL)
    app.wait_for_log("lookup raw=", count=1)
    focus_incident_table(app)
    app.stalled_scan(URL, split_at=40)
    app.wait_for_log("lookup raw=", count=2)
    assert app.quit() == 0
    assert app.looked_up() == [URL, URL]
    assert app.scans_outside_the_field() == [URL]


def test_scans_with_focus_in_the_incident_table_are_looked_up_once(app: RunningApp) -> None:
    """C07: the focus in the incident table; each burst is one scan of the whole code."""
    for n in range(1, 21):
        focus_incident_table(app)
        if n % 5 == 0:
            app.stalled_scan(SERIAL, split_at=9)
        else:
            app.scan(SERIAL)
        app.wait_for_log("lookup raw=", count=n)
    assert app.quit() == 0
    assert app.scans_outside_the_field() == [SERIAL] * 20
    assert app.looked_up() == [SERIAL] * 20


def test_scans_into_the_incident_form_are_not_typed_and_typing_stays_lower_case(
    app: RunningApp,
) -> None:
    """C07 and C06: bursts into the form's title are scans; a person's typing after is plain."""
    app.scan(KNOWN_TAG)
    app.wait_for_log("lookup raw=", count=1)
    app.keys.run("key ctrl+n")
    form = app.find_window("^New incident$")
    app.focus(form)
    for n in range(1, 21):
        if n % 5 == 0:
            app.stalled_scan(SERIAL, split_at=9)
        else:
            app.scan(SERIAL)
        app.wait_for_log("scan burst outside a scan field", count=n)
    app.xdotool("type", "--delay", "120", "psu dead")  # a person's pace
    app.keys.run("key ctrl+s")
    app.wait_for_log("recorded with 0 photos")
    assert app.quit() == 0
    assert app.scans_outside_the_field() == [SERIAL] * 20
    assert app.looked_up() == [KNOWN_TAG], "a scan into the form is never looked up"
    titles = [incident["title"] for incident in app.incidents()]
    assert titles == ["psu dead"]
