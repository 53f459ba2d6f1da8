"""``bhxh-harness catalog``: list, check and compare the catalog versions on disk.

Loaded only when the command is named (see ``harness.cli``); the catalog package itself, which
loads its loader and schemas on import, is imported when a subcommand runs, not for ``--help``.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.cli import friendly
from harness.cli_types import NAME
from harness.errors import CatalogError, UsageError

if TYPE_CHECKING:  # imported lazily at run time: --help stays fast
    from harness.catalog import Catalog


@click.group()
def catalog() -> None:
    """Inspect, validate and compare catalog versions (fixtures/catalog/<version>)."""


def _versions_on_disk() -> tuple[list[str], dict[str, CatalogError]]:
    """Every catalog version, and the error of each whose ``effective_from`` clashes with
    an older one's: a caller reports it with that version and goes on with the others."""
    from harness.catalog import list_versions
    from harness.catalog.loader import version_names

    try:
        return list_versions(), {}
    except CatalogError as exc:  # two versions' effective_from clash: the later one fails
        if not exc.path:
            raise
        return version_names(), {Path(exc.path).parent.name: exc}


LIST_EXIT_CODES = (
    "Exit codes: 0 every version loaded, 1 a version could not be loaded or its XSDs and "
    "rules do not compile (what to fix on stderr; the others are still listed)."
)


@catalog.command("list", epilog=LIST_EXIT_CODES)
@friendly
def catalog_list() -> None:
    """List catalog versions with their procedures and forms (each one's XSDs and rules
    compiled: a version a gateway could not serve is listed as such)."""
    from harness.catalog import load_catalog, validators_for

    names, unordered = _versions_on_disk()
    broken = 0
    several = False
    for version in names:
        try:
            if version in unordered:
                raise unordered[version]
            cat = load_catalog(version)
            validators_for(cat)
        except UsageError as exc:  # list the others: one broken version hides nothing else
            click.echo(f"{version}  cannot load: {exc}", err=True)
            broken += 1
            continue
        forms = "; ".join(  # TK1-TS 595, 626*: every version accepted, the current one starred
            f"{f.code} " + ", ".join(v.version + "*" * (v is f.current) for v in f.versions)
            if len(f.versions) > 1
            else f"{f.code} {f.current.version}"
            for f in cat.forms.values()
        )
        click.echo(f"{version}  from {cat.effective_from}  procedures: {', '.join(cat.procedures)}")
        click.echo(f"{' ' * len(version)}  forms: {forms}")
        several = several or any(len(f.versions) > 1 for f in cat.forms.values())
    if several:
        click.echo("* the form's current version (what `dossier build` makes); the others listed")
        click.echo("  are still accepted")
    if broken:
        sys.exit(1)


def _compiled(version: str) -> Catalog:
    """Catalog ``version`` with every XSD and rule compiled and every form fillable by the
    factory: what ``catalog check`` starts with and ``catalog diff`` requires (warnings
    printed, on stderr)."""
    from harness.catalog import load_catalog, validators_for
    from harness.dossiers.fillable import check_fillable

    catalog = load_catalog(version)
    validators_for(catalog)
    _warn(version, check_fillable(catalog))
    return catalog


def _warn(version: str, warnings: list[str]) -> None:
    """Print ``catalog check``'s warnings as its errors are printed (``<version>: warning:``
    on stderr); they do not fail the check, and a closed stderr must not either."""
    with contextlib.suppress(OSError):
        for text in warnings:
            click.echo(f"{version}: warning: {text}", err=True)


CHECK_EXIT_CODES = (
    "Exit codes: 0 every version checked passed, 1 a version failed its check (what to fix "
    "on stderr; the other versions are still checked), 2 usage error (e.g. an unknown "
    "version name, an unusable test PKI)."
)


@catalog.command("check", epilog=CHECK_EXIT_CODES)
@click.argument("version", required=False, type=NAME)
@friendly
def catalog_check(version: str | None) -> None:
    """Load a catalog version, compile every XSD and rule file, check that the dossier
    factory can fill every form, then build its valid dossier of every procedure and form
    version, and each named defect that applies, and check them as the gateway would; run
    every fixed value of fields.yaml through the rules (all versions by default).

    Warnings (on stderr, not failing the check) name what a new version adds that nothing
    exercises, and shared data left unjudged because another version does not load."""
    from harness.catalog import load_catalog
    from harness.dossiers.smoke import check_smoke, remember_pass, smoke_builds
    from harness.errors import PKIError
    from harness.signing import TestPKI, ensure_pki

    names, unordered = _versions_on_disk()
    if version is not None and version not in names:
        load_catalog(version)  # "not found" and the known versions: a usage error
    pki: TestPKI | None = None
    broken = 0
    for name in [version] if version else names:
        try:  # check the other versions too, then fail
            if name in unordered:
                raise unordered[name]
            catalog = _compiled(name)
            pki = pki or ensure_pki()  # for the smoke run
            _warn(name, check_smoke(catalog, pki, defects=True))
        except PKIError:  # not the catalog's fault: a usage error (2)
            raise
        except UsageError as exc:  # its message may name the catalog already
            said = str(exc).removeprefix(f"catalog {name}: ")
            click.echo(f"{name}: error: {said}", err=True)
            broken += 1
            continue
        remember_pass(catalog)  # `serve` need not build them again
        built = sum(1 for _ in smoke_builds(catalog))
        click.echo(f"{name}: ok ({built} valid dossiers and every defect built and checked)")
    if broken:
        sys.exit(1)


@catalog.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@friendly
def catalog_diff(old: str, new: str, as_json: bool) -> None:
    """List every change from catalog OLD to NEW, breaking or compatible for senders.

    Exits 1 when any change is breaking, so a release pipeline can gate on it; exits 2
    when either version fails what `catalog check` compiles (schemas, rules, fields).
    """
    from harness.catalog import load_catalog
    from harness.catalog.diff import diff_catalogs

    names, unordered = _versions_on_disk()
    for name in (old, new):
        if name not in names:
            load_catalog(name)  # "not found" with the known versions: a usage error (2)
    for name in (old, new):  # a gate must not pass a version that cannot be served
        try:
            if name in unordered:  # takes effect with, or before, an older version
                raise unordered[name]
            _compiled(name)
        except UsageError as exc:
            click.echo(f"{name}: error: {exc}", err=True)
            click.echo(f"cannot diff: catalog {name} does not pass `catalog check`", err=True)
            sys.exit(2)
    result = diff_catalogs(load_catalog(old), load_catalog(new))
    click.echo(result.to_json() if as_json else result.to_text())
    if result.has_breaking:
        sys.exit(1)
