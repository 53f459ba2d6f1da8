"""``bhxh-harness record`` and ``bhxh-harness regress``: thin click skins over the library.

Both take ``--gateway inproc`` (the mock gateway's core, no socket; ``--release NAME``
simulates a faulty release from ``fixtures/releases``) or a URL with ``--token``, an
optional ``--admin-token`` (to fast-forward the gateway's clock; without it the feed is
polled up to ``--poll-timeout``) and ``--insecure`` / ``--ca-bundle`` for TLS.
Exit codes: 0 no unintended difference, 1 some, 2 usage error (nothing was replayed),
3 the run could not conclude: the gateway became unavailable, or (``record``) lifecycle
messages were still awaited at ``--poll-timeout``.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from harness.cli_exits import exits_on_errors
from harness.cli_types import CODE, FOLDER, NAME, SECONDS, TOKEN
from harness.errors import ConfigError, UsageError
from harness.identities import DEFAULT_IVAN_CODE
from harness.paths import writable_folder
from harness.regression.compare import LatencyThresholds
from harness.regression.transport import MAX_BACKOFF

# The run, its report and rich load when a command runs, not when the CLI lists commands.

F = TypeVar("F", bound=Callable[..., Any])


def _target_options(command: F) -> F:
    """The options that say which gateway to replay against and how to reach it."""
    options = [
        click.option("--gateway", default="inproc", show_default=True, help="'inproc' or a URL."),
        click.option(
            "--token",
            envvar="BHXH_REGRESS_TOKEN",
            show_envvar=True,
            type=TOKEN,
            help="I-VAN bearer token (URL).",
        ),
        click.option(
            "--admin-token",
            envvar="BHXH_REGRESS_ADMIN_TOKEN",
            show_envvar=True,
            type=TOKEN,
            help="Admin token: advance clock.",
        ),
        click.option("--insecure", is_flag=True, help="Do not verify the TLS certificate."),
        click.option("--ca-bundle", type=click.Path(exists=True), help="CA bundle for TLS."),
        click.option(
            "--poll-timeout",
            type=SECONDS,
            default=300.0,
            show_default=True,
            help="Without --admin-token: seconds to wait for every dossier's 02/TB-TS and "
            "03/TB-TS messages (the gateway's clock must bring them by then).",
        ),
        click.option("--release", help="inproc only: simulate this faulty release."),
        click.option(
            "--serve-catalog", "serve", multiple=True, help="inproc only: catalog versions served."
        ),
        click.option(
            "--root",
            type=click.Path(path_type=Path),
            help="Folder holding the baselines (default: fixtures/baselines).",
        ),
        click.option(
            "--max-backoff",
            type=SECONDS,
            default=MAX_BACKOFF,
            show_default=True,
            help="Seconds the whole run may spend backing off from 503s and dropped "
            "connections before it stops (exit 3).",
        ),
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
    from harness.tls import verify_option

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


OUT_HINT = "name with --out a folder you may write to (it is created if need be)"
"""What to do when ``regress --out`` cannot hold the report (refused before any replay)."""

EXIT_CODES = (
    "Exit codes: 0 no unintended difference, 1 some, 2 usage error (nothing replayed; e.g. "
    "a gateway clock too slow for --poll-timeout without --admin-token), 3 the gateway "
    "became unavailable during the run (no verdict), 130/143 stopped by "
    "Ctrl-C/SIGTERM (the report holds what was replayed, marked interrupted)."
)


def _absolute(path: Path | None) -> Path | None:
    """A file option as an absolute path: the report's reproduce line then names the same
    file from any folder it is run in."""
    return None if path is None else path.absolute()


def _progress() -> Callable[[int, int], None]:
    """A line on stderr about every tenth of the corpus: a long run is visibly alive."""
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        step = max(1, total // 10)
        if done % step == 0 or done == total:
            elapsed = time.monotonic() - started
            click.echo(f"replayed {done}/{total} dossiers ({elapsed:.0f} s)", err=True)

    return show


def _neighbour(ivan_tokens: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """``--ivan-token NAME=TOKEN`` as the isolation check's second I-VAN (one at most)."""
    from harness.credentials import token_options

    tokens = token_options(ivan_tokens)
    if len(tokens) > 1:
        raise UsageError(
            f"--ivan-token given for {len(tokens)} I-VANs: the isolation check needs one",
            hint="give --ivan-token once, e.g. --ivan-token IVAN02=<its token>",
        )
    return {"neighbour": next(iter(tokens.items()))} if tokens else {}


