"""A run records how the I-VAN was driven, and a stopped run lists what it never ran.

Reproduce lines dropped ``--adapter-option timeout=`` (command adapters and HTTP hooks)
and ``--out``; the report named only the submit template; a run stopped by Ctrl-C listed
the cases that finished as if they were all it had selected.
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harness.certification import Job, ReferenceIvan, Relay, resolve_adapter, run_certification
from harness.certification.cli import certify
from harness.certification.suite import load_suite, suite_dir
from harness.reporting.bundle import write_interrupted
from tests.certification.conftest import FAST, PROCEDURE

CLI = f"{sys.executable} -m harness.certification.reference_cli"


def _results(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    return data


def test_a_command_adapters_timeout_and_the_out_folder_are_reproduced(tmp_path: Path) -> None:
    args = [
        "--adapter", f"{CLI} submit {{dossier}} --now {{now}}",
        "--adapter-option", "timeout=30",
        "--procedures", PROCEDURE, "--case", "CERT-SCH-01",
        "--client-timeout", "0.5", "--out", str(tmp_path), "--no-progress",
    ]  # fmt: skip
    result = CliRunner().invoke(certify, args)
    assert result.exit_code == 0, result.output
    [folder] = tmp_path.iterdir()
    data = _results(folder)
    [case] = data["cases"]
    assert "--adapter-option timeout=30 " in case["reproduce"]
    assert case["reproduce"].endswith(f"--out {tmp_path}")
    meta = data["run"]["meta"]
    assert meta["adapter options"] == "timeout=30"
    assert meta["adapter operations"] == "submit"
    junit = (folder / "junit.xml").read_text(encoding="utf-8")
    assert 'name="adapter options" value="timeout=30"' in junit


def test_every_option_a_command_adapter_was_given_is_recorded() -> None:
    adapter = resolve_adapter(
        "vendor-cli submit {dossier}", {"tick": "vendor-cli tick {now}", "timeout": "1.5"}
    )
    assert getattr(adapter, "options", None) == {"tick": "vendor-cli tick {now}", "timeout": "1.5"}
    assert adapter.capabilities == frozenset({"tick"})
    untimed = resolve_adapter("vendor-cli submit {dossier}", {})
    assert getattr(untimed, "options", None) == {}  # the default is not an option given


def test_an_http_hooks_timeout_is_recorded() -> None:
    hook = resolve_adapter("http://127.0.0.1:9/hook", {"timeout": "2.5"})
    assert getattr(hook, "options", None) == {"timeout": "2.5"}
    assert getattr(resolve_adapter("http://127.0.0.1:9/hook", {}), "options", None) == {}


class StopsAtTheSecondJob(ReferenceIvan):
    """The reference I-VAN, until Ctrl-C arrives while the second job is handed over."""

    submits = 0

    def submit(self, job: Job, now: datetime) -> list[Relay]:
        self.submits += 1
        if self.submits > 1:
            raise KeyboardInterrupt
        return super().submit(job, now)


def test_a_stopped_run_lists_the_cases_it_never_ran_as_skipped(tmp_path: Path) -> None:
    cases = ["CERT-SCH-01", "CERT-ENV-01", "CERT-IDM-01"]  # baseline, then the timeout scenario
    with pytest.raises(KeyboardInterrupt) as stop:  # its traceback keeps the run's bundle
        run_certification(
            StopsAtTheSecondJob(), [PROCEDURE], cases=cases, out=tmp_path, settings=FAST
        )
    [folder] = [f for f in write_interrupted(signal.SIGINT) if tmp_path in f.parents]
    del stop
    data = _results(folder)
    assert data["verdict"] == "interrupted"
    assert data["summary"] == {"passed": 2, "skipped": 1, "failed": 0, "error": 0, "total": 3}
    [skipped] = [c for c in data["cases"] if c["outcome"] == "skipped"]
    assert skipped["case_id"] == f"CERT-IDM-01@{PROCEDURE}"
    assert skipped["message"] == "not run: stopped by SIGINT before it ran"
    assert skipped["requirement"]  # what it would have checked, as for any case
    assert data["interrupted"]["message"].startswith(
        "stopped by SIGINT after 2 case(s): this report holds the cases that finished, "
        "the 1 others as skipped"
    )


class WithoutRecover(ReferenceIvan):
    """The reference I-VAN driven without a recover operation."""

    capabilities = frozenset({"tick", "restart"})


def test_a_missing_operation_is_not_labelled_as_a_precondition(tmp_path: Path) -> None:
    """ "blocked:" is for a precondition that never happened; a suite copy whose recovery case
    does not declare ``needs: [recover]`` is still skipped for the adapter's lack."""
    folder = tmp_path / "suite"
    shutil.copytree(suite_dir(), folder)
    doc = yaml.safe_load((folder / "cases.yaml").read_text(encoding="utf-8"))
    doc["cases"]["CERT-REC-01"]["needs"] = ["tick"]
    (folder / "cases.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    bundle = run_certification(
        WithoutRecover(),
        [PROCEDURE],
        cases=["CERT-REC-01"],
        out=tmp_path / "out",
        settings=FAST,
        suite=load_suite(folder),
    )
    [case] = bundle.cases
    assert case.outcome.value == "skipped"
    assert case.message.startswith("not supported by the adapter: no recover operation")
