"""``GET /dashboard/runs``: the suite runs in the reports folder, beside the dossiers.

DESIGN.md's dashboard shows "dossiers and runs": whoever watches a certification,
regression, fuzz or load run against this gateway finds its verdict here and opens its
report without a shell on the machine. Runs are the ``<run-id>/`` folders that every
suite writes (``harness.reporting``); a folder is listed from its ``results.json`` and
only the files its ``MANIFEST.json`` names are served, so nothing else on the disk is
reachable through these routes. Folders are sorted by the time in their run id, so a
page reads only the ``results.json`` files it shows. A run stopped by Ctrl-C or SIGTERM
is listed as interrupted, with what had finished (its ``results.json`` says so).
"""

from __future__ import annotations

import json
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from harness.owned_folders import abandoned
from mock_gateway import params
from mock_gateway.dashboard import FILTER_MAX, PAGE_HEADERS, TEMPLATES, token_redirect
from mock_gateway.exchange import GatewayRequest, GatewayResponse, Handler
from mock_gateway.intake import reject
from mock_gateway.messages import ENVIRONMENT

if TYPE_CHECKING:
    from mock_gateway.core import Gateway

RUN_ID = re.compile(r"(?P<suite>[A-Za-z0-9_.-]+)-(?P<time>\d{8}T\d{6}Z)-[0-9a-f]{6}")
"""What ``harness.reporting.new_run_id`` makes: ``<suite>-<UTC time>-<random>``."""
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_PAGE = 10_000

FILE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # Report pages may run their own scripts (locust's does), but in a sandbox: a page
    # must not act as this origin (with the admin's cookie).
    "Content-Security-Policy": "sandbox allow-scripts allow-popups",
}


@dataclass(frozen=True)
class Run:
    """One run folder as the page shows it; ``problem`` says why it could not be read."""

    run_id: str
    suite: str
    title: str = ""
    started_at: str = ""
    verdict: str = "unknown"
    counts: dict[str, int] | None = None
    files: tuple[str, ...] = ()  # served files (top level of the folder, in MANIFEST.json)
    problem: str | None = None
    interrupted: str | None = None  # the signal that stopped the run before it finished


def run_folders(root: Path) -> list[tuple[str, str, Path]]:
    """``(suite, run id, folder)`` of every run under ``root``, newest first."""
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        match = RUN_ID.fullmatch(entry.name)
        if match and entry.is_dir():
            found.append((match["time"], entry.name, match["suite"], entry))
    found.sort(reverse=True)
    return [(suite, name, folder) for _, name, suite, folder in found]


def manifest_files(folder: Path) -> list[str]:
    """The files ``MANIFEST.json`` lists (empty if it is missing or unreadable)."""
    try:
        listed = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return sorted(str(name) for name in listed) if isinstance(listed, dict) else []


def read_run(suite: str, run_id: str, folder: Path) -> Run:
    """The run in ``folder``, or a :class:`Run` naming what is wrong with it."""
    served = tuple(n for n in manifest_files(folder) if "/" not in n)
    try:
        data: Any = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        info = data["run"]
        return Run(
            run_id=run_id,
            suite=str(info.get("suite", suite)),
            title=str(info.get("title", "")),
            started_at=str(info.get("started_at", "")),
            verdict=str(data.get("verdict", "unknown")),
            counts={str(k): int(v) for k, v in data.get("summary", {}).items()},
            files=served,
            interrupted=_stopped_by(data.get("interrupted")),
        )
    except FileNotFoundError:
        return Run(run_id, suite, files=served, problem=_no_results(folder))
    except IsADirectoryError:
        return Run(run_id, suite, files=served, problem="results.json is a folder, not a file")
    except UnicodeDecodeError:
        return Run(run_id, suite, files=served, problem="results.json is not UTF-8 text")
    except json.JSONDecodeError as exc:
        problem = f"results.json is not valid JSON (line {exc.lineno})"
        return Run(run_id, suite, files=served, problem=problem)
    except OSError as exc:
        problem = f"results.json cannot be read: {exc.strerror or 'I/O error'}"
        return Run(run_id, suite, files=served, problem=problem)
    except (ValueError, KeyError, TypeError, AttributeError):  # JSON, but not a report's
        problem = "results.json is not a harness report (no run section, or odd counts)"
        return Run(run_id, suite, files=served, problem=problem)


