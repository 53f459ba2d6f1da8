"""Read ``fixtures/catalog/<version>/catalog.yaml`` into a :class:`Catalog`.

Structure problems are reported with the file and line of the offending entry, so whoever
adds a procedure can fix the data without reading Python.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from harness.catalog.model import Catalog, Envelope, Form, FormVersion, Procedure, period_key
from harness.catalog.rule_check import check_rules
from harness.errors import CatalogError
from harness.paths import fixtures_dir
from harness.yamlfile import line_of, load_yaml

_PERIOD = re.compile(r"^(0[1-9]|1[0-2])/[0-9]{4}$")


def catalogs_dir() -> Path:
    return fixtures_dir() / "catalog"


def list_versions(root: Path | None = None) -> list[str]:
    """Catalog versions on disk, oldest first (by ``effective_from``, then name)."""
    base = root or catalogs_dir()
    names = [p.name for p in base.iterdir() if (p / "catalog.yaml").is_file()]
    return sorted(names, key=lambda n: tuple(int(x) if x.isdigit() else 0 for x in n.split(".")))


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
        known = ", ".join(list_versions(base)) or "none"
        raise CatalogError(
            f"catalog version {version!r} not found",
            path=str(path),
            hint=f"known versions: {known}",
        )
    catalog = _Parser(path).parse()
    check_rules(
        catalog.envelope.rules, *(v.rules for form in catalog.forms.values() for v in form.versions)
    )
    return catalog


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
        version = str(self.need(doc, "version", (str, int, float)))
        if version != self.folder.name:
            raise self.fail(
                f"version {version!r} differs from its folder name {self.folder.name!r}", doc
            )
        env = self.need(doc, "envelope", dict)
        envelope = Envelope(
            xsd=self.file(env, self.need(env, "xsd")),
            rules=tuple(self.file(env, r) for r in env.get("rules", [])),
            signature_node=self.need(env, "signature_node"),
        )
        forms = {
            code: self.form(code, node) for code, node in self.need(doc, "forms", dict).items()
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

    def form(self, code: str, node: Any) -> Form:
        versions = []
        for version, vnode in self.need(node, "versions", dict).items():
            rules = vnode.get("rules", []) if isinstance(vnode, dict) else []
            if not isinstance(rules, list):
                raise self.fail("rules must be a list of .sch files", vnode)
            versions.append(
                FormVersion(
                    form=code,
                    version=str(version),
                    xsd=self.file(vnode, self.need(vnode, "xsd")),
                    rules=tuple(self.file(vnode, r) for r in rules),
                )
            )
        if not versions:
            raise self.fail(f"form {code} has no version", node)
        return Form(
            code=code,
            name=self.text(node, "name"),
            signature_node=self.need(node, "signature_node"),
            versions=tuple(versions),
        )

    def procedure(self, code: str, node: Any, forms: dict[str, Form]) -> Procedure:
        required = tuple(self.need(node, "required_forms", list))
        optional = tuple(node.get("optional_forms") or ())
        for form in required + optional:
            if form not in forms:
                raise self.fail(
                    f"procedure {code} names form {form!r}, which the catalog does not define",
                    node,
                    hint=f"define it under forms: (known: {', '.join(forms)})",
                )
        in_force = self.need(node, "in_force", dict)
        start = self.period(in_force, self.need(in_force, "from", object), "in_force.from")
        until = in_force.get("until")
        if until is not None:
            until = self.period(in_force, until, "in_force.until")
            if period_key(until) < period_key(start):
                raise self.fail("in_force.until is before in_force.from", in_force)
        return Procedure(
            code=code,
            name=self.text(node, "name"),
            required_forms=required,
            optional_forms=optional,
            in_force_from=start,
            in_force_until=until,
        )
