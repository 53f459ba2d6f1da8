"""The CLI: commands listed, exit codes that gate releases, no tracebacks for user errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import requests
from click.testing import CliRunner

from harness.cli import main
from harness.errors import ConfigError
from harness.paths import project_root
from harness.signing import TestPKI


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_help_lists_the_commands() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for command in ("catalog", "dossier", "pki"):
        assert re.search(rf"^\s+{command}\s", out, re.M), command


def _commands(
    command: click.Command, path: str, ctx: click.Context | None = None
) -> Iterator[tuple[str, click.Command]]:
    """Every command and subcommand, those loaded only when named included."""
    yield path, command
    if isinstance(command, click.Group):
        ctx = ctx or click.Context(command, info_name=path)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                child = click.Context(sub, parent=ctx, info_name=name)
                yield from _commands(sub, f"{path} {name}", child)


def _own_help(option: click.Option, command: click.Command) -> str:
    """The option's help as --help shows it, without the ``[default: ...]`` click adds."""
    record = option.get_help_record(click.Context(command))
    return re.sub(r"\s*\[[^\]]*\]\s*$", "", record[1] if record else "").strip()


def test_every_command_and_option_says_what_it_is_for() -> None:
    """--help is the first documentation a user reads: no option without a sentence."""
    silent = [
        f"{path} {'/'.join(param.opts)}"
        for path, command in _commands(main, "bhxh-harness")
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden and not _own_help(param, command)
    ]
    silent += [path for path, command in _commands(main, "bhxh-harness") if not command.help]
    assert silent == []
    walked = {path for path, _ in _commands(main, "bhxh-harness")}
    assert {"bhxh-harness fuzz", "bhxh-harness dossier build", "bhxh-harness pki init"} <= walked


def test_catalog_diff_reports_breaking_changes_and_exits_1() -> None:
    code, out, _ = run("catalog", "diff", "2024.1", "2026.1")
    assert code == 1
    assert "BREAKING" in out and "'OF' removed" in out and "630a" in out


def test_catalog_diff_json_and_identical_versions() -> None:
    code, out, _ = run("catalog", "diff", "2024.1", "2026.1", "--json")
    assert code == 1 and json.loads(out)["summary"]["breaking"] >= 2
    code, out, _ = run("catalog", "diff", "2026.1", "2026.1")
    assert code == 0 and "0 breaking" in out


def test_unknown_version_is_a_usage_error_without_traceback() -> None:
    code, out, err = run("catalog", "diff", "2024.1", "1999.9")
    assert code == 2
    assert "Traceback" not in out + err
    assert "known versions" in err


def test_build_then_check_a_valid_and_a_defective_dossier(tmp_path: Path, pki_dir: Path) -> None:
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    assert run("dossier", "build", "604", "--seed", "3", "-o", str(good))[0] == 0
    code, out, _ = run("dossier", "build", "600", "--defect", "wage-above-cap", "-o", str(bad))
    assert code == 0 and "RULE-103" in out
    code, out, _ = run("dossier", "check", str(good))
    assert code == 0 and "accepted" in out
    code, out, _ = run("dossier", "check", str(good), str(bad))
    assert code == 1 and "RULE-103" in out
    english = out
    code, out, _ = run("dossier", "check", str(bad), "--lang", "vi")
    assert code == 1 and "RULE-103" in out and out.splitlines()[1] not in english


def test_unknown_defect_lists_known_ones() -> None:
    code, _, err = run("dossier", "build", "600", "--defect", "nope")
    assert code == 2 and "known defects" in err and "Traceback" not in err


