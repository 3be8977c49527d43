"""Users, logins and sessions over a real database (SQLite and PostgreSQL), and `upravdolg users`."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from access.accounts import AccessError, AccessRules, Accounts, SessionCheck, token_digest
from access.rules import (
    LoginOutcome,
    LoginRefusal,
    PasswordPolicy,
    Permission,
    Role,
    SessionPolicy,
    SessionRefusal,
    ThrottlePolicy,
)
from db.models import LoginAttempt, User, UserSession
from dialer.bootstrap import Storage, access_rules
from dialer.cli import main
from dialer.settings import Settings, load_settings

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
PASSWORD = "correct horse battery"
RULES = AccessRules(
    throttle=ThrottlePolicy(max_failures=3, window=10 * MIN, lockout=15 * MIN),
    sessions=SessionPolicy(idle=30 * MIN, max_age=timedelta(hours=2)),
    passwords=PasswordPolicy(min_length=10),
)
# Cheap argon2id parameters keep the suite fast; production uses PasswordHasher()'s defaults.
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def accounts(storage: Storage) -> Accounts:
    return Accounts(storage.sessions, storage.organisation_id, RULES, FAST)


def stored_user(storage: Storage, login: str) -> User:
    with storage.sessions() as session:
        return session.scalars(select(User).where(User.login == login)).one()


def attempts(storage: Storage) -> list[tuple[str, bool, str, str]]:
    with storage.sessions() as session:
        rows = session.scalars(select(LoginAttempt).order_by(LoginAttempt.id))
        return [(r.login, r.succeeded, r.outcome, r.source) for r in rows]


# ---- users and passwords ---------------------------------------------------------------------------------


def test_add_and_authenticate(accounts: Accounts, storage: Storage) -> None:
    added = accounts.add_user("Anna", PASSWORD, "operator", T0, full_name="Петрова Анна Сергеевна")
    assert (added.login, added.role, added.full_name) == ("anna", Role.OPERATOR, "Петрова Анна Сергеевна")
    result = accounts.authenticate(" ANNA ", PASSWORD, T0 + MIN, "dashboard")
    assert result.ok and result.refusal is None and result.user is not None
    assert result.user.id == added.id
    assert result.user.can(Permission.CALL) and not result.user.can(Permission.ADMIN_USERS)
    assert attempts(storage) == [("anna", True, "ok", "dashboard")]


def test_passwords_are_stored_only_as_salted_argon2_hashes(accounts: Accounts, storage: Storage) -> None:
    accounts.add_user("anna", PASSWORD, Role.VIEWER, T0)
    accounts.add_user("boris", PASSWORD, Role.VIEWER, T0)
    anna, boris = stored_user(storage, "anna"), stored_user(storage, "boris")
    for user in (anna, boris):
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert "correct" not in user.password_hash
    assert anna.password_hash != boris.password_hash, "same password, different salts"


def test_wrong_password_and_unknown_user_look_the_same_but_are_recorded_apart(
    accounts: Accounts, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    accounts.add_user("anna", PASSWORD, Role.VIEWER, T0)
    caplog.set_level(logging.INFO, logger="access")
    wrong = accounts.authenticate("anna", "not the password", T0, "10.0.0.7")
    unknown = accounts.authenticate("nobody", PASSWORD, T0, "10.0.0.7")
    assert not wrong.ok and not unknown.ok
    assert wrong == unknown, "the caller cannot tell them apart"
    assert wrong.refusal is LoginRefusal.INVALID_CREDENTIALS
    assert attempts(storage) == [
        ("anna", False, "wrong_password", "10.0.0.7"),
        ("nobody", False, "unknown_user", "10.0.0.7"),
    ]
    outcomes = [getattr(r, "outcome", None) for r in caplog.records]
    assert outcomes == ["wrong_password", "unknown_user"]
    assert all(r.levelno == logging.WARNING for r in caplog.records)
    assert "10.0.0.7" in caplog.text
    assert PASSWORD not in caplog.text and "not the password" not in caplog.text


def test_an_invalid_login_is_refused_and_recorded(accounts: Accounts, storage: Storage) -> None:
    result = accounts.authenticate("anna petrova; --", PASSWORD, T0, "dashboard")
    assert result.refusal is LoginRefusal.INVALID_CREDENTIALS
    assert attempts(storage) == [("anna petrova; --", False, "unknown_user", "dashboard")]


def test_duplicate_login_weak_password_unknown_role(accounts: Accounts) -> None:
    accounts.add_user("anna", PASSWORD, Role.VIEWER, T0)
    with pytest.raises(AccessError, match="a user with login 'anna' already exists"):
        accounts.add_user("ANNA", PASSWORD, Role.OPERATOR, T0)
    with pytest.raises(AccessError, match="a user with login 'anna' already exists"):
        accounts.check_new_user("Anna", "viewer")
    with pytest.raises(AccessError, match="too short: it needs at least 10 characters"):
        accounts.add_user("boris", "short", Role.VIEWER, T0)
    with pytest.raises(AccessError, match="unknown role 'admin'"):
        accounts.add_user("boris", PASSWORD, "admin", T0)
    assert [u.login for u in accounts.list_users()] == ["anna"]


def test_set_password_replaces_the_old_one_and_ends_sessions(accounts: Accounts, storage: Storage) -> None:
    user = accounts.add_user("anna", PASSWORD, Role.SUPERVISOR, T0)
    token = accounts.create_session(user.id, T0)
    changed = accounts.set_password("anna", "another long passphrase", T0 + MIN)
    assert changed.password_changed_at == T0 + MIN
    assert not accounts.authenticate("anna", PASSWORD, T0 + 2 * MIN, "cli").ok
    assert accounts.authenticate("anna", "another long passphrase", T0 + 3 * MIN, "cli").ok
    assert accounts.resolve_session(token, T0 + 4 * MIN).refusal is SessionRefusal.REVOKED
    with pytest.raises(AccessError, match="no user with login 'nobody'"):
        accounts.set_password("nobody", PASSWORD, T0)
    with pytest.raises(AccessError, match="too short"):
        accounts.set_password("anna", "short", T0)


def test_a_disabled_user_cannot_log_in(accounts: Accounts, storage: Storage) -> None:
    accounts.add_user("anna", PASSWORD, Role.OPERATOR, T0)
    user, changed = accounts.disable_user("anna", T0 + MIN)
    assert changed and user.disabled_at == T0 + MIN and not user.can(Permission.VIEW)
    assert accounts.disable_user("anna", T0 + 2 * MIN) == (user, False), "disabling again changes nothing"
    right = accounts.authenticate("anna", PASSWORD, T0 + 3 * MIN, "dashboard")
    wrong = accounts.authenticate("anna", "not the password", T0 + 3 * MIN, "dashboard")
    assert (right.ok, right.refusal) == (False, LoginRefusal.DISABLED)
    assert wrong.refusal is LoginRefusal.INVALID_CREDENTIALS, "only the right password learns it is disabled"
    assert [a[2] for a in attempts(storage)] == ["disabled", "wrong_password"]
    assert [u.active for u in accounts.list_users()] == [False]


def test_an_outdated_hash_is_upgraded_at_login(storage: Storage) -> None:
    weak = Accounts(storage.sessions, storage.organisation_id, RULES, FAST)
    weak.add_user("anna", PASSWORD, Role.VIEWER, T0)
    before = stored_user(storage, "anna").password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    assert (
        Accounts(storage.sessions, storage.organisation_id, RULES, stronger)
        .authenticate("anna", PASSWORD, T0, "cli")
        .ok
    )
    after = stored_user(storage, "anna").password_hash
    assert after != before and not stronger.check_needs_rehash(after)
    assert "m=2048,t=2" in after and stronger.verify(after, PASSWORD)


# ---- throttling ------------------------------------------------------------------------------------------


def test_lockout_after_repeated_failures_and_release_after_the_window(
    accounts: Accounts, storage: Storage
) -> None:
    accounts.add_user("anna", PASSWORD, Role.VIEWER, T0)
    first = accounts.authenticate("anna", "guess 1 guess 1", T0, "10.0.0.9")
    second = accounts.authenticate("anna", "guess 2 guess 2", T0 + MIN, "10.0.0.9")
    assert first.locked_until is None and second.locked_until is None
    third = accounts.authenticate("anna", "guess 3 guess 3", T0 + 2 * MIN, "10.0.0.9")
    until = T0 + 2 * MIN + 15 * MIN
    assert third.refusal is LoginRefusal.INVALID_CREDENTIALS and third.locked_until == until

    # Locked: even the right password is refused, unchecked, and that does not extend the lockout.
    locked = accounts.authenticate("anna", PASSWORD, until - timedelta(seconds=1), "dashboard")
    assert (locked.ok, locked.refusal, locked.locked_until) == (False, LoginRefusal.LOCKED_OUT, until)
    assert [a[2] for a in attempts(storage)][-1] == "locked_out"

    released = accounts.authenticate("anna", PASSWORD, until, "dashboard")
    assert released.ok, "the lockout ends after lockout_minutes"


def test_lockout_is_per_login_and_unknown_logins_are_throttled_too(accounts: Accounts) -> None:
    accounts.add_user("anna", PASSWORD, Role.VIEWER, T0)
    for i in range(3):
        accounts.authenticate("ghost", "whatever it is", T0 + i * MIN, "10.0.0.9")
    assert accounts.authenticate("ghost", "whatever it is", T0 + 3 * MIN, "x").refusal is (
        LoginRefusal.LOCKED_OUT
    ), "a lockout does not reveal whether the user exists"
    assert accounts.authenticate("anna", PASSWORD, T0 + 3 * MIN, "x").ok, "another login is not affected"


def test_failures_spread_beyond_the_window_and_a_success_do_not_lock(accounts: Accounts) -> None:
    accounts.add_user("anna", PASSWORD, Role.VIEWER, T0)
    for minute in (0, 6, 12):  # first to third: 12 minutes apart, window 10
        accounts.authenticate("anna", "not it, not it", T0 + minute * MIN, "x")
    assert accounts.authenticate("anna", PASSWORD, T0 + 13 * MIN, "x").ok
    for minute in (14, 15):
        accounts.authenticate("anna", "not it, not it", T0 + minute * MIN, "x")
    assert accounts.authenticate("anna", PASSWORD, T0 + 16 * MIN, "x").ok, "the success reset the count"


def test_the_policies_come_from_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no upravdolg.toml
    rules = access_rules(load_settings(environ={}))
    assert rules.throttle == ThrottlePolicy(5, 15 * MIN, 15 * MIN)
    assert rules.sessions == SessionPolicy(60 * MIN, timedelta(hours=12))
    assert rules.passwords.min_length == 10
    env = {
        "UPRAVDOLG_DASHBOARD_MAX_FAILED_LOGINS": "3",
        "UPRAVDOLG_DASHBOARD_FAILED_LOGIN_WINDOW_MINUTES": "5",
        "UPRAVDOLG_DASHBOARD_LOCKOUT_MINUTES": "30",
        "UPRAVDOLG_DASHBOARD_SESSION_IDLE_MINUTES": "20",
        "UPRAVDOLG_DASHBOARD_SESSION_MAX_HOURS": "8",
        "UPRAVDOLG_DASHBOARD_MIN_PASSWORD_LENGTH": "14",
    }
    rules = access_rules(load_settings(environ=env))
    assert rules.throttle == ThrottlePolicy(3, 5 * MIN, 30 * MIN)
    assert rules.sessions == SessionPolicy(20 * MIN, timedelta(hours=8))
    assert rules.passwords.min_length == 14


# ---- sessions --------------------------------------------------------------------------------------------


def test_sessions_store_only_the_token_digest(accounts: Accounts, storage: Storage) -> None:
    user = accounts.add_user("anna", PASSWORD, Role.SUPERVISOR, T0)
    token = accounts.create_session(user.id, T0, source="10.0.0.7")
    assert len(token) >= 40
    with storage.sessions() as session:
        (row,) = session.scalars(select(UserSession)).all()
        assert row.id == token_digest(token) != token
        assert (row.created_at, row.expires_at, row.source) == (T0, T0 + timedelta(hours=2), "10.0.0.7")
    check = accounts.resolve_session(token, T0 + MIN)
    assert check.user is not None and check.user.login == "anna" and check.refusal is None
    assert accounts.resolve_session(token + "x", T0 + MIN).refusal is SessionRefusal.UNKNOWN
    assert accounts.resolve_session("", T0 + MIN).refusal is SessionRefusal.UNKNOWN


def test_an_idle_session_expires_and_use_keeps_it_alive(accounts: Accounts) -> None:
    user = accounts.add_user("anna", PASSWORD, Role.VIEWER, T0)
    busy = accounts.create_session(user.id, T0)
    idle = accounts.create_session(user.id, T0)
    assert accounts.resolve_session(busy, T0 + 29 * MIN).user is not None
    assert accounts.resolve_session(busy, T0 + 58 * MIN).user is not None, "last use refreshed the idle clock"
    assert accounts.resolve_session(idle, T0 + 30 * MIN).refusal is SessionRefusal.EXPIRED
    assert accounts.resolve_session(busy, T0 + 88 * MIN).refusal is SessionRefusal.EXPIRED


def test_an_automatic_refresh_does_not_keep_an_idle_session_alive(accounts: Accounts) -> None:
    user = accounts.add_user("anna", PASSWORD, Role.VIEWER, T0)
    token = accounts.create_session(user.id, T0)
    for minute in (10, 20, 29):  # the calling panel refreshing itself on an unattended screen
        assert accounts.resolve_session(token, T0 + minute * MIN, touch=False).user is not None
    assert accounts.resolve_session(token, T0 + 30 * MIN, touch=False).refusal is SessionRefusal.EXPIRED


def test_a_session_ends_at_its_absolute_lifetime_however_busy(accounts: Accounts) -> None:
    user = accounts.add_user("anna", PASSWORD, Role.VIEWER, T0)
    token = accounts.create_session(user.id, T0)
    now = T0
    while now < T0 + timedelta(hours=2) - 20 * MIN:
        now += 20 * MIN
        assert accounts.resolve_session(token, now).user is not None
    assert accounts.resolve_session(token, T0 + timedelta(hours=2)).refusal is SessionRefusal.EXPIRED


def test_logout_and_disable_end_sessions(accounts: Accounts) -> None:
    anna = accounts.add_user("anna", PASSWORD, Role.VIEWER, T0)
    boris = accounts.add_user("boris", PASSWORD, Role.VIEWER, T0)
    a_token, b_token = accounts.create_session(anna.id, T0), accounts.create_session(boris.id, T0)
    assert accounts.revoke_session(a_token, T0 + MIN)
    assert not accounts.revoke_session(a_token, T0 + MIN), "already ended"
    assert accounts.resolve_session(a_token, T0 + 2 * MIN).refusal is SessionRefusal.REVOKED
    accounts.disable_user("boris", T0 + 2 * MIN)
    assert accounts.resolve_session(b_token, T0 + 3 * MIN) == SessionCheck(None, SessionRefusal.DISABLED)
    with pytest.raises(AccessError, match="disabled"):
        accounts.create_session(boris.id, T0 + 3 * MIN)


# ---- the command line ------------------------------------------------------------------------------------


def run(settings: Settings, *args: str) -> int:
    return main(["--database-url", settings.database.url, "--set", "log.level=ERROR", "users", *args])


def test_cli_add_list_passwd_disable(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UPRAVDOLG_NEW_PASSWORD", PASSWORD)
    assert run(settings, "add", "Anna", "--role", "supervisor", "--name", "Петрова Анна Сергеевна") == 0
    assert "user 'anna' added: supervisor (Руководитель)" in capsys.readouterr().out
    assert run(settings, "add", "boris", "--role", "viewer") == 0
    capsys.readouterr()

    assert run(settings, "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["login"], u["role"], u["active"]) for u in listed] == [
        ("anna", "supervisor", True),
        ("boris", "viewer", True),
    ]
    assert listed[0]["full_name"] == "Петрова Анна Сергеевна"
    assert all("hash" not in key for key in listed[0])

    monkeypatch.setenv("UPRAVDOLG_NEW_PASSWORD", "a brand new passphrase")
    assert run(settings, "passwd", "boris") == 0
    assert "password of 'boris' changed" in capsys.readouterr().out
    assert run(settings, "disable", "boris") == 0
    assert "user 'boris' disabled" in capsys.readouterr().out
    assert run(settings, "disable", "boris") == 0
    assert "already disabled" in capsys.readouterr().out

    assert run(settings, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["anna", "supervisor", "active"]
    assert lines[1].split()[:3] == ["boris", "viewer", "disabled"]

    # What the CLI stored is what the service logs in with.
    from dialer.bootstrap import make_accounts, open_storage

    with open_storage(settings) as storage:
        accounts = make_accounts(settings, storage)
        assert accounts.authenticate("anna", PASSWORD, T0, "test").ok
        assert accounts.authenticate("boris", "a brand new passphrase", T0, "test").refusal is (
            LoginRefusal.DISABLED
        )


@pytest.mark.parametrize(
    "case",
    [
        (("add", "anna", "--role", "boss"), PASSWORD, "unknown role 'boss': expected one of supervisor"),
        (("add", "bad login", "--role", "viewer"), PASSWORD, "invalid login 'bad login'"),
        (("add", "boris", "--role", "viewer"), "k9-q", "the password is too short"),
        (("add", "anna", "--role", "viewer"), PASSWORD, "a user with login 'anna' already exists"),
        (("passwd", "nobody"), PASSWORD, "no user with login 'nobody'"),
        (("passwd", "anna"), "z7x!w", "the password is too short"),
        (("disable", "nobody"), PASSWORD, "no user with login 'nobody'"),
    ],
)
def test_cli_errors_are_one_clear_line(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: tuple[tuple[str, ...], str, str],
) -> None:
    args, password, message = case
    monkeypatch.setenv("UPRAVDOLG_NEW_PASSWORD", PASSWORD)
    assert run(settings, "add", "anna", "--role", "operator") == 0
    capsys.readouterr()
    monkeypatch.setenv("UPRAVDOLG_NEW_PASSWORD", password)
    assert run(settings, *args) == AccessError.exit_code
    err = capsys.readouterr().err
    assert err.startswith("upravdolg: error: ") and message in err
    assert "Traceback" not in err and password not in err


def test_cli_asks_twice_when_no_password_is_given(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("UPRAVDOLG_NEW_PASSWORD", raising=False)
    typed = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": next(typed))
    assert run(settings, "add", "anna", "--role", "viewer") == AccessError.exit_code
    assert "the two passwords differ" in capsys.readouterr().err
    typed = iter([PASSWORD, PASSWORD])
    assert run(settings, "add", "anna", "--role", "viewer") == 0
    assert run(settings, "list") == 0
    assert "anna" in capsys.readouterr().out


def test_cli_checks_the_role_before_asking_for_a_password(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("UPRAVDOLG_NEW_PASSWORD", raising=False)

    def no_prompt(_prompt: str = "") -> str:
        raise AssertionError("asked for a password")

    monkeypatch.setattr("getpass.getpass", no_prompt)
    assert run(settings, "add", "anna", "--role", "boss") == AccessError.exit_code
    assert "unknown role" in capsys.readouterr().err
    assert run(settings, "passwd", "nobody") == AccessError.exit_code


def test_cli_list_without_users(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(settings, "list") == 0
    assert "no users yet" in capsys.readouterr().out


def test_login_outcomes_are_the_stored_values() -> None:
    assert {o.value for o in LoginOutcome} == {
        "ok",
        "unknown_user",
        "wrong_password",
        "disabled",
        "locked_out",
    }
