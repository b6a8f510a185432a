"""The container recipe says why it cannot run, so the container tests skip with a
reason a person can act on; and it rebuilds an image only when what it is built from
changed."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import cast

import pytest

from phoenix_assets_tests.deploy import podman_env


def test_no_podman_and_not_root_is_a_reason_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(podman_env.shutil, "which", lambda name: None)
    monkeypatch.setattr(podman_env.os, "geteuid", lambda: 1000)
    with pytest.raises(podman_env.PodmanUnavailable, match="cannot be installed: not root"):
        podman_env.ensure_podman()


def test_no_podman_and_no_apt_get_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(podman_env.shutil, "which", lambda name: None)
    monkeypatch.setattr(podman_env.os, "geteuid", lambda: 0)
    with pytest.raises(podman_env.PodmanUnavailable, match="no apt-get"):
        podman_env.ensure_podman()


def test_a_failed_install_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        podman_env.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None
    )
    monkeypatch.setattr(podman_env.os, "geteuid", lambda: 0)

    def refuse(command: list[str], **_: object) -> object:
        raise OSError("no network")

    monkeypatch.setattr(podman_env.subprocess, "run", refuse)
    with pytest.raises(podman_env.PodmanUnavailable, match="could not be installed: no network"):
        podman_env.ensure_podman()


def test_no_compose_and_not_root_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(podman_env.shutil, "which", lambda name: None)
    monkeypatch.setattr(podman_env.os, "geteuid", lambda: 1000)
    with pytest.raises(podman_env.PodmanUnavailable, match="docker-compose not installed"):
        podman_env.ensure_compose()


class _BaseImage:
    """A Podman stand-in answering only the base image's id."""

    def __init__(self, image_id: str) -> None:
        self.image_id = image_id

    def run(self, args: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 0, stdout=f"{self.image_id}\n", stderr="")


def test_the_image_is_rebuilt_when_its_context_or_base_changes(tmp_path: Path) -> None:
    for name in podman_env.BUILD_CONTEXT_FILES:
        (tmp_path / name).write_text(name)
    package = tmp_path / "phoenix_assets"
    (package / "__pycache__").mkdir(parents=True)
    (package / "module.py").write_text("x = 1\n")
    podman = cast(podman_env.Podman, _BaseImage("base-1"))
    first = podman_env.context_digest(podman, tmp_path)

    (package / "__pycache__" / "module.cpython-311.pyc").write_bytes(b"bytecode")
    assert podman_env.context_digest(podman, tmp_path) == first, "bytecode is not context"
    (package / "module.py").write_text("x = 2\n")
    changed = podman_env.context_digest(podman, tmp_path)
    assert changed != first
    (tmp_path / "Dockerfile").write_text("FROM elsewhere")
    assert podman_env.context_digest(podman, tmp_path) != changed
    assert podman_env.context_digest(
        cast(podman_env.Podman, _BaseImage("base-2")), tmp_path
    ) != podman_env.context_digest(podman, tmp_path)


def test_a_stand_in_recipe_digest_covers_its_files_and_build_args(tmp_path: Path) -> None:
    (tmp_path / "Containerfile").write_text("FROM base\n")
    first = podman_env.recipe_digest(tmp_path, {"VERSION": "1"})
    assert podman_env.recipe_digest(tmp_path, {"VERSION": "2"}) != first
    (tmp_path / "entrypoint.sh").write_text("#!/bin/sh\n")
    assert podman_env.recipe_digest(tmp_path, {"VERSION": "1"}) != first
