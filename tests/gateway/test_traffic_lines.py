"""One traffic row is one line, whatever a client put in its URL.

A path with U+2028 (sent as %E2%80%A8, no credential needed) was exported raw; readers
that split on every line break (Python's str.splitlines, as certify's did) broke the row
in two and died on the JSON: one request blocked certification of that gateway.
"""

from __future__ import annotations

import json

import pytest

from harness.json_lines import json_line, split_json_lines
from mock_gateway.testing import InProcessGateway


@pytest.mark.parametrize("text", ["/x\u2028y", "/x\u2029y", "/x\x85y", "/Nguyễn\u2028"])
def test_a_json_line_has_no_line_break_of_any_kind(text: str) -> None:
    line = json_line({"path": text})
    assert len(line.splitlines()) == 1 and json.loads(line) == {"path": text}


def test_the_export_keeps_one_row_per_line(gw: InProcessGateway) -> None:
    gw.request("GET", "/api/v1/dossiers/x\u2028y", ivan=None)
    body = gw.request("GET", "/admin/traffic", ivan="admin").body.decode()
    rows = [json.loads(line) for line in body.splitlines()]
    assert any("\u2028" in row["path"] for row in rows)


def test_certify_reads_a_row_holding_a_raw_line_separator() -> None:
    """Another gateway (a staging build) may export U+2028 unescaped, as JSON allows."""
    text = '{"path": "/x\u2028y"}\n{"path": "/\x85"}\n'
    assert [json.loads(line)["path"] for line in split_json_lines(text)] == ["/x\u2028y", "/\x85"]
