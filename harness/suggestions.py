"""The "did you mean ...?" said beside a misspelt name, wherever data or options are read."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str], *, cutoff: float = 0.6) -> str:
    """``"did you mean 'rules'? "`` for the known name closest to ``name``, or ``""`` when
    none is close enough (difflib's ratio, at least ``cutoff``)."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=cutoff)
    return f"did you mean {close[0]!r}? " if close else ""


__all__ = ["did_you_mean"]
