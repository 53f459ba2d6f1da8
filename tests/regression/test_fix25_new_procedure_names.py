"""A procedure a newer catalog adds is named, not shown by code alone: ``regress`` printed
``+605, +D02-TS-490, +TK4-NN`` for a QA probe's catalog 2027.1, and its report's "Cases by
procedure" table had no trace of 605. The name comes from the catalog (NFC whatever form
the file holds it in); the table says which procedures the REG-new-catalog case judged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

from harness.paths import fixtures_dir
from tests.regression.conftest import LENIENT

NEW = "2027.1"
NAME = "Đăng ký đóng, cấp thẻ BHYT đối với người chỉ tham gia BHYT"
PROCEDURE = (
    f'  "605":\n    name: "{unicodedata.normalize("NFD", NAME)}"\n'
    '    required_forms: [TK1-TS]\n    optional_forms: []\n    in_force: {from: "01/2027"}\n'
)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _home(tmp_path: Path) -> Path:
    """A copy of the project's data with catalog 2027.1: 2026.1 plus procedure 605, whose
    name the file holds in NFD (as an editor on macOS may save it)."""
    shutil.copytree(fixtures_dir(), tmp_path / "fixtures")
    catalogs = tmp_path / "fixtures" / "catalog"
    shutil.copytree(catalogs / "2026.1", catalogs / NEW)
    catalog = catalogs / NEW / "catalog.yaml"
    _edit(catalog, 'version: "2026.1"', f'version: "{NEW}"')
    _edit(catalog, 'effective_from: "01/2026"', 'effective_from: "01/2027"')
    _edit(catalog, '  "630a":\n', PROCEDURE + '  "630a":\n')
    return tmp_path


def _harness(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home), "COLUMNS": "400"}
    command = [sys.executable, "-m", "harness", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def test_a_new_procedure_is_named_in_the_terminal_and_the_report(
    tmp_path: Path, pki_dir: Path
) -> None:
    home = _home(tmp_path / "home")
    root, out = str(tmp_path / "baselines"), tmp_path / "out"
    recorded = _harness(
        home, "record", "--name", "b", "--root", root, "--catalog", "2026.1",
        "--serve-catalog", "2026.1", "--procedure", "604",
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    run = _harness(
        home, "regress", "--baseline", "b", "--root", root, "--out", str(out), *LENIENT,
        "--serve-catalog", "2026.1", "--serve-catalog", NEW,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    named = f"+605 ({NAME})"  # NFC, as every other text the harness writes
    assert f"candidate serves {NEW} (newer than the baseline's 2026.1): {named}" in run.stdout
    [folder] = out.glob("regression-*")
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    [case] = [c for c in data["cases"] if c["case_id"] == f"REG-new-catalog@{NEW}"]
    assert named in case["message"] and named in data["run"]["meta"]["new_catalogs"]
    assert "procedure 605" in case["evidence"]  # its dossiers were replayed and accepted
    # the by-procedure table: the case's column names the procedures it judged, 605 marked
    assert case["procedure"] == f"catalog {NEW}: 604 +605"
    html = (folder / "index.html").read_text(encoding="utf-8")
    matrix = html[html.index('<table id="matrix">') :]
    assert f"<th>catalog {NEW}: 604 +605</th>" in matrix[: matrix.index("</tr>")]
