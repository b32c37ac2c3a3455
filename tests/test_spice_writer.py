"""write_spice / save_spice, the ngspice runner's error handling, and the export -> import -> solve
round trip (reference: the solution of the original netlist; decks carry every double exactly)."""

import dataclasses

import numpy as np
import pytest

from neurosim.errors import NetlistError, NeurosimError, ParameterError
from neurosim.netlist import PWL, Netlist, Pulse, Sine
from neurosim.netlist.examples import crossbar_netlist
from neurosim.solve import dc, transient
from neurosim.spice import (
    DCSweep,
    Op,
    TIGHT_OPTIONS,
    Tran,
    export_spice,
    read_spice,
    run_ngspice,
    save_spice,
    write_spice,
)
from neurosim.spice import runner as runner_module


def all_kinds_netlist():
    net = Netlist("every kind")
    net.add_vsource("Vin", "in", "0", 1.0, Pulse(0.0, 1.0, 1e-6, 1e-7, 1e-7, 5e-6, 2e-5))
    net.add_vsource("Vs", "s", "0", 0.2, Sine(0.2, 0.1, 1e5, 0.0, 0.0, 30.0))
    net.add_isource("Ip", "0", "pw", 0.0, PWL([0.0, 1e-5, 2e-5], [0.0, 1e-4, 5e-5]))
    net.add_resistor("R1", "in", "a", 1e3)
    net.add_resistor("Rpw", "pw", "0", 2.2e3)
    net.add_capacitor("C1", "a", "0", 1e-9, ic=0.1)
    net.add_capacitor("C2", "s", "a", 2e-10)
    net.add_vcvs("E1", "e", "0", "a", "0", -2.5)
    net.add_resistor("Re", "e", "0", 1e4)
    net.add_diode("D1", "a", "d", i_s=1e-14, n=1.1, r_s=5.0)
    net.add_resistor("Rd", "d", "0", 5e3)
    net.add_switch("T1", "s", "t", "a", "0", r_on=1e3, r_off=1e8, v_t=0.3, v_w=0.05)
    net.add_resistor("Rt", "t", "0", 1e4)
    return net


def test_deck_lines_for_every_kind():
    text = write_spice(all_kinds_netlist(), Tran(1e-8, 2e-5), options={"reltol": 1e-6})
    lines = text.splitlines()
    assert lines[0] == "every kind" and lines[-1] == ".end"
    assert "Vin in 0 DC 1.0 PULSE(0 1 1e-06 1e-07 1e-07 5e-06 2e-05)" in lines
    assert "Vs s 0 DC 0.2 SIN(0.2 0.1 100000 0 0 30)" in lines
    assert "Ip 0 pw DC 0.0 PWL(0 0 1e-05 0.0001 2e-05 5e-05)" in lines
    assert "C1 a 0 1e-09 IC=0.1" in lines and "C2 s a 2e-10" in lines
    assert "E1 e 0 a 0 -2.5" in lines
    assert "D1 a d DMOD0" in lines and ".model DMOD0 D (IS=1e-14 N=1.1 RS=5)" in lines
    assert any(line.startswith("BT1 s t I=V(s,t)*(") for line in lines)
    assert ".tran 1e-08 2e-05" in lines
    assert ".options gmin=0 reltol=1e-06" in lines  # the diodes' junction g_min (0: not given in Python)


@pytest.mark.ngspice
def test_names_are_made_spice_safe_and_mapped_back(ngspice_path):
    net = Netlist("names")
    net.add_vsource("in", "Top Node", "0", 2.0)  # needs a V prefix; node with a space
    net.add_resistor("R1", "Top Node", "gnd", 1e3)  # 'gnd' is ground in ngspice, not here
    net.add_resistor("r1", "gnd", "0", 1e3)  # R1 and r1 are one name in SPICE
    net.add_resistor("load(1)", "gnd", "N", 3e3)
    net.add_resistor("load2", "N", "n", 1e3)  # nodes N and n are one node in SPICE
    net.add_resistor("load3", "n", "0", 1e3)
    exported = export_spice(net, "op")
    assert exported.element_map["in"] == "Vin"
    assert exported.node_map["Top Node"] == "Top_Node"
    assert exported.node_map["gnd"] != "gnd"
    spice_names = [line.split()[0].lower() for line in exported.text.splitlines()[2:-2]]
    assert len(set(spice_names)) == len(spice_names)
    res = run_ngspice(net, "op", options=TIGHT_OPTIONS)
    op = dc(net)
    for node in ["Top Node", "gnd", "N", "n"]:
        assert res.voltage(node) == pytest.approx(float(op.v(node)), rel=1e-12)
    assert res.current("in") == pytest.approx(float(op.i("in")), rel=1e-12)


