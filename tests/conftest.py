"""Shared test fixtures."""

import shutil

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A fresh, fixed-seed Generator for each test."""
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def ngspice_path():
    """Path of the ngspice binary; scripts/setup.sh installs it. Missing ngspice is a failure."""
    path = shutil.which("ngspice")
    if path is None:
        pytest.fail("ngspice is not installed: run `bash scripts/setup.sh test` (the README's test command does)")
    return path
