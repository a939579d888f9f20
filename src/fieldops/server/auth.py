"""Who is calling: bearer tokens (stored as hashes), logins and their throttling."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from fieldops.protocol import ErrorCode, Role
from fieldops.server.db import in_transaction
from fieldops.server.errors import ApiError
from fieldops.server.passwords import Passwords
from fieldops.server.schema import LoginThrottle, Token, User, UserSite
from fieldops.server.settings import Settings

log = logging.getLogger(__name__)

TOKEN_PREFIX = "fo1_"  # noqa: S105 - marks our tokens in logs and scanners; not a secret


@dataclass(frozen=True)
class Principal:
    """The user a request acts for, and the sites they may see and change."""

    user_id: int
    name: str
    role: Role
    sites: frozenset[str]
    token_id: int | None = None

    @property
    def sees_all_sites(self) -> bool:
        """Leads and administrators see and change records at every site."""
        return self.role in (Role.LEAD, Role.ADMIN)

    def covers(self, site_code: str | None) -> bool:
        """Whether the user may see and change records of this site."""
        return self.sees_all_sites or (site_code is not None and site_code in self.sites)

    def at_least(self, role: Role) -> bool:
        """Whether the user's role is this one or above it."""
        order = (Role.TECHNICIAN, Role.LEAD, Role.ADMIN)
        return order.index(self.role) >= order.index(role)


def hash_token(token: str) -> str:
    """The form a token is stored and looked up by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh opaque bearer token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def user_sites(session: Session, user_id: int) -> frozenset[str]:
    """The site codes assigned to a user."""
    rows = session.scalars(select(UserSite.site_code).where(UserSite.user_id == user_id))
    return frozenset(rows)


def authenticate(session: Session, token: str, now: datetime) -> Principal:
    """The principal a bearer token stands for; refuses unknown, revoked and expired ones."""
    row = session.execute(
        select(Token, User)
        .join(User, User.id == Token.user_id)
        .where(Token.token_hash == hash_token(token))
    ).first()
    if row is None or row.Token.revoked_at is not None:
        raise ApiError(
            401, ErrorCode.INVALID_TOKEN, "Your sign-in is no longer valid. Log in again."
        )
    if row.Token.expires_at <= now:
        raise ApiError(401, ErrorCode.TOKEN_EXPIRED, "Your sign-in has expired. Log in again.")
    if row.User.disabled:
        raise ApiError(
            403, ErrorCode.ACCOUNT_DISABLED, "This account is disabled. Ask an administrator."
        )
    return Principal(
        user_id=row.User.id,
        name=row.User.name,
        role=Role(row.User.role),
        sites=user_sites(session, row.User.id),
        token_id=row.Token.id,
    )


@dataclass(frozen=True)
class IssuedToken:
    """A token just handed out (the only time its text exists on the server)."""

    token: str
    expires_at: datetime
    principal: Principal


class LoginService:
    """Checks passwords, throttles failures per user and per address, issues tokens."""

    def __init__(
        self, settings: Settings, factory: sessionmaker[Session], passwords: Passwords
    ) -> None:
        self._settings = settings
        self._factory = factory
        self._passwords = passwords

    def login(self, username: str, password: str, address: str, device: str) -> IssuedToken:
        """A new token for a correct name and password; raises ApiError otherwise."""
        name_key = username.strip().lower()
        keys = (f"user:{name_key}", f"addr:{address}")
        now = self._settings.clock()
        in_transaction(self._factory, lambda s: self._refuse_if_blocked(s, keys, now))

        user = in_transaction(self._factory, lambda s: _user_by_key(s, name_key))
        stored = user.password_hash if user is not None else None
        if not self._passwords.verify(stored, password) or user is None:
            in_transaction(self._factory, lambda s: self._count_failure(s, keys, now))
            log.info("failed login for a user name from %s", address)
            raise ApiError(
                401, ErrorCode.INVALID_CREDENTIALS, "The user name or the password is wrong."
            )
        if user.disabled:
            raise ApiError(
                403, ErrorCode.ACCOUNT_DISABLED, "This account is disabled. Ask an administrator."
            )
        issued = in_transaction(self._factory, lambda s: self._issue(s, user, password, device))
        log.info("user %s logged in", user.name)
        return issued

    def _refuse_if_blocked(self, session: Session, keys: tuple[str, ...], now: datetime) -> None:
        """Raises 429 while the user name or the address is blocked."""
        rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))
        waits = [r.blocked_until - now for r in rows if r.blocked_until and r.blocked_until > now]
        if waits:
            seconds = max(1, int(max(waits).total_seconds() + 0.999))
            raise ApiError(
                429,
                ErrorCode.TOO_MANY_ATTEMPTS,
                f"Too many failed logins. Try again in {seconds} seconds.",
                headers={"Retry-After": str(seconds)},
                retry_after=seconds,
            )

    def _count_failure(self, session: Session, keys: tuple[str, ...], now: datetime) -> None:
        """Counts one failure against each key, blocking those past their limit."""
        settings = self._settings
        for key in keys:
            limit = (
                settings.login_user_limit
                if key.startswith("user:")
                else (settings.login_address_limit)
            )
            row = session.get(LoginThrottle, key, with_for_update=True)
            if row is None or row.first_failure_at < now - settings.login_window:
                row = session.merge(
                    LoginThrottle(key=key, failures=0, first_failure_at=now, blocked_until=None)
                )
            row.failures += 1
            if row.failures >= limit:
                block = timedelta(seconds=30) * 2 ** min(row.failures - limit, 16)
                row.blocked_until = now + min(block, settings.login_block_max)

    def _issue(self, session: Session, user: User, password: str, device: str) -> IssuedToken:
        """Stores a new token's hash, clears the user's failures, refreshes an old hash."""
        now = self._settings.clock()
        token = new_token()
        expires = now + self._settings.token_ttl
        row = Token(
            user_id=user.id,
            token_hash=hash_token(token),
            device=device[:100],
            created_at=now,
            expires_at=expires,
        )
        session.add(row)
        session.execute(delete(LoginThrottle).where(LoginThrottle.key == f"user:{user.name_key}"))
        if self._passwords.needs_rehash(user.password_hash):
            session.execute(
                update(User)
                .where(User.id == user.id)
                .values(password_hash=self._passwords.hash(password))
            )
        session.flush()
        principal = Principal(
            user.id, user.name, Role(user.role), user_sites(session, user.id), row.id
        )
        return IssuedToken(token, expires, principal)


def _user_by_key(session: Session, name_key: str) -> User | None:
    """The user with this name, ignoring case."""
    return session.scalars(select(User).where(User.name_key == name_key)).first()


def revoke_token(session: Session, token_id: int, now: datetime) -> None:
    """Ends one token (logout)."""
    session.execute(
        update(Token).where(Token.id == token_id, Token.revoked_at.is_(None)).values(revoked_at=now)
    )


def revoke_user_tokens(session: Session, user_id: int, now: datetime) -> int:
    """Ends every token of a user; returns how many were live."""
    result = session.execute(
        update(Token)
        .where(Token.user_id == user_id, Token.revoked_at.is_(None), Token.expires_at > now)
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
