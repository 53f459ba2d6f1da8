"""Flatten an XSD into path-keyed nodes: what an instance sees at each element path.

A sender only ever sees instances, never how a schema is factored: a type moved into
``common.xsd``, a named type inlined or renamed, a group reference expanded, none of that
changes which documents are valid. So instead of reading schema text we let
``xmlschema`` resolve includes, references and derivations, and record what an instance
sees at each element path (``D02-TS/NoiDung/LaoDong/PA``): how often it may occur, its
effective facets and code set, its children and their order. The diff compares two such
walks (:mod:`harness.catalog.schema_compare`); the factory and the fuzzers read one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.catalog.xsd_source import nfc_opener
from harness.errors import CatalogError

if TYPE_CHECKING:  # xmlschema (~100 ms) is imported where a schema is read or walked, so
    import xmlschema  # importing the dossier factory (every command's help) does not pay it

_XS = "{http://www.w3.org/2001/XMLSchema}"
# Facets where a smaller value admits fewer documents, and where a larger one does.
SMALLER_IS_TIGHTER = ("maxLength", "totalDigits", "fractionDigits")
_LARGER_IS_TIGHTER = ("minLength",)
BOUNDS = {"min": ("minInclusive", "minExclusive"), "max": ("maxInclusive", "maxExclusive")}
SCALAR_FACETS = ("length", "whiteSpace", *SMALLER_IS_TIGHTER, *_LARGER_IS_TIGHTER)


@dataclass(frozen=True)
class SimpleInfo:
    """What an instance value must satisfy: built-in base, effective facets, code set.

    ``patterns`` holds one set per derivation step: the alternatives of a step are OR-ed,
    the steps AND-ed, which is what decides whether a pattern change only widens.
    """

    label: str
    variety: str
    builtins: tuple[str, ...]
    facets: Mapping[str, Any]
    patterns: tuple[frozenset[str], ...]
    enumeration: frozenset[Any] | None
    item: SimpleInfo | None = None
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Node:
    """One element, attribute or wildcard as an instance meets it at ``path``.

    ``min_occurs``/``max_occurs`` are effective within the parent (a choice with several
    branches makes each branch optional; an optional group makes its members optional),
    and ``groups`` names the nested compositors around it, so a sequence turned into a
    choice is still seen even when the occurrence numbers happen to match.
    """

    path: str
    kind: str
    min_occurs: int
    max_occurs: int | None
    type_label: str = ""
    content: str = "simple"
    simple: SimpleInfo | None = None
    groups: tuple[str, ...] = ()
    compositor: str | None = None
    children: tuple[str, ...] = ()
    nillable: bool = False
    fixed: str | None = None
    namespace: str = ""
    identities: Mapping[str, str] = field(default_factory=dict)
    takes: tuple[str, ...] = ()
    """A wildcard's namespaces as the XSD gives them (``""``: no namespace)."""


def load_schema(path: Path) -> xmlschema.XMLSchema:
    """The schema at ``path`` for walking it; a broken one is a one-line CatalogError.

    xmlschema's own message runs to a dozen lines (the component, its path, the URL);
    the line number is lxml's, so the hint points at ``catalog check``. Built once while
    the schema files are unchanged (``catalog check`` asked for the same 13 schemas 34
    times, 1.8 s of its 4): callers only read it.
    """
    return _schema_as_of(path, _folder_state(path.parent))


