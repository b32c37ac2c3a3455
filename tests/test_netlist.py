"""Netlist building, bulk adds, subcircuits, validation and waveforms (values worked out by hand)."""

import dataclasses

import numpy as np
import pytest

from neurosim.errors import NetlistError, ParameterError
from neurosim.netlist import PWL, Netlist, Pulse, Sine, Subcircuit, crossbar_netlist


@dataclasses.dataclass(frozen=True)
class LinearDevice:
    """i = s v; ds/dt = rate * v; the state is the conductance (S)."""

    rate: float = 1.0
    state_bounds = (0.0, 1.0)
    initial_state = 0.5

    def current(self, s, v):
        return s * v

    def dstate_dt(self, s, v):
        return self.rate * v


def test_single_adds_and_inspection():
    net = Netlist("t")
    net.add_vsource("V1", "in", "0", dc=1.0)
    net.add_resistor("R1", "in", "out", 1e3)
    net.add_capacitor("C1", "out", "0", 1e-9, ic=0.5)
    net.add_isource("I1", "out", "0", 1e-3)
    net.add_vcvs("E1", "o2", "0", "out", "0", -2.0)
    net.add_resistor("R2", "o2", "0", 1.0)
    net.add_diode("D1", "out", "0", i_s=1e-15, n=1.2, r_s=3.0)
    net.add_switch("S1", "out", "0", "in", "0", r_on=10.0, r_off=1e9, v_t=0.5, v_w=0.05)
    net.add_device("M1", "out", "0", LinearDevice(), state=0.25)
    assert len(net) == 9
    assert set(net.node_names) == {"0", "in", "out", "o2"}
    e = net.element("E1")
    assert e["kind"] == "vcvs" and e["nodes"] == {"np": "o2", "nn": "0", "ncp": "out", "ncn": "0"}
    assert e["params"] == {"gain": -2.0}
    assert net.element("C1")["params"] == {"capacitance": 1e-9, "ic": 0.5}
    assert net.element("D1")["params"] == {"i_s": 1e-15, "n": 1.2, "r_s": 3.0}
    assert net.element("M1")["params"] == {"state": 0.25}
    g = net.graph
    assert g.number_of_edges() == 9
    assert g.edges["out", "0", "S1"]["terminals"] == {"n1": "out", "n2": "0", "ncp": "in", "ncn": "0"}
    net.validate()


def test_bulk_adds_store_groups_not_objects():
    net = Netlist()
    n = 1000
    grp = net.add_resistors([f"R{k}" for k in range(n)], [f"a{k}" for k in range(n)], "0", np.arange(1, n + 1))
    assert len(grp) == n and grp.nodes.shape == (n, 2)
    assert net.element("R999")["params"]["resistance"] == 1000.0
    devs = net.add_devices(["M0", "M1"], ["a0", "a1"], "0", LinearDevice(), [0.1, 0.9])
    assert devs.params["state"].tolist() == [0.1, 0.9]
    assert net.add_vsources(["V0"], ["a0"], ["0"], 2.0, waveforms=Sine(0, 1, 1e3)).waveforms[0].frequency == 1e3
    assert len(net.graph.edges) == n + 3


def test_crossbar_builds_expected_topology():
    n = 5
    net = crossbar_netlist(n, r_wire=2.0, seed=3)
    kinds = {}
    for g in net.groups:
        kinds[g.kind] = kinds.get(g.kind, 0) + len(g)
    assert kinds == {"vsource": 2 * n, "resistor": n * n + 2 * n * (n - 1)}
    assert len(net.node_names) == 1 + 2 * n * n
    assert net.element("Rc3_4")["nodes"] == {"n1": "c3_4", "n2": "c4_4"}
    assert net.element("Vc2")["nodes"] == {"np": "c4_2", "nn": "0"}
    g = np.random.default_rng(3).uniform(1e-6, 1e-4, size=(n, n))
    assert net.element("Gx1_2")["params"]["resistance"] == pytest.approx(1 / g[1, 2], rel=1e-15)
    net.validate()


