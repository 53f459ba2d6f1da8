"""Report bundles: verdict, JUnit, self-contained HTML, and a digest that catches tampering."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from lxml import etree

from harness.errors import ConfigError
from harness.reporting import (
    CaseResult,
    Outcome,
    ReportBundle,
    RunInfo,
    bundle_digest,
    verify_bundle,
)
from harness.reporting.bundle import write_manifest
from harness.reporting.command_line import command_line


def _bundle(tmp_path: Path) -> ReportBundle:
    info = RunInfo("r1", "cert", "Chứng nhận I-VAN", "2026-11-25T00:00:00+00:00", {"seed": 1})
    bundle = ReportBundle(info, tmp_path / "r1")
    bundle.add(CaseResult("CERT-SIG-01@600", "signed", Outcome.PASSED, procedure="600"))
    bundle.add(
        CaseResult(
            "CERT-SIG-01@604",
            "signed",
            Outcome.FAILED,
            procedure="604",
            requirement="Decree 166 art. 9",
            message="form not signed <script>",
            evidence={"exchange": "POST /api/v1/dossiers → 400 SIG-001"},
            reproduce="bhxh-harness certify --case CERT-SIG-01 --procedures 604",
        )
    )
    return bundle


def test_verdict_is_the_worst_outcome(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    assert bundle.verdict is Outcome.FAILED
    assert bundle.summary() == {"passed": 1, "skipped": 0, "failed": 1, "error": 0, "total": 2}


def test_bundle_files_and_digest(tmp_path: Path) -> None:
    folder = _bundle(tmp_path).write()
    suite = etree.parse(str(folder / "junit.xml")).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert "Verdict: FAILED" in html and "Chứng nhận I-VAN" in html
    assert "&lt;script&gt;" in html and "<script>" not in html  # escaped evidence
    assert "http" not in html.split("<body>")[0].lower()  # no external assets
    assert verify_bundle(folder) == []
    (folder / "results.json").write_text("{}", encoding="utf-8")
    (folder / "extra.txt").write_text("x", encoding="utf-8")
    assert verify_bundle(folder) == ["changed: results.json", "extra: extra.txt"]


def test_a_rewritten_manifest_is_caught_only_by_the_published_digest(tmp_path: Path) -> None:
    folder = _bundle(tmp_path).write()
    published = bundle_digest(folder)
    assert verify_bundle(folder, digest=published.upper()) == []
    (folder / "results.json").write_text("{}", encoding="utf-8")
    write_manifest(folder)  # whoever edits a file can rewrite the manifest too
    assert verify_bundle(folder) == []
    [problem] = verify_bundle(folder, digest=published)
    assert problem.endswith(f"is not the published {published}")


@pytest.mark.parametrize(
    "manifest",
    ["{bad", "[]", '{"files": {"../serve.log": "00"}, "digest": "x"}', '{"files": {}}'],
)
def test_a_broken_manifest_is_a_clear_error(tmp_path: Path, manifest: str) -> None:
    folder = _bundle(tmp_path).write()
    (folder / "MANIFEST.json").write_text(manifest, encoding="utf-8")
    with pytest.raises(ConfigError, match="is not a report manifest"):
        verify_bundle(folder)


def test_a_command_line_keeps_what_was_typed_and_hides_secrets() -> None:
    seen: list[str] = []

    @click.command("try")
    @click.option("--insecure", is_flag=True)
    @click.option("--progress/--no-progress", default=True)
    @click.option("--token", envvar="TRY_TOKEN")
    @click.option("--admin-token", envvar="TRY_ADMIN")
    @click.option("--seed", type=int, default=0)
    @click.argument("files", nargs=-1)
    def command(**_: object) -> None:
        seen.append(command_line(click.get_current_context(), secrets=("token", "admin_token")))

    args = ["--insecure", "--no-progress", "--token", "s3cret", "a b.xml", "c.xml"]
    result = CliRunner().invoke(command, args, env={"TRY_ADMIN": "from-env"})
    assert result.exit_code == 0, result.output
    assert seen == ["bhxh-harness try --insecure --no-progress --token '<token>' 'a b.xml' c.xml"]
