"""Device cards: each loads with the numbers of its cited source; malformed cards name file, key and range."""

import shutil
from pathlib import Path

import numpy as np
import pytest

import neurosim
from neurosim.devices import TEAM, VTEAM, LinearIonDrift, SoftBoundsDevice, Yakopcic, list_devices, load_device, read_card
from neurosim.devices.cards import device_dirs
from neurosim.errors import DeviceCardError, ParameterError

CARDS = Path(__file__).resolve().parents[1] / "devices"


def test_all_required_cards_are_present():
    names = set(list_devices())
    for required in (
        "hp_tio2_strukov2008",
        "vteam_kvatinsky2015",
        "team_kvatinsky2013",
        "yakopcic_oblea2011",
        "rram_softbounds_gong2018",
    ):
        assert required in names


def test_hp_card_is_strukov_2008():
    m = neurosim.load_device("hp_tio2_strukov2008")
    assert isinstance(m, LinearIonDrift)
    # Strukov et al. 2008: R_on = 100 ohm, R_off = 16 kohm, D = 10 nm, mu_v = 1e-10 cm^2/(V s)
    assert (m.R_on, m.R_off, m.D, m.mu_v) == (100.0, 16e3, 10e-9, 1e-14)
    card = read_card("hp_tio2_strukov2008")
    assert card.source["doi"] == "10.1038/nature06932" and card.source["year"] == 2008


def test_yakopcic_card_is_the_oblea_fit():
    m = load_device("yakopcic_oblea2011")
    assert isinstance(m, Yakopcic)
    # Yakopcic et al. 2011 fit to Oblea et al.'s device (typed from the paper's parameter list)
    expected = dict(a1=0.17, a2=0.17, b=0.05, Vp=0.16, Vn=0.15, Ap=4000.0, An=4000.0, xp=0.3, xn=0.5,
                    alphap=1.0, alphan=5.0, eta=1, initial_state=0.11)
    assert {k: getattr(m, k) for k in expected} == expected
    assert read_card("yakopcic_oblea2011").source["doi"] == "10.1109/LED.2011.2163292"


def test_team_and_vteam_cards():
    t = load_device("team_kvatinsky2013")
    assert isinstance(t, TEAM)
    # the authors' Verilog-A defaults (technical report 2011)
    assert (t.k_on, t.k_off, t.alpha_on, t.alpha_off) == (-8e-13, 8e-13, 3.0, 3.0)
    assert (t.i_on, t.i_off, t.x_on, t.x_off, t.R_on, t.R_off) == (-8.9e-6, 115e-6, 0.0, 3e-9, 100.0, 200e3)
    v = load_device("vteam_kvatinsky2015")
    assert isinstance(v, VTEAM)
    assert (v.k_on, v.k_off, v.alpha_on, v.alpha_off, v.v_on, v.v_off) == (-10.0, 5e-4, 3.0, 1.0, -0.2, 0.02)
    assert (v.R_on, v.R_off, v.x_off) == (50.0, 1000.0, 3e-9)
    assert read_card("vteam_kvatinsky2015").source["doi"] == "10.1109/TCSII.2015.2433536"
    assert read_card("team_kvatinsky2013").source["doi"] == "10.1109/TCSI.2012.2215714"


def test_rram_card_maps_aihwkit_soft_bounds():
    d = load_device("rram_softbounds_gong2018")
    assert isinstance(d, SoftBoundsDevice)
    # aihwkit ReRamSBPresetDevice: dw_min = 0.002, w_max = 1.25, w_min = -0.75
    assert d.alpha_up == pytest.approx(0.002 / 1.25) and d.alpha_down == pytest.approx(0.002 / 0.75)
    assert (d.G_min, d.G_max) == (4.76e-7, 1e-5)  # NeuroSim V3.0 RealDevice
    # soft-bounds step in weight units maps exactly: dw = dw_min (1 - w/w_max) with w = -0.75 + 2 (G - G_min)/dG
    g = np.array([d.G_min, 3e-6, 8e-6])
    w = -0.75 + 2.0 * (g - d.G_min) / (d.G_max - d.G_min)
    dw = 0.002 * (1 - w / 1.25)
    dg = d.apply_pulses(g, 1, +1) - g
    assert dg == pytest.approx(dw * (d.G_max - d.G_min) / 2.0, rel=1e-12)