@pytest.mark.parametrize(
    "call, err, text",
    [
        (lambda n: n.add_resistor("R", "a", "0", 0.0), ParameterError, "resistance must be a real number > 0 ohm"),
        (lambda n: n.add_resistor("R", "a", "0", np.inf), ParameterError, "resistance"),
        (lambda n: n.add_capacitor("C", "a", "0", -1e-9), ParameterError, "capacitance"),
        (lambda n: n.add_diode("D", "a", "0", i_s=0.0), ParameterError, "i_s"),
        (lambda n: n.add_switch("S", "a", "0", "b", "0", 1, 1e6, 0.5, 0.0), ParameterError, "v_w"),
        (lambda n: n.add_vsource("V", "a", "a", 1.0), NetlistError, "shorted"),
        (lambda n: n.add_isource("I", "b", "b", 1.0), NetlistError, "shorted"),
        (lambda n: n.add_resistors(["A", "B"], ["a", "b"], "0", [1.0, -2.0]), ParameterError, "'B'"),
        (lambda n: n.add_resistors(["A", "A"], ["a", "b"], "0", 1.0), NetlistError, "duplicate element name 'A'"),
        (lambda n: n.add_resistors(["A", "B"], ["a"], "0", 1.0), ParameterError, "n1 must have length 2"),
        (lambda n: n.add_resistor("", "a", "0", 1.0), ParameterError, "name"),
        (lambda n: n.add_device("M", "a", "0", LinearDevice(), state=2.0), ParameterError, "state must be"),
        (lambda n: n.add_device("M", "a", "0", object()), ParameterError, "device-model protocol"),
        (lambda n: n.add_vsource("V", "a", "0", 1.0, waveform=3.0), ParameterError, "waveform"),
    ],
)
def test_bad_values_are_refused_at_add(call, err, text):
    net = Netlist()
    with pytest.raises(err, match=text):
        call(net)
    assert len(net) == 0


def test_duplicate_name_across_single_and_bulk():
    net = Netlist()
    net.add_resistor("R1", "a", "0", 1.0)
    with pytest.raises(NetlistError, match="duplicate element name 'R1'"):
        net.add_resistors(["R0", "R1"], ["a", "b"], "0", 1.0)
    with pytest.raises(NetlistError, match="duplicate element name 'R1'"):
        net.add_capacitor("R1", "a", "0", 1.0)


def test_validate_floating_nodes_named():
    net = Netlist()
    net.add_vsource("V1", "a", "0", 1.0)
    net.add_capacitor("C1", "a", "b", 1e-9)
    net.add_isource("I1", "b", "c", 1e-3)
    net.add_resistor("R1", "b", "c", 1.0)
    net.add_vcvs("E1", "d", "0", "e", "0", 1.0)
    net.add_resistor("R2", "e", "f", 1.0)
    with pytest.raises(NetlistError, match="no DC path to ground from nodes 'b', 'c', 'e', 'f'"):
        net.validate()


def test_validate_voltage_source_loops_named():
    net = Netlist()
    net.add_vsource("V1", "a", "0", 1.0)
    net.add_vcvs("E1", "b", "a", "a", "0", 1.0)
    net.add_vsource("V2", "b", "0", 1.0)
    net.add_resistor("R", "b", "0", 1.0)
    with pytest.raises(NetlistError, match="loop of voltage sources.*'V1'.*") as info:
        net.validate()
    assert "E1" in str(info.value) and "V2" in str(info.value)
    par = Netlist()
    par.add_vsource("V1", "a", "0", 1.0)
    par.add_vsource("V2", "a", "0", 1.0)
    with pytest.raises(NetlistError, match="loop"):
        par.validate()
    with pytest.raises(NetlistError, match="no elements"):
        Netlist().validate()


def test_subcircuit_instance_hierarchical_names_and_params():
    inner = Subcircuit("inner", ["p", "q"], params={"r": 5.0})
    inner.add_resistor("R", "p", "m", "r")
    inner.add_resistor("Rg", "m", "0", 1.0)
    outer = Subcircuit("outer", ["x", "y"], params={"c": 1e-9})
    outer.add_instance("X1", inner, ["x", "mid"], params={"r": 7.0})
    outer.add_capacitor("C", "mid", "y", "c")
    net = Netlist()
    net.add_instance("XA", outer, {"x": "in", "y": "0"}, params={"c": 2e-9})
    assert net.element("XA.X1.R")["nodes"] == {"n1": "in", "n2": "XA.X1.m"}
    assert net.element("XA.X1.R")["params"]["resistance"] == 7.0
    assert net.element("XA.X1.Rg")["nodes"] == {"n1": "XA.X1.m", "n2": "0"}
    assert net.element("XA.C")["params"]["capacitance"] == 2e-9
    assert net.element("XA.C")["nodes"] == {"n1": "XA.mid", "n2": "0"}
    with pytest.raises(NetlistError, match="needs 2 nodes"):
        net.add_instance("XB", outer, ["a"])
    with pytest.raises(ParameterError, match="no parameter 'zz'"):
        net.add_instance("XB", outer, ["a", "b"], params={"zz": 1.0})
    with pytest.raises(ParameterError, match="unknown subcircuit parameter 'nope'"):
        inner.add_resistor("R9", "p", "q", "nope")


