"""``bhxh-harness fuzz``: property-based fuzzing of a gateway, with progress and a report.

Thin over :func:`harness.fuzz.runner.run_fuzz`; ``--gateway inproc`` wires in the mock
gateway's core through a ``requests`` session (no socket), a URL fuzzes any gateway.
"""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.cli_exits import UNAVAILABLE, USAGE
from harness.cli_types import CODE, FOLDER, NAME, SECONDS, TOKEN
from harness.errors import GatewayUnavailable, HarnessError
from harness.fuzz.evidence import found_dir
from harness.fuzz.http_target import LOCAL
from harness.fuzz.run_setup import (
    check_folders,
    check_gateway_options,
    chosen_families,
    dossier_pool,
    fuzz_target,
    gateway_replay,
)
from harness.fuzz.summary import gone_bundle as _gone_bundle
from harness.fuzz.summary import print_gaps, print_lifecycle
from harness.fuzz.summary import print_summary as _summary
from harness.fuzz.summary import stopped as _stopped
from harness.identities import DEFAULT_IVAN_CODE
from harness.tls import verify_option

if TYPE_CHECKING:  # a run's modules (hypothesis, signxml...) load when it starts, not at --help
    from harness.fuzz.outcome import FuzzReport
    from harness.reporting import ReportBundle

DEFAULT_BUDGET = 200
"""Cases a run sends when neither --budget nor --duration is given."""


