"""A form's shape, read once from its XSD: element order, occurrences and enumerations.

The factory and the fuzzer walk this light tree instead of xmlschema's component model,
which is slow to query; it is built once per form version and cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harness.catalog.schema_walk import load_schema
from harness.errors import CatalogError


@dataclass(frozen=True)
class ElementSpec:
    """One element declaration: simple (with facets) or complex (with children)."""

    name: str
    min_occurs: int
    max_occurs: int | None
    children: tuple[ElementSpec, ...] | None
    enumeration: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    max_length: int | None = None

    @property
    def is_complex(self) -> bool:
        return self.children is not None

    @property
    def repeats(self) -> bool:
        return self.max_occurs is None or self.max_occurs > 1

    def child(self, name: str) -> ElementSpec | None:
        return next((c for c in self.children or () if c.name == name), None)


def _facets(xsd_type: Any) -> tuple[tuple[str, ...], tuple[str, ...], int | None]:
    enumeration = tuple(str(v) for v in (getattr(xsd_type, "enumeration", None) or ()))
    patterns: list[str] = []
    max_length = getattr(xsd_type, "max_length", None)
    current = xsd_type
    while current is not None and hasattr(current, "patterns"):
        if current.patterns is not None:
            patterns.extend(str(p) for p in current.patterns.regexps)
        current = getattr(current, "base_type", None)
    return enumeration, tuple(patterns), max_length


def _spec(element: Any) -> ElementSpec:
    xsd_type = element.type
    max_occurs = element.max_occurs
    if xsd_type.is_simple() or xsd_type.has_simple_content():
        enumeration, patterns, max_length = _facets(xsd_type)
        return ElementSpec(
            element.local_name,
            element.min_occurs,
            max_occurs,
            None,
            enumeration,
            patterns,
            max_length,
        )
    # wildcards (the xs:any that holds a ds:Signature) have no type: the signer fills them
    children = tuple(
        _spec(child) for child in xsd_type.content.iter_elements() if child.type is not None
    )
    return ElementSpec(element.local_name, element.min_occurs, max_occurs, children)


@cache
def form_model(xsd: Path) -> ElementSpec:
    """The root element of ``xsd`` as an :class:`ElementSpec` tree."""
    schema = load_schema(xsd)
    roots = list(schema.elements.values())
    if len(roots) != 1:
        raise CatalogError(
            f"expected exactly one global element, found {len(roots)}", path=str(xsd)
        )
    return _spec(roots[0])
