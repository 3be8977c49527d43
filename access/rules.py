"""Who may do what, when a login is refused for too many failures, and when a session ends.

PURE: no database, no clock, no hashing. Every rule takes ``now`` and its policy as arguments, so the
dashboard, the CLI and the API decide the same way and the tests move time by hand.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    SUPERVISOR = "supervisor"  # everything, including the users themselves
    OPERATOR = "operator"  # works the debtors and the campaigns; no user administration, no export
    VIEWER = "viewer"  # reads everything, changes nothing


class Permission(StrEnum):
    VIEW = "view"  # see pages and figures
    CALL = "call"  # campaign control: apply, start, pause, stop
    EDIT_DEBTORS = "edit_debtors"  # agreements, promises, do-not-call marks, statuses, imports
    EXPORT = "export"  # take debtor data out in bulk (files, reports with personal data)
    ADMIN_USERS = "admin_users"  # add users, change their passwords, disable them


GRANTS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.SUPERVISOR: frozenset(Permission),
        Role.OPERATOR: frozenset({Permission.VIEW, Permission.CALL, Permission.EDIT_DEBTORS}),
        Role.VIEWER: frozenset({Permission.VIEW}),
    }
)

ROLE_LABELS: Mapping[Role, str] = MappingProxyType(
    {Role.SUPERVISOR: "Руководитель", Role.OPERATOR: "Оператор", Role.VIEWER: "Наблюдатель"}
)


def parse_role(text: str) -> Role:
    """The role named ``text`` (any case). Raises ValueError naming the roles there are."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {text!r}: expected one of {names}") from None


def can(role: Role | str, permission: Permission) -> bool:
    """Whether ``role`` may do ``permission``. A role we do not know may do nothing (fail closed)."""
    try:
        known = Role(role)
    except ValueError:
        return False
    return permission in GRANTS[known]


# ---- logins and passwords ---------------------------------------------------------------------------------

LOGIN_PATTERN = re.compile(r"^[\w.@-]{1,100}$")


def normalise_login(text: str) -> str:
    """A login as stored and compared: trimmed and case-folded. Raises ValueError when it cannot be one."""
    login = text.strip().casefold()
    if not LOGIN_PATTERN.fullmatch(login):
        raise ValueError(
            f"invalid login {text!r}: 1–100 letters, digits, '.', '_', '-' or '@', without spaces"
        )
    return login


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    min_length: int = 10
    # argon2 hashes any length, but a megabyte "password" is only a way to burn our CPU.
    max_length: int = 256

    def __post_init__(self) -> None:
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError("PasswordPolicy: need 1 <= min_length <= max_length")


def password_problem(password: str, login: str, policy: PasswordPolicy) -> str | None:
    """Why ``password`` is not acceptable for ``login``, or None when it is."""
    if len(password) < policy.min_length:
        return (
            f"the password is too short: it needs at least {policy.min_length} characters "
            f"(this one has {len(password)})"
        )
    if len(password) > policy.max_length:
        return f"the password is too long: at most {policy.max_length} characters"
    if not password.strip():
        return "the password must not be only spaces"
    if password.strip().casefold() == login.strip().casefold():
        return "the password must not be the login"
    if len(set(password)) == 1:
        return "the password must not be one character repeated"
    return None


# ---- login throttling -------------------------------------------------------------------------------------


