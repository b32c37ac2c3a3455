"""The dependencies resolve to a working brian2/numpy pair on every supported Python.

brian2 2.9.0 (the last release for Python 3.11) needs numpy < 2.4; brian2 2.10 needs Python >= 3.12
and 2.11 >= 3.13. The environment markers of pyproject.toml are evaluated here for each Python,
with the `packaging` library pip itself uses.
"""

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _requirements(python: str) -> dict:
    deps = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    env = {"python_version": python, "python_full_version": python + ".0", "sys_platform": "linux",
           "platform_system": "Linux", "implementation_name": "cpython"}
    out = {}
    for line in deps:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            assert req.name not in out, f"two requirements for {req.name} apply on Python {python}"
            out[req.name] = req.specifier
    return out


@pytest.mark.parametrize("python, brian2_ok, numpy_ok", [
    ("3.11", ["2.9.0"], ["2.3.5"]),
    ("3.12", ["2.10.0", "2.10.1"], ["2.3.5", "2.4.0"]),
    ("3.13", ["2.11.0"], ["2.4.0", "2.5.2"]),
])
def test_each_python_gets_a_compatible_brian2_and_numpy(python, brian2_ok, numpy_ok):
    reqs = _requirements(python)
    assert {"numpy", "scipy", "networkx", "brian2", "matplotlib", "tqdm"} <= set(reqs)
    assert all(reqs["brian2"].contains(v) for v in brian2_ok)
    assert all(reqs["numpy"].contains(v) for v in numpy_ok)
    if python == "3.11":  # brian2 2.9.0 calls ndarray.ptp, removed in numpy 2.4
        assert not reqs["numpy"].contains("2.4.0") and not reqs["brian2"].contains("2.10.0")
    else:  # brian2 2.10/2.11 only exist for these Pythons: never pin 3.12+ to 2.9.0
        assert not reqs["brian2"].contains("2.9.0")


def test_requires_python():
    spec = SpecifierSet(tomllib.loads(PYPROJECT.read_text())["project"]["requires-python"])
    assert all(spec.contains(v) for v in ("3.11.0", "3.12.0", "3.13.0"))
