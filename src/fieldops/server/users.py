"""Managing users: create, change, disable, list; shared by the command line and the API."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fieldops.domain.errors import NotFoundError, ValidationError
from fieldops.protocol import Role, UserInfo
from fieldops.protocol.values import SITE_CODE_PATTERN
from fieldops.server.auth import revoke_user_tokens, user_sites
from fieldops.server.passwords import MIN_PASSWORD, Passwords
from fieldops.server.schema import User, UserSite

log = logging.getLogger(__name__)

_SITE = re.compile(SITE_CODE_PATTERN)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class UserExistsError(ValidationError):
    """A user of that name already exists."""

    code = "user_exists"


def _check_name(name: str) -> str:
    """A valid user name, or a plain refusal."""
    if not _NAME.match(name):
        raise ValidationError(
            f"'{name}' is not a user name: use letters, digits and . _ @ - (up to 64)."
        )
    return name


def _check_sites(sites: Iterable[str]) -> list[str]:
    """Valid site codes, sorted and without repeats."""
    codes = sorted(set(sites))
    bad = [code for code in codes if not _SITE.match(code)]
    if bad:
        raise ValidationError(f"'{bad[0]}' is not a site code (letters, digits, - . _).")
    return codes


def check_password(password: str) -> None:
    """Refuses passwords too short to be worth hashing."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"The password must have at least {MIN_PASSWORD} characters.")


def find_user(session: Session, name: str) -> User:
    """The user of this name (ignoring case)."""
    user = session.scalars(select(User).where(User.name_key == name.strip().lower())).first()
    if user is None:
        raise NotFoundError(f"There is no user '{name}'.")
    return user


def info(session: Session, user: User) -> UserInfo:
    """The user as the API and the command line show it."""
    return UserInfo(
        name=user.name,
        role=Role(user.role),
        sites=sorted(user_sites(session, user.id)),
        disabled=user.disabled,
    )


def create_user(
    session: Session,
    passwords: Passwords,
    name: str,
    role: Role,
    sites: Iterable[str],
    password: str,
    now: datetime,
) -> UserInfo:
    """Adds a user with a hashed password."""
    _check_name(name)
    check_password(password)
    codes = _check_sites(sites)
    if session.scalars(select(User.id).where(User.name_key == name.lower())).first() is not None:
        raise UserExistsError(f"A user named '{name}' already exists.")
    user = User(
        name=name,
        name_key=name.lower(),
        password_hash=passwords.hash(password),
        role=Role(role).value,
        disabled=False,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    session.add_all(UserSite(user_id=user.id, site_code=code) for code in codes)
    session.flush()
    log.info("user %s created with role %s", name, role)
    return info(session, user)


def update_user(
    session: Session,
    passwords: Passwords,
    name: str,
    now: datetime,
    *,
    role: Role | None = None,
    sites: Iterable[str] | None = None,
    disabled: bool | None = None,
    password: str | None = None,
) -> UserInfo:
    """Changes a user; a new password or disabling also ends every token they hold."""
    user = find_user(session, name)
    if role is not None:
        user.role = Role(role).value
    if sites is not None:
        codes = _check_sites(sites)
        session.execute(delete(UserSite).where(UserSite.user_id == user.id))
        session.add_all(UserSite(user_id=user.id, site_code=code) for code in codes)
    if password is not None:
        check_password(password)
        user.password_hash = passwords.hash(password)
    if disabled is not None:
        user.disabled = disabled
    if password is not None or disabled:
        revoke_user_tokens(session, user.id, now)
    user.updated_at = now
    session.flush()
    log.info("user %s changed", user.name)
    return info(session, user)


def list_users(session: Session) -> list[UserInfo]:
    """Every user, by name."""
    return [info(session, user) for user in session.scalars(select(User).order_by(User.name_key))]


def revoke_tokens(session: Session, name: str, now: datetime) -> int:
    """Ends every token of a user; returns how many were live."""
    user = find_user(session, name)
    count = revoke_user_tokens(session, user.id, now)
    log.info("revoked %d tokens of user %s", count, user.name)
    return count
