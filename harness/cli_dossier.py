"""``bhxh-harness dossier``: build, check and list signed dossiers from the catalog.

Loaded only when the command is named (see ``harness.cli``); the factory, signing and the
gateway's checks load when a subcommand runs, not for ``--help``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.cli import friendly
from harness.cli_exits import delivered
from harness.cli_types import CODE, NAME, OUTPUT_FILE
from harness.errors import Finding, UsageError
from harness.identities import DEFAULT_IVAN_CODE

if TYPE_CHECKING:  # imported lazily at run time: --help stays fast
    from harness.conformance import CheckResult


@click.group()
def dossier() -> None:
    """Build signed dossiers (valid, or with a named defect) from the catalog."""


BUILD_EXIT_CODES = (
    "Exit codes: 0 the dossier was written, 1 it went to stdout and the reader left before "
    "reading all of it, 2 usage error (e.g. an unknown procedure, defect or catalog "
    "version, an --ivan or --period the envelope schema does not allow, an --output that "
    "cannot be written, a damaged test PKI)."
)


@dossier.command("build", epilog=BUILD_EXIT_CODES)
@click.argument("procedure")
@click.option(
    "--catalog",
    "version",
    type=NAME,
    help="Catalog version (default: the newest folder on disk, in effect yet or not).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the generated people, places and figures (same seed, same content; the "
    "signatures carry the time of signing, so the bytes differ).",
)
@click.option("--defect", type=CODE, help="A named defect from fixtures/dossiers/defects.yaml.")
@click.option("-o", "--output", type=OUTPUT_FILE, help="File to write (default, or -: stdout).")
@click.option(
    "--ivan",
    default=DEFAULT_IVAN_CODE,
    show_default=True,
    type=CODE,
    help="I-VAN code the envelope names (MaIVAN): the gateway refuses a dossier submitted "
    "with another I-VAN's token (ENV-010).",
)
@click.option(
    "--period",
    type=NAME,
    help="Declared period, MM/yyyy or yyyy-MM (default: the first the catalog version and "
    "the procedure are both in effect); refused when another catalog version governs it, "
    "the procedure is not in force then, the envelope schema cannot carry it, or --defect "
    "declares a period of its own.",
)
@click.option(
    "--form-version",
    "form_versions",
    multiple=True,
    type=NAME,
    help="FORM=VERSION: build that form in an older version the catalog still accepts, "
    "e.g. D02-TS=505 (repeatable; default: each form's current version).",
)
@friendly
def dossier_build(
    procedure: str,
    version: str | None,
    seed: int,
    defect: str | None,
    output: Path | None,
    ivan: str,
    period: str | None,
    form_versions: tuple[str, ...],
) -> None:
    """Build one signed dossier envelope for PROCEDURE."""
    from harness.conformance import factory_for_ivan
    from harness.dossiers import choices
    from harness.dossiers.defects import build_defective
    from harness.dossiers.factory import DossierFactory

    factory = DossierFactory.for_version(version)
    factory = factory_for_ivan(factory, ivan, factory.pki.trust_store())
    proc = factory.procedure(procedure)
    forms = choices.chosen_form_versions(form_versions, factory.catalog, proc)
    when = (
        None
        if period is None
        else choices.chosen_period(period, factory.catalog, proc, choices.loadable_versions())
    )
    built = (
        build_defective(factory, proc.code, defect, seed, period=when, form_versions=forms)
        if defect
        else factory.build(proc.code, seed, period=when, form_versions=forms)
    )
    if when is not None:  # what "gateway must answer" promises must hold for this period
        choices.check_period_kept(built, when)
        choices.check_period_carried(factory, proc.code, when, forms)
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(built.envelope)
        delivered("the dossier")
    else:
        try:
            output.write_bytes(built.envelope)
        except OSError as exc:  # failed once open (/proc/version): the message names no file
            if exc.filename is not None:
                raise
            raise OSError(exc.errno, exc.strerror, str(output)) from None
        expect = ", ".join(built.expected_codes) or "accepted"
        if built.result_codes:
            expect += f", its 03/TB-TS listing {', '.join(built.result_codes)}"
        click.echo(f"wrote {output} ({len(built.envelope)} bytes; gateway must answer: {expect})")


def _dossier_files(paths: tuple[Path, ...]) -> list[Path]:
    """The paths named, a folder standing for every ``.xml`` file below it (any case)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix.lower() == ".xml" and not p.is_dir()
            )
            if not found:
                raise UsageError(f"no .xml file in folder {path}", hint="name the files to check")
            files += found
        else:
            files.append(path)
    return files


