"""The suite is data: numbered cases naming requirements, generated over the catalog.

These are cheap structural tests of ``scenarios/certification`` and the public surface
of ``harness.certification`` (no gateway is started).
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

import harness.certification as certification
from harness.catalog import list_versions, load_catalog
from harness.certification import Job, JobForm, Relay, load_suite
from harness.certification.suite import CASE_ID, suite_dir
from harness.envelope import Unit
from harness.errors import ConfigError
from harness.paths import project_root

OWNED = [
    *sorted((project_root() / "harness" / "certification").glob("*.py")),
    *sorted(suite_dir().glob("*.py")),
    project_root() / "mock_gateway" / "faults.py",
    project_root() / "mock_gateway" / "fault_feed.py",
    project_root() / "mock_gateway" / "fault_budget.py",
    project_root() / "mock_gateway" / "fault_admin.py",
    project_root() / "mock_gateway" / "fault_asgi.py",
    project_root() / "mock_gateway" / "faulty_app.py",
    project_root() / "mock_gateway" / "fault_plan.py",
    project_root() / "mock_gateway" / "fault_profiles.py",
    project_root() / "mock_gateway" / "hook_params.py",
]


def test_cases_are_numbered_and_name_their_requirement() -> None:
    suite = load_suite()
    assert len(suite.cases) >= 15
    for case in suite.cases.values():
        assert CASE_ID.match(case.id), case.id
        assert re.search(r"Decree 166|DESIGN\.md|DOMAIN\.md", case.requirement), case.id
    areas: dict[str, list[int]] = {}
    for case_id in suite.cases:
        _, area, number = case_id.split("-")
        areas.setdefault(area, []).append(int(number))
    assert all(sorted(n) == list(range(1, len(n) + 1)) for n in areas.values()), areas


def test_every_scenario_and_check_is_used() -> None:
    suite = load_suite()
    assert {c.scenario for c in suite.cases.values()} == set(suite.scenarios)
    assert {c.check for c in suite.cases.values()} == set(suite.checks)


def test_no_procedure_code_in_python() -> None:
    codes = {code for v in list_versions() for code in load_catalog(v).procedures}
    literal = re.compile(r"""["']([0-9]{3}[a-z]?)["']""")
    for path in OWNED:
        found = set(literal.findall(path.read_text(encoding="utf-8"))) & codes
        assert not found, f"{path}: {found}"


def test_modules_stay_small() -> None:
    for path in OWNED:
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines < 400, f"{path.name} has {lines} lines"


def test_the_facade_is_the_public_surface() -> None:
    assert all(hasattr(certification, name) for name in certification.__all__)
    assert not [n for n in certification.__all__ if n.startswith("_")]


def test_bad_suite_data_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "suite"
    shutil.copytree(suite_dir(), folder)
    with pytest.raises(ConfigError, match="unknown suite setting colour"):
        load_suite(folder).with_settings(colour="red")
    doc = yaml.safe_load((folder / "cases.yaml").read_text(encoding="utf-8"))
    doc["scenarios"]["baseline"]["steps"].append({"teleport": {}})
    (folder / "cases.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError, match="bad step"):
        load_suite(folder)
    doc["scenarios"]["baseline"]["steps"].pop()
    doc["cases"]["CERT-SIG-01"]["requirement"] = ""
    (folder / "cases.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError, match="CERT-SIG-01: a requirement is needed"):
        load_suite(folder)


def test_jobs_and_relays_survive_json() -> None:
    job = Job(
        job_id="run/baseline/1",
        catalog_version="v",
        procedure="p",
        procedure_name="Tên thủ tục",
        period="01/2026",
        ngay_lap="05/01/2026",
        unit=Unit("CÔNG TY", "ABC1234", "0101234567", "Người Ký", "0912345678", "00100"),
        forms=(JobForm("F", "Mô tả", "F-1.xml", "Cky", "<F>Đ</F>".encode()),),
        envelope_signature_node="CKy_Dvi",
    )
    data = job.to_json(Path("/pki"))
    assert data["signer_files"]["key_pem"] == "/pki/unit.key.pem"
    assert Job.from_json(data) == job
    relay = Relay("j", "receipt", ma_gdich="M", at=datetime.now(UTC).isoformat())
    assert Relay.from_json(relay.to_json()) == relay
    with pytest.raises(ConfigError, match="has no kind"):
        Relay.from_json({"ma_gdich": "M"})
