"""``GET /dashboard``: a server-rendered page of dossiers, their status and messages.

For people watching a test run, not for I-VANs: it needs the admin credential (as a
bearer header, or ``?token=`` so a browser can open it, see
:attr:`mock_gateway.routes.Route.query_token`; :func:`token_redirect` then moves it into a
cookie). The page is one Jinja2 template with
inline CSS and no script or external asset, so it works on a closed network and in a
report archive. Every listing is bounded (a page of at most :data:`MAX_LIMIT` dossiers)
because the store may hold a 100,000-dossier load run.

It reads the store's tables directly with one query for the page of dossiers and one
for their messages, rather than adding listing methods to :class:`~mock_gateway.store.Store`
that nothing else needs.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader
from sqlalchemy import func, select

from mock_gateway import params, schema
from mock_gateway.clock import from_iso, iso
from mock_gateway.exchange import GatewayRequest, GatewayResponse, Handler
from mock_gateway.messages import ENVIRONMENT, VN_TIME
from mock_gateway.records import (
    DOSSIER_COLUMNS,
    DossierRecord,
    MessageRecord,
    dossier_record,
    message_record,
)

if TYPE_CHECKING:
    from harness.catalog import Catalog
    from mock_gateway.core import Gateway

HTML = "text/html; charset=utf-8"
PAGE_HEADERS = {
    "Content-Type": HTML,
    # A page opened with ?token= (answered by a redirect): never cache or leak it.
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
"""Headers of the dashboard's own pages (no script, no external asset)."""
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_PAGE = 10_000
FILTER_MAX = 20
"""Longest I-VAN or procedure filter: the width of those columns in the store."""

STATUS_LABELS = {
    "received": "Đã tiếp nhận",
    "handed_over": "Đã chuyển xử lý (02/TB-TS)",
    "accepted": "Đã có kết quả (03/TB-TS)",
    "defective": "Có sai sót (03/TB-TS)",
    "rejected": "Bị từ chối",
}
"""Vietnamese labels of the lifecycle statuses; an unknown status is shown as stored."""

TEMPLATES = Environment(
    loader=PackageLoader("mock_gateway", "templates"),
    autoescape=True,  # dossier fields come from I-VANs under test: untrusted text
    trim_blocks=True,
    lstrip_blocks=True,
)


def vietnam_time(stored: str | None) -> str:
    """A stored UTC moment as the receipts show it (Vietnam time, dd/MM/yyyy HH:MM:SS),
    so the page and a receipt's NGAY_NHAN/GIO_NHAN read alike; "" for none."""
    if not stored:
        return ""
    try:
        moment = from_iso(stored).astimezone(VN_TIME)
    except ValueError:  # not a stored moment: show it as it is
        return stored
    return moment.strftime("%d/%m/%Y %H:%M:%S")


TEMPLATES.filters["vietnam_time"] = vietnam_time


@dataclass(frozen=True)
class Row:
    """One dossier of the page with its messages, oldest message first."""

    dossier: DossierRecord
    messages: list[MessageRecord]
    procedure_name: str = ""
    """The name the catalog governing its period gives its procedure ("": none names it)."""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.dossier.status, self.dossier.status)


