"""Replay a corpus against a gateway over its wire protocol and collect normalised outcomes.

Only DESIGN.md's gateway API is assumed, so the same replay runs against the in-process
mock (a ``requests`` session mounted on its core) and against any URL with a bearer
token and a TLS option. For each dossier: submit with a fresh ``X-Message-Id``, time it,
and for an accepted one submit again with the same id (idempotency must return the same
receipt). Then let the lifecycle run: with an admin token the simulated clock is
advanced through ``POST /admin/clock/advance``; without one the feed is polled until
every accepted dossier has its 03/TB-TS result or the timeout passes. Messages are read
from the feed, acknowledged (as a correct I-VAN must) and attached to their dossier.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from harness.client import RETRYABLE_STATUS, Answer, FeedMessage, IvanClient, Journal, RetryPolicy
from harness.dossiers.corpus import CorpusEntry
from harness.errors import ConfigError, GatewayUnavailable
from harness.message_kinds import RESULT
from harness.regression.normalise import Masks, message, outcome
from harness.regression.transport import TransportStats, watched
from harness.reporting.bundle import when_stopped
from harness.tls import gateway_session, reach
from harness.xmlsafe import parse_xml

RETRY = RetryPolicy(server_error_attempts=2)
"""The reference client's retry policy: after this many attempts a dossier is unavailable;
a 500 is sent once more (an acknowledge-then-500 then gets its stored receipt) and, if it
persists, is the candidate's answer: a regression must conclude, not wait out a broken build."""


class _NoJournal(Journal):
    """The regression replay keeps outcomes, not bytes: 10,000 dossiers must fit in memory."""

    def record(self, direction: str, kind: str, key: str, content: bytes) -> None:
        return None


@dataclass
class GatewayTarget:
    """A gateway to replay against: its URL, the I-VAN's token, optionally the admin's.

    ``session_factory`` builds the HTTP session (the in-process gateway mounts its core on
    one); by default a plain ``requests.Session`` with ``verify_tls``.
    """

    base_url: str
    token: str
    admin_token: str | None = None
    verify_tls: bool | str = True
    name: str = ""
    advance_seconds: float = 3 * 86400.0
    poll_timeout: float = 300.0
    poll_interval: float = 2.0
    session_factory: Callable[[], requests.Session] | None = None
    neighbour: tuple[str, str] | None = None
    """A second I-VAN's code and token, for the isolation check (None: not checked)."""

    def session(self) -> requests.Session:
        factory = self.session_factory
        session = factory() if factory else gateway_session(self.verify_tls)
        session.verify = self.verify_tls
        return session

    def client(self, stats: TransportStats | None = None) -> IvanClient:
        """The reference client; with ``stats``, its retries and resets are counted there."""
        session = self.session() if stats is None else watched(self.session(), stats)
        return IvanClient(
            self.base_url, self.token, session=session, journal=_NoJournal(),
            verify_tls=self.verify_tls, retry=RETRY,
            sleep=time.sleep if stats is None else stats.sleep,
        )  # fmt: skip


@dataclass
class Replay:
    """What one replay produced: outcomes by dossier name, latencies, served catalogs."""

    outcomes: dict[str, dict[str, Any]]
    latencies_ms: dict[str, list[float]]
    catalogs: list[str]
    elapsed: float = 0.0
    notes: list[str] = field(default_factory=list)
    transport: TransportStats | None = None
    target: str = ""  # the gateway's name, as reports show it
    waiting: int = 0
    """Accepted dossiers whose 03/TB-TS had not come when feed polling timed out: their
    lifecycle is unknown, not missing (``record`` refuses to store it)."""
    catalog_broken: str = ""
    """``GET /api/v1/catalog answered 500 ...`` when the catalog endpoint broke ("" else)."""
    unacknowledged: dict[str, dict[str, str]] = field(default_factory=dict)
    """Dossier name -> message kind -> the answer refusing its acknowledgement (``POST
    /api/v1/messages/{id}/ack answered 500 ...``): a gateway fault, not an unreachable one."""


def served_catalogs(client: IvanClient) -> tuple[list[str], list[str]]:
    """Catalog versions the gateway serves (``GET /api/v1/catalog``), oldest first, and a
    note when they could not be read: without them a removed catalog goes unjudged."""
    versions, why, _broken = _read_catalogs(client)
    return versions, [_catalogs_unread(why)] if why else []


