"""Named defects from ``fixtures/dossiers/defects.yaml``, applied through factory hooks.

Each defect breaks exactly one thing and names the code the gateway must answer, so an
invalid dossier is as reproducible as a valid one: ``(catalog, procedure, seed, defect)``.
The operations are generic; which elements they touch is data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from harness import error_codes
from harness.catalog import Catalog, Procedure
from harness.catalog.rule_roles import can_raise
from harness.catalog.xsd_names import declared_elements
from harness.dossiers.defect_codes import defects_file
from harness.dossiers.factory import Dossier, DossierFactory, Tweaks
from harness.dossiers.form_model import ElementSpec, form_model
from harness.dossiers.text import parse_period
from harness.errors import CatalogError, FactoryError
from harness.suggestions import did_you_mean
from harness.yamlfile import line_of, load_yaml

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
_CCCD_SEX_FLIP = {"0": "1", "1": "0", "2": "3", "3": "2"}


@dataclass(frozen=True)
class Defect:
    """One named defect: the operation, its arguments and the codes it must cause."""

    name: str
    op: str
    expect: tuple[str, ...]
    args: dict[str, Any]

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(self.args.get("elements", ()))

    @property
    def source(self) -> str | None:
        """``copy-from``'s ``from:``: the path of the element whose value is copied."""
        value = self.args.get("from")
        return str(value) if self.op == COPY_FROM and value is not None else None

    @property
    def needs(self) -> tuple[str, ...]:
        """Element names a form must have besides the target for the defect to apply."""
        return (self.source.rsplit("/", 1)[-1],) if self.source else ()


_ARGS: dict[str, tuple[str, ...]] = {
    "unsign-form": (), "unsign-envelope": (), "bad-base64": (), "period-before-in-force": (),
    "skip-required-form": (), "add-foreign-form": (), "form-algorithm": ("algorithm",),
    "form-signer": ("credential",), "envelope-signer": ("credential",),
    "envelope-delta": ("path", "delta"), "envelope-set": ("path", "value"),
    "tamper-form": ("elements", "value"), "remove": ("elements",),
    "insert-after": ("elements", "tag"), "set": ("elements", "value"),
    "set-date": ("elements", "value"), "flip-cccd-sex": ("elements",),
    "copy-from": ("elements", "from"),
}  # fmt: skip
"""Each op's arguments, every one required: a key an op does not take would be ignored
(``element:`` for ``elements:`` left the defect with nothing to change)."""
_OPS = frozenset(_ARGS)
_HEAD = ("expect", "op")
"""The keys every defect has besides its op's arguments."""
_SHAPES = {
    "elements": "[<element name>, ...]",
    "value": '"<text>"',
    "tag": "<element name>",
    "path": "<Path/Of/Element>",
    "delta": "<whole number>",
    "algorithm": "rsa-sha1",
    "credential": "<test credential>",
    "from": "<path of element names>",
}
"""How each argument is written, for the hints."""
COPY_FROM = "copy-from"
"""Sets the target element to another element's value (``from:``, a path of element names
found from the target's parent upwards): a cross-field rule's defect (``A != B``)."""
_PATH = re.compile(r"[^\W\d][\w.\-]*(/[^\W\d][\w.\-]*)*")


@cache
def load_defects() -> dict[str, Defect]:
    """Every defect in the corpus file, each checked for a known op, exactly the keys that
    op takes and declared codes, so a misspelt key is refused here, not met as a crash
    when the defect is built."""
    path = defects_file()
    doc = load_yaml(path)
    if not isinstance(doc, dict) or not doc:
        raise CatalogError(
            "a defects file maps each defect's name to {op: ..., expect: [CODE, ...]}",
            path=str(path),
            line=line_of(doc),
            hint="see the comment at the top of the shipped fixtures/dossiers/defects.yaml",
        )
    return {str(name): _defect(str(name), node, doc, path) for name, node in doc.items()}