def _no_results(folder: Path) -> str:
    """Why a run has no results.json: still going, unless the lock its run held while it
    wrote there is left unheld (the run was killed, SIGKILL or a machine gone down)."""
    if abandoned(folder):
        return (
            "no results.json: the run was killed before it wrote its report "
            "(its own files are in the folder, unlisted)"
        )
    return "no results.json yet (still running?)"


def _stopped_by(interrupted: object) -> str | None:
    """The signal named by results.json's ``interrupted`` (None for a run that finished)."""
    if not interrupted:
        return None
    name = interrupted.get("signal") if isinstance(interrupted, dict) else None
    return str(name) if name else "a signal"


def run_file(root: Path, run_id: str, name: str) -> Path | None:
    """The file ``name`` of run ``run_id`` if its manifest lists it, else None."""
    if not RUN_ID.fullmatch(run_id) or "/" in name:
        return None
    folder = root / run_id
    if name not in manifest_files(folder):
        return None
    path = folder / name
    try:  # a link planted in the folder must not lead elsewhere on the disk
        if not path.is_file() or path.resolve().parent != folder.resolve():
            return None
    except OSError:
        return None
    return path


def render(gw: Gateway, request: GatewayRequest) -> str:
    """The runs page for the request's filters (``suite``, ``page``, ``limit``)."""
    suite = params.text(request, "suite", FILTER_MAX)
    page = params.integer(request, "page", 1, 1, MAX_PAGE)
    limit = params.integer(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    root = gw.config.reports_path
    folders = run_folders(root)
    suites = sorted({s for s, _, _ in folders})
    matching = [f for f in folders if not suite or f[0] == suite]
    shown = [read_run(*f) for f in matching[(page - 1) * limit : page * limit]]
    pages = max(1, -(-len(matching) // limit))

    def link(**params: Any) -> str:
        return "?" + urlencode({k: v for k, v in params.items() if v})

    def file_link(run: Run, name: str) -> str:
        return f"runs/{quote(run.run_id)}/{quote(name)}"

    return TEMPLATES.get_template("runs.html.j2").render(
        environment=ENVIRONMENT,
        runs=shown,
        total=len(matching),
        suites=suites,
        suite=suite,
        limit=limit,
        root=str(root),
        file_link=file_link,
        dossiers="../dashboard",
        previous=link(suite=suite, page=page - 1, limit=limit) if page > 1 else None,
        next=link(suite=suite, page=page + 1, limit=limit) if page < pages else None,
    )


def handlers(gw: Gateway) -> dict[str, Handler]:
    """The runs page and the run-file handlers of ``gw``, keyed by route name."""

    def runs(request: GatewayRequest, _p: dict[str, str], _i: str | None) -> GatewayResponse:
        page = render(gw, request)  # a bad filter is refused, token or not
        redirect = token_redirect(request)
        if redirect is not None:
            return redirect
        return GatewayResponse(200, dict(PAGE_HEADERS), page.encode("utf-8"))

    def one_file(request: GatewayRequest, p: dict[str, str], _i: str | None) -> GatewayResponse:
        path = run_file(gw.config.reports_path, p["run_id"], p["name"])
        if path is None:
            raise reject("NF-001", request.path)
        redirect = token_redirect(request)  # a shared link: the token moves to the cookie
        if redirect is not None:
            return redirect
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/"):
            content_type += "; charset=utf-8"
        headers = {"Content-Type": content_type, **FILE_HEADERS}
        return GatewayResponse(200, headers, path.read_bytes())

    return {"dashboard_runs": runs, "dashboard_run_file": one_file}
