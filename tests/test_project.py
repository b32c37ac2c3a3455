"""The project foundation: dependencies import together, the error hierarchy, declared constraints."""

import importlib.metadata as md

import numpy as np
import pytest

import neurosim
from neurosim.errors import (
    ConvergenceError,
    DeviceCardError,
    NetlistError,
    NeurosimError,
    ParameterError,
    SpiceSyntaxError,
)
from neurosim.params import Checked, Param, check_array, check_params


def test_brian2_imports_with_the_installed_numpy():
    # brian2 2.9.0 calls ndarray.ptp, which numpy 2.4 removed: the pin in pyproject keeps them compatible.
    import brian2

    assert brian2.__version__ == "2.9.0"
    major, minor = (int(p) for p in np.__version__.split(".")[:2])
    assert (major, minor) < (2, 4)
    # Exercise a code path that touches numpy (unit arithmetic on arrays).
    q = np.array([1.0, 2.0]) * brian2.mV + 3 * brian2.mV
    assert np.allclose(np.asarray(q / brian2.mV), [4.0, 5.0])


def test_distribution_name_is_not_the_unrelated_pypi_project():
    assert md.metadata("neurosim-memristive")["Name"] == "neurosim-memristive"
    assert neurosim.__version__ == md.version("neurosim-memristive")


def test_error_hierarchy():
    for cls in (ParameterError, DeviceCardError, NetlistError, SpiceSyntaxError, ConvergenceError):
        assert issubclass(cls, NeurosimError)
    assert issubclass(ParameterError, ValueError)
    assert issubclass(DeviceCardError, ParameterError)
    assert issubclass(SpiceSyntaxError, NetlistError)
    err = SpiceSyntaxError("unknown element 'Q1'", path="deck.cir", line=7)
    assert str(err) == "deck.cir:7: unknown element 'Q1'" and err.line == 7
    err = DeviceCardError("must be > 0, got -1", path="hp.toml", key="R_on")
    assert str(err) == "hp.toml: key 'R_on': must be > 0, got -1"


@pytest.mark.parametrize(
    "param, value, message",
    [
        (Param("int", low=1), 0, "LSTM: x must be an integer >= 1, got 0"),
        (Param("int", low=1), 2.0, "LSTM: x must be an integer >= 1, got 2.0"),
        (Param("int", low=1), True, "LSTM: x must be an integer >= 1, got True"),
        (Param("real", low=0, low_open=True, unit="ohm"), -5.0, "LSTM: x must be a real number > 0 ohm, got -5.0"),
        (Param("real", low=0, high=1), float("nan"), "LSTM: x must be a real number in [0, 1], got nan"),
        (Param("real"), float("inf"), "LSTM: x must be a finite real number, got inf"),
        (Param("choice", choices=("tanh", "relu")), "gelu", "LSTM: x must be one of 'tanh', 'relu', got 'gelu'"),
        (Param("bool"), 1, "LSTM: x must be a bool, got 1"),
    ],
)
def test_param_errors_have_one_format(param, value, message):
    with pytest.raises(ParameterError) as info:
        check_params("LSTM", {"x": param}, {"x": value})
    assert str(info.value) == message


def test_param_normalises_and_accepts_numpy_scalars():
    out = check_params("C", {"n": Param("int", low=1), "r": Param("real", low=0)}, {"n": np.int64(3), "r": 2})
    assert out == {"n": 3, "r": 2.0} and type(out["n"]) is int and type(out["r"]) is float
    assert Param("real", optional=True).check("C", "r", None) is None


def test_checked_dataclass():
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Resistor(Checked):
        _params = {"resistance": Param("real", low=0, low_open=True, unit="ohm")}
        resistance: float

    assert Resistor(10).resistance == 10.0
    with pytest.raises(ParameterError, match=r"Resistor: resistance must be a real number > 0 ohm, got 0"):
        Resistor(0)


def test_check_array_names_shapes_and_refuses_nan():
    x = np.zeros((5, 2, 3))
    assert check_array("LSTM", "input", x, shape=(None, None, 3)) is x
    with pytest.raises(ParameterError, match=r"LSTM: input must have shape \(time, batch, 4\), got \(5, 2, 3\)"):
        check_array("LSTM", "input", x, shape=(None, None, 4), shape_names=("time", "batch", None))
    with pytest.raises(ParameterError, match=r"input must have 2 or 3 dimensions, got 1"):
        check_array("LSTM", "input", np.zeros(3), ndim=(2, 3))
    x[1, 1, 1] = np.nan
    with pytest.raises(ParameterError, match=r"input must be finite, got 1 NaN or inf"):
        check_array("LSTM", "input", x)
    with pytest.raises(ParameterError, match=r"numeric array"):
        check_array("LSTM", "input", [[1, 2], [3]])


def test_data_files_found_in_checkout_and_install_layouts(tmp_path, monkeypatch):
    from pathlib import Path

    import neurosim.resources as res

    repo = Path(res.__file__).resolve().parents[1]
    assert res.data_dir("devices") == repo / "devices"
    assert (res.data_dir("circuits") / "cell_1s1r.cir").is_file()
    # An installed copy has no repository folders beside the package: the package's own copies are used.
    fake_pkg = tmp_path / "site" / "neurosim"
    fake_pkg.mkdir(parents=True)
    monkeypatch.setattr(res, "_PACKAGE", fake_pkg)
    assert res.data_dir("devices") == fake_pkg / "_cards"
    with pytest.raises(ValueError, match="kind must be one of"):
        res.data_dir("models")


def test_plain_config_round_trips_and_names_bad_keys_and_lines(tmp_path):
    import dataclasses

    from neurosim.config import PlainConfig

    @dataclasses.dataclass(frozen=True)
    class Sweep(PlainConfig):
        _params = {"n": Param("int", low=1), "r_wire": Param("real", low=0, unit="ohm")}
        n: int = 4
        r_wire: float = 1.0
        label: str = "a \"quoted\" name"

    cfg = Sweep(n=8, r_wire=2.5)
    path = tmp_path / "sweep.toml"
    assert Sweep.from_toml(cfg.to_toml(path)) == cfg == Sweep.from_toml(path) == Sweep.from_toml(str(path))
    assert cfg.replace(n=2).n == 2
    with pytest.raises(ParameterError, match=r"Sweep: unknown key\(s\) \['bits'\]"):
        Sweep.from_dict({"n": 2, "bits": 3})
    with pytest.raises(ParameterError, match=r"Sweep: n must be an integer >= 1, got 0"):
        Sweep.from_toml("n = 0\n")
    path.write_text("n = 2\nr_wire = = 1\n")
    with pytest.raises(ParameterError, match=r"sweep.toml: .*line 2"):
        Sweep.from_toml(path)
