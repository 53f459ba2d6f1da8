"""How refusals are said: one line per distinct problem (a problem met in several rows or
procedures is one line), the :class:`CatalogError` of ``catalog check``, and the one
warning line ``serve`` prints over the factory's data."""

from __future__ import annotations

import os
import re

from harness.catalog import Catalog
from harness.dossiers.refusal import HEADERS, REFUSED, Refusal
from harness.errors import CatalogError
from harness.paths import fixtures_dir

ROW = re.compile(r"\[\d+\]")
"""A row index in a path (``NguoiDiLam[2]``): problems differing only there are one."""
_SHOWN = 12
"""Problems listed in full; the rest are counted."""
_WARNED = 200
"""Characters of the first problem a ``serve`` warning quotes."""


def refused(refusals: list[Refusal]) -> CatalogError:
    """The error listing ``refusals``, saying first what kinds of fault they are."""
    lines = grouped(refusals)
    shown = "\n".join(f"  {line}" for line in lines[:_SHOWN])
    more = f"\n  ... and {len(lines) - _SHOWN} more" if len(lines) > _SHOWN else ""
    kinds = [header for kind, header in HEADERS.items() if any(r.kind == kind for r in refusals)]
    return CatalogError(
        f"{'; '.join(kinds)} ({len(lines)} problem(s)):\n{shown}{more}",
        hint="fix what each line names, then run `bhxh-harness catalog check` again",
    )


def factory_warning(catalog: Catalog, refusals: list[Refusal]) -> str:
    """One line saying the factory's data fails the smoke run, with its first problem."""
    first = refusals[0]
    problem = first.problem.replace(f"{fixtures_dir()}{os.sep}reference{os.sep}", "")
    for said in ("cannot build it: ", "the factory's valid dossier is refused: "):
        problem = problem.removeprefix(said)
    if len(problem) > _WARNED:
        problem = problem[: _WARNED - 3] + "..."
    others = len(grouped(refusals)) - 1
    more = f"; {others} more problem(s)" if others else ""
    maybe = ", maybe over the factory's data (fields.yaml)" if first.kind == REFUSED else ""
    return (
        f"warning: catalog {catalog.version}: {HEADERS[first.kind]}{maybe} "
        f"({problem}{more}): serving anyway; `bhxh-harness catalog check` says more"
    )


def grouped(refusals: list[Refusal]) -> list[str]:
    """One line per distinct problem, naming every procedure it was met in; problems that
    differ only in a row index (``NguoiDiLam[1]``, ``NguoiDiLam[2]``) make one line."""
    procedures: dict[tuple[str, str, str], list[str]] = {}
    rows: dict[tuple[str, str, str], dict[str, None]] = {}
    for r in refusals:
        key = (r.where, r.same or ROW.sub("[*]", r.problem), r.hint)
        procedures.setdefault(key, []).append(r.procedure)
        rows.setdefault(key, {})[r.problem] = None
    lines = []
    for (where, _same, hint), codes in procedures.items():
        seen = list(rows[(where, _same, hint)])
        said_problem = _rows_said(seen)
        named = [code for code in dict.fromkeys(codes) if code]
        noun = "procedures" if len(named) > 1 else "procedure"
        listed = f"{noun} {', '.join(named)}" if named else ""
        said = f"{where} ({listed})" if where and listed else where or listed
        lines.append(f"{said}: {said_problem} — {hint}" if said else f"{said_problem} — {hint}")
    return lines


def _rows_said(problems: list[str]) -> str:
    """One problem met in ``problems``' rows: the first row's text, the rows counted."""
    if len(problems) == 1:
        return problems[0]
    first = ROW.sub("[*]", problems[0])
    same = all(ROW.sub("[*]", p) == first for p in problems)
    return f"{first} ({len(problems)} rows{'' if same else ', the first one quoted'})"


__all__ = ["ROW", "factory_warning", "grouped", "refused"]