def test_every_card_parameter_is_inside_its_declared_range():
    for name in list_devices():
        card = read_card(name)
        assert card.source["authors"] and card.source["title"] and card.source["venue"]
        assert card.source["doi"].startswith("10.")
        for key, (lo, hi) in card.ranges.items():
            assert lo <= getattr(card.model, key) <= hi


def test_load_by_path_and_search_path(tmp_path, monkeypatch):
    src = CARDS / "vteam_kvatinsky2015.toml"
    copy = tmp_path / "my_vteam.toml"
    shutil.copy(src, copy)
    assert load_device(copy) == load_device("vteam_kvatinsky2015")
    monkeypatch.setenv("NEUROSIM_DEVICE_PATH", str(tmp_path))
    assert device_dirs()[0] == tmp_path
    assert load_device("my_vteam") == load_device(str(copy))


def _write(tmp_path, text, name="bad.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _hp_text():
    return (CARDS / "hp_tio2_strukov2008.toml").read_text()


def test_unknown_device_name_lists_available():
    with pytest.raises(DeviceCardError, match="unknown device 'nope'.*hp_tio2_strukov2008"):
        load_device("nope")


def test_unknown_key_names_file_and_key(tmp_path):
    p = _write(tmp_path, _hp_text().replace("mu_v = 1e-14", "mu_v = 1e-14\nmu = 3.0"))
    with pytest.raises(DeviceCardError, match=r"bad\.toml: key 'mu': unknown key in \[parameters\]") as ei:
        load_device(p)
    assert ei.value.key == "mu" and ei.value.path == str(p)
    assert isinstance(ei.value, ParameterError)


def test_missing_parameter_names_file_and_key(tmp_path):
    p = _write(tmp_path, _hp_text().replace("D = 10e-9 ", "# no D "))
    with pytest.raises(DeviceCardError, match=r"bad\.toml: key 'D': missing key in \[parameters\]"):
        load_device(p)


def test_value_outside_card_range_names_range(tmp_path):
    p = _write(tmp_path, _hp_text().replace("R_off = 16000.0", "R_off = 5e6"))
    with pytest.raises(DeviceCardError, match=r"key 'R_off': value 5000000.0 is outside the card's valid range \[1000.0, 1000000.0\] ohm"):
        load_device(p)


def test_value_outside_model_range_names_key(tmp_path):
    text = _hp_text().replace("p = 1 ", "p = 1.5 ").replace('window = "none"', 'window = "joglekar"')
    p = _write(tmp_path, text)
    with pytest.raises(DeviceCardError, match=r"key 'p': LinearIonDrift: p must be a positive integer"):
        load_device(p)


def test_missing_table_source_key_and_syntax(tmp_path):
    no_source = _hp_text().split("[source]")[0]
    with pytest.raises(DeviceCardError, match=r"missing table \[source\]"):
        load_device(_write(tmp_path, no_source, "a.toml"))
    no_doi = "\n".join(l for l in _hp_text().splitlines() if not l.startswith("doi"))
    with pytest.raises(DeviceCardError, match=r"key 'doi': missing key in \[source\]"):
        load_device(_write(tmp_path, no_doi, "b.toml"))
    with pytest.raises(DeviceCardError, match=r"c\.toml: TOML syntax error.*line"):
        load_device(_write(tmp_path, "[model\nfamily = 1", "c.toml"))
    with pytest.raises(DeviceCardError, match=r"key 'family': family must be one of"):
        load_device(_write(tmp_path, _hp_text().replace('"linear_ion_drift"', '"spin_valve"'), "d.toml"))
    bad_range = _hp_text().replace("D = [1e-9, 100e-9]", "D = [100e-9, 1e-9]")
    with pytest.raises(DeviceCardError, match=r"key 'D': range must be \[low, high\]"):
        load_device(_write(tmp_path, bad_range, "e.toml"))
    with pytest.raises(DeviceCardError, match="no such device card file"):
        load_device(tmp_path / "missing.toml")
