"""An expectations entry is told exactly what it lacks: a kind, a known kind, or a reason.

"expectation N needs a known kind (a glob must match one) and a reason" sent a user with a
valid kind and no reason hunting for what was wrong with the kind. The new difference kind
of a newer catalog's defective dossiers can be declared intended like its refusals.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.regression import load_expectations


@pytest.mark.parametrize(
    ("entry", "told", "not_told"),
    [
        ("{kind: newly-rejected}", r"bad\.yaml:2: expectation 1 \(newly-rejected\) has no reason",
         "known kind"),
        ("{kind: newly-rejected, reason: ''}", r"expectation 1 \(newly-rejected\) has no reason",
         "known kind"),
        ("{reason: r}", r"bad\.yaml:2: expectation 1 has no kind", "reason"),
        ("{kind: 'chnged-*', reason: r}",
         r"expectation 1 needs a known kind: 'chnged-\*' is none, and as a glob matches none",
         "reason"),
    ],
)  # fmt: skip
def test_an_entry_is_told_which_of_kind_and_reason_is_wrong(
    tmp_path: Path, entry: str, told: str, not_told: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"expected:\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=told) as info:
        load_expectations(path)
    assert not_told not in str(info.value).split(": ", 1)[1].split("\n")[0]


def test_a_new_catalog_defect_answered_otherwise_can_be_declared(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        "expected:\n  - {kind: new-catalog-unexpected, reason: RULE-105 renumbered}\n"
        "  - {kind: 'new-catalog-*', reason: either}\n",
        encoding="utf-8",
    )
    assert [e.kind for e in load_expectations(path)] == ["new-catalog-unexpected", "new-catalog-*"]
