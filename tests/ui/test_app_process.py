"""The window as a process: Ctrl+C closes it cleanly, and Qt's chatter stays in the log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.e2e.x11 import wait_until


def test_interrupt_closes_the_window_without_a_traceback(demo_data_dir) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDOPS_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    log_file = Path(demo_data_dir.root) / "logs" / "fieldops.log"
    app = subprocess.Popen(
        [sys.executable, "-m", "fieldops", "--data-dir", str(demo_data_dir.root)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: log_file.exists() and "window shown" in log_file.read_text(encoding="utf-8"),
            30,
            "the window to open",
        )
        app.send_signal(signal.SIGINT)
        _out, err = app.communicate(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "pipewire" not in err and "propagateSizeHints" not in err
    assert "interrupted from the terminal" in log_file.read_text(encoding="utf-8")
