"""``bhxh-harness pki``: create or load the test PKI and list its credentials.

Loaded only when the command is named (see ``harness.cli``); signing loads when it runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli import friendly
from harness.cli_types import FOLDER


@click.group()
def pki() -> None:
    """The test PKI: a root CA, an issuing CA and the leaf certificates suites sign with."""


PKI_INIT_EXIT_CODES = (
    "Exit codes: 0 the test PKI was created or loaded (its credentials listed), 2 usage "
    "error (e.g. a --dir that cannot be created or written, a PKI file that is damaged "
    "or does not fit together)."
)


@pki.command("init", epilog=PKI_INIT_EXIT_CODES)
@click.option(
    "--dir",
    "directory",
    type=FOLDER,
    help="Where to keep it (default: $BHXH_HARNESS_PKI, else .cache/pki).",
)
@friendly
def pki_init(directory: Path | None) -> None:
    """Create the test PKI (or load the cached one, checking that its files fit together):
    its folder, then its credentials."""
    from harness.signing import ensure_pki

    made = ensure_pki(directory, recheck=True)  # this command answers for the files now
    click.echo(f"test PKI: {made.directory}")  # the {pki} of the adapter guide
    for name in made.names():
        cert = made.credential(name).certificate
        click.echo(
            f"{name:16} {cert.subject.rfc4514_string()}  until {cert.not_valid_after_utc:%Y-%m-%d}"
        )
