"""The couriers' HTTP API and their phone page (aiohttp): `upravdolg api`, and inside `upravdolg run`.

Routes (dialer/openapi.py is the document, served at /api/v1/openapi.json):
- ``/api/v1/health``, ``/api/v1/openapi.json``: public;
- ``/api/v1/courier/...``: the courier's day, deliveries and positions, with ``Authorization: Bearer
  <token>`` (the token is the last part of the courier's link, debtors/couriers.py);
- ``/courier/<token>``: the page (dialer/courier_page/), which calls the API with the token from its URL.

Each request does its database work in one session (``storage.sessions.begin()``), in a worker thread, so
the event loop never waits on the database; at most ``DB_CONCURRENCY`` requests do so at once (a semaphore,
below the connection pool's size). The business rules are the services': debtors/field_reports.py checks a
report, debtors/notices.py stores it — the same code the CLI and the dashboard call.

Errors are rendered by one middleware as ``{"error": id, "message": ..., "problems": [{"field",
"message"}]}`` with the error's status (debtors.field_reports.FieldError carries both). Tokens are never
logged: the access log masks the courier's link.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler, Middleware
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import Courier, Notice
from debtors.couriers import courier_by_token
from debtors.field_reports import (
    DeliveryReport,
    FieldError,
    Forbidden,
    InvalidReport,
    NotFound,
    Position,
    ReportClock,
    parse_delivery,
    parse_position,
)
from debtors.field_rules import (
    METHOD_LABELS,
    NOTICE_KIND_LABELS,
    NOTICE_STATE_LABELS,
    DeliveryMethod,
    NoticeKind,
    NoticeState,
)
from debtors.notices import (
    CourierStop,
    DeliveryOutcome,
    courier_stops,
    record_delivery,
    record_positions,
)
from dialer.bootstrap import Storage, notice_rules, report_clock, utc_now
from dialer.errors import ListenError
from dialer.openapi import API_PREFIX, MAX_POSITIONS, openapi_document
from dialer.settings import Settings

logger = logging.getLogger(__name__)
access_logger = logging.getLogger(f"{__name__}.access")

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

DB_CONCURRENCY = 8
SHUTDOWN_TIMEOUT = 5.0  # seconds a request in progress gets to finish when the API stops
MAX_BODY = 1024 * 1024  # 500 positions are ~60 KiB
PAGE_FOLDER = "courier_page"
ASSETS = {"courier.js": "text/javascript", "courier.css": "text/css"}
_COURIER_LINK = re.compile(r"^/courier/(?!static/)[^/]+")
_SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
_PAGE_HEADERS = {
    **_SAFE_HEADERS,
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
}
_MISSING_PAGE_HEADERS = {
    **_SAFE_HEADERS,
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}
_HTTP_ERROR_IDS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


class Unauthorized(FieldError):
    """Send the courier's token: «Authorization: Bearer <token>» (the last part of the courier's link)."""

    http_status = 401
    error_id = "unauthorized"

    def __init__(self, message: str | None = None, *, invalid_token: bool = False) -> None:
        super().__init__(message)
        # RFC 6750 section 3: a request without a token gets the bare challenge, a bad token gets the error.
        self.challenge = 'Bearer realm="upravdolg"' + (', error="invalid_token"' if invalid_token else "")


class BadJson(FieldError):
    """The body is not JSON."""

    http_status = 400
    error_id = "bad_json"


def _label(labels: Mapping[E, str], kind: type[E], value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return labels.get(kind(value), value)
    except ValueError:
        return value


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def notice_json(stop: CourierStop) -> dict[str, Any]:
    """One notice on the courier's list as the API shows it (the ``Notice`` schema)."""
    return {
        "notice_id": stop.notice_id,
        "kind": stop.kind,
        "kind_label": _label(NOTICE_KIND_LABELS, NoticeKind, stop.kind),
        "state": stop.state,
        "state_label": _label(NOTICE_STATE_LABELS, NoticeState, stop.state),
        "account": stop.account,
        "full_name": stop.full_name,
        "address": stop.address,
        "debt": _money(stop.debt),
        "debt_as_of": stop.debt_as_of.isoformat() if stop.debt_as_of else None,
        "months_overdue": stop.months_overdue,
        "tries": stop.tries,
        "method": stop.method,
        "method_label": _label(METHOD_LABELS, DeliveryMethod, stop.method),
        "delivered_at": _moment(stop.delivered_at),
    }