def test_check_a_folder_and_an_unreadable_file(
    tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "dossiers"
    (folder / "sub").mkdir(parents=True)
    assert run("dossier", "build", "604", "--seed", "3", "-o", str(folder / "a.xml"))[0] == 0
    (folder / "sub" / "b.xml").write_bytes(b"<Hoso>")
    (folder / "notes.txt").write_text("not a dossier", encoding="utf-8")
    code, out, _ = run("dossier", "check", str(folder))
    assert code == 1
    assert f"{folder / 'a.xml'}: accepted" in out and f"{folder / 'sub' / 'b.xml'}: rejected" in out
    assert "notes.txt" not in out
    assert out.splitlines()[-1] == "2 files: 1 accepted, 1 rejected"
    (tmp_path / "empty").mkdir()
    code, _, err = run("dossier", "check", str(tmp_path / "empty"))
    assert code == 2 and "no .xml file in folder" in err and "Traceback" not in err

    opened = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "a.xml":
            raise PermissionError(13, "Permission denied")
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    code, out, _ = run("dossier", "check", str(folder / "a.xml"))
    assert code == 1 and "a.xml: unreadable: Permission denied" in out


def test_an_output_path_that_cannot_be_written_is_one_line(tmp_path: Path, pki_dir: Path) -> None:
    target = tmp_path / "no-such-folder" / "d.xml"
    code, out, err = run("dossier", "build", "604", "-o", str(target))
    assert code == 2 and f"error: {target}: No such file or directory" in err
    assert "Traceback" not in out + err


def test_a_gateway_lost_mid_run_is_one_line_with_a_network_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """requests' errors are OSErrors too, but "check the path" would send the user astray."""

    def lost(*_args: object, **_kwargs: object) -> None:
        raise requests.ConnectionError("Connection aborted: RemoteDisconnected")

    monkeypatch.setattr("harness.regression.run.record", lost)
    code, _out, err = run("record", "--name", "x")
    assert code == 2 and "error: the gateway stopped answering: Connection aborted" in err
    assert "--ca-bundle" in err and "check the path" not in err


def _cli(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BHXH_HARNESS_HOME"}
    if home is not None:
        env["BHXH_HARNESS_HOME"] = str(home)
    command = [sys.executable, "-m", "harness", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_python_dash_m_harness_is_the_cli() -> None:
    result = _cli("--help")
    assert result.returncode == 0 and "Usage: bhxh-harness" in result.stdout


def test_harness_home_points_every_command_at_another_copy_of_the_data(tmp_path: Path) -> None:
    shutil.copytree(project_root() / "fixtures", tmp_path / "fixtures")
    copy = tmp_path / "fixtures" / "catalog" / "2099.1"
    shutil.copytree(copy.parent / "2026.1", copy)
    yaml = copy / "catalog.yaml"
    text = yaml.read_text(encoding="utf-8").replace("2026.1", "2099.1")
    text = text.replace('effective_from: "01/2026"', 'effective_from: "01/2099"')  # after 2026.1
    yaml.write_text(text, encoding="utf-8")
    result = _cli("catalog", "list", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2099.1" in result.stdout  # only the copy has it


def test_one_broken_version_hides_none_of_the_others(tmp_path: Path) -> None:
    shutil.copytree(project_root() / "fixtures", tmp_path / "fixtures")
    broken = tmp_path / "fixtures" / "catalog" / "2099.1"
    broken.mkdir()
    (broken / "catalog.yaml").write_text('version: "2099.1"\nforms: [', encoding="utf-8")
    listed = _cli("catalog", "list", home=tmp_path)
    assert listed.returncode == 1 and "2099.1  cannot load" in listed.stderr  # as check
    assert "2024.1  from" in listed.stdout and "2026.1  from" in listed.stdout
    checked = _cli("catalog", "check", home=tmp_path)  # judged the data: 1, as a failed check
    assert checked.returncode == 1 and "2099.1: error:" in checked.stderr
    assert "2024.1: ok" in checked.stdout and "2026.1: ok" in checked.stdout


def test_a_mistyped_harness_home_is_refused_not_ignored(tmp_path: Path) -> None:
    result = _cli("catalog", "list", home=tmp_path / "typo")
    assert result.returncode == 2
    assert "has no fixtures/catalog/ folder" in result.stderr and "Traceback" not in result.stderr


def test_check_judges_each_file_by_the_catalog_of_its_period_as_the_gateway(
    tmp_path: Path, pki_dir: Path
) -> None:
    old = tmp_path / "old.xml"
    assert run("dossier", "build", "600", "--catalog", "2024.1", "-o", str(old))[0] == 0
    code, out, _ = run("dossier", "check", str(old))
    assert code == 0 and f"{old}: accepted (catalog 2024.1)" in out, out
    code, out, _ = run("dossier", "check", str(old), "--catalog", "2026.1")  # as served alone
    assert code == 1 and f"{old}: rejected (catalog 2026.1)" in out, out


def test_check_shows_each_findings_detail_and_goes_on_past_a_missing_file(
    tmp_path: Path, pki_dir: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "FORM.XML").write_bytes(b'<?xml version="1.0"?><D02-TS/>')  # a form, no envelope
    code, out, _ = run("dossier", "check", str(folder), str(tmp_path / "missing.xml"))
    assert code == 1
    assert "ENV-001 /: Envelope (Hoso) does not match its schema [detail=root is D02-TS]" in out
    assert "missing.xml: unreadable: No such file or directory" in out
    assert out.splitlines()[-1] == "2 files: 0 accepted, 2 rejected"


def test_build_for_another_ivan_is_accepted_with_that_ivans_token(
    tmp_path: Path, pki_dir: Path
) -> None:
    from mock_gateway.testing import InProcessGateway

    target = tmp_path / "ivan02.xml"
    assert run("dossier", "build", "604", "--ivan", "IVAN02", "-o", str(target))[0] == 0
    with InProcessGateway() as gw:
        assert gw.submit(target.read_bytes(), ivan="IVAN02").status == 202
        refused = gw.submit(target.read_bytes(), ivan="IVAN01")
        assert refused.status == 403 and b"ENV-010" in refused.body
    code, _, err = run("dossier", "build", "604", "--ivan", "ivan 2")
    assert code == 2 and "--ivan ivan 2: no envelope of catalog" in err


def test_an_answer_that_is_not_json_is_not_called_the_gateway_stopping() -> None:
    @main.command("explode-json", hidden=True)
    def explode() -> None:
        raise requests.JSONDecodeError("Expecting value", "<html>login</html>", 0)

    try:
        code, _, err = run("explode-json")
    finally:
        main.commands.pop("explode-json")
    assert code == 2 and "an answer was not the JSON expected" in err
    assert "stopped answering" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ("serve", "--clock-speed", "nan"),
        ("serve", "--clock-speed", "inf"),
        ("regress", "--baseline", "x", "--poll-timeout", "nan"),
        ("record", "--name", "x", "--max-backoff", "inf"),
    ],
)
def test_a_number_that_is_not_finite_is_refused_at_the_option(args: tuple[str, ...]) -> None:
    """NaN passes click's FloatRange; it ended in the database as a traceback."""
    code, _, err = run(*args)
    assert code == 2 and "is not a finite number" in err and "Traceback" not in err


def test_gateway_settings_refuse_a_clock_speed_that_is_not_finite() -> None:
    from mock_gateway.config import GatewayConfig

    with pytest.raises(ConfigError, match="clock_speed must be a finite number"):
        GatewayConfig(clock_speed=float("nan"))


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("regress", "--baseline", "x", "--token", "mật-khẩu"), "not a usable token"),
        (("record", "--name", "x", "--admin-token", "quản trị"), "not a usable token"),
        (("fuzz", "--gateway", "http://127.0.0.1:9", "--token", "khóa"), "not a usable token"),
        (("certify", "--ivan-token", "bí mật"), "not a usable token"),
        (("serve", "--admin-token", "quản-trị"), "not a usable token"),
        (("serve", "--ivan-token", "IVAN01=mật-khẩu"), "visible ASCII"),
        (("serve", "--ivan-token", "IVẠN01=secret"), "can name I-VAN IVẠN01"),
        (("serve", "--ivan-token", "IVAN01=a", "--ivan-token", "IVAN01=b"), "given twice"),
        (("load", "--ivan-token", "IVAN01=mật", "--gateway", "http://127.0.0.1:9"), "ASCII"),
    ],
)
def test_a_token_no_http_header_can_carry_is_a_usage_error(
    args: tuple[str, ...], says: str
) -> None:
    """A token with diacritics ended every suite in a UnicodeEncodeError traceback, and
    made a served gateway no client could reach."""
    code, out, err = run(*args)
    assert code == 2 and says in out + err and "Traceback" not in out + err


