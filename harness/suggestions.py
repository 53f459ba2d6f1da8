"""The "did you mean ...?" said beside a misspelt name, wherever data or options are read."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str], *, cutoff: float = 0.6) -> str:
    """``"did you mean 'rules'? "`` for the known name closest to ``name``, or ``""`` when
    none is close enough (difflib's ratio of the case-folded names, at least ``cutoff``)."""
    by_folded: dict[str, str] = {}
    for known_name in known:  # '630A' is '630a' mistyped: case does not count against it
        by_folded.setdefault(known_name.casefold(), known_name)
    close = difflib.get_close_matches(name.casefold(), list(by_folded), n=1, cutoff=cutoff)
    return f"did you mean {by_folded[close[0]]!r}? " if close else ""


__all__ = ["did_you_mean"]
