"""The container recipe says why it cannot run, so the container test skips with a
reason a person can act on."""

from __future__ import annotations

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
