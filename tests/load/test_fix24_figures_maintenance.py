"""A gateway whose 503 asks for longer than a load run can wait is refused before it starts."""

from __future__ import annotations

import pytest
import requests

from harness.errors import ConfigError
from harness.load.gateway import refuse_maintenance


def _answer(status: int, retry_after: str | None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


def test_a_window_shorter_than_regress_waits_but_longer_than_a_run_waits_is_refused() -> None:
    """40 real s: the served gateway's 36000 simulated s at clock speed 900."""
    with pytest.raises(ConfigError, match=r"maintenance .*Retry-After: 40"):
        refuse_maintenance("http://gw", _answer(503, "40"))


@pytest.mark.parametrize(("status", "wait"), [(503, "5"), (503, None), (429, "60"), (200, "60")])
def test_a_short_wait_or_another_answer_is_not_a_window(status: int, wait: str | None) -> None:
    refuse_maintenance("http://gw", _answer(status, wait))
