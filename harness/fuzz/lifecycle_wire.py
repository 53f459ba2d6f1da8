"""What the lifecycle machine sends, over the fuzz targets' own HTTP sessions: submit and
read back (:class:`~harness.fuzz.http_target.HttpTarget`), the message feed and its acks,
and, with the admin token, the simulated clock and a 503 burst.

Only DESIGN.md's wire protocol is assumed, so the same machine judges the in-process mock
and a gateway URL; what a gateway cannot give (a second I-VAN, an admin token, a fault
admin) is said in :attr:`LifecycleGateway.left_out` and its rules do not run.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field

import requests
from lxml import etree

from harness.errors import ConfigError, GatewayUnavailable
from harness.fuzz.http_target import HttpTarget
from harness.fuzz.target import Submitted
from harness.xmlsafe import XMLRejected, parse_xml

BURST_RETRIES = 6
"""Tries of one submission under 503 (same message id, as a correct I-VAN retries)."""
LONGEST_WAIT = 2.0
"""Seconds a Retry-After is honoured at most between two tries (a staging gateway's own
503s); the machine's own burst asks none."""
FEED_PAGES = 200
"""Pages read at most to reach the end of a feed that other runs filled before this one."""


class GatewayGone(BaseException):
    """The gateway stopped answering (``/healthz`` too) during the lifecycle: a stop, not a
    failure, so hypothesis neither replays nor shrinks against a gateway that is not there
    (it catches ``Exception`` only)."""

    def __init__(self, problem: GatewayUnavailable) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class FeedEntry:
    """One message of a feed page: its id, dossier, ack time and whether it is an XML text."""

    id: str
    ma_gdich: str
    acked_at: str
    readable: bool


@dataclass(frozen=True)
class FeedPage:
    status: int
    entries: tuple[FeedEntry, ...]
    cursor: int


@dataclass(frozen=True)
class DossierView:
    """``GET /api/v1/dossiers/{id}``: status, the message id it was sent under, and each of
    its messages' ack time (message id -> NGAY_XAC_NHAN, "" when not acknowledged)."""

    status: int
    message_id: str = ""
    acks: dict[str, str] = field(default_factory=dict)


