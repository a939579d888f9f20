"""`fieldops-server`: run the server and administer it from a terminal."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from fieldops.domain.catalogue import CatalogueFormat
from fieldops.domain.errors import FieldOpsError, ValidationError
from fieldops.protocol import Role
from fieldops.server import migrate, users
from fieldops.server.backup import restore_backup, write_backup
from fieldops.server.catalogue_import import CatalogueImporter
from fieldops.server.db import in_transaction
from fieldops.server.meta import new_epoch
from fieldops.server.pull import purge
from fieldops.server.services import Services
from fieldops.server.settings import ENV_PREFIX, Settings, default_data_dir
from fieldops.server.sites import put_site, site_list

log = logging.getLogger(__name__)

EXIT_ERROR = 1
EXIT_LINES_REFUSED = 3


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", dest="sub_db", metavar="URL", help="database URL (default: SQLite in DIR)"
    )
    parser = argparse.ArgumentParser(
        prog="fieldops-server", description="The FieldOps central sync server."
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=os.environ.get(ENV_PREFIX + "DATA_DIR") or None,
        help="where the database (by default) and photos live",
    )
    parser.add_argument("--db", metavar="URL", help="e.g. postgresql+psycopg://user@host/db")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", parents=[common], help="run the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8443)
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="reverse proxies whose X-Forwarded-For is believed",
    )
    commands.add_parser("migrate", parents=[common], help="bring the schema up to date")

    create = commands.add_parser("create-user", parents=[common], help="add a user")
    create.add_argument("name")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--site", action="append", default=[], metavar="CODE")
    create.add_argument("--password-stdin", action="store_true")
    password = commands.add_parser("set-password", parents=[common], help="change a password")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true")
    disable = commands.add_parser("disable-user", parents=[common], help="stop a user logging in")
    disable.add_argument("name")
    disable.add_argument("--enable", action="store_true", help="let them log in again")
    revoke = commands.add_parser("revoke-tokens", parents=[common], help="end a user's sign-ins")
    revoke.add_argument("name")
    listing = commands.add_parser("list-users", parents=[common], help="show users")
    listing.add_argument("--json", action="store_true")

    importer = commands.add_parser("import-assets", parents=[common], help="import a CSV file")
    importer.add_argument("file", type=Path)
    importer.add_argument("--format", choices=[f.value for f in CatalogueFormat])
    importer.add_argument("--json", action="store_true")
    sites = commands.add_parser("sites", parents=[common], help="show sites, or add one")
    sites.add_argument("--add", metavar="CODE", help="create or rename this site")
    sites.add_argument("--name", default="", help="the site's name, with --add")
    sites.add_argument("--json", action="store_true")

    backup = commands.add_parser("backup", parents=[common], help="write a backup file")
    backup.add_argument("file", type=Path)
    backup.add_argument("--with-blobs", action="store_true", help="include the photos")
    restore = commands.add_parser("restore", parents=[common], help="restore a backup")
    restore.add_argument("file", type=Path)
    commands.add_parser("purge", parents=[common], help="drop tombstones past their retention")
    commands.add_parser("new-epoch", parents=[common], help="after restoring by other means")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    """The settings the command line and the environment give."""
    base = Settings.from_env()
    data_dir = Path(args.data_dir) if args.data_dir else base.data_dir or default_data_dir()
    url = args.sub_db or args.db or os.environ.get(ENV_PREFIX + "DB", "")
    return base.with_changes(data_dir=data_dir, database=url)


def _password(args: argparse.Namespace) -> str:
    """The new password: the first line of stdin, or typed twice at a terminal."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ValidationError("Give the password on standard input with --password-stdin.")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise ValidationError("The two passwords differ; nothing was changed.")
    return first


def _show(value: Any, as_json: bool, lines: Callable[[], list[str]]) -> None:
    """Prints a result as JSON or as lines for people."""
    if as_json:
        print(json.dumps(value, indent=2, ensure_ascii=False))
    else:
        print("\n".join(lines()))


def _ready(settings: Settings) -> Services:
    """The services on a database of the right schema (an empty one is set up first)."""
    svc = Services.build(settings)
    migrate.check_ready(svc.engine, _migrate_hint(settings))
    return svc


def _migrate_hint(settings: Settings) -> str:
    db = "" if settings.database_url.startswith("sqlite") else " --db URL"
    return f"fieldops-server --data-dir {settings.data_dir}{db} migrate"


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    svc = _ready(settings)
    purge(svc.factory, settings.tombstone_retention, settings.clock)
    with svc.read_factory() as session:
        if not users.list_users(session):
            log.warning(
                "no users yet: add one with fieldops-server create-user NAME --role admin "
                "--password-stdin"
            )
    svc.engine.dispose()
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "proxy_headers": True,
        "forwarded_allow_ips": args.forwarded_allow_ips,
        "log_config": None,
        "server_header": False,
    }
    log.info("serving on http://%s:%d with %d worker(s)", args.host, args.port, args.workers)
    if args.workers > 1:
        os.environ.update(settings.to_env())
        uvicorn.run(
            "fieldops.server.app:app_from_env", factory=True, workers=args.workers, **options
        )
    else:
        from fieldops.server.app import create_app

        uvicorn.run(create_app(settings), **options)
    return 0


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    svc = Services.build(settings)
    state = migrate.schema_state(svc.engine)
    if state is migrate.SchemaState.NEWER:
        migrate.check_ready(svc.engine, "")
    before, after = migrate.upgrade(svc.engine)
    print(f"Schema at {after}" + ("" if before == after else f" (was {before or 'empty'})."))
    return 0


