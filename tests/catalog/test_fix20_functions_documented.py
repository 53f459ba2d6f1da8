"""fixtures/catalog/README.md lists every ``fn:`` function rules may call, with as many
arguments as it takes, and no function the harness does not register."""

from __future__ import annotations

import re

from harness.catalog import xpath_functions
from harness.paths import fixtures_dir

_CALL = re.compile(r"`fn:([a-z0-9-]+)\(([^)`]*)\)`")


def _documented() -> dict[str, set[int]]:
    """Each function the README's table shows a call of, with the argument counts shown."""
    text = (fixtures_dir() / "catalog" / "README.md").read_text(encoding="utf-8")
    table = [line for line in text.splitlines() if line.startswith("| `fn:")]
    found: dict[str, set[int]] = {}
    for line in table:
        match = _CALL.search(line)
        assert match is not None, line
        args = [a for a in match[2].split(",") if a.strip()]
        found.setdefault(match[1], set()).add(len(args))
    return found


def test_every_registered_function_is_documented_with_each_arity() -> None:
    documented = _documented()
    for name, (fewest, most) in xpath_functions.ARITY.items():
        assert name in documented, f"fn:{name} is not in fixtures/catalog/README.md"
        assert documented[name] == set(range(fewest, most + 1)), name


def test_the_readme_documents_no_function_that_is_not_registered() -> None:
    assert set(_documented()) <= set(xpath_functions.ARITY)
