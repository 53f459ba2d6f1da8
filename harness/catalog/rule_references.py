"""Id references of a rule file that name nothing (``diagnostics=``, ``is-a=``, ...).

lxml refuses the whole file for one, at line 0 and without the assert; this names the
attribute, its line and the ids the file does have.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from harness.catalog.rule_problem import SCH_NS, Problem, where_of
from harness.suggestions import did_you_mean

_REFERENCES: dict[tuple[str, str], str] = {
    ("assert", "diagnostics"): "diagnostic",
    ("report", "diagnostics"): "diagnostic",
    ("assert", "properties"): "property",
    ("report", "properties"): "property",
    ("active", "pattern"): "pattern",
    ("schema", "defaultPhase"): "phase",
    ("extends", "rule"): "rule",
    ("pattern", "is-a"): "pattern",
}
"""(element, attribute) -> the element whose ``id`` the attribute names, per ISO
Schematron's grammar (IDREF / IDREFS attributes)."""
_IDS_LISTED = 12
"""Ids a hint lists: more are read by nobody."""


def unknown_references(path: Path, root: etree._Element) -> list[Problem]:
    """Each id a ``diagnostics=`` (or another reference attribute) names that no element
    of the file has: lxml refuses the whole file for it, at line 0 and without the assert."""
    ids: dict[str, list[str]] = {}
    for node in root.iter(f"{{{SCH_NS}}}*"):
        if node.get("id"):
            ids.setdefault(etree.QName(node).localname, []).append(str(node.get("id")))
    problems = []
    for node in root.iter(f"{{{SCH_NS}}}*"):
        for (local, attribute), kind in _REFERENCES.items():
            if etree.QName(node).localname != local or node.get(attribute) is None:
                continue
            known = ids.get(kind, [])
            for ref in str(node.get(attribute)).split():
                if ref not in known:
                    problems.append(_unknown_reference(path, node, attribute, ref, kind, known))
    return problems


def _unknown_reference(
    path: Path, node: etree._Element, attribute: str, ref: str, kind: str, known: list[str]
) -> Problem:
    listed = ", ".join(known[:_IDS_LISTED]) + (" …" if len(known) > _IDS_LISTED else "")
    ids = f"the {kind} ids of this file: {listed}" if known else f"this file has no <sch:{kind}>"
    return Problem(
        path,
        node.sourceline,
        where_of(node),
        f"{attribute}={ref!r} names no <sch:{kind}> of this file, so the file does not compile",
        f"{did_you_mean(ref, known)}{ids} (ids are case-sensitive; a file's {attribute} may "
        "name only its own)",
    )


__all__ = ["unknown_references"]