class LoginOutcome(StrEnum):
    """What happened to a login attempt, as stored in login_attempts.outcome and logged."""

    OK = "ok"
    UNKNOWN_USER = "unknown_user"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 (an outcome's name, not a password)
    DISABLED = "disabled"  # the right password of a disabled user
    LOCKED_OUT = "locked_out"  # refused without looking at the password: too many failures before


# The failures that count towards a lockout. Attempts refused while locked out do not: they are not
# checked, and counting them would let anyone keep a user locked out for ever.
COUNTED_FAILURES = frozenset({LoginOutcome.UNKNOWN_USER, LoginOutcome.WRONG_PASSWORD, LoginOutcome.DISABLED})


class LoginRefusal(StrEnum):
    """What the caller is told. An unknown login and a wrong password are the same refusal on purpose."""

    INVALID_CREDENTIALS = "invalid_credentials"
    DISABLED = "disabled"
    LOCKED_OUT = "locked_out"


REFUSALS: Mapping[LoginOutcome, LoginRefusal] = MappingProxyType(
    {
        LoginOutcome.UNKNOWN_USER: LoginRefusal.INVALID_CREDENTIALS,
        LoginOutcome.WRONG_PASSWORD: LoginRefusal.INVALID_CREDENTIALS,
        LoginOutcome.DISABLED: LoginRefusal.DISABLED,
        LoginOutcome.LOCKED_OUT: LoginRefusal.LOCKED_OUT,
    }
)

# The dashboard's words for each refusal.
REFUSAL_MESSAGES: Mapping[LoginRefusal, str] = MappingProxyType(
    {
        LoginRefusal.INVALID_CREDENTIALS: "Неверный логин или пароль.",
        LoginRefusal.DISABLED: "Учётная запись отключена. Обратитесь к руководителю.",
        LoginRefusal.LOCKED_OUT: "Слишком много неудачных попыток входа. Вход временно заблокирован.",
    }
)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """``max_failures`` counted failures for one login within ``window`` refuse it for ``lockout``."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window <= timedelta(0) or self.lockout <= timedelta(0):
            raise ValueError("ThrottlePolicy: max_failures, window and lockout must be positive")

    @property
    def lookback(self) -> timedelta:
        """How far back attempts can matter now: a lockout still running began within ``lockout``, and
        the failures that started it within ``window`` before that."""
        return self.window + self.lockout


@dataclass(frozen=True, slots=True)
class PastAttempt:
    at: datetime
    outcome: LoginOutcome


def locked_until(attempts: Iterable[PastAttempt], now: datetime, policy: ThrottlePolicy) -> datetime | None:
    """The end of the lockout running at ``now`` for the login these attempts were made with, or None.

    Replayed in time order: a success starts the count again; the ``max_failures``-th counted failure
    within ``window`` starts a lockout of ``lockout`` and, once that is over, the count starts from zero.
    Attempts after ``now`` are ignored.
    """
    recent: deque[datetime] = deque()
    until: datetime | None = None
    for attempt in sorted(attempts, key=lambda a: a.at):
        if attempt.at > now:
            break
        if until is not None and attempt.at < until:
            continue  # refused unchecked while locked out
        if attempt.outcome is LoginOutcome.OK:
            recent.clear()
            continue
        if attempt.outcome not in COUNTED_FAILURES:
            continue
        recent.append(attempt.at)
        while attempt.at - recent[0] > policy.window:
            recent.popleft()
        if len(recent) >= policy.max_failures:
            until = attempt.at + policy.lockout
            recent.clear()
    return until if until is not None and now < until else None


# ---- sessions ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """A session ends ``idle`` after its last request, and ``max_age`` after the login at the latest."""

    idle: timedelta = timedelta(minutes=60)
    max_age: timedelta = timedelta(hours=12)

    def __post_init__(self) -> None:
        if self.idle <= timedelta(0) or self.max_age <= timedelta(0):
            raise ValueError("SessionPolicy: idle and max_age must be positive")


class SessionRefusal(StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"  # logged out, or the password was changed
    DISABLED = "disabled"


SESSION_MESSAGES: Mapping[SessionRefusal, str] = MappingProxyType(
    {
        SessionRefusal.UNKNOWN: "Войдите в систему.",
        SessionRefusal.EXPIRED: "Сеанс истёк. Войдите снова.",
        SessionRefusal.REVOKED: "Сеанс завершён. Войдите снова.",
        SessionRefusal.DISABLED: "Учётная запись отключена. Обратитесь к руководителю.",
    }
)


def session_ends_at(created_at: datetime, last_seen_at: datetime, policy: SessionPolicy) -> datetime:
    """When a session created and last used at these times ends, unless it is used again before."""
    return min(last_seen_at + policy.idle, created_at + policy.max_age)


def session_alive(created_at: datetime, last_seen_at: datetime, now: datetime, policy: SessionPolicy) -> bool:
    return now < session_ends_at(created_at, last_seen_at, policy)
