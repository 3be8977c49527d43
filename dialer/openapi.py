"""The OpenAPI 3.1 document of the couriers' HTTP API (served at ``/api/v1/openapi.json``).

Written out as data, next to the limits the API enforces (dialer/http_api.py imports them from here), so the
document and the checks cannot drift: the request schemas reuse the report parser's own constants
(debtors/field_reports.py). OpenAPI 3.1 schemas are JSON Schema 2020-12 (spec.openapis.org/oas/v3.1.0,
"Schema Object"), so ``type: [..., "null"]`` and ``anyOf`` are used for optional values.
"""

from __future__ import annotations

from typing import Any

from debtors.field_reports import CLIENT_ID, MAX_NOTE, MAX_TRIES
from debtors.field_rules import DeliveryMethod, NoticeKind, NoticeState

API_PREFIX = "/api/v1"
MAX_POSITIONS = 500  # positions in one POST /courier/positions
SECURITY_SCHEME = "courierToken"

Json = dict[str, Any]


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_content(schema: Json) -> Json:
    return {"application/json": {"schema": schema}}


def _response(description: str, schema: Json | None = None, headers: Json | None = None) -> Json:
    response: Json = {"description": description}
    if schema is not None:
        response["content"] = _json_content(schema)
    if headers:
        response["headers"] = headers
    return response


def _schemas() -> Json:
    moment = {
        "description": "A moment on the phone: an ISO 8601 time with its UTC offset, or milliseconds since "
        "the Unix epoch (a browser's timestamp). At most api.clock_skew_seconds in the future and at most "
        "api.late_days in the past (an offline-queued report).",
        "anyOf": [
            {"type": "string", "format": "date-time", "examples": ["2026-11-02T10:15:00+03:00"]},
            {"type": "number", "examples": [1793600100000]},
        ],
    }
    position = {
        "type": "object",
        "required": ["latitude", "longitude", "at"],
        "properties": {
            "latitude": {"type": "number", "minimum": -90, "maximum": 90},
            "longitude": {"type": "number", "minimum": -180, "maximum": 180},
            "accuracy_m": {"type": ["number", "null"], "minimum": 0, "maximum": 100_000},
            "at": _ref("Moment"),
        },
    }
    method = {
        "type": "string",
        "enum": [m.value for m in DeliveryMethod],
        "description": "personal: лично в руки; mailbox: в почтовый ящик; refused: отказ от получения; "
        "nobody_home: никого нет дома (a visit: the notice stays on the list).",
    }
    notice = {
        "type": "object",
        "required": [
            "notice_id",
            "kind",
            "kind_label",
            "state",
            "state_label",
            "account",
            "full_name",
            "address",
            "debt",
            "debt_as_of",
            "months_overdue",
            "tries",
            "method",
            "method_label",
            "delivered_at",
        ],
        "properties": {
            "notice_id": {"type": "integer"},
            "kind": {"type": "string", "enum": [k.value for k in NoticeKind]},
            "kind_label": {"type": "string", "examples": ["первичное"]},
            "state": {"type": "string", "enum": [s.value for s in NoticeState]},
            "state_label": {"type": "string", "examples": ["у курьера"]},
            "account": {"type": "string", "description": "лицевой счёт"},
            "full_name": {"type": "string"},
            "address": {"type": "string"},
            "debt": {
                "type": "string",
                "pattern": r"^-?\d+\.\d{2}$",
                "description": "the debt printed on the notice, rubles with kopecks",
                "examples": ["12345.67"],
            },
            "debt_as_of": {"type": ["string", "null"], "format": "date"},
            "months_overdue": {"type": "integer"},
            "tries": {"type": "integer", "minimum": 0, "description": "visits reported so far"},
            "method": {"anyOf": [_ref("DeliveryMethod"), {"type": "null"}]},
            "method_label": {"type": ["string", "null"]},
            "delivered_at": {"type": ["string", "null"], "format": "date-time"},
        },
    }
    problem = {
        "type": "object",
        "required": ["field", "message"],
        "properties": {
            "field": {"type": "string", "examples": ["position.latitude"]},
            "message": {"type": "string"},
        },
    }
    return {
        "Error": {
            "type": "object",
            "required": ["error", "message", "problems"],
            "properties": {
                "error": {
                    "type": "string",
                    "description": "unauthorized, bad_json, invalid, not_found, forbidden, conflict, "
                    "method_not_allowed, too_large or internal",
                },
                "message": {"type": "string"},
                "problems": {"type": "array", "items": _ref("Problem")},
            },
        },
        "Problem": problem,
        "Moment": moment,
        "Position": position,
        "DeliveryMethod": method,
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"const": "ok"}},
        },
        "Courier": {
            "type": "object",
            "required": ["name", "today", "position_every_seconds"],
            "properties": {
                "name": {"type": "string"},
                "today": {
                    "type": "string",
                    "format": "date",
                    "description": "today in the organisation's time zone",
                },
                "position_every_seconds": {"type": "integer", "minimum": 1},
            },
        },
        "Notice": notice,
        "NoticeList": {
            "type": "object",
            "required": ["today", "notices"],
            "properties": {
                "today": {"type": "string", "format": "date"},
                "notices": {
                    "type": "array",
                    "items": _ref("Notice"),
                    "description": "every notice the courier holds undelivered, and those delivered "
                    "today, in walking (address) order",
                },
            },
        },
        "DeliveryReport": {
            "type": "object",
            "required": ["client_id", "method", "at"],
            "properties": {
                "client_id": {
                    "type": "string",
                    "pattern": CLIENT_ID.pattern,
                    "description": "the phone's id of this report, made once: a retried post with the same "
                    "id is stored once",
                },
                "method": _ref("DeliveryMethod"),
                "tries": {"type": "integer", "minimum": 1, "maximum": MAX_TRIES, "default": 1},
                "at": _ref("Moment"),
                "position": {"anyOf": [_ref("Position"), {"type": "null"}]},
                "note": {"type": "string", "maxLength": MAX_NOTE, "default": ""},
            },
        },
        "DeliveryOutcome": {
            "type": "object",
            "required": ["delivery_id", "duplicate", "notice_state", "delivered", "notice"],
            "properties": {
                "delivery_id": {"type": "integer"},
                "duplicate": {
                    "type": "boolean",
                    "description": "true: this client_id was stored before and nothing changed",
                },
                "notice_state": {"type": "string", "enum": [s.value for s in NoticeState]},
                "delivered": {"type": "boolean"},
                # null: a retried report of a notice that has gone to another courier since
                "notice": {"anyOf": [_ref("Notice"), {"type": "null"}]},
            },
        },
        "PositionBatch": {
            "type": "object",
            "required": ["positions"],
            "properties": {
                "positions": {"type": "array", "items": _ref("Position"), "maxItems": MAX_POSITIONS},
            },
        },
        "PositionsStored": {
            "type": "object",
            "required": ["stored", "skipped"],
            "properties": {
                "stored": {"type": "integer", "minimum": 0},
                "skipped": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "positions stored before for the same moment (a retried post)",
                },
            },
        },
    }


