"""A campaign's definition: what the TOML file (and the dashboard's form) says, validated once, here.

```toml
name = "Ноябрь 2026"
trunk = "sim"                      # a [[trunks]] group or trunk (docs/scale-out.md); without [[trunks]]:
                                   # "sim" = the simulated-debtor context, else a PJSIP endpoint name
max_channels = 10                  # concurrent calls, never exceeded (all workers together)
calls_per_second = 2.0             # originate rate, never exceeded (fractions allowed)
dial_timeout = "30s"
[select]                           # which debtors: all keys optional
min_debt = 1000.0
min_months = 2
districts = ["Ленинский"]
ownership = ["частная"]
[window]                           # the debtor's local time
weekdays = "08:00-22:00"
weekends = "09:00-20:00"           # Russian public holidays count as weekends
[retry]                            # delays per outcome; the list's length is the attempt limit
busy = ["10m", "30m", "2h"]
no_answer = ["1h", "4h"]
congestion = ["5m", "30m"]
partial = ["4h", "1d"]             # answered but did not hear the whole message
[backoff]
heard_full = "7d"                  # heard the whole message: no calls for this long
```

Errors name the file, the key and what was expected.
"""

from __future__ import annotations

import json
import tomllib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dialer.core.call_window import CallWindow, DailySpan, WindowError
from dialer.core.durations import DurationError, parse_duration
from dialer.core.retry_policy import RetryPolicy
from dialer.errors import UpravDolgError

MAX_CHANNELS_LIMIT = 1000
MAX_CPS_LIMIT = 200.0


class CampaignError(UpravDolgError):
    """The campaign cannot be used as given."""

    exit_code = 11


def _duration(value: str) -> str:
    try:
        parse_duration(value)
    except DurationError as exc:
        raise ValueError(str(exc)) from None
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SelectSpec(_Strict):
    min_debt: Decimal | None = Field(default=None, ge=0)
    min_months: int | None = Field(default=None, ge=0, le=1200)
    districts: tuple[str, ...] = ()
    ownership: tuple[str, ...] = ()


class WindowSpec(_Strict):
    weekdays: str = "08:00-22:00"
    weekends: str = "09:00-20:00"

    @field_validator("weekdays", "weekends")
    @classmethod
    def _span(cls, value: str) -> str:
        try:
            DailySpan.parse(value)
        except WindowError as exc:
            raise ValueError(str(exc)) from None
        return value


class RetrySpec(_Strict):
    busy: tuple[str, ...] = ("10m", "30m", "2h")
    no_answer: tuple[str, ...] = ("1h", "4h")
    congestion: tuple[str, ...] = ("5m", "30m")
    partial: tuple[str, ...] = ("4h", "1d")

    @field_validator("busy", "no_answer", "congestion", "partial")
    @classmethod
    def _delays(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_duration(v) for v in values)


class BackoffSpec(_Strict):
    heard_full: str = "7d"

    @field_validator("heard_full")
    @classmethod
    def _pause(cls, value: str) -> str:
        return _duration(value)


class CampaignSpec(_Strict):
    name: str = Field(min_length=1, max_length=200)
    trunk: str = Field(default="sim", pattern=r"^[A-Za-z0-9_.-]{1,80}$")
    max_channels: int = Field(default=10, ge=1, le=MAX_CHANNELS_LIMIT)
    calls_per_second: float = Field(default=2.0, gt=0, le=MAX_CPS_LIMIT)
    dial_timeout: str = "30s"
    select: SelectSpec = SelectSpec()
    window: WindowSpec = WindowSpec()
    retry: RetrySpec = RetrySpec()
    backoff: BackoffSpec = BackoffSpec()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the name cannot be blank")
        return value.strip()

    @field_validator("dial_timeout")
    @classmethod
    def _dial_timeout(cls, value: str) -> str:
        seconds = parse_duration(_duration(value)).total_seconds()
        if not 5 <= seconds <= 300:
            raise ValueError(f"the dial timeout must be between 5s and 5m, got {value!r}")
        return value

    @property
    def dial_timeout_seconds(self) -> float:
        return parse_duration(self.dial_timeout).total_seconds()

    @property
    def heard_full_pause(self) -> timedelta:
        return parse_duration(self.backoff.heard_full)

    def retry_policy(self) -> RetryPolicy:
        retry = self.retry
        return RetryPolicy.of(
            {
                "busy": retry.busy,
                "no_answer": retry.no_answer,
                "congestion": retry.congestion,
                "partial": retry.partial,
            },
            self.backoff.heard_full,
        )

    def call_window(self) -> CallWindow:
        return CallWindow.of(self.window.weekdays, self.window.weekends)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CampaignSpec:
        return cls.model_validate(json.loads(text))


def describe_errors(exc: ValidationError) -> list[str]:
    """One line per problem: ``key.path: what was expected (got value)``."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(file)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (the keys are listed in docs/campaigns.md)"
        elif error["type"] == "missing":
            message = "required"
        value = error.get("input")
        shown = (
            ""
            if error["type"] in {"missing", "extra_forbidden"} or isinstance(value, dict) or "got " in message
            else f" (got {value!r})"
        )
        lines.append(f"{where}: {message}{shown}")
    return lines


def parse_spec(data: dict[str, Any], *, source: str) -> CampaignSpec:
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as exc:
        problems = describe_errors(exc)
        raise CampaignError(f"{source}: " + "; ".join(problems)) from None


def load_spec(path: Path) -> CampaignSpec:
    """Read and validate a campaign file. Raises :class:`CampaignError` naming the file and the keys."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CampaignError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CampaignError(f"{path}: not UTF-8 text", hint="save the campaign file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"{path}: not valid TOML ({exc})") from None
    return parse_spec(data, source=str(path))