def _read_catalogs(client: IvanClient) -> tuple[list[str], str, str]:
    """The served versions, why they could not be read (""), and ``GET /api/v1/catalog
    answered 500 ...`` when the endpoint broke (a 500, not a refusal or a dropped line):
    a defect of the build, where the others only leave catalog removal unjudged."""
    try:
        response = client.session.get(f"{client.base_url}/api/v1/catalog", timeout=30)
    except requests.RequestException as exc:
        return [], _short(exc), ""
    if not response.ok:
        status = f"{response.status_code} {response.reason or ''}".strip()
        broken = response.status_code >= 500 and response.status_code not in RETRYABLE_STATUS
        return [], status, f"GET /api/v1/catalog answered {status}" if broken else ""
    try:
        root = parse_xml(response.content)
    except ValueError:
        return [], "the answer is not XML", ""
    versions = [str(node.get("PHIEN_BAN")) for node in root.iterfind("DANH_MUC")]
    return versions, "" if versions else "the answer lists no DANH_MUC", ""


def _catalogs_unread(why: str, broken: str = "") -> str:
    if broken:  # judged as a difference of its own
        return (
            f"the served catalogs could not be read ({why}): the catalog endpoint is broken; "
            "the rest was replayed, catalog versions newly served were not exercised"
        )
    return f"the served catalogs could not be read ({why}); catalog removal not judged"


def replay(
    target: GatewayTarget,
    corpus: Sequence[CorpusEntry],
    masks: Masks,
    *,
    on_progress: Callable[[int], None] | None = None,
    max_backoff: float | None = None,
    on_stop: Callable[[Replay], None] | None = None,
) -> Replay:
    """Submit every entry, run the lifecycle, and return the normalised outcomes.

    A dossier the gateway refused (429/5xx) or dropped through every retry gets an
    ``unavailable`` outcome; a gateway that no longer answers at all, or announces
    maintenance, stops the run with :class:`GatewayUnavailable`. Stopped by Ctrl-C or
    SIGTERM, the replay first hands ``on_stop`` what it has: the outcomes of the dossiers
    submitted so far, whose lifecycle messages may not all have been read.
    """
    started = time.perf_counter()
    stats = TransportStats(target.base_url)
    if max_backoff is not None:
        stats.max_backoff = max_backoff
    client = target.client(stats)
    catalogs, unread, broken = _read_catalogs(client)
    catalog_notes = [_catalogs_unread(unread, broken)] if unread else []
    outcomes: dict[str, dict[str, Any]] = {}
    latencies: dict[str, list[float]] = defaultdict(list)
    pending: dict[str, str] = {}  # MA_GDICH -> dossier name

    def stopped() -> None:
        if on_stop is not None:
            elapsed = time.perf_counter() - started
            on_stop(Replay(outcomes, dict(latencies), catalogs, elapsed, catalog_notes, stats))

    with when_stopped(stopped):
        for index, entry in enumerate(corpus, 1):
            result, took, ma_gdich = _replay_one(target, client, stats, entry, masks, index, corpus)
            if took is not None:
                latencies[entry.procedure or "static"].append(took)
            if ma_gdich is not None:
                pending[ma_gdich] = entry.name
            outcomes[entry.name] = result
            if on_progress is not None:
                on_progress(index)
        unacknowledged: dict[str, dict[str, str]] = {}
        notes, waiting = _read_lifecycle(target, client, pending, outcomes, masks, unacknowledged)
    elapsed = time.perf_counter() - started
    notes = catalog_notes + notes
    return Replay(
        outcomes, dict(latencies), catalogs, elapsed, notes, stats, waiting=waiting,
        catalog_broken=broken, unacknowledged=unacknowledged,
    )  # fmt: skip


