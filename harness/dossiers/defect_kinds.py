"""What a named defect is, and what each op of ``fixtures/dossiers/defects.yaml`` takes.

An entry is checked against its op's arguments when the file is read, so a misspelt key
is refused with its line; kept apart from looking defects up and building them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import error_codes
from harness.catalog.rule_roles import RESULT_FAMILIES
from harness.errors import CatalogError
from harness.suggestions import did_you_mean
from harness.yamlfile import line_of


@dataclass(frozen=True)
class Defect:
    """One named defect: the operation, its arguments and the codes it must cause."""

    name: str
    op: str
    expect: tuple[str, ...]
    args: dict[str, Any]
    result: tuple[str, ...] = ()
    """Codes of a result rule (``RES-*``): the dossier is accepted and its 03/TB-TS lists
    the row as defective; ``expect`` is then empty (nothing refuses it)."""

    @property
    def codes(self) -> tuple[str, ...]:
        """Every code ``expect:`` names, whether it refuses the dossier or marks its result."""
        return (*self.expect, *self.result)

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
    "copy-from": ("elements", "from"), "cccd-holder": ("elements", "value"),
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
CCCD_HOLDER = "cccd-holder"
"""Builds the form's first person around a given CCCD (the sex, birth year and province it
encodes), for a rule about the number itself, not its agreement with the person."""
COPY_FROM = "copy-from"
"""Sets the target element to another element's value (``from:``, a path of element names
found from the target's parent upwards): a cross-field rule's defect (``A != B``)."""
_CCCD = re.compile(r"[0-9]{12}")
_PATH = re.compile(r"[^\W\d][\w.\-]*(/[^\W\d][\w.\-]*)*")


def checked_defect(name: str, node: object, doc: object, path: Path) -> Defect:
    """One entry of defects.yaml, checked (see :func:`.defects.load_defects`)."""
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
    if op == CCCD_HOLDER:
        _check_cccd(name, node, path)
    args = {k: v for k, v in node.items() if k not in _HEAD}
    result = tuple(c for c in expect if c.startswith(RESULT_FAMILIES))
    if result and len(result) < len(expect):
        raise CatalogError(
            f"defect {name}: expects {', '.join(result)} of a result rule beside "
            f"{', '.join(c for c in expect if c not in result)}, which refuse the dossier: "
            "a refused dossier never gets the 03/TB-TS that would list the result code",
            path=str(path),
            line=line_of(node, "expect"),
            hint="split it into two defects, one per kind of code",
        )
    return Defect(name, str(op), expect if not result else (), args, result)


def _check_cccd(name: str, node: dict[str, Any], path: Path) -> None:
    """``cccd-holder``'s value must be a CCCD the person can be built around."""
    value = node["value"]
    if not (isinstance(value, str) and _CCCD.fullmatch(value)):
        raise CatalogError(
            f"defect {name}: value must be a CCCD, 12 digits, got {value!r}",
            path=str(path),
            line=line_of(node, "value"),
            hint='quote it (value: "001090000001"): birth province (3 digits), century and '
            "sex (1), birth year (2), serial (6)",
        )


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


__all__ = ["COPY_FROM", "Defect", "checked_defect"]