def _defect(name: str, node: object, doc: object, path: Path) -> Defect:
    """One entry of defects.yaml, checked (see :func:`load_defects`)."""
    if not isinstance(node, dict):
        raise CatalogError(
            f"defect {name}: expected a mapping {{op: ..., expect: [CODE, ...]}}, got {node!r}",
            path=str(path),
            line=line_of(doc, name),
        )
    expect = _expected(name, node, path)
    op = node.get("op")
    if op not in _OPS:
        raise CatalogError(
            f"defect {name}: unknown op {op!r}",
            path=str(path),
            line=line_of(node, "op"),
            hint=f"{did_you_mean(str(op), _OPS)}known ops: {', '.join(sorted(_OPS))} (see "
            "the comment at the top of fixtures/dossiers/defects.yaml)",
        )
    _check_keys(name, str(op), node, path)
    if op == COPY_FROM:
        _check_copy(name, node, path)
    args = {k: v for k, v in node.items() if k not in _HEAD}
    return Defect(name, str(op), expect, args)


def _expected(name: str, node: dict[str, Any], path: Path) -> tuple[str, ...]:
    """``expect:``: at least one code, each declared in fixtures/error_codes.yaml."""
    expect = node.get("expect")
    if not isinstance(expect, list) or not expect or not all(isinstance(c, str) for c in expect):
        raise CatalogError(
            f"defect {name}: expect must list the error code(s) the defect causes, got {expect!r}",
            path=str(path),
            line=line_of(node, "expect"),
            hint="e.g. expect: [RULE-102]; the codes are in fixtures/error_codes.yaml",
        )
    undeclared = [code for code in expect if code not in error_codes.load()]
    if undeclared:
        raise CatalogError(
            f"defect {name}: expects {', '.join(undeclared)}, which "
            "fixtures/error_codes.yaml does not declare",
            path=str(path),
            line=line_of(node, "expect"),
            hint="declare the code there (with http, vi and en), or fix its spelling",
        )
    return tuple(expect)


def _written(op: str) -> str:
    """How a defect of ``op`` is written, for a hint."""
    args = "".join(f", {key}: {_SHAPES[key]}" for key in _ARGS[op])
    return f"{{expect: [<CODE>], op: {op}{args}}}"


def _check_keys(name: str, op: str, node: dict[str, Any], path: Path) -> None:
    """Refuse a key ``op`` does not take (it would be ignored) and one it needs but lacks."""
    allowed = (*_HEAD, *_ARGS[op])
    for key in node:
        if key not in allowed:
            raise CatalogError(
                f"defect {name}: unknown key {key!r}: op {op} would ignore it",
                path=str(path),
                line=line_of(node, key),
                hint=f"{did_you_mean(key, allowed)}op {op} takes only "
                f"{', '.join(allowed)}: {_written(op)}",
            )
    missing = [key for key in _ARGS[op] if key not in node]
    if missing:
        raise CatalogError(
            f"defect {name}: op {op} needs "
            f"{', '.join(f'{k}: {_SHAPES[k]}' for k in _ARGS[op])}; "
            f"{', '.join(missing)} missing",
            path=str(path),
            line=line_of(node, "op"),
            hint=f"write it as {_written(op)} (see the comment at the top of "
            "fixtures/dossiers/defects.yaml)",
        )
    for key in _ARGS[op]:
        _check_arg(name, key, node, path)


_NAME = re.compile(r"[^\W\d][\w.\-]*")


def _is_name(value: object) -> bool:
    return isinstance(value, str) and _NAME.fullmatch(value) is not None


def _is_text(value: object) -> bool:
    """Text or a number; YAML reads an unquoted ON or NO as a boolean, never as text."""
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _is_some_text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


_VALID: dict[str, Callable[[object], bool]] = {
    "elements": lambda v: isinstance(v, list) and bool(v) and all(_is_name(e) for e in v),
    "delta": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "value": _is_text,
    "tag": _is_name,
    "path": lambda v: isinstance(v, str) and _PATH.fullmatch(v) is not None,
}
"""What each argument must hold (the others: some text); ``from:`` is :func:`_check_copy`'s."""


def _check_arg(name: str, key: str, node: dict[str, Any], path: Path) -> None:
    """An argument of the kind its key says: element names, text, a whole number."""
    value = node[key]
    if _VALID.get(key, _is_some_text)(value):
        return
    raise CatalogError(
        f"defect {name}: {key} must be {_SHAPES[key]}, got {value!r}",
        path=str(path),
        line=line_of(node, key),
        hint='quote text YAML would read otherwise (value: "ON", not ON)'
        if key == "value"
        else f"write {key}: {_SHAPES[key]}",
    )


