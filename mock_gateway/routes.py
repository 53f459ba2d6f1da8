"""The gateway's routes: one table read by the core's dispatcher, the ASGI app and the tests.

The OpenAPI document (:mod:`mock_gateway.openapi`) is written by hand, and a test checks
it against this table and against the Starlette routes, so the three cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

MAX_CLOCK_ADVANCE = 10 * 366 * 86400.0
"""The longest fast-forward ``/admin/clock/advance`` accepts (simulated seconds)."""


class Auth(Enum):
    """Who may call a route."""

    PUBLIC = "public"
    IVAN = "ivan"
    ADMIN = "admin"


class Layer(Enum):
    """Which part of the gateway answers a route.

    The fault admin (``/admin/faults``) is answered by the fault layer in front of the
    core (:mod:`mock_gateway.faulty_app`), so the core does not resolve those routes: a
    gateway run without that layer answers them 404, as before. They are in the one table
    all the same, so the OpenAPI document and the Starlette routes cover them.
    """

    CORE = "core"
    FAULTS = "faults"


@dataclass(frozen=True)
class Route:
    """``method template`` (Starlette-style ``{param}`` placeholders) and who may call it.

    ``query`` names the query parameters the route reads; any other is refused (a typo
    such as ``?aftr=5`` would otherwise be ignored silently). ``query_token`` lets a
    browser present the credential as ``?token=`` (a person opening the dashboard cannot
    set an ``Authorization`` header); the HTTP front end turns it into the bearer header,
    so the core still has one way to authenticate.
    """

    name: str
    method: str
    template: str
    auth: Auth
    query: tuple[str, ...] = ()
    query_token: bool = False
    layer: Layer = Layer.CORE
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = re.split(r"\{(\w+)\}", self.template)  # literal, name, literal, name, ...
        regex = "".join(
            f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
            for index, part in enumerate(parts)
        )
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    @property
    def accepted_query(self) -> frozenset[str]:
        """Every query parameter name the route takes, ``token`` included where allowed."""
        return frozenset(self.query + (("token",) if self.query_token else ()))

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path)
        return None if found is None else found.groupdict()


ROUTES: tuple[Route, ...] = (
    Route("submit_dossier", "POST", "/api/v1/dossiers", Auth.IVAN),
    Route("get_dossier", "GET", "/api/v1/dossiers/{ma_gdich}", Auth.IVAN),
    Route("list_messages", "GET", "/api/v1/messages", Auth.IVAN, ("after", "limit")),
    Route("ack_message", "POST", "/api/v1/messages/{message_id}/ack", Auth.IVAN),
    Route("get_catalog", "GET", "/api/v1/catalog", Auth.IVAN),
    Route("healthz", "GET", "/healthz", Auth.PUBLIC),
    Route("metrics", "GET", "/metrics", Auth.PUBLIC),
    Route("openapi", "GET", "/openapi.json", Auth.PUBLIC),
    Route("admin_clock_advance", "POST", "/admin/clock/advance", Auth.ADMIN, ("seconds",)),
    Route("admin_traffic", "GET", "/admin/traffic", Auth.ADMIN, ("after", "limit")),
    Route("admin_reset", "POST", "/admin/reset", Auth.ADMIN),
    Route(
        "dashboard",
        "GET",
        "/dashboard",
        Auth.ADMIN,
        ("ivan", "procedure", "page", "limit"),
        query_token=True,
    ),
    Route(
        "dashboard_runs",
        "GET",
        "/dashboard/runs",
        Auth.ADMIN,
        ("suite", "page", "limit"),
        query_token=True,
    ),
    Route(
        "dashboard_run_file", "GET", "/dashboard/runs/{run_id}/{name}", Auth.ADMIN, query_token=True
    ),
    Route("admin_faults", "GET", "/admin/faults", Auth.ADMIN, layer=Layer.FAULTS),
    Route("admin_faults_set", "PUT", "/admin/faults", Auth.ADMIN, layer=Layer.FAULTS),
    Route("admin_faults_clear", "DELETE", "/admin/faults", Auth.ADMIN, layer=Layer.FAULTS),
    Route(
        "admin_faults_log", "GET", "/admin/faults/log", Auth.ADMIN, ("after",), layer=Layer.FAULTS
    ),
)


SUBMISSIONS = tuple(r for r in ROUTES if r.name == "submit_dossier")
"""The routes that store a dossier: the only ones a commit-then-fail fault acts on."""


def resolve(
    method: str, path: str, layer: Layer = Layer.CORE
) -> tuple[Route | None, dict[str, str], bool]:
    """``(route, path parameters, path_known)`` among ``layer``'s routes; ``path_known``
    with no route means 405 (its methods: :func:`allowed`)."""
    path_known = False
    for route in ROUTES:
        params = route.match(path) if route.layer is layer else None
        if params is None:
            continue
        path_known = True
        if route.method == method or (method == "HEAD" and route.method == "GET"):
            return route, params, True
    return None, {}, path_known


def allowed(path: str, layer: Layer = Layer.CORE) -> str:
    """The ``Allow`` header of a 405 on ``path``: its routes' methods, sorted."""
    methods = {r.method for r in ROUTES if r.layer is layer and r.match(path) is not None}
    return ", ".join(sorted(methods))