def test_bulk_instances_match_single_instances():
    cell = Subcircuit("cell", ["row", "col"], params={"r": 1e4, "s": 0.5})
    cell.add_resistor("R", "row", "mid", "r")
    cell.add_device("M", "mid", "col", LinearDevice(), state="s")
    k = 50
    rows = [f"r{i % 5}" for i in range(k)]
    cols = [f"c{i // 5}" for i in range(k)]
    r = np.linspace(1e3, 1e5, k)
    s = np.linspace(0.1, 0.9, k)
    bulk = Netlist()
    bulk.add_instances([f"X{i}" for i in range(k)], cell, {"row": rows, "col": cols}, params={"r": r, "s": s})
    single = Netlist()
    for i in range(k):
        single.add_instance(f"X{i}", cell, [rows[i], cols[i]], params={"r": r[i], "s": s[i]})
    for i in (0, 17, 49):
        for el in ("R", "M"):
            assert bulk.element(f"X{i}.{el}") == single.element(f"X{i}.{el}")
    assert bulk.element("X17.M")["params"]["state"] == s[17]
    assert bulk.element("X17.R")["nodes"] == {"n1": rows[17], "n2": "X17.mid"}
    assert len(bulk) == len(single) == 2 * k
    with pytest.raises(NetlistError, match="missing \\['col'\\]"):
        bulk.add_instances(["Y0"], cell, {"row": ["a"]})


def test_pwl_values_and_breakpoints():
    w = PWL([0.0, 1e-3, 3e-3], [0.0, 2.0, -2.0])
    assert w.value([0.0, 0.5e-3, 2e-3, 5e-3]).tolist() == pytest.approx([0.0, 1.0, 0.0, -2.0])
    assert w.breakpoints(2e-3).tolist() == [1e-3]
    with pytest.raises(ParameterError, match="non-decreasing"):
        PWL([1.0, 0.0], [1.0, 2.0])
    # a repeated time is a step: first value at the corner (ngspice), the second after it
    assert PWL([0.0, 0.0], [1.0, 2.0]).value([0.0, 1.0]).tolist() == [1.0, 2.0]
    with pytest.raises(ParameterError, match="values must have shape"):
        PWL([0.0, 1.0], [1.0])


def test_pulse_values_by_hand():
    p = Pulse(v1=-1.0, v2=3.0, delay=1.0, rise=0.5, fall=0.25, width=2.0, period=5.0)
    t = [0.5, 1.25, 2.0, 3.5, 3.625, 4.0, 6.25, 8.5]
    # 1.25: halfway up; 3.625: halfway down; 6.25 = period + 1.25
    assert p.value(t).tolist() == pytest.approx([-1.0, 1.0, 3.0, 3.0, 1.0, -1.0, 1.0, 3.0])
    assert p.breakpoints(7.0).tolist() == pytest.approx([1.0, 1.5, 3.5, 3.75, 6.0, 6.5])
    # a period shorter than tr + pw + tf cuts the fall: ngspice wraps once t - td > per
    assert Pulse(0.0, 1.0, 0.0, 1.0, 1.0, 1.0, period=2.0).value([2.0, 2.5, 4.25]).tolist() == [1.0, 0.5, 0.25]
    with pytest.raises(ParameterError, match="rise must be a real number > 0 s"):
        Pulse(0.0, 1.0, rise=0.0)


def test_sine_values_by_hand():
    s = Sine(offset=1.0, amplitude=2.0, frequency=10.0, delay=0.1, damping=3.0, phase=90.0)
    # before the delay: vo + va sin(phase); at td + 0.05: exp(-0.15) * sin(pi + pi/2) = -exp(-0.15)
    assert s.value([0.0, 0.15]).tolist() == pytest.approx([3.0, 1.0 - 2.0 * np.exp(-0.15)], rel=1e-14)
    assert s.breakpoints(1.0).tolist() == [0.1]
