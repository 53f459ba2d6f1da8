"""The functions every rule may call without a prefix: XPath 1.0's core library and the
functions XSLT 1.0 adds (lxml runs Schematron as XSLT), with how many arguments each takes.

lxml compiles a call to any other name, or with the wrong number of arguments, and the
rule fails ("Unregistered function", "Invalid number of arguments") only when a dossier
reaches it; the catalog's rule check refuses both when the catalog loads.
"""

from __future__ import annotations

MANY = 1_000
"""``concat()`` takes two arguments or more."""

ARITY: dict[str, tuple[int, int]] = {
    # XPath 1.0, section 4: node-set, string, boolean and number functions
    "last": (0, 0),
    "position": (0, 0),
    "count": (1, 1),
    "id": (1, 1),
    "local-name": (0, 1),
    "namespace-uri": (0, 1),
    "name": (0, 1),
    "string": (0, 1),
    "concat": (2, MANY),
    "starts-with": (2, 2),
    "contains": (2, 2),
    "substring-before": (2, 2),
    "substring-after": (2, 2),
    "substring": (2, 3),
    "string-length": (0, 1),
    "normalize-space": (0, 1),
    "translate": (3, 3),
    "boolean": (1, 1),
    "not": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "lang": (1, 1),
    "number": (0, 1),
    "sum": (1, 1),
    "floor": (1, 1),
    "ceiling": (1, 1),
    "round": (1, 1),
    # XSLT 1.0, section 12
    "document": (1, 2),
    "key": (2, 2),
    "format-number": (2, 3),
    "current": (0, 0),
    "unparsed-entity-uri": (1, 1),
    "generate-id": (0, 1),
    "system-property": (1, 1),
    "element-available": (1, 1),
    "function-available": (1, 1),
}
"""Each function's (fewest, most) arguments."""

NOT_CALLS = frozenset(
    {"node", "text", "comment", "processing-instruction", "and", "or", "div", "mod"}
)
"""Names written before ``(`` that are not function calls: node type tests, and the
operators, as in ``a and (b or c)``."""


def arity_text(fewest: int, most: int) -> str:
    """``2``, ``0 to 1`` or ``2 or more``: how many arguments a function takes."""
    if fewest == most:
        return str(fewest)
    return f"{fewest} or more" if most >= MANY else f"{fewest} to {most}"


__all__ = ["ARITY", "MANY", "NOT_CALLS", "arity_text"]