def _check_copy(name: str, node: dict[str, Any], path: Path) -> None:
    """``copy-from`` needs the element to change and a path of element names to copy."""
    source, elements = node.get("from"), node.get("elements")
    if not isinstance(source, str) or _PATH.fullmatch(source) is None or not elements:
        raise CatalogError(
            f"defect {name}: op copy-from needs elements: [<element to change>] and "
            f"from: <path of element names>, got from: {source!r}",
            path=str(path),
            line=line_of(node, "from" if "from" in node else "op"),
            hint="e.g. {op: copy-from, elements: [MaSoBHXHGop], from: MasoBHXH, "
            "expect: [RULE-110]}; from is looked up from the element's parent upwards",
        )


def defect(name: str) -> Defect:
    defects = load_defects()
    if name not in defects:
        raise FactoryError(
            f"unknown defect {name!r}",
            hint=f"{did_you_mean(name, defects)}known defects: {', '.join(defects)} "
            "(bhxh-harness dossier defects lists them)",
        )
    return defects[name]


def _has_element(spec: ElementSpec, name: str) -> bool:
    return spec.name == name or any(_has_element(c, name) for c in spec.children or ())


def _target(catalog: Catalog, procedure: Procedure, d: Defect) -> tuple[str, str] | None:
    """The (form, element) a content defect touches: first required form holding one,
    among the forms whose rules can raise the code the defect expects."""
    for element in d.elements:
        for code in procedure.required_forms:
            current = catalog.forms[code].current
            model = form_model(current.xsd)
            holds = all(_has_element(model, name) for name in (element, *d.needs))
            if holds and can_raise(d.expect, current.rules):
                return code, element
    return None


def _why_not(catalog: Catalog, procedure: Procedure, d: Defect) -> str:
    """Why :func:`applies` said no, in the catalog's terms, so whoever wrote the data
    knows whether a form lacks the element or its rules lack the code."""
    if d.op == "add-foreign-form":
        return "every form of the catalog is one of its forms"
    wanted = "/".join(d.elements)
    forms = catalog.forms
    holding = [
        code
        for code in procedure.required_forms
        if any(
            all(_has_element(form_model(forms[code].current.xsd), n) for n in (e, *d.needs))
            for e in d.elements
        )
    ]
    if not holding:
        copied = f" beside {', '.join(d.needs)}, the element it copies" if d.needs else ""
        return f"none of its required forms has {wanted}{copied}, the element(s) the defect changes"
    return (
        f"{', '.join(holding)} {'has' if len(holding) == 1 else 'have'} {wanted}, but no rule "
        f"of {'it' if len(holding) == 1 else 'them'} raises {', '.join(d.expect)}, the code "
        "the defect must cause"
    )


def _foreign_form(catalog: Catalog, procedure: Procedure) -> str | None:
    return next((c for c in catalog.forms if c not in procedure.forms), None)


def applies_in(catalog: Catalog, procedure: Procedure, d: Defect) -> bool:
    """Whether ``d`` can be built for ``procedure`` of ``catalog`` (its elements or forms exist)."""
    if d.elements:
        return _target(catalog, procedure, d) is not None
    if d.op == "add-foreign-form":
        return _foreign_form(catalog, procedure) is not None
    return True


def applies(factory: DossierFactory, procedure_code: str, name: str) -> bool:
    """Whether the defect can be built for this procedure (its elements or forms exist)."""
    return applies_in(factory.catalog, factory.procedure(procedure_code), defect(name))


def applies_anywhere(catalogs: Sequence[Catalog], d: Defect) -> bool:
    """Whether ``d`` applies to some procedure of one of ``catalogs``."""
    return any(applies_in(c, p, d) for c in catalogs for p in c.procedures.values())


