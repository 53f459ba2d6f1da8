"""Flatten an XSD into path-keyed nodes and compare two of them, for the catalog diff.

A sender only ever sees instances, never how a schema is factored: a type moved into
``common.xsd``, a named type inlined or renamed, a group reference expanded, none of that
changes which documents are valid. So instead of comparing schema text we let
``xmlschema`` resolve includes, references and derivations, and record what an instance
sees at each element path (``D02-TS/NoiDung/LaoDong/PA``): how often it may occur, its
effective facets and code set, its children and their order. Comparing two versions is
then a walk over two dictionaries, each difference classified by whether a document that
was valid before may now be refused.

Comparison results go through an ``emit(kind, subject, detail, breaking)`` callback so this
module stays independent of how :mod:`harness.catalog.diff` packages them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.catalog.xsd_source import nfc_opener
from harness.errors import CatalogError

if TYPE_CHECKING:  # xmlschema (~100 ms) is imported where a schema is read or walked, so
    import xmlschema  # importing the dossier factory (every command's help) does not pay it

Emit = Callable[[str, str, str, bool], None]

_XS = "{http://www.w3.org/2001/XMLSchema}"
# Facets where a smaller value admits fewer documents, and where a larger one does.
_SMALLER_IS_TIGHTER = ("maxLength", "totalDigits", "fractionDigits")
_LARGER_IS_TIGHTER = ("minLength",)
_BOUNDS = {"min": ("minInclusive", "minExclusive"), "max": ("maxInclusive", "maxExclusive")}
_SCALAR_FACETS = ("length", "whiteSpace", *_SMALLER_IS_TIGHTER, *_LARGER_IS_TIGHTER)


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
    the line number is lxml's, so the hint points at ``catalog check``.
    """
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
            elif local in _SCALAR_FACETS or local in _BOUNDS["min"] + _BOUNDS["max"]:
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


# --- comparison ---------------------------------------------------------------------


def _parent(path: str) -> str | None:
    return path.rsplit("/", 1)[0] if "/" in path else None


def _occurs(value: int | None) -> str:
    return "unbounded" if value is None else str(value)


def compare_nodes(old: Mapping[str, Node], new: Mapping[str, Node], emit: Emit) -> None:
    """Added and removed nodes (only the topmost of a subtree), then each common node."""
    for path, node in old.items():
        parent = _parent(path)
        if path not in new and (parent is None or parent in new):
            inside = sum(1 for p in old if p.startswith(f"{path}/"))
            extra = f" with {inside} nested node(s)" if inside else ""
            emit(
                f"{node.kind}-removed",
                path,
                f"{node.kind} removed{extra}; documents that carry it are refused",
                True,
            )
    for path, node in new.items():
        parent = _parent(path)
        if path not in old and (parent is None or parent in old):
            required = node.min_occurs > 0 and parent is not None
            inside = sum(1 for p in new if p.startswith(f"{path}/"))
            extra = f" with {inside} nested node(s)" if inside else ""
            what = "required" if required else "optional"
            emit(f"{node.kind}-added", path, f"{what} {node.kind} added{extra}", required)
    for path, node in old.items():
        if path in new:
            _compare_node(node, new[path], path, emit)