@dataclasses.dataclass(frozen=True)
class TinyDevice:
    """i = g x v, dx/dt = k v, with per-device array parameters allowed (g)."""

    g: float | np.ndarray = 1e-3
    k: float = 1.0
    initial_state: float = 0.5
    state_bounds = (0.0, 1.0)

    def current(self, state, v):
        return self.g * state * v

    def dstate_dt(self, state, v):
        return self.k * v * np.ones_like(state)

    def spice_subckt(self, name):
        return (
            f".subckt {name} p n\nCx x 0 1\nVx0 xref 0 DC {self.initial_state!r}\nRx x xref 1e15\n"
            f"Bx 0 x I={self.k!r}*V(p,n)\nBm p n I={float(self.g)!r}*V(x)*V(p,n)\n.ends {name}\n"
        )


def test_device_groups_one_definition_per_distinct_state_and_parameter():
    net = Netlist("devices")
    net.add_vsource("V1", "a", "0", 1.0)
    net.add_devices(["M1", "M2", "M3"], "a", "0", TinyDevice())  # all at initial_state
    net.add_devices(["M4", "M5", "M6"], "a", "0", TinyDevice(g=np.array([1e-3, 2e-3, 1e-3])), states=[0.2, 0.2, 0.2])
    text = write_spice(net)
    assert text.count(".subckt") == 1 + 2
    assert "Vx0 xref 0 DC 0.2" in text and "I=0.002*V(x)*V(p,n)" in text
    x_lines = [line.split() for line in text.splitlines() if line.startswith("XM")]
    assert [parts[3] for parts in x_lines][:3] == [x_lines[0][3]] * 3
    assert x_lines[3][3] == x_lines[5][3] != x_lines[4][3]


def test_bad_arguments():
    with pytest.raises(ParameterError):
        write_spice("not a netlist")
    with pytest.raises(ParameterError):
        write_spice(Netlist(), analysis="ac dec 10 0 1k")  # f_start must be > 0
    with pytest.raises(ParameterError):
        Tran(1e-9, 1e-6, tstart=2e-6)
    with pytest.raises(ParameterError):
        DCSweep("V1", 0.0, 1.0, -0.1)
    net = Netlist()
    net.add_vsource("V1", "a", "0", 1.0)

    class NoSpice:
        initial_state = 0.0
        state_bounds = (0.0, 1.0)

        def current(self, s, v):
            return v * 1e-3

        def dstate_dt(self, s, v):
            return 0 * v

    net.add_device("M1", "a", "0", NoSpice())
    with pytest.raises(NetlistError, match="spice_subckt"):
        write_spice(net)


def test_save_spice_and_read_back(tmp_path):
    net = all_kinds_netlist()
    path = tmp_path / "deck.cir"
    save_spice(net, str(path), analysis="op")
    deck = read_spice(str(path))
    assert deck.analyses == [Op()]
    assert path.read_text() == write_spice(net, "op")


def test_write_is_fast_enough_to_export_big_crossbars():
    # not a timing assertion (benchmarks/bench_circuit.py measures it): the 64 x 64 deck is complete
    net = crossbar_netlist(64, seed=0)
    text = write_spice(net, "op")
    assert text.count("\n") == len(net) + 4


# ------------------------------------------------------------------------------------------ runner
def test_runner_reports_missing_ngspice(monkeypatch):
    monkeypatch.setattr(runner_module.shutil, "which", lambda name: None)
    with pytest.raises(NeurosimError, match="ngspice is not installed"):
        run_ngspice("t\nV1 a 0 1\nR1 a 0 1\n.end\n", "op")


