"""A mistake in the suite's own data (a ``$name`` no setting has, a number that is not one)
is a ConfigError naming the scenario, its cases and the step when the suite loads; it is
never a case ERROR blamed on the vendor's adapter. A crash of the adapter itself still
ends its scenario as an error with the traceback as evidence, and a bug of the harness is
raised, not reported as the adapter's."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from harness.certification import Job, JobForm, load_suite
from harness.certification.engine import ScenarioRun, Watermarks
from harness.certification.suite import ScenarioSpec, suite_dir
from harness.envelope import Unit
from harness.errors import ConfigError


def _suite_with(tmp_path: Path, scenario: str, steps: list[Any]) -> Path:
    """A copy of the shipped suite whose ``scenario`` has ``steps``."""
    folder = tmp_path / "suite"
    shutil.copytree(suite_dir(), folder)
    doc = yaml.safe_load((folder / "cases.yaml").read_text(encoding="utf-8"))
    doc["scenarios"][scenario]["steps"] = steps
    (folder / "cases.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return folder


def test_the_shipped_suite_loads_and_resolves_its_references() -> None:
    suite = load_suite()
    resolved = suite.resolved
    assert resolved["timeout_delay"] == pytest.approx(
        float(suite.settings["client_timeout"]) + float(suite.settings["timeout_margin"])
    )


@pytest.mark.parametrize(
    ("scenario", "steps", "message"),
    [
        (
            "timeout",
            [{"faults": [{"name": "timeout", "params": {"seconds": "$timeout_dela"}}]}],
            r"scenario timeout \(cases CERT-IDM-01\), step 1 \(faults\): no setting "
            r"\$timeout_dela",
        ),
        (
            "burst-503",
            [{"handover": {"jobs": 1}}, {"wait": {"seconds": "$burst_windw"}}],
            r"scenario burst-503 \(cases CERT-RTY-01\), step 2 \(wait\): no setting "
            r"\$burst_windw",
        ),
        (
            "baseline",
            [{"handover": {"jobs": "two"}}],
            r"step 1 \(handover\): jobs must be a number of 0 or more, got 'two'",
        ),
        (
            "baseline",
            [{"handover": {"jobs": 1}}, {"run": {"minutes": 480, "step": 0}}],
            r"step 2 \(run\): step must be more than 0 minutes",
        ),
        (
            "baseline",
            [{"advance": {"minutes": "$rollover_credential"}}],
            r"step 1 \(advance\): minutes must be a number of 0 or more, got 'bhxh-next'",
        ),
        (
            "rejection",
            [{"handover": {"jobs": 1, "kind": "defectve"}}],
            r"step 1 \(handover\): kind must be valid, defective or defective-result, "
            r"got 'defectve'",
        ),
        (
            "baseline",
            [{"run": 480}],
            r"step 1 \(run\): run takes a mapping of minutes, step, got 480",
        ),
    ],
)
def test_a_mistake_in_the_suite_data_is_a_config_error_at_load(
    tmp_path: Path, scenario: str, steps: list[Any], message: str
) -> None:
    folder = _suite_with(tmp_path, scenario, steps)
    with pytest.raises(ConfigError, match=message):
        load_suite(folder)


def test_a_rejection_without_its_defects_setting_is_refused_at_load(tmp_path: Path) -> None:
    folder = tmp_path / "suite"
    shutil.copytree(suite_dir(), folder)
    doc = yaml.safe_load((folder / "cases.yaml").read_text(encoding="utf-8"))
    del doc["settings"]["rejection_defects"]
    (folder / "cases.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError, match="needs the setting rejection_defects"):
        load_suite(folder)


# -- who is blamed when a step raises ---------------------------------------------------------


class _Gateway:
    """Just enough of CertGateway for a scenario with no traffic."""

    ivan, tag, logs = "IVAN01", "t", None

    def now(self) -> datetime:
        return datetime(2026, 1, 5, 9, tzinfo=UTC)

    def clear_faults(self) -> None:
        return None

    def traffic_lines(self, _after: int) -> list[str]:
        return []

    def fault_events(self, _after: int) -> list[dict[str, Any]]:
        return []


class _Builder:
    def __init__(self, bug: Exception | None = None) -> None:
        self.bug = bug

    def valid(self, procedure: str, label: str) -> Job:
        if self.bug is not None:
            raise self.bug
        return Job(
            job_id=f"{label}/1",
            catalog_version="v",
            procedure=procedure,
            procedure_name="Tên thủ tục",
            period="01/2026",
            ngay_lap="05/01/2026",
            unit=Unit("CÔNG TY", "ABC1234", "0101234567", "Người Ký", "0912345678", "00100"),
            forms=(JobForm("F", "Mô tả", "F-1.xml", "Cky", "<F>Đ</F>".encode()),),
            envelope_signature_node="CKy_Dvi",
        )


class _CrashingAdapter:
    name, spec, capabilities = "crashing", "python:crashing", frozenset[str]()

    def submit(self, _job: Job, _now: datetime) -> list[Any]:
        raise ValueError("vendor bug in submit")


def _run(builder: _Builder) -> ScenarioRun:
    scenario = ScenarioSpec("one", "one job", (("handover", {"jobs": 1}),))
    return ScenarioRun(
        scenario,
        "p",
        adapter=cast(Any, _CrashingAdapter()),
        gateway=cast(Any, _Gateway()),
        builder=cast(Any, builder),
        context=cast(Any, None),
        catalog=cast(Any, None),
        trust=cast(Any, None),
        settings={},
        marks=Watermarks(),
        seed=0,
    )


def test_an_adapter_that_raises_ends_its_scenario_as_an_error_with_the_traceback() -> None:
    obs = _run(_Builder()).execute()
    assert obs.error.startswith("Traceback")
    assert obs.error.rstrip().endswith("ValueError: vendor bug in submit")
    assert 'raise ValueError("vendor bug in submit")' in obs.error  # the adapter's own line


def test_a_bug_of_the_harness_is_raised_not_blamed_on_the_adapter() -> None:
    with pytest.raises(TypeError, match="a harness bug"):
        _run(_Builder(TypeError("a harness bug"))).execute()
