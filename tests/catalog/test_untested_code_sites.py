"""The ``catalog check`` warning of a rule code no defect expects names the code's first
assert from the rule files as read for the codes: they were parsed again to find it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from harness.catalog import load_catalog
from harness.dossiers.defect_codes import untested_codes
from tests.catalog_copies import edited_copy, line_of


def test_the_first_assert_is_named_from_one_read_of_each_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2024.1's name-mark asserts raise RULE-112 here, so 2026.1 adds RULE-113."""
    marks = {
        f"rules/{name}.sch": [(f'id="{id_}" role="RULE-113"', f'id="{id_}" role="RULE-112"')]
        for name, id_ in (("Hoso", "env-marks"), ("common", "common-marks"))
    }
    previous = load_catalog("2024.1", root=edited_copy(tmp_path, "2024.1", marks))
    new = load_catalog("2026.1", root=edited_copy(tmp_path, "2026.1", {}))  # read afresh
    parsed: Counter[str] = Counter()
    parse = etree.parse

    def counted(source: Any, *args: Any, **kwargs: Any) -> Any:
        parsed[str(source)] += 1
        return parse(source, *args, **kwargs)

    monkeypatch.setattr(etree, "parse", counted)
    untested = untested_codes(new, previous)
    envelope = new.envelope.rules[0]
    assert untested is not None
    assert untested.raised_by == {"RULE-113": f"{envelope}:{line_of(envelope, 'env-marks')}"}
    assert parsed[str(envelope)] == 1, parsed