def _max_backoff(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"--max-backoff {value}: give a positive number of seconds")
    return value


RECORD_EXIT_CODES = (
    "Exit codes: 0 recorded (warnings included), 2 usage error (nothing replayed; e.g. NAME "
    "exists and --force is not given, --catalog names a version the gateway does not serve, "
    "or a gateway clock too slow for --poll-timeout without --admin-token), 3 could not "
    "conclude: the gateway became unavailable during the run, or lifecycle messages were "
    "still awaited at --poll-timeout (nothing written), 130/143 stopped by Ctrl-C/SIGTERM "
    "(nothing written)."
)


@click.command(epilog=RECORD_EXIT_CODES)
@_target_options
@click.option(
    "--name", required=True, help="Baseline name: its folder under --root (fixtures/baselines)."
)
@click.option("--force", is_flag=True, help="Replace baseline NAME if it already exists.")
@click.option(
    "--catalog",
    "version",
    type=NAME,
    help="Catalog version of the corpus; the gateway must serve it (default: the newest "
    "version the gateway serves that this harness has in fixtures/catalog).",
)
@click.option(
    "--seed", "seeds", type=int, multiple=True, help="Corpus seed, repeatable (default: 0)."
)
@click.option("--procedure", "procedures", multiple=True, help="Only this procedure (repeatable).")
@click.option(
    "--ivan",
    default=DEFAULT_IVAN_CODE,
    show_default=True,
    type=CODE,
    help="I-VAN code the corpus's dossiers name (MaIVAN): the one --token belongs to.",
)
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
    max_backoff: float,
    name: str,
    force: bool,
    version: str | None,
    seeds: tuple[int, ...],
    procedures: tuple[str, ...],
    ivan: str,
) -> None:
    """Replay the corpus against a known-good gateway and store baseline NAME."""
    from rich.console import Console

    from harness.regression.run import record as record_baseline
    from harness.regression.transport import TransportStats

    console = Console(highlight=False, soft_wrap=True, markup=False)  # whole lines, as written
    surprises: list[str] = []
    transport: list[TransportStats] = []
    with exits_on_errors(), _says_nothing_written(name):
        baseline, folder = record_baseline(
            gateway=gateway, catalog=version, name=name, seeds=seeds or (0,),
            procedures=procedures, root=root, on_surprise=surprises.append, ivan=ivan,
            replace=force,
            on_transport=transport.append,
            on_progress=_progress(), max_backoff=_max_backoff(max_backoff),
            **_target_kwargs(token, admin_token, insecure, ca_bundle, poll_timeout, release, serve),
        )  # fmt: skip
    accepted = sum(o["accepted"] for o in baseline.outcomes.values())
    console.print(
        f"baseline {baseline.name}: {len(baseline.outcomes)} dossiers ({accepted} accepted) "
        f"from {baseline.gateway}, catalogs {' '.join(baseline.catalogs) or '?'} -> {folder}"
    )
    if surprises:  # recorded all the same: the baseline is what this gateway answers
        from harness.regression.isolation import is_leak_line

        leaks = sum(map(is_leak_line, surprises))
        found = [
            f"{len(surprises) - leaks} dossier(s) not answered as the corpus expects"
            if len(surprises) > leaks
            else "",
            f"{leaks} leak(s) of another I-VAN's dossier" if leaks else "",
        ]
        console.print(
            f"warning: {' and '.join(f for f in found if f)}; is this gateway known-good?"
        )
        for line in surprises[:10]:
            console.print(f"  {line}")
        if len(surprises) > 10:
            console.print(f"  ... and {len(surprises) - 10} more")


