"""The pure access rules: roles, login throttling over time, session expiry, password policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from access.rules import (
    GRANTS,
    LoginOutcome,
    PasswordPolicy,
    PastAttempt,
    Permission,
    Role,
    SessionPolicy,
    ThrottlePolicy,
    can,
    locked_until,
    normalise_login,
    parse_role,
    password_problem,
    session_alive,
    session_ends_at,
)

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
POLICY = ThrottlePolicy(max_failures=5, window=15 * MIN, lockout=15 * MIN)
WRONG = LoginOutcome.WRONG_PASSWORD


def failures(*minutes: float, outcome: LoginOutcome = WRONG) -> list[PastAttempt]:
    return [PastAttempt(T0 + m * MIN, outcome) for m in minutes]


# ---- roles -----------------------------------------------------------------------------------------------

P = Permission


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.SUPERVISOR, {P.VIEW, P.CALL, P.EDIT_DEBTORS, P.EXPORT, P.ADMIN_USERS}),
        (Role.OPERATOR, {P.VIEW, P.CALL, P.EDIT_DEBTORS}),
        (Role.VIEWER, {P.VIEW}),
    ],
)
def test_what_each_role_may_do(role: Role, allowed: set[Permission]) -> None:
    assert {p for p in Permission if can(role, p)} == allowed
    assert {p for p in Permission if can(role.value, p)} == allowed, "the stored string works too"


def test_only_the_supervisor_administers_users() -> None:
    assert [r for r in Role if can(r, Permission.ADMIN_USERS)] == [Role.SUPERVISOR]


def test_every_role_has_grants_and_unknown_roles_may_do_nothing() -> None:
    assert set(GRANTS) == set(Role)
    assert not any(can("admin", p) for p in Permission)
    assert not any(can("", p) for p in Permission)


def test_parse_role() -> None:
    assert parse_role(" Operator ") is Role.OPERATOR
    with pytest.raises(
        ValueError, match=r"unknown role 'boss': expected one of supervisor, operator, viewer"
    ):
        parse_role("boss")


@pytest.mark.parametrize(
    ("text", "login"),
    [("Anna", "anna"), ("  petrova.a ", "petrova.a"), ("ПЕТРОВА", "петрова"), ("a@uk-1.ru", "a@uk-1.ru")],
)
def test_logins_are_trimmed_and_case_folded(text: str, login: str) -> None:
    assert normalise_login(text) == login


@pytest.mark.parametrize("text", ["", "   ", "anna petrova", "a;drop", "x" * 101, "a\nb"])
def test_bad_logins(text: str) -> None:
    with pytest.raises(ValueError, match="invalid login"):
        normalise_login(text)


# ---- passwords -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "too short: it needs at least 10 characters (this one has 5)"),
        ("x" * 300, "too long"),
        (" " * 12, "only spaces"),
        ("Anna.Petrova", "must not be the login"),
        ("aaaaaaaaaaaa", "one character repeated"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, problem: str) -> None:
    found = password_problem(password, "anna.petrova", PasswordPolicy(min_length=10))
    assert found is not None and problem in found


def test_good_password_and_configured_length() -> None:
    assert password_problem("correct horse battery", "anna", PasswordPolicy()) is None
    assert password_problem("twelve-chars", "anna", PasswordPolicy(min_length=12)) is None
    assert password_problem("eleven-char", "anna", PasswordPolicy(min_length=12)) is not None


# ---- throttling ------------------------------------------------------------------------------------------


def test_four_failures_do_not_lock() -> None:
    assert locked_until(failures(0, 1, 2, 3), T0 + 4 * MIN, POLICY) is None


def test_the_fifth_failure_within_the_window_locks_for_the_lockout() -> None:
    attempts = failures(0, 1, 2, 3, 4)
    until = T0 + 4 * MIN + 15 * MIN
    assert locked_until(attempts, T0 + 4 * MIN, POLICY) == until
    assert locked_until(attempts, until - timedelta(seconds=1), POLICY) == until
    assert locked_until(attempts, until, POLICY) is None, "released exactly at the end"


def test_failures_spread_wider_than_the_window_do_not_lock() -> None:
    assert locked_until(failures(0, 4, 8, 12, 16), T0 + 16 * MIN, POLICY) is None
    # ... but 15 minutes apart, first to fifth, is still within the window.
    assert locked_until(failures(0, 4, 8, 12, 15), T0 + 15 * MIN, POLICY) == T0 + 30 * MIN


def test_a_success_starts_the_count_again() -> None:
    attempts = [*failures(0, 1, 2, 3), *failures(4, outcome=LoginOutcome.OK), *failures(5)]
    assert locked_until(attempts, T0 + 5 * MIN, POLICY) is None


def test_unknown_user_and_disabled_count_like_wrong_passwords() -> None:
    attempts = [
        *failures(0, 1, outcome=LoginOutcome.UNKNOWN_USER),
        *failures(2, 3, outcome=LoginOutcome.DISABLED),
        *failures(4),
    ]
    assert locked_until(attempts, T0 + 4 * MIN, POLICY) == T0 + 19 * MIN


def test_attempts_refused_while_locked_out_do_not_extend_the_lockout() -> None:
    attempts = [*failures(0, 1, 2, 3, 4), *failures(10, 18, outcome=LoginOutcome.LOCKED_OUT)]
    assert locked_until(attempts, T0 + 18 * MIN, POLICY) == T0 + 19 * MIN
    assert locked_until(attempts, T0 + 19 * MIN, POLICY) is None


def test_after_a_lockout_the_count_starts_from_zero() -> None:
    attempts = [*failures(0, 1, 2, 3, 4), *failures(19, 20, 21, 22)]
    assert locked_until(attempts, T0 + 22 * MIN, POLICY) is None, "four fresh failures: not yet"
    attempts = [*attempts, *failures(23)]
    assert locked_until(attempts, T0 + 23 * MIN, POLICY) == T0 + 38 * MIN


def test_a_lockout_starts_a_fresh_count_even_when_the_window_is_longer() -> None:
    long_window = ThrottlePolicy(max_failures=5, window=60 * MIN, lockout=5 * MIN)
    attempts = [*failures(0, 1, 2, 3, 4), *failures(10)]
    assert locked_until(attempts, T0 + 10 * MIN, long_window) is None, "one failure after the lockout"


def test_failures_recorded_during_a_lockout_are_ignored() -> None:
    # E.g. concurrent requests checked just before the lockout was recorded.
    attempts = failures(0, 1, 2, 3, 4, 5, 6, 7, 8)
    assert locked_until(attempts, T0 + 8 * MIN, POLICY) == T0 + 19 * MIN, "not extended"
    assert locked_until([*attempts, *failures(19)], T0 + 19 * MIN, POLICY) is None, "nor counted after"


def test_attempts_after_now_are_ignored_and_order_does_not_matter() -> None:
    attempts = failures(4, 3, 2, 1, 0)
    assert locked_until(attempts, T0 + 3 * MIN, POLICY) is None
    assert locked_until(attempts, T0 + 4 * MIN, POLICY) == T0 + 19 * MIN


def test_the_policy_is_configurable() -> None:
    strict = ThrottlePolicy(max_failures=2, window=MIN, lockout=60 * MIN)
    assert locked_until(failures(0, 0.5), T0 + MIN, strict) == T0 + 60.5 * MIN
    assert locked_until(failures(0, 2), T0 + 2 * MIN, strict) is None
    assert strict.lookback == 61 * MIN


@pytest.mark.parametrize(
    ("max_failures", "window", "lockout"), [(0, MIN, MIN), (1, timedelta(0), MIN), (1, MIN, -MIN)]
)
def test_nonsense_throttle_policies_are_refused(
    max_failures: int, window: timedelta, lockout: timedelta
) -> None:
    with pytest.raises(ValueError, match="positive"):
        ThrottlePolicy(max_failures, window, lockout)


# ---- sessions --------------------------------------------------------------------------------------------

SESSIONS = SessionPolicy(idle=60 * MIN, max_age=timedelta(hours=12))


def test_a_session_ends_after_the_idle_timeout() -> None:
    assert session_ends_at(T0, T0, SESSIONS) == T0 + 60 * MIN
    assert session_alive(T0, T0, T0 + 59 * MIN, SESSIONS)
    assert not session_alive(T0, T0, T0 + 60 * MIN, SESSIONS)


def test_use_keeps_a_session_alive_until_its_absolute_lifetime() -> None:
    last_seen = T0 + timedelta(hours=11, minutes=50)
    assert session_ends_at(T0, last_seen, SESSIONS) == T0 + timedelta(hours=12)
    assert session_alive(T0, last_seen, T0 + timedelta(hours=11, minutes=59), SESSIONS)
    assert not session_alive(T0, last_seen, T0 + timedelta(hours=12), SESSIONS)


def test_nonsense_session_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        SessionPolicy(idle=timedelta(0))
