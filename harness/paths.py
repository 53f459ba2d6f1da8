"""Where the project's data lives: ``fixtures/``, ``reports/`` and the cache.

The harness is installed editable from a checkout, so data is found by walking up from
this file; ``BHXH_HARNESS_HOME`` overrides it for installs elsewhere.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from harness.errors import ConfigError, UsageError


@cache
def project_root() -> Path:
    """The folder holding ``fixtures/`` (checkout root or ``$BHXH_HARNESS_HOME``)."""
    env = os.environ.get("BHXH_HARNESS_HOME")
    if env:  # a mistyped home must not quietly fall back to the checkout's catalogs
        if (Path(env) / "fixtures" / "catalog").is_dir():
            return Path(env)
        raise ConfigError(
            f"BHXH_HARNESS_HOME={env} has no fixtures/catalog/ folder",
            hint="point it at a copy of the project (the folder holding fixtures/), or unset it",
        )
    for candidate in _candidate_roots():
        if (candidate / "fixtures" / "catalog").is_dir():
            return candidate
    raise ConfigError(
        "cannot find the fixtures/ folder of bhxh-harness",
        hint="run from a checkout of the project or set BHXH_HARNESS_HOME to it",
    )


def _candidate_roots() -> Iterator[Path]:
    yield from Path(__file__).resolve().parents
    yield working_folder()  # last, so a checkout is found even from a deleted folder


def working_folder() -> Path:
    """The current folder; a deleted one says so instead of a bare "No such file or
    directory" (``os.getcwd()`` fails there, and so do relative paths)."""
    try:
        return Path.cwd()
    except FileNotFoundError:
        raise UsageError(
            "the current folder no longer exists (it was deleted or moved)",
            hint="cd to an existing folder and run the command again",
        ) from None


def fixtures_dir() -> Path:
    """The ``fixtures/`` folder: catalogs, reference tables, PKI recipe, corpus, baselines."""
    return project_root() / "fixtures"


def scenarios_dir() -> Path:
    """The suites' ``scenarios/`` (certification cases and checks, the locustfile): the
    home's own if it has one, else the installed harness's; a copy of the data made to
    add a procedure (``BHXH_HARNESS_HOME``) need not copy the suites' code."""
    own = project_root() / "scenarios"
    if own.is_dir():
        return own
    for candidate in Path(__file__).resolve().parents:
        if (candidate / "scenarios").is_dir():
            return candidate / "scenarios"
    return own  # the caller's "not found" names the home's


def cache_dir() -> Path:
    """A writable cache (test PKI, generated tables); ``$BHXH_HARNESS_CACHE`` overrides it."""
    env = os.environ.get("BHXH_HARNESS_CACHE")
    path = Path(env) if env else project_root() / ".cache"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where the folder should be, a read-only place...
        where = "$BHXH_HARNESS_CACHE" if env else "the checkout's .cache/"
        raise UsageError(
            f"cannot use {path} as the cache ({where}): "
            f"{'it is a file, not a folder' if path.is_file() else exc.strerror or exc}",
            hint="point $BHXH_HARNESS_CACHE at a writable folder",
        ) from None
    return path


def reports_dir() -> Path:
    """Where runs write ``<run-id>/`` folders."""
    return project_root() / "reports"


OUT_HINT = "name with --out a folder you may write to (it is created if need be)"
"""What to do when ``--out`` cannot hold a run's report (said before the run starts)."""


def writable_folder(folder: Path, what: str, hint: str, *, create: bool = True) -> Path:
    """Make sure ``what`` can be written in ``folder`` (``create``: create it now; else only
    check that it exists or can be made): a run checks this before it sends anything, not
    once its work is done and lost."""
    problem = _folder_problem(folder)
    if problem:
        raise ConfigError(f"cannot keep {what} in {folder}: {problem}", hint=hint)
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot keep {what} in {folder}: {exc.strerror or exc}", hint=hint
            ) from None
    return folder


def _folder_problem(folder: Path) -> str:
    """Why files cannot be written in ``folder`` or, if it does not exist yet, made in the
    folder that would hold it ('' if they can)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():
            return f"{_which(existing, folder)} is a link to nothing"
        existing = existing.parent
    if not existing.is_dir():
        return f"{_which(existing, folder)} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{_which(existing, folder)} is not writable"
    try:  # root passes os.access everywhere, /proc and read-only mounts included
        os.rmdir(tempfile.mkdtemp(prefix=".bhxh-probe-", dir=existing))
    except OSError as exc:
        return f"nothing can be made in {_which(existing, folder)} ({exc.strerror or exc})"
    return ""


def _which(path: Path, folder: Path) -> str:
    """How a message names ``path``: "it" when it is the folder the message names already."""
    return "it" if path == folder else str(path)


def report_parent(out: Path | None) -> Path:
    """The folder a run's ``<run-id>/`` goes in (``out``, default reports/), checked before
    the run starts; it is created only when the report is, so a refused run leaves none."""
    return writable_folder(out or reports_dir(), "the report", hint=OUT_HINT, create=False)