@contextmanager
def _says_nothing_written(name: str) -> Iterator[None]:
    """A stopped record leaves no baseline (half a corpus would read as every other
    dossier missing): say so, and that an earlier baseline of that name is untouched."""
    try:
        yield
    except (Exception, SystemExit, GeneratorExit):
        raise
    except BaseException:  # Ctrl-C, or SIGTERM as the CLI raises it
        click.echo(
            f"\nno baseline written: {name!r} is saved only once every dossier has replayed "
            "(an earlier baseline of that name is untouched)",
            err=True,
        )
        raise


@click.command(epilog=EXIT_CODES)
@_target_options
@click.option("--baseline", "name", required=True, help="Baseline to compare against.")
@click.option(
    "--expectations",
    type=click.Path(path_type=Path),
    callback=lambda _ctx, _param, value: _absolute(value),
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
@click.option(
    "--ivan-token",
    "ivan_tokens",
    multiple=True,
    metavar="NAME=TOKEN",
    help="A URL gateway: a second I-VAN's token, for the isolation check (that I-VAN submits "
    "one dossier per procedure, which --token's I-VAN must not read, find in its feed or "
    "acknowledge); without it the check is not judged. inproc uses the mock's IVAN02.",
)
@click.option("--out", type=FOLDER, help="Parent folder of the report.")
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
    max_backoff: float,
    name: str,
    expectations: Path | None,
    p50_ratio: float,
    p95_ratio: float,
    min_delta_ms: float,
    ivan_tokens: tuple[str, ...],
    out: Path | None,
) -> None:
    """Replay baseline NAME's corpus against a candidate gateway and report differences.

    A catalog version the candidate serves that is newer than the baseline's is exercised
    too: its valid dossiers (one per procedure and form version) must be accepted, its
    defective ones refused with their defects' codes. Latency is judged only when the
    baseline was recorded the way the candidate is reached (inproc, or a URL). The report
    (JUnit, JSON, HTML) is written under --out (default reports/).
    """
    from rich.console import Console

    from harness.regression.report import report_bundle, summary_lines
    from harness.regression.result import RegressionResult
    from harness.regression.run import regress as run_regress
    from harness.reporting import ReportBundle
    from harness.reporting.command_line import command_line

    console = Console(highlight=False, soft_wrap=True, markup=False)  # whole lines, as written
    secrets = ("token", "admin_token", "ivan_tokens")
    command = command_line(click.get_current_context(), secrets=secrets)
    stopped: list[ReportBundle] = []  # held here: the CLI writes it on its way out

    def on_interrupted(partial: RegressionResult) -> None:
        """Begin the stopped run's report, so it is written marked interrupted."""
        console.print(
            f"regression: STOPPED: {len(partial.unintended)} unintended difference(s) in the "
            f"{len(partial.corpus)} dossiers replayed so far"
        )
        stopped.append(report_bundle(partial, out, reproduce=command).begin())

    with exits_on_errors():
        thresholds = LatencyThresholds(p50_ratio, p95_ratio, min_delta_ms)  # others: defaults
        target = _target_kwargs(
            token, admin_token, insecure, ca_bundle, poll_timeout, release, serve
        )
        target.update(_neighbour(ivan_tokens))
        if out is not None:  # only checked: the report creates it, a refused run leaves none
            writable_folder(out, "the report", hint=OUT_HINT, create=False)
        result = run_regress(
            baseline=name, gateway=gateway, expectations=expectations, thresholds=thresholds,
            root=root, on_progress=_progress(), max_backoff=_max_backoff(max_backoff),
            on_interrupted=on_interrupted, **target,
        )  # fmt: skip
    folder = report_bundle(result, out, reproduce=command).write()
    console.print(
        f"regression: {'PASSED' if result.ok else 'FAILED'}: {len(result.unintended)} "
        f"unintended, {len(result.intended)} intended difference(s) in {len(result.corpus)} "
        f"dossiers against {result.target} ({result.run.elapsed:.1f} s)"
    )
    for line in summary_lines(result):
        console.print(f"  {line}")
    console.print(f"report: {folder / 'index.html'}")
    sys.exit(0 if result.ok else 1)


__all__ = ["record", "regress"]
