"""Whether the candidate keeps one I-VAN's dossiers from another (DESIGN.md: 404, not 403).

A release can lose an I-VAN filter in a query (the feed, a dossier's status) and every
compared outcome stays the same: the replay acts as one I-VAN. So after the replay a
second I-VAN, the neighbour, submits one valid dossier of each procedure the candidate
accepted, their messages are issued (the admin token moves the clock; without it their
03/TB-TS is polled for, as the replay polls for its own), and the replaying I-VAN must
not read a neighbour's dossier (``GET /api/v1/dossiers/{id}`` answers 404), find its
messages in its own feed, or acknowledge them. Each breach is a ``leaked-dossier``
difference in its procedure.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from harness.catalog import load_catalog
from harness.client import FeedMessage, IvanClient
from harness.conformance import factory_for_ivan
from harness.dossiers.corpus import CorpusEntry
from harness.dossiers.factory import DossierFactory
from harness.errors import GatewayUnavailable
from harness.message_kinds import RESULT
from harness.regression.compare import Difference
from harness.regression.corpus import CorpusRecipe
from harness.regression.replay import RETRY, GatewayTarget, advance_clock, feed_pages
from harness.signing import TestPKI

LEAKED = "leaked-dossier"
CANARY = "isolation-canary"
"""The dossier name its differences carry: the neighbour's dossier, not the corpus's."""
NOT_CHECKED = "not judged: {why}"


@dataclass(frozen=True)
class Canary:
    """A valid dossier the neighbour I-VAN submits, of one procedure."""

    procedure: str
    body: bytes


@dataclass
class Isolation:
    """What the check found: the breaches, and the procedures it could not judge (why)."""

    differences: list[Difference] = field(default_factory=list)
    unjudged: dict[tuple[str, str], str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def neighbour_factory(recipe: CorpusRecipe, pki: TestPKI, neighbour: str) -> DossierFactory:
    """Dossiers of the recipe's catalog naming I-VAN ``neighbour`` (a code the envelope
    schema cannot carry is refused, naming ``--ivan-token``)."""
    factory = DossierFactory(load_catalog(recipe.catalog), pki)
    return factory_for_ivan(factory, neighbour, pki.trust_store(), what="--ivan-token")


def canaries(recipe: CorpusRecipe, pki: TestPKI, neighbour: str) -> list[Canary]:
    """One valid dossier naming I-VAN ``neighbour`` per procedure of the recipe."""
    factory = neighbour_factory(recipe, pki, neighbour)
    procedures = recipe.procedures or tuple(factory.catalog.procedures)
    return [Canary(p, factory.build(p, 0).envelope) for p in procedures]


def accepted_procedures(
    corpus: Iterable[CorpusEntry], outcomes: dict[str, dict[str, Any]]
) -> set[str]:
    """The procedures of which the candidate accepted a dossier of the corpus."""
    return {e.procedure for e in corpus if e.procedure and outcomes.get(e.name, {}).get("accepted")}


def judge_isolation(
    target: GatewayTarget,
    recipe: CorpusRecipe,
    pki: TestPKI,
    corpus: Sequence[CorpusEntry],
    outcomes: dict[str, dict[str, Any]],
) -> Isolation:
    """:func:`check_isolation` after a replay of ``corpus``: in each procedure of which
    the candidate accepted a dossier, with the neighbour's dossiers of ``recipe``."""
    procedures = sorted(accepted_procedures(corpus, outcomes))
    sent = [] if target.neighbour is None else canaries(recipe, pki, target.neighbour[0])
    return check_isolation(target, sent, procedures)


def check_isolation(
    target: GatewayTarget, sent: Sequence[Canary], procedures: Sequence[str]
) -> Isolation:
    """Submit ``sent`` as the target's neighbour and look for them as the target's I-VAN;
    ``procedures``: every cell to judge (a procedure without an accepted canary is not)."""
    found = Isolation()
    if target.neighbour is None:
        why = NOT_CHECKED.format(why="no second I-VAN (give --ivan-token NAME=TOKEN)")
        found.unjudged = {(LEAKED, p): why for p in procedures}
        return found
    try:
        placed = _place(target, [c for c in sent if c.procedure in procedures], found)
        code = target.neighbour[0]
        for procedure in procedures:
            if procedure not in placed.values():
                why = NOT_CHECKED.format(why=f"no {code} dossier")
                found.unjudged.setdefault((LEAKED, procedure), why)
        if placed:
            found.differences += _look(target, placed, found.notes)
    except requests.RequestException as exc:
        raise GatewayUnavailable(
            f"the gateway at {target.base_url} stopped answering during the isolation check "
            f"({type(exc).__name__})\nHint: check that it still runs, then re-run"
        ) from None
    return found


