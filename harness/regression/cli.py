"""``bhxh-harness record`` and ``bhxh-harness regress``: thin click skins over the library.

Both take ``--gateway inproc`` (the mock gateway's core, no socket; ``--release NAME``
simulates a faulty release from ``fixtures/releases``) or a URL with ``--token``, an
optional ``--admin-token`` (to fast-forward the gateway's clock; without it the feed is
polled up to ``--poll-timeout``) and ``--insecure`` / ``--ca-bundle`` for TLS.
Exit codes: 0 no unintended difference, 1 some, 2 usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from harness.errors import HarnessError
from harness.regression.compare import Difference, LatencyThresholds
from harness.regression.report import report_bundle
from harness.regression.run import record as record_baseline
from harness.regression.run import regress as run_regress
from harness.reporting.command_line import command_line
from harness.tls import verify_option

F = TypeVar("F", bound=Callable[..., Any])


def _target_options(command: F) -> F:
    """The options that say which gateway to replay against and how to reach it."""
    options = [
        click.option("--gateway", default="inproc", show_default=True, help="'inproc' or a URL."),
        click.option("--token", envvar="BHXH_REGRESS_TOKEN", help="I-VAN bearer token (URL)."),
        click.option(
            "--admin-token", envvar="BHXH_REGRESS_ADMIN_TOKEN", help="Admin token: advance clock."
        ),
        click.option("--insecure", is_flag=True, help="Do not verify the TLS certificate."),
        click.option("--ca-bundle", type=click.Path(exists=True), help="CA bundle for TLS."),
        click.option(
            "--poll-timeout",
            type=float,
            default=300.0,
            show_default=True,
            help="Seconds to wait for every dossier's 02/TB-TS and 03/TB-TS messages.",
        ),
        click.option("--release", help="inproc only: simulate this faulty release."),
        click.option(
            "--serve-catalog", "serve", multiple=True, help="inproc only: catalog versions served."
        ),
        click.option("--root", type=click.Path(path_type=Path), help="Baselines folder."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _target_kwargs(
    token: str | None,
    admin_token: str | None,
    insecure: bool,
    ca_bundle: str | None,
    poll_timeout: float,
    release: str | None,
    serve: tuple[str, ...],
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "token": token,
        "admin_token": admin_token,
        "verify_tls": verify_option(insecure, ca_bundle),
        "release": release,
        "catalogs": serve,
    }
    if poll_timeout != 300.0:
        kwargs["poll_timeout"] = poll_timeout
    return kwargs


@click.command()
@_target_options
@click.option("--name", required=True, help="Baseline name (folder under fixtures/baselines).")
@click.option("--catalog", "version", help="Catalog version of the corpus (default: latest).")
@click.option("--seed", "seeds", type=int, multiple=True, help="Corpus seeds (default: 0).")
@click.option("--procedure", "procedures", multiple=True, help="Only these procedures.")
def record(
    gateway: str,
    token: str | None,
    admin_token: str | None,
    insecure: bool,
    ca_bundle: str | None,
    poll_timeout: float,
    release: str | None,
    serve: tuple[str, ...],
    root: Path | None,
    name: str,
    version: str | None,
    seeds: tuple[int, ...],
    procedures: tuple[str, ...],
) -> None:
    """Replay the corpus against a known-good gateway and store baseline NAME."""
    console = Console(highlight=False, soft_wrap=True)  # a CI log keeps whole lines
    surprises: list[str] = []
    try:
        baseline, folder = record_baseline(
            gateway=gateway, catalog=version, name=name, seeds=seeds or (0,),
            procedures=procedures, root=root, on_surprise=surprises.append,
            **_target_kwargs(token, admin_token, insecure, ca_bundle, poll_timeout, release, serve),
        )  # fmt: skip
    except HarnessError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    accepted = sum(o["accepted"] for o in baseline.outcomes.values())
    console.print(
        f"baseline {baseline.name}: {len(baseline.outcomes)} dossiers ({accepted} accepted) "
        f"from {baseline.gateway}, catalogs {' '.join(baseline.catalogs) or '?'} -> {folder}"
    )
    if surprises:  # recorded all the same: the baseline is what this gateway answers
        console.print(
            f"warning: {len(surprises)} dossier(s) not answered as the corpus expects; "
            "is this gateway known-good?"
        )
        for line in surprises[:10]:
            console.print(f"  {line}")
        if len(surprises) > 10:
            console.print(f"  ... and {len(surprises) - 10} more")


@click.command()
@_target_options
@click.option("--baseline", "name", required=True, help="Baseline to compare against.")
@click.option(
    "--expectations",
    type=click.Path(exists=True, path_type=Path),
    help="YAML of the differences this release intends (they do not fail the run).",
)
@click.option(
    "--p50-ratio",
    type=float,
    default=LatencyThresholds.p50_ratio,
    show_default=True,
    help="Flag a procedure whose median latency grew by this factor over the baseline's "
    "(beyond the whole run's slowdown) and by --min-delta-ms.",
)
@click.option(
    "--p95-ratio",
    type=float,
    default=LatencyThresholds.p95_ratio,
    show_default=True,
    help="Same for p95 latency (judged from 40 samples and 10 ms of growth).",
)
@click.option(
    "--min-delta-ms",
    type=float,
    default=LatencyThresholds.min_delta_ms,
    show_default=True,
    help="Least growth of a median worth flagging (a ratio of tiny times is noise).",
)
@click.option("--out", type=click.Path(path_type=Path), help="Parent folder of the report.")
def regress(
    gateway: str,
    token: str | None,
    admin_token: str | None,
    insecure: bool,
    ca_bundle: str | None,
    poll_timeout: float,
    release: str | None,
    serve: tuple[str, ...],
    root: Path | None,
    name: str,
    expectations: Path | None,
    p50_ratio: float,
    p95_ratio: float,
    min_delta_ms: float,
    out: Path | None,
) -> None:
    """Replay baseline NAME's corpus against a candidate gateway and report differences.

    Exits 0 when every difference is declared in --expectations, 1 otherwise, 2 for a
    usage error. The report (JUnit, JSON, HTML) is written under --out (default reports/).
    """
    console = Console(highlight=False, soft_wrap=True)  # a CI log keeps whole lines
    thresholds = LatencyThresholds(p50_ratio, p95_ratio, min_delta_ms)  # other fields: defaults
    try:
        result = run_regress(
            baseline=name, gateway=gateway, expectations=expectations, thresholds=thresholds,
            root=root,
            **_target_kwargs(token, admin_token, insecure, ca_bundle, poll_timeout, release, serve),
        )  # fmt: skip
    except HarnessError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    command = command_line(click.get_current_context(), secrets=("token", "admin_token"))
    folder = report_bundle(result, out, reproduce=command).write()
    console.print(
        f"regression: {'PASSED' if result.ok else 'FAILED'}: {len(result.unintended)} "
        f"unintended, {len(result.intended)} intended difference(s) in {len(result.corpus)} "
        f"dossiers against {result.target} ({result.run.elapsed:.1f} s)"
    )
    groups: dict[str, list[Difference]] = {}
    for d in result.unintended:
        groups.setdefault(d.kind, []).append(d)
    for kind, found in sorted(groups.items()):
        procedures = ", ".join(dict.fromkeys(d.procedure for d in found))
        console.print(f"  {kind} x{len(found)} in {procedures}; e.g. {_example(found[0])}")
    if result.impact is not None and result.impact.broken:
        broken = sorted({d.dossier for d in result.impact.broken})
        console.print(
            f"  catalog {result.impact.diff.old_version} -> {result.impact.diff.new_version} "
            f"broke unchanged procedures: {', '.join(broken)}"
        )
    for note in result.notes:
        console.print(f"  note: {note}")
    console.print(f"report: {folder / 'index.html'}")
    sys.exit(0 if result.ok else 1)


def _example(d: Difference) -> str:
    """``600/impossible-date MA_LOI: RULE-105 -> RULE-150``: where, what, before and after."""
    where = " ".join(part for part in (d.dossier or d.procedure, d.field) if part)
    change = f"{d.expected or '(none)'} -> {d.actual or '(none)'}"
    return f"{where}: {change}" if d.expected or d.actual else where


__all__ = ["record", "regress"]