@dataclass
class LifecycleGateway:
    """The two I-VANs' targets (``other`` None: no second token) and the admin session."""

    own: HttpTarget
    own_ivan: str
    other: HttpTarget | None = None
    other_ivan: str = ""
    admin: requests.Session | None = None
    clock: bool = False
    """Whether ``POST /admin/clock/advance`` answers (the admin token and the route)."""
    faults: bool = False
    """Whether ``/admin/faults`` answers with no plan of its own running (the machine
    switches its burst on and off and must not replace a plan someone set)."""
    left_out: list[str] = field(default_factory=list)
    """Rules that cannot run against this gateway, each with why (the report says them)."""
    ends: dict[str, int] = field(default_factory=dict, repr=False)
    """Each I-VAN's feed end as last found: the next sequence pages on from there."""

    @property
    def ivans(self) -> tuple[str, ...]:
        return (self.own_ivan,) if self.other is None else (self.own_ivan, self.other_ivan)

    def close(self) -> None:
        """Close the second I-VAN's and the admin sessions, which the lifecycle opened; ``own``
        is the fuzz run's target, closed by whoever opened it. An HTTPS gateway stopping
        waits on every connection a client left open."""
        if self.other is not None:
            self.other.session.close()
        if self.admin is not None:
            self.admin.close()

    def target(self, ivan: str) -> HttpTarget:
        if ivan == self.own_ivan or self.other is None:
            return self.own
        return self.other

    def submit(self, ivan: str, body: bytes, message_id: str) -> tuple[Submitted, int]:
        """POST a dossier, retrying a 503 or 429 with Retry-After under the same message id;
        the answer and how many refusals came first."""
        refused = 0
        target = self.target(ivan)
        try:
            answer = target.submit(body, message_id)
            while answer.retry_after is not None and refused < BURST_RETRIES:
                refused += 1
                time.sleep(min(answer.retry_after, LONGEST_WAIT))
                answer = target.submit(body, message_id)
        except GatewayUnavailable as exc:  # HttpTarget checked /healthz already
            raise GatewayGone(exc) from None
        return answer, refused

    def _send(self, ivan: str, method: str, path: str, **params: str) -> requests.Response:
        """One request as ``ivan``; a connection failing while ``/healthz`` fails too is
        :class:`GatewayGone` (a dropped connection of a gateway still there is raised)."""
        try:
            return self.target(ivan).request(method, path, params=params or None)
        except GatewayUnavailable as gone:
            raise GatewayGone(gone) from None

    def _get(self, ivan: str, path: str, **params: str) -> requests.Response:
        return self._send(ivan, "GET", path, **params)

    def dossier(self, ivan: str, ma_gdich: str) -> DossierView:
        response = self._get(ivan, f"/api/v1/dossiers/{ma_gdich}")
        if response.status_code != 200:
            return DossierView(response.status_code)
        root = _xml(response.content)
        if root is None:
            return DossierView(response.status_code)
        acks = {
            node.findtext("ID", ""): node.findtext("NGAY_XAC_NHAN", "")
            for node in root.iterfind("HOSO/DS_THONGBAO/THONGBAO")
        }
        return DossierView(200, root.findtext("HOSO/X_MESSAGE_ID", ""), acks)

    def feed(self, ivan: str, after: int) -> FeedPage:
        response = self._get(ivan, "/api/v1/messages", after=str(after))
        root = _xml(response.content) if response.status_code == 200 else None
        if root is None:
            return FeedPage(response.status_code, (), after)
        entries = tuple(
            FeedEntry(
                node.findtext("ID", ""),
                node.findtext("MA_GDICH", ""),
                node.findtext("NGAY_XAC_NHAN", ""),
                _is_xml(node.findtext("NOI_DUNG", "")),
            )
            for node in root.iterfind("DS_THONGBAO/THONGBAO")
        )
        text = root.findtext("CON_TRO_TIEP", "")
        return FeedPage(200, entries, int(text) if text.isdigit() else after)

    def feed_end(self, ivan: str) -> int:
        """The cursor past every message already in ``ivan``'s feed: earlier runs' and
        sequences' messages are no part of this one's model. Paging resumes at the end
        found last, so each sequence reads only what came since, not the whole feed."""
        cursor = self.ends.get(ivan, 0)
        for _ in range(FEED_PAGES):
            page = self.feed(ivan, cursor)
            if page.status != 200 or not page.entries or page.cursor == cursor:
                break
            cursor = page.cursor
        self.ends[ivan] = cursor
        return cursor

    def ack(self, ivan: str, message_id: str) -> tuple[int, str]:
        """POST the ack; its status and the ack time it answers ("" when none)."""
        response = self._send(ivan, "POST", f"/api/v1/messages/{message_id}/ack")
        root = _xml(response.content) if response.status_code == 200 else None
        at = "" if root is None else root.findtext("XACNHAN_THONGBAO/NGAY_XAC_NHAN", "")
        return response.status_code, at

    def _admin(
        self, method: str, path: str, *, probe: bool = False, **kwargs: object
    ) -> requests.Response | None:
        """An admin request; None without the admin session, or when it does not answer
        (a rule's request) or :class:`ConfigError` (the ``probe``'s, before any step)."""
        if self.admin is None:
            return None
        url = f"{self.own.base_url.rstrip('/')}{path}"
        try:
            return self.admin.request(method, url, timeout=self.own.timeout, **kwargs)  # type: ignore[arg-type]
        except requests.RequestException as exc:
            if not probe:
                return None
            raise ConfigError(
                f"gateway {url} does not answer: {type(exc).__name__}",
                hint="check that it still runs and is reachable",
            ) from None

    def advance(self, seconds: float) -> bool:
        answer = self._admin("POST", "/admin/clock/advance", params={"seconds": f"{seconds:g}"})
        return answer is not None and answer.status_code == 200

    def burst(self, count: int) -> bool:
        """The next ``count`` submissions refused 503 SRV-001, asking no wait."""
        plan = {"spec": f"burst-503:count={count},retry_after=0"}
        answer = self._admin(
            "PUT", "/admin/faults", data=json.dumps(plan),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        return answer is not None and answer.status_code == 200

    def calm(self) -> bool:
        answer = self._admin("DELETE", "/admin/faults")
        return answer is not None and answer.status_code in (200, 204)

    def probe_admin(self) -> int:
        """Find which admin rules can run, and say why the others cannot; the status (401
        or 403) with which a route refused the admin token, 0 if none did, for the caller
        that took the token to refuse it. Advancing by 0 s moves nothing."""
        if self.admin is None:
            self.left_out += [
                "advance (simulated time): no --admin-token for this gateway",
                "fault_on/fault_off (503 burst): no --admin-token for this gateway",
            ]
            return 0
        clock = self._admin("POST", "/admin/clock/advance?seconds=0", probe=True)
        shown = self._admin("GET", "/admin/faults", probe=True)
        assert clock is not None and shown is not None  # the admin session is there
        self.clock = clock.status_code == 200
        if not self.clock:
            self.left_out.append("advance: POST /admin/clock/advance is refused or absent")
        if shown.status_code != 200:
            self.left_out.append("fault_on/fault_off: GET /admin/faults is refused or absent")
        elif _plan_running(shown):
            self.left_out.append("fault_on/fault_off: the gateway runs a fault plan of its own")
        else:
            self.faults = True
        statuses = (clock.status_code, shown.status_code)
        return next((s for s in statuses if s in (401, 403)), 0)


def _plan_running(answer: requests.Response) -> bool:
    """Whether ``GET /admin/faults`` shows an active plan (or cannot be read as one)."""
    try:
        data = answer.json()
    except ValueError:
        return True
    return not isinstance(data, dict) or bool(data.get("active", True))


def _xml(body: bytes) -> etree._Element | None:
    try:
        return parse_xml(body)
    except (XMLRejected, ValueError):
        return None


def _is_xml(text: str) -> bool:
    try:
        return base64.b64decode(text, validate=True).lstrip().startswith(b"<?xml")
    except ValueError:
        return False


__all__ = ["DossierView", "FeedEntry", "FeedPage", "GatewayGone", "LifecycleGateway"]
