"""Reports under an ASCII locale (``PYTHONUTF8=0 LC_ALL=C``): Python keeps the bytes of a
non-ASCII argument (``--out /tmp/báo-cáo``) as surrogate escapes, which UTF-8 writers refuse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from harness.reporting import CaseResult, Outcome, RunInfo, verify_bundle
from harness.reporting.writers import readable, write_html, write_junit

TYPED = "báo-cáo"
ESCAPED = TYPED.encode().decode("ascii", "surrogateescape")
"""``TYPED`` as Python holds it when it came from the command line under an ASCII locale."""


def _case(reproduce: str) -> CaseResult:
    return CaseResult(
        case_id="submit@600",
        title="submit",
        procedure="600",
        outcome=Outcome.FAILED,
        duration_s=0.1,
        requirement="R-1",
        message=f"wrote {reproduce}",
        reproduce=reproduce,
    )


def test_junit_is_written_in_a_folder_named_under_an_ascii_locale(tmp_path: Path) -> None:
    folder = tmp_path / ESCAPED
    folder.mkdir()
    info = RunInfo("r1", "demo", "t", "2026-01-01T00:00:00+00:00", meta={"out": str(folder)})
    command = f"bhxh-harness regress --out {folder}"
    write_junit(folder / "junit.xml", info, [_case(command)])
    junit = (tmp_path / TYPED / "junit.xml").read_text(encoding="utf-8")
    assert f"--out {tmp_path / TYPED}" in junit and "\ufffd" not in junit


def test_html_shows_an_argument_typed_under_an_ascii_locale(tmp_path: Path) -> None:
    data = {
        "run": {
            "run_id": "r1",
            "suite": "demo",
            "title": f"out {ESCAPED}",
            "started_at": "",
            "meta": {},
        },
        "verdict": "failed",
        "summary": {"passed": 0, "failed": 1, "error": 0, "skipped": 0, "total": 1},
        "cases": [_case(f"--out /tmp/{ESCAPED}").to_dict()],
    }
    write_html(tmp_path / "index.html", data)
    assert f"--out /tmp/{TYPED}" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_readable_leaves_text_alone_and_replaces_what_no_bytes_stand_for() -> None:
    assert readable("Nguyễn Văn A") == "Nguyễn Văn A"
    assert readable(f"/tmp/{ESCAPED}") == f"/tmp/{TYPED}"
    assert readable("lone \ud800") == "lone ?"


def test_the_demo_writes_its_report_in_such_a_folder(tmp_path: Path, pki_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    env |= {"PYTHONUTF8": "0", "LC_ALL": "C", "BHXH_HARNESS_PKI": str(pki_dir)}
    out = tmp_path / TYPED
    done = subprocess.run(
        [sys.executable, "-m", "harness", "demo", "--out", str(out)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    (folder,) = out.iterdir()
    assert verify_bundle(folder) == []
    names = {p.name for p in folder.iterdir()}
    assert {"junit.xml", "results.json", "index.html", "MANIFEST.json"} <= names
    assert json.loads((folder / "results.json").read_text(encoding="utf-8"))["verdict"] == "passed"


def test_text_the_locale_cannot_write_is_one_message_not_a_traceback() -> None:
    @main.command("explode-locale", hidden=True)
    def explode() -> None:
        ESCAPED.encode("utf-8")  # what a writer not yet using readable() meets

    try:
        result = CliRunner().invoke(main, ["explode-locale"])
    finally:
        main.commands.pop("explode-locale")
    assert result.exit_code == 2, result.output
    first, hint = result.stderr.splitlines()
    assert first.startswith("error: cannot write 'báo-cáo' under this locale")
    assert hint.startswith("Hint: run under a UTF-8 locale (LC_ALL=C.UTF-8 or PYTHONUTF8=1)")
