"""A private X server and the real FieldOps window on it, driven by xdotool's real key path.

xdotool types through the XTEST extension: the X server makes the key events itself, stamps
them and hands them to Qt exactly as it hands over a keyboard's (or a wedge scanner's) keys.
No window manager runs, so two things a desktop does must be done here:

- The input focus is set explicitly (`xdotool windowfocus --sync`). Without a window manager
  the X focus follows the pointer, and once a dialog closes it is left on no window of ours:
  Qt then has no active window and shortcuts such as Ctrl+Q are not delivered.
- Windows are waited for with `--onlyvisible`: a window that exists but is not mapped yet
  refuses the focus (BadMatch).

`xdotool key --window` is not used: it sends synthetic events (XSendEvent), which is not the
path a keyboard takes.

Bursts go through one long-lived `xdotool -` that reads its commands from a pipe, not one
process per `type` and `key Return`: starting a process takes long enough on a busy machine
to put a gap of more than a scanner's 35 ms between a code and its Enter, a pause no scanner
makes.
"""

from __future__ import annotations

import ast
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fieldops.services.datadir import DataDir

TOOLS = ("Xvfb", "xdotool")
START_TIMEOUT_S = 30.0
EXIT_TIMEOUT_S = 20.0
_LOOKUP = re.compile(r" fieldops\.services\.lookup \[[^\]]*\] lookup raw=(.*)$")
_BURST = re.compile(
    r" fieldops\.ui\.scan_listener \[[^\]]*\] scan burst outside a scan field: (.*)$"
)


def missing_tools() -> list[str]:
    """The programs these tests need that are not installed."""
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Polls a condition until it holds; fails with `what` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.02)


class XServer:
    """Xvfb on a display number it picks itself (-displayfd), local connections only."""

    def __init__(self, log_path: Path) -> None:
        read_end, write_end = os.pipe()
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(write_end),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ],
            pass_fds=(write_end,),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        os.close(write_end)
        number = b""
        with os.fdopen(read_end, "rb") as pipe:
            while not number.endswith(b"\n"):
                chunk = pipe.read(1)
                if not chunk:
                    self.stop()
                    raise RuntimeError(f"Xvfb did not start; see {log_path}")
                number += chunk
        self.display = f":{number.decode().strip()}"

    def stop(self) -> None:
        """Stops the server and waits for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class KeySession:
    """One `xdotool -` reading commands from a pipe; `run` returns once they were sent."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            ["xdotool", "-"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run(self, *commands: str) -> None:
        """Sends commands (one xdotool command each, no spaces in arguments) and waits.

        `getmouselocation` after them prints a line once the X server has taken every key
        before it, since the server handles one client's requests in order.
        """
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("".join(f"{c}\n" for c in (*commands, "getmouselocation")))
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT_S)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("x:"):
            raise AssertionError(f"xdotool did not run {commands}: {line.strip()!r}")

    def close(self) -> None:
        """Ends the session."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def app_environment(display: str) -> dict[str, str]:
    """The environment of a desktop session on `display`, with no test switches of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELDOPS_", "QT_"))}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
    return env


