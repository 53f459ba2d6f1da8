"""``certify`` prints what adapters and hints say as written: ``[main]`` in a vendor's
stderr or ``[Relay(...)]`` in a hint is text, never Rich markup to swallow."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.certification.cli import certify
from tests.certification.conftest import PROCEDURE

STDERR = "[main] ERROR acme.Sender - [gateway] unreachable"


def _run(tmp_path: Path, adapter: str) -> str:
    out = tmp_path / "reports"
    args = ["--adapter", adapter, "--case", f"CERT-SCH-01@{PROCEDURE}", "--out", str(out)]
    result = CliRunner().invoke(certify, [*args, "--client-timeout", "0.5", "--no-progress"])
    assert result.exit_code == 1, result.output
    return result.stdout


def test_an_adapters_stderr_in_brackets_is_printed_as_written(tmp_path: Path) -> None:
    script = tmp_path / "ivan.py"
    script.write_text(f"import sys\nprint({STDERR!r}, file=sys.stderr)\nsys.exit(3)\n", "utf-8")
    stdout = _run(tmp_path, f"{sys.executable} {script} submit {{dossier}}")
    assert f"exited 3: {STDERR}" in stdout


def test_a_hint_holding_code_in_brackets_is_printed_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fix24_dict_ivan.py").write_text(
        textwrap.dedent(
            """
            from harness.certification.reference import ReferenceIvan

            class DictIvan(ReferenceIvan):
                def submit(self, job, now):
                    return [r.to_json() for r in super().submit(job, now)]
            """
        ),
        "utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    stdout = _run(tmp_path, "python:fix24_dict_ivan:DictIvan")
    assert "Hint: return [harness.certification.Relay(job_id=..., kind='receipt'" in stdout
