"""The plugin's fixtures as a vendor unit-testing a ``requests`` client found them:
``ivan_client`` beside an in-process gateway is allowed when the test asks for ``gateway``
in any way, the in-process gateways refuse and log an oversized head or body as the
served one does, ``dossier_factory_for`` refuses a code no dossier could use where it is
called, ``mock_gateway.testing``'s example runs, and ``--bhxh-gateway`` under ``-n 2`` is
refused by the controller in one line. One child pytest runs the vendor file; each test
here reads the outcome of the vendor tests about its own fix."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import mock_gateway.testing
from harness.signing import TestPKI
from tests.certification.plugin_vendor import outcomes, run_vendor

USAGE_ERROR = 4  # pytest.ExitCode.USAGE_ERROR

VENDOR = """
import httpx
import pytest
import requests

from mock_gateway.http_head import HEAD_MAX


def _envelope(factory, seed=1):
    return factory.build(next(iter(factory.catalog.procedures)), seed=seed).envelope


@pytest.fixture
def env(gateway, responses_gateway, ivan_client):
    return ivan_client


def test_wrapped_both(env):
    assert env


@pytest.mark.usefixtures("gateway")
def test_usefixtures_both(responses_gateway, ivan_client):
    assert ivan_client


def test_still_refused(responses_gateway, ivan_client):
    assert ivan_client


def _big_head(url, token, get=requests.get):
    headers = {"Authorization": f"Bearer {token}", "X-Pad": "a" * (HEAD_MAX + 100)}
    return get(url + "/api/v1/messages", headers=headers)


def test_head_cap_everywhere(gateway, responses_gateway):
    responses_gateway.mock.add_passthru(gateway.url)
    served = _big_head(gateway.url, gateway.token)
    in_process = _big_head(responses_gateway.url, responses_gateway.token)
    client = httpx.Client(transport=responses_gateway.httpx_transport())
    over_httpx = _big_head(responses_gateway.url, responses_gateway.token, client.get)
    assert [r.status_code for r in (served, in_process, over_httpx)] == [431, 431, 431]
    both = (gateway, responses_gateway)
    rows = [[(r.path, r.status, r.outcome) for r in g.traffic()] for g in both]
    assert rows[0] == [("/api/v1/messages", 431, "LIM-003")]
    assert rows[1] == rows[0] * 2


def test_oversized_submit_keeps_no_body(inproc_gateway, dossier_factory):
    padding = b"<!--" + b"x" * (21 << 20) + b"--></Hoso>"
    envelope = _envelope(dossier_factory).replace(b"</Hoso>", padding)
    assert inproc_gateway.submit(envelope).status == 413
    [row] = inproc_gateway.traffic()
    assert (row.status, row.outcome, row.request) == (413, "LIM-001", b"")


def test_factory_for_lowercase(dossier_factory_for):
    dossier_factory_for("ivan02")


def test_factory_for_unknown(dossier_factory_for):
    dossier_factory_for("IVAN99")


def test_factory_for_known(inproc_gateway, dossier_factory_for, bhxh_dossier_factory):
    factory = dossier_factory_for("IVAN02")
    answer = inproc_gateway.inproc.submit(_envelope(factory), ivan="IVAN02")
    assert answer.status == 202
    assert dossier_factory_for("IVAN01") is not bhxh_dossier_factory
"""


def _docstring_example() -> str:
    """The code of ``mock_gateway.testing``'s module docstring example, prompts removed."""
    lines = (mock_gateway.testing.__doc__ or "").splitlines()
    return "\n".join(line[4:] for line in lines if line.startswith((">>> ", "... ")))


@pytest.fixture(scope="module")
def vendor_run(
    tmp_path_factory: pytest.TempPathFactory, pki: TestPKI
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    folder = tmp_path_factory.mktemp("vendor")
    done = run_vendor(folder, VENDOR + "\n\n" + _docstring_example() + "\n")
    return done, outcomes(folder)


def _outcome(vendor_run: tuple[subprocess.CompletedProcess[str], dict[str, str]], name: str) -> str:
    done, found = vendor_run
    assert name in found, done.stdout + done.stderr
    return found[name]


@pytest.mark.parametrize("name", ["test_wrapped_both", "test_usefixtures_both"])
def test_ivan_client_beside_an_in_process_gateway_when_gateway_is_asked_for_anyhow(
    vendor_run: tuple[subprocess.CompletedProcess[str], dict[str, str]], name: str
) -> None:
    assert _outcome(vendor_run, name) == "passed"
    refused = _outcome(vendor_run, "test_still_refused")
    assert refused.startswith("error:") and "ivan_client talks to the `gateway`" in refused


def test_in_process_gateways_refuse_and_log_oversized_requests_as_served(
    vendor_run: tuple[subprocess.CompletedProcess[str], dict[str, str]],
) -> None:
    assert _outcome(vendor_run, "test_head_cap_everywhere") == "passed"
    assert _outcome(vendor_run, "test_oversized_submit_keeps_no_body") == "passed"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        (
            "test_factory_for_lowercase",
            ["dossier_factory_for('ivan02'): no envelope", "e.g. IVAN02"],
        ),
        (
            "test_factory_for_unknown",
            ["dossier_factory_for('IVAN99') is not an I-VAN of the local gateway", "IVAN01"],
        ),
    ],
)
def test_dossier_factory_for_refuses_a_code_no_dossier_could_use(
    vendor_run: tuple[subprocess.CompletedProcess[str], dict[str, str]],
    name: str,
    words: list[str],
) -> None:
    found = _outcome(vendor_run, name)
    assert found.startswith("failure:"), found
    for word in [*words, "Hint:"]:
        assert word in found, found
    done = vendor_run[0]
    # The section ends at the next test's header or at the summary, whose
    # one-line reasons are as wide as the terminal (whole in CI, cut here).
    section = re.split(r"\n(?:___|===)", done.stdout.split(f"_ {name} _", 1)[1], maxsplit=1)[0]
    assert section.count(words[0]) == 1, section  # once: no chained copy, no traceback
    assert "Traceback" not in section and "raise " not in section, section
    assert _outcome(vendor_run, "test_factory_for_known") == "passed"


def test_the_testing_module_example_runs(
    vendor_run: tuple[subprocess.CompletedProcess[str], dict[str, str]],
) -> None:
    assert re.search(r"def \w+\(\):  # not `gateway`", _docstring_example())
    assert _outcome(vendor_run, "test_receipt") == "passed"


def _refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    text = done.stdout + done.stderr
    assert done.returncode == USAGE_ERROR, text
    assert len(text.splitlines()) <= 4 and "Traceback" not in text, text
    for word in words:
        assert word in text, text


def test_the_xdist_controller_refuses_a_shared_gateway_url(tmp_path: Path) -> None:
    url = ["--bhxh-gateway", "http://127.0.0.1:18899"]  # refused before it is reached
    done = run_vendor(tmp_path, "def test_one(gateway):\n    pass\n", *url, "-n", "2")
    _refused(done, "cannot be shared by pytest-xdist workers", "Hint: run with -p no:xdist")
    for off in (["-n", "0"], ["-p", "no:xdist"]):  # no workers: only the URL is checked
        _refused(run_vendor(tmp_path, "", *url, *off), "connection was refused")