def _replay_one(
    target: GatewayTarget,
    client: IvanClient,
    stats: TransportStats,
    entry: CorpusEntry,
    masks: Masks,
    index: int,
    corpus: Sequence[CorpusEntry],
) -> tuple[dict[str, Any], float | None, str | None]:
    """Submit ``entry`` (an accepted one twice: idempotency); its outcome, its latency in ms
    (None when it gave up) and, when accepted, its MA_GDICH (its lifecycle is read later)."""
    message_id = str(uuid.uuid4())
    t0, waited = time.perf_counter(), stats.backoff
    answer = _submit(target, client, entry.body, message_id, f"{index - 1} of {len(corpus)}")
    took = None
    elapsed = time.perf_counter() - t0 - (stats.backoff - waited)  # before normalising it
    if isinstance(answer, str):
        result: dict[str, Any] = {"status": 0, "accepted": False, "codes": []}
        result.update(findings=[], answer={}, unavailable=answer)
    else:
        result = outcome(answer, masks)
        if answer.status in RETRYABLE_STATUS:
            result["unavailable"] = _gave_up(f"{answer.status} {' '.join(answer.codes)}")
        elif answer.status < 500:  # the gateway's time, not the client's back-off (a 500,
            # retried once, is two requests' time: no sample of the release's processing)
            took = elapsed * 1000.0
    ma_gdich = None
    if not isinstance(answer, str) and answer.accepted:
        again = _submit(target, client, entry.body, message_id, f"{index} of {len(corpus)}")
        result["replay"] = _replayed(answer, again)
        ma_gdich = answer.ma_gdich
    result["messages"] = []
    return result, took, ma_gdich


def _read_lifecycle(
    target: GatewayTarget,
    client: IvanClient,
    pending: dict[str, str],
    outcomes: dict[str, dict[str, Any]],
    masks: Masks,
    unacknowledged: dict[str, dict[str, str]],
) -> tuple[list[str], int]:
    """:func:`_lifecycle`, a gateway that stops answering meanwhile being unavailable (one
    that answers a feed or clock request with an error is named with that request)."""
    try:
        return _lifecycle(target, client, pending, outcomes, masks, unacknowledged)
    except requests.HTTPError as exc:
        raise GatewayUnavailable(
            f"the gateway at {target.base_url} answers, but {_failed(exc)} while its feed "
            "was read (after the client's retries), so the dossiers' lifecycle messages "
            "could not be read\nHint: look in the gateway's log for why that request "
            "fails (with --admin-token, a 401/403 there means the token is not the one it "
            "was started with); the dossiers were submitted, re-run to compare"
        ) from None
    except requests.RequestException as exc:
        raise GatewayUnavailable(
            f"the gateway at {target.base_url} stopped answering while its feed was read: "
            f"{_short(exc)}\nHint: check that it still runs (and, with --admin-token, that "
            "the token is right); the dossiers were submitted, re-run to compare"
        ) from None


def time_submissions(
    target: GatewayTarget, corpus: Sequence[CorpusEntry], *, max_backoff: float | None = None
) -> dict[str, list[float]]:
    """Submit every entry once more (a fresh ``X-Message-Id`` each) and time the answers,
    by procedure: a second sample of a procedure whose latency looked worse, to tell a
    slower release from a busy machine. Outcomes and the lifecycle are not read again."""
    stats = TransportStats(target.base_url)
    if max_backoff is not None:
        stats.max_backoff = max_backoff
    client = target.client(stats)
    latencies: dict[str, list[float]] = defaultdict(list)
    for index, entry in enumerate(corpus):
        t0, waited = time.perf_counter(), stats.backoff
        answer = _submit(target, client, entry.body, str(uuid.uuid4()), f"{index} (re-timing)")
        if not isinstance(answer, str) and answer.status < 500:
            took = time.perf_counter() - t0 - (stats.backoff - waited)
            latencies[entry.procedure or "static"].append(took * 1000.0)
    return dict(latencies)


def _replayed(first: Answer, again: Answer | str) -> dict[str, Any]:
    """The idempotent resubmission: its status, whether the receipt is the same, and
    (only when it is not: a baseline's bytes stay) the codes saying why."""
    if isinstance(again, str):
        return {"status": 0, "same_receipt": False, "codes": [again]}
    if again.ma_gdich == first.ma_gdich and again.raw == first.raw:
        return {"status": again.status, "same_receipt": True}
    return {"status": again.status, "same_receipt": False, "codes": again.codes}


def _gave_up(what: str) -> str:
    return f"{what.strip()} after {RETRY.attempts} attempts"


def _short(exc: requests.RequestException) -> str:
    """``HTTPError 401 ...`` or ``ConnectionError``: no urllib3 pool internals."""
    response = getattr(exc, "response", None)
    if response is not None:
        return f"{response.status_code} {response.reason or ''}".strip()
    return type(exc).__name__


def _failed(exc: requests.HTTPError, message_id: str = "") -> str:
    """``POST /api/v1/messages/{id}/ack answered 500 Internal Server Error``: the request
    that failed (a message id as ``{id}``: the same for every run) and its answer."""
    request, response = exc.request, exc.response
    url = urlsplit(str(request.url)) if request is not None else None
    path = "?" if url is None else url.path + (f"?{url.query}" if url.query else "")
    if message_id:
        path = path.replace(message_id, "{id}")
    method = request.method if request is not None else ""
    status = f"{response.status_code} {response.reason or ''}" if response is not None else "?"
    return f"{method} {path} answered {status.strip()}".strip()