def _number(text: str) -> int | float:
    """JSON integers beyond any sane value become floats: the report checks reject them as out of range,
    where a 400-digit integer would overflow their float conversion instead."""
    return int(text) if len(text) <= 18 else float(text)


def decode_body(raw: bytes) -> object:
    if not raw.strip():
        raise BadJson("the body is empty: expected a JSON object")
    try:
        return json.loads(raw, parse_int=_number)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise BadJson(f"the body is not JSON: {exc}") from None


def parse_positions(data: object, clock: ReportClock) -> list[Position]:
    """A batch ``{"positions": [...]}``: every position checked, all problems reported at once."""
    if not isinstance(data, Mapping) or not isinstance(data.get("positions"), list):
        raise InvalidReport([("positions", "expected an object with a list of positions")])
    items: list[object] = data["positions"]
    if len(items) > MAX_POSITIONS:
        raise InvalidReport([("positions", f"at most {MAX_POSITIONS} positions per post, got {len(items)}")])
    problems: list[tuple[str, str]] = []
    positions = []
    for index, item in enumerate(items):
        try:
            positions.append(parse_position(item, clock, f"positions[{index}]"))
        except InvalidReport as exc:
            problems.extend(exc.problems)
    if problems:
        raise InvalidReport(problems)
    return positions


