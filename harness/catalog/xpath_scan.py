"""A small scanner for XPath 1.0 text: prefixed function calls and their argument texts.

Enough of XPath's lexical rules (string literals, parentheses, commas, QNames) to find
``fn:as-of('base_salary', 'amount', ...)`` in a rule and read its literal arguments;
lxml compiles XPath but exposes no syntax tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r"[A-Za-z_][\w.\-]*"
_CALL = re.compile(rf"(?<![\w.\-:$@/])({_NAME}):({_NAME})\s*\(")
_UNPREFIXED_CALL = re.compile(rf"(?<![\w.\-:$@/])({_NAME})\s*\(")
_TABLES = re.compile(rf"\$tables\s*/\s*tables\s*/\s*({_NAME})")
_VARIABLE = re.compile(rf"\$((?:{_NAME}:)?{_NAME})")
_PREFIXED = re.compile(rf"(?<![\w.\-$])(?:(?<=::)|(?<!:))({_NAME}):(?!:)({_NAME}|\*)(\s*\()?")
"""``prefix:local`` as an element, attribute or function name, also after an axis
(``child::p:x``); the axis itself and the local part of ``$p:x`` are not matched."""


@dataclass(frozen=True)
class Prefixed:
    """One prefixed name, ``prefix:local``; ``call`` when it names a function."""

    prefix: str
    local: str
    call: bool


@dataclass(frozen=True)
class Call:
    """One prefixed function call: ``prefix:name(args...)``, arguments as written."""

    prefix: str
    name: str
    args: tuple[str, ...]


def _blank_literals(text: str) -> str:
    """``text`` with the inside of every string literal blanked (same length), so names,
    commas and parentheses inside quotes are not taken for syntax."""
    out: list[str] = []
    quote: str | None = None
    for char in text:
        if quote is None:
            out.append(char)
            if char in "'\"":
                quote = char
        elif char == quote:
            out.append(char)
            quote = None
        else:
            out.append(" ")
    return "".join(out)


def _arguments(text: str, blanked: str, start: int) -> tuple[str, ...] | None:
    """The argument texts of the call whose ``(`` is at ``start - 1``; None if unclosed."""
    depth, begin = 0, start
    args: list[str] = []
    for index in range(start, len(blanked)):
        char = blanked[index]
        if char in "([":
            depth += 1
        elif char in ")]":
            if depth == 0:
                last = text[begin:index].strip()
                if last or args:
                    args.append(last)
                return tuple(args)
            depth -= 1
        elif char == "," and depth == 0:
            args.append(text[begin:index].strip())
            begin = index + 1
    return None


def function_calls(expression: str) -> list[Call]:
    """Every ``prefix:name(...)`` call in ``expression``, nested ones included, in order."""
    blanked = _blank_literals(expression)
    calls = []
    for match in _CALL.finditer(blanked):
        args = _arguments(expression, blanked, match.end())
        if args is not None:
            calls.append(Call(match[1], match[2], args))
    return calls


def unprefixed_calls(expression: str) -> list[Call]:
    """Every ``name(...)`` in ``expression`` without a prefix (``prefix`` is ``""``):
    function calls, and the node tests and operators a caller tells apart by name."""
    blanked = _blank_literals(expression)
    calls = []
    for match in _UNPREFIXED_CALL.finditer(blanked):
        args = _arguments(expression, blanked, match.end())
        if args is not None:
            calls.append(Call("", match[1], args))
    return calls


def literal(argument: str) -> str | None:
    """The value of an argument that is one string literal (``'wards'``), else None."""
    text = argument.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" and text[0] not in text[1:-1]:
        return text[1:-1]
    return None


def table_paths(expression: str) -> list[str]:
    """Table names reached as ``$tables/tables/<name>`` in ``expression``."""
    return _TABLES.findall(_blank_literals(expression))


def variables(expression: str) -> list[str]:
    """The names of the variables ``expression`` references (``$name``), in order, once
    each; a ``$`` inside a string literal is text, not a reference."""
    return list(dict.fromkeys(_VARIABLE.findall(_blank_literals(expression))))


def prefixed_names(expression: str) -> list[Prefixed]:
    """Every prefixed element, attribute or function name in ``expression``, in order."""
    return [
        Prefixed(match[1], match[2], match[3] is not None)
        for match in _PREFIXED.finditer(_blank_literals(expression))
    ]
