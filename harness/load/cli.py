"""``bhxh-harness load``: a thin click skin over :func:`harness.load.run_load`.

Exit codes: 0 every service level met, 1 a level missed (or the run broke), 2 a usage
problem (bad option, unknown shape, unreadable service-level file). The lead mounts
:data:`load` in the ``bhxh-harness`` group.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harness.errors import UsageError


@click.command("load")
@click.option("--gateway", default="local", show_default=True, help="URL, or 'local' to start one.")
@click.option(
    "--shape",
    default="month-end",
    show_default=True,
    help="Traffic shape named in fixtures/load/shapes.yaml (steady-day, month-end, ...).",
)
@click.option("--scale", default=1.0, show_default=True, type=float, help="× national load.")
@click.option("--duration", default=60.0, show_default=True, type=float, help="Seconds.")
@click.option(
    "--workers", default=0, show_default=True, type=int, help="Locust workers (0: one process)."
)
@click.option(
    "--model",
    default="open",
    show_default=True,
    type=click.Choice(["open", "closed"]),
    help="open: arrivals keep the shape's rate however slow the gateway; "
    "closed: each user waits for its answer, then thinks.",
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
    help="I-VAN code and bearer token at --gateway URL (repeatable; default: the test tokens).",
)
@click.option("--catalog", "catalog_version", default=None, help="Catalog version of the dossiers.")
@click.option(
    "--fault-latency", default=0.0, type=float, help="Local gateway: add seconds per answer."
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
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Parent folder of the report (default: reports/).",
)
@click.option("--remote-workers", default=0, type=int, help="Workers joining from other machines.")
@click.option("--master-bind", default="127.0.0.1", show_default=True, help="Master's interface.")
@click.option(
    "--master-port", default=0, type=int, help="Master's port (needed for remote workers)."
)
@click.option("--insecure", is_flag=True, help="Do not verify the gateway's TLS certificate.")
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CA bundle that signed the gateway's TLS certificate (PEM).",
)
def load(ivan_tokens: tuple[str, ...], **options: object) -> None:
    """Deadline load test with locust against a gateway; writes reports/<run-id>/."""
    from harness.load.runner import run_load
    from harness.load.settings import parse_tokens

    try:
        tokens = parse_tokens(",".join(ivan_tokens)) or None
        result = run_load(ivan_tokens=tokens, **options)  # type: ignore[arg-type]
    except UsageError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(result.summary())
    sys.exit(0 if result.passed else 1)


__all__ = ["load"]