def _compare_node(old: Node, new: Node, subject: str, emit: Emit) -> None:
    _compare_occurs(old, new, subject, emit)
    if old.kind == "wildcard" or new.kind == "wildcard":
        if old.type_label != new.type_label:
            emit("wildcard-changed", subject, f"{old.type_label} -> {new.type_label}", True)
        return
    if old.groups != new.groups:
        detail = f"enclosing groups {list(old.groups) or '-'} -> {list(new.groups) or '-'}"
        emit("content-model-changed", subject, detail, True)
    if old.namespace != new.namespace:
        detail = f"namespace {old.namespace!r} -> {new.namespace!r}"
        emit("namespace-changed", subject, detail, True)
    if old.nillable != new.nillable:
        emit(
            "nillable-changed", subject, f"nillable {old.nillable} -> {new.nillable}", old.nillable
        )
    if old.fixed != new.fixed:
        emit(
            "fixed-changed",
            subject,
            f"fixed value {old.fixed!r} -> {new.fixed!r}",
            new.fixed is not None,
        )
    if old.content != new.content:
        widening = {("element-only", "mixed"), ("empty", "mixed"), ("empty", "element-only")}
        breaking = (old.content, new.content) not in widening
        emit("type-changed", subject, f"content {old.content} -> {new.content}", breaking)
    elif old.type_label != new.type_label:
        detail = f"declared type {old.type_label} -> {new.type_label}"
        emit("type-renamed", subject, detail, False)
    if old.compositor != new.compositor and old.compositor and new.compositor:
        breaking = (old.compositor, new.compositor) != ("sequence", "all")
        emit("content-model-changed", subject, f"{old.compositor} -> {new.compositor}", breaking)
    elif old.compositor == "sequence" and new.compositor == "sequence":
        common = set(old.children) & set(new.children)
        before = [c for c in old.children if c in common]
        after = [c for c in new.children if c in common]
        if before != after:
            detail = f"child order {', '.join(before)} -> {', '.join(after)}"
            emit("order-changed", subject, detail, True)
    _compare_identities(old.identities, new.identities, subject, emit)
    if old.simple is not None and new.simple is not None:
        compare_simple(old.simple, new.simple, subject, emit)


def _compare_identities(
    old: Mapping[str, str], new: Mapping[str, str], subject: str, emit: Emit
) -> None:
    """A new or changed key/unique constraint may reject documents; a dropped one cannot."""
    for name in sorted(old.keys() | new.keys()):
        was, now = old.get(name), new.get(name)
        if was == now:
            continue
        kind = "identity-changed"
        if was is None or now is None:
            kind = "identity-added" if was is None else "identity-removed"
        emit(kind, subject, f"{name}: {was or '-'} -> {now or '-'}", now is not None)


def _compare_occurs(old: Node, new: Node, subject: str, emit: Emit) -> None:
    if new.min_occurs != old.min_occurs:
        raised = new.min_occurs > old.min_occurs
        note = ""
        if 0 in (old.min_occurs, new.min_occurs):
            note = " (now required)" if raised else " (now optional)"
        kind = "min-occurs-raised" if raised else "min-occurs-lowered"
        emit(kind, subject, f"minOccurs {old.min_occurs} -> {new.min_occurs}{note}", raised)
    if new.max_occurs != old.max_occurs:
        lowered = new.max_occurs is not None and (
            old.max_occurs is None or new.max_occurs < old.max_occurs
        )
        kind = "max-occurs-lowered" if lowered else "max-occurs-raised"
        detail = f"maxOccurs {_occurs(old.max_occurs)} -> {_occurs(new.max_occurs)}"
        emit(kind, subject, detail, lowered)


def compare_simple(
    old: SimpleInfo, new: SimpleInfo, subject: str, emit: Emit, what: str = ""
) -> None:
    """Value-space differences: base type, code set, patterns, then the ordered facets."""
    if old.variety != new.variety:
        emit(
            "type-changed",
            subject,
            f"{what}{old.label} ({old.variety}) -> {new.label} ({new.variety})",
            True,
        )
        return
    if old.variety == "atomic" and old.builtins[:1] != new.builtins[:1]:
        widened = bool(new.builtins) and new.builtins[0] in old.builtins
        detail = f"{what}base type {old.builtins[0]} -> {new.builtins[0]}"
        emit("type-widened" if widened else "type-changed", subject, detail, not widened)
    if old.variety == "union" and old.members != new.members:
        widened = set(old.members) <= set(new.members)
        detail = f"{what}union members {', '.join(old.members)} -> {', '.join(new.members)}"
        emit("type-widened" if widened else "type-changed", subject, detail, not widened)
    if old.item is not None and new.item is not None:
        compare_simple(old.item, new.item, subject, emit, f"{what}list item ")
    _compare_enumeration(old.enumeration, new.enumeration, subject, emit, what)
    _compare_patterns(old.patterns, new.patterns, subject, emit, what)
    for name in sorted(set(old.facets) | set(new.facets)):
        if name in _SCALAR_FACETS:
            _compare_facet(name, old.facets.get(name), new.facets.get(name), subject, emit, what)
    for side in ("min", "max"):
        _compare_bound(
            side, _bound(side, old.facets), _bound(side, new.facets), subject, emit, what
        )


