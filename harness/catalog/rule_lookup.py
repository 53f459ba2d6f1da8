"""Find an assert or report of the rule files by its id: where a finding's rule is written,
for whoever must fix it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from harness.catalog.rule_problem import SCH_NS


def find_assert(paths: Iterable[Path], assert_id: str) -> tuple[Path, etree._Element] | None:
    """The rule file among ``paths`` holding the assert or report ``assert_id``, and its
    node (None if none has it; a file that cannot be read is passed over)."""
    for path in paths:
        try:
            root = etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()
        except (OSError, etree.XMLSyntaxError):
            continue
        for node in root.iter(f"{{{SCH_NS}}}assert", f"{{{SCH_NS}}}report"):
            if node.get("id") == assert_id:
                return path, node
    return None


def assert_at(paths: Iterable[Path], assert_id: str) -> str | None:
    """``file:line`` of the assert or report ``assert_id`` in the rule files ``paths``
    (None if none has it): where a finding's rule is, for whoever must fix it."""
    found = find_assert(paths, assert_id)
    return None if found is None else f"{found[0]}:{found[1].sourceline}"


__all__ = ["assert_at", "find_assert"]
