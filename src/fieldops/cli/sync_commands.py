"""`fieldops login`, `logout`, `sync` and `status`."""

from __future__ import annotations

import argparse
import getpass
import sys

from fieldops.cli.output import emit_json, emit_lines
from fieldops.domain.errors import FieldOpsError, ValidationError
from fieldops.services.datadir import DataDir
from fieldops.services.sync_service import SyncStatus
from fieldops.services.workspace import Workspace
from fieldops.sync.credential_errors import CredentialError
from fieldops.sync.engine import SyncReport

EXIT_OK, EXIT_ERROR = 0, 1


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    else:
        raise ValidationError("No password given: type it at the prompt or use --password-stdin.")
    if not password:
        raise ValidationError("The password is empty.")
    return password


def login(args: argparse.Namespace, data_dir: DataDir) -> int:
    """Signs in and keeps the token in the OS keyring."""
    workspace = Workspace(data_dir)
    try:
        user = workspace.sync.login(args.server, args.user, _password(args))
    except CredentialError as exc:
        raise FieldOpsError(
            exc.message + " From the command line, sign in for one run only with "
            "`fieldops sync --password-stdin --server URL --user NAME`."
        ) from exc
    print(f"Signed in to {args.server} as {user.name}. The token is in the system keyring.")
    return EXIT_OK


def proxy_login(args: argparse.Namespace, data_dir: DataDir) -> int:
    """Keeps the proxy's user name and password in the OS keyring."""
    Workspace(data_dir).sync.set_proxy_login(args.user, _password(args), args.server)
    print("The proxy sign-in is kept in the system keyring; sync will use it.")
    return EXIT_OK


def logout(args: argparse.Namespace, data_dir: DataDir) -> int:
    """Forgets the stored token."""
    removed = Workspace(data_dir).sync.logout()
    print("Signed out." if removed else "This device was not signed in.")
    return EXIT_OK


def _report_lines(report: SyncReport) -> list[tuple[str, str]]:
    lines = [
        ("Photos sent", str(report.photos_sent)),
        ("Changes sent", str(report.changes_sent)),
        ("Pulled", str(report.pulled)),
        ("Conflicts", str(report.conflicts)),
        ("Rejected", str(report.rejected)),
    ]
    if report.started_afresh:
        lines.append(
            (
                "Note",
                "the server no longer knew this device's changes (it was restored, or this data "
                "directory was copied from another device): unsent changes were sent again",
            )
        )
    if report.clock_warning:
        lines.append(("Warning", f"this device's clock is {report.clock_offset_s:+.0f} s off"))
    return lines


def sync(args: argparse.Namespace, data_dir: DataDir) -> int:
    """Runs one sync; exit 0 only when everything went up and the pull finished."""
    workspace = Workspace(data_dir)
    service = workspace.sync
    one_run = bool(args.password_stdin)
    if one_run:
        if not (args.server and args.user):
            raise ValidationError("With --password-stdin, give --server and --user too.")
        service.credentials.use_session_only()
        service.login(args.server, args.user, _password(args))
    try:
        report = service.sync()
    except CredentialError as exc:
        raise FieldOpsError(
            exc.message + " Or run `fieldops sync --password-stdin --server URL --user NAME` "
            "to sign in for this run only."
        ) from exc
    finally:
        if one_run:
            service.logout()  # the one-run sign-in ends with the run, on the server too
    status = service.status()
    if args.json:
        emit_json({"report": report, "status": status})
    else:
        emit_lines(_report_lines(report))
    waiting = status.changes or status.photos
    for refused in workspace.review.rejected()[:10]:
        print(f"  rejected: {refused.label}: {refused.reason}", file=sys.stderr)
    if waiting or report.rejected or report.conflicts:
        print(
            f"fieldops: {status.changes} changes and {status.photos} photos still wait; "
            f"{status.rejected} rejected and {status.conflicts} conflicts need a decision "
            "in the window (Sync > Review).",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK


def _status_lines(status: SyncStatus) -> list[tuple[str, str]]:
    last = (
        status.last_sync_at.astimezone().isoformat(timespec="minutes")
        if status.last_sync_at
        else "never"
    )
    return [
        ("Server", status.server or "(not set up)"),
        ("User", status.user or "-"),
        ("Changes waiting", str(status.changes)),
        ("Photos waiting", str(status.photos)),
        ("Pulled records waiting", str(status.pulled_waiting)),
        ("Conflicts", str(status.conflicts)),
        ("Rejected", str(status.rejected)),
        ("Last sync", last),
        ("Last problem", status.last_error or "-"),
    ]


def status(args: argparse.Namespace, data_dir: DataDir) -> int:
    """Prints queued work and the last sync."""
    current = Workspace(data_dir).sync.status()
    if args.json:
        emit_json(current)
    else:
        emit_lines(_status_lines(current))
        if current.clock_warning:
            print(
                f"Warning: this device's clock is {current.clock_offset_s:+.0f} s off the server's."
            )
    return EXIT_OK