def _json(data: object, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(
        data,
        status=status,
        headers={**_SAFE_HEADERS, **(headers or {})},
        dumps=functools.partial(json.dumps, ensure_ascii=False),
    )


def error_response(
    status: int,
    error_id: str,
    message: str,
    problems: Sequence[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    return _json(
        {
            "error": error_id,
            "message": message,
            "problems": [{"field": field, "message": text} for field, text in problems],
        },
        status,
        headers,
    )


def mask_path(path: str) -> str:
    """The request path fit for a log: a courier's link loses its token."""
    return _COURIER_LINK.sub("/courier/***", path)


class MaskedAccessLog(AbstractAccessLogger):
    """Method, masked path, status and time; never the query string or headers (the token)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %d %.1f ms",
            request.method,
            mask_path(request.path),
            response.status,
            time * 1000,
            extra={"action": "http", "status": response.status},
        )


class _Api:
    """The handlers and what they share (built once per application)."""

    def __init__(self, settings: Settings, storage: Storage, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.storage = storage
        self.clock = clock
        self.rules = notice_rules(settings)
        self.timezone = settings.organisation.timezone
        self.zone = ZoneInfo(self.timezone)
        self.db_slots = asyncio.Semaphore(DB_CONCURRENCY)
        folder = resources.files("dialer") / PAGE_FOLDER
        self.page = (folder / "index.html").read_text(encoding="utf-8")
        self.missing_page = (folder / "not_found.html").read_text(encoding="utf-8")
        self.assets = {name: (folder / name).read_bytes() for name in ASSETS}
        self.document = openapi_document(server_url=settings.api.public_url or "/")

    # -- plumbing -------------------------------------------------------------------------------------

    def _in_session(self, work: Callable[[Session], T]) -> T:
        with self.storage.sessions.begin() as session:
            return work(session)

    async def db(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in its own session in a worker thread, committed when it returns."""
        async with self.db_slots:
            try:
                return await asyncio.to_thread(self._in_session, work)
            except IntegrityError:
                # Two posts of the same report (or position) raced: the unique key refused the second.
                # Done again, it finds the first one's row and answers as for a retry.
                logger.info("a concurrent duplicate was refused by the database; retrying the request once")
                return await asyncio.to_thread(self._in_session, work)

    async def as_courier(self, request: web.Request, work: Callable[[Session, Courier], T]) -> T:
        """Run ``work`` for the courier whose token the request carries (401 without a valid one)."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized()

        def authenticated(session: Session) -> T:
            courier = courier_by_token(session, token)
            if courier is None:
                raise Unauthorized(
                    "this courier link is unknown or no longer valid: ask for a new link", invalid_token=True
                )
            return work(session, courier)

        return await self.db(authenticated)

    def today(self, now: datetime) -> str:
        return now.astimezone(self.zone).date().isoformat()

    def missing(self) -> web.Response:
        return web.Response(
            text=self.missing_page, status=404, content_type="text/html", headers=_MISSING_PAGE_HEADERS
        )

    # -- public ---------------------------------------------------------------------------------------

    async def health(self, _request: web.Request) -> web.Response:
        return _json({"status": "ok"})

    async def openapi(self, _request: web.Request) -> web.Response:
        return _json(self.document)

    # -- the courier's API ----------------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        now = self.clock()
        name = await self.as_courier(request, lambda _session, courier: courier.name)
        return _json(
            {
                "name": name,
                "today": self.today(now),
                "position_every_seconds": self.settings.api.position_every_seconds,
            }
        )

    async def notices(self, request: web.Request) -> web.Response:
        now = self.clock()
        org = self.storage.organisation_id

        def work(session: Session, courier: Courier) -> list[CourierStop]:
            return courier_stops(session, org, courier.id, now=now, timezone=self.timezone)

        stops = await self.as_courier(request, work)
        return _json({"today": self.today(now), "notices": [notice_json(s) for s in stops]})

    async def notice(self, request: web.Request) -> web.Response:
        notice_id = int(request.match_info["notice_id"])
        now = self.clock()
        org = self.storage.organisation_id

        def work(session: Session, courier: Courier) -> CourierStop:
            notice = session.get(Notice, notice_id)
            if notice is None or notice.organisation_id != org:
                raise NotFound(f"notice #{notice_id} does not exist")
            if notice.courier_id != courier.id:
                raise Forbidden(f"notice #{notice_id} is not on your list")
            (stop,) = courier_stops(
                session, org, courier.id, now=now, timezone=self.timezone, notice_ids=[notice_id]
            )
            return stop

        return _json(notice_json(await self.as_courier(request, work)))

    async def delivery(self, request: web.Request) -> web.Response:
        notice_id = int(request.match_info["notice_id"])
        raw = await request.read()
        now = self.clock()
        clock = report_clock(self.settings, now)
        org = self.storage.organisation_id

        def work(
            session: Session, courier: Courier
        ) -> tuple[int, DeliveryOutcome, CourierStop | None, DeliveryReport]:
            report = parse_delivery(decode_body(raw), clock)
            outcome = record_delivery(session, org, courier.id, notice_id, report, now=now, rules=self.rules)
            stops = courier_stops(
                session, org, courier.id, now=now, timezone=self.timezone, notice_ids=[notice_id]
            )  # none: a retry of a notice that has gone to another courier since
            return courier.id, outcome, stops[0] if stops else None, report

        courier_id, outcome, stop, report = await self.as_courier(request, work)
        method = report.method.value
        logger.info(
            "notice #%d: %s (tries %d) reported by courier #%d%s",
            notice_id,
            method,
            report.tries,
            courier_id,
            " again (duplicate)" if outcome.duplicate else f": now {outcome.notice_state}",
            extra={
                "action": "delivery",
                "notice_id": notice_id,
                "courier_id": courier_id,
                "delivery_id": outcome.delivery_id,
                "method": method,
                "duplicate": outcome.duplicate,
                "notice_state": outcome.notice_state,
            },
        )
        return _json(
            {
                "delivery_id": outcome.delivery_id,
                "duplicate": outcome.duplicate,
                "notice_state": outcome.notice_state,
                "delivered": outcome.delivered,
                "notice": notice_json(stop) if stop is not None else None,
            },
            200 if outcome.duplicate else 201,
        )

    async def positions(self, request: web.Request) -> web.Response:
        raw = await request.read()
        now = self.clock()
        clock = report_clock(self.settings, now)
        org = self.storage.organisation_id

        def work(session: Session, courier: Courier) -> tuple[int, int]:
            positions = parse_positions(decode_body(raw), clock)
            return record_positions(session, org, courier.id, positions, now=now)

        stored, skipped = await self.as_courier(request, work)
        return _json({"stored": stored, "skipped": skipped})

    # -- the page -------------------------------------------------------------------------------------

    async def courier_page(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        known = await self.db(lambda session: courier_by_token(session, token) is not None)
        if not known:
            return self.missing()
        return web.Response(text=self.page, content_type="text/html", headers=_PAGE_HEADERS)

    async def asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.assets:
            return self.missing()
        return web.Response(
            body=self.assets[name],
            content_type=ASSETS[name],
            charset="utf-8",
            headers={**_SAFE_HEADERS, "Cache-Control": "no-cache"},
        )


API: web.AppKey[_Api] = web.AppKey("api", _Api)


def _errors_middleware(api: _Api) -> Middleware:
    @web.middleware
    async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every error as JSON under /api/ (a Russian page elsewhere); unexpected ones logged as 500."""
        try:
            return await handler(request)
        except FieldError as exc:
            headers = {"WWW-Authenticate": exc.challenge} if isinstance(exc, Unauthorized) else None
            problems = exc.problems if isinstance(exc, InvalidReport) else []
            return error_response(exc.http_status, exc.error_id, str(exc), problems, headers)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            if not request.path.startswith(f"{API_PREFIX}/"):
                if exc.status == 404:
                    return api.missing()
                raise
            headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            error_id = _HTTP_ERROR_IDS.get(exc.status, "http_error")
            return error_response(exc.status, error_id, exc.reason, headers=headers)
        except Exception:
            logger.exception(
                "%s %s failed", request.method, mask_path(request.path), extra={"action": "http_error"}
            )
            return error_response(500, "internal", "an unexpected error: see the server's log")

    return errors


def make_app(
    settings: Settings, storage: Storage, *, clock: Callable[[], datetime] = utc_now
) -> web.Application:
    """The application: the API under /api/v1/ and the courier's page under /courier/."""
    api = _Api(settings, storage, clock)
    app = web.Application(middlewares=[_errors_middleware(api)], client_max_size=MAX_BODY)
    app[API] = api
    courier = f"{API_PREFIX}/courier"
    app.router.add_get(f"{API_PREFIX}/health", api.health)
    app.router.add_get(f"{API_PREFIX}/openapi.json", api.openapi)
    app.router.add_get(f"{courier}/me", api.me)
    app.router.add_get(f"{courier}/notices", api.notices)
    app.router.add_get(rf"{courier}/notices/{{notice_id:\d{{1,9}}}}", api.notice)
    app.router.add_post(rf"{courier}/notices/{{notice_id:\d{{1,9}}}}/deliveries", api.delivery)
    app.router.add_post(f"{courier}/positions", api.positions)
    app.router.add_get("/courier/static/{name}", api.asset)
    app.router.add_get("/courier/{token}", api.courier_page)
    return app


async def start_api(
    settings: Settings, storage: Storage, *, clock: Callable[[], datetime] = utc_now
) -> web.AppRunner:
    """The application, listening on api.address:api.port (ListenError when it cannot)."""
    address, port = settings.api.address, settings.api.port
    runner = web.AppRunner(
        make_app(settings, storage, clock=clock),
        access_log_class=MaskedAccessLog,
        access_log=access_logger,
        handle_signals=False,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, address, port, reuse_address=True).start()
    except OSError as exc:
        await runner.cleanup()
        raise ListenError(
            f"cannot serve the API on {address}:{port}: {exc.strerror or exc}",
            hint="set api.port (or `upravdolg api --port`) to a free port; `upravdolg run --no-api` or "
            "api.port = 0 runs the engine without the API",
        ) from None
    logger.info("API on http://%s:%d%s/", address, port, API_PREFIX)
    return runner


async def serve_api(
    settings: Settings,
    storage: Storage,
    stop: asyncio.Event,
    *,
    clock: Callable[[], datetime] = utc_now,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve until ``stop`` is set; ``on_ready`` runs once the port is bound."""
    runner = await start_api(settings, storage, clock=clock)
    try:
        if on_ready is not None:
            on_ready()
        await stop.wait()
    finally:
        await runner.cleanup()
