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


_TOKEN = re.compile(
    rf"""\s*(?:
      (?P<literal>"[^"]*"|'[^']*')
    | (?P<number>\d+(?:\.\d*)?|\.\d+)
    | (?P<symbol>\.\.|::|//|!=|<=|>=|[()\[\].@,|+\-=<>*/])
    | (?P<variable>\$(?:{_NAME}:)?{_NAME})
    | (?P<name>{_NAME}(?::(?:{_NAME}|\*))?)
    )""",
    re.VERBOSE,
)
_OPERATORS = frozenset({"and", "or", "mod", "div", "*", "/", "//", "|", "+", "-", "=", "!="})
_OPERATORS |= frozenset({"<", "<=", ">", ">="})
_AFTER_WHICH_A_NAME_TESTS = frozenset({None, "operator", "@", "::", "(", "[", ","})
"""XPath 1.0, 3.7: after these (or an operator, or nothing) a name is a name test, not
an operator name such as ``and``."""
_NOT_ELEMENT_AXES = frozenset({"attribute", "namespace"})


def _tokens(expression: str) -> list[tuple[str, str]]:
    """``expression`` as (kind, text) tokens; a character no token starts with is skipped."""
    tokens: list[tuple[str, str]] = []
    index = 0
    while index < len(expression):
        match = _TOKEN.match(expression, index)
        if match is None or match.end() == index:
            index += 1
            continue
        if match.lastgroup is not None:
            tokens.append((match.lastgroup, match[match.lastgroup]))
        index = match.end()
    return tokens


def element_names(expression: str) -> list[str]:
    """The unprefixed element names ``expression`` tests for (``LaoDong/TienLuong``), in
    order, once each: not functions, axes, attributes, operators or variables.

    A ``*`` or operator name in operator position (XPath 1.0, section 3.7) is an operator;
    every other name not followed by ``(`` or ``::`` is a name test.
    """
    tokens = _tokens(expression)
    found: list[str] = []
    previous: str | None = None  # the previous token as it was read: "operator" or its text
    axis = "child"
    for index, (kind, text) in enumerate(tokens):
        following = tokens[index + 1][1] if index + 1 < len(tokens) else ""
        operator_position = previous not in _AFTER_WHICH_A_NAME_TESTS
        if kind == "symbol" and text == "*" and operator_position:
            previous = "operator"
            continue
        if kind != "name" or following in ("(", "::"):
            if kind == "name" and following == "::":
                axis = text
            previous = "operator" if text in _OPERATORS else text
            continue
        if operator_position and text in _OPERATORS:
            previous = "operator"
            continue
        element = previous != "@" and not (previous == "::" and axis in _NOT_ELEMENT_AXES)
        if element and ":" not in text and text not in found:
            found.append(text)
        previous, axis = text, "child"
    return found


def alternatives(expression: str) -> list[str]:
    """``expression`` split at each ``|`` outside brackets and string literals: the
    alternatives of a union such as a rule context ``LaoDong | NguoiKhai``."""
    blanked = _blank_literals(expression)
    parts: list[str] = []
    depth, begin = 0, 0
    for index, char in enumerate(blanked):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(expression[begin:index])
            begin = index + 1
    parts.append(expression[begin:])
    return parts