class RunningApp:
    """`python -m fieldops --verbose` on a data directory, shown on the private X server."""

    def __init__(self, display: str, data_dir: DataDir) -> None:
        self.display = display
        self.data_dir = data_dir
        self.env = app_environment(display)
        self.log_file = data_dir.logs / "fieldops.log"
        self.log_file.unlink(missing_ok=True)  # only this run's lines are observed
        self._output = (data_dir.root / "app-output.txt").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fieldops", "--data-dir", str(data_dir.root), "--verbose"],
            env=self.env,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )
        self.keys = KeySession(self.env)
        try:
            self.window = self.find_window("^FieldOps$")
            wait_until(lambda: "workspace open" in self.log_text(), START_TIMEOUT_S, "its database")
            self.focus(self.window)
        except BaseException:
            self.kill()
            raise

    # -- driving ------------------------------------------------------------------------------

    def xdotool(self, *args: str) -> str:
        """Runs one xdotool command on the private display; returns what it printed."""
        done = subprocess.run(
            ["xdotool", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"xdotool {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def find_window(self, name: str) -> str:
        """Waits until a visible window with this name (a regular expression) is mapped."""
        found = self.xdotool("search", "--sync", "--onlyvisible", "--name", name)
        return found.split()[0]

    def focus(self, window: str) -> None:
        """Gives a window the keyboard focus, as a window manager would on a click."""
        self.xdotool("windowfocus", "--sync", window)

    def scan(self, code: str) -> None:
        """A wedge scanner's burst: every key with no delay, then Enter."""
        self.keys.run(f"type --delay 0 {code}", "key Return")

    def stalled_scan(self, code: str, split_at: int, busy_s: float = 0.3) -> None:
        """A burst that meets a busy window: the app stops after `split_at` keys for `busy_s`.

        The process is stopped outright (SIGSTOP), which is what a GUI thread busy with a
        database write looks like from outside: the keys wait in the X connection with the
        time stamps the X server gave them, and are read all at once afterwards.
        """
        self.keys.run(f"type --delay 0 {code[:split_at]}")
        time.sleep(0.005)  # part of the input: the window takes the first keys, then stalls
        with self.stopped(busy_s):
            self.keys.run(f"type --delay 0 {code[split_at:]}", "key Return")

    @contextmanager
    def stopped(self, busy_s: float) -> Iterator[None]:
        """Keeps the app stopped while the block runs and for at least `busy_s` seconds."""
        os.kill(self.process.pid, signal.SIGSTOP)
        until = time.monotonic() + busy_s
        try:
            yield
            # The length of the busy spell is the test input itself, not a wait for a result.
            time.sleep(max(0.0, until - time.monotonic()))
        finally:
            os.kill(self.process.pid, signal.SIGCONT)

    def click(self, window: str, x: int, y: int) -> None:
        """A left click at a point of a window, through the real pointer."""
        self.keys.run(f"mousemove --window {window} {x} {y}", "click 1")

    # -- observing ----------------------------------------------------------------------------

    def log_text(self) -> str:
        """The app's log so far."""
        return self.log_file.read_text(encoding="utf-8") if self.log_file.exists() else ""

    def looked_up(self) -> list[str]:
        """Every code the app looked up, in order, as the lookup service received it."""
        return _values(_LOOKUP, self.log_text())

    def scans_outside_the_field(self) -> list[str]:
        """Every burst the window-wide listener took as a scan outside the scan field."""
        return _values(_BURST, self.log_text())

    def wait_for_log(self, needle: str, count: int = 1, timeout_s: float = 20.0) -> None:
        """Waits until `needle` appears `count` times in the log."""
        wait_until(lambda: self.log_text().count(needle) >= count, timeout_s, repr(needle))

    # -- ending -------------------------------------------------------------------------------

    def quit(self) -> int:
        """Ctrl+Q in the main window; waits for the process to end and returns its code."""
        self.focus(self.window)
        self.keys.run("key ctrl+q")
        try:
            return self.process.wait(EXIT_TIMEOUT_S)
        finally:
            self.kill()

    def kill(self) -> None:
        """Ends the process if it still runs (a failed test leaves nothing behind)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.kill()
            self.process.wait(EXIT_TIMEOUT_S)
        self._output.close()
        self.keys.close()

    def incidents(self) -> list[dict[str, object]]:
        """`fieldops incident list` on the data directory, once the window has closed."""
        command = ["--json", "--data-dir", str(self.data_dir.root), "incident", "list"]
        done = subprocess.run(
            [sys.executable, "-m", "fieldops", *command],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=EXIT_TIMEOUT_S,
            check=True,
        )
        listed: list[dict[str, object]] = json.loads(done.stdout)
        return listed


def _values(pattern: re.Pattern[str], text: str) -> list[str]:
    values: list[str] = []
    for line in text.splitlines():
        match = pattern.search(line)
        if match:
            values.append(ast.literal_eval(match.group(1)))
    return values
