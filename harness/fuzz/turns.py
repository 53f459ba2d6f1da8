"""Which cases a campaign draws, and when: procedures take turns, each getting a case
(its widest dossier) before any gets a second, then each older form version the catalog
still accepts gets one, then fair shares of the budget. Its own module: the schedule and
its hypothesis seeds decide what a seed sends, apart from how a case is judged."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import seed as seed_run
from hypothesis.errors import Unsatisfiable

from harness.catalog import Catalog
from harness.fuzz.minimise import QUIET
from harness.fuzz.strategies import FuzzCase, Stratum


def pinned(catalog: Catalog, plan: Sequence[Stratum], size: int) -> list[tuple[str, Any]]:
    """One turn per older form version the catalog accepts of a form the run's procedures
    take: the widest dossier of the first procedure taking the form, in that version. Named
    ``PROCEDURE:FORM=VERSION``, the turn's hypothesis seed, so it depends on nothing else."""
    turns = []
    for form in catalog.forms.values():
        takers = [s for s in plan if form.code in catalog.procedures[s.procedure].forms]
        for version in form.versions[:-1] if takers else ():  # the last one is current
            strategy = takers[0].batches(size, widest=True, pinned={form.code: version.version})
            turns.append((f"{takers[0].procedure}:{form.code}={version.version}", strategy))
    return turns


Turn = Callable[[Any, int, str, int], None]
"""Draws ``examples`` batches of a strategy with a seed, judging up to ``quota`` new cases."""


def take_turns(
    turns: list[tuple[str, Any, Any]],
    size: int,
    budget: int | None,
    seed: int,
    turn: Turn,
    cases: Callable[[], int],
    exhausted: Callable[[], bool],
    pinned: Sequence[tuple[str, Any]] = (),
) -> None:
    """Rounds of turns, one per procedure in catalog order, until the budget or the time is
    spent: round 0 sends each procedure's widest dossier (every form it takes, in its
    current version), so every procedure gets a case before any gets a second; then each
    ``pinned`` turn (an older form version, see :func:`pinned`) sends one case, before the
    rounds go on. A turn's hypothesis seed names the seed, round and procedure (a pinned
    one's: the seed and its name): the same seed draws the same cases, and adding a
    procedure to the catalog does not change the others'."""
    for round_ in itertools.count():
        if round_ == 1 and not _pinned_turns(pinned, seed, turn, exhausted):
            return
        before = cases()
        quotas = _quotas(round_, budget, before, len(turns), size)
        for (procedure, widest, drawn), quota in zip(turns, quotas, strict=True):
            if exhausted():
                return
            if quota:
                # +2: a turn's first batch is hypothesis's simplest (one body repeated, sent
                # once), and a batch may draw a body twice
                examples = 1 if round_ == 0 else -(-quota // size) + 2
                turn(
                    widest if round_ == 0 else drawn,
                    quota,
                    f"{seed}:{round_}:{procedure}",
                    examples,
                )
        if exhausted() or cases() == before:
            return  # hypothesis had nothing left to generate


def _pinned_turns(
    pinned: Sequence[tuple[str, Any]], seed: int, turn: Turn, exhausted: Callable[[], bool]
) -> bool:
    """One case of each pinned turn (its simplest batch); False once the budget or the time
    is spent. A version whose dossiers the run's families find nothing to break in gets no
    case (hypothesis finds no batch to send), and the report counts it 0."""
    for name, strategy in pinned:
        if exhausted():
            return False
        try:
            turn(strategy, 1, f"{seed}:{name}", 1)
        except Unsatisfiable:
            continue
    return not exhausted()


TURN_BATCHES = 4
"""Batches a procedure draws in one turn before the next procedure's: a run stopped early
(--duration, Ctrl-C) has still spread its cases over every procedure."""


def batch_size(batch: int, budget: int | None, procedures: int) -> int:
    """Cases per drawn dossier: ``batch``, fewer when the budget would not give every
    procedure a batch after the first round's one case each."""
    if budget is None or not procedures:
        return batch
    return max(1, min(batch, (budget - procedures) // procedures))


def _quotas(round_: int, budget: int | None, cases: int, procedures: int, size: int) -> list[int]:
    """New cases each procedure may get this round, in turn: one each in round 0 (its
    widest dossier), then a fair share of what the budget has left, a turn at most."""
    if round_ == 0:
        return [1] * procedures
    most = TURN_BATCHES * size
    if budget is None:
        return [most] * procedures
    left = max(0, budget - cases)
    return [min(most, left // procedures + (i < left % procedures)) for i in range(procedures)]


def generate(strategy: Any, judge: Callable[[list[FuzzCase]], None], seed: str, n: int) -> None:
    """Hand ``judge`` each of ``n`` batches ``strategy`` draws under hypothesis seed ``seed``:
    generation alone, since the runner judges every case and minimises failures itself."""

    @seed_run(seed)
    @settings(max_examples=n, phases=[Phase.generate], **QUIET)  # type: ignore[arg-type]
    @given(strategy)
    def step(cases: list[FuzzCase]) -> None:
        judge(cases)

    step()


__all__ = [
    "TURN_BATCHES",
    "Turn",
    "batch_size",
    "generate",
    "pinned",
    "take_turns",
]
