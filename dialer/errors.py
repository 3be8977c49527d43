"""Errors the user can act on. The docstring is the default message; the CLI prints one line, no traceback."""

from __future__ import annotations


class UpravDolgError(Exception):
    """UpravDolg failed."""

    exit_code = 1

    def __init__(self, message: str | None = None, *, hint: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip()
        self.hint = hint
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ConfigError(UpravDolgError):
    """The configuration is invalid."""

    exit_code = 2


class NotRootError(UpravDolgError):
    """This command needs root (it builds and runs a chroot)."""

    exit_code = 3


class SandboxError(UpravDolgError):
    """The Asterisk sandbox could not be brought up."""

    exit_code = 4


class AmiConnectError(UpravDolgError):
    """Cannot reach the Asterisk Manager Interface."""

    exit_code = 5


class AmiAuthError(UpravDolgError):
    """Asterisk refused the AMI login."""

    exit_code = 6


class AmiTimeoutError(UpravDolgError):
    """Asterisk did not answer an AMI action in time."""

    exit_code = 7


class DatabaseError(UpravDolgError):
    """The database is not usable."""

    exit_code = 8


class ListenError(UpravDolgError):
    """A port the dialer serves on is taken or not allowed."""

    exit_code = 9
