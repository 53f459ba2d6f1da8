"""``bhxh-harness certify``: certify an I-VAN, and ``certify verify`` a report bundle.

A thin skin over :func:`harness.certification.run_certification`; the lead mounts
:data:`certify` in the main command group. Exit codes: 0 every case ran and passed, 1 a
case failed or erred (or the bundle does not verify), 2 a usage problem, 3 INCOMPLETE
(what ran passed, but a case was skipped, so the I-VAN is not certified).
"""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from harness.cli_exits import exits_on_errors
from harness.cli_types import CODE, NAME, SECONDS, TOKEN
from harness.errors import HarnessError, UsageError
from harness.identities import DEFAULT_IVAN_CODE
from harness.tls import verify_option

if TYPE_CHECKING:
    from harness.reporting import ReportBundle


def _options(values: tuple[str, ...]) -> dict[str, str]:
    """``--adapter-option KEY=VALUE`` as a mapping; a key given twice is refused, since
    silently keeping the last would run another command than the one the user checked."""
    options: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="--adapter-option")
        if key.strip() in options:
            raise click.BadParameter(
                f"{key.strip()}= is given twice ({options[key.strip()]!r} and {rest!r}); "
                "keep the one you mean",
                param_hint="--adapter-option",
            )
        options[key.strip()] = rest
    return options


def _procedures(value: str | None) -> list[str] | None:
    """``--procedures 600,604`` as codes; given but naming none is a mistake, not "all"."""
    if value is None:
        return None
    codes = [p.strip() for p in value.split(",")]
    if not any(codes):
        raise click.BadParameter(
            f"{value!r} names no procedure (leave the option out to run every procedure)",
            param_hint="--procedures",
        )
    if not all(codes):  # "600,,601": a code left out by mistake, not nothing
        raise click.BadParameter(
            f"{value!r} has an empty procedure code (two commas in a row, or one at an end): "
            f"separate the codes by single commas, e.g. {','.join(c for c in codes if c)}",
            param_hint="--procedures",
        )
    return codes


_DIGEST = re.compile(r"(?:sha256:)?([0-9a-f]{64})")


