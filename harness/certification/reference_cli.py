"""The reference I-VAN as a command: what a vendor's command-template adapter looks like.

``bhxh-harness certify --adapter "python -m harness.certification.reference_cli submit
{dossier} --now {now}" --adapter-option tick="... tick --now {now}" --adapter-option
recover="... recover {ma_gdich}"`` certifies it exactly like ``--adapter reference``: every
invocation is a fresh process that reads its context from the ``BHXH_*`` variables the
adapter sets, works from the state it keeps on disk, and prints relays as JSON lines.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from harness.certification.model import AdapterContext, Job
from harness.certification.reference import ReferenceIvan
from harness.tls import verify_option


def context_from_env() -> AdapterContext:
    """The adapter context from ``BHXH_GATEWAY``, ``BHXH_TOKEN``, ``BHXH_WORKDIR``, ..."""
    env = os.environ
    try:
        return AdapterContext(
            gateway_url=env["BHXH_GATEWAY"],
            ivan=env["BHXH_IVAN"],
            ivan_name=env.get("BHXH_IVAN_NAME", env["BHXH_IVAN"]),
            token=env["BHXH_TOKEN"],
            workdir=Path(env["BHXH_WORKDIR"]),
            pki_dir=Path(env["BHXH_PKI"]),
            catalog_version=env.get("BHXH_CATALOG", ""),
            client_timeout=float(env.get("BHXH_TIMEOUT", "30")),
            seed=int(env.get("BHXH_SEED", "0")),
            verify_tls=verify_option(bool(env.get("BHXH_INSECURE")), env.get("BHXH_CA_BUNDLE")),
        )
    except KeyError as exc:
        raise click.UsageError(f"${exc.args[0]} is not set: run me as a command adapter") from exc


def _ivan() -> ReferenceIvan:
    ivan = ReferenceIvan()
    ivan.start(context_from_env())
    return ivan


def _print(lines: list[dict[str, str]]) -> None:
    for line in lines:
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")


@click.group()
def main() -> None:
    """The reference I-VAN, one operation per call (state kept in $BHXH_WORKDIR)."""


@main.command()
@click.argument("dossier", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--now", required=True, help="Simulated time (ISO 8601).")
def submit(dossier: Path, now: str) -> None:
    """Take the employer's job (job.json) and forward it."""
    ivan = _ivan()
    job = Job.from_json(json.loads(dossier.read_text(encoding="utf-8")))
    _print([r.to_json() for r in ivan.submit(job, datetime.fromisoformat(now))])
    ivan.stop()


@main.command()
@click.option("--now", required=True, help="Simulated time (ISO 8601).")
def tick(now: str) -> None:
    """Forward what is due, read the feed, relay and acknowledge."""
    ivan = _ivan()
    _print([r.to_json() for r in ivan.tick(datetime.fromisoformat(now))])
    ivan.stop()


@main.command()
@click.argument("ma_gdich")
def recover(ma_gdich: str) -> None:
    """Print every stored message of a dossier as base64."""
    ivan = _ivan()
    _print([{"content_b64": base64.b64encode(m).decode()} for m in ivan.recover(ma_gdich)])
    ivan.stop()


if __name__ == "__main__":
    main()
