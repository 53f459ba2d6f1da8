"""``dossier defects`` prints a table a person reads (name, op, codes, the procedures of
the catalog each applies to); ``--json`` keeps the JSON scripts read, unchanged.

Also here (no test folder of its own is this change's): a master port in use is refused
with a hint naming the options that fix it.
"""

from __future__ import annotations

import json
import socket

import pytest
from click.testing import CliRunner

from harness.catalog import load_catalog
from harness.cli import main
from harness.dossiers.defect_targets import applies_in
from harness.dossiers.defects import load_defects
from harness.errors import ConfigError
from harness.load.processes import Master, check_master_address


def _run(*args: str) -> str:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["dossier", "defects", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_is_the_previous_output_exactly() -> None:
    rows = {name: {"op": d.op, "expect": list(d.codes)} for name, d in load_defects().items()}
    assert _run("--json") == json.dumps(rows, ensure_ascii=False, indent=1) + "\n"


def test_the_table_names_each_defect_its_codes_and_procedures() -> None:
    catalog = load_catalog("2024.1")
    text = _run("--catalog", "2024.1")
    assert not text.lstrip().startswith("{") and "catalog 2024.1" in text
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if "│" in line}
    every = len(catalog.procedures)
    for name, d in load_defects().items():
        row = rows[name]
        assert f" {d.op} " in row and ", ".join(d.expect) in row
        codes = [c for c, p in catalog.procedures.items() if applies_in(catalog, p, d)]
        assert (f"all {every}" if len(codes) == every else ", ".join(codes) or "none") in row


def test_a_master_port_in_use_is_refused_with_a_hint() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError) as caught:
            check_master_address(Master("127.0.0.1", port))
    assert f"--master-port {port} is in use" in str(caught.value)
    assert caught.value.hint is not None and "or 0 for any free one" in caught.value.hint


def test_piped_the_table_keeps_one_line_a_defect() -> None:
    """Rich wrapped a piped table at 80 columns (`period-before-in-f` / `orce`): grep
    found half a name."""
    result = CliRunner(env={"COLUMNS": "80"}).invoke(main, ["dossier", "defects"])
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == len(load_defects())
    assert {row.split("│")[1].strip() for row in rows} == set(load_defects())


def test_a_misspelt_defect_gets_a_did_you_mean() -> None:
    result = CliRunner().invoke(main, ["dossier", "build", "600", "--defect", "wage-below-minimun"])
    assert result.exit_code == 2, result.output
    assert "Hint: did you mean 'wage-below-minimum'? known defects: " in result.output
