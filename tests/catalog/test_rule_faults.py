"""A rule that compiles but fails when it runs is the catalog's fault, named by file, line
and assert (or let), never an lxml traceback; a namespaced XSD is refused when compiled."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from harness.catalog import load_catalog, validators_for
from harness.conformance import DossierChecker
from harness.dossiers.factory import DossierFactory
from harness.errors import CatalogError
from harness.signing import TestPKI
from tests.catalog_copies import Edits, edited_copy

VERSION = "2026.1"
D02 = "rules/D02-TS.sch"


def _line(root: Path, relative: str, needle: str) -> int:
    lines = (root / VERSION / relative).read_text(encoding="utf-8").splitlines()
    return next(n for n, text in enumerate(lines, 1) if needle in text)


def _form_error(tmp_path: Path, pki: TestPKI, edits: Edits) -> tuple[str, Path]:
    """Check a valid 600 dossier under the edited copy: the error its rules raise."""
    root = edited_copy(tmp_path, VERSION, edits)
    catalog = load_catalog(VERSION, root=root)
    envelope = DossierFactory(catalog, pki).build("600", 0).envelope
    with pytest.raises(CatalogError) as caught:
        DossierChecker(catalog, pki.trust_store()).check(envelope)
    assert caught.value.__suppress_context__  # no lxml chain under it
    return str(caught.value), root


RUN_TIME_FAULT = ('test="$wage &gt;= $floor"', 'test="$wage &gt;= count($floor)"')
"""A mistake only running finds: count() of a number, not of nodes (an undeclared variable
or prefix, or an unknown function, is refused when the catalog loads: see
test_rule_variables.py and test_rule_functions.py)."""


def test_a_run_time_fault_names_the_file_line_and_assert(tmp_path: Path, pki: TestPKI) -> None:
    text, root = _form_error(tmp_path, pki, {D02: [RUN_TIME_FAULT]})
    line = _line(root, D02, "count($floor)")
    assert f"D02-TS.sch:{line}:" in text and "assert 'd02-wage-floor'" in text
    assert "Invalid type" in text
    assert "XSLTApplyError" not in text and "runtime error, element" not in text


def test_a_run_time_fault_in_a_let_names_the_let(tmp_path: Path, pki: TestPKI) -> None:
    edit = ("fn:year-of(string(NgaySinh))", "count(string(NgaySinh))")
    text, root = _form_error(tmp_path, pki, {D02: [edit]})
    line = _line(root, D02, 'value="count(')
    assert f"D02-TS.sch:{line}:" in text and "let $y" in text
    assert "Invalid type" in text


def test_a_message_that_cannot_run_is_found_on_a_valid_dossier(
    tmp_path: Path, pki: TestPKI
) -> None:
    """A valid dossier never evaluates a message; running each one with its assert made to
    fail does, before a sender's dossier breaks that rule."""
    old = '(<sch:value-of select="$floor"/>)</sch:assert>'
    root = edited_copy(tmp_path, VERSION, {D02: [(old, old.replace("$floor", "count($floor)"))]})
    catalog = load_catalog(VERSION, root=root)
    dossier = DossierFactory(catalog, pki).build("600", 0)
    assert DossierChecker(catalog, pki.trust_store()).check(dossier.envelope).accepted
    validator = validators_for(catalog).form("D02-TS", "505")
    assert validator is not None
    with pytest.raises(CatalogError) as caught:
        validator.run_every_message(etree.fromstring(dossier.forms[0].content))
    text = str(caught.value)
    assert f"D02-TS.sch:{_line(root, D02, 'count($floor)')}:" in text
    assert "assert 'd02-wage-floor' (its message or the diagnostic it names)" in text
    assert "Invalid type" in text


def test_the_same_fault_is_located_once(tmp_path: Path, pki: TestPKI) -> None:
    """A gateway meets it with every such dossier: re-running reduced copies each time
    would cost every one of them."""
    root = edited_copy(tmp_path, VERSION, {D02: [RUN_TIME_FAULT]})
    catalog = load_catalog(VERSION, root=root)
    form = etree.fromstring(DossierFactory(catalog, pki).build("601", 0).forms[0].content)
    validator = validators_for(catalog).form("D02-TS", "505")
    assert validator is not None
    errors = []
    for _ in range(2):
        with pytest.raises(CatalogError) as caught:
            validator.validate(form)
        errors.append(caught.value)
    assert errors[0] is errors[1]


def test_a_namespaced_xsd_is_refused_when_compiled(tmp_path: Path) -> None:
    schema = '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"'
    namespaced = f'{schema} targetNamespace="urn:bhxh" xmlns="urn:bhxh"'
    root = edited_copy(tmp_path, VERSION, {"xsd/TK3-TS-595.xsd": [(schema, namespaced)]})
    with pytest.raises(CatalogError) as caught:
        validators_for(load_catalog(VERSION, root=root))
    text = str(caught.value)
    assert "TK3-TS-595.xsd:3:" in text and "targetNamespace='urn:bhxh'" in text
    assert "have no namespace" in text and "remove targetNamespace" in text


def test_a_harness_function_failing_when_run_names_the_file_line_and_assert(
    tmp_path: Path, pki: TestPKI
) -> None:
    """A table name built at run time cannot be checked at load; fn:as-of then raises
    (not libxslt), and the error still says where."""
    table = "fn:as-of(concat('no_', 'table'), 'amount', string(TuThang))"
    edit = ('test="$wage &gt;= $floor"', f'test="$wage &gt;= {table}"')
    text, root = _form_error(tmp_path, pki, {D02: [edit]})
    assert f"D02-TS.sch:{_line(root, D02, 'no_')}:" in text and "assert 'd02-wage-floor'" in text
    assert "fails when run: " in text and "'no_table'" in text


def test_a_schematron_grammar_error_names_its_line_once(tmp_path: Path) -> None:
    """lxml's grammar check printed every error it cascaded into, with ``<string>`` lines."""
    old = '<sch:diagnostic id="common-date-en" xml:lang="en">Date does not exist:'
    new = '<sch:diagnostic id="common-date-en" xml:lang="en"><sch:name/> does not exist:'
    root = edited_copy(tmp_path, VERSION, {"rules/common.sch": [(old, new)]})
    with pytest.raises(CatalogError) as caught:
        validators_for(load_catalog(VERSION, root=root))
    text = str(caught.value)
    assert f"common.sch:{_line(root, 'rules/common.sch', new)}:" in text
    assert "Element diagnostic has extra content: name" in text
    assert "<string>" not in text and "RELAXNG" not in text
    assert "\n" not in text.split("\nHint:")[0]  # one line, then the hint
