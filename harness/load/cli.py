"""``bhxh-harness load``: a thin click skin over :func:`harness.load.run_load`.

Exit codes: 0 every service level judged was met, 1 a judged level missed, 2 a usage
problem (bad option, unknown shape, unreadable service-level file), 3 no conclusion (no
level could be judged: INCOMPLETE; or the run itself broke: ERROR),
130/143 interrupted by Ctrl-C/SIGTERM (no verdict). The lead mounts :data:`load` in the
``bhxh-harness`` group.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from harness.cli_types import NAME, FiniteFloat
from harness.errors import ConfigError, UsageError

EXIT_PASSED, EXIT_MISSED, EXIT_USAGE, EXIT_ERROR = 0, 1, 2, 3

_EPILOG = (
    "Exit codes: 0 every service level judged was met; 1 a judged level missed (verdict "
    "FAILED); 2 a usage error (nothing started); 3 no conclusion: no level could be "
    "judged (verdict INCOMPLETE) or the run itself broke (verdict ERROR: no judgement of "
    "the gateway); 130/143 interrupted by Ctrl-C/SIGTERM (no verdict)."
)


class _DataHelp(click.Option):
    """An option whose help is written from fixtures/load/ when --help shows it, so the
    text follows the data (and a broken file does not break importing the CLI)."""

    def __init__(self, *args: Any, help_from: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help_from = help_from

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        try:
            self.help = self.help_from()
        except UsageError as exc:
            self.help = f"(fixtures/load/ cannot be read: {str(exc).splitlines()[0]})"
        return super().get_help_record(ctx)


def _shape_help() -> str:
    from harness.load.profile import load_profile

    return f"Traffic shape in fixtures/load/shapes.yaml: {', '.join(load_profile().shapes)}."


def _scale_help() -> str:
    from harness.load.profile import load_profile

    base = load_profile().base
    return (
        f"× the national load: 1 = {base.dossiers_per_day:,.0f} dossiers/day over "
        f"{base.filing_hours_per_day:g} filing hours, i.e. {base.rate:.2f} dossiers/s "
        "times the shape's multiple at each moment."
    )


@click.command("load", epilog=_EPILOG)
@click.option("--gateway", default="local", show_default=True, help="URL, or 'local' to start one.")
@click.option(
    "--shape", cls=_DataHelp, help_from=_shape_help, default="month-end", show_default=True
)
@click.option(
    "--scale",
    cls=_DataHelp,
    help_from=_scale_help,
    default=1.0,
    show_default=True,
    type=FiniteFloat(must="above 0; 1 = the national load"),
)
@click.option("--duration", default=60.0, show_default=True, type=float, help="Seconds.")
@click.option(
    "--workers", default=0, show_default=True, type=int, help="Locust workers (0: one process)."
)
@click.option(
    "--model",
    default="open",
    show_default=True,
    type=click.Choice(["open", "closed"]),
    help="open: each arrival is sent at its scheduled time, however slowly the gateway "
    "answers the earlier ones (up to models.open.max_in_flight dossiers in flight per user; "
    "the report counts any arrival beyond it as not sent); closed: each user waits for its "
    "answer, then thinks.",
)
@click.option(
    "--mix",
    default=None,
    help="Procedure mix named in fixtures/load/mixes.yaml (default: the shape's).",
)
@click.option(
    "--service-levels",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Service-level YAML (default fixtures/load/service-levels.yaml).",
)
@click.option(
    "--clock-speed",
    type=float,
    default=None,
    help="Gateway simulated s per real s (default: what a gateway URL reports in /healthz, "
    "else 1; 900 for a local one).",
)
@click.option(
    "--ivan-token",
    "ivan_tokens",
    multiple=True,
    metavar="NAME=TOKEN",
    help="I-VAN code and its bearer token (repeatable; default: the test tokens); with "
    "--gateway local, the gateway is started knowing exactly these.",
)
@click.option(
    "--catalog",
    "catalog_version",
    default=None,
    type=NAME,
    help="Catalog version of the dossiers.  [default: the latest]",
)
@click.option(
    "--fault-latency",
    default=0.0,
    show_default=True,
    type=float,
    help="Local gateway: add seconds per answer.",
)
@click.option(
    "--gateway-workers",
    default=1,
    show_default=True,
    type=int,
    help="Local gateway: worker processes.",
)
@click.option("--pool-size", default=8, show_default=True, type=int, help="Dossiers per procedure.")
@click.option(
    "--seed", default=1, show_default=True, type=int, help="Seed of the dossier pools and arrivals."
)
@click.option(
    "--out",
    type=NAME,
    metavar="FOLDER",
    default=None,
    help="Parent folder of the report (default: reports/).",
)
@click.option(
    "--remote-workers",
    default=0,
    show_default=True,
    type=int,
    help="Workers joining from other machines (needs --master-port and --master-bind).",
)
@click.option(
    "--master-bind",
    default="127.0.0.1",
    show_default=True,
    help="Master's interface (with --workers or --remote-workers only).",
)
@click.option(
    "--master-port",
    default=0,
    show_default=True,
    type=int,
    help="Master's port: 0 = any free port (remote workers need a fixed one; with "
    "--workers or --remote-workers only).",
)
@click.option("--insecure", is_flag=True, help="Do not verify the gateway's TLS certificate.")
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CA bundle that signed the gateway's TLS certificate (PEM).",
)
def load(ivan_tokens: tuple[str, ...], **options: Any) -> None:
    """Deadline load test with locust against a gateway; writes reports/<run-id>/."""
    from harness.load.lifetime import Interrupted, sigterm_interrupts
    from harness.load.runner import run_load
    from harness.load.settings import token_options

    def say(line: str) -> None:
        click.echo(line, err=True)

    try:
        with sigterm_interrupts():
            _known_names(options["shape"], options["mix"])
            tokens = token_options(ivan_tokens) or None
            options["out"] = Path(options["out"]) if options["out"] is not None else None
            result = run_load(ivan_tokens=tokens, notify=say, **options)
    except UsageError as exc:
        _refuse(exc)
    except Interrupted as exc:
        if exc.directory is not None:
            say(
                f"interrupted: no verdict written; the report in {exc.directory} is marked "
                "interrupted and holds the partial statistics and figures of what ran"
            )
            for line in exc.figures:
                say(line)
        else:
            say("interrupted: no verdict written; nothing was measured yet")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:  # before the run started
        say("interrupted: no verdict written; nothing was measured yet")
        sys.exit(130)
    click.echo(result.summary())
    verdict = result.verdict
    sys.exit({"PASSED": EXIT_PASSED, "FAILED": EXIT_MISSED}.get(verdict, EXIT_ERROR))


def _known_names(shape: str, mix: str | None) -> None:
    """A shape or mix fixtures/load/ does not name, refused with the closest one."""
    from harness.load.profile import load_profile
    from harness.suggestions import did_you_mean

    profile = load_profile()
    named = (("shape", "shapes", shape, profile.shapes), ("mix", "mixes", mix, profile.mixes))
    for kind, kinds, name, known in named:
        if name is not None and name not in known:
            raise ConfigError(
                f"unknown {kind} {name!r}",
                hint=f"{did_you_mean(name, known)}known {kinds}: {', '.join(known)}",
            )


_HINT = "bhxh-harness load --help lists every option with its default"


def _refuse(exc: UsageError) -> NoReturn:
    """A usage error in one line and a hint, as README promises: the few library errors
    that carry none (a master port in use) get the pointer to --help."""
    click.echo(f"error: {exc}", err=True)
    if "\nHint: " not in f"\n{exc}":
        click.echo(f"Hint: {_HINT}", err=True)
    sys.exit(EXIT_USAGE)


__all__ = ["load"]
