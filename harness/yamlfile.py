"""YAML loading for every data file under ``fixtures/``, remembering line numbers.

One loader for catalogs, reference tables, defects, fault and release profiles, load
shapes and baselines, so a broken file always fails the same way: a
:class:`~harness.errors.CatalogError` naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.errors import CatalogError


class LinedDict(dict[str, Any]):
    """A mapping that knows the line it started on and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int] = {}  # noqa: RUF012 - replaced per instance when loaded


class _LineLoader(yaml.SafeLoader):
    pass


class DuplicateKey(yaml.MarkedYAMLError):
    """A mapping gives the same key twice; YAML would silently keep the last one."""


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _refuse_duplicates(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, int]:
    """Keys compare as the strings the mapping will hold, so ``605:`` clashes with ``"605":``.

    Keys a ``<<:`` merge brings in may be overridden on purpose, so only written keys count.
    """
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
            continue
        key = str(loader.construct_object(key_node))
        line = key_node.start_mark.line + 1
        if key in seen:
            raise DuplicateKey(
                problem=f"key {key!r} given twice (first at line {seen[key]})",
                problem_mark=key_node.start_mark,
            )
        seen[key] = line
    return seen


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LinedDict:
    key_lines = _refuse_duplicates(loader, node)
    mapping = LinedDict({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = key_lines
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _fast_loader() -> type[yaml.SafeLoader] | type[yaml.CSafeLoader]:
    """The same constructors over libyaml's parser where PyYAML has it, 7 times faster
    (every fixture file in 16 ms, not 134); what it refuses is read again by
    :class:`_LineLoader`, whose messages we word."""
    if not yaml.__with_libyaml__:
        return _LineLoader

    class FastLineLoader(yaml.CSafeLoader):
        pass

    FastLineLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
    )
    return FastLineLoader


_FAST_LOADER = _fast_loader()


def load_yaml(path: Path) -> Any:
    """Parse ``path``; syntax errors become :class:`CatalogError` with file and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM from a Windows editor is fine
    except FileNotFoundError as exc:
        raise CatalogError("file not found", path=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise CatalogError("file is not UTF-8", path=str(path)) from exc
    try:
        return yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        pass  # read again below: the pure-Python parser's messages are the ones we word
    try:
        return yaml.load(text, Loader=_LineLoader)
    except DuplicateKey as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise CatalogError(
            str(exc.problem),
            path=str(path),
            line=line,
            hint="remove or merge one of them: YAML would silently keep only the last",
        ) from exc
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise CatalogError(f"YAML syntax error: {exc.problem}", path=str(path), line=line) from exc
    except yaml.reader.ReaderError as exc:  # a control character YAML may not hold
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1])
        raise CatalogError(
            f"YAML cannot hold the control character U+{code:04X}",
            path=str(path),
            line=line,
            hint="remove the control character (a binary file, or a paste gone wrong?)",
        ) from exc
    except yaml.YAMLError as exc:  # anything else the parser refuses
        raise CatalogError(f"not readable as YAML: {exc}", path=str(path)) from exc


def line_of(mapping: object, key: str | None = None) -> int | None:
    """The line of ``key`` in a mapping from :func:`load_yaml` (or where the mapping
    starts, without a key or for a key it lacks); None for any other object."""
    if not isinstance(mapping, LinedDict):
        return None
    return mapping.key_lines.get(key, mapping.line) if key is not None else mapping.line
