"""The fuzz and regression commands are thin skins: the report bundle, the summary under
the verdict and the ``--out`` check live in the library, and registering the regression
commands (what the top-level ``--help`` does) loads neither the run nor its report."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.errors import ConfigError

HEAVY = ("xmlschema", "signxml", "jinja2", "cryptography", "hypothesis", "sqlalchemy", "rich")
LIBRARY = ("harness.regression.run", "harness.regression.report", "harness.reporting")

_PROBE = f"""
import sys, types
from pathlib import Path
import harness
# the command module's own imports, whatever the package's __init__ pulls in
package = types.ModuleType("harness.regression")
package.__path__ = [str(Path(harness.__file__).parent / "regression")]
sys.modules["harness.regression"] = package
import harness.regression.cli
loaded = {{m.split(".")[0] for m in sys.modules}} | set(sys.modules)
print(*sorted(loaded & set({HEAVY + LIBRARY!r})))
"""


def test_importing_the_regression_commands_loads_no_run_report_or_heavy_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == []


def test_writable_folder_creates_the_folder_and_returns_it(tmp_path: Path) -> None:
    from harness.paths import writable_folder

    folder = tmp_path / "a" / "b"
    assert writable_folder(folder, "the report", hint="--out") == folder
    assert folder.is_dir()


@pytest.mark.parametrize(("name", "why"), [("afile", "it is a file"), ("afile/below", "")])
def test_writable_folder_refuses_what_cannot_hold_files(
    tmp_path: Path, name: str, why: str
) -> None:
    from harness.paths import writable_folder

    (tmp_path / "afile").write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"cannot keep the report in .*{why}") as caught:
        writable_folder(tmp_path / name, "the report", hint="name another --out")
    assert caught.value.hint == "name another --out"


def test_a_fuzz_report_bundle_is_built_by_the_library(tmp_path: Path) -> None:
    """One case per family and procedure; a family that failed where it was not minimised
    says so instead of an empty message."""
    from harness.fuzz.outcome import FamilyCount, FuzzFailure, FuzzReport
    from harness.fuzz.report import report_bundle

    failure = FuzzFailure("no-5xx", "signature", "m", "500", "500", (), (), 2, True, None, "600")
    report = FuzzReport(
        "inproc", "2026.1", 7, started_at=datetime.now(UTC), run_id="fuzz-20260101T000000Z-abc"
    )
    report.by_procedure = {
        ("valid", "600"): FamilyCount(3, 0),
        ("signature", "600"): FamilyCount(2, 1),
        ("signature", "604"): FamilyCount(1, 1),
    }
    report.failures = [failure]
    cases = {c.case_id: c for c in report_bundle(report, tmp_path).cases}
    assert {k: v.outcome.value for k, v in cases.items()} == {
        "FUZZ-signature@600": "failed",
        "FUZZ-signature@604": "failed",
        "FUZZ-valid@600": "passed",
    }
    assert cases["FUZZ-signature@600"].message == "no-5xx: 500"
    assert "minimised under another procedure" in cases["FUZZ-signature@604"].message
