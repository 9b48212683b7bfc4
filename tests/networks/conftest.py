"""Network tests run offline by construction: every download entry point and internet socket raises here.

The guard is module-scoped and autouse, so it is in place before any module fixture builds a model. A test that
fakes a download patches the entry point again on top (``monkeypatch``), which is undone after the test.
"""

from __future__ import annotations

import socket

import huggingface_hub
import pytest
import timm.models._hub
import torch


class NetworkAttempted(AssertionError):
    """Raised by the guard: some code tried to reach the network."""


CALLS: list[str] = []


def _refuse(what: str):
    def refuse(*args, **kwargs):
        CALLS.append(what)
        raise NetworkAttempted(f"{what} was called with {args} {kwargs}: tests must not touch the network")

    return refuse


_real_connect = socket.socket.connect


def _connect(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        return _refuse("socket.connect")(address)
    return _real_connect(sock, address)


@pytest.fixture(scope="module", autouse=True)
def offline_guard():
    """Make every way out to the network raise :class:`NetworkAttempted` and record it in ``CALLS``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.hub, "download_url_to_file", _refuse("torch.hub.download_url_to_file"))
        mp.setattr(huggingface_hub, "hf_hub_download", _refuse("huggingface_hub.hf_hub_download"))
        mp.setattr(timm.models._hub, "hf_hub_download", _refuse("timm hf_hub_download"))
        mp.setattr(timm.models._hub, "download_url_to_file", _refuse("timm download_url_to_file"))
        mp.setattr(socket, "getaddrinfo", _refuse("socket.getaddrinfo"))
        mp.setattr(socket.socket, "connect", _connect)
        yield


@pytest.fixture
def network_calls():
    """The network attempts made during one test (must stay empty)."""
    CALLS.clear()
    yield CALLS


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty ``TORCH_HOME``; returns the checkpoints folder the factories look in."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    return tmp_path / "torch_home" / "hub" / "checkpoints"
