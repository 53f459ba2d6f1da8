"""An element a catalog's Hoso.xsd adds is data for certification too: the job hands its
value to the I-VAN (``envelope_fields``), and the reference I-VAN writes it where the XSD
orders it, so ``certify --adapter reference`` passes on such a catalog as on the shipped one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness.catalog import load_catalog
from harness.certification.jobs import JobBuilder
from harness.certification.model import Job
from harness.signing import TestPKI
from tests.catalog.test_fix25_envelope_change import COUNT
from tests.catalog_copies import edited_copy, edited_home

HOSO = Path("catalog/2026.1/xsd/Hoso.xsd")
POSTCODE = (
    '<xs:element name="MaBuuDien"><xs:simpleType><xs:restriction base="xs:string">'
    '<xs:enumeration value="100000"/><xs:enumeration value="700000"/>'
    "</xs:restriction></xs:simpleType></xs:element>"
)
"""A required envelope element whose values the XSD lists (so the factory needs no
fields.yaml source for it, and this test no edited fields.yaml)."""


def test_a_job_carries_the_value_of_an_envelope_element_the_builder_does_not_write(
    tmp_path: Path, pki: TestPKI
) -> None:
    root = edited_copy(tmp_path, "2026.1", {"xsd/Hoso.xsd": [(COUNT, f"{COUNT}{POSTCODE}")]})
    catalog = load_catalog("2026.1", root=root)
    job = JobBuilder(catalog, pki).valid("600", "envelope-fields")
    assert list(job.envelope_fields) == ["MaBuuDien"]
    assert job.envelope_fields["MaBuuDien"] in ("100000", "700000")
    assert Job.from_json(json.loads(json.dumps(job.to_json()))) == job


def test_a_shipped_catalog_job_has_no_envelope_fields(pki: TestPKI) -> None:
    job = JobBuilder(load_catalog("2026.1"), pki).valid("600", "shipped")
    assert job.envelope_fields == {}
    assert job.to_json()["envelope_fields"] == {}


def test_the_reference_ivan_certifies_on_a_catalog_whose_envelope_adds_an_element(
    tmp_path: Path,
) -> None:
    home = edited_home(tmp_path, HOSO, COUNT, f"{COUNT}{POSTCODE}")
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    command = [
        sys.executable, "-m", "harness", "certify", "--adapter", "reference",
        "--catalog", "2026.1", "--case", "CERT-ENV-02@600", "--case", "CERT-FWD-01@600",
        "--out", str(tmp_path / "reports"), "--no-progress",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ENV-001" not in done.stdout
