"""Fixtures every test folder shares (helpers to import are in
tests/_*_helpers.py)."""

import pytest
from _device_helpers import SimulatedDeviceBackend

import skmlp._estimators.base
from skmlp._backends import get_backend


@pytest.fixture
def simulated_device(monkeypatch):
    """backend='cupy' runs on a fresh SimulatedDeviceBackend (returned)."""
    device = SimulatedDeviceBackend()

    def select(name):
        return device if name == "cupy" else get_backend(name)

    monkeypatch.setattr(skmlp._estimators.base, "get_backend", select)
    return device
