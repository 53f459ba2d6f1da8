"""The ``bhxh-harness`` command: a thin skin over the library.

Every command turns a :class:`~harness.errors.UsageError` into a short message on stderr
and exit code 2; a conformance failure (breaking change, rejected dossier) is exit code 1.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from harness import __version__
from harness.cli_exits import delivered, exits_on_errors, stdout_reader_may_leave
from harness.cli_types import CODE, FOLDER, NAME, OUTPUT_FILE
from harness.errors import CatalogError, UsageError
from harness.identities import DEFAULT_IVAN_CODE
from harness.paths import working_folder

if TYPE_CHECKING:  # imported lazily at run time: --help stays fast
    from harness.catalog import Catalog
    from harness.conformance import CheckResult

F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Report harness errors as one readable paragraph, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with exits_on_errors():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


_ELSEWHERE = {
    "certify": "harness.certification.cli",
    "demo": "harness.demo",
    "fuzz": "harness.fuzz.cli",
    "load": "harness.load.cli",
    "record": "harness.regression.cli",
    "regress": "harness.regression.cli",
    "serve": "mock_gateway.cli",
}
"""Commands defined in other modules: the module holding each (as an attribute of its name)."""


class _Main(click.Group):
    """The command group; a file the user named that cannot be read or written, or a
    network failure, is one line and a hint (exit 2), not a traceback, whichever command
    met it."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Refuse in one message when the current folder was deleted, before `--help`: a
        command's module may read it on import (hypothesis does), and every relative path
        needs it."""
        with exits_on_errors():
            working_folder()
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # `bhxh-harness` alone: its help
            _show_help(exc)
        except click.UsageError as exc:  # `bhxh-harness -V`: the shape of every other refusal
            _refuse(*_click_refusal(exc))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_ELSEWHERE})

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, with the commands defined elsewhere among its "Did you mean"
        suggestions (click draws them from the commands already loaded)."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            names = sorted({*self.commands, *_ELSEWHERE})
            raise click.exceptions.NoSuchCommand(
                exc.command_name, possibilities=names, ctx=ctx
            ) from None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import a command's module only when that command is named or the help lists them
        all: `catalog check`, `pki --help` or a mistyped command must not load the others'
        xmlschema, signxml, hypothesis..."""
        if cmd_name in _ELSEWHERE and cmd_name not in self.commands:
            module = importlib.import_module(_ELSEWHERE[cmd_name])
            self.add_command(getattr(module, cmd_name))
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        _tolerate_narrow_terminals()
        signal.signal(signal.SIGTERM, _terminated)  # load and serve install their own
        try:
            with stdout_reader_may_leave():
                return super().invoke(ctx)
        except KeyboardInterrupt:  # click would say "Aborted!" and exit 1, like a FAILED run
            click.echo("\ninterrupted: stopped before it finished", err=True)
            _write_interrupted(signal.SIGINT)
            sys.exit(130)
        except _Terminated:
            click.echo("terminated: stopped before it finished", err=True)
            _write_interrupted(signal.SIGTERM)
            sys.exit(143)
        except click.exceptions.NoArgsIsHelpError as exc:  # `bhxh-harness catalog`: its help
            _show_help(exc)
        except click.UsageError as exc:  # an option's value click refused: the same shape
            _refuse(*_click_refusal(exc))
        except BrokenPipeError:  # stderr's reader left (stdout's is handled above): stop
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except OSError as exc:  # requests' errors too (imported there, not at start-up)
            _refuse(*_what_failed(exc))
        except UnicodeEncodeError as exc:
            if not _locale_cannot_write(exc):
                raise
            _refuse(
                f"cannot write {_unwritable_line(exc)!r} under this locale (file names in "
                f"{sys.getfilesystemencoding()})",
                "run under a UTF-8 locale (LC_ALL=C.UTF-8 or PYTHONUTF8=1), or use ASCII file "
                "and folder names",
            )


def _locale_cannot_write(exc: UnicodeEncodeError) -> bool:
    """Text Python cannot write here: under an ASCII locale (``PYTHONUTF8=0 LC_ALL=C``) a
    non-ASCII file name, or an argument's bytes kept as surrogate escapes."""
    encoding = sys.getfilesystemencoding().lower().replace("-", "")
    return encoding != "utf8" or "surrogates" in exc.reason


def _unwritable_line(exc: UnicodeEncodeError) -> str:
    """The line holding what could not be encoded (the path, most often), printable."""
    from harness.reporting.writers import readable

    start = exc.object.rfind("\n", 0, exc.start) + 1
    end = exc.object.find("\n", exc.end)
    return readable(exc.object[start : None if end == -1 else end].strip())[:160]