def unused_defects(catalogs: Sequence[Catalog], skip: Collection[str] = ()) -> list[CatalogError]:
    """One error per defect (but those named in ``skip``) that applies to no procedure of
    any of ``catalogs`` (every version on disk): ``catalog check`` builds a defect only
    where it applies, so one whose elements name nothing (``QuocGiaDenn``) would pass
    unbuilt, checking nothing. A defect only an older version's forms still allow applies,
    so it is kept."""
    path = defects_file()
    doc = load_yaml(path)
    declared = declared_elements(p for c in catalogs for p in sorted(c.root.rglob("*.xsd")))
    versions = ", ".join(dict.fromkeys(c.version for c in catalogs))
    errors = []
    for name, d in load_defects().items():
        if name in skip or applies_anywhere(catalogs, d):
            continue
        node = doc.get(name) if isinstance(doc, dict) else None
        why, hint = _unused_said(d, declared)
        errors.append(
            CatalogError(
                f"defect {name} applies to no procedure of any catalog version "
                f"({versions}): {why}, so `catalog check` never builds it",
                path=str(path),
                line=line_of(node, "elements" if d.elements else "op") or line_of(doc, name),
                hint=hint,
            )
        )
    return errors


def _unused_said(d: Defect, declared: frozenset[str]) -> tuple[str, str]:
    """Why defect ``d`` applies nowhere, and how to fix it."""
    unknown = [e for e in (*d.elements, *d.needs) if e not in declared]
    if unknown:
        names = ", ".join(unknown)
        return (
            f"no XSD declares {names}",
            f"{did_you_mean(unknown[0], declared)}name in elements: an element of a form a "
            "procedure requires (names are case-sensitive), or remove the defect",
        )
    if d.op == "add-foreign-form":
        return (
            "every procedure takes every form",
            "remove the defect, or keep a form some procedure does not take",
        )
    return (
        f"no form a procedure requires has {'/'.join(d.elements)} and rules raising "
        f"{', '.join(d.expect)}",
        "point elements: at an element of a required form whose rules raise the code, or fix "
        "expect:; a form a procedure only allows (optional_forms) is not used for defects",
    )


def _first(root: etree._Element, tag: str) -> etree._Element:
    node = next(root.iter(tag), None)
    if node is None:
        raise FactoryError(f"element {tag} not in the generated form")
    return node


def _edit(
    element: str, change: Callable[[etree._Element], None]
) -> Callable[[etree._Element], etree._Element]:
    def apply(root: etree._Element) -> etree._Element:
        change(_first(root, element))
        return root

    return apply


def _content_change(d: Defect) -> Callable[[etree._Element], None]:
    value = str(d.args.get("value", ""))

    def set_text(node: etree._Element) -> None:
        node.text = value

    def set_date(node: etree._Element) -> None:
        year = re.findall(r"\d{4}", node.text or "") or ["1990"]
        node.text = value.replace("{year}", year[0])

    def flip(node: etree._Element) -> None:
        text = node.text or ""
        if len(text) < 4:  # the 4th digit of a 12-digit CCCD gives the century and sex
            raise FactoryError(
                f"defect {d.name}: {node.tag} holds {text!r}, not a 12-digit CCCD",
                hint=f"point {d.name} in fixtures/dossiers/defects.yaml at an element "
                "holding a CCCD number",
            )
        node.text = text[:3] + _CCCD_SEX_FLIP.get(text[3], "0") + text[4:]

    def remove(node: etree._Element) -> None:
        parent = node.getparent()
        assert parent is not None
        parent.remove(node)

    def insert_after(node: etree._Element) -> None:
        extra = etree.Element(str(d.args["tag"]))
        extra.text = "x"
        node.addnext(extra)

    def copy(node: etree._Element) -> None:
        node.text = _copied(d, node)

    ops = {"set": set_text, "set-date": set_date, "flip-cccd-sex": flip, "remove": remove}
    ops.update({"insert-after": insert_after, COPY_FROM: copy})
    return ops[d.op]


def _copied(d: Defect, node: etree._Element) -> str:
    """The text of ``d``'s ``from:`` element nearest ``node``: below its parent, else below
    each ancestor in turn (the same row's element before the form header's)."""
    source = str(d.source)
    for ancestor in node.iterancestors():
        found = ancestor.find(source)
        if found is not None and found is not node:
            return found.text or ""
    raise FactoryError(
        f"defect {d.name}: no element {source} to copy into {node.tag}",
        hint=f"fix from: of {d.name} in fixtures/dossiers/defects.yaml: a path of element "
        f"names below {node.tag}'s parent or one of its ancestors",
    )


def _tamper(element: str, value: str) -> Callable[[bytes], bytes]:
    def apply(content: bytes) -> bytes:
        root = etree.fromstring(content)
        _first(root, element).text = value
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    return apply


