"""The README's settings tables and the code's environment variables are the same set:
a variable added, renamed or dropped in code without its row (or the other way round)
fails here, so the tables cannot drift."""

import importlib
import pkgutil
import re
from pathlib import Path

import phoenix_assets

README = Path(__file__).resolve().parents[1] / "README.md"
VARIABLE = re.compile(r"^(PHOENIX|MONGODB|MARICOPA|MLS_RESO)_[A-Z0-9_]*[A-Z0-9]$")
# The code location itself (its import loads the definitions and opens the instance).
NOT_IMPORTED = {"phoenix_assets.definitions", "phoenix_assets.step_preload"}
# Read by the tests, not the product; documented in the README's testing section.
TEST_ONLY = {"PHOENIX_TEST_MONGODB_URI"}


def variables_in_code() -> dict[str, str]:
    """Every module-level constant of the package whose value is an environment variable's
    name, with the module defining it."""
    found: dict[str, str] = {}
    for module_info in pkgutil.walk_packages(phoenix_assets.__path__, "phoenix_assets."):
        if module_info.name in NOT_IMPORTED:
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, str) and VARIABLE.match(value):
                found.setdefault(value, module_info.name)
    return found


def variables_in_readme() -> set[str]:
    """The variables named in the first column of the README's tables."""
    names: set[str] = set()
    for row in re.findall(r"^\| ([^|]+) \|", README.read_text(), re.M):
        names.update(re.findall(r"`([A-Z0-9_]+)`", row))
    return {name for name in names if VARIABLE.match(name)}


def test_every_variable_the_code_reads_has_a_row_and_every_row_a_variable() -> None:
    in_code = variables_in_code()
    documented = variables_in_readme()
    undocumented = sorted(f"{name} ({in_code[name]})" for name in set(in_code) - documented)
    assert undocumented == [], "add a row to the README's settings tables"
    stale = sorted(documented - set(in_code) - TEST_ONLY)
    assert stale == [], "these rows name no variable the code reads"
    assert len(in_code) > 50  # the scan found the settings modules