def _what_failed(exc: OSError) -> tuple[str, str]:
    """The message and hint for a file the user named or a network failure."""
    import requests

    if isinstance(exc, requests.JSONDecodeError):  # a RequestException, but something answered
        return (
            f"an answer was not the JSON expected ({exc})",
            "check that the URL is the gateway's (or the hook's) and not a proxy or a "
            "login page answering in its place",
        )
    if isinstance(exc, requests.RequestException):
        return (
            f"the gateway stopped answering: {exc}",
            "check that it is still running and reachable, and its TLS options "
            "(--ca-bundle, --insecure)",
        )
    where = f"{exc.filename}: " if exc.filename is not None else ""
    return f"{where}{exc.strerror or exc}", "check the path, that its folder exists and is writable"


class _Terminated(BaseException):  # like KeyboardInterrupt: no `except Exception` stops it
    """SIGTERM, raised where the command is, so its ``with`` blocks clean up (scratch
    folders such as /tmp/bhxh-certify-* were left behind, 3-9 MB each)."""


def _terminated(_signum: int, _frame: object) -> None:
    raise _Terminated


def _write_interrupted(signum: int) -> None:
    """A suite stopped halfway still gets its report, marked interrupted. Called while the
    stop is being handled: its traceback keeps the stopped run's bundle alive."""
    bundle = sys.modules.get("harness.reporting.bundle")  # not loaded: no run made one
    if bundle is None:
        return
    for stop in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut it short
        signal.signal(stop, signal.SIG_IGN)
    for folder in bundle.write_interrupted(signum):
        click.echo(f"partial report (interrupted): {folder / 'index.html'}", err=True)


def _tolerate_narrow_terminals() -> None:
    """Print Vietnamese on a terminal or redirect that cannot encode it (ASCII under
    ``PYTHONUTF8=0 LC_ALL=C``, cp1258 on Windows) with replacement characters, instead of
    dying in a UnicodeEncodeError after the report is written."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (getattr(stream, "encoding", "") or "").lower() not in (
            "utf-8",
            "utf8",
        ):
            with contextlib.suppress(Exception):  # not a text stream we may reconfigure
                reconfigure(errors="replace")


def _click_refusal(exc: click.UsageError) -> tuple[str, str]:
    """Click's message for an option it refused (``Invalid value for '--port': 'abc' is
    not a valid integer.``) and a hint naming the command's help, as every other usage
    error says it; click's own "Did you mean" lines join the hint."""
    first, *more = exc.format_message().splitlines()
    command = exc.ctx.command_path if exc.ctx is not None else "bhxh-harness"
    return first, " ".join([*(m.strip() for m in more if m.strip()), f"see `{command} --help`"])


def _show_help(exc: click.exceptions.NoArgsIsHelpError) -> NoReturn:
    """A group named without a subcommand: its help, as click prints it (on stderr, exit 2:
    nothing was done), not flattened into an error line."""
    exc.show()
    sys.exit(exc.exit_code)


def _refuse(message: str, hint: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    click.echo(f"Hint: {hint}", err=True)
    sys.exit(2)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bhxh-harness")
def main() -> None:
    """Conformance and regression testbed for BHXH's electronic-transaction gateway.

    Start with `bhxh-harness demo`: it runs the mock gateway in-process, submits a signed
    dossier of every procedure through the reference I-VAN and writes a report.
    """


# -- catalog ---------------------------------------------------------------------------


@main.group()
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


# -- PKI and dossiers ----------------------------------------------------------------------


@main.group()
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
    from harness.signing.integrity import check_pki

    made = ensure_pki(directory)
    check_pki(made)  # ensure_pki checks once a process; this command answers for it now
    click.echo(f"test PKI: {made.directory}")  # the {pki} of the adapter guide
    for name in made.names():
        cert = made.credential(name).certificate
        click.echo(
            f"{name:16} {cert.subject.rfc4514_string()}  until {cert.not_valid_after_utc:%Y-%m-%d}"
        )


@main.group()
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
    proc = choices.chosen_procedure(procedure, factory.catalog)
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
            message = f.message_vi if lang == "vi" else f.message_en
            detail = f" [{f.detail}]" if f.detail else ""
            click.echo(f"  {f.severity:7} {f.code} {f.xpath}: {message}{detail}")
        rejected += not result.accepted
    if len(paths) > 1:
        click.echo(f"{len(paths)} files: {len(paths) - rejected} accepted, {rejected} rejected")
    if rejected:
        sys.exit(1)


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
    from harness.dossiers.defects import applies_in, load_defects

    defects = load_defects()
    if as_json and version is not None:  # a mistyped version must not pass unnoticed
        load_catalog(version)
    if as_json:  # the shape scripts read: keep it
        rows = {name: {"op": d.op, "expect": list(d.expect)} for name, d in defects.items()}
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
        table.add_row(name, d.op, ", ".join(d.expect), listed)
    console = Console(highlight=False, markup=False)  # a defect's text prints as written
    if not console.is_terminal:  # piped or redirected: one line a defect, for grep and cut
        console.width = 1000
    console.print(table)
