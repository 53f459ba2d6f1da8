"""The hand-maintained OpenAPI 3.1 description of the gateway, served at ``/openapi.json``.

Written by hand (not generated) because it is a contract for vendors: a change here is
a deliberate API change. ``tests/gateway/test_openapi.py`` keeps it equal to the route
table and to the Starlette routes the server really mounts.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from mock_gateway.admin import EXPORT_LAG, EXPORT_LIMIT_DEFAULT, EXPORT_LIMIT_MAX
from mock_gateway.clock import LATEST, iso
from mock_gateway.fault_plan import SEED_MAX
from mock_gateway.headers import MESSAGE_ID_PATTERN, MESSAGE_ID_RULE
from mock_gateway.params import TEXT_PATTERN
from mock_gateway.routes import MAX_CLOCK_ADVANCE

_BODIES: dict[str, dict[str, Any]] = {
    "application/xml": {"schema": {"type": "string", "contentMediaType": "application/xml"}},
    "application/json": {"schema": {"type": "object"}},
}
_XML_BODY = _BODIES["application/xml"]
_ERRORS = {
    "400": "Invalid request or dossier (XML-*, ENV-*, SIG-*, XSD-*, RULE-*, LIM-002, REQ-*); "
    "REQ-004 on any route: a request line or header that is not HTTP/1.1",
    "401": "Missing or invalid credential (AUTH-001, AUTH-002)",
    "403": "The other role's credential: the admin's is required (AUTH-003) or an I-VAN's "
    "is (AUTH-004); or MaIVAN is not the sender (ENV-010)",
    "404": "Not found, or not yours (NF-001)",
    "405": "Method not allowed on this path (REQ-002); Allow lists the methods it takes",
    "408": "The request did not arrive in time: its head took longer than the client "
    "timeout, or its body paused too long (REQ-005); the connection is closed",
    "409": "X-Message-Id already used for another body (DUP-001)",
    "413": "Body over the size limit (LIM-001)",
    "415": "Content-Type is not XML, or the body is compressed (XML-004, XML-005)",
    "431": "Request line and headers over 64 KiB (LIM-003); the connection is closed",
    "500": "Internal gateway error (SRV-002)",
    "503": "Gateway unavailable, on any route: maintenance window, a burst of 503s, the "
    "database unreachable, or the gateway stopping (SRV-001); retry after Retry-After seconds",
}
_EVERYWHERE = ("400", "405", "408", "431", "500", "503")
"""Statuses any route may answer: the HTTP layer (REQ-004, REQ-005, LIM-003), an unknown
query parameter, a wrong method, the database or a fault plan (SRV-001)."""


def _header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or {"type": "string"}}


_MA_LOI = _header("The answer's stable error code, as in MA_LOI (e.g. XSD-001)")
_RETRY_AFTER = _header(
    "Whole seconds to wait before retrying (absent when a fault plan's burst sets none)",
    {"type": "integer", "minimum": 0},
)
_ERROR_HEADERS: dict[str, dict[str, Any]] = {
    "405": {"Allow": _header("The methods this path takes")},
    "401": {"WWW-Authenticate": _header('Bearer realm="bhxh"')},
    "503": {"Retry-After": _RETRY_AFTER},
}
RECEIPT_HEADERS = {
    "Location": _header("The dossier's status URL, /api/v1/dossiers/{MA_GDICH}"),
    "X-Ma-Gdich": _header("The transaction code (MA_GDICH) of the receipt"),
    "X-Idempotent-Replay": _header(
        "true when this receipt is the stored one of an earlier submission with the same "
        "X-Message-Id and body, false for a new dossier",
        {"type": "string", "enum": ["true", "false"]},
    ),
}


def _answers(
    ok: str, ok_status: str, media: str, *errors: str, notes: dict[str, str] | None = None
) -> dict[str, Any]:
    """Responses of one operation: the success, the listed errors, and those of
    :data:`_EVERYWHERE`; ``notes`` replaces the usual description of a status where this
    operation means something else by it. Every error carries ``X-BHXH-Ma-Loi``."""
    body = _BODIES.get(media, {"schema": {"type": "string"}})
    out: dict[str, Any] = {ok_status: {"description": ok, "content": {media: body}}}
    for code in sorted({*errors, *_EVERYWHERE}):
        said = (notes or {}).get(code, _ERRORS[code])
        out[code] = {
            "description": f"{said} (signed BHXH/XACNHAN_GDICH, MA_KQUA != 0)",
            "headers": {"X-BHXH-Ma-Loi": _MA_LOI, **_ERROR_HEADERS.get(code, {})},
            "content": {"application/xml": _XML_BODY},
        }
    return out


def _token_redirect(answers: dict[str, Any]) -> dict[str, Any]:
    """``answers`` of a browser page plus the 303 a ``?token=`` gets: the same page without
    it, the token moved into an HttpOnly cookie."""
    string = {"schema": {"type": "string"}}
    answers["303"] = {
        "description": "Opened with ?token=: the same page without it; the token is kept "
        "in the HttpOnly, SameSite=Lax cookie bhxh_admin (Path=/dashboard)",
        "headers": {"Location": string, "Set-Cookie": string},
    }
    return answers


def _with_headers(answers: dict[str, Any], status: str, headers: dict[str, Any]) -> dict[str, Any]:
    """``answers`` with ``headers`` described on the ``status`` answer."""
    answers[status] = {**answers[status], "headers": headers}
    return answers


_HEALTH: dict[str, Any] = {
    "type": "object",
    "required": ["status", "database", "environment", "catalogs", "simulated_time"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "unavailable"]},
        "database": {"type": "boolean"},
        "environment": {"type": "string", "const": "THU_NGHIEM"},
        "catalogs": {"type": "array", "items": {"type": "string"}},
        "simulated_time": {"type": "string", "format": "date-time"},
        "clock_speed": {"type": "number"},
        "clock_limit": {"type": "string", "format": "date-time"},
        "clock_stopped": {"type": "boolean"},
        "workers": {"type": "integer", "minimum": 1},
    },
}


def _healthz_answers() -> dict[str, Any]:
    """``/healthz``'s answers: its 503 is JSON while the database is unreachable (probes
    read JSON), the signed XML of every route otherwise."""
    answers = _answers("Healthy", "200", "application/json")
    answers["200"]["content"] = {"application/json": {"schema": _HEALTH}}
    unavailable = answers["503"]
    answers["503"] = {
        **unavailable,
        "description": "The database is unreachable: the /healthz object with status "
        "unavailable and database false (SRV-001); or, as on any route, a fault plan's "
        "503 or the gateway stopping (signed BHXH/XACNHAN_GDICH, SRV-001); retry after "
        "Retry-After seconds",
        "content": {"application/json": {"schema": _HEALTH}, **unavailable["content"]},
    }
    return answers


_NO_LAYER = "A gateway run without fault injection (mock_gateway.app alone) answers 404."
_FAULT_NOTES = {
    "400": "A plan the gateway cannot use: not JSON, an unknown key, a wrong type or a value "
    "out of range, an empty body; or a query parameter the route does not take (REQ-002); "
    "or a request line or header that is not HTTP/1.1 (REQ-004)",
    "404": "No fault layer on this gateway (NF-001)",
    "413": "Body over the size limit (LIM-001)",
    "415": "Content-Type is not application/json (REQ-002)",
}
_PLAN_BODY: dict[str, Any] = {
    "schema": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "profiles": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "params": {"type": ["object", "null"]},
                    },
                },
            },
            "spec": {"type": "string"},
            "seed": {"type": ["integer", "null"], "minimum": 0, "maximum": SEED_MAX},
        },
        "oneOf": [{"required": ["profiles"]}, {"required": ["spec"]}],
    },
    "example": {"profiles": [{"name": "burst-503", "params": {"count": 5}}], "seed": 7},
}

_IVAN: list[dict[str, list[str]]] = [{"ivanBearer": []}]
_ADMIN: list[dict[str, list[str]]] = [{"adminBearer": []}]
_ADMIN_PAGE: list[dict[str, list[str]]] = [{"adminBearer": []}, {"adminQueryToken": []}]


def _int_query(name: str, description: str, minimum: int, maximum: int) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "integer", "minimum": minimum, "maximum": maximum},
    }


def _str_query(name: str, description: str, max_length: int) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": f"{description}; at most {max_length} characters, counted after "
        "Unicode NFC (a name typed decomposed counts as typed composed)",
        "schema": {"type": "string", "maxLength": max_length, "pattern": TEXT_PATTERN},
    }


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    }


PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/dossiers": {
        "post": {
            "operationId": "submit_dossier",
            "summary": "Submit a signed Hoso envelope",
            "description": "Answers 202 with a signed receipt only after the dossier is durably "
            "stored. The same X-Message-Id with the same body returns the same receipt.",
            "security": _IVAN,
            "parameters": [
                {
                    "name": "X-Message-Id",
                    "in": "header",
                    "required": True,
                    "description": f"Idempotency key chosen by the I-VAN ({MESSAGE_ID_RULE})",
                    "schema": {"type": "string", "pattern": f"^{MESSAGE_ID_PATTERN}$"},
                }
            ],
            "requestBody": {"required": True, "content": {"application/xml": _XML_BODY}},
            "responses": _with_headers(
                _answers(
                    "Receipt (XACNHAN_GDICH, MA_KQUA 0)",
                    "202",
                    "application/xml",
                    "400",
                    "401",
                    "403",
                    "409",
                    "413",
                    "415",
                ),
                "202",
                RECEIPT_HEADERS,
            ),
        }
    },
    "/api/v1/dossiers/{ma_gdich}": {
        "get": {
            "operationId": "get_dossier",
            "summary": "Status of one of your dossiers and its messages",
            "security": _IVAN,
            "parameters": [_path("ma_gdich", "Transaction code from the receipt")],
            "responses": _answers("Dossier status", "200", "application/xml", "401", "403", "404"),
        }
    },
    "/api/v1/messages": {
        "get": {
            "operationId": "list_messages",
            "summary": "Your feed of BHXH messages (02/TB-TS, 03/TB-TS) after a cursor",
            "security": _IVAN,
            "parameters": [
                _int_query(
                    "after", "Cursor: CON_TRO of the last message seen (0: start)", 0, 2**62
                ),
                _int_query("limit", "Page size", 1, 1000),
            ],
            "responses": _answers(
                "A page of the feed", "200", "application/xml", "400", "401", "403"
            ),
        }
    },
    "/api/v1/messages/{message_id}/ack": {
        "post": {
            "operationId": "ack_message",
            "summary": "Acknowledge one of your messages",
            "security": _IVAN,
            "parameters": [_path("message_id", "ID of the message")],
            "responses": _answers("Acknowledged", "200", "application/xml", "401", "403", "404"),
        }
    },
    "/api/v1/catalog": {
        "get": {
            "operationId": "get_catalog",
            "summary": "Catalog versions served, their procedures and forms",
            "security": _IVAN,
            "responses": _answers("The catalog", "200", "application/xml", "401", "403"),
        }
    },
    "/healthz": {
        "get": {
            "operationId": "healthz",
            "summary": "Liveness and database reachability",
            "description": "A JSON object: status, database (reachable now), environment, "
            "catalogs, simulated_time, clock_speed (simulated seconds per real second), "
            f"clock_limit (where simulated time stops, {iso(LATEST)}), clock_stopped (true "
            "once there; POST /admin/reset restarts it) and workers (processes serving). "
            "While the "
            "database is unreachable it is 503 with the same object, status unavailable and "
            "database false (simulated_time as this worker last read it), and Retry-After; a fault "
            "plan's 503 or a gateway stopping is the usual signed XML.",
            "security": [],
            "responses": _healthz_answers(),
        }
    },
    "/metrics": {
        "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics: requests summed over every worker of this server",
            "description": "Request, outcome and latency counters are the sum over every "
            "worker process (serve --workers N), each at most a second old for the workers "
            "a scrape does not reach. Gauges: the simulated clock as the answering worker "
            "reads it, and from the store the dossiers stored, those awaiting a lifecycle "
            "message and those whose message is already due (absent while the database is "
            "unreachable).",
            "security": [],
            "responses": _answers("Prometheus text exposition", "200", "text/plain"),
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": _answers("OpenAPI 3.1 document", "200", "application/json"),
        }
    },
    "/admin/clock/advance": {
        "post": {
            "operationId": "admin_clock_advance",
            "summary": "Fast-forward the simulated clock and issue what fell due",
            "description": "Seconds are given in the query (?seconds=60), at most "
            f"{MAX_CLOCK_ADVANCE:.0f} (ten years) per call; a body is not read, and without "
            "?seconds the answer is 400 REQ-002 saying so. Simulated time stops at "
            f"{iso(LATEST)}: an advance past it is refused (400 REQ-002, saying how far it "
            "may still go); POST /admin/reset restarts the clock at real now.",
            "security": _ADMIN,
            "parameters": [
                {
                    "name": "seconds",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "number", "minimum": 0, "maximum": MAX_CLOCK_ADVANCE},
                }
            ],
            "responses": _answers(
                "New simulated time", "200", "application/json", "400", "401", "403"
            ),
        }
    },
    "/admin/traffic": {
        "get": {
            "operationId": "admin_traffic",
            "summary": "Export the traffic log as JSON lines (bodies in base64)",
            "description": f"At most `limit` rows ({EXPORT_LIMIT_DEFAULT:,} when not given) "
            "and 16 MiB of them (one row always fits). X-Traffic-Truncated: true whenever "
            "more rows follow, whether the row limit or the size budget ended the page: ask "
            "again with after= the last row's id. " + EXPORT_LAG,
            "security": _ADMIN,
            "parameters": [
                _int_query("after", "Export rows with an id above this", 0, 2**62),
                _int_query(
                    "limit",
                    f"At most this many rows (default {EXPORT_LIMIT_DEFAULT})",
                    1,
                    EXPORT_LIMIT_MAX,
                ),
            ],
            "responses": _with_headers(
                _answers("Traffic rows", "200", "application/x-ndjson", "400", "401", "403"),
                "200",
                {
                    "X-Traffic-Truncated": _header(
                        "true when more rows follow (ask again with after= the last row's "
                        "id), false when this page is the last",
                        {"type": "string", "enum": ["true", "false"]},
                    )
                },
            ),
        }
    },
    "/admin/reset": {
        "post": {
            "operationId": "admin_reset",
            "summary": "Delete every dossier, message and traffic row; restart the clock",
            "security": _ADMIN,
            "responses": _answers("Reset", "200", "application/json", "401", "403"),
        }
    },
    "/admin/faults": {
        "get": {
            "operationId": "admin_faults",
            "summary": "The active fault plan, hits per hook, and every known profile",
            "description": "Answered by the fault layer (bhxh-harness serve). The plan shown "
            "is the one published to every worker; hits and events count every worker's "
            "(another worker's up to 0.1 s late). " + _NO_LAYER,
            "security": _ADMIN,
            "responses": _answers(
                "The plan", "200", "application/json", "401", "403", "404", notes=_FAULT_NOTES
            ),
        },
        "put": {
            "operationId": "admin_faults_set",
            "summary": "Replace the fault plan of every worker",
            "description": "A JSON object with either `profiles` (a list of {name, params}) "
            "or `spec` (the --faults line), and an optional `seed`. Anything else is refused "
            "rather than read as an empty plan: an unknown key, an empty body, another "
            "Content-Type, a value out of range (durations stop at a day). DELETE clears "
            "the plan. " + _NO_LAYER,
            "security": _ADMIN,
            "requestBody": {"required": True, "content": {"application/json": _PLAN_BODY}},
            "responses": _answers(
                "The plan now active",
                "200",
                "application/json",
                "400",
                "401",
                "403",
                "404",
                "413",
                "415",
                notes=_FAULT_NOTES,
            ),
        },
        "delete": {
            "operationId": "admin_faults_clear",
            "summary": "Clear the fault plan of every worker",
            "description": _NO_LAYER,
            "security": _ADMIN,
            "responses": _answers(
                "The plan, now empty",
                "200",
                "application/json",
                "401",
                "403",
                "404",
                notes=_FAULT_NOTES,
            ),
        },
    },
    "/admin/faults/log": {
        "get": {
            "operationId": "admin_faults_log",
            "summary": "What each fault did, on every worker, as JSON lines",
            "description": "One object per event (seq, at, sim, profile, kind, ivan, method, "
            "path, message_id, action); ask again with after= the last seq. " + _NO_LAYER,
            "security": _ADMIN,
            "parameters": [_int_query("after", "Events with a seq above this", 0, 2**62)],
            "responses": _answers(
                "Fault events",
                "200",
                "application/x-ndjson",
                "400",
                "401",
                "403",
                "404",
                notes=_FAULT_NOTES,
            ),
        }
    },
    "/dashboard": {
        "get": {
            "operationId": "dashboard",
            "summary": "Web page of dossiers, their status and messages (newest first)",
            "description": "Server-rendered HTML for people. The admin token may be given "
            "as ?token= so a browser can open the page (answered 303 to the page without it, "
            "the token then in a cookie); the Authorization header wins.",
            "security": _ADMIN_PAGE,
            "parameters": [
                _str_query("ivan", "Only this I-VAN's dossiers (empty: all)", 20),
                _str_query("procedure", "Only this procedure code (empty: all)", 20),
                _int_query("page", "Page number, from 1", 1, 10_000),
                _int_query("limit", "Dossiers per page", 1, 200),
            ],
            "responses": _token_redirect(
                _answers("The dashboard page", "200", "text/html", "400", "401", "403")
            ),
        }
    },
    "/dashboard/runs": {
        "get": {
            "operationId": "dashboard_runs",
            "summary": "Web page of the suite runs in the reports folder (newest first)",
            "description": "Each <run-id>/ folder the suites wrote, read from its "
            "results.json, with links to the files its MANIFEST.json lists. ?token= as for "
            "/dashboard.",
            "security": _ADMIN_PAGE,
            "parameters": [
                _str_query("suite", "Only this suite's runs (empty: all)", 20),
                _int_query("page", "Page number, from 1", 1, 10_000),
                _int_query("limit", "Runs per page", 1, 100),
            ],
            "responses": _token_redirect(
                _answers("The runs page", "200", "text/html", "400", "401", "403")
            ),
        }
    },
    "/dashboard/runs/{run_id}/{name}": {
        "get": {
            "operationId": "dashboard_run_file",
            "summary": "One file of a run's report, if its MANIFEST.json lists it",
            "security": _ADMIN_PAGE,
            "parameters": [
                _path("run_id", "The run's folder, <suite>-<UTC time>-<random>"),
                _path("name", "A file name listed in the run's MANIFEST.json"),
            ],
            "responses": _token_redirect(_answers("The file", "200", "*/*", "401", "403", "404")),
        }
    },
}


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document as a dictionary."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mock BHXH gateway (bhxh-harness) - TEST ENVIRONMENT",
            "version": "1.0.0",
            "description": "A model of Vietnam Social Security's electronic-transaction "
            "gateway for I-VAN testing. Every answer that is not 2xx is a signed "
            "BHXH/XACNHAN_GDICH with MA_KQUA != 0, MA_LOI, MOTA_LOI and DS_LOI findings "
            "(stable codes, XPath, Vietnamese and English), but for /healthz's 503 while the "
            "database is unreachable: its usual JSON object, saying so. Not the real BHXH.",
        },
        "components": {
            "securitySchemes": {
                "ivanBearer": {"type": "http", "scheme": "bearer", "description": "I-VAN token"},
                "adminBearer": {"type": "http", "scheme": "bearer", "description": "Admin token"},
                "adminQueryToken": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "token",
                    "description": "Admin token in the query string (browser pages only)",
                },
            }
        },
        "paths": PATHS,
    }


@cache
def document_bytes() -> bytes:
    return json.dumps(document(), ensure_ascii=False, indent=1).encode()
