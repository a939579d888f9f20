"""The `fieldops` command: the window by default, and the same use cases for the terminal."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fieldops import __version__, logsetup
from fieldops.domain.errors import FieldOpsError
from fieldops.services import datadir

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR, EXIT_NOT_FOUND, EXIT_MISREAD = 0, 1, 3, 4


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    from fieldops.cli import asset_commands, commands, label_commands

    parser = argparse.ArgumentParser(
        prog="fieldops",
        description="Look assets up by their label, log incidents, work offline, sync later.",
    )
    parser.add_argument("--version", action="version", version=f"fieldops {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"where the database, photos and logs live (default: ${datadir.ENV_VAR} or "
        "the platform's user data folder)",
    )
    parser.add_argument("--json", action="store_true", help="print records as JSON")
    parser.add_argument("--verbose", action="store_true", help="log debug detail to the log file")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.register(sub)
    label_commands.register(sub)
    asset_commands.register(sub)
    _accept_json_after_the_command(sub)
    return parser


def _accept_json_after_the_command(sub: Any) -> None:
    """`fieldops lookup --json CODE` works as well as `fieldops --json lookup CODE`."""
    for command in sub.choices.values():
        nested = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            _accept_json_after_the_command(nested[0])
        elif "--json" not in command._option_string_actions:
            command.add_argument(
                "--json", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command (or the window) and returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    data_dir = datadir.resolve(args.data_dir)
    try:
        log_file = logsetup.configure(
            data_dir.logs, level=logging.DEBUG if args.verbose else logging.INFO
        )
    except OSError as exc:
        print(
            f"fieldops: the data directory {data_dir.root} cannot be used ({exc.strerror}). "
            "Choose another with --data-dir.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    handler: Callable[[argparse.Namespace, datadir.DataDir], int] | None = getattr(
        args, "handler", None
    )
    if handler is None:
        from fieldops.ui.app import run_window

        return run_window(data_dir)
    try:
        return handler(args, data_dir)
    except FieldOpsError as exc:
        log.warning("%s failed: %s", args.command, exc.message)
        print(f"fieldops: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader of our output went away (for example `| head`): nothing to report.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaces the closed pipe for exit
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("fieldops: stopped.", file=sys.stderr)
        return 130
    except Exception as exc:
        log.exception("%s failed unexpectedly", args.command)
        print(
            f"fieldops: something unexpected went wrong ({type(exc).__name__}). "
            f"Nothing half-done was saved. Details are in {log_file}.",
            file=sys.stderr,
        )
        return EXIT_ERROR


def existing_file(text: str) -> Path:
    """An argparse type for a file that must exist."""
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"there is no file at {path}")
    return path
