"""JUnit XML for CI and one self-contained HTML page for people (no external assets)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from lxml import etree

from harness.reporting.events import CaseResult, Outcome, RunInfo


def write_junit(path: Path, info: RunInfo, cases: Sequence[CaseResult]) -> None:
    """One ``testsuite`` per run, a ``testcase`` per case, classname = procedure."""
    suite = etree.Element(
        "testsuite",
        name=f"{info.suite}:{info.run_id}",
        tests=str(len(cases)),
        failures=str(sum(c.outcome is Outcome.FAILED for c in cases)),
        errors=str(sum(c.outcome is Outcome.ERROR for c in cases)),
        skipped=str(sum(c.outcome is Outcome.SKIPPED for c in cases)),
        time=f"{sum(c.duration_s for c in cases):.3f}",
        timestamp=info.started_at,
    )
    properties = etree.SubElement(suite, "properties")
    for key, value in sorted(info.meta.items()):
        etree.SubElement(properties, "property", name=str(key), value=str(value))
    for case in cases:
        node = etree.SubElement(
            suite,
            "testcase",
            classname=f"{info.suite}.{case.procedure or 'all'}",
            name=case.case_id,
            time=f"{case.duration_s:.3f}",
        )
        if case.outcome in (Outcome.FAILED, Outcome.ERROR):
            tag = "failure" if case.outcome is Outcome.FAILED else "error"
            failure = etree.SubElement(node, tag, message=case.message[:500])
            failure.text = "\n".join(
                [f"requirement: {case.requirement}", f"reproduce: {case.reproduce}"]
                + [f"{k}: {v}" for k, v in case.evidence.items()]
            )
        elif case.outcome is Outcome.SKIPPED:
            etree.SubElement(node, "skipped", message=case.message[:500])
    etree.ElementTree(suite).write(
        str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )


_ENV = Environment(
    loader=PackageLoader("harness.reporting", "templates"),
    autoescape=True,  # evidence is untrusted text from the system under test
    trim_blocks=True,
    lstrip_blocks=True,
)


def _matrix(cases: list[dict[str, Any]]) -> tuple[list[str], list[str], dict[tuple[str, str], str]]:
    """Cases by procedure: rows are case ids (without the procedure), columns procedures."""
    procedures = sorted({c["procedure"] or "-" for c in cases})
    rows: list[str] = []
    cells: dict[tuple[str, str], str] = {}
    for case in cases:
        base = case["case_id"].split("@")[0]
        if base not in rows:
            rows.append(base)
        cells[(base, case["procedure"] or "-")] = case["outcome"]
    return rows, procedures, cells


def write_html(path: Path, data: dict[str, Any]) -> None:
    """Verdict first, then the matrix of cases by procedure, then each failure's evidence."""
    rows, procedures, cells = _matrix(data["cases"])
    failures = [c for c in data["cases"] if c["outcome"] in ("failed", "error")]
    html = _ENV.get_template("report.html.j2").render(
        data=data, rows=rows, procedures=procedures, cells=cells, failures=failures
    )
    path.write_text(html, encoding="utf-8")