def _compare_enumeration(
    old: frozenset[Any] | None, new: frozenset[Any] | None, subject: str, emit: Emit, what: str
) -> None:
    if old == new:
        return
    if old is None or new is None:
        values = ", ".join(sorted(repr(str(v)) for v in (new or old or ())))
        if old is None:
            emit("facet-tightened", subject, f"{what}enumeration introduced: {values}", True)
        else:
            emit("facet-loosened", subject, f"{what}enumeration dropped (was {values})", False)
        return
    for value in sorted(old - new, key=str):
        emit("code-removed", subject, f"{what}enumeration value {str(value)!r} removed", True)
    for value in sorted(new - old, key=str):
        emit("code-added", subject, f"{what}enumeration value {str(value)!r} added", False)


def _show_patterns(patterns: tuple[frozenset[str], ...]) -> str:
    steps = [" | ".join(repr(p) for p in sorted(step)) for step in patterns]
    return " & ".join(f"({s})" if len(patterns) > 1 else s for s in steps) or "none"


def _compare_patterns(
    old: tuple[frozenset[str], ...],
    new: tuple[frozenset[str], ...],
    subject: str,
    emit: Emit,
    what: str,
) -> None:
    """Compatible only when every new pattern step is implied by some old step.

    An old step whose alternatives are a subset of a new step's alternatives means every
    value it admitted is still admitted; regexes are not compared semantically, so any
    other change counts as breaking.
    """
    if set(old) == set(new):
        return
    widened = all(any(o <= n for o in old) for n in new)
    detail = f"{what}pattern {_show_patterns(old)} -> {_show_patterns(new)}"
    if not widened:  # a value refused now is proof; none found, a hint it may be looser
        from harness.catalog.pattern_evidence import describe

        detail += describe(old, new)
    emit("pattern-loosened" if widened else "pattern-changed", subject, detail, not widened)


def _compare_facet(name: str, old: Any, new: Any, subject: str, emit: Emit, what: str) -> None:
    if old == new:
        return
    detail = f"{what}{name} {'-' if old is None else old} -> {'-' if new is None else new}"
    if new is None:
        emit("facet-loosened", subject, detail, False)
    elif old is None or name in ("length", "whiteSpace"):
        emit("facet-tightened", subject, detail, True)
    else:
        tighter = new < old if name in _SMALLER_IS_TIGHTER else new > old
        emit("facet-tightened" if tighter else "facet-loosened", subject, detail, tighter)


def _bound(side: str, facets: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The effective lower or upper bound as (facet name, value); the tighter one if both."""
    present = [(name, facets[name]) for name in _BOUNDS[side] if name in facets]
    if len(present) < 2:
        return present[0] if present else None
    (inc_name, inc), (exc_name, exc) = present
    try:
        exclusive_wins = exc >= inc if side == "min" else exc <= inc
    except TypeError:
        return present[0]
    return (exc_name, exc) if exclusive_wins else (inc_name, inc)


def _compare_bound(
    side: str,
    old: tuple[str, Any] | None,
    new: tuple[str, Any] | None,
    subject: str,
    emit: Emit,
    what: str,
) -> None:
    if old == new:
        return
    detail = f"{what}{' '.join(map(str, old)) if old else side + ' bound -'} -> "
    detail += " ".join(map(str, new)) if new else "-"
    if new is None:
        emit("facet-loosened", subject, detail, False)
        return
    if old is None:
        emit("facet-tightened", subject, detail, True)
        return
    try:
        moved_in = new[1] > old[1] if side == "min" else new[1] < old[1]
        moved_out = new[1] < old[1] if side == "min" else new[1] > old[1]
    except TypeError:
        emit("facet-changed", subject, detail, True)
        return
    if not moved_in and not moved_out:  # same value: exclusive is the tighter form
        moved_in = new[0].endswith("Exclusive")
    emit("facet-tightened" if moved_in else "facet-loosened", subject, detail, moved_in)
