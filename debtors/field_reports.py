"""What a courier's phone reports (a delivery, a position), checked before anything is stored.

Pure: the caller passes the clock. Every problem names the field and what was expected, and all of a
report's problems are given at once (:class:`InvalidReport`), so the phone's page can show them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from debtors.field_rules import DeliveryMethod
from dialer.errors import UpravDolgError

CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_TRIES = 20
MAX_NOTE = 500


class FieldError(UpravDolgError):
    """The request cannot be done."""

    http_status = 400
    error_id = "bad_request"


class NotFound(FieldError):
    """No such record."""

    http_status = 404
    error_id = "not_found"


class Forbidden(FieldError):
    """This belongs to someone else."""

    http_status = 403
    error_id = "forbidden"


class Conflict(FieldError):
    """The record is not in a state that allows this."""

    http_status = 409
    error_id = "conflict"


class InvalidReport(FieldError):
    """The report is not valid."""

    http_status = 422
    error_id = "invalid"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))


@dataclass(frozen=True, slots=True)
class ReportClock:
    """``now`` and how far off a phone's time may be: ahead by ``skew`` (its clock), behind by ``late``
    (a report queued offline and sent later)."""

    now: datetime
    skew: timedelta = timedelta(minutes=5)
    late: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Position:
    at: datetime
    latitude: float
    longitude: float
    accuracy_m: float | None = None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    client_id: str
    method: DeliveryMethod
    tries: int
    at: datetime
    position: Position | None = None
    note: str = ""


def parse_position(data: object, clock: ReportClock, where: str = "position") -> Position:
    problems: list[tuple[str, str]] = []
    position = _position(data, clock, where, problems)
    if problems or position is None:
        raise InvalidReport(problems or [(where, "expected an object")])
    return position


def parse_delivery(data: object, clock: ReportClock) -> DeliveryReport:
    problems: list[tuple[str, str]] = []
    if not isinstance(data, Mapping):
        raise InvalidReport([("body", "expected a JSON object")])
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        problems.append(("client_id", "expected 1-64 characters of letters, digits, '_', '.', ':' or '-'"))
    method_value = data.get("method")
    try:
        method = DeliveryMethod(str(method_value))
    except ValueError:
        problems.append(("method", f"expected one of {', '.join(m.value for m in DeliveryMethod)}"))
        method = DeliveryMethod.NOBODY_HOME
    tries = data.get("tries", 1)
    if not isinstance(tries, int) or isinstance(tries, bool) or not 1 <= tries <= MAX_TRIES:
        problems.append(("tries", f"expected a whole number from 1 to {MAX_TRIES}"))
        tries = 1
    at = _moment(data.get("at"), clock, "at", problems)
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        problems.append(("note", f"expected text of at most {MAX_NOTE} characters"))
        note = ""
    position = None
    if data.get("position") is not None:
        position = _position(data["position"], clock, "position", problems)
    if problems or at is None:
        raise InvalidReport(problems)
    return DeliveryReport(str(client_id), method, tries, at, position, note)


def _position(
    data: object, clock: ReportClock, where: str, problems: list[tuple[str, str]]
) -> Position | None:
    if not isinstance(data, Mapping):
        problems.append((where, "expected an object with latitude, longitude, at"))
        return None
    latitude = _number(data.get("latitude"), -90.0, 90.0, f"{where}.latitude", problems)
    longitude = _number(data.get("longitude"), -180.0, 180.0, f"{where}.longitude", problems)
    accuracy = None
    if data.get("accuracy_m") is not None:
        accuracy = _number(data.get("accuracy_m"), 0.0, 100_000.0, f"{where}.accuracy_m", problems)
    at = _moment(data.get("at"), clock, f"{where}.at", problems)
    if latitude is None or longitude is None or at is None:
        return None
    return Position(at, latitude, longitude, accuracy)


def _number(
    value: object, low: float, high: float, where: str, problems: list[tuple[str, str]]
) -> float | None:
    number = _finite(value)
    if number is None:
        problems.append((where, f"expected a number from {low:g} to {high:g}"))
        return None
    if not low <= number <= high:
        problems.append((where, f"{number:g} is out of range: expected {low:g} to {high:g}"))
        return None
    return number


def _finite(value: object) -> float | None:
    """A JSON number as a finite float; None for anything else (an integer beyond a float's range too)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _moment(
    value: object, clock: ReportClock, where: str, problems: list[tuple[str, str]]
) -> datetime | None:
    """An ISO 8601 time with its UTC offset, or milliseconds since the epoch (a browser's timestamp)."""
    moment: datetime | None = None
    millis = _finite(value)
    if millis is not None:
        try:
            moment = datetime.fromtimestamp(millis / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            moment = None
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        moment = parsed if parsed is not None and parsed.tzinfo is not None else None
    if moment is None:
        problems.append((where, "expected an ISO 8601 time with its UTC offset, or epoch milliseconds"))
        return None
    if moment > clock.now + clock.skew:
        problems.append(
            (where, f"{moment.isoformat()} is in the future (server time {clock.now.isoformat()})")
        )
        return None
    if moment < clock.now - clock.late:
        problems.append((where, f"{moment.isoformat()} is older than {clock.late.days} days"))
        return None
    return moment.astimezone(UTC)
