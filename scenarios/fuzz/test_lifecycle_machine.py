"""Stateful fuzzing of the dossier lifecycle against the in-process mock gateway.

Two I-VANs submit, resubmit (same id and body, or same id and another body), read their
feeds, acknowledge, try to read each other's dossiers and messages, and let simulated time
pass, while a 503 burst fault is switched on and off (submissions then retry under the same
message id, as a correct I-VAN does). After every step the invariants must hold: every
receipt stays readable by its owner and invisible to the other I-VAN, a message id answers
exactly one receipt, the feed never repeats or leaks a message, and acknowledged messages
stay acknowledged.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from harness.catalog import load_catalog
from harness.dossiers.factory import DossierFactory
from harness.signing import TestPKI, ensure_pki
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.faulty_app import FaultyGateway, parse_spec
from mock_gateway.testing import Answer, InProcessGateway

IVANS = ("IVAN01", "IVAN02")
NAMES = {"IVAN01": "I-VAN THỬ NGHIỆM SỐ 1", "IVAN02": "I-VAN THỬ NGHIỆM SỐ 2"}
POOL = 4


@dataclass
class Submission:
    ivan: str
    message_id: str
    body: bytes
    ma_gdich: str


@dataclass
class Model:
    """What the gateway must know, from the outside."""

    receipts: dict[str, Submission] = field(default_factory=dict)  # by message id
    seen_messages: dict[str, set[str]] = field(default_factory=lambda: {i: set() for i in IVANS})
    acked: dict[str, set[str]] = field(default_factory=lambda: {i: set() for i in IVANS})
    cursor: dict[str, int] = field(default_factory=lambda: dict.fromkeys(IVANS, 0))


_POOLS: dict[str, list[bytes]] = {}
STATS = {"receipts": 0, "messages": 0, "acked": 0, "refused": 0}
"""What the runs exercised, so the test can tell a real run from a vacuous one."""


def pool(ivan: str, pki: TestPKI) -> list[bytes]:
    """A few valid signed dossiers per I-VAN, built once (signing is the slow part)."""
    if ivan not in _POOLS:
        factory = DossierFactory(load_catalog("2026.1"), pki, ivan=(ivan, NAMES[ivan]))
        procedures = list(factory.catalog.procedures)
        _POOLS[ivan] = [
            factory.build(procedures[i % len(procedures)], 500 + i).envelope for i in range(POOL)
        ]
    return _POOLS[ivan]


class Lifecycle(RuleBasedStateMachine):
    submissions = Bundle("submissions")

    def __init__(self) -> None:
        super().__init__()
        self.pki = ensure_pki()
        self.context = InProcessGateway(pki=self.pki)
        self.gw = self.context.__enter__()
        self.faulty = FaultyGateway(self.gw.gateway)
        self.model = Model()
        self.refused = 0

    def teardown(self) -> None:
        STATS["receipts"] += len(self.model.receipts)
        STATS["messages"] += sum(len(m) for m in self.model.seen_messages.values())
        STATS["acked"] += sum(len(m) for m in self.model.acked.values())
        STATS["refused"] += self.refused
        self.context.__exit__(None, None, None)

    def _other(self, ivan: str) -> str:
        return IVANS[1 - IVANS.index(ivan)]

    def _submit(self, ivan: str, body: bytes, message_id: str) -> GatewayResponse:
        """POST through the fault layer; on 503 retry with the same message id."""
        headers = {
            "Authorization": f"Bearer {self.gw.token(ivan)}",
            "Content-Type": "application/xml",
            "X-Message-Id": message_id,
        }
        request = GatewayRequest("POST", "/api/v1/dossiers", headers, {}, body)
        for _ in range(6):
            response = self.faulty.handle(request)
            if response.status != 503:
                return response
            assert Answer.parse(response).codes == ["SRV-001"]
            assert "Retry-After" in response.headers
            self.refused += 1
        raise AssertionError("still 503 after 6 tries: the burst never ended")

    @rule(count=st.integers(1, 3))
    def fault_on(self, count: int) -> None:
        self.faulty.set_plan(parse_spec(f"burst-503:count={count},retry_after=1"), seed=0)

    @rule()
    def fault_off(self) -> None:
        self.faulty.clear()

    @rule(target=submissions, ivan=st.sampled_from(IVANS), index=st.integers(0, POOL - 1))
    def submit(self, ivan: str, index: int) -> Submission:
        body = pool(ivan, self.pki)[index]
        message_id = uuid.uuid4().hex
        response = self._submit(ivan, body, message_id)
        assert response.status == 202, response.body[-500:]
        answer = Answer.parse(response)
        assert answer.ma_gdich not in {s.ma_gdich for s in self.model.receipts.values()}
        submission = Submission(ivan, message_id, body, answer.ma_gdich)
        self.model.receipts[message_id] = submission
        return submission

    @rule(submission=submissions)
    def resubmit_same(self, submission: Submission) -> None:
        response = self._submit(submission.ivan, submission.body, submission.message_id)
        assert response.status == 202
        assert Answer.parse(response).ma_gdich == submission.ma_gdich

    @rule(submission=submissions, index=st.integers(0, POOL - 1))
    def resubmit_other_body(self, submission: Submission, index: int) -> None:
        body = pool(submission.ivan, self.pki)[index]
        response = self._submit(submission.ivan, body, submission.message_id)
        expected = 202 if body == submission.body else 409
        assert response.status == expected

    @rule(seconds=st.sampled_from([900.0, 3600.0, 7200.0]))
    def advance(self, seconds: float) -> None:
        self.gw.advance(seconds)

    @rule(ivan=st.sampled_from(IVANS))
    def poll(self, ivan: str) -> None:
        after = self.model.cursor[ivan]
        response = self.gw.request(
            "GET", "/api/v1/messages", ivan=ivan, query={"after": str(after)}
        )
        assert response.status == 200
        root = Answer.parse(response).root
        own = {s.ma_gdich for s in self.model.receipts.values() if s.ivan == ivan}
        for node in root.iterfind("DS_THONGBAO/THONGBAO"):
            message_id = node.findtext("ID", "")
            assert message_id not in self.model.seen_messages[ivan], "feed repeated a message"
            assert node.findtext("MA_GDICH") in own, "feed leaked another I-VAN's message"
            assert base64.b64decode(node.findtext("NOI_DUNG", "")).startswith(b"<?xml")
            self.model.seen_messages[ivan].add(message_id)
        self.model.cursor[ivan] = int(root.findtext("CON_TRO_TIEP", str(after)))

    @rule(ivan=st.sampled_from(IVANS), data=st.data())
    def ack(self, ivan: str, data: st.DataObject) -> None:
        self.poll(ivan)  # an I-VAN acks what it has read; read first so there is something
        seen = sorted(self.model.seen_messages[ivan])
        if not seen:
            return
        message_id = data.draw(st.sampled_from(seen))
        response = self.gw.request("POST", f"/api/v1/messages/{message_id}/ack", ivan=ivan)
        assert response.status == 200
        self.model.acked[ivan].add(message_id)
        stranger = self.gw.request(
            "POST", f"/api/v1/messages/{message_id}/ack", ivan=self._other(ivan)
        )
        assert stranger.status == 404

    @invariant()
    def receipts_readable_by_owner_only(self) -> None:
        for submission in self.model.receipts.values():
            path = f"/api/v1/dossiers/{submission.ma_gdich}"
            assert self.gw.request("GET", path, ivan=submission.ivan).status == 200
            assert self.gw.request("GET", path, ivan=self._other(submission.ivan)).status == 404

    @invariant()
    def stored_once_per_message_id(self) -> None:
        distinct = {s.ma_gdich for s in self.model.receipts.values()}
        assert len(distinct) == len(self.model.receipts)


def test_lifecycle_state_machine() -> None:
    Lifecycle.TestCase.settings = settings(
        max_examples=10, stateful_step_count=25, deadline=None, derandomize=True, database=None
    )
    Lifecycle.TestCase().runTest()
    assert all(STATS[k] > 0 for k in ("receipts", "messages", "acked", "refused")), STATS