def _folder_state(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, mtime and size of every XSD beside a schema: what it may include, so an
    edited ``common.xsd`` builds its forms anew."""
    try:
        found = [(e.name, e.stat()) for e in os.scandir(folder) if e.name.endswith(".xsd")]
    except OSError:
        return ()
    return tuple(sorted((name, st.st_mtime_ns, st.st_size) for name, st in found))


@lru_cache(maxsize=32)
def _schema_as_of(path: Path, _state: tuple[tuple[str, int, int], ...]) -> xmlschema.XMLSchema:
    import xmlschema

    try:  # read composed (NFC), as lxml compiles it for the gateway: see xsd_source
        return xmlschema.XMLSchema(str(path), opener=nfc_opener())
    except xmlschema.XMLSchemaException as exc:
        where = getattr(exc, "path", None)
        message = getattr(exc, "message", None) or str(exc).splitlines()[0]
        raise CatalogError(
            f"cannot read XSD: {message}" + (f" (at {where})" if where else ""),
            path=str(path),
            hint="`bhxh-harness catalog check` names the line",
        ) from exc
    except OSError as exc:
        raise CatalogError(f"cannot read XSD: {exc.strerror or exc}", path=str(path)) from exc


def snapshot(path: Path) -> dict[str, Node]:
    """Every node of every global element of the schema at ``path``, in document order."""
    schema = load_schema(path)
    nodes: dict[str, Node] = {}
    for element in schema.elements.values():
        _walk_element(element, element.local_name, 1, 1, (), nodes, ())
    return nodes


def _label(xsd_type: Any) -> str:
    if xsd_type.name is not None:
        return str(xsd_type.prefixed_name if _is_builtin(xsd_type) else xsd_type.local_name)
    base = getattr(xsd_type, "base_type", None)
    if base is not None:
        return f"anonymous type based on {_label(base)}"
    if xsd_type.is_list():
        return "anonymous list"
    return "anonymous union" if xsd_type.is_union() else "anonymous type"


def _is_builtin(xsd_type: Any) -> bool:
    from xmlschema.validators import XsdAtomicBuiltin

    return isinstance(xsd_type, XsdAtomicBuiltin) or str(xsd_type.name or "").startswith(_XS)


def simple_info(xsd_type: Any) -> SimpleInfo:
    """Walk the restriction chain most-derived first; the most-derived facet value wins."""
    facets: dict[str, Any] = {}
    patterns: list[frozenset[str]] = []
    enumeration: frozenset[Any] | None = None
    step = xsd_type
    while step is not None and not _is_builtin(step):
        for name, facet in step.facets.items():
            local = str(name or "").removeprefix(_XS)
            if local == "pattern":
                patterns.append(frozenset(facet.regexps))
            elif local == "enumeration":
                enumeration = (
                    enumeration if enumeration is not None else frozenset(facet.enumeration)
                )
            elif local in SCALAR_FACETS or local in BOUNDS["min"] + BOUNDS["max"]:
                facets.setdefault(local, facet.value)
        if step.is_list() and not step.is_restriction():
            item = simple_info(step.item_type)
            return SimpleInfo(
                _label(xsd_type), "list", (), facets, tuple(patterns), enumeration, item
            )
        if step.is_union() and not step.is_restriction():
            members = tuple(_label(m) for m in step.member_types)
            return SimpleInfo(
                _label(xsd_type), "union", (), facets, tuple(patterns), enumeration, None, members
            )
        step = step.base_type
    builtins: list[str] = []
    while step is not None and len(builtins) < 20:
        builtins.append(str(step.prefixed_name))
        step = step.base_type
    return SimpleInfo(
        _label(xsd_type), "atomic", tuple(builtins), facets, tuple(patterns), enumeration
    )


def _times(a: int | None, b: int | None) -> int | None:
    """Occurrence product with ``None`` as unbounded (zero times anything stays zero)."""
    if a == 0 or b == 0:
        return 0
    return None if a is None or b is None else a * b


def _particles(group: Any, low: int, high: int | None, models: tuple[str, ...]) -> Iterator[Any]:
    """Leaf particles of a model group with their effective occurrence and enclosing groups."""
    from xmlschema.validators import XsdGroup

    low *= group.min_occurs
    high = _times(high, group.max_occurs)
    if group.model == "choice" and len(group) > 1:
        low = 0
    for particle in group:
        if isinstance(particle, XsdGroup):
            model = f"{particle.model}{{{particle.min_occurs},{particle.max_occurs}}}"
            yield from _particles(particle, low, high, (*models, model))
        else:
            yield particle, low * particle.min_occurs, _times(high, particle.max_occurs), models


def _walk_element(
    element: Any,
    path: str,
    low: int,
    high: int | None,
    groups: tuple[str, ...],
    nodes: dict[str, Node],
    ancestors: tuple[int, ...],
) -> None:
    from xmlschema.validators import XsdAnyElement, XsdGroup

    xsd_type = element.type
    node = Node(
        path,
        "element",
        low,
        high,
        _label(xsd_type),
        groups=groups,
        nillable=bool(element.nillable),
        fixed=None if element.fixed is None else str(element.fixed),
        namespace=element.target_namespace or "",
        identities={str(i.local_name): _identity(i) for i in element.identities},
    )
    if xsd_type.is_simple():
        nodes[path] = replace(node, simple=simple_info(xsd_type))
        return
    group = xsd_type.content if isinstance(xsd_type.content, XsdGroup) else None
    particles = [] if group is None else list(_particles(group, 1, 1, ()))
    keys = _child_keys(particles)
    nodes[path] = replace(
        node,
        content=xsd_type.content_type_label,
        simple=simple_info(xsd_type.content) if xsd_type.has_simple_content() else None,
        compositor=None if group is None else str(group.model),
        children=tuple(keys),
    )
    for name, attribute in xsd_type.attributes.items():
        if name is None:
            nodes[f"{path}/@*"] = _wildcard(f"{path}/@*", attribute, 0, None, ())
        elif attribute.use != "prohibited":
            fixed = None if attribute.fixed is None else str(attribute.fixed)
            nodes[f"{path}/@{attribute.local_name}"] = Node(
                f"{path}/@{attribute.local_name}",
                "attribute",
                1 if attribute.use == "required" else 0,
                1,
                _label(attribute.type),
                simple=simple_info(attribute.type),
                fixed=fixed,
            )
    if id(xsd_type) in ancestors:
        return  # a recursive type: its children were recorded one level up
    for key, (particle, p_low, p_high, models) in zip(keys, particles, strict=True):
        child = f"{path}/{key}"
        if isinstance(particle, XsdAnyElement):
            nodes[child] = _wildcard(child, particle, p_low, p_high, models)
        else:
            _walk_element(particle, child, p_low, p_high, models, nodes, (*ancestors, id(xsd_type)))


def _child_keys(particles: list[Any]) -> list[str]:
    """Path steps of the children; a name repeated in one content model gets ``[n]``."""
    from xmlschema.validators import XsdAnyElement

    keys: list[str] = []
    for particle, *_ in particles:
        base = "*" if isinstance(particle, XsdAnyElement) else str(particle.local_name)
        count = sum(1 for k in keys if k == base or k.startswith(f"{base}["))
        keys.append(base if count == 0 else f"{base}[{count + 1}]")
    return keys


def _identity(constraint: Any) -> str:
    """An xs:unique, xs:key or xs:keyref as text: equal text, same constraint."""
    kind = type(constraint).__name__.removeprefix("Xsd").lower()
    fields = ", ".join(str(f.path) for f in constraint.fields)
    refer = getattr(constraint, "refer", None)
    target = f" refer={refer.local_name}" if refer is not None else ""
    return f"{kind} selector={constraint.selector.path} fields={fields}{target}"


def _wildcard(
    path: str, wildcard: Any, low: int, high: int | None, groups: tuple[str, ...]
) -> Node:
    takes = tuple(sorted(str(n) for n in wildcard.namespace))
    label = f"wildcard namespace={' '.join(takes) or '##local'}"
    label += f" processContents={wildcard.process_contents}"
    return Node(path, "wildcard", low, high, label, groups=groups, takes=takes or ("",))
