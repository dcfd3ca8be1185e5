"""Fixtures of the device-link tests: a real loopback sshd, board Pythons, a home with devices.yaml."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from edgekit.devices.ssh import SSH_OPTIONS_ENV
from edgekit.paths import HOME_ENV
from tests.bench._tiny import tiny_onnx
from tests.devices._boards import minimal_python
from tests.devices._sshd import Sshd, available, loopback_sshd


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    reason = available()
    if reason:
        pytest.skip(reason)
    with loopback_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="session")
def board_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The board's Python: the standard library, numpy and onnxruntime — no edgekit, pydantic or psutil."""
    return minimal_python(tmp_path_factory.mktemp("board-python"))


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_onnx(tmp_path_factory.mktemp("devices") / "tiny.onnx")


def write_devices(home: Path, *boards: dict[str, object]) -> Path:
    """``home/devices.yaml`` with these boards."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "devices.yaml"
    path.write_text(yaml.safe_dump({"schema_version": 1, "boards": list(boards)}))
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sshd: Sshd, board_python: Path) -> Path:
    """A fresh EDGEKIT_HOME (its own store) whose devices.yaml names the loopback board ``loop`` (profile host)."""
    home = tmp_path / "home"
    monkeypatch.setenv(HOME_ENV, str(home))
    monkeypatch.setenv(SSH_OPTIONS_ENV, shlex.join(sshd.client_options()))
    write_devices(home, loop_board(sshd, board_python, tmp_path / "board-cache"))
    return home


def loop_board(sshd: Sshd, python: Path, cache: Path, **more: object) -> dict[str, object]:
    """devices.yaml entry of the loopback board."""
    return {"id": "loop", "profile": "host", "link": sshd.link, "python": str(python), "cache_dir": str(cache)} | more
