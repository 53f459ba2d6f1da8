"""A vendor can annotate any of the plugin's gateway fixtures with one type.

Before: ``gateway`` (GatewayView) and ``inproc_gateway`` / ``responses_gateway``
(SocketFreeGateway) shared no type, so a helper written for both had to say ``Any``.
``harness.certification.gateway_fixture.GatewayFixture`` is their common surface; mypy
--strict accepts both fixtures' classes where it is expected, and still refuses what is
not one.
"""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]

VENDOR_TEST = """\
from __future__ import annotations

from datetime import datetime
from typing import Any

from harness.certification.records import TrafficRow
from harness.certification.plugin_inproc import SocketFreeGateway
from harness.certification.plugin_view import GatewayView
from harness.certification.gateway_fixture import GatewayFixture
from mock_gateway.testing import InProcessGateway


def drive(gw: GatewayFixture) -> tuple[str, datetime, list[TrafficRow], list[dict[str, Any]]]:
    gw.set_faults([{"name": "burst-503", "params": {"count": 1}}], seed=1)
    gw.set_faults([])
    gw.clear_faults()
    token = gw.token_for(gw.ivan) + gw.token
    start: datetime = gw.now()
    assert gw.advance(1.5) > start
    return gw.url + token, gw.now(), gw.traffic(after=0), gw.fault_events(after=0)


def test_served(gateway: GatewayView) -> None:
    drive(gateway)


def test_in_process(inproc_gateway: SocketFreeGateway) -> None:
    drive(inproc_gateway)


def test_responses(responses_gateway: SocketFreeGateway) -> None:
    drive(responses_gateway)


def test_annotated(gateway: GatewayFixture) -> None:
    assert drive(gateway)[2] == []


def not_a_fixture(core: InProcessGateway) -> None:
    drive(core)  # LINE-NOT-A-FIXTURE
"""


def _mypy(folder: Path) -> list[str]:
    """mypy --strict's error lines for the vendor file; the project's own modules are read
    from this checkout (errors there are not the vendor's, so not reported)."""
    vendor = folder / "test_vendor.py"
    vendor.write_text(VENDOR_TEST, encoding="utf-8")
    config = folder / "mypy.ini"
    config.write_text(
        f"[mypy]\nstrict = True\nmypy_path = {ROOT}\nfollow_imports = silent\n", encoding="utf-8"
    )
    args = ["--config-file", str(config), "--cache-dir", str(folder / "cache"), str(vendor)]
    stdout, _, _ = api.run(args)
    return [line for line in stdout.splitlines() if ": error:" in line]


def test_every_gateway_fixture_is_a_gateway_fixture_and_an_inprocess_gateway_is_not(
    tmp_path: Path,
) -> None:
    errors = _mypy(tmp_path)
    wrong = VENDOR_TEST.splitlines().index("    drive(core)  # LINE-NOT-A-FIXTURE") + 1
    assert len(errors) == 1, "\n".join(errors)
    assert re.search(rf":{wrong}: error: .*InProcessGateway.*\[arg-type\]", errors[0]), errors