def _unsign(content: bytes) -> bytes:
    root = etree.fromstring(content)
    for sig in list(root.iter(f"{{{DS_NS}}}Signature")):
        parent = sig.getparent()
        assert parent is not None
        parent.remove(sig)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _envelope_delta(path: str, delta: int) -> Callable[[etree._Element], etree._Element]:
    def apply(root: etree._Element) -> etree._Element:
        node = root.find(path)
        assert node is not None and node.text is not None
        node.text = str(int(node.text) + delta)
        return root

    return apply


def _envelope_set(path: str, value: str) -> Callable[[etree._Element], etree._Element]:
    def apply(root: etree._Element) -> etree._Element:
        node = root.find(path)
        assert node is not None
        node.text = value
        return root

    return apply


def _bad_base64(root: etree._Element) -> etree._Element:
    content = root.find("NoiDung/ThongTinHoSo/ToKhais/FileToKhai/NoiDungFile")
    length = root.find("NoiDung/ThongTinHoSo/ToKhais/FileToKhai/DoDaiFile")
    assert content is not None and length is not None
    content.text = "!!" + (content.text or "")[2:]
    length.text = str(len(content.text))
    return root


def _month_before(period: str) -> str:
    return str(parse_period(period).shifted(-1))


def tweaks_for(factory: DossierFactory, procedure_code: str, name: str) -> Tweaks:
    """The factory hooks that produce defect ``name`` for this procedure."""
    procedure = factory.procedure(procedure_code)
    d = defect(name)
    if not applies(factory, procedure_code, name):
        raise FactoryError(
            f"defect {name!r} does not apply to procedure {procedure_code}: "
            f"{_why_not(factory.catalog, procedure, d)}",
            hint="`bhxh-harness dossier defects` lists the defects and the codes they cause",
        )
    first_form = procedure.required_forms[0]
    if d.elements:
        target = _target(factory.catalog, procedure, d)
        assert target is not None
        form, element = target
        if d.op == "tamper-form":
            tamper = _tamper(element, str(d.args["value"]))
            return Tweaks(signed_form_hook=lambda c, b: tamper(b) if c == form else b)
        edit = _edit(element, _content_change(d))
        return Tweaks(form_hook=lambda c, r: edit(r) if c == form else r)
    simple: dict[str, Callable[[], Tweaks]] = {
        "unsign-form": lambda: Tweaks(
            signed_form_hook=lambda c, b: _unsign(b) if c == first_form else b
        ),
        "unsign-envelope": lambda: Tweaks(unsigned_envelope=True),
        "form-algorithm": lambda: Tweaks(algorithm=str(d.args["algorithm"])),
        "form-signer": lambda: Tweaks(form_signer=str(d.args["credential"])),
        "envelope-signer": lambda: Tweaks(envelope_signer=str(d.args["credential"])),
        "envelope-delta": lambda: Tweaks(
            envelope_hook=_envelope_delta(str(d.args["path"]), int(d.args["delta"]))
        ),
        "envelope-set": lambda: Tweaks(
            envelope_hook=_envelope_set(str(d.args["path"]), str(d.args["value"]))
        ),
        "bad-base64": lambda: Tweaks(envelope_hook=_bad_base64),
        "period-before-in-force": lambda: Tweaks(
            envelope_hook=_envelope_set(
                "NoiDung/ThongTinHoSo/KyKeKhai", _month_before(procedure.in_force_from)
            )
        ),
        "skip-required-form": lambda: Tweaks(skip_forms=(first_form,)),
        "add-foreign-form": lambda: Tweaks(
            extra_forms=(str(_foreign_form(factory.catalog, procedure)),)
        ),
    }
    return simple[d.op]()


def build_defective(
    factory: DossierFactory, procedure: str, name: str, seed: int = 0, **options: Any
) -> Dossier:
    """A dossier with exactly defect ``name``; ``expected_codes`` says what must come back."""
    tweaks = tweaks_for(factory, procedure, name)
    if tweaks.skip_forms:
        options.setdefault("optional_forms", False)
    dossier = factory.build(procedure, seed, tweaks=tweaks, **options)
    return replace(dossier, defect=name, expected_codes=defect(name).expect)


__all__ = [
    "Defect",
    "applies",
    "applies_anywhere",
    "applies_in",
    "build_defective",
    "defect",
    "load_defects",
    "tweaks_for",
    "unused_defects",
]