DOSSIER_CHECK_EXIT_CODES = (
    "An accepted file's `defect` lines are rows its 03/TB-TS will list as defective (the "
    "catalog's result rules): they do not make it rejected.\n\n"
    "Exit codes: 0 every file accepted, 1 a file rejected (not XML included), unreadable or "
    "missing (each said on stdout; the others are still checked), 2 usage error (e.g. an "
    "unknown catalog version, a folder holding no .xml file)."
)


@dossier.command("check", epilog=DOSSIER_CHECK_EXIT_CODES)
@click.argument("files", nargs=-1, required=True, type=NAME)  # '' is not the current folder
@click.option(
    "--catalog",
    "versions",
    multiple=True,
    type=NAME,
    help="Catalog version served, as for serve (repeatable; default: every version on disk, "
    "and the period a dossier declares picks one, as the gateway does).",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "vi"]),
    default="en",
    show_default=True,
    help="Language of the findings (the gateway's answers carry both).",
)
@friendly
def dossier_check(files: tuple[str, ...], versions: tuple[str, ...], lang: str) -> None:
    """Check dossier files (a folder: every .xml below it) as the gateway would; exits 1 if
    any is rejected, unreadable or missing."""
    from harness.served_catalogs import ServedCatalogs, ServedCheck
    from harness.signing import ensure_pki
    from harness.xmlsafe import XMLLimits

    checker = ServedCheck(ServedCatalogs(versions), ensure_pki().trust_store())
    cap = XMLLimits().max_bytes
    rejected = 0
    paths = _dossier_files(tuple(Path(f) for f in files))
    for path in paths:
        if path.exists() and not path.is_file():  # opening a named pipe waits for a writer
            click.echo(f"{path}: unreadable: not a regular file (a pipe, device or socket)")
            rejected += 1
            continue
        try:
            with path.open("rb") as handle:  # a 5 GB file: read past the cap only
                body = handle.read(cap + 1)
        except OSError as exc:
            click.echo(f"{path}: unreadable: {exc.strerror or exc}")
            rejected += 1
            continue
        if len(body) > cap:
            click.echo(f"{path}: rejected")
            click.echo(f"  error   LIM-001 /: more than {cap:,} bytes, the gateway's limit")
            rejected += 1
            continue
        catalog, result = checker.check(body)
        click.echo(f"{path}: {_verdict(result, catalog.version)}")
        for f in result.findings:
            click.echo(_finding_line(f.severity, f, lang))
        for f in result.defects:  # the 03/TB-TS's defective rows: not a refusal
            click.echo(_finding_line("defect", f, lang))
        rejected += not result.accepted
    if len(paths) > 1:
        click.echo(f"{len(paths)} files: {len(paths) - rejected} accepted, {rejected} rejected")
    if rejected:
        sys.exit(1)


def _finding_line(label: str, found: Finding, lang: str) -> str:
    """One finding under its file: ``label`` is its severity, or ``defect`` for a row the
    dossier's 03/TB-TS will list (the catalog's result rules; the gateway accepts it)."""
    message = found.message_vi if lang == "vi" else found.message_en
    detail = f" [{found.detail}]" if found.detail else ""
    return f"  {label:7} {found.code} {found.xpath}: {message}{detail}"