@dataclass(frozen=True)
class Query:
    """The filters and page asked for; empty filters match everything."""

    ivan: str
    procedure: str
    page: int
    limit: int

    @classmethod
    def parse(cls, request: GatewayRequest) -> Query:
        """Read the query string; a malformed value is the client's mistake (REQ-002)."""
        return cls(
            ivan=params.text(request, "ivan", FILTER_MAX),
            procedure=params.text(request, "procedure", FILTER_MAX),
            page=params.integer(request, "page", 1, 1, MAX_PAGE),
            limit=params.integer(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        )


def procedure_names(catalogs: Sequence[Catalog]) -> dict[str, str]:
    """Each procedure code's name (NFC) in the newest served catalog naming it, so a code
    only an older version has is still named; a code no catalog names is absent."""
    names: dict[str, str] = {}
    for catalog in reversed(catalogs):  # served oldest first
        for code, procedure in catalog.procedures.items():
            if procedure.name:
                names.setdefault(code, unicodedata.normalize("NFC", procedure.name))
    return names


def _named(gw: Gateway, dossier: DossierRecord, names: dict[str, str]) -> str:
    """The name of ``dossier``'s procedure in the catalog governing its period, else
    in the newest naming it."""
    procedure = gw.catalogs.for_period(dossier.period).procedures.get(dossier.procedure)
    if procedure is not None and procedure.name:
        return unicodedata.normalize("NFC", procedure.name)
    return names.get(dossier.procedure, "")


def _rows(
    gw: Gateway, query: Query, names: dict[str, str]
) -> tuple[list[Row], int, list[str], list[str]]:
    """The page's rows, the number of matching dossiers, and the known I-VANs and procedures."""
    d, m = schema.dossiers, schema.messages
    where = []
    if query.ivan:
        where.append(d.c.ivan == query.ivan)
    if query.procedure:
        where.append(d.c.procedure == query.procedure)
    with gw.store.read() as conn:
        total = int(conn.execute(select(func.count()).select_from(d).where(*where)).scalar_one())
        found = conn.execute(
            select(*DOSSIER_COLUMNS)
            .where(*where)
            .order_by(d.c.received_at.desc(), d.c.ma_gdich.desc())
            .limit(query.limit)
            .offset((query.page - 1) * query.limit)
        ).all()
        dossiers = [dossier_record(r) for r in found]
        by_dossier: dict[str, list[MessageRecord]] = defaultdict(list)
        if dossiers:
            listed = conn.execute(
                select(m)
                .where(m.c.ma_gdich.in_([x.ma_gdich for x in dossiers]))
                .order_by(m.c.sequence)
            ).all()
            for row in listed:
                message = message_record(row)
                by_dossier[message.ma_gdich].append(message)
        ivans = list(conn.execute(select(d.c.ivan).distinct().order_by(d.c.ivan)).scalars())
        procedures = list(
            conn.execute(select(d.c.procedure).distinct().order_by(d.c.procedure)).scalars()
        )
    rows = [Row(x, by_dossier.get(x.ma_gdich, []), _named(gw, x, names)) for x in dossiers]
    return rows, total, ivans, procedures


ADMIN_COOKIE = "bhxh_admin"
"""The cookie a browser keeps the admin token in once it opened a page with ``?token=``."""


def token_redirect(request: GatewayRequest) -> GatewayResponse | None:
    """For a page opened with ``?token=`` (already authenticated), a 303 to the same page
    without it, setting the token as an HttpOnly cookie: links, history and a shared
    screen then carry no credential. None when the request has no ``token``.

    SameSite=Lax, not Strict: a report file is served in a CSP sandbox (an opaque origin),
    so its own links to its sibling files are cross-site navigations, which carry a Lax
    cookie and not a Strict one. Lax still keeps it off cross-site subrequests and POSTs,
    and the cookie is honoured only by these read-only pages, never by /admin or the API."""
    token = request.query.get("token")
    if not token:
        return None
    kept = {k: v for k, v in request.query.items() if k != "token"}
    location = request.path + ("?" + urlencode(kept) if kept else "")
    cookie = f"{ADMIN_COOKIE}={quote(token, safe='')}; HttpOnly; SameSite=Lax; Path=/dashboard"
    headers = {**PAGE_HEADERS, "Location": location, "Set-Cookie": cookie}
    return GatewayResponse(303, headers, b"")


def render(gw: Gateway, query: Query) -> str:
    """The page for ``query``; its links carry no token (the browser has the cookie)."""
    names = procedure_names(gw.catalogs.catalogs)
    rows, total, ivans, procedures = _rows(gw, query, names)
    pages = max(1, -(-total // query.limit))
    past_end = query.page > pages  # said so, with a way back, not "Trang 3/2"

    def link(page: int) -> str:
        params: dict[str, Any] = {"page": page, "limit": query.limit}
        if query.ivan:
            params["ivan"] = query.ivan
        if query.procedure:
            params["procedure"] = query.procedure
        return "?" + urlencode(params)

    return TEMPLATES.get_template("dashboard.html.j2").render(
        environment=ENVIRONMENT,
        rows=rows,
        total=total,
        query=query,
        pages=pages,
        ivans=ivans,
        procedures=procedures,
        procedure_names=names,
        previous=link(query.page - 1) if 1 < query.page <= pages else None,
        next=link(query.page + 1) if query.page < pages else None,
        past_end=past_end,
        first=link(1),
        last=link(pages),
        runs_link="dashboard/runs",
        now=iso(gw.clock.now()),
        catalogs=[c.version for c in gw.catalogs.catalogs],
    )


def handlers(gw: Gateway) -> dict[str, Handler]:
    """The dashboard handler of ``gw``, keyed by route name."""

    def dashboard(request: GatewayRequest, _p: dict[str, str], _i: str | None) -> GatewayResponse:
        query = Query.parse(request)  # a bad filter is refused, token or not
        redirect = token_redirect(request)
        if redirect is not None:
            return redirect
        page = render(gw, query)
        return GatewayResponse(200, dict(PAGE_HEADERS), page.encode("utf-8"))

    return {"dashboard": dashboard}
