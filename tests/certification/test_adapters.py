"""Every way to drive a vendor's I-VAN certifies the reference I-VAN the same way.

Each adapter wraps the reference I-VAN behind its protocol (a command run per operation,
an HTTP hook, a class from an entry point, an operator at a prompt) and runs the
baseline cases that need every operation: forward, tick, acknowledge, restart, recover.
"""

from __future__ import annotations

import io
import json
import re
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harness.certification import (
    AdapterContext,
    CommandAdapter,
    HttpHookAdapter,
    Job,
    ManualAdapter,
    ReferenceIvan,
    resolve_adapter,
    run_certification,
)
from harness.certification.adapters import parse_relay_line
from harness.errors import ConfigError
from harness.reporting import ReportBundle
from tests.certification.conftest import FAST, PROCEDURE

BASELINE = ["CERT-FWD-01", "CERT-MSG-01", "CERT-REC-01"]


def outcomes(bundle: ReportBundle) -> dict[str, str]:
    return {c.case_id: f"{c.outcome.value}: {c.message}" for c in bundle.cases}


def assert_passed(bundle: ReportBundle) -> None:
    assert all(v.startswith("passed") for v in outcomes(bundle).values()), outcomes(bundle)


def certify(adapter: Any, tmp_path: Path, cases: list[str] = BASELINE) -> ReportBundle:
    return run_certification(
        adapter, procedures=[PROCEDURE], cases=cases, out=tmp_path, settings=FAST
    )


# -- command template ------------------------------------------------------------------


def test_command_template_adapter(tmp_path: Path) -> None:
    cli = f"{sys.executable} -m harness.certification.reference_cli"
    adapter = resolve_adapter(
        f"{cli} submit {{dossier}} --now {{now}}",
        {"tick": f"{cli} tick --now {{now}}", "recover": f"{cli} recover {{ma_gdich}}"},
    )
    assert isinstance(adapter, CommandAdapter) and adapter.capabilities == {"tick", "recover"}
    assert_passed(certify(adapter, tmp_path))


def test_command_failures_are_errors_not_passes(tmp_path: Path) -> None:
    failing = f"{sys.executable} -c 'import sys; sys.exit(3)' {{dossier}}"
    bundle = certify(resolve_adapter(failing), tmp_path, ["CERT-ENV-01"])
    [case] = bundle.cases
    assert case.outcome.value == "error" and "exited 3" in case.evidence["error"]


def test_command_template_mistakes_are_usage_errors() -> None:
    with pytest.raises(ConfigError, match="never names the dossier") as plain:
        resolve_adapter("vendor-cli submit")
    assert plain.value.hint == "add {dossier}"
    with pytest.raises(ConfigError) as kind:  # a lone word: a mistyped adapter kind
        resolve_adapter("referense")
    assert (kind.value.hint or "").startswith("did you mean 'reference'? --adapter takes ")
    with pytest.raises(ConfigError, match="unknown adapter option"):
        resolve_adapter("vendor-cli submit {dossier}", {"poll": "x"})
    context = AdapterContext("http://x", "IVAN01", "I", "t", Path("/tmp"), Path("/tmp"), "v")
    with pytest.raises(ConfigError, match=r"unknown placeholder \{colour\}"):  # at start
        CommandAdapter(f"{sys.executable} submit {{dossier}} {{colour}}")
    with pytest.raises(ConfigError, match="No closing quotation"):
        CommandAdapter("vendor-cli 'submit {dossier}")
    missing = CommandAdapter("vendor-cli-that-is-not-installed submit {dossier}")
    with pytest.raises(ConfigError, match="the submit command 'vendor-cli-that-is-not-installed'"):
        missing.start(context)


def test_a_relative_command_path_is_taken_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "my-ivan.sh"
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o755)  # a script without the execute bit is refused at start
    monkeypatch.chdir(tmp_path)
    adapter = CommandAdapter("./my-ivan.sh submit {dossier}", tick="./gone.sh tick")
    assert adapter.templates["submit"].startswith(f"{script} submit")  # runs from any folder
    assert adapter.spec == "./my-ivan.sh submit {dossier}"  # reproduce lines keep the user's
    context = AdapterContext("http://x", "IVAN01", "I", "t", tmp_path / "w", tmp_path, "v")
    with pytest.raises(ConfigError, match=f"the tick command '{tmp_path / 'gone.sh'}'"):
        adapter.start(context)


# -- HTTP hook ---------------------------------------------------------------------------


class Hook(BaseHTTPRequestHandler):
    """A vendor's hook, backed by the reference I-VAN."""

    ivan = ReferenceIvan()

    def log_message(self, *_args: Any) -> None:
        return None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"] or 0)) or b"{}")
        operation = self.path.strip("/")
        answer: dict[str, Any] = {}
        if operation == "start":
            context = AdapterContext(
                body["gateway"], body["ivan"], body["ivan_name"], body["token"],
                Path(body["workdir"]) / "hook", Path(body["pki"]), body["catalog"],
                float(body["timeout"]), int(body["seed"]),
            )  # fmt: skip
            self.ivan.start(context)
            answer = {"capabilities": ["tick", "recover", "restart"]}
        elif operation == "submit":
            job, now = Job.from_json(body["job"]), datetime.fromisoformat(body["now"])
            answer = {"relays": [r.to_json() for r in self.ivan.submit(job, now)]}
        elif operation == "tick":
            now = datetime.fromisoformat(body["now"])
            answer = {"relays": [r.to_json() for r in self.ivan.tick(now)]}
        elif operation == "recover":
            import base64

            stored = self.ivan.recover(body["ma_gdich"])
            answer = {"messages_b64": [base64.b64encode(m).decode() for m in stored]}
        elif operation == "restart":
            self.ivan.restart()
        elif operation == "stop":
            self.ivan.stop()
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def hook() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_hook_adapter(hook: str, tmp_path: Path) -> None:
    adapter = resolve_adapter(hook)
    assert isinstance(adapter, HttpHookAdapter)
    assert_passed(certify(adapter, tmp_path))


