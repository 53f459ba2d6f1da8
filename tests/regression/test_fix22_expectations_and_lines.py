"""Expectations refused at load when they could only mislead (a blank value, a misspelt
kind or key, a procedure no catalog has); an empty file said; and clearer lines: the
reproduce line's --expectations, the static files, the clock's slack."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.regression import Baseline, load_expectations, regress
from harness.regression.cli import regress as regress_command
from harness.regression.preflight import POLL_SLACK_SECONDS, _refuse_slow_clock
from harness.regression.report import _unjudged
from harness.reporting.command_line import command_line
from harness.signing import TestPKI
from tests.regression.conftest import FUNCTIONAL


def _refusal(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "release.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_expectations(path)
    return caught.value


HEAD = "expected:\n  - kind: changed-error-code\n    reason: renumbered\n"


@pytest.mark.parametrize("value", ["", " null", " ~"])
def test_a_blank_or_null_value_is_refused_at_its_line(tmp_path: Path, value: str) -> None:
    refused = _refusal(tmp_path, HEAD + "    expected: RULE-105\n" + f"    actual:{value}\n")
    assert str(refused).startswith(f"{tmp_path / 'release.yaml'}:5: expectation 1: actual has no")
    assert "leave actual out to match anything" in (refused.hint or "")


def test_a_misspelt_kind_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    refused = _refusal(tmp_path, "expected:\n  - kind: changed-eror-code\n    reason: x\n")
    assert ":2: expectation 1 needs a known kind" in str(refused)
    assert (refused.hint or "").startswith("did you mean 'changed-error-code'?")


def test_a_misspelt_key_is_refused_at_its_line_with_a_suggestion(tmp_path: Path) -> None:
    refused = _refusal(tmp_path, HEAD + "    procdure: '600'\n")
    assert ":4: expectation 1: unknown key procdure" in str(refused)
    assert (refused.hint or "").startswith("did you mean 'procedure'?")


def test_a_procedure_no_catalog_has_is_refused_at_its_line(tmp_path: Path) -> None:
    refused = _refusal(tmp_path, HEAD + "    procedure: '999'\n")
    assert ":4: expectation 1: procedure '999' is in no catalog of this harness" in str(refused)
    for fine in ("600", "6*", "static", "all", "630a"):
        path = tmp_path / "fine.yaml"
        path.write_text(HEAD + f"    procedure: '{fine}'\n", encoding="utf-8")
        assert load_expectations(path)[0].patterns == (("procedure", fine),)


def test_an_empty_expectations_file_is_said(
    reference: Baseline, baselines: Path, pki: TestPKI, tmp_path: Path
) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("expected: []\n", encoding="utf-8")
    result = regress(
        baseline=reference.name, root=baselines, pki=pki, expectations=path,
        thresholds=FUNCTIONAL,
    )  # fmt: skip
    assert any(
        f"expectations file {path} declares no intended difference" in n for n in result.notes
    )


def test_the_reproduce_line_names_the_expectations_file_absolutely(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["--baseline", "b", "--expectations", "release.yaml"]
    with regress_command.make_context("regress", args) as ctx:
        line = command_line(ctx)
    assert f"--expectations {tmp_path / 'release.yaml'}" in line


def test_the_static_files_are_not_called_a_procedure() -> None:
    why = "not judged: 6 samples, p95 needs 40 (add seeds to the baseline's corpus)"
    lines = _unjudged({("latency-p95", "600"): why, ("latency-p95", "static"): why})
    assert lines == [
        "latency-p95 not judged in 1 procedure(s) (600) and the static files: 6 samples, "
        "p95 needs 40 (add seeds to the baseline's corpus)"
    ]


def test_the_slow_clock_refusal_says_the_slack_it_adds() -> None:
    with pytest.raises(ConfigError) as caught:
        _refuse_slow_clock("http://gw", 100.0, 30.0)
    assert f"about {45 + POLL_SLACK_SECONDS:.0f} s of waiting (45 s at that speed, plus" in str(
        caught.value
    )
