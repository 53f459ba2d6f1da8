"""``GET /dashboard/runs``: suite runs from the reports folder (in-process, HTTP, Chromium).

The runs are real report bundles written by :class:`harness.reporting.ReportBundle`, the
writer every suite uses, so the page reads exactly what a certification or fuzz run leaves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from lxml import html

from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo
from harness.signing import TestPKI
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway, ServerProcess
from tests.browser import render


def write_run(root: Path, run_id: str, suite: str, outcomes: list[Outcome]) -> Path:
    info = RunInfo(run_id, suite, f"{suite} — thử nghiệm", "2026-11-26T01:00:00+00:00")
    bundle = ReportBundle(info, root / run_id)
    for index, outcome in enumerate(outcomes):
        bundle.add(CaseResult(f"CASE-{index}", "a case", outcome))
    return bundle.write()


def _runs(page: bytes | str) -> list[dict[str, str]]:
    return [dict(r.attrib) for r in html.fromstring(page).xpath("//tr[@class='run']")]


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """Three runs (two certify, one fuzz) and a folder that is not a run."""
    root = tmp_path / "reports"
    write_run(root, "certify-20261120T080000Z-aaaaaa", "certify", [Outcome.PASSED] * 3)
    write_run(root, "fuzz-20261125T080000Z-bbbbbb", "fuzz", [Outcome.PASSED, Outcome.FAILED])
    write_run(root, "certify-20261126T080000Z-cccccc", "certify", [Outcome.ERROR])
    (root / "notes").mkdir()
    return root


@pytest.fixture
def gw(pki: TestPKI, tmp_path: Path, reports: Path) -> Iterator[InProcessGateway]:
    with InProcessGateway(pki=pki, directory=tmp_path, reports_directory=str(reports)) as running:
        yield running


def test_runs_are_listed_newest_first_with_their_verdicts(gw: InProcessGateway) -> None:
    answer = gw.request("GET", "/dashboard/runs", ivan="admin")
    assert answer.status == 200 and answer.content_type.startswith("text/html")
    assert answer.headers["Cache-Control"] == "no-store"
    rows = _runs(answer.body)
    assert [(r["data-run-id"][:14], r["data-verdict"]) for r in rows] == [
        ("certify-202611", "error"),
        ("fuzz-20261125T", "failed"),
        ("certify-202611", "passed"),
    ]
    assert "1 / 1 / 0 / 0" in answer.body.decode()  # the fuzz run: passed / failed / ...

    fuzz = gw.request("GET", "/dashboard/runs", ivan="admin", query={"suite": "fuzz"})
    assert [r["data-suite"] for r in _runs(fuzz.body)] == ["fuzz"]
    first = gw.request("GET", "/dashboard/runs", ivan="admin", query={"limit": "2"})
    second = gw.request("GET", "/dashboard/runs", ivan="admin", query={"limit": "2", "page": "2"})
    assert len(_runs(first.body)) == 2 and len(_runs(second.body)) == 1
    assert 'rel="next"' in first.body.decode() and 'rel="prev"' in second.body.decode()


def test_a_run_without_results_is_listed_with_the_reason(gw: InProcessGateway) -> None:
    running = gw.gateway.config.reports_path / "load-20261126T090000Z-dddddd"
    running.mkdir()
    broken = write_run(
        gw.gateway.config.reports_path, "regress-20261126T100000Z-eeeeee", "regress", []
    )
    (broken / "results.json").write_text("{not json", encoding="utf-8")
    odd = write_run(gw.gateway.config.reports_path, "fuzz-20261126T110000Z-ffffff", "fuzz", [])
    (odd / "results.json").write_text('{"run": 5}', encoding="utf-8")
    folder = write_run(gw.gateway.config.reports_path, "fuzz-20261126T120000Z-aaaaab", "fuzz", [])
    (folder / "results.json").unlink()
    (folder / "results.json").mkdir()
    page = gw.request("GET", "/dashboard/runs", ivan="admin").body.decode()
    assert "no results.json yet (still running?)" in page
    assert "results.json is not valid JSON (line 1)" in page
    assert "results.json is not a harness report" in page
    assert "results.json is a folder, not a file" in page
    assert "object has no attribute" not in page and "Errno" not in page  # no Python text


def test_only_files_the_manifest_lists_are_served(gw: InProcessGateway, reports: Path) -> None:
    run_id = "fuzz-20261125T080000Z-bbbbbb"
    index = gw.request("GET", f"/dashboard/runs/{run_id}/index.html", ivan="admin")
    assert index.status == 200 and index.content_type == "text/html; charset=utf-8"
    assert index.headers["Content-Security-Policy"].startswith("sandbox")
    results = gw.request("GET", f"/dashboard/runs/{run_id}/results.json", ivan="admin")
    assert json.loads(results.body)["verdict"] == "failed"

    (reports / run_id / "planted.txt").write_text("not in the manifest", encoding="utf-8")
    os.symlink("/etc/hostname", reports / run_id / "escape")
    manifest = json.loads((reports / run_id / "MANIFEST.json").read_text(encoding="utf-8"))
    manifest["files"]["escape"] = "0" * 64  # even if listed, a link leads nowhere
    (reports / run_id / "MANIFEST.json").write_text(json.dumps(manifest), encoding="utf-8")
    for path in [
        f"/dashboard/runs/{run_id}/planted.txt",
        f"/dashboard/runs/{run_id}/escape",
        f"/dashboard/runs/{run_id}/MANIFEST.json",
        "/dashboard/runs/notes/index.html",
        "/dashboard/runs/..%2F..%2Fetc/passwd",
        f"/dashboard/runs/{run_id}/nothing.html",
    ]:
        answer = gw.request("GET", path, ivan="admin")
        assert answer.status == 404, path
        assert answer.content_type.startswith("application/xml")


@pytest.mark.parametrize(
    ("who", "path", "query", "status"),
    [
        (None, "/dashboard/runs", {}, 401),
        ("IVAN01", "/dashboard/runs", {}, 403),
        ("IVAN01", "/dashboard/runs/fuzz-20261125T080000Z-bbbbbb/index.html", {}, 403),
        ("admin", "/dashboard/runs", {"suite": "x" * 21}, 400),
        ("admin", "/dashboard/runs", {"limit": "101"}, 400),
    ],
)
def test_runs_refuse_bad_callers_and_parameters(
    gw: InProcessGateway, who: str | None, path: str, query: dict[str, str], status: int
) -> None:
    assert gw.request("GET", path, ivan=who, query=query).status == status


def test_no_reports_folder_is_an_empty_page(pki: TestPKI, tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere")
    with InProcessGateway(pki=pki, directory=tmp_path, reports_directory=missing) as gw:
        page = gw.request("GET", "/dashboard/runs", ivan="admin")
    assert page.status == 200 and _runs(page.body) == []
    assert "Chưa có lượt kiểm thử nào" in page.body.decode()


def test_runs_page_in_headless_chromium_links_both_ways(gw: InProcessGateway) -> None:
    admin = gw.token("admin")
    with LocalServer(gw.gateway) as server:
        runs = render(f"{server.url}/dashboard/runs?{urlencode({'token': admin})}")
        assert "fuzz-20261125T080000Z-bbbbbb" in runs.text and "FAILED" in runs.text
        tree = html.fromstring(runs.dom)
        assert admin not in runs.dom  # the links carry no token: the browser has the cookie
        browser = requests.Session()  # a browser's cookie jar, for following the links
        browser.get(f"{server.url}/dashboard/runs", params={"token": admin}, timeout=10)
        [report] = tree.xpath("//tr[@data-suite='fuzz']//td[1]/a/@href")
        opened = browser.get(
            requests.compat.urljoin(f"{server.url}/dashboard/runs", report), timeout=10
        )
        assert opened.status_code == 200 and "fuzz" in opened.text
        [back] = tree.xpath("//a[@id='to-dossiers']/@href")
        dossiers = browser.get(
            requests.compat.urljoin(f"{server.url}/dashboard/runs", back), timeout=10
        )
        assert dossiers.status_code == 200 and "Bảng theo dõi hồ sơ" in dossiers.text
        [forward] = html.fromstring(dossiers.content).xpath("//a[@id='to-runs']/@href")
        again = browser.get(requests.compat.urljoin(f"{server.url}/dashboard", forward), timeout=10)
        assert len(_runs(again.content)) == 3


def test_a_report_file_opened_with_a_token_keeps_it_in_the_cookie(gw: InProcessGateway) -> None:
    run_id = "fuzz-20261125T080000Z-bbbbbb"
    with LocalServer(gw.gateway) as server:
        browser = requests.Session()
        index = f"{server.url}/dashboard/runs/{run_id}/index.html"
        opened = browser.get(index, params={"token": gw.token("admin")}, timeout=10)
        [redirect] = opened.history
        assert redirect.status_code == 303 and redirect.headers["Location"].endswith("index.html")
        assert opened.status_code == 200 and "token" not in opened.url
        sibling = browser.get(index.replace("index.html", "results.json"), timeout=10)
        assert sibling.status_code == 200 and json.loads(sibling.text)["verdict"] == "failed"


def test_a_report_s_own_links_work_in_headless_chromium(
    gw: InProcessGateway, reports: Path
) -> None:
    """A report page is sandboxed (an opaque origin): its link to a sibling file is a
    cross-site navigation, which must still carry the admin cookie."""
    run_id = "fuzz-20261125T080000Z-bbbbbb"
    index = reports / run_id / "index.html"
    page = index.read_text(encoding="utf-8")
    leave = '<meta http-equiv="refresh" content="0;url=results.json">'  # as a click would
    index.write_text(page.replace("<head>", "<head>" + leave, 1), encoding="utf-8")
    with LocalServer(gw.gateway) as server:
        query = urlencode({"token": gw.token("admin")})
        shown = render(f"{server.url}/dashboard/runs/{run_id}/index.html?{query}", settle_ms=5000)
    assert "AUTH-001" not in shown.dom
    assert '"verdict": "failed"' in shown.text, shown.text[:500]


def test_serve_reports_option_over_http(pki: TestPKI, tmp_path: Path, reports: Path) -> None:
    del pki  # requested so $BHXH_HARNESS_PKI names the session PKI the server must trust
    extra = ("--reports", str(reports))
    with ServerProcess(tmp_path / "gateway.sqlite3", extra=extra) as server:
        page = requests.get(
            f"{server.url}/dashboard/runs", params={"token": "test-admin-token"}, timeout=30
        )
    assert page.status_code == 200 and len(_runs(page.content)) == 3
