"""Users, logins and sessions over the database: one service for the dashboard, the CLI and the API.

Passwords are hashed with argon2id by argon2-cffi's ``PasswordHasher`` (salted, PHC string format);
nothing here stores, returns or logs a password. Session tokens are ``secrets.token_urlsafe`` values held
by the client; the database keeps only their SHA-256. Every login attempt is stored in login_attempts and
logged. The rules (roles, lockout, expiry, password policy) are access.rules; ``now`` is always given.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from access.rules import (
    REFUSALS,
    LoginOutcome,
    LoginRefusal,
    PasswordPolicy,
    PastAttempt,
    Permission,
    Role,
    SessionPolicy,
    SessionRefusal,
    ThrottlePolicy,
    can,
    locked_until,
    normalise_login,
    parse_role,
    password_problem,
    session_ends_at,
)
from db.models import LoginAttempt, User, UserSession
from dialer.errors import UpravDolgError

logger = logging.getLogger(__name__)

TOKEN_BYTES = 32  # 256 random bits per session token
SOURCE_LENGTH = 200
LOGIN_LENGTH = 100


class AccessError(UpravDolgError):
    """The user cannot be added or changed."""

    exit_code = 12


@dataclass(frozen=True, slots=True)
class AccessRules:
    """The policies the service applies (built from settings.dashboard by dialer.bootstrap)."""

    throttle: ThrottlePolicy
    sessions: SessionPolicy
    passwords: PasswordPolicy


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A user as the outlets see it: never the password hash."""

    id: int
    login: str
    full_name: str
    role: Role
    created_at: datetime
    password_changed_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def can(self, permission: Permission) -> bool:
        return self.active and can(self.role, permission)


@dataclass(frozen=True, slots=True)
class LoginResult:
    """``user`` on success; otherwise ``refusal`` (what the caller may be told) and, when the login is
    locked out (now, or by this very failure), until when."""

    user: UserInfo | None
    refusal: LoginRefusal | None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


@dataclass(frozen=True, slots=True)
class SessionCheck:
    """``user`` while the session is valid, else why not."""

    user: UserInfo | None
    refusal: SessionRefusal | None


def token_digest(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id,
        login=user.login,
        full_name=user.full_name,
        role=Role(user.role),
        created_at=user.created_at,
        password_changed_at=user.password_changed_at,
        disabled_at=user.disabled_at,
    )