def _in_tx(svc: Services, work: Callable[[Session], Any]) -> Any:
    return in_transaction(svc.factory, work)


def _create_user(args: argparse.Namespace, settings: Settings) -> int:
    svc = _ready(settings)
    password = _password(args)
    now = settings.clock()
    info = _in_tx(
        svc,
        lambda s: users.create_user(
            s, svc.passwords, args.name, Role(args.role), args.site, password, now
        ),
    )
    print(f"User {info.name} created ({info.role.value}; sites: {', '.join(info.sites) or '-'}).")
    return 0


def _set_password(args: argparse.Namespace, settings: Settings) -> int:
    svc = _ready(settings)
    password = _password(args)
    now = settings.clock()
    _in_tx(svc, lambda s: users.update_user(s, svc.passwords, args.name, now, password=password))
    print(f"Password of {args.name} changed; their sign-ins were ended.")
    return 0


def _disable_user(args: argparse.Namespace, settings: Settings) -> int:
    svc = _ready(settings)
    now = settings.clock()
    disabled = not args.enable
    _in_tx(svc, lambda s: users.update_user(s, svc.passwords, args.name, now, disabled=disabled))
    print(f"User {args.name} {'disabled; their sign-ins were ended' if disabled else 'enabled'}.")
    return 0


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    svc = _ready(settings)
    now = settings.clock()
    count = _in_tx(svc, lambda s: users.revoke_tokens(s, args.name, now))
    print(f"Ended {count} sign-in(s) of {args.name}.")
    return 0


def _list_users(args: argparse.Namespace, settings: Settings) -> int:
    svc = _ready(settings)
    with svc.read_factory() as session:
        found = users.list_users(session)
    _show(
        [u.model_dump(mode="json") for u in found],
        args.json,
        lambda: (
            [
                f"{u.name:<24} {u.role.value:<10} {'disabled ' if u.disabled else ''}"
                f"{', '.join(u.sites) or '-'}"
                for u in found
            ]
            or ["No users."]
        ),
    )
    return 0


def _import(args: argparse.Namespace, settings: Settings) -> int:
    svc = _ready(settings)
    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise ValidationError(f"Cannot read {args.file}: {error.strerror}.") from None
    fmt = CatalogueFormat(args.format) if args.format else None
    now = settings.clock()
    summary = _in_tx(svc, lambda s: CatalogueImporter(s, now, None).run(data, fmt))

    def lines() -> list[str]:
        out = [
            f"{args.file.name} ({summary.format}): {summary.created} created, "
            f"{summary.updated} updated, {summary.unchanged} unchanged, "
            f"{len(summary.errors)} line(s) refused."
        ]
        out += [f"  line {e.line}: {e.reason}" for e in summary.errors[:50]]
        if len(summary.errors) > 50:
            out.append(f"  ... and {len(summary.errors) - 50} more (use --json for all)")
        out.append(
            f"{summary.kept} field change(s) made since the last import kept, "
            f"{len(summary.conflicts)} conflict(s)."
        )
        out += [
            f"  line {c.line}: {c.entity} {c.key} {c.field}: file {c.file_value!r}, "
            f"record {c.record_value!r}; kept the {c.kept}'s"
            for c in summary.conflicts[:50]
        ]
        if len(summary.conflicts) > 50:
            out.append(f"  ... and {len(summary.conflicts) - 50} more (use --json for all)")
        return out

    _show(summary.model_dump(mode="json"), args.json, lines)
    return EXIT_LINES_REFUSED if summary.errors else 0


def _sites(args: argparse.Namespace, settings: Settings) -> int:
    svc = _ready(settings)
    if args.add:
        now = settings.clock()
        _in_tx(svc, lambda s: put_site(s, args.add, args.name or args.add, None, now))
    with svc.read_factory() as session:
        found = site_list(session, None)
    _show(
        [s.model_dump() for s in found],
        args.json,
        lambda: [f"{s.code:<16} {s.assets:>7} assets  {s.name}" for s in found] or ["No sites."],
    )
    return 0


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    svc = _ready(settings)
    counts = write_backup(svc.engine, svc.blobs if args.with_blobs else None, args.file)
    print(f"Backup written to {args.file}: {counts['records']} records, {counts['users']} users.")
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    svc = Services.build(settings)
    counts = restore_backup(svc.engine, svc.blobs, args.file)
    print(
        f"Restored {counts['records']} records and {counts['users']} users. The server has a "
        "new epoch: devices will push again what the backup did not have."
    )
    return 0


def _purge(_args: argparse.Namespace, settings: Settings) -> int:
    svc = _ready(settings)
    removed = purge(svc.factory, settings.tombstone_retention, settings.clock)
    print(f"Purged {removed} tombstone(s).")
    return 0


def _new_epoch(_args: argparse.Namespace, settings: Settings) -> int:
    svc = _ready(settings)
    epoch = _in_tx(svc, new_epoch)
    print(f"New epoch {epoch}: devices will push again what the database may have lost.")
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "serve": _serve,
    "migrate": _migrate,
    "create-user": _create_user,
    "set-password": _set_password,
    "disable-user": _disable_user,
    "revoke-tokens": _revoke,
    "list-users": _list_users,
    "import-assets": _import,
    "sites": _sites,
    "backup": _backup,
    "restore": _restore,
    "purge": _purge,
    "new-epoch": _new_epoch,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return _COMMANDS[args.command](args, _settings(args))
    except FieldOpsError as error:
        print(f"fieldops-server: {error.message}", file=sys.stderr)
        return EXIT_ERROR
