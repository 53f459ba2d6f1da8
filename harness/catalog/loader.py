"""Read ``fixtures/catalog/<version>/catalog.yaml`` into a :class:`Catalog`.

Structure problems are reported with the file and line of the offending entry, so whoever
adds a procedure can fix the data without reading Python.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from harness.catalog.model import (
    DEFAULT_DAYS_TO_RESULT,
    Catalog,
    Envelope,
    Form,
    FormVersion,
    Procedure,
    period_key,
)
from harness.catalog.rule_check import check_rules
from harness.catalog.rule_elements import ElementScope, scopes
from harness.catalog.tables import table_rows
from harness.catalog.xsd_names import read_elements
from harness.errors import CatalogError
from harness.paths import fixtures_dir
from harness.suggestions import did_you_mean
from harness.yamlfile import line_of, load_yaml

_XS_NS = "http://www.w3.org/2001/XMLSchema"
_XS_ELEMENT = f"{{{_XS_NS}}}element"
_XS_INCLUDES = tuple(f"{{{_XS_NS}}}{name}" for name in ("include", "redefine", "override"))
_PERIOD = re.compile(r"^(0[1-9]|1[0-2])/[0-9]{4}$")
_ELEMENT_PATH = re.compile(r"[A-Za-z_][\w.\-]*(/[A-Za-z_][\w.\-]*)*")

_KEYS: dict[str, tuple[str, ...]] = {
    "the catalog": ("version", "title", "effective_from", "envelope", "forms", "procedures"),
    "envelope": ("xsd", "rules", "signature_node", "agrees_with_forms"),
    "a form": ("name", "versions", "signature_node", "result_rules"),
    "a form version": ("xsd", "rules"),
    "a procedure": ("name", "required_forms", "optional_forms", "in_force", "days_to_result"),
    "in_force": ("from", "until"),
}
"""The keys each level of ``catalog.yaml`` may hold: any other is a misspelling that would
be silently ignored (``rule:`` for ``rules:`` drops every rule of a form)."""


def catalogs_dir() -> Path:
    return fixtures_dir() / "catalog"


def _version_key(name: str) -> tuple[int, ...]:
    """``2026.1`` as ``(2026, 1)``: versions are named in the order they take effect."""
    return tuple(int(x) if x.isdigit() else 0 for x in name.split("."))


def version_names(root: Path | None = None) -> list[str]:
    """The catalog versions on disk in version order, their periods not checked (what
    :func:`list_versions` lists, for a caller reporting a clash between them)."""
    return _names(root or catalogs_dir())


def _names(base: Path) -> list[str]:
    names = [p.name for p in base.iterdir() if (p / "catalog.yaml").is_file()]
    return sorted(names, key=_version_key)


def list_versions(root: Path | None = None) -> list[str]:
    """Catalog versions on disk, oldest first; refuses versions whose ``effective_from``
    clash (see :func:`check_version_order`), since a period would pick the wrong one."""
    base = root or catalogs_dir()
    names = _names(base)
    dated = []
    for name in names:
        start = _declared_start(base / name / "catalog.yaml")
        if start is not None:  # an unreadable one is reported when it is loaded
            dated.append((name, start, base / name / "catalog.yaml"))
    _check_order(dated)
    return names


def check_version_order(catalogs: Iterable[Catalog]) -> None:
    """Refuse catalog versions loaded together whose periods overlap or run backwards.

    A period is governed by the latest version in effect then: two versions taking effect
    the same month leave one never governing anything, and a later version taking effect
    before an older one turns the order of versions upside down.
    """
    _check_order([(c.version, c.effective_from, c.root / "catalog.yaml") for c in catalogs])


def _check_order(dated: list[tuple[str, str, Path]]) -> None:
    """Refuse the first pair of versions (in name order) not taking effect in that order."""
    ordered = sorted(dated, key=lambda d: _version_key(d[0]))
    for (old, old_start, old_path), (new, new_start, new_path) in itertools.pairwise(ordered):
        if period_key(new_start) > period_key(old_start):
            continue
        older = f"{old_path}:{_start_line(old_path)}"
        if new_start == old_start:
            message = (
                f"catalog versions {old} ({older}) and {new} both take effect {new_start}: "
                f"the latest version in effect governs a period, so {old} would govern none"
            )
        else:
            message = (
                f"catalog version {new} takes effect {new_start}, before the older version "
                f"{old} ({old_start}, {older})"
            )
        raise CatalogError(
            message,
            path=str(new_path),
            line=_start_line(new_path),
            hint=f"give {new} an effective_from after {old_start}, or name the versions in "
            "the order they take effect",
        )


def _declared_start(path: Path) -> str | None:
    """The ``effective_from`` a catalog.yaml declares, None if it cannot be read."""
    try:
        doc = load_yaml(path)
    except CatalogError:
        return None
    start = doc.get("effective_from") if isinstance(doc, dict) else None
    return start if isinstance(start, str) and _PERIOD.match(start) else None


def _start_line(path: Path) -> int | None:
    try:
        return line_of(load_yaml(path), "effective_from")
    except CatalogError:
        return None


def in_effect_order(versions: Iterable[str], root: Path | None = None) -> list[str]:
    """Those of ``versions`` this harness has, oldest first: :func:`list_versions`' order,
    which is their ``effective_from`` order (it refuses versions taking effect otherwise),
    so the last is the newest and no catalog need be loaded to compare two."""
    wanted = set(versions)
    return [v for v in list_versions(root) if v in wanted]


def latest_version(root: Path | None = None) -> str:
    versions = list_versions(root)
    if not versions:
        raise CatalogError("no catalog version found", path=str(root or catalogs_dir()))
    return versions[-1]


@cache
def load_catalog(version: str | None = None, root: Path | None = None) -> Catalog:
    """Load one catalog version (the latest when ``version`` is None); cached per process."""
    base = root or catalogs_dir()
    version = version or latest_version(base)
    folder = base / version
    path = folder / "catalog.yaml"
    if not path.is_file():
        known = ", ".join(_names(base)) if base.is_dir() else ""
        raise CatalogError(
            f"catalog version {version!r} not found",
            path=str(path),
            hint=f"known versions: {known or 'none'}",
        )
    catalog = _Parser(path).parse()
    check_rules(
        catalog.envelope.rules,
        *(v.rules for form in catalog.forms.values() for v in form.versions),
        scopes=_element_scopes(catalog),
        results=[
            p for form in catalog.forms.values() for v in form.versions for p in v.result_rules
        ],
    )
    return catalog


def _element_scopes(catalog: Catalog) -> dict[Path, ElementScope]:
    """The element names each rule file of ``catalog`` may read: those its forms' XSDs
    (the envelope's, for its rules) declare."""
    users = [(rules, catalog.envelope.xsd) for rules in catalog.envelope.rules]
    users += [
        (rules, version.xsd)
        for form in catalog.forms.values()
        for version in form.versions
        for rules in version.rules + version.result_rules
    ]
    return scopes(users, table_rows())


def _version_hint(raw: object, folder: str) -> str:
    """How to make ``version:`` and the folder agree: the folder names the version."""
    if not isinstance(raw, str):  # YAML reads 2026.10 as the number 2026.1
        return f'quote it: version: "{folder}" (YAML reads an unquoted {raw} as a number)'
    return (
        f'write version: "{folder}", or rename the folder to {raw}: a catalog version is '
        "named by its folder (`bhxh-harness catalog check <folder>`)"
    )


def _global_elements(xsd: Path) -> list[tuple[str, int | None]] | None:
    """The global ``xs:element`` names of ``xsd`` and the local schemas it includes, with
    their lines; None when one cannot be read (compiling it says why)."""
    found: list[tuple[str, int | None]] = []
    todo, seen = [xsd.resolve()], set()
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        try:
            root = etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()
        except (OSError, etree.XMLSyntaxError):
            return None
        found += [(str(e.get("name")), e.sourceline) for e in root.iterchildren(_XS_ELEMENT)]
        for include in root.iterchildren(*_XS_INCLUDES):
            location = include.get("schemaLocation")
            if location and "://" not in location:
                todo.append((path.parent / location).resolve())
    return found


def check_signature_nodes(catalog: Catalog) -> None:
    """Refuse a ``signature_node`` naming an element its XSDs do not declare: the factory
    signs into it, so every signed dossier (a sender's too) would be refused (XSD-001)."""
    path = catalog.root / "catalog.yaml"
    doc = load_yaml(path)
    envelope = doc.get("envelope") if isinstance(doc, dict) else None
    forms = doc.get("forms") if isinstance(doc, dict) else None
    owners: list[tuple[str, str, tuple[Path, ...], object]] = [
        ("the envelope", catalog.envelope.signature_node, (catalog.envelope.xsd,), envelope)
    ]
    owners += [
        (
            f"form {form.code}",
            form.signature_node,
            tuple(v.xsd for v in form.versions),
            forms.get(form.code) if isinstance(forms, dict) else None,
        )
        for form in catalog.forms.values()
    ]
    for owner, node, xsds, entry in owners:
        for xsd in xsds:
            declared, readable = read_elements([xsd])
            missing = [s for s in node.split("/") if s not in ("", ".") and s not in declared]
            if readable and missing:
                names = "is" if missing == [node] else f"names {missing[0]!r}, which is"
                raise CatalogError(
                    f"{owner}'s signature_node {node!r} {names} no element {xsd.name} "
                    "declares: the signature goes there, so every signed document would be "
                    "refused (XSD-001)",
                    path=str(path),
                    line=line_of(entry, "signature_node"),
                    hint=f"{did_you_mean(missing[0], declared)}name the element of {xsd.name} "
                    "that holds the signature (Cky in the shipped forms, CKy_Dvi in the envelope)",
                )


class _Parser:
    """Turns the YAML tree into the model, checking each entry where it stands."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.folder = path.parent

    def fail(
        self, message: str, node: object, hint: str | None = None, key: str | None = None
    ) -> CatalogError:
        """The error at ``key``'s line in ``node`` (or where ``node`` starts)."""
        return CatalogError(message, path=str(self.path), line=line_of(node, key), hint=hint)

    def only(self, node: Any, level: str) -> None:
        """Refuse a key ``level`` does not take, with its line and the nearest allowed key."""
        allowed = _KEYS[level]
        if not isinstance(node, dict):
            return
        for key in node:
            if key not in allowed:
                guess = did_you_mean(str(key), allowed, cutoff=0.5)
                raise self.fail(
                    f"unknown key {key!r} in {level}: it would be ignored",
                    node,
                    hint=f"{guess}{level} takes only: {', '.join(allowed)}",
                    key=str(key),
                )

    def need(self, node: Any, key: str, kind: type | tuple[type, ...] = str) -> Any:
        if not isinstance(node, dict) or key not in node:
            raise self.fail(f"missing key {key!r}", node)
        value = node[key]
        if not isinstance(value, kind):
            kind_name = getattr(kind, "__name__", kind)
            raise self.fail(f"{key!r} must be a {kind_name}", node, key=key)
        return value

    def text(self, node: Any, key: str) -> str:
        """A name or title, in NFC: an editor may save Vietnamese decomposed (NFD), and
        the diff and the gateway compare names as text."""
        return unicodedata.normalize("NFC", self.need(node, key))

    def files(self, node: Any, key: str, what: str) -> tuple[Path, ...]:
        """The files listed under ``key`` (none when it is absent)."""
        listed = node.get(key, []) if isinstance(node, dict) else []
        if not isinstance(listed, list) or not all(isinstance(r, str) for r in listed):
            raise self.fail(f"{key} must be a list of {what}", node, key=key)
        return tuple(self.file(node, r) for r in listed)

    def codes(self, node: Any, key: str) -> tuple[str, ...]:
        """A list of form codes; None or absent for an optional list is none."""
        listed = node.get(key) if isinstance(node, dict) else None
        if listed is None:
            return ()
        if not isinstance(listed, list) or not all(isinstance(c, str) for c in listed):
            raise self.fail(f"{key} must be a list of form codes, e.g. [D02-TS]", node, key=key)
        return tuple(listed)

    def agreements(self, env: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        """``agrees_with_forms``: envelope path -> form path, each a relative path of
        element names (``NoiDung/ThongTinDonVi/MaSoBHXH: ThongTinDonVi/MaDonVi``)."""
        pairs = env.get("agrees_with_forms")
        if pairs is None:
            return ()
        example = "e.g. NoiDung/ThongTinDonVi/MaSoBHXH: ThongTinDonVi/MaDonVi"
        if not isinstance(pairs, dict):
            raise self.fail(
                "agrees_with_forms must map envelope paths to form paths",
                env,
                hint=example,
                key="agrees_with_forms",
            )
        for envelope_path, form_path in pairs.items():
            for path in (envelope_path, form_path):
                if not isinstance(path, str) or _ELEMENT_PATH.fullmatch(path) is None:
                    raise self.fail(
                        f"agrees_with_forms: {path!r} is not a path of element names "
                        "below the root",
                        pairs,
                        hint=f"{example} (no leading '/', no predicates)",
                        key=str(envelope_path),
                    )
        return tuple((str(e), str(f)) for e, f in pairs.items())

    def file(self, node: object, relative: str) -> Path:
        target = (self.folder / relative).resolve()
        if not target.is_file():
            raise self.fail(f"referenced file {relative!r} does not exist", node)
        return target

    def period(self, node: object, value: object, what: str) -> str:
        if isinstance(value, str) and _PERIOD.match(value):
            return value
        hint = None
        if isinstance(value, date):  # YAML reads an unquoted 2026-07-01 as a date
            shown = value.isoformat()
            hint = f'write the month quoted, as in "{value.month:02d}/{value.year}"'
        else:
            shown = repr(value) if isinstance(value, str) else str(value)
        message = f"{what} must be a period MM/yyyy (e.g. 07/2026), got {shown}"
        raise self.fail(message, node, hint, key=what.rsplit(".", 1)[-1])

    def parse(self) -> Catalog:
        doc = load_yaml(self.path)
        if not isinstance(doc, dict):
            raise self.fail("catalog.yaml must be a mapping", doc)
        self.only(doc, "the catalog")
        raw = self.need(doc, "version", (str, int, float))
        version = str(raw)
        if version != self.folder.name:
            raise self.fail(
                f"version {version!r} differs from its folder name {self.folder.name!r}",
                doc,
                hint=_version_hint(raw, self.folder.name),
                key="version",
            )
        env = self.need(doc, "envelope", dict)
        self.only(env, "envelope")
        envelope = Envelope(
            xsd=self.file(env, self.need(env, "xsd")),
            rules=self.files(env, "rules", ".sch files"),
            signature_node=self.need(env, "signature_node"),
            agrees_with_forms=self.agreements(env),
        )
        listed = self.need(doc, "forms", dict)
        forms = {
            code: self.form(code, node, line_of(listed, code)) for code, node in listed.items()
        }
        procedures = {
            str(code): self.procedure(str(code), node, forms)
            for code, node in self.need(doc, "procedures", dict).items()
        }
        return Catalog(
            version=version,
            title=unicodedata.normalize("NFC", str(doc.get("title", version))),
            effective_from=self.period(
                doc, self.need(doc, "effective_from", object), "effective_from"
            ),
            root=self.folder,
            envelope=envelope,
            forms=forms,
            procedures=procedures,
        )

    def form(self, code: str, node: Any, line: int | None = None) -> Form:
        self.only(node, "a form")
        versions = []
        results = self.files(node, "result_rules", ".sch files")  # every version's
        for version, vnode in self.need(node, "versions", dict).items():
            self.only(vnode, "a form version")
            versions.append(
                FormVersion(
                    form=code,
                    version=str(version),
                    xsd=self.file(vnode, self.need(vnode, "xsd")),
                    rules=self.files(vnode, "rules", ".sch files"),
                    result_rules=results,
                )
            )
        if not versions:
            raise self.fail(f"form {code} has no version", node)
        for version in versions:
            self.root_named(code, line, version.xsd)
        return Form(
            code=code,
            name=self.text(node, "name"),
            signature_node=self.need(node, "signature_node"),
            versions=tuple(versions),
        )

    def root_named(self, code: str, line: int | None, xsd: Path) -> None:
        """Refuse a form XSD whose root element is not the form's code: senders write a
        form as ``<D02-TS>`` (DOMAIN.md), so an XSD declaring ``<D02TS>`` would refuse every
        real one while passing the factory's, built from the XSD."""
        roots = _global_elements(xsd)
        if roots is None or code in [name for name, _line in roots]:
            return
        named, at = roots[0] if roots else (None, None)
        said = f"declares the root element {named!r}" if named else "declares no global element"
        raise CatalogError(
            f"the XSD of form {code} {said}, but a form's root element is its code, "
            f"<{code}> (form {code} is at {self.path}:{line}): every sender's "
            f"<{code}> would be refused (XSD-001)",
            path=str(xsd),
            line=at,
            hint=f'name the form\'s global element <xs:element name="{code}"> in this XSD, '
            f"or, if {named!r} is the form's code, rename the form in catalog.yaml"
            if named
            else f'declare the form\'s root as a global <xs:element name="{code}">',
        )

    def procedure(self, code: str, node: Any, forms: dict[str, Form]) -> Procedure:
        self.only(node, "a procedure")
        self.need(node, "required_forms", list)
        required, optional = self.codes(node, "required_forms"), self.codes(node, "optional_forms")
        if not required:
            raise self.fail(
                f"procedure {code} has no required form",
                node,
                hint="a procedure needs at least one form: list it under required_forms",
                key="required_forms",
            )
        for form in required + optional:
            if form not in forms:
                raise self.fail(
                    f"procedure {code} names form {form!r}, which the catalog does not define",
                    node,
                    hint=f"define it under forms: (known: {', '.join(forms)})",
                )
        in_force = self.need(node, "in_force", dict)
        self.only(in_force, "in_force")
        start = self.period(in_force, self.need(in_force, "from", object), "in_force.from")
        until = in_force.get("until")
        if until is not None:
            until = self.period(in_force, until, "in_force.until")
            if period_key(until) < period_key(start):
                raise self.fail("in_force.until is before in_force.from", in_force)
        days = node.get("days_to_result", DEFAULT_DAYS_TO_RESULT)
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
            hint = "e.g. days_to_result: 20 (the law's deadline, written on the 02/TB-TS)"
            raise self.fail(f"days_to_result must be 1 to 366 days, got {days!r}", node, hint=hint)
        return Procedure(
            code=code,
            name=self.text(node, "name"),
            required_forms=required,
            optional_forms=optional,
            in_force_from=start,
            in_force_until=until,
            days_to_result=days,
        )