class Accounts:
    """The users of one organisation. Each method is one transaction of its own."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        organisation_id: int,
        rules: AccessRules,
        hasher: PasswordHasher,
    ) -> None:
        self._sessions = sessions
        self._organisation_id = organisation_id
        self._rules = rules
        self._hasher = hasher
        self._dummy_hash: str | None = None

    # ---- administration -----------------------------------------------------------------------------------

    def check_new_user(self, login: str, role: Role | str) -> tuple[str, Role]:
        """The stored login and the role of a user about to be added (before asking for a password).
        Raises AccessError for a bad login, an unknown role or a login already taken."""
        key = self._login(login)
        the_role = self._role(role)
        with self._sessions() as session:
            self._not_taken(session, key)
        return key, the_role

    def add_user(
        self, login: str, password: str, role: Role | str, now: datetime, *, full_name: str = ""
    ) -> UserInfo:
        key = self._login(login)
        the_role = self._role(role)
        self._check_password(password, key)
        password_hash = self._hasher.hash(password)
        try:
            with self._sessions.begin() as session:
                self._not_taken(session, key)
                user = User(
                    organisation_id=self._organisation_id,
                    login=key,
                    full_name=full_name.strip(),
                    role=the_role.value,
                    password_hash=password_hash,
                    created_at=now,
                    password_changed_at=now,
                )
                session.add(user)
                session.flush()
                info = _info(user)
        except IntegrityError:  # added by someone else between our check and our insert
            raise AccessError(f"a user with login {key!r} already exists") from None
        logger.info(
            "user %r added with role %s", key, the_role.value, extra={"action": "user_add", "login": key}
        )
        return info

    def set_password(self, login: str, password: str, now: datetime) -> UserInfo:
        """Change the password; the user's open sessions end (they log in again with the new one)."""
        key = self._login(login)
        self._check_password(password, key)
        password_hash = self._hasher.hash(password)
        with self._sessions.begin() as session:
            user = self._existing(session, key)
            user.password_hash = password_hash
            user.password_changed_at = now
            ended = self._revoke_all(session, user.id, now)
            info = _info(user)
        logger.info(
            "password of user %r changed, %d session(s) ended",
            key,
            ended,
            extra={"action": "user_passwd", "login": key},
        )
        return info

    def disable_user(self, login: str, now: datetime) -> tuple[UserInfo, bool]:
        """Disable the user (for good: the row stays for the record) and end their sessions.
        Returns the user and whether this call disabled them (False: they already were)."""
        key = self._login(login)
        with self._sessions.begin() as session:
            user = self._existing(session, key)
            changed = user.disabled_at is None
            if changed:
                user.disabled_at = now
            self._revoke_all(session, user.id, now)
            info = _info(user)
        if changed:
            logger.info("user %r disabled", key, extra={"action": "user_disable", "login": key})
        return info, changed

    def list_users(self) -> list[UserInfo]:
        with self._sessions() as session:
            users = session.scalars(
                select(User).where(User.organisation_id == self._organisation_id).order_by(User.login)
            )
            return [_info(u) for u in users]

    def get_user(self, login: str) -> UserInfo:
        key = self._login(login)
        with self._sessions() as session:
            return _info(self._existing(session, key))

    # ---- logging in ---------------------------------------------------------------------------------------

    def authenticate(self, login: str, password: str, now: datetime, source: str) -> LoginResult:
        """Check a login. Every attempt is stored and logged, with the real outcome; the result tells an
        unknown login and a wrong password apart for nobody (both are ``INVALID_CREDENTIALS``)."""
        try:
            key = normalise_login(login)
        except ValueError:
            key = login.strip().casefold()[:LOGIN_LENGTH]  # recorded as typed: it cannot be a user
        source = source[:SOURCE_LENGTH]
        policy = self._rules.throttle
        with self._sessions.begin() as session:
            history = self._history(session, key, now)
            until = locked_until(history, now, policy)
            user: User | None = None
            if until is not None:
                outcome = LoginOutcome.LOCKED_OUT  # the password is not even looked at
            else:
                user = self._find(session, key)
                outcome = self._check(user, password)
                if outcome is LoginOutcome.OK and user is not None:
                    self._rehash_if_needed(user, password)
            session.add(
                LoginAttempt(
                    organisation_id=self._organisation_id,
                    login=key,
                    at=now,
                    succeeded=outcome is LoginOutcome.OK,
                    outcome=outcome.value,
                    source=source,
                )
            )
            if outcome is not LoginOutcome.OK and until is None:
                until = locked_until([*history, PastAttempt(now, outcome)], now, policy)
            info = _info(user) if user is not None and outcome is LoginOutcome.OK else None
        self._log_attempt(key, source, outcome, until)
        if info is not None:
            return LoginResult(info, None)
        return LoginResult(None, REFUSALS[outcome], until)

    # ---- sessions -----------------------------------------------------------------------------------------

    def create_session(self, user_id: int, now: datetime, *, source: str = "") -> str:
        """A new session for an active user; returns its token (the only time it exists in the clear)."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self._sessions.begin() as session:
            user = session.get(User, user_id)
            if user is None or user.organisation_id != self._organisation_id:
                raise AccessError(f"no user with id {user_id}")
            if user.disabled_at is not None:
                raise AccessError(f"user {user.login!r} is disabled")
            session.add(
                UserSession(
                    id=token_digest(token),
                    organisation_id=self._organisation_id,
                    user_id=user.id,
                    source=source[:SOURCE_LENGTH],
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + self._rules.sessions.max_age,
                )
            )
        logger.info(
            "session started for %r", user.login, extra={"action": "session_start", "login": user.login}
        )
        return token

    def resolve_session(self, token: str, now: datetime, *, touch: bool = True) -> SessionCheck:
        """The user behind ``token`` if the session is valid at ``now``; with ``touch`` it counts as used
        now (a person's click), without it (an automatic refresh) the idle timeout keeps running."""
        if not token:
            return SessionCheck(None, SessionRefusal.UNKNOWN)
        with self._sessions.begin() as session:
            row = session.get(UserSession, token_digest(token))
            if row is None or row.organisation_id != self._organisation_id:
                return SessionCheck(None, SessionRefusal.UNKNOWN)
            user = session.get(User, row.user_id)
            if user is None or user.disabled_at is not None:
                return SessionCheck(None, SessionRefusal.DISABLED)
            if row.revoked_at is not None:
                return SessionCheck(None, SessionRefusal.REVOKED)
            idle_end = session_ends_at(row.created_at, row.last_seen_at, self._rules.sessions)
            if now >= min(row.expires_at, idle_end):
                return SessionCheck(None, SessionRefusal.EXPIRED)
            if touch:
                row.last_seen_at = max(row.last_seen_at, now)
            return SessionCheck(_info(user), None)

    def revoke_session(self, token: str, now: datetime) -> bool:
        """Log out. Returns whether an open session ended."""
        with self._sessions.begin() as session:
            row = session.get(UserSession, token_digest(token)) if token else None
            if row is None or row.organisation_id != self._organisation_id or row.revoked_at is not None:
                return False
            row.revoked_at = now
        logger.info("session ended", extra={"action": "session_end", "user_id": row.user_id})
        return True

    # ---- internals ----------------------------------------------------------------------------------------

    def _login(self, login: str) -> str:
        try:
            return normalise_login(login)
        except ValueError as exc:
            raise AccessError(str(exc)) from None

    @staticmethod
    def _role(role: Role | str) -> Role:
        try:
            return parse_role(role)
        except ValueError as exc:
            raise AccessError(str(exc)) from None

    def _check_password(self, password: str, login: str) -> None:
        problem = password_problem(password, login, self._rules.passwords)
        if problem is not None:
            raise AccessError(problem, hint="choose a longer passphrase, e.g. several unrelated words")

    def _find(self, session: Session, key: str) -> User | None:
        return session.scalars(
            select(User).where(User.organisation_id == self._organisation_id, User.login == key)
        ).one_or_none()

    def _not_taken(self, session: Session, key: str) -> None:
        if self._find(session, key) is not None:
            raise AccessError(
                f"a user with login {key!r} already exists",
                hint="choose another login, or change this user's password with `upravdolg users passwd`",
            )

    def _existing(self, session: Session, key: str) -> User:
        user = self._find(session, key)
        if user is None:
            raise AccessError(f"no user with login {key!r}", hint="`upravdolg users list` shows them")
        return user

    def _history(self, session: Session, key: str, now: datetime) -> list[PastAttempt]:
        rows = session.execute(
            select(LoginAttempt.at, LoginAttempt.outcome)
            .where(
                LoginAttempt.organisation_id == self._organisation_id,
                LoginAttempt.login == key,
                LoginAttempt.at > now - self._rules.throttle.lookback,
                LoginAttempt.at <= now,
            )
            .order_by(LoginAttempt.at, LoginAttempt.id)
        )
        return [PastAttempt(at, LoginOutcome(outcome)) for at, outcome in rows]

    def _check(self, user: User | None, password: str) -> LoginOutcome:
        if user is None:
            # Spend the same time as for a real user, so the answer's delay does not tell who exists.
            self._verify(self._dummy(), password)
            return LoginOutcome.UNKNOWN_USER
        if not self._verify(user.password_hash, password):
            return LoginOutcome.WRONG_PASSWORD
        return LoginOutcome.OK if user.disabled_at is None else LoginOutcome.DISABLED

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except VerificationError:  # includes VerifyMismatchError: the wrong password
            return False
        except InvalidHashError:
            logger.error("a stored password hash is not an argon2 hash", extra={"action": "login"})
            return False

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    def _rehash_if_needed(self, user: User, password: str) -> None:
        # The hasher's parameters were raised since this hash was made: upgrade it while we have the
        # password (argon2-cffi: PasswordHasher.check_needs_rehash).
        if self._hasher.check_needs_rehash(user.password_hash):
            user.password_hash = self._hasher.hash(password)
            logger.info("password hash of %r upgraded", user.login, extra={"action": "rehash"})

    @staticmethod
    def _revoke_all(session: Session, user_id: int, now: datetime) -> int:
        result = session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    @staticmethod
    def _log_attempt(key: str, source: str, outcome: LoginOutcome, until: datetime | None) -> None:
        extra = {"action": "login", "login": key, "outcome": outcome.value, "source": source}
        if outcome is LoginOutcome.OK:
            logger.info("login %r from %s succeeded", key, source, extra=extra)
        elif until is not None:
            logger.warning(
                "login %r from %s refused (%s); locked out until %s",
                key,
                source,
                outcome.value,
                until.isoformat(timespec="seconds"),
                extra=extra,
            )
        else:
            logger.warning("login %r from %s refused (%s)", key, source, outcome.value, extra=extra)
