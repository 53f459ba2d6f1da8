"""The end-to-end demo: gateway on localhost, a dossier of every procedure, a report.

It is the README's first command, so it exercises everything a newcomer should see work:
catalog → factory → signing → reference I-VAN over real HTTP → strict gateway with SQLite
→ lifecycle messages on the simulated clock → acknowledgements → report bundle.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.cli_types import NAME
from harness.errors import HarnessError, SignatureInvalid
from harness.identities import DEFAULT_IVAN_CODE
from harness.message_kinds import FEED_KINDS, HANDOVER
from harness.paths import report_parent
from harness.reporting import CaseResult, Outcome, RunInfo

if TYPE_CHECKING:  # imported where the demo runs: `bhxh-harness --help` must not load them
    from rich.console import Console

    from harness.catalog import Catalog
    from harness.client import Answer, FeedMessage
    from harness.reporting import ReportBundle
    from harness.signing import TestPKI

SO_HSO = re.compile(r"^\d{5}/\d{4}/\d{5}$")
REQUIREMENT_RECEIPT = "DESIGN.md Gateway API: 202 with a signed receipt only after durable storage"
REQUIREMENT_REJECT = "DESIGN.md error codes: a defective dossier is refused with the code naming it"
REQUIREMENT_LIFECYCLE = (
    "Decree 166 art. 25/30: hand-over (02/TB-TS) and result (03/TB-TS), acknowledged"
)


@dataclass
class DemoOutcome:
    bundle: ReportBundle
    directory: Path


def _signed_by_bhxh(content: bytes, pki: TestPKI) -> str:
    """'' when the message verifies against the test CA, else why not."""
    from harness.signing import verify
    from harness.xmlsafe import parse_xml

    try:
        verify(
            parse_xml(content), signature_parent="XACNHAN_GDICH/TTCKY_BHXH", trust=pki.trust_store()
        )
    except (SignatureInvalid, ValueError) as exc:
        return str(exc)
    return ""


def _answer_case(
    procedure: str, case: str, answer: Answer, want: list[str], took: float, repro: str
) -> CaseResult:
    got = answer.codes
    ok = answer.accepted if not want else (answer.status >= 400 and got == sorted(want))
    expected = "accepted with a receipt" if not want else f"rejected with {', '.join(want)}"
    actual = f"HTTP {answer.status}, MA_KQUA={answer.ma_kqua or '-'}, codes={got or '-'}"
    return CaseResult(
        case_id=f"{case}@{procedure}",
        title=f"{procedure}: {expected}",
        outcome=Outcome.PASSED if ok else Outcome.FAILED,
        procedure=procedure,
        requirement=REQUIREMENT_RECEIPT if not want else REQUIREMENT_REJECT,
        duration_s=took,
        message="" if ok else f"expected {expected}; got {actual}",
        evidence={"answer": answer.raw.decode("utf-8", "replace")[:4000]},
        reproduce=repro,
    )


def _lifecycle_cases(
    receipts: dict[str, Answer], messages: list[FeedMessage], pki: TestPKI
) -> list[CaseResult]:
    by_dossier: dict[str, list[FeedMessage]] = {}
    for message in messages:
        by_dossier.setdefault(message.ma_gdich, []).append(message)
    cases = []
    for procedure, receipt in receipts.items():
        got = by_dossier.get(receipt.ma_gdich, [])
        kinds = [m.answer.kind for m in got]
        problems = []
        for kind in FEED_KINDS:
            if kind not in kinds:
                problems.append(f"no {kind} message")
        handover = next((m.answer for m in got if m.answer.kind == HANDOVER), None)
        if handover is not None and not SO_HSO.match(handover.so_hso):
            problems.append(f"SO_HSO {handover.so_hso!r} is not NNNNN/YYYY/AAAAA")
        problems += [p for m in got if (p := _signed_by_bhxh(m.content, pki))]
        cases.append(
            CaseResult(
                case_id=f"lifecycle@{procedure}",
                title=f"{procedure}: 02/TB-TS then 03/TB-TS, signed by BHXH, acknowledged",
                outcome=Outcome.FAILED if problems else Outcome.PASSED,
                procedure=procedure,
                requirement=REQUIREMENT_LIFECYCLE,
                message="; ".join(problems),
                evidence={"messages": ", ".join(kinds) or "none", "MA_GDICH": receipt.ma_gdich},
            )
        )
    return cases


def run_demo(
    catalog_version: str | None = None, seed: int = 1, out: Path | None = None
) -> DemoOutcome:
    """Run the whole demo and write its report bundle."""
    from harness.catalog import latest_version, load_catalog
    from harness.client import IvanClient, RetryPolicy
    from harness.dossiers.defects import applies, build_defective, load_defects
    from harness.dossiers.factory import DossierFactory
    from harness.reporting import ReportBundle, new_run_id
    from harness.signing import ensure_pki
    from mock_gateway.config import GatewayConfig
    from mock_gateway.core import Gateway
    from mock_gateway.local import LocalServer

    catalog: Catalog = load_catalog(catalog_version or latest_version())
    parent = report_parent(out)
    pki = ensure_pki()
    run_id = new_run_id("demo")
    directory = parent / run_id
    directory.mkdir(parents=True, exist_ok=True)
    config = GatewayConfig(
        database_url=f"sqlite:///{directory / 'gateway.sqlite3'}",
        catalog_versions=(catalog.version,),
        clock_speed=0.0,
    )
    info = RunInfo(
        run_id=run_id,
        suite="demo",
        title=f"bhxh-harness demo — catalog {catalog.version}",
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        meta={"catalog": catalog.version, "seed": seed, "gateway": "local (127.0.0.1, SQLite)"},
    )
    bundle = ReportBundle(info, directory)
    factory = DossierFactory(catalog, pki)
    defects = list(load_defects())
    gateway = Gateway(config, pki=pki)
    try:
        with LocalServer(gateway) as server:
            client = IvanClient(
                server.url, config.ivan_tokens[DEFAULT_IVAN_CODE], retry=RetryPolicy(timeout=10)
            )
            receipts: dict[str, Answer] = {}
            for index, procedure in enumerate(catalog.procedures):
                dossier_seed = seed + index
                base = f"bhxh-harness dossier build {procedure} --catalog {catalog.version} "
                check = " -o d.xml && bhxh-harness dossier check d.xml"
                start = time.perf_counter()
                answer = client.submit(factory.build(procedure, dossier_seed).envelope)
                took = time.perf_counter() - start
                repro = f"{base}--seed {dossier_seed}{check}"
                bundle.add(_answer_case(procedure, "submit", answer, [], took, repro))
                if answer.accepted:
                    receipts[procedure] = answer
                # a different defect for each procedure, so the demo shows the range of codes
                rotated = defects[(index * 5) % len(defects) :] + defects
                defect = next(d for d in rotated if applies(factory, procedure, d))
                bad = build_defective(factory, procedure, defect, dossier_seed)
                start = time.perf_counter()
                answer = client.submit(bad.envelope)
                took = time.perf_counter() - start
                repro = f"{base}--seed {dossier_seed} --defect {defect}{check}"
                want = list(bad.expected_codes)
                bundle.add(_answer_case(procedure, defect, answer, want, took, repro))
            admin = {"Authorization": f"Bearer {config.admin_token}"}
            seconds = config.handover_delay + config.result_delay + 60
            client.session.post(
                f"{server.url}/admin/clock/advance?seconds={seconds}", headers=admin, timeout=30
            )
            messages = []
            for _ in range(20):
                batch = client.poll_and_ack()
                messages += batch
                if not batch:
                    break
            for case in _lifecycle_cases(receipts, messages, pki):
                bundle.add(case)
    finally:
        gateway.close()
    bundle.write()
    return DemoOutcome(bundle, directory)


def _print(outcome: DemoOutcome, console: Console) -> None:
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

    table = Table(title=outcome.bundle.info.title)
    for column in ("case", "procedure", "outcome", "detail"):  # a cut "SIG-0…" says nothing:
        table.add_column(column, overflow="fold")  # narrow, a cell folds, never loses text
    for case in outcome.bundle.cases:
        table.add_row(
            case.case_id.split("@")[0],
            case.procedure,
            case.outcome.value,
            case.message or case.title,
        )
    widths = Measurement.get(console, console.options.update_width(10_000), table)
    if not console.is_terminal:  # piped or redirected: one line a case whatever $COLUMNS says
        console.width = max(console.width, widths.maximum)
    if console.width < widths.minimum:
        for case in outcome.bundle.cases:  # too narrow for whole words in a table: lines
            detail = case.message or case.title
            console.print(f"{case.case_id} {case.outcome.value}: {detail}", overflow="fold")
    else:
        console.print(table)
    summary = outcome.bundle.summary()
    console.print(
        Text.assemble(
            "verdict: ",
            (outcome.bundle.verdict.value.upper(), "bold"),
            f" ({summary['passed']}/{summary['total']} passed)\n",
            f"report: {outcome.directory / 'index.html'}",
        )
    )


@click.command()
@click.option("--catalog", "catalog_version", type=NAME, help="Catalog version (default: latest).")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed for every dossier.")
@click.option(
    "--out",
    type=NAME,
    metavar="FOLDER",
    help="Parent folder for the report (default: reports/).",
)
def demo(catalog_version: str | None, seed: int, out: str | None) -> None:
    """Run the mock gateway on 127.0.0.1, submit a dossier of every procedure, write a report.

    \b
    Exit codes: 0 every case passed, 1 a case failed, 2 usage error (e.g. an unknown
    --catalog or an unusable --out; nothing run), 130/143 interrupted by Ctrl-C/SIGTERM
    (the report holds what finished, marked interrupted).
    """
    from rich.console import Console

    console = Console(highlight=False, markup=False)  # messages and paths print as written
    try:
        with console.status("running the demo (gateway on 127.0.0.1, SQLite)…"):
            outcome = run_demo(catalog_version, seed, Path(out) if out is not None else None)
    except HarnessError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    _print(outcome, console)
    sys.exit(0 if outcome.bundle.verdict is Outcome.PASSED else 1)


__all__ = ["DemoOutcome", "demo", "run_demo"]