def _responses() -> Json:
    error = _ref("Error")
    return {
        "BadJson": _response("The body is not JSON.", error),
        "Unauthorized": _response(
            "No token, or a token that is unknown or belongs to a disabled courier.",
            error,
            {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer (RFC 6750)"}},
        ),
        "Forbidden": _response("The notice is on another courier's list.", error),
        "NotFound": _response("No such notice.", error),
        "Conflict": _response("The client_id was already used for another notice.", error),
        "Invalid": _response(
            "The report is not valid: every problem is listed with its field "
            "(out-of-range coordinates, a time in the future or too old, an unknown method...).",
            error,
        ),
        "Internal": _response("An unexpected error (logged on the server).", error),
    }


def _errors(*names: str) -> Json:
    codes = {
        "BadJson": "400",
        "Unauthorized": "401",
        "Forbidden": "403",
        "NotFound": "404",
        "Conflict": "409",
        "Invalid": "422",
        "Internal": "500",
    }
    return {codes[n]: {"$ref": f"#/components/responses/{n}"} for n in (*names, "Internal")}


def _notice_id() -> Json:
    return {"name": "notice_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}


def _paths() -> Json:
    protected: list[Json] = [{SECURITY_SCHEME: []}]
    public: list[Json] = []
    html = {"text/html": {"schema": {"type": "string"}}}
    return {
        f"{API_PREFIX}/health": {
            "get": {
                "operationId": "getHealth",
                "summary": "Whether the API answers",
                "tags": ["service"],
                "security": public,
                "responses": {"200": _response("The API is up.", _ref("Health")), **_errors()},
            }
        },
        f"{API_PREFIX}/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "tags": ["service"],
                "security": public,
                "responses": {"200": _response("The OpenAPI 3.1 document.", {"type": "object"}), **_errors()},
            }
        },
        f"{API_PREFIX}/courier/me": {
            "get": {
                "operationId": "getCourier",
                "summary": "The courier the token belongs to",
                "tags": ["courier"],
                "security": protected,
                "responses": {
                    "200": _response(
                        "The courier, today's date and how often to send positions.", _ref("Courier")
                    ),
                    **_errors("Unauthorized"),
                },
            }
        },
        f"{API_PREFIX}/courier/notices": {
            "get": {
                "operationId": "listNotices",
                "summary": "The courier's list for today, in address order",
                "tags": ["courier"],
                "security": protected,
                "responses": {
                    "200": _response("The list.", _ref("NoticeList")),
                    **_errors("Unauthorized"),
                },
            }
        },
        f"{API_PREFIX}/courier/notices/{{notice_id}}": {
            "get": {
                "operationId": "getNotice",
                "summary": "One notice of the courier's",
                "tags": ["courier"],
                "security": protected,
                "parameters": [_notice_id()],
                "responses": {
                    "200": _response("The notice.", _ref("Notice")),
                    **_errors("Unauthorized", "Forbidden", "NotFound"),
                },
            }
        },
        f"{API_PREFIX}/courier/notices/{{notice_id}}/deliveries": {
            "post": {
                "operationId": "reportDelivery",
                "summary": "Report a delivery or a visit (idempotent by client_id)",
                "description": "A delivering method (by default personal, mailbox, refused) marks the notice "
                "delivered at `at`; nobody_home keeps it on the list with its tries. A report queued offline "
                "is accepted up to api.late_days late and dated by its `at`.",
                "tags": ["courier"],
                "security": protected,
                "parameters": [_notice_id()],
                "requestBody": {"required": True, "content": _json_content(_ref("DeliveryReport"))},
                "responses": {
                    "201": _response("Stored.", _ref("DeliveryOutcome")),
                    "200": _response(
                        "This client_id was stored before: nothing changed (duplicate: true).",
                        _ref("DeliveryOutcome"),
                    ),
                    **_errors("BadJson", "Unauthorized", "Forbidden", "NotFound", "Conflict", "Invalid"),
                },
            }
        },
        f"{API_PREFIX}/courier/positions": {
            "post": {
                "operationId": "reportPositions",
                "summary": f"Store the phone's positions (at most {MAX_POSITIONS} per post)",
                "tags": ["courier"],
                "security": protected,
                "requestBody": {"required": True, "content": _json_content(_ref("PositionBatch"))},
                "responses": {
                    "200": _response("How many were stored and skipped.", _ref("PositionsStored")),
                    **_errors("BadJson", "Unauthorized", "Invalid"),
                },
            }
        },
        "/courier/{token}": {
            "get": {
                "operationId": "courierPage",
                "summary": "The courier's page (the token is the courier's link; the page calls the API "
                "with it as a Bearer token)",
                "tags": ["page"],
                "security": public,
                "parameters": [
                    {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {"description": "The page (Russian).", "content": html},
                    "404": {"description": "Unknown or disabled link (a Russian page).", "content": html},
                },
            }
        },
        "/courier/static/{name}": {
            "get": {
                "operationId": "courierPageAsset",
                "summary": "The page's script and style sheet",
                "tags": ["page"],
                "security": public,
                "parameters": [
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": ["courier.js", "courier.css"]},
                    }
                ],
                "responses": {
                    "200": {"description": "The file."},
                    "404": {"description": "No such file (a Russian page)."},
                },
            }
        },
    }


def openapi_document(*, server_url: str = "/") -> Json:
    """The whole document; ``server_url`` is where phones reach the API (api.public_url), "/" meaning the
    origin the document was fetched from."""
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "UpravDolg courier API",
            "version": "1",
            "summary": "What a courier's phone reads and reports: the day's notices, deliveries, positions.",
            "description": "Every operation under /api/v1/courier needs the courier's token (the last part "
            "of their link) as `Authorization: Bearer <token>`. Errors are JSON: "
            '`{"error": id, "message": text, "problems": [{"field", "message"}]}`.',
        },
        "servers": [{"url": server_url}],
        "tags": [
            {"name": "service", "description": "Health and this document"},
            {"name": "courier", "description": "The courier's phone"},
            {"name": "page", "description": "The courier's web page"},
        ],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "responses": _responses(),
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token from the courier's link (`/courier/<token>`).",
                }
            },
        },
    }