def _verdict(result: CheckResult, version: str) -> str:
    """What a file's first line says: a catalog only for a dossier that was read as XML (the
    version a file nobody could parse was "checked against" is the default, not its own)."""
    if result.stage == "parse":
        return "rejected (could not be read as a dossier; no catalog applies)"
    return f"{'accepted' if result.accepted else 'rejected'} (catalog {version})"


CORPUS_EXIT_CODES = (
    "Exit codes: 0 the corpus was written, 2 usage error, nothing written (e.g. a folder "
    "that holds other files than an earlier corpus, an unknown catalog version)."
)


@dossier.command("corpus", epilog=CORPUS_EXIT_CODES)
@click.option(
    "-o",
    "--out",
    type=NAME,  # a path, but '' would be the current folder
    required=True,
    help="Folder to write.",
)
@click.option("--catalog", "version", type=NAME, help="Catalog version (default: latest).")
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Valid dossiers per procedure (seeds 0 to N-1); the default is the corpus "
    "`record` replays by default.",
)
@friendly
def dossier_corpus(out: str, version: str | None, seeds: int) -> None:
    """Write the replay corpus: valid and defective dossiers, the valid ones again in each
    real-world quirk (NFD names, ISO dates, GUID signature ids), and the static hostile
    files."""
    from itertools import chain

    from harness.dossiers.corpus import generated_corpus, static_corpus, write_corpus
    from harness.dossiers.factory import DossierFactory
    from harness.regression.corpus import quirk_corpus

    factory = DossierFactory.for_version(version)
    quirks = quirk_corpus(factory, range(seeds), factory.catalog.procedures)
    entries = list(chain(generated_corpus(factory, range(seeds)), quirks, static_corpus()))
    manifest = write_corpus(entries, Path(out))
    click.echo(f"wrote {len(entries)} dossiers and {manifest}")


DEFECTS_EXIT_CODES = (
    "Exit codes: 0 listed, 2 usage error (fixtures/dossiers/defects.yaml cannot be read "
    "or names an unknown operation, or the --catalog version is unknown or does not load; "
    "file and line on stderr)."
)


@dossier.command("defects", epilog=DEFECTS_EXIT_CODES)
@click.option(
    "--catalog",
    "version",
    type=NAME,
    help="Catalog version whose procedures are listed (default: latest).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print {name: {op, expect}} as JSON instead: every defect, whatever the catalog "
    "(a --catalog given must still be a known version).",
)
@friendly
def dossier_defects(version: str | None, as_json: bool) -> None:
    """List the named defects: the operation, the codes each must cause and the procedures
    of the catalog it applies to (`dossier build PROCEDURE --defect NAME`)."""
    from rich.console import Console
    from rich.table import Table

    from harness.catalog import load_catalog
    from harness.dossiers.defect_targets import applies_in
    from harness.dossiers.defects import load_defects

    defects = load_defects()
    if as_json and version is not None:  # a mistyped version must not pass unnoticed
        load_catalog(version)
    if as_json:  # the shape scripts read: keep it
        rows = {name: {"op": d.op, "expect": list(d.codes)} for name, d in defects.items()}
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    catalog = load_catalog(version)
    table = Table(title=f"named defects and where they apply: catalog {catalog.version}")
    # a name cut short or wrapped cannot be copied into `dossier build --defect`
    table.add_column("defect", no_wrap=True, overflow="fold")
    table.add_column("op", overflow="fold")
    table.add_column("expect")
    table.add_column("procedures")
    every = len(catalog.procedures)
    for name, d in defects.items():
        codes = [code for code, p in catalog.procedures.items() if applies_in(catalog, p, d)]
        listed = f"all {every}" if len(codes) == every else ", ".join(codes) or "none"
        answer = ", ".join(d.expect) or f"accepted; 03/TB-TS lists {', '.join(d.result)}"
        table.add_row(name, d.op, answer, listed)
    console = Console(highlight=False, markup=False)  # a defect's text prints as written
    if not console.is_terminal:  # piped or redirected: one line a defect, for grep and cut
        console.width = 1000
    console.print(table)