def _client(target: GatewayTarget, token: str) -> IvanClient:
    """A client as the replay's retries (a 500 sent once more, then the answer)."""
    return IvanClient(
        target.base_url, token, session=target.session(), verify_tls=target.verify_tls,
        retry=RETRY,
    )  # fmt: skip


def _place(target: GatewayTarget, sent: Sequence[Canary], found: Isolation) -> dict[str, str]:
    """Submit ``sent`` as the neighbour: MA_GDICH -> procedure of each accepted; a refused
    one leaves its procedure not judged, saying how it was answered."""
    code, token = target.neighbour or ("", "")
    theirs = _client(target, token)
    placed: dict[str, str] = {}
    for canary in sent:
        answer = theirs.submit(canary.body, str(uuid.uuid4()))
        if answer.accepted and answer.ma_gdich:
            placed[answer.ma_gdich] = canary.procedure
        else:
            why = f"{code}'s dossier was answered {answer.status} {' '.join(answer.codes)}"
            found.unjudged[(LEAKED, canary.procedure)] = NOT_CHECKED.format(why=why)
    return placed


def _look(target: GatewayTarget, placed: dict[str, str], notes: list[str]) -> list[Difference]:
    """Let the neighbour's messages be issued, then look for its dossiers ``placed`` as the
    target's I-VAN: by MA_GDICH, in the feed, and by acknowledging their messages."""
    code, token = target.neighbour or ("", "")
    their_messages = _their_messages(target, _client(target, token), set(placed), notes)
    mine = _client(target, target.token)
    leaks = []
    for ma_gdich, procedure in placed.items():
        status = mine.dossier(ma_gdich).status_code
        if status != 404:
            leaks.append(_leak(procedure, "GET /api/v1/dossiers/{ma_gdich}", f"{status}"))
    for message in _feed(mine):
        if message.ma_gdich in placed:
            listed = f"{message.kind} of {code}'s dossier listed"
            leaks.append(_leak(placed[message.ma_gdich], "own feed", listed))
    for message in their_messages:
        if message.ma_gdich in placed:
            url = f"{mine.base_url}/api/v1/messages/{message.id}/ack"
            status = mine.session.post(url, timeout=mine.retry.timeout).status_code
            if status != 404:
                where = f"POST /api/v1/messages/{{id}}/ack ({message.kind})"
                leaks.append(_leak(placed[message.ma_gdich], where, f"{status}"))
    return leaks


def _their_messages(
    target: GatewayTarget, theirs: IvanClient, placed: set[str], notes: list[str]
) -> list[FeedMessage]:
    """The neighbour's feed once every dossier ``placed`` has its 03/TB-TS: the clock moved
    with the admin token, else polled for as the replay polls for its own (``poll_timeout``;
    a note says what had not come by then, looked for all the same)."""
    if target.admin_token:
        admin = target.session()
        admin.headers["Authorization"] = f"Bearer {target.admin_token}"
        advance_clock(admin, target.base_url, target.advance_seconds)
    deadline = time.monotonic() + target.poll_timeout
    messages: list[FeedMessage] = []
    while True:
        messages += _feed(theirs)
        waiting = placed - {m.ma_gdich for m in messages if m.kind == RESULT}
        if not waiting or target.admin_token or time.monotonic() > deadline:
            break
        time.sleep(target.poll_interval)
    if waiting:
        code = target.neighbour[0] if target.neighbour else ""
        notes.append(
            f"isolation: {len(waiting)} of {code}'s dossier(s) had no {RESULT} yet when "
            "looked for; their later messages were not looked for"
        )
    return messages


def _feed(client: IvanClient) -> list[FeedMessage]:
    """Every message of the feed past ``client``'s cursor (a new client's: all), not
    acknowledged; the cursor moves past them."""
    return [message for page in feed_pages(client) for message in page]


LEAK_LINE = "isolation ({procedure}): another I-VAN's dossier reached this one: "
"""How :func:`leak_line` begins (``record`` counts its warnings of each kind apart)."""


def leak_line(leak: Difference) -> str:
    """One line for a leak outside a regression (``record``'s warnings)."""
    return LEAK_LINE.format(procedure=leak.procedure) + (
        f"{leak.field}: {leak.actual} (expected {leak.expected})"
    )


def is_leak_line(line: str) -> bool:
    """Whether ``line`` is one of :func:`leak_line`'s."""
    return line.startswith(LEAK_LINE.partition("{")[0])


def _leak(procedure: str, where: str, actual: str) -> Difference:
    expected = "absent" if where == "own feed" else "404"
    return Difference(LEAKED, procedure, CANARY, (), where, expected, actual)


__all__ = [
    "CANARY",
    "LEAKED",
    "Canary",
    "Isolation",
    "accepted_procedures",
    "canaries",
    "check_isolation",
    "is_leak_line",
    "judge_isolation",
    "leak_line",
    "neighbour_factory",
]
