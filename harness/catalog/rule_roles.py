"""Which error codes a set of Schematron files can raise, read from their asserts' roles.

A suite that breaks a dossier on purpose (a named defect, a fuzz mutation) expects a rule's
code; where a form's rules never raise that code (a new form whose ``TienLuong`` has no
regional-minimum rule), expecting it would blame the gateway for the test's own guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

from lxml import etree

RULE_FAMILY = "RULE-"
SCHEMATRON_FAMILIES = (RULE_FAMILY, "ENV-")
"""The code families an assert's ``role`` may name (``fixtures/error_codes.yaml``): business
rules, and the envelope's consistency rules (``Hoso.sch``: SoLuongFile, DoDaiFile, base64).
The others belong to other stages (``XSD-001`` schema, ``SIG-*`` signatures)."""
RESULT_FAMILIES = ("RES-",)
"""The codes a result rule (``result_rules`` in ``catalog.yaml``) may raise: the defective
rows of a 03/TB-TS, found after the intake accepted the dossier."""
DEFAULT_ROLE = "RULE-001"  # what the validator reports for an assert without a role
_ASSERTS = "//*[local-name() = 'assert']"


@cache
def rule_codes(rules: tuple[Path, ...]) -> frozenset[str]:
    """Every code the asserts of these rule files can report (unreadable files: none)."""
    return frozenset(first_asserts(rules))


@cache
def first_asserts(rules: tuple[Path, ...]) -> Mapping[str, tuple[Path, int]]:
    """The file and line of the first assert reporting each code, codes in file order
    (unreadable files: none); read once for :func:`rule_codes` and for naming the assert."""
    found: dict[str, tuple[Path, int]] = {}
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    for path in rules:
        try:
            asserts = etree.parse(str(path), parser).xpath(_ASSERTS)
        except (OSError, etree.XMLSyntaxError):
            continue  # the catalog loader reports unreadable rules; this is a question
        for check in asserts:
            found.setdefault(str(check.get("role") or DEFAULT_ROLE), (path, check.sourceline))
    return MappingProxyType(found)


def can_raise(expected: tuple[str, ...], rules: tuple[Path, ...]) -> bool:
    """Whether a document checked by ``rules`` can answer every rule code in ``expected``.

    Rule codes are the ``RULE-`` family (``fixtures/error_codes.yaml``: the codes Schematron
    asserts raise); the others (``XSD-001``, ``SIG-002``) come from other stages and count.
    """
    return {c for c in expected if c.startswith(RULE_FAMILY)} <= rule_codes(rules)


__all__ = [
    "DEFAULT_ROLE",
    "RESULT_FAMILIES",
    "RULE_FAMILY",
    "SCHEMATRON_FAMILIES",
    "can_raise",
    "first_asserts",
    "rule_codes",
]