def test_gateway_settings_refuse_a_token_or_code_no_client_can_send() -> None:
    from mock_gateway.config import GatewayConfig

    with pytest.raises(ConfigError, match="the token of IVAN01: a token is sent in an HTTP"):
        GatewayConfig(ivan_tokens={"IVAN01": "mật-khẩu"})
    with pytest.raises(ConfigError, match="I-VAN code 'IVẠN01'"):
        GatewayConfig(ivan_tokens={"IVẠN01": "secret"})


def test_record_refuses_a_bad_baseline_name_before_replaying_anything() -> None:
    code, out, err = run(
        "record", "--gateway", "inproc", "--name", "tham-chiếu", "--procedure", "600"
    )
    assert code == 2 and "not a simple folder name" in err and "no diacritics" in err
    assert "replayed" not in out + err


@pytest.mark.parametrize("encoding", ["ascii", "cp1258"])
def test_vietnamese_output_survives_a_terminal_that_cannot_encode_it(
    tmp_path: Path, pki_dir: Path, encoding: str
) -> None:
    """The report was written, then the summary died in a UnicodeEncodeError (exit 1,
    like a FAILED run)."""
    dossier = tmp_path / "hồ sơ.xml"
    assert (
        run("dossier", "build", "600", "--defect", "wage-below-minimum", "-o", str(dossier))[0] == 0
    )
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    done = subprocess.run(
        [sys.executable, "-m", "harness", "dossier", "check", str(dossier), "--lang", "vi"],
        capture_output=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1, done.stderr.decode(errors="replace")  # rejected, as expected
    assert b"RULE-102" in done.stdout and b"Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:////srv/Cơ sở dữ liệu.sqlite3", "sqlite:////srv/Cơ sở dữ liệu.sqlite3"),
        ("postgresql+psycopg://bhxh:bí-mật@db/gw", "postgresql+psycopg://bhxh:***@db/gw"),
    ],
)
def test_serve_names_its_database_as_typed_without_the_password(url: str, shown: str) -> None:
    from mock_gateway.urls import redact_url

    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("file", "content", "command", "says"),
    [
        ("catalog/2026.1/catalog.yaml", None, ("catalog", "check"), "control character U+0000"),
        ("dossiers/defects.yaml", "foo: bar\n", ("dossier", "defects"), "defect foo: expected"),
        ("dossiers/defects.yaml", "", ("dossier", "defects"), "a defects file maps"),
        ("dossiers/defects.yaml", "x: {op: bad-base64, expect: ENV-008}\n", ("dossier", "defects"),
         "expect must list the error code(s)"),
    ],
)  # fmt: skip
def test_a_damaged_data_file_is_named_not_a_traceback(
    tmp_path: Path, file: str, content: str | None, command: tuple[str, ...], says: str
) -> None:
    shutil.copytree(project_root() / "fixtures", tmp_path / "fixtures")
    path = tmp_path / "fixtures" / file
    path.write_bytes(path.read_bytes() + b"\x00" if content is None else content.encode())
    result = _cli(*command, home=tmp_path)
    judged = command == ("catalog", "check")  # the data is what it checks: a failed check
    assert result.returncode == (1 if judged else 2), result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_exits_130_not_1_like_a_failed_run(tmp_path: Path, pki_dir: Path) -> None:
    """A CI job reading exit 1 would record an interrupted run as a failed I-VAN."""
    import signal
    import time

    env = {**os.environ, "BHXH_HARNESS_PKI": str(pki_dir)}
    command = [sys.executable, "-m", "harness", "fuzz", "--duration", "120"]
    command += ["--found", str(tmp_path / "found"), "--out", str(tmp_path)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err


@pytest.mark.parametrize("root", ["afile", "afile/below"])
def test_record_refuses_a_root_it_cannot_write_before_replaying(tmp_path: Path, root: str) -> None:
    (tmp_path / "afile").write_text("not a folder", encoding="utf-8")
    code, out, err = run(
        "record", "--name", "x", "--procedure", "600", "--root", str(tmp_path / root)
    )
    assert code == 2 and "cannot keep baselines in" in err and "replayed" not in out + err


def test_check_stops_reading_past_the_gateways_size_limit(pki_dir: Path, tmp_path: Path) -> None:
    """`dossier check /dev/zero` grew to 23 GB before the kernel killed it (a device is now
    refused as not a regular file; a huge file is still read only to the cap)."""
    from harness.xmlsafe import XMLLimits

    huge = tmp_path / "huge.xml"
    with huge.open("wb") as handle:
        handle.truncate(XMLLimits().max_bytes * 4)  # sparse: nothing written
    code, out, _ = run("dossier", "check", str(huge))
    assert code == 1 and "LIM-001" in out and "the gateway's limit" in out
    code, out, _ = run("dossier", "check", "/dev/zero")
    assert code == 1 and "/dev/zero: unreadable: not a regular file" in out


@pytest.mark.parametrize(
    "command",
    [
        ("regress", "--baseline", "reference-2026.1", "--token", "t"),
        ("load", "--duration", "5"),
    ],
)
def test_a_web_server_that_is_not_the_gateway_is_refused_before_the_run(
    web_server: str, command: tuple[str, ...]
) -> None:
    """regress ran for 110 s and reported '202 accepted -> 501'; load gave a FAILED verdict."""
    code, out, err = run(*command, "--gateway", f"http://{web_server}")
    assert code == 2, out + err
    assert "does not answer as a BHXH gateway: GET /api/v1/catalog answered 404" in err


def test_a_closed_port_is_said_in_words() -> None:
    from harness.tls import gateway_session, reach

    with gateway_session() as session, pytest.raises(ConfigError) as info:
        reach(session, "http://127.0.0.1:9")
    assert "the connection was refused" in str(info.value)
    assert "ConnectionError" not in str(info.value)


@pytest.mark.parametrize(("command", "local"), [("regress", "inproc"), ("load", "local")])
def test_a_local_gateway_name_in_capitals_suggests_the_name(command: str, local: str) -> None:
    args = ["--baseline", "reference-2026.1"] if command == "regress" else []
    code, _, err = run(command, *args, "--gateway", local.upper())
    assert code == 2 and f"did you mean '{local}'?" in err


@pytest.mark.parametrize(
    "args",
    [
        ("dossier", "build", "600", "--defect", ""),
        ("dossier", "build", "600", "--catalog", " "),
        ("demo", "--catalog", ""),
        ("record", "--name", "x", "--ivan", ""),
        ("load", "--catalog", ""),
    ],
)
def test_an_empty_name_is_a_usage_error_not_the_default(args: tuple[str, ...]) -> None:
    """`--defect ''` built a valid dossier with exit 0; an unset shell variable is a mistake."""
    code, _, err = run(*args)
    assert code == 2 and "an empty value" in err


def test_record_refuses_an_ivan_code_no_envelope_can_carry(tmp_path: Path, pki_dir: Path) -> None:
    """`--ivan ivan01` recorded a baseline in which no dossier was accepted, exit 0."""
    code, out, err = run("record", "--name", "x", "--ivan", "ivan01", "--root", str(tmp_path))
    assert code == 2 and "--ivan ivan01: no envelope of catalog" in err
    assert "replayed" not in out + err and not (tmp_path / "x").exists()


def test_a_cache_setting_naming_a_file_says_so(tmp_path: Path) -> None:
    """It said only "File exists", not which setting or what to do."""
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    env = {**os.environ, "BHXH_HARNESS_CACHE": str(afile)}
    env.pop("BHXH_HARNESS_PKI", None)
    done = subprocess.run(
        [sys.executable, "-m", "harness", "dossier", "build", "600", "-o", str(tmp_path / "d.xml")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "($BHXH_HARNESS_CACHE): it is a file, not a folder" in done.stderr


@pytest.mark.parametrize(
    "command", [("regress", "--baseline", "reference-2026.1", "--token", "t"), ("load",)]
)
def test_a_ca_bundle_that_is_not_pem_is_named_for_every_command(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """It was reported as an untrusted certificate, which sends the user after the wrong file."""
    der = tmp_path / "ca.der"
    der.write_bytes(b"\x30\x82\x01\x0a" + b"\x00" * 64)
    code, _, err = run(*command, "--gateway", "https://127.0.0.1:9", "--ca-bundle", str(der))
    assert code == 2 and "is not a PEM CA bundle" in err


def test_sigterm_exits_143_and_leaves_no_scratch_folder(tmp_path: Path, pki_dir: Path) -> None:
    """A terminated certify left /tmp/bhxh-certify-* (3 MB) behind, and exited -15."""
    import signal
    import time

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "BHXH_HARNESS_PKI": str(pki_dir), "TMPDIR": str(scratch)}
    command = [sys.executable, "-m", "harness", "certify", "--adapter", "reference"]
    command += ["--procedures", "600", "--out", str(tmp_path / "out"), "--no-progress"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(scratch.glob("bhxh-certify-*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(scratch.glob("bhxh-certify-*")), "the run never made its scratch folder"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert "terminated" in err and "Traceback" not in err
    assert not list(scratch.glob("bhxh-certify-*"))


@pytest.mark.parametrize(
    "args",
    [
        ("catalog", "check", ""),
        ("dossier", "check", ""),
        ("dossier", "corpus", "-o", ""),
    ],
)
def test_an_empty_argument_is_not_every_version_or_the_current_folder(
    args: tuple[str, ...],
) -> None:
    code, _, err = run(*args)
    assert code == 2 and "an empty value" in err


def test_the_written_corpus_is_the_one_record_replays(tmp_path: Path, pki: TestPKI) -> None:
    """It lacked the quirk variants (NFD names, ISO dates), so vendors could not get them;
    and by default it wrote three seeds where `record` replays one."""
    from harness.regression.corpus import CorpusRecipe, build_corpus

    code, out, err = run("dossier", "corpus", "-o", str(tmp_path / "c"))
    assert code == 0, err
    written = {str(p.relative_to(tmp_path / "c")) for p in (tmp_path / "c").rglob("*.xml")}
    replayed = {f"{e.name}.xml" for e in build_corpus(CorpusRecipe("2026.1"), pki)}
    assert written == replayed and "600/iso-dates-0000.xml" in written
    assert f"wrote {len(replayed)} dossiers" in out


@pytest.mark.parametrize("seeds", ["0", "-1"])
def test_a_corpus_needs_at_least_one_seed(tmp_path: Path, seeds: str) -> None:
    code, _, err = run("dossier", "corpus", "-o", str(tmp_path / "c"), "--seeds", seeds)
    assert code == 2 and "--seeds" in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("load", "--gateway", ""), "--gateway is empty"),
        (("fuzz", "--gateway", "", "--token", "t"), "--gateway is empty"),
        (("certify", "--adapter", "reference", "--gateway", "http://"), "names no host"),
    ],
)
def test_a_gateway_that_is_no_url_at_all_says_so(args: tuple[str, ...], says: str) -> None:
    """'' suggested "did you mean http://?", and certify said 'the gateway at http:'."""
    code, _, err = run(*args)
    assert code == 2 and says in err


def test_a_coded_refusal_is_the_gateways_not_a_stranger() -> None:
    """A 503 SRV-001 (a burst, a maintenance window) or a 401 comes from the gateway: only
    an answer with no BHXH code is another server."""
    import requests

    from harness.gateway_url import refuse_non_gateway

    def answer(status: int, headers: dict[str, str], body: bytes) -> requests.Response:
        response = requests.Response()
        response.status_code, response._content = status, body
        response.headers.update(headers)
        return response

    refuse_non_gateway("http://g", answer(503, {"X-BHXH-Ma-Loi": "SRV-001"}, b""))
    refuse_non_gateway("http://g", answer(401, {"X-BHXH-Ma-Loi": "AUTH-002"}, b""))
    with pytest.raises(ConfigError, match="does not answer as a BHXH gateway"):
        refuse_non_gateway("http://g", answer(503, {"Content-Type": "text/html"}, b"<html/>"))


@pytest.mark.parametrize(
    ("args", "message", "command"),
    [
        (["serve", "--port", "abc"], "Invalid value for '--port': 'abc' is not a valid", "serve"),
        (["serve", "--clock-speed", "-1"], "Invalid value for '--clock-speed'", "serve"),
        (["load", "--duration", "abc"], "Invalid value for '--duration'", "load"),
        (["fuzz", "--bugdet", "5"], "No such option '--bugdet'", "fuzz"),
        (["catalog", "chek"], "No such command 'chek'", "catalog"),
    ],
)
def test_an_option_click_refuses_is_one_line_and_a_hint(
    args: list[str], message: str, command: str
) -> None:
    """Not click's usage block ("Usage: ... / Try ... / Error: ..."): every other usage
    error of every command is `error:` and `Hint:`."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    first, hint, *rest = result.output.splitlines()
    assert first.startswith(f"error: {message}") and rest == []
    assert hint.startswith("Hint: ") and f"see `main {command} --help`" in hint
