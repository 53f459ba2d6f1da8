"""A form whose XSD takes elements in no namespace through a wildcard may hold any element
a rule names unprefixed, so a rule change there reaches it; a wildcard of another
namespace (the signature's) does not make it so."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.catalog.diff import diff_catalogs
from tests.catalog_copies import edited_copy

DATES = '| TuNgay | DenNgay">'
END_OF_DONVI = (
    '      </xs:element>\n    </xs:sequence>\n  </xs:complexType>\n  <xs:element name="TK3-TS">'
)


@pytest.mark.parametrize(
    ("namespace", "reaches"),
    [("##local", True), ("##any", True), ("##local urn:other", True), ("urn:other", False)],
)
def test_a_wildcard_taking_unqualified_elements_makes_a_rule_change_reach(
    tmp_path: Path, namespace: str, reaches: bool
) -> None:
    wildcard = f'      <xs:any namespace="{namespace}" processContents="lax" minOccurs="0"/>\n'
    edits = {
        "rules/common.sch": [(DATES, '| TuNgay | DenNgay | NgayXuatCanh">')],
        "xsd/TK3-TS-595.xsd": [
            (
                END_OF_DONVI,
                END_OF_DONVI.replace("    </xs:sequence>", wildcard + "    </xs:sequence>", 1),
            )
        ],
    }
    root = edited_copy(tmp_path, "2026.1", edits)
    diff = diff_catalogs(load_catalog("2026.1"), load_catalog("2026.1", root=root))
    [change] = [c for c in diff.changes if c.subject == "TK3-TS#common-date"]
    assert change.kind == "rule-changed"
    assert change.breaking is reaches, change.detail
