"""Evidence for a changed XSD pattern: a value the old pattern admits and the new refuses.

``catalog diff`` cannot compare two regular expressions exactly, so any rewritten pattern
counts as breaking. What it can do is look: generate values the old pattern admits
(hypothesis, from the XSD regex translated by elementpath, as xmlschema does) and try
the new one on them. A value refused now is proof for the reviewer; none found in the
tries is said too, so a widened pattern reads as "probably looser, check by hand" rather
than a bare BREAKING.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

TRIES = 300
"""Values generated per changed pattern: a diff has few, and each try costs microseconds."""


def refused_value(
    old: tuple[frozenset[str], ...], new: tuple[frozenset[str], ...]
) -> str | bool | None:
    """A (shrunk) value every old pattern step admits and some new step refuses; None if
    none was found in :data:`TRIES` tries; False if the patterns cannot be generated from."""
    from hypothesis import HealthCheck, find, settings
    from hypothesis import strategies as st
    from hypothesis.errors import NoSuchExample, Unsatisfiable

    try:
        old_steps = [_compiled(step) for step in old]
        new_steps = [_compiled(step) for step in new]
    except (re.error, ValueError, TypeError):
        return False
    if not old_steps:
        return False
    first = st.one_of([st.from_regex(p, fullmatch=True) for p in old_steps[0]])
    try:
        return str(
            find(
                first,
                lambda v: _admits(old_steps, v) and not _admits(new_steps, v),
                settings=settings(
                    max_examples=TRIES,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(HealthCheck),
                ),
            )
        )
    except (NoSuchExample, Unsatisfiable):
        return None


def describe(old: tuple[frozenset[str], ...], new: tuple[frozenset[str], ...]) -> str:
    """What the tries found, as the end of a diff line."""
    found = refused_value(old, new)
    if found is False:
        return ""
    if found is None:
        return (
            f"; no value the old pattern admits was refused by the new one in {TRIES} tries: "
            "possibly looser (regexes are not compared exactly: check by hand)"
        )
    return f"; e.g. {found!r} matched before and is refused now"


def _admits(steps: Iterable[tuple[re.Pattern[str], ...]], value: str) -> bool:
    """XSD semantics: a value must match one alternative of every derivation step."""
    return all(any(p.fullmatch(value) for p in step) for step in steps)


@cache
def _compiled(step: frozenset[str]) -> tuple[re.Pattern[str], ...]:
    from elementpath.regex import translate_pattern

    return tuple(re.compile(translate_pattern(p)) for p in sorted(step))


__all__ = ["TRIES", "describe", "refused_value"]