@pytest.mark.ngspice
def test_runner_shows_ngspice_errors(ngspice_path):
    with pytest.raises(NeurosimError, match="ngspice failed") as info:
        run_ngspice("t\nV1 a 0 1\nR1 a 0 1\nfoo bar\n.end\n", "op")
    assert "foo" in str(info.value).lower()
    with pytest.raises(NeurosimError, match="ngspice failed"):  # loop of voltage sources: singular
        run_ngspice("t\nV1 a 0 1\nV2 a 0 2\n.end\n", "op")
    with pytest.raises(ParameterError, match="no .op"):
        run_ngspice("t\nV1 a 0 1\nR1 a 0 1\n.end\n")


@pytest.mark.ngspice
def test_runner_timeout(ngspice_path):
    net = crossbar_netlist(48, seed=0)
    with pytest.raises(NeurosimError, match="did not finish"):
        run_ngspice(net, "op", timeout=0.01)


@pytest.mark.ngspice
def test_runner_dc_sweep(ngspice_path):
    net = Netlist("sweep")
    net.add_vsource("V1", "a", "0", 0.0)
    net.add_resistor("R1", "a", "b", 1e3)
    net.add_resistor("R2", "b", "0", 1e3)
    res = run_ngspice(net, DCSweep("V1", 0.0, 1.0, 0.25))
    np.testing.assert_allclose(res.axis, [0.0, 0.25, 0.5, 0.75, 1.0], atol=1e-15)
    np.testing.assert_allclose(res.voltage("b"), res.axis / 2, rtol=1e-14, atol=1e-15)
    assert res.voltage("0").shape == res.axis.shape


# ------------------------------------------------------------------------------------------ round trip
def _round_trip(net):
    return read_spice(write_spice(net)).netlist


@pytest.mark.parametrize("n", [3, 16])
def test_round_trip_crossbar(n):
    net = crossbar_netlist(n, seed=7)
    again = _round_trip(net)
    a, b = dc(net), dc(again)
    nodes = [x for x in net.node_names if x != "0"]
    np.testing.assert_allclose([float(b.v(x)) for x in nodes], [float(a.v(x)) for x in nodes], rtol=1e-12, atol=1e-18)
    cols = [f"Vc{j}" for j in range(n)]
    np.testing.assert_allclose([float(b.i(c)) for c in cols], [float(a.i(c)) for c in cols], rtol=1e-12)
    assert again.element("RGx0_0")["params"] == net.element("Gx0_0")["params"]  # exact doubles


def test_round_trip_nonlinear_dc_and_transient():
    net = all_kinds_netlist()
    again = _round_trip(net)
    nodes = [x for x in net.node_names if x != "0"]
    a, b = dc(net), dc(again)
    np.testing.assert_allclose([float(b.v(x)) for x in nodes], [float(a.v(x)) for x in nodes], rtol=1e-12, atol=1e-15)
    ta = transient(net, 2e-5, dt_max=2e-7)
    tb = transient(again, 2e-5, dt_max=2e-7)
    for x in nodes:
        np.testing.assert_allclose(np.interp(ta.t, tb.t, np.asarray(tb.v(x))), np.asarray(ta.v(x)), rtol=0, atol=1e-9,
                                   err_msg=x)


@pytest.mark.ngspice
def test_exported_waveforms_mean_the_same_to_ngspice(ngspice_path):
    """Each source drives a 1 ohm resistor: ngspice's node voltage is its reading of the exported
    waveform; it must equal the netlist waveform's own value (SPICE semantics: sine delay + phase +
    damping, periodic pulse, PWL held before its first and after its last point)."""
    waves = {
        "a": Sine(0.1, 1.0, 1e3, 1e-3, 200.0, 30.0),
        "b": Pulse(0.0, 1.0, 1e-4, 1e-4, 2e-4, 3e-4, 8e-4),
        "c": PWL([1e-4, 5e-4, 9e-4], [0.5, -1.0, 2.0]),
    }
    net = Netlist("waveforms")
    for k, (node, w) in enumerate(waves.items()):
        net.add_vsource(f"V{k}", node, "0", 0.0, w)
        net.add_resistor(f"R{k}", node, "0", 1.0)
    res = run_ngspice(net, Tran(1e-6, 3e-3, 0.0, 1e-6))
    for node, w in waves.items():
        np.testing.assert_allclose(res.voltage(node), w.value(res.axis), rtol=0, atol=1e-12, err_msg=node)
