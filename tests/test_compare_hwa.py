"""compare(..., hwa_cell=): the three rows of the main job, recomputed independently."""

import numpy as np
import pytest

from neurosim.analog import HardwareConfig, to_analog
from neurosim.cells import GRU
from neurosim.errors import ParameterError
from neurosim.study import compare
from neurosim.tasks import RidgeReadout
from neurosim.tasks.metrics import accuracy, nrmse

HW = HardwareConfig(read_mode="device", dac_bits=5, adc_bits=5)


def _nets():
    plain, hwa = GRU(2, 6, dtype=np.float64, seed=0), GRU(2, 6, dtype=np.float64, seed=1)
    r = np.random.default_rng(0)
    ro = RidgeReadout(r.normal(size=(2, 6)), r.normal(size=2), 0.0)
    ro_h = RidgeReadout(r.normal(size=(2, 6)), r.normal(size=2), 0.0)
    x = r.uniform(-1, 1, (12, 3, 2))
    return plain, hwa, ro, ro_h, x


def test_rows_recomputed_from_the_definitions():
    plain, hwa, ro, ro_h, x = _nets()
    y = ro.predict(plain(x)[0]) + 0.05 * np.random.default_rng(1).normal(size=(12, 3, 2))
    res = compare(plain, HW, x, y, readout=ro, hwa_cell=hwa, hwa_readout=ro_h)
    e_d = nrmse(ro.predict(plain(x)[0]), y)
    e_a = nrmse(ro.predict(to_analog(plain, HW)(x)[0]), y)
    e_h = nrmse(ro_h.predict(to_analog(hwa, HW)(x)[0]), y)
    e_hd = nrmse(ro_h.predict(hwa(x)[0]), y)
    rows = res.training["rows"]
    assert [(r["weights"], r["execution"]) for r in rows] == [("plain", "digital"), ("plain", "analog"),
                                                              ("hardware-aware", "analog"), ("hardware-aware", "digital")]
    np.testing.assert_allclose([r["nrmse"] for r in rows], [e_d, e_a, e_h, e_hd], rtol=1e-12)
    assert res.training["gap"] == pytest.approx(e_a - e_d, rel=1e-12)
    assert res.training["recovered"] == pytest.approx((e_a - e_h) / (e_a - e_d), rel=1e-12)
    s = res.summary()
    assert s["nrmse_analog_hwa"] == rows[2]["nrmse"] and s["hwa_recovered"] == res.training["recovered"]
    assert "hardware-aware  analog" in res.training_table()
    assert res.to_dict()["training"]["rows"][2]["nrmse"] == rows[2]["nrmse"]


def test_classification_recovered_uses_the_error_rate():
    plain, hwa, ro, ro_h, x = _nets()
    y = np.eye(2)[(ro.predict(plain(x)[0]).argmax(-1) + (np.arange(3) == 0)) % 2]  # a few wrong labels
    res = compare(plain, HW, x, y, readout=ro, kind="classification", hwa_cell=plain, hwa_readout=ro)
    a_d = accuracy(ro.predict(plain(x)[0]), y)
    a_a = accuracy(ro.predict(to_analog(plain, HW)(x)[0]), y)
    assert res.training["gap"] == pytest.approx(a_d - a_a, abs=1e-12)
    if a_a != a_d:  # the same weights on the same hardware recover nothing
        assert res.training["recovered"] == pytest.approx(0.0, abs=1e-12)


def test_without_hwa_nothing_changes_and_bad_input():
    plain, hwa, ro, ro_h, x = _nets()
    res = compare(plain, HW, x, ro.predict(plain(x)[0]), readout=ro)
    assert res.training is None and "hwa_recovered" not in res.summary() and res.training_table() == ""
    with pytest.raises(ParameterError, match="targets"):
        compare(plain, HW, x, hwa_cell=hwa)
    with pytest.raises(ParameterError, match="hwa_cell"):
        compare(plain, HW, x, ro.predict(plain(x)[0]), readout=ro, hwa_cell="lstm")
