"""``load --ivan-token CODE=TOKEN``: the code is checked against the catalog before any pool
is signed, a run that fails before locust starts leaves no report folder, and a local
gateway is started with the given tokens, which the report names."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.errors import ConfigError
from harness.load.cli import load
from harness.load.finish import run_facts
from harness.load.request import LoadRequest
from harness.load.run_setup import prepare_run
from harness.load.runner import execute
from harness.signing import TestPKI


@pytest.mark.parametrize("code", ["ivan02", "IVAN_2"])
@pytest.mark.parametrize("gateway", ["local", "http://127.0.0.1:9"])
def test_a_code_no_envelope_can_carry_is_refused_before_anything(
    tmp_path: Path, pki: TestPKI, code: str, gateway: str
) -> None:
    args = ["--gateway", gateway, "--ivan-token", f"{code}=test-token-IVAN02"]
    outcome = CliRunner().invoke(load, [*args, "--duration", "3", "--out", str(tmp_path)])
    assert outcome.exit_code == 2, outcome.output
    assert f"--ivan-token {code}=...: no envelope of catalog" in outcome.stderr
    assert "Hint: give the I-VAN code" in outcome.stderr
    assert "signing the dossier pools" not in outcome.output  # refused before any pool
    assert list(tmp_path.iterdir()) == []


def test_a_run_that_fails_before_locust_leaves_no_folder(
    tmp_path: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> float:
        raise ConfigError("the pools cannot be signed")

    monkeypatch.setattr("harness.load.runner._prepare_pools", broken)
    with pytest.raises(ConfigError, match="cannot be signed"):
        execute(LoadRequest(gateway="local", duration=3, out=tmp_path))
    assert list(tmp_path.iterdir()) == []  # no logs/ folder listed as "still running?"


def test_a_local_gateway_takes_the_given_tokens_and_the_report_says_whose(pki: TestPKI) -> None:
    request = LoadRequest(ivan_tokens={"IVAN02": "whatever"}, duration=3).validate()
    setup = prepare_run(request, lambda _line: None)
    assert setup.tokens == {"IVAN02": "whatever"}  # what LocalGateway is started with
    facts = run_facts(request, setup, "http://127.0.0.1:1", 0.0, 0.0)
    assert facts["I-VANs"] == "IVAN02 (--ivan-token)"
    plain = LoadRequest(duration=3).validate()
    facts = run_facts(plain, prepare_run(plain, lambda _line: None), "http://127.0.0.1:1", 0.0, 0.0)
    assert facts["I-VANs"] == "IVAN01 (the test tokens)"  # one process sends as IVAN01 only


def test_the_report_names_the_procedures_the_mix_does_not_send(pki: TestPKI) -> None:
    from dataclasses import replace

    request = LoadRequest(duration=3).validate()
    setup = prepare_run(request, lambda _line: None)
    assert "not sent" not in run_facts(request, setup, "http://127.0.0.1:1", 0.0, 0.0)["mix"]
    weights = {code: w for code, w in setup.weights.items() if code != "604"}
    facts = run_facts(request, replace(setup, weights=weights), "http://127.0.0.1:1", 0.0, 0.0)
    assert facts["mix"].endswith("; not sent (no weight in the mix): 604")
