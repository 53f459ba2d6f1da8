"""``/metrics``: every metric has a ``# HELP``, the document says the counters are the sum
over every worker, and the store's dossiers and lifecycle backlog are gauges."""

from __future__ import annotations

import re

from mock_gateway.openapi import document
from mock_gateway.testing import InProcessGateway
from tests.gateway.conftest import ValidDossiers


def _metrics(gw: InProcessGateway) -> str:
    answer = gw.request("GET", "/metrics", ivan=None)
    assert answer.status == 200
    return answer.body.decode()


def _gauge(text: str, name: str) -> float | None:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    return None if found is None else float(found.group(1))


def test_every_metric_with_a_type_has_a_help(gw: InProcessGateway) -> None:
    gw.request("GET", "/healthz", ivan=None)
    text = _metrics(gw)
    typed = re.findall(r"^# TYPE (\S+) ", text, re.MULTILINE)
    helped = set(re.findall(r"^# HELP (\S+) ", text, re.MULTILINE))
    assert "bhxh_gateway_simulated_time_seconds" in typed
    assert [name for name in typed if name not in helped] == []


def test_stored_dossiers_and_their_pending_messages_are_gauges(
    gw: InProcessGateway, valid: ValidDossiers
) -> None:
    assert _gauge(_metrics(gw), "bhxh_gateway_dossiers_stored") == 0
    for _ in range(2):
        assert gw.submit(valid().envelope).status == 202
    text = _metrics(gw)
    assert _gauge(text, "bhxh_gateway_dossiers_stored") == 2
    assert _gauge(text, "bhxh_gateway_dossiers_awaiting_message") == 2
    assert _gauge(text, "bhxh_gateway_dossiers_message_due") == 0
    gw.gateway.jump_clock(30 * 86400)  # due, but no processor ran: a backlog
    assert _gauge(_metrics(gw), "bhxh_gateway_dossiers_message_due") == 2
    gw.gateway.processor.run_due()
    gw.gateway.processor.run_due()  # 02/TB-TS, then 03/TB-TS: nothing left to issue
    text = _metrics(gw)
    assert _gauge(text, "bhxh_gateway_dossiers_awaiting_message") == 0
    assert _gauge(text, "bhxh_gateway_dossiers_stored") == 2


def test_store_gauges_are_left_out_while_the_database_is_lost(gw: InProcessGateway) -> None:
    gw.gateway.outage.down = True  # known lost: /metrics must not wait for it
    try:
        text = _metrics(gw)
    finally:
        gw.gateway.outage.down = False
    assert "bhxh_gateway_dossiers_stored" not in text
    assert "bhxh_gateway_simulated_time_seconds" in text


def test_the_document_says_metrics_are_summed_over_every_worker() -> None:
    operation = document()["paths"]["/metrics"]["get"]
    said = operation["summary"] + " " + operation["description"]
    assert "this worker process" not in said
    assert "every worker" in said
