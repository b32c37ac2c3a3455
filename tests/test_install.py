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


def _uv_resolve(python: str) -> dict:
    """Resolve the project's dependencies for ``python`` with uv (binary wheels only).

    pip's ``--python-version`` selects wheels for the target but evaluates environment markers
    for the running interpreter (measured with pip 23.2 and 26.3: both pick brian2 2.9.0 for 3.13),
    so the resolution for another Python is done by uv, which evaluates them for the target.
    """
    import re
    import subprocess
    import sys

    pytest.importorskip("uv")
    cmd = [sys.executable, "-m", "uv", "pip", "compile", str(PYPROJECT), "--python-version", python,
           "--only-binary", ":all:", "--no-header", "--no-annotate", "--quiet"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=PYPROJECT.parent)
    except subprocess.TimeoutExpired:
        pytest.skip("uv could not reach the package index within 300 s")
    if proc.returncode != 0 and re.search(r"dns error|Connect|network|offline|timed out", proc.stderr, re.I):
        pytest.skip(f"package index not reachable: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode == 0, proc.stderr
    pins = dict(line.split("==", 1) for line in proc.stdout.splitlines() if "==" in line)
    return {name.lower(): version.strip() for name, version in pins.items()}


@pytest.mark.slow
@pytest.mark.parametrize("python, brian2_min", [("3.11", "2.9.0"), ("3.12", "2.10"), ("3.13", "2.11")])
def test_uv_resolves_a_working_pair_for_each_python(python, brian2_min):
    from packaging.version import Version

    pins = _uv_resolve(python)
    assert Version(pins["brian2"]) >= Version(brian2_min), pins["brian2"]
    if python == "3.11":  # the last brian2 for 3.11; it calls ndarray.ptp, removed in numpy 2.4
        assert pins["brian2"] == "2.9.0" and Version(pins["numpy"]) < Version("2.4")
    assert {"scipy", "networkx", "matplotlib", "tqdm", "tomli-w"} <= set(pins)