def _digest(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--digest`` as the 64 lower-case hex digits the run printed; ``sha256:`` and upper
    case mean the same digest, and anything else is a typo, not a changed bundle."""
    if value is None:
        return None
    match = _DIGEST.fullmatch(value.strip().lower())
    if match is None:
        raise click.BadParameter(
            f"{value!r} is not a digest: give the 64 hexadecimal digits certify printed "
            "after 'digest:' (a 'sha256:' prefix is fine)"
        )
    return match.group(1)


def _cases(values: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """``--case CERT-SCH-01`` or ``CERT-SCH-01@600`` (the id as results print it, which
    also runs procedure 600): the case ids and the procedures they name."""
    ids: list[str] = []
    procedures: list[str] = []
    for value in values:
        case, at, procedure = (part.strip() for part in value.strip().partition("@"))
        if not case:  # "@600" or "": half an id is a typo, not every case
            raise click.BadParameter(f"{value!r} names no case", param_hint="--case")
        if at and not procedure:  # "CERT-SCH-01@": not "every procedure"
            raise click.BadParameter(
                f"{value!r} names no procedure after '@': give one (e.g. {case}@600) "
                "or leave '@' out",
                param_hint="--case",
            )
        case = case.upper()  # ids are upper case (CERT-SCH-01): 'cert-sch-01@600' means it
        ids += [case] if case not in ids else []
        procedures += [procedure] if procedure and procedure not in procedures else []
    return ids, procedures


@click.group("certify", invoke_without_command=True)
@click.option(
    "--adapter",
    help="Required (certify verify aside): reference | faulty:<name> | "
    "python:<entry point> | http(s)://hook | manual | "
    'a command template such as "vendor-cli submit {dossier}".',
)
@click.option(
    "--adapter-option",
    "adapter_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Command adapters: tick=, recover=, restart= templates; timeout= seconds "
    "(HTTP hooks: timeout= only; other adapters take none).",
)
@click.option(
    "--procedures",
    help="Comma-separated procedure codes (default: all in the catalog, or those --case names).",
)
@click.option("--gateway", "gateway_url", help="A running gateway's URL (default: start one).")
@click.option(
    "--case",
    "cases",
    multiple=True,
    help="Run only this case (repeatable); CERT-SCH-01@600 also runs procedure 600.",
)
@click.option("--catalog", "catalog_version", help="Catalog version (default: latest).")
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of every dossier the cases build."
)
@click.option(
    "--client-timeout",
    type=SECONDS,
    help="Seconds the I-VAN waits for an answer (more than 0; default: the suite's "
    "client_timeout in scenarios/certification/cases.yaml).",
)
@click.option(
    "--ivan",
    type=CODE,
    default=DEFAULT_IVAN_CODE,
    show_default=True,
    help="I-VAN code at --gateway.",
)
@click.option(
    "--ivan-token", type=TOKEN, help="Its bearer token at --gateway (default: the test token)."
)
@click.option(
    "--admin-token", type=TOKEN, help="The admin token at --gateway (default: the test token)."
)
@click.option("--insecure", is_flag=True, help="Do not verify an https:// gateway's certificate.")
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False),
    help="CA bundle that signed the https:// gateway's certificate (PEM); the reference "
    "I-VAN and command adapters get it too (BHXH_CA_BUNDLE).",
)
@click.option("--out", type=NAME, metavar="FOLDER", help="Report parent (default: reports/).")
@click.option(
    "--progress/--no-progress",
    default=True,
    help="Progress bar on stderr, when it is a terminal (off for manual).",
)
@click.pass_context
def certify(
    ctx: click.Context,
    adapter: str | None,
    adapter_options: tuple[str, ...],
    procedures: str | None,
    gateway_url: str | None,
    cases: tuple[str, ...],
    catalog_version: str | None,
    seed: int,
    client_timeout: float | None,
    ivan: str,
    ivan_token: str | None,
    admin_token: str | None,
    insecure: bool,
    ca_bundle: str | None,
    out: str | None,
    progress: bool,
) -> None:
    """Certify an I-VAN against the mock gateway; writes reports/<run-id>/.

    \b
    Exit codes: 0 PASSED (every case ran and passed), 1 FAILED or ERROR,
    2 a usage problem (nothing ran), or the manual operator's input ended, 3 INCOMPLETE
    (what ran passed, but a case was skipped: the adapter lacks an operation, or the
    gateway has no fault injection), or the gateway stopped answering during the run.
    A run stopped halfway reports the cases that finished, the others as skipped.
    A run narrowed by --case or --procedures is reported as a partial run (results.json
    "scope": "partial", with what it left out): its verdict certifies nothing. A case
    the catalog gives nothing to exercise in a procedure (CERT-RES-01 where no result rule
    applies) is left out there and listed as "not applicable", not skipped.
    """
    if ctx.invoked_subcommand is not None:
        return
    if not adapter:
        raise click.UsageError("--adapter is required", ctx)
    from harness.certification.adapters import resolve_adapter
    from harness.certification.runner import run_certification
    from harness.certification.verdict import (
        EXIT_CODES,
        INCOMPLETE,
        NOT_APPLICABLE_KEY,
        SCOPE_KEY,
        certification_verdict,
    )
    from harness.reporting import bundle_digest

    # a CI log keeps whole lines; markup off: case messages hold the adapter's stderr and
    # code hints ("[main] ERROR", "return [Relay(...)]"), which must print as written
    console = Console(highlight=False, soft_wrap=True, markup=False)
    tokens = {"ivan": ivan}
    tokens |= {"token": ivan_token} if ivan_token else {}
    tokens |= {"admin_token": admin_token} if admin_token else {}
    wanted = _procedures(procedures)
    case_ids, implied = _cases(cases)
    if implied:
        wanted = [*(wanted or []), *(p for p in implied if p not in (wanted or []))]
    with exits_on_errors():
        verify_tls = verify_option(insecure, str(Path(ca_bundle).resolve()) if ca_bundle else None)
        chosen = resolve_adapter(adapter, _options(adapter_options))
        show = progress and chosen.name != "manual"
        bar = _Bar() if show else None
        folder = _Folder(bar)
        try:  # the bar is gone before the error (or the verdict) is printed
            with bar if bar is not None else contextlib.nullcontext():
                bundle = run_certification(
                    chosen,
                    procedures=wanted,
                    gateway_url=gateway_url,
                    catalog=catalog_version,
                    seed=seed,
                    cases=case_ids or None,
                    out=Path(out) if out is not None else None,
                    settings={"client_timeout": client_timeout}
                    if client_timeout is not None
                    else None,
                    listener=folder,
                    tokens=tokens,
                    verify_tls=verify_tls,
                )
        except HarnessError:  # the error itself is printed next
            folder.say_partial(console)
            raise
    _say_cases(console, bundle)
    if "catalog check" in bundle.info.meta:  # a gateway that does not list its catalogs
        console.print(f"note: {bundle.info.meta['catalog check']}")
    summary = bundle.summary()
    verdict = certification_verdict(bundle)
    counts = (
        f" ({summary['passed']} passed, {summary['failed']} failed, {summary['error']} errors, "
        f"{summary['skipped']} skipped)"
    )
    partial = bundle.info.meta.get(SCOPE_KEY)
    counts += " — PARTIAL RUN, not a certification" if partial else ""
    console.print(Text.assemble("verdict: ", (verdict.upper(), "bold"), counts))
    console.print(f"report: {bundle.directory / 'index.html'}")
    left = bundle.info.meta.get(NOT_APPLICABLE_KEY)
    if left:  # cases the catalog gives nothing to exercise in some procedure
        console.print(f"{NOT_APPLICABLE_KEY} (left out, not skipped): {left}")
    if partial:  # a developer's narrowed run: not an I-VAN's certification
        console.print(f"{SCOPE_KEY}: {partial}")
        console.print(
            f"digest: {bundle_digest(bundle.directory)} (of this partial run: not a "
            "certification to publish; run every case and procedure for that)"
        )
    else:
        console.print(
            f"digest: {bundle_digest(bundle.directory)} (publish it; `certify verify "
            "--digest` checks a copy against it)"
        )
    if verdict == INCOMPLETE:
        console.print(
            "not certified: the skipped cases above did not run; give the adapter what they "
            "need (or a gateway with fault injection) and run again"
        )
    sys.exit(EXIT_CODES.get(verdict, 1))


def _say_cases(console: Console, bundle: ReportBundle) -> None:
    """Each case that did not pass, its outcome coloured and its text as written."""
    colours = {"failed": "red", "error": "red", "skipped": "yellow"}
    for case in bundle.cases:
        colour = colours.get(case.outcome.value)
        if colour is None:
            continue
        word = (case.outcome.value.upper(), colour)
        console.print(Text.assemble(word, f" {case.case_id}: {case.message}"))
        if colour == "red":
            console.print(f"    requirement: {case.requirement}\n    reproduce: {case.reproduce}")


class _Folder:
    """Passes the run's events on to the progress bar (if shown) and keeps the run's folder,
    so a run an error stopped can say where its partial report is."""

    def __init__(self, bar: _Bar | None) -> None:
        self.bar: _Bar | None = bar
        self.directory: Path | None = None

    def __call__(self, event: object) -> None:
        from harness.certification.progress import RunStarted

        if isinstance(event, RunStarted):
            self.directory = event.directory
        if self.bar is not None:
            self.bar(event)

    def say_partial(self, console: Console) -> None:
        if self.directory is not None and (self.directory / "results.json").is_file():
            console.print(f"partial report (stopped): {self.directory / 'index.html'}")


class _Bar:
    """A rich progress bar fed by the runner's events, on stderr so stdout holds only the
    verdict, and only on a terminal (as fuzz's): a log would keep its last frame. It shows
    from the first scenario on, so no usage error is printed under a bar at 0."""

    def __init__(self) -> None:
        console = Console(stderr=True, highlight=False)
        self.progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: object) -> None:
        from harness.certification.progress import CaseFinished, RunStarted, ScenarioStarted

        if isinstance(event, RunStarted):
            self.task = self.progress.add_task("starting", total=event.total)
        elif self.task is None:
            return
        elif isinstance(event, ScenarioStarted):  # the adapter and gateway passed every check
            what = f"{event.scenario} · {event.procedure}"
            self.progress.update(self.task, description=what)
            self.progress.start()  # shown from now on (again: a no-op)
        elif isinstance(event, CaseFinished):
            self.progress.advance(self.task)


@certify.command("verify")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--digest",
    metavar="HEX",
    callback=_digest,
    help="The digest published when the run ended (its terminal prints it): without it, "
    "whoever edits a file can rewrite MANIFEST.json too, so only accidents are caught.",
)
def verify(bundle: Path, digest: str | None) -> None:
    """Check a report bundle against its digest (MANIFEST.json); exit 1 if it changed."""
    from harness.reporting import bundle_digest, verify_bundle

    try:
        problems = verify_bundle(bundle, digest=digest)
        recorded = bundle_digest(bundle)
    except UsageError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} problem(s)")
        sys.exit(1)
    against = "the published digest" if digest else "its own manifest (pass --digest HEX)"
    click.echo(f"bundle intact against {against}: digest {recorded}")


__all__ = ["certify"]
