"""The code location: every definition under ``phoenix_assets/defs``.

Loading it validates the settings (see ``phoenix_assets.settings``): a malformed ZIP
code or an unknown source fails here, naming the variable to fix.
"""

from pathlib import Path

import dagster as dg

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
