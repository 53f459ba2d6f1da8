"""The packages behind the commands import their public names on first use: a command's
module is a submodule, so its ``--help`` runs the package's ``__init__`` first.

Each probe runs in a fresh interpreter, since this test session has long loaded them all.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from types import ModuleType

import pytest

from tests.test_cli_startup import HEAVY, loaded_by

LIBRARIES = (*HEAVY, "cryptography", "faker", "jinja2", "lxml")
PACKAGES = (
    "harness.certification",
    "harness.load",
    "harness.regression",
    "harness.reporting",
    "harness.signing",
)


def _run(script: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_a_package_loads_no_library_until_a_name_is_used(package: str) -> None:
    script = f"import sys, {package}; print(*sorted(set({LIBRARIES!r}) & set(sys.modules)))"
    assert _run(script).split() == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_is_there_and_none_is_a_module(package: str) -> None:
    module = importlib.import_module(package)
    values = [getattr(module, name) for name in module.__all__]
    assert not [v for v in values if isinstance(v, ModuleType)]


@pytest.mark.parametrize(
    ("package", "name"), [("harness.regression", "replay"), ("harness.certification", "faulty")]
)
def test_a_function_named_like_its_submodule_stays_the_function(package: str, name: str) -> None:
    """Importing the submodule first binds it on the package; the exported function wins."""
    script = (
        f"import {package}.{name}\n"
        f"from {package} import {name}\n"
        f"import {package} as package\n"
        f"print(callable({name}), package.{name} is {name})"
    )
    assert _run(script).split() == ["True", "True"]


@pytest.mark.parametrize("command", ["certify", "demo", "load", "record", "regress"])
def test_a_suites_help_loads_no_heavy_library(command: str) -> None:
    loaded, out = loaded_by(command, "--help")
    assert loaded == set() and "Usage: bhxh-harness" in out


@pytest.mark.parametrize("package", ["harness", *PACKAGES])
def test_a_lazy_package_still_lists_its_exports(package: str) -> None:
    """dir(), help() and tab completion showed only what had been loaded so far."""
    module = importlib.import_module(package)
    assert set(module.__all__) <= set(dir(module))
