"""Declared intended changes pass; undeclared ones fail; unused declarations are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.regression import Baseline, Difference, LatencyThresholds, load_expectations, regress
from harness.regression.compare import compare_latency
from harness.regression.expectations import apply_expectations
from harness.signing import TestPKI
from tests.regression.conftest import FUNCTIONAL


def test_an_intended_renumbering_declared_in_yaml_passes(
    reference: Baseline, baselines: Path, pki: TestPKI, tmp_path: Path
) -> None:
    path = tmp_path / "release.yaml"
    path.write_text(
        "expected:\n"
        "  - kind: changed-error-code\n"
        "    dossier: '*/impossible-date'\n"
        "    actual: RULE-150\n"
        "    reason: impossible dates get their own code from this release\n"
        "  - kind: newly-accepted\n"
        "    reason: declared but does not happen\n",
        encoding="utf-8",
    )
    result = regress(
        baseline=reference.name, root=baselines, pki=pki, release="error-code-renumbered",
        expectations=path, thresholds=FUNCTIONAL,
    )  # fmt: skip
    assert result.ok
    assert result.intended and all(d.kind == "changed-error-code" for d, _ in result.intended)
    assert [e.kind for e in result.unused] == ["newly-accepted"]


def test_expectations_match_on_form_version() -> None:
    d600 = Difference("newly-rejected", "600", "600/valid-0000", ("D02-TS-505.xml",))
    d607 = Difference("newly-rejected", "607", "607/valid-0000", ("TK1-TS-595.xml",))
    from harness.regression.expectations import Expectation

    intended, unintended, unused = apply_expectations(
        [d600, d607],
        [Expectation("newly-rejected", "D02-TS 505 tightened", (("form", "D02-TS-505"),))],
    )
    assert [d for d, _ in intended] == [d600] and unintended == [d607] and unused == []


def test_an_expectation_needs_a_kind_and_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("expected:\n  - {kind: changed-error-code}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expectation 1"):
        load_expectations(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("just text\n", "holds a list `expected`"),
        ("- kind: changed-error-code\n", "holds a list `expected`"),
        ("expected: 5\n", "holds a list `expected`"),
        ("expected:\n  - changed-error-code\n", "expectation 1 is not a mapping"),
    ],
)
def test_a_misshapen_expectations_file_says_what_shape_it_needs(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_expectations(path)
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    assert load_expectations(tmp_path / "empty.yaml") == []


def test_latency_needs_the_ratio_the_floor_and_enough_samples() -> None:
    base = {
        "600": {"n": 50, "p50_ms": 3.0, "p95_ms": 5.0},
        "604": {"n": 50, "p50_ms": 3.0, "p95_ms": 5.0},
    }
    thresholds = LatencyThresholds()
    noisy = {"600": {"n": 50, "p50_ms": 4.4, "p95_ms": 14.0}, "604": base["604"]}
    assert compare_latency(base, noisy, thresholds) == []
    slow = {"600": {"n": 50, "p50_ms": 9.0, "p95_ms": 40.0}, "604": base["604"]}
    assert [d.kind for d in compare_latency(base, slow, thresholds)] == [
        "latency-p50",
        "latency-p95",
    ]
    few = {"600": {"n": 2, "p50_ms": 90.0, "p95_ms": 300.0}, "604": base["604"]}
    assert compare_latency(base, few, thresholds) == []


def test_a_busy_machine_slowing_everything_alike_is_not_a_regression() -> None:
    procedures = ("600", "601", "604")
    base = {p: {"n": 50, "p50_ms": 3.0, "p95_ms": 5.0} for p in procedures}
    busy = {p: {"n": 50, "p50_ms": 5.7, "p95_ms": 9.5} for p in procedures}
    assert compare_latency(base, busy, LatencyThresholds()) == []
    busy_and_slow = {**busy, "600": {"n": 50, "p50_ms": 13.0, "p95_ms": 20.0}}
    [found] = compare_latency(base, busy_and_slow, LatencyThresholds())
    assert (found.kind, found.procedure) == ("latency-p50", "600")
    crawling = {p: {"n": 50, "p50_ms": 12.0, "p95_ms": 20.0} for p in procedures}
    assert [d.procedure for d in compare_latency(base, crawling, LatencyThresholds())] == ["all"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("expected:\n  - kind: newly-rejected\n    procdure: '600'\n    reason: r\n",
         r"bad\.yaml:3: expectation 1: unknown key procdure"),  # the key's own line
        ("expect:\n  - {kind: newly-rejected, reason: r}\n",
         r"bad\.yaml:1: .*holds a list `expected` and nothing else \(found: expect\)"),
        ("expected:\n  - {kind: 'chnged-*', reason: r}\n",
         r"bad\.yaml:2: expectation 1 needs a known kind"),
        ("expected:\n  - {kind: newly-rejected, procedure: '[600', reason: r}\n",
         r"bad\.yaml:2: procedure: '\[600' opens a '\[' it never closes"),
    ],
)  # fmt: skip
def test_a_mistake_that_would_match_everything_or_nothing_is_refused_with_its_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_expectations(path)


def test_a_folder_is_not_an_expectations_file(tmp_path: Path) -> None:
    from harness.errors import UsageError

    with pytest.raises(UsageError, match="is a folder"):
        load_expectations(tmp_path)


@pytest.mark.parametrize(
    ("field", "value"), [("p50_ratio", 0.0), ("p95_ratio", -1.0), ("min_delta_ms", float("nan"))]
)
def test_thresholds_that_would_flag_everything_or_nothing_are_refused(
    field: str, value: float
) -> None:
    with pytest.raises(ConfigError, match="--" + field.replace("_", "-")):
        LatencyThresholds(**{field: value})


def test_text_compares_in_nfc_and_a_unicode_form_change_says_so() -> None:
    """A glob typed in NFC matched nothing in an NFD answer that looked the same, and a
    changed-answer printed two identical-looking texts."""
    import unicodedata

    from harness.regression.compare import compare_dossier
    from harness.regression.expectations import Expectation

    name = "CÔNG TY TNHH HƯNG THỊNH"
    decomposed = unicodedata.normalize("NFD", name)
    outcome = {"status": 202, "accepted": True, "codes": [], "findings": [], "messages": []}
    before = {**outcome, "answer": {"TTDVI/TEN_DVI": name}}
    after = {**outcome, "answer": {"TTDVI/TEN_DVI": decomposed}}
    [found] = compare_dossier("600/valid-0000", "600", (), before, after)
    assert found.kind == "changed-answer"
    assert found.actual.endswith("[same text in another Unicode form: not NFC]")
    typed = Expectation("changed-answer", "names now NFD", (("actual", "*HƯNG THỊNH*"),))
    intended, unintended, _ = apply_expectations([found], [typed])
    assert [d for d, _ in intended] == [found] and unintended == []
