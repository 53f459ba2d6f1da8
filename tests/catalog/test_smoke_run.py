"""The smoke run of ``catalog check``: the factory's valid dossier of every procedure and
form version, checked as the gateway checks it; any finding or exception refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalog import list_versions, load_catalog
from harness.dossiers import smoke
from harness.dossiers.smoke import WARNINGS, Built, check_smoke_once, smoke_builds, smoke_run
from harness.signing import TestPKI
from tests.catalog_copies import edited_copy

VERSION = "2026.1"
TK1 = '"595": {xsd: xsd/TK1-TS-595.xsd, rules: [rules/common.sch, rules/TK1-TS.sch]}'


@pytest.mark.parametrize("version", list_versions())
def test_the_shipped_catalogs_pass(version: str, pki: TestPKI) -> None:
    """Warnings do not fail a check (test_fix23_new_version pins the shipped ones)."""
    refusals = smoke_run(load_catalog(version), pki)
    assert [r for r in refusals if r.kind not in WARNINGS] == []


def test_every_older_form_version_gets_a_dossier_of_its_own(tmp_path: Path, pki: TestPKI) -> None:
    older = TK1.replace('"595"', '"590"')
    root = edited_copy(tmp_path, VERSION, {"catalog.yaml": [(TK1, f"{older}\n      {TK1}")]})
    catalog = load_catalog(VERSION, root=root)
    builds = list(smoke_builds(catalog))
    users = [code for code, p in catalog.procedures.items() if "TK1-TS" in p.forms]
    assert [b for b in builds if b.older] == [Built(code, ("TK1-TS", "590")) for code in users]
    assert len(builds) == len(catalog.procedures) + len(users)
    assert smoke_run(catalog, pki, values=False) == []


def test_a_signature_node_the_xsd_does_not_have_says_so(tmp_path: Path, pki: TestPKI) -> None:
    edit = ("    signature_node: Cky\n  TK3-TS:", "    signature_node: ChuKy\n  TK3-TS:")
    catalog = load_catalog(VERSION, root=edited_copy(tmp_path, VERSION, {"catalog.yaml": [edit]}))
    refusals = smoke_run(catalog, pki, values=False)
    assert refusals and {r.where for r in refusals} == {"form TK1-TS version 595"}
    assert "XSD-001" in refusals[0].problem and "/TK1-TS/ChuKy" in refusals[0].problem
    assert "signature_node 'ChuKy'" in refusals[0].hint


def test_a_rule_no_valid_dossier_passes_names_the_code_and_document(
    tmp_path: Path, pki: TestPKI
) -> None:
    edit = ('test="fn:valid-date(string(.))"', 'test="false()"')
    root = edited_copy(tmp_path, VERSION, {"rules/Hoso.sch": [edit]})
    refusals = smoke_run(load_catalog(VERSION, root=root), pki, values=False)
    assert {r.procedure for r in refusals} == set(load_catalog(VERSION).procedures)
    assert all(r.where == "envelope" and "RULE-105" in r.problem for r in refusals)
    assert "/Hoso/NoiDung/ThongTinHoSo/NgayLap" in refusals[0].problem


def test_a_rule_failing_when_run_is_a_gateway_refusal(tmp_path: Path, pki: TestPKI) -> None:
    """The table named at run time passes the static rule check: only running it fails."""
    table = "fn:as-of(concat('no_', 'table'), 'amount', string(TuThang))"
    edit = ('test="$wage &gt;= $floor"', f'test="$wage &gt;= {table}"')
    root = edited_copy(tmp_path, VERSION, {"rules/D02-TS.sch": [edit]})
    refusals = smoke_run(load_catalog(VERSION, root=root), pki, values=False)
    assert {r.procedure for r in refusals} == {"600", "601"}  # those with form D02-TS
    assert "table 'no_table'" in refusals[0].problem
    assert all(r.gateway for r in refusals)  # `serve` refuses it: every such dossier gets 500


def test_serve_builds_them_once_per_state_of_the_data(
    tmp_path: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve` runs it at every start: the same data and code passed, so it is skipped."""
    monkeypatch.setenv("BHXH_HARNESS_CACHE", str(tmp_path / "cache"))
    root = edited_copy(tmp_path, VERSION, {})
    runs: list[str] = []
    monkeypatch.setattr(smoke, "smoke_run", lambda c, *_a, **_k: runs.append(c.version) or [])
    check_smoke_once(load_catalog(VERSION, root=root), pki)
    check_smoke_once(load_catalog(VERSION, root=root), pki)
    assert runs == [VERSION]
    rules = root / VERSION / "rules" / "TK3-TS.sch"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    check_smoke_once(load_catalog(VERSION, root=root), pki)
    assert runs == [VERSION, VERSION]
