"""The one YAML loader refuses a key given twice instead of silently keeping the last, and
reads with libyaml what the pure-Python parser reads, alike, wording its refusals the same."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from harness.catalog import load_catalog
from harness.catalog.loader import catalogs_dir
from harness.errors import CatalogError
from harness.paths import fixtures_dir
from harness.yamlfile import LinedDict, _LineLoader, load_yaml


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "data.yaml"
    path.write_text(text, encoding="utf-8")
    return load_yaml(path)


def test_a_key_given_twice_names_both_lines(tmp_path: Path) -> None:
    text = 'procedures:\n  "605":\n    name: a\n  "606":\n    name: b\n  "605":\n    name: c\n'
    with pytest.raises(CatalogError) as info:
        _load(tmp_path, text)
    assert str(info.value).startswith(f"{tmp_path / 'data.yaml'}:6: key '605' given twice")
    assert "(first at line 2)" in str(info.value)
    assert info.value.line == 6


def test_keys_clash_as_the_strings_they_become(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r":3: key '605' given twice \(first at line 2\)"):
        _load(tmp_path, 'procedures:\n  605: {name: a}\n  "605": {name: b}\n')


def test_flow_mappings_are_checked_too(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="key 'from' given twice"):
        _load(tmp_path, 'in_force: {from: "01/2026", from: "02/2026"}\n')


def test_a_merge_may_be_overridden(tmp_path: Path) -> None:
    doc = _load(tmp_path, "base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  x: 3\n")
    assert doc == {"base": {"x": 1, "y": 2}, "other": {"x": 3, "y": 2}}


def test_the_same_key_in_different_mappings_is_fine(tmp_path: Path) -> None:
    assert _load(tmp_path, "a: {name: x}\nb: {name: y}\n") == {
        "a": {"name": "x"},
        "b": {"name": "y"},
    }


def test_a_catalog_with_a_procedure_twice_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "catalogs"
    shutil.copytree(catalogs_dir() / "2026.1", root / "2026.1")
    path = root / "2026.1" / "catalog.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text + '  612:\n    name: "x"\n    required_forms: [TK1-TS]\n'
        '    in_force: {from: "03/2017"}\n',
        encoding="utf-8",
    )
    first = next(n for n, line in enumerate(text.splitlines(), 1) if line == '  "612":')
    with pytest.raises(CatalogError, match=rf"key '612' given twice \(first at line {first}\)"):
        load_catalog("2026.1", root=root)


def _lines(value: object) -> list[tuple[int, dict[str, int]]]:
    """Every mapping's own line and its keys' lines, depth first."""
    if isinstance(value, LinedDict):
        own = [(value.line, dict(value.key_lines))]
        return own + [line for inner in value.values() for line in _lines(inner)]
    if isinstance(value, list):
        return [line for inner in value for line in _lines(inner)]
    return []


def test_libyaml_reads_every_data_file_as_the_python_parser_does() -> None:
    """Files are parsed with libyaml where PyYAML has it; values and lines must not change."""
    paths = sorted(fixtures_dir().rglob("*.yaml"))
    assert len(paths) > 20
    for path in paths:
        fast = load_yaml(path)
        slow = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_LineLoader)
        assert fast == slow and _lines(fast) == _lines(slow), path


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("a: [1, 2\n", ":2: YAML syntax error: expected ',' or ']', but got '<stream end>'"),
        ("a: 1\n\x00\n", ":2: YAML cannot hold the control character U+0000"),
        ("a:\n  b: 1\n b: 2\n", ":3: YAML syntax error:"),
    ],
)
def test_what_libyaml_refuses_is_worded_by_the_python_parser(
    tmp_path: Path, text: str, said: str
) -> None:
    with pytest.raises(CatalogError) as info:
        _load(tmp_path, text)
    assert said in str(info.value)