def _submit(
    target: GatewayTarget, client: IvanClient, body: bytes, message_id: str, done: str
) -> Answer | str:
    """The gateway's answer, or why none came (the gateway answers other requests); a
    gateway that no longer answers at all is :class:`GatewayUnavailable`."""
    try:
        return client.submit(body, message_id)
    except (requests.ConnectionError, requests.Timeout) as exc:
        failure = _gave_up(f"{type(exc).__name__} (no answer)")
    with target.session() as session:
        try:
            reach(session, target.base_url)
        except ConfigError:
            raise GatewayUnavailable(
                f"the gateway at {target.base_url} stopped answering after {done} dossiers "
                "(connections refused or dropped, /healthz too)\nHint: check that it still "
                "runs and is reachable, then re-run"
            ) from None
    return failure


def _lifecycle(
    target: GatewayTarget,
    client: IvanClient,
    pending: dict[str, str],
    outcomes: dict[str, dict[str, Any]],
    masks: Masks,
    unacknowledged: dict[str, dict[str, str]],
) -> tuple[list[str], int]:
    """Advance (or wait), read the feed, attach each message to its dossier; the notes,
    and how many dossiers were still waiting for their 03/TB-TS when polling timed out."""
    if not pending:
        return [], 0
    notes: list[str] = []
    admin = None
    if target.admin_token:
        admin = target.session()
        admin.headers["Authorization"] = f"Bearer {target.admin_token}"
        advance_clock(admin, target.base_url, target.advance_seconds)
    finished: set[str] = set()
    deadline = time.monotonic() + target.poll_timeout
    while True:
        refused: dict[str, str] = {}
        batch = _read_feed(client, refused)
        for item in batch:
            name = pending.get(item.ma_gdich)
            if name is None:
                continue  # another run's or another dossier's message
            outcomes[name]["messages"].append(message(item.kind, item.content, masks))
            if item.id in refused:
                unacknowledged.setdefault(name, {})[item.kind] = refused[item.id]
            if item.kind == RESULT:
                finished.add(item.ma_gdich)
        if len(finished) == len(pending):
            break
        if admin is not None:
            if not batch and advance_clock(admin, target.base_url, 0.0) <= 0:
                break  # nothing more will come: the candidate lost messages
            continue
        if time.monotonic() > deadline:
            waiting = len(pending) - len(finished)
            notes.append(
                f"feed polling stopped after {target.poll_timeout:.0f} s with "
                f"{waiting} dossier(s) still waiting for {RESULT}"
            )
            return notes, waiting
        time.sleep(target.poll_interval)
    return notes, 0


def advance_clock(admin: requests.Session, base_url: str, seconds: float) -> int:
    """Fast-forward the gateway's clock; how many messages it issued (-1: unknown)."""
    response = admin.post(
        f"{base_url.rstrip('/')}/admin/clock/advance",
        params={"seconds": f"{seconds:g}"},
        timeout=120,
    )
    response.raise_for_status()
    try:
        return int(json.loads(response.content).get("issued", -1))
    except (ValueError, TypeError, AttributeError):
        return -1


def _read_feed(client: IvanClient, refused: dict[str, str]) -> list[FeedMessage]:
    """Every message currently in the feed after the client's cursor, acknowledged; an
    acknowledgement the gateway answered with an error goes in ``refused`` (message id ->
    the answer): the feed still reads, so the run goes on and judges it."""
    out: list[FeedMessage] = []
    for batch in feed_pages(client):
        for item in batch:
            try:
                client.ack(item.id)
            except requests.HTTPError as exc:
                refused[item.id] = _failed(exc, item.id)
        out += batch
    return out


FEED_PAGE = 1000
"""Messages asked for per feed request."""


def feed_pages(client: IvanClient) -> Iterator[list[FeedMessage]]:
    """The feed past ``client``'s cursor, page by page until a short one; the cursor moves
    past each page as it is read."""
    while True:
        batch = client.poll(limit=FEED_PAGE)
        yield batch
        if len(batch) < FEED_PAGE:
            return


__all__ = [
    "GatewayTarget",
    "Replay",
    "advance_clock",
    "feed_pages",
    "replay",
    "served_catalogs",
]
