"""JUnit XML for CI and one self-contained HTML page for people (no external assets)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from lxml import etree

from harness.reporting.events import SHOW_EVIDENCE, CaseResult, Outcome, RunInfo


def readable(text: str) -> str:
    """``text`` as UTF-8 can write it: an argument typed under an ASCII locale
    (``PYTHONUTF8=0 LC_ALL=C``, ``--out /tmp/báo-cáo``) holds its bytes as surrogate escapes,
    which every UTF-8 writer refuses; they were the terminal's UTF-8, so decode them."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate from elsewhere (a JSON \ud800 escape)
        return text.encode("utf-8", "replace").decode("utf-8")


def _node(parent: Any, tag: str, **attributes: str) -> Any:
    """A JUnit element (the root when ``parent`` is None) with readable attribute values."""
    values = {name: readable(value) for name, value in attributes.items()}
    return etree.Element(tag, values) if parent is None else etree.SubElement(parent, tag, values)


def write_junit(path: Path, info: RunInfo, cases: Sequence[CaseResult]) -> None:
    """One ``testsuite`` per run, a ``testcase`` per case, classname = procedure."""
    suite = _node(
        None,
        "testsuite",
        name=f"{info.suite}:{info.run_id}",
        tests=str(len(cases)),
        failures=str(sum(c.outcome is Outcome.FAILED for c in cases)),
        errors=str(sum(c.outcome is Outcome.ERROR for c in cases)),
        skipped=str(sum(c.outcome is Outcome.SKIPPED for c in cases)),
        time=f"{sum(c.duration_s for c in cases):.3f}",
        timestamp=info.started_at,
    )
    properties = _node(suite, "properties")
    for key, value in sorted(info.meta.items()):
        _node(properties, "property", name=str(key), value=str(value))
    for case in cases:
        node = _node(
            suite,
            "testcase",
            classname=f"{info.suite}.{case.procedure or 'all'}",
            name=case.case_id,
            time=f"{case.duration_s:.3f}",
        )
        if case.outcome in (Outcome.FAILED, Outcome.ERROR):
            tag = "failure" if case.outcome is Outcome.FAILED else "error"
            failure = _node(node, tag, message=case.message[:500])
            said = (("requirement", case.requirement), ("reproduce", case.reproduce))
            lines = [f"{k}: {v}" for k, v in said if v]  # an interrupted run's case has none
            lines += [f"{k}: {v}" for k, v in case.evidence.items()]
            failure.text = readable("\n".join(lines) or case.message)
        elif case.outcome is Outcome.SKIPPED:
            _node(node, "skipped", message=case.message[:500])
        elif SHOW_EVIDENCE in case.evidence:
            _system_out(node, case)
    # Python writes the file, not lxml: lxml encodes a str path as strict UTF-8, so a folder
    # typed under an ASCII locale (its bytes kept as surrogate escapes) could not be written.
    path.write_bytes(
        etree.tostring(suite, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )


def _system_out(node: Any, case: CaseResult) -> None:
    """A passed case's message and evidence, when it asks for them to be shown (what an
    intended difference excused and why): CI shows a pass, not what it let through."""
    out = _node(node, "system-out")
    out.text = readable(
        "\n".join(
            [case.message] + [f"{k}: {v}" for k, v in case.evidence.items() if k != SHOW_EVIDENCE]
        )
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
    """Verdict first, then the matrix of cases by procedure, each failure's evidence, the
    evidence of passed cases that ask for it, and why each skipped case was skipped."""
    rows, procedures, cells = _matrix(data["cases"])
    failures = [c for c in data["cases"] if c["outcome"] in ("failed", "error")]
    skipped = [c for c in data["cases"] if c["outcome"] == "skipped"]
    html = _ENV.get_template("report.html.j2").render(
        data=data, rows=rows, procedures=procedures, cells=cells, failures=failures,
        skipped=skipped, show=SHOW_EVIDENCE,
    )  # fmt: skip
    path.write_text(readable(html), encoding="utf-8")
