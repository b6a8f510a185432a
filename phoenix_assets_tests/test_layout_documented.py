"""The README's layout and the package's tree name the same modules and folders: the
package's top level and ``defs/`` each entry of which has its line in the layout, and
every entry the layout names there exists, so "where is X" is answered by the README."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "phoenix_assets"


def layout_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Layout") :]
    return section[section.index("```") + 3 : section.index("```", section.index("```") + 3)]


def entries(folder: Path) -> set[str]:
    """A folder's modules (``name.py``) and packages (``name/``), as the layout writes them."""
    names = set()
    for path in folder.iterdir():
        if path.suffix == ".py" and path.name != "__init__.py":
            names.add(path.name)
        elif path.is_dir() and (path / "__init__.py").exists():
            names.add(f"{path.name}/")
    return names


def named_at(indent: int, block: str, after: str, until: str) -> set[str]:
    """The entries the layout names at this indentation, between two of its lines."""
    lines = block.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(after))
    end = next(i for i, line in enumerate(lines) if i > start and line.startswith(until))
    pattern = re.compile(rf"^ {{{indent}}}([a-z_]+(?:\.py|/))\s")
    return {m.group(1) for line in lines[start:end] if (m := pattern.match(line + " "))}


def test_the_package_top_level_is_the_layout_top_level() -> None:
    named = named_at(2, layout_block(), "phoenix_assets/", "phoenix_assets_tests/")
    assert named == entries(PACKAGE)


def test_the_defs_folder_is_the_layout_defs_folder() -> None:
    named = named_at(4, layout_block(), "  defs/", "  sources/")
    assert named == entries(PACKAGE / "defs")
