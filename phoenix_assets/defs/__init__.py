"""The defs folder: every Dagster definition of the project, loaded by load_from_defs_folder."""
