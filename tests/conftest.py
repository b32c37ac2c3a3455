"""Shared test fixtures."""

import importlib
import shutil

import _pytest.doctest
import numpy as np
import pytest

# brian2 2.9.0 replaces pytest's doctest collector with its own on import (brian2.tests), after which
# the package's __init__ doctests fail to collect; import it once here and put pytest's back.
_doctest_module = _pytest.doctest.DoctestModule
import brian2  # noqa: E402,F401

_pytest.doctest.DoctestModule = _doctest_module


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


@pytest.fixture(scope="session")
def chromium_path():
    """Headless Chromium (Debian's ``chromium``; scripts/setup.sh installs it). Missing is a failure."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed: run `bash scripts/setup.sh test` (the README's test command does)")
    return path


def require(module: str):
    """Import a test dependency (the ``test`` extra: torch, scikit-learn); missing is a failure, not
    a skip, so that a reference comparison can never disappear silently from a run."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(f"{module} is not installed ({exc}): run `bash scripts/setup.sh test` (the README's test command does)")
