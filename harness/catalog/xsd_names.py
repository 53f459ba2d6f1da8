"""The element names an XSD declares, with the schemas it includes, imports or redefines.

What a rule file or ``fields.yaml`` may name: a name no schema declares is a typo that
switches a rule (or a value source) off silently. Read with lxml, a few milliseconds a
catalog, since catalog loading runs it; xmlschema stays a diagnostics-only tool.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lxml import etree

XS_NS = "http://www.w3.org/2001/XMLSchema"
_REFERENCES = tuple(f"{{{XS_NS}}}{name}" for name in ("include", "import", "redefine", "override"))


def _root(path: Path) -> etree._Element | None:
    """The schema document at ``path``; None when unreadable (compiling it says why)."""
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        return etree.parse(str(path), parser).getroot()
    except (OSError, etree.XMLSyntaxError):
        return None


def declared_elements(xsds: Iterable[Path]) -> frozenset[str]:
    """Every ``xs:element/@name`` of ``xsds`` and the local schemas they reach (those
    that cannot be read declare nothing)."""
    return read_elements(xsds)[0]


def read_elements(xsds: Iterable[Path]) -> tuple[frozenset[str], bool]:
    """:func:`declared_elements`, and whether every schema could be read: a name check
    against a broken schema's names would hide its real fault."""
    names: set[str] = set()
    seen: set[Path] = set()
    complete = True
    todo = [p.resolve() for p in xsds]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        root = _root(path)
        if root is None:
            complete = False
            continue
        names.update(str(e.get("name")) for e in root.iter(f"{{{XS_NS}}}element") if e.get("name"))
        for reference in root.iter(*_REFERENCES):
            location = reference.get("schemaLocation")
            if location and "://" not in location:
                todo.append((path.parent / location).resolve())
    return frozenset(names), complete


__all__ = ["declared_elements", "read_elements"]