# -- Python class from an entry point -----------------------------------------------------


def test_python_adapter_from_an_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site"
    (package / "acme_ivan-1.0.dist-info").mkdir(parents=True)
    (package / "acme_ivan-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-ivan\nVersion: 1.0\n", encoding="utf-8"
    )
    (package / "acme_ivan-1.0.dist-info" / "entry_points.txt").write_text(
        "[bhxh_harness.adapters]\nacme = acme_ivan:AcmeIvan\n", encoding="utf-8"
    )
    (package / "acme_ivan.py").write_text(
        "from harness.certification import ReferenceIvan\n\n\n"
        "class AcmeIvan(ReferenceIvan):\n    name = 'acme'\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(package))
    adapter = resolve_adapter("python:acme")
    assert adapter.name == "acme" and adapter.spec == "python:acme"
    assert resolve_adapter("python:acme_ivan:AcmeIvan").name == "acme"
    with pytest.raises(ConfigError, match="no adapter 'nope'"):
        resolve_adapter("python:nope")
    assert_passed(certify(adapter, tmp_path / "out", ["CERT-SIG-01", "CERT-MSG-01"]))


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nosuch_vendor.sub:Ivan", "no Python module 'nosuch_vendor.sub'"),
        ("vendor_broken:Ivan", "importing vendor_broken failed: No module named 'missing_dep"),
        ("vendor_raising:Ivan", "importing vendor_raising failed: ValueError: bad config"),
        ("vendor_ok:Missing", "module vendor_ok has no 'Missing'"),
        ("vendor_ok:Boom", "creating adapter python:vendor_ok:Boom failed: RuntimeError: no key"),
        ("vendor_ok:Plain", "does not implement IvanAdapter"),
    ],
)
def test_a_python_adapter_that_cannot_load_says_why(
    target: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "vendor_broken.py").write_text("import missing_dep_xyz\n", encoding="utf-8")
    (tmp_path / "vendor_raising.py").write_text("raise ValueError('bad config')\n", "utf-8")
    (tmp_path / "vendor_ok.py").write_text(
        "class Boom:\n    def __init__(self):\n        raise RuntimeError('no key')\n\n\n"
        "class Plain:\n    pass\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)  # the current folder is searched, as for a console script
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    with pytest.raises(ConfigError, match=re.escape(message)):
        resolve_adapter(f"python:{target}")


# -- manual operator -----------------------------------------------------------------------


class Operator(io.StringIO):
    """Stands in for a person at the prompt: reads the last prompt, drives a reference I-VAN
    by hand, and types back what it told the employer."""

    def __init__(self, prompts: io.StringIO, adapter: ManualAdapter, folder: Path) -> None:
        super().__init__()
        self.prompts, self.adapter, self.folder = prompts, adapter, folder
        self.ivan = ReferenceIvan()
        self.typed: list[str] = []

    def readline(self, _size: int | None = -1) -> str:  # type: ignore[override]
        if not self.typed:
            self.typed = [*self.act(self.prompts.getvalue().splitlines()[-1]), ""]
        return self.typed.pop(0) + "\n"

    def act(self, prompt: str) -> list[str]:
        if not hasattr(self.ivan, "state"):
            ctx = self.adapter.context
            self.ivan.start(AdapterContext(**{**ctx.__dict__, "workdir": ctx.workdir / "operator"}))
        now = datetime.fromisoformat(prompt[1 : prompt.index("]")]) if prompt[0] == "[" else None
        if "SUBMIT job" in prompt:
            folder = Path(prompt.split("are in ")[1].split(" (")[0])
            job = Job.from_json(json.loads((folder / "job.json").read_text(encoding="utf-8")))
            assert now is not None
            return [self.line(r.to_json()) for r in self.ivan.submit(job, now)]
        if "TICK" in prompt:
            assert now is not None
            return [self.line(r.to_json()) for r in self.ivan.tick(now)]
        if "RECOVER" in prompt:
            ma_gdich = prompt.split("MA_GDICH ")[1].split(";")[0]
            paths = []
            for index, data in enumerate(self.ivan.recover(ma_gdich)):
                (path := self.folder / f"{ma_gdich}-{index}.xml").write_bytes(data)
                paths.append(str(path))
            return paths
        self.ivan.restart()
        return []

    @staticmethod
    def line(relay: dict[str, str]) -> str:
        keys = ("ma_gdich", "ma_loi", "message_id")
        return " ".join([relay["kind"], *(f"{k}={relay[k]}" for k in keys if relay[k])])


def test_manual_adapter_with_an_operator(tmp_path: Path) -> None:
    prompts = io.StringIO()
    adapter = ManualAdapter(stdout=prompts)
    adapter.stdin = Operator(prompts, adapter, tmp_path)
    assert_passed(certify(adapter, tmp_path / "out"))
    said = prompts.getvalue()
    assert "SUBMIT job" in said and "TICK" in said and "RESTART" in said and "RECOVER" in said


def test_relay_lines_typed_by_an_operator() -> None:
    assert parse_relay_line("rejected ma_loi=RULE-102 Mức lương thấp") == {
        "kind": "rejected",
        "ma_loi": "RULE-102",
        "detail": "Mức lương thấp",
    }