@click.command()
@click.option(
    "--gateway",
    default=LOCAL,
    show_default=True,
    help="'inproc' or a gateway's base URL.",
)
@click.option("--token", type=TOKEN, help="I-VAN bearer token (for a URL).")
@click.option(
    "--ivan-token",
    "ivan_tokens",
    multiple=True,
    metavar="NAME=TOKEN",
    help="URL only: a second I-VAN's code and token, for the lifecycle's isolation checks "
    "(without it they are left out, and the report says so).",
)
@click.option(
    "--admin-token",
    type=TOKEN,
    help="URL only: the gateway's admin token, for the lifecycle's simulated time and 503 "
    "bursts (without it those steps are left out, and the report says so). The machine "
    "then moves the gateway's simulated clock forward and switches 503 bursts on for every "
    "I-VAN: on a shared staging gateway, others see them too.",
)
@click.option(
    "--lifecycle-steps",
    type=int,
    help="Steps of the dossier lifecycle machine (submit, resubmit, feed, ack, the other "
    "I-VAN, time, 503 bursts), after the cases; 0 skips it, at most 10,000; with "
    "--duration no step starts past it [default: a quarter of --budget; 50 with "
    "--duration alone].",
)
@click.option(
    "--release",
    type=NAME,
    help="inproc only: simulate this faulty release (fixtures/releases).",
)
@click.option(
    "--ivan",
    default=DEFAULT_IVAN_CODE,
    show_default=True,
    type=CODE,
    help="I-VAN code the dossiers name (MaIVAN): the one --token belongs to.",
)
@click.option(
    "--budget",
    type=int,
    help=f"Number of cases [default: {DEFAULT_BUDGET}; none with --duration alone].",
)
@click.option("--duration", type=SECONDS, help="Seconds to fuzz.")
@click.option("--catalog", "version", help="Catalog version (default: latest).")
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the cases (same seed, same cases).",
)
@click.option(
    "--family",
    "families",
    multiple=True,
    help="Mutation family (repeatable; default: every one), or valid: the valid dossiers "
    "alone, some in quirks real software writes (NFD names, a GUID signature Id; every run "
    "mixes them in). A family that applies to none of the procedures is refused; one that "
    "got no case makes the run INCOMPLETE (exit 3), as does any family applying to the "
    "run's procedures that got none.",
)
@click.option(
    "--procedure",
    "procedures",
    multiple=True,
    type=NAME,
    metavar="CODE",
    help="Fuzz only dossiers of this procedure (repeatable; default: every procedure of "
    "the catalog). Each gets a case before any gets a second; one that got no case makes "
    "the run INCOMPLETE (exit 3).",
)
@click.option(
    "--found",
    type=FOLDER,
    help="Folder where minimal failures go [default: $BHXH_FUZZ_FOUND, else "
    "fixtures/dossiers/found].",
)
@click.option("--out", type=FOLDER, help="Parent folder of the report.")
@click.option("--lenient", is_flag=True, help="Accept extra codes beside an expected one.")
@click.option("--insecure", is_flag=True, help="Do not verify the gateway's TLS certificate.")
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False),
    help="CA bundle that signed the gateway's TLS certificate (PEM).",
)
def fuzz(
    gateway: str,
    token: str | None,
    ivan_tokens: tuple[str, ...],
    admin_token: str | None,
    lifecycle_steps: int | None,
    release: str | None,
    ivan: str,
    budget: int | None,
    duration: float | None,
    version: str | None,
    seed: int,
    families: tuple[str, ...],
    procedures: tuple[str, ...],
    found: Path | None,
    out: Path | None,
    lenient: bool,
    insecure: bool,
    ca_bundle: str | None,
) -> None:
    """Fuzz a gateway with valid and one-thing-broken signed dossiers from the catalog.

    Exits 0 when every property held, 1 when one broke (minimal dossiers are written as
    fixtures with a one-line reproduction), 2 for a usage error, 3 when the gateway
    stopped answering (or kept answering 429/503 with Retry-After) during the run (no
    verdict, no fixture written; a partial report of what ran) or a family applying to
    the run's procedures, or a procedure, got no case (INCOMPLETE: raise --budget).
    Procedures take turns: each gets a case before any gets a second. Dossiers carry each
    form in a version the catalog accepts (older ones too, as senders that did not update
    file them); after each procedure's first case, each older version gets one, and a
    form version that got no case makes the run INCOMPLETE too.

    Then a state machine plays the dossier lifecycle (--lifecycle-steps): two I-VANs
    submit, resubmit, read their feeds and acknowledge while time passes and 503 bursts
    come and go; a receipt lost or readable by the other I-VAN, a repeated or leaked
    message, or an ack forgotten fails the run (exit 1) with the steps, shrunk, that show it.
    The same --seed plays the same steps.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from harness.credentials import token_options
    from harness.fuzz import lifecycle_cli as life
    from harness.fuzz.events import CaseExecuted, Event, FuzzInterrupted, GatewayWentAway
    from harness.fuzz.report import report_bundle
    from harness.fuzz.runner import check_budget, run_fuzz
    from harness.fuzz.strategies import check_applicable

    # A CI log keeps whole lines; a gateway's or dossier's text prints as written.
    console = Console(highlight=False, soft_wrap=True, markup=False)
    gone: list[ReportBundle] = []  # the partial report of a run whose gateway went away
    try:
        if budget is None and duration is None:
            budget = DEFAULT_BUDGET
        check_budget(budget, duration)  # before the catalog is loaded or a dossier signed
        check_gateway_options(gateway, token, release, admin_token, ivan_tokens)
        steps = life.lifecycle_steps(lifecycle_steps, budget)
        others = token_options(ivan_tokens)
        chosen = chosen_families(families)
        pool = dossier_pool(version, ivan, procedures)
        if chosen:  # before the gateway is reached: a family with nothing to break is refused
            check_applicable(pool.catalog, procedures or pool.catalog.procedures, chosen, pool)
        verify = verify_option(insecure, ca_bundle)
        meta = _meta(budget, duration, families, procedures, found)
        with (
            fuzz_target(gateway, token, pool, verify, release, procedures) as target,
            ExitStack() as lifecycle_sessions,
            Progress(
                TextColumn("fuzzing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                disable=not console.is_terminal,  # else a blank line in a log, or before an error
            ) as progress,
        ):
            check_folders(out, found)
            url_gateway = None  # in process, the lifecycle makes its own fresh mock
            if steps and gateway != LOCAL:  # before any case: a token it would blame on the gateway
                url_gateway = life.check_lifecycle_tokens(
                    target, token or "", others, admin_token, pool, verify
                )
                lifecycle_sessions.callback(url_gateway.close)
            for note in target.notes:  # e.g. a gateway that does not list its catalogs
                console.print(f"note: {note}", markup=False)
            meta |= {"notes": target.notes} if target.notes else {}
            task = progress.add_task("cases", total=budget)
            replay = gateway_replay(gateway, target, verify, ivan, release)
            stopped: list[ReportBundle] = []  # held here: the CLI writes it on its way out

            def on_event(event: Event) -> None:
                if isinstance(event, CaseExecuted):
                    progress.advance(task)
                elif isinstance(event, FuzzInterrupted):
                    stopped.extend(_stopped(event.report, out, console, meta, replay))
                elif isinstance(event, GatewayWentAway):
                    gone.append(_gone_bundle(event, out, meta))

            deadline = None if duration is None else time.perf_counter() + duration
            report = run_fuzz(
                target, pool.catalog, budget=budget, duration=duration, seed=seed,
                families=chosen, procedure=procedures or None, pki=pool.pki,
                strict=not lenient, found=found,
                on_event=on_event, replay=replay, ivan=ivan,
            )  # fmt: skip
            lifecycle = None
            if steps:
                lifecycle = life.run_cli_lifecycle(
                    url_gateway, pool=pool, steps=steps, seed=seed, release=release,
                    deadline=deadline, on_stop=lambda partial: stopped.extend(
                        _stopped(report, out, console, meta, replay, partial)
                    ),
                )  # fmt: skip
                life.save_failure(lifecycle, found_dir(found), _command(life.RUN_OPTIONS))
    except GatewayUnavailable as exc:  # not the gateway's failure, nor the user's
        click.echo(f"error: {exc}", err=True)
        for bundle in gone:
            click.echo(f"partial report: {bundle.write() / 'index.html'}", err=True)
        sys.exit(UNAVAILABLE)
    except HarnessError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(USAGE)
    asked = [f for f in dict.fromkeys(families) if not _count(report, f)]
    unrun = list(dict.fromkeys([*asked, *report.unrun_families]))  # every family applying
    unreached = list(report.unreached)
    versions = list(report.unreached_form_versions)
    incomplete = bool(unrun or unreached or versions or (lifecycle and lifecycle.no_verdict))
    ok = report.ok and (lifecycle is None or lifecycle.ok)
    verdict = "FAILED" if not ok else "INCOMPLETE" if incomplete else "PASSED"
    meta["unrun_families"] = unrun
    folder = report_bundle(report, out, meta, lifecycle).write()
    _summary(console, report, verdict, replay, lifecycle)
    print_lifecycle(console, lifecycle)
    if ok:
        print_gaps(console, report.cases, unrun, unreached, versions)
    console.print(f"report: {folder / 'index.html'}")
    sys.exit(1 if not ok else UNAVAILABLE if incomplete else 0)


def _count(report: FuzzReport, family: str) -> int:
    """Cases of ``family`` the run sent."""
    tally = report.families.get(family)
    return 0 if tally is None else tally.executed


def _meta(
    budget: int | None,
    duration: float | None,
    families: tuple[str, ...],
    procedures: tuple[str, ...],
    found: Path | None,
) -> dict[str, object]:
    """What the run was asked, for results.json: with the command that runs it again."""
    return {
        "budget": budget,
        "duration": duration,
        "families": list(families) or "all",
        "procedures": list(procedures) or "all",
        "found": str(found_dir(found).resolve()),
        "reproduce": _command(),
    }


def _command(leave_out: tuple[str, ...] = ()) -> str:
    """The command that runs this one again, credentials hidden, less ``leave_out``."""
    from harness.reporting.command_line import command_line

    secrets = ("token", "admin_token", "ivan_tokens")
    return command_line(click.get_current_context(), secrets=secrets, leave_out=leave_out)
