"""AC analysis, DC sweeps and the G/L/F/H elements against closed forms and definitions (no ngspice).

References: the RC low-pass :math:`H = 1/(1 + j\\omega RC)`, the series RLC resonance
:math:`f_0 = 1/(2\\pi\\sqrt{LC})` with :math:`|I| = V/R` there, the RL step
:math:`i = (V/R)(1 - e^{-tR/L})`, the RL decay from an initial current, Kirchhoff's current law on
the complex phasors, a finite-difference small-signal gain of the DC solution, and point-by-point
cold DC solutions for the warm-started sweep.
"""

import numpy as np
import pytest

from neurosim.errors import NetlistError, ParameterError, SpiceSyntaxError
from neurosim.netlist import Netlist, Pulse, Subcircuit
from neurosim.solve import ac, ac_frequencies, dc, dc_sweep, sweep_values, transient
from neurosim.spice import AC, DCSweep, read_spice, write_spice


def rc_lowpass(r=1e3, c=1e-7):
    net = Netlist("rc")
    net.add_vsource("V1", "in", "0", 0.0, ac_mag=1.0)
    net.add_resistor("R1", "in", "out", r)
    net.add_capacitor("C1", "out", "0", c)
    return net


def test_rc_lowpass_closed_form():
    r, c = 1e3, 1e-7
    f = ac_frequencies("dec", 50, 1.0, 1e9)
    res = ac(rc_lowpass(r, c), f)
    h = 1.0 / (1.0 + 2j * np.pi * f * r * c)
    err = np.max(np.abs(res.v("out") - h) / np.abs(h))
    assert err < 1e-12, err
    np.testing.assert_allclose(res.phase("out"), np.rad2deg(np.angle(h)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.db("out"), 20 * np.log10(np.abs(h)), rtol=1e-12, atol=1e-10)
    # the source current is -(V - V_out)/R (SPICE sign) and the capacitor takes j w C V_out: KCL
    np.testing.assert_allclose(res.i("V1"), -(1 - res.v("out")) / r, rtol=1e-12)
    np.testing.assert_allclose(res.i("C1"), (1 - res.v("out")) / r, rtol=1e-10)


def test_series_rlc_resonance_closed_form():
    r, l, c = 10.0, 1e-3, 1e-9
    f0 = 1 / (2 * np.pi * np.sqrt(l * c))
    net = Netlist("rlc")
    net.add_vsource("V1", "in", "0", 0.0, ac_mag=1.0)
    net.add_resistor("R1", "in", "a", r)
    net.add_inductor("L1", "a", "b", l)
    net.add_capacitor("C1", "b", "0", c)
    f = np.concatenate([[f0], ac_frequencies("lin", 101, 0.5 * f0, 1.5 * f0)])
    res = ac(net, f)
    w = 2 * np.pi * f
    i = 1.0 / (r + 1j * w * l + 1 / (1j * w * c))
    np.testing.assert_allclose(res.i("L1"), i, rtol=1e-11)
    assert abs(res.i("L1")[0] - 1 / r) < 1e-11 / r  # at resonance the current is V/R, in phase
    q = np.sqrt(l / c) / r
    np.testing.assert_allclose(res.mag("b")[0], q, rtol=1e-10)  # capacitor voltage Q times the input


def test_ac_phase_and_current_source_and_kcl():
    net = Netlist("kcl")
    net.add_isource("I1", "0", "a", 0.0, ac_mag=2e-3, ac_phase=60.0)
    net.add_resistor("R1", "a", "0", 1e3)
    net.add_capacitor("C1", "a", "b", 1e-9)
    net.add_inductor("L1", "b", "0", 1e-3)
    net.add_vccs("G1", "0", "b", "a", "0", 1e-4)
    res = ac(net, [1e4, 1e5, 1e6])
    # KCL at a: the source feeds 2 mA at 60 degrees into a
    inj = 2e-3 * np.exp(1j * np.pi / 3)
    np.testing.assert_allclose(res.i("R1") + res.i("C1"), inj, rtol=1e-10)
    np.testing.assert_allclose(res.i("I1"), np.full(3, inj))
    # KCL at b: C1 brings i_C, G1 injects gm v(a), L1 takes it to ground
    np.testing.assert_allclose(res.i("C1") + res.i("G1"), res.i("L1"), rtol=1e-10)


def test_diode_small_signal_equals_finite_difference_of_dc():
    """The AC gain at low frequency equals d v_out / d v_in of the DC solution (central difference)."""
    def net_at(v):
        net = Netlist("d")
        net.add_vsource("V1", "in", "0", v, ac_mag=1.0)
        net.add_resistor("R1", "in", "a", 1e3)
        net.add_diode("D1", "a", "0", i_s=1e-14, n=1.1, r_s=3.0)
        net.add_switch("S1", "a", "s", "in", "0", 1e3, 1e6, 1.0, 0.1)
        net.add_resistor("Rs", "s", "0", 1e3)
        return net

    h = 1e-5
    fd = (float(dc(net_at(1.5 + h)).v("a")) - float(dc(net_at(1.5 - h)).v("a"))) / (2 * h)
    res = ac(net_at(1.5), [1e-3])
    assert abs(res.v("a")[0].imag) < 1e-15
    assert abs(res.v("a")[0].real - fd) < 1e-8 * abs(fd), (res.v("a")[0], fd)
    # KCL on the small-signal currents at node a
    np.testing.assert_allclose(-res.i("V1"), res.i("D1") + res.i("S1"), rtol=1e-10)


def test_ac_frequencies_and_errors():
    np.testing.assert_allclose(ac_frequencies("dec", 10, 1.0, 1e3), 10 ** (np.arange(31) / 10), rtol=1e-14)
    assert ac_frequencies("oct", 2, 1.0, 8.0).size == 7
    assert ac_frequencies("lin", 1, 5.0, 5.0).tolist() == [5.0]
    with pytest.raises(ParameterError, match="freqs"):
        ac(rc_lowpass(), [1.0, 0.0])
    with pytest.raises(ParameterError, match="freqs"):
        ac(rc_lowpass(), [])
    with pytest.raises(ParameterError, match="points"):
        ac_frequencies("dec", 0, 1.0, 10.0)
    with pytest.raises(ParameterError, match="f_start"):
        ac_frequencies("dec", 10, -1.0, 10.0)
    with pytest.raises(ParameterError, match="f_stop"):
        ac_frequencies("dec", 10, 10.0, 1.0)
    with pytest.raises(ParameterError, match="variation"):
        ac_frequencies("log", 10, 1.0, 10.0)
    with pytest.raises(ParameterError, match="points"):
        AC("dec", 0, 1.0, 10.0)


# ------------------------------------------------------------------------------------------ inductors
def test_rl_step_response_closed_form():
    r, l = 100.0, 1e-3
    net = Netlist("rl")
    net.add_vsource("V1", "in", "0", 0.0, waveform=Pulse(0.0, 1.0, 0.0, 1e-12, 1e-12, 1.0, 2.0))
    net.add_resistor("R1", "in", "a", r)
    net.add_inductor("L1", "a", "0", l)
    for method in ("trap", "be"):
        res = transient(net, 5e-5, dt_max=1e-7, method=method, progress=False)
        exact = (1 - np.exp(-res.t * r / l)) / r
        err = np.max(np.abs(res.i("L1") - exact)) * r  # relative to the 10 mA swing
        assert err < (3e-5 if method == "trap" else 2e-3), (method, err)
        # v = L di/dt away from the step at t = 0 (where the one-sided difference straddles it)
        np.testing.assert_allclose(res.v("a")[2:], (l * np.gradient(res.i("L1"), res.t))[2:], atol=5e-3)


def test_inductor_initial_current_decay():
    r, l, i0 = 50.0, 1e-3, 2e-3
    net = Netlist("rl ic")
    net.add_inductor("L1", "a", "0", l, ic=i0)
    net.add_resistor("R1", "a", "0", r)
    res = transient(net, 1e-4, dt_max=1e-7, uic=True, progress=False)
    exact = i0 * np.exp(-res.t * r / l)
    assert np.max(np.abs(res.i("L1") - exact)) / i0 < 1e-5
    assert res.i("L1")[0] == i0 and abs(res.v("a")[0] + i0 * r) < 1e-12
    # DC: an inductor is a short (its branch current is the loop current)
    net2 = Netlist("short")
    net2.add_vsource("V1", "in", "0", 2.0)
    net2.add_resistor("R1", "in", "a", 1e3)
    net2.add_inductor("L1", "a", "0", 1e-3)
    op = dc(net2)
    assert float(op.v("a")) == 0.0 and abs(float(op.i("L1")) - 2e-3) < 1e-15


def test_inductor_transient_in_a_nonlinear_circuit():
    """Diode rectifier charging through an inductor: the Newton path with the inductor companion."""
    net = Netlist("rl diode")
    net.add_vsource("V1", "in", "0", 0.0, waveform=Pulse(0.0, 2.0, 0.0, 1e-6, 1e-6, 1.0, 2.0))
    net.add_diode("D1", "in", "a")
    net.add_inductor("L1", "a", "b", 1e-4)
    net.add_resistor("R1", "b", "0", 100.0)
    res = transient(net, 2e-5, dt_max=5e-8, progress=False)
    i_end = float(res.i("L1")[-1])
    op = dc(net, t=1e-5)  # the steady state at the final source value
    assert abs(i_end - float(op.i("L1"))) < 1e-4 * abs(float(op.i("L1")))


# ------------------------------------------------------------------------------------------ G F H
def test_controlled_sources_closed_form():
    net = Netlist("gfh")
    net.add_vsource("V1", "in", "0", 1.0)
    net.add_resistor("R1", "in", "a", 1e3)
    net.add_vsource("Vs", "a", "0", 0.0)  # senses 1 mA
    net.add_vccs("G1", "0", "g", "in", "0", 2e-3)
    net.add_resistor("Rg", "g", "0", 1e3)
    net.add_cccs("F1", "0", "f", "Vs", 3.0)
    net.add_resistor("Rf", "f", "0", 1e3)
    net.add_ccvs("H1", "h", "0", "Vs", 500.0)
    net.add_resistor("Rh", "h", "0", 1e3)
    op = dc(net)
    np.testing.assert_allclose(op.v(["g", "f", "h"]), [2.0, 3.0, 0.5], rtol=1e-14)
    np.testing.assert_allclose(op.i(["G1", "F1", "H1", "Vs"]), [2e-3, 3e-3, -5e-4, 1e-3], rtol=1e-14)


def test_controlled_sources_in_subcircuits_and_bad_controls():
    amp = Subcircuit("amp", ["i", "o"])
    amp.add_vsource("Vs", "i", "x", 0.0)
    amp.add_resistor("Rx", "x", "0", 1e3)
    amp.add_cccs("F", "0", "o", "Vs", 10.0)
    amp.add_resistor("Ro", "o", "0", 1e3)
    net = Netlist()
    net.add_vsource("V1", "in", "0", 1.0)
    net.add_instance("X1", amp, ["in", "out"])
    assert net.element("X1.F")["control"] == "X1.Vs"
    assert abs(float(dc(net).v("out")) - 10.0) < 1e-12
    bad = Netlist()
    bad.add_vsource("V1", "a", "0", 1.0)
    bad.add_resistor("R1", "a", "0", 1.0)
    bad.add_ccvs("H1", "b", "0", "R1", 2.0)
    with pytest.raises(NetlistError, match="controlled by 'R1'"):
        dc(bad)
    with pytest.raises(ParameterError, match="control"):
        bad.add_cccs("F1", "a", "0", "", 1.0)
    by_l = Netlist()  # ngspice-39 refuses an inductor as a controlling source: so do we
    by_l.add_vsource("V1", "a", "0", 1.0)
    by_l.add_inductor("L1", "a", "b", 1e-3)
    by_l.add_resistor("R1", "b", "0", 1.0)
    by_l.add_cccs("F1", "0", "b", "L1", 1.0)
    with pytest.raises(NetlistError, match="controlled by 'L1'"):
        dc(by_l)
    with pytest.raises(NetlistError, match="shorted"):
        bad.add_inductor("L1", "a", "a", 1e-3)
    with pytest.raises(ParameterError, match="inductance"):
        bad.add_inductor("L2", "a", "0", 0.0)
    with pytest.raises(NetlistError, match="loop"):  # inductor parallel to a voltage source
        loop = Netlist()
        loop.add_vsource("V1", "a", "0", 1.0)
        loop.add_inductor("L1", "a", "0", 1e-3)
        loop.validate()


# ------------------------------------------------------------------------------------------ sweeps
def test_dc_sweep_warm_start_equals_cold_solutions():
    net = Netlist("diode")
    net.add_vsource("V1", "in", "0", 0.0)
    net.add_resistor("R1", "in", "a", 100.0)
    net.add_diode("D1", "a", "0", i_s=1e-14, r_s=1.0)
    net.add_isource("I1", "0", "a", 0.0)
    vals = sweep_values(-1.0, 3.0, 0.1)
    res = dc_sweep(net, "V1", vals)
    cold = np.array([float(dc(_with(net, "V1", v)).v("a")) for v in vals])
    np.testing.assert_allclose(res.v("a"), cold, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.i("V1"), -(vals - res.v("a")) / 100.0, rtol=1e-9, atol=1e-15)
    cold_iters = sum(dc(_with(net, "V1", v)).iterations for v in vals)
    assert res.iterations < 0.7 * cold_iters, (res.iterations, cold_iters)
    nested = dc_sweep(net, "V1", vals[:5], source2="I1", values2=[0.0, 1e-3])
    assert nested.v("a").shape == (2, 5)
    np.testing.assert_allclose(nested.v("a")[0], res.v("a")[:5], rtol=1e-12)
    np.testing.assert_allclose(nested.i("I1"), np.repeat([[0.0], [1e-3]], 5, axis=1))


def _with(net, source, value):
    out = Netlist()
    for g in net.groups:
        for name in g.names.tolist():
            e = net.element(name)
            nodes = list(e["nodes"].values())
            if g.kind == "vsource":
                out.add_vsource(name, *nodes, value if name == source else e["params"]["dc"])
            elif g.kind == "isource":
                out.add_isource(name, *nodes, e["params"]["dc"])
            elif g.kind == "resistor":
                out.add_resistor(name, *nodes, e["params"]["resistance"])
            else:
                out.add_diode(name, *nodes, **e["params"])
    return out


def test_dc_sweep_linear_and_errors():
    net = Netlist()
    net.add_vsource("V1", "in", "0", 0.0)
    net.add_resistor("R1", "in", "out", 1e3)
    net.add_resistor("R2", "out", "0", 3e3)
    res = dc_sweep(net, "V1", [0.0, 1.0, -2.0])
    np.testing.assert_allclose(res.v("out"), [0.0, 0.75, -1.5], rtol=1e-15)
    assert sweep_values(0, 1, 0.3).size == 4 and sweep_values(1, 0, -0.1).size == 11  # as ngspice
    with pytest.raises(ParameterError, match="source"):
        dc_sweep(net, "V9", [0.0])
    with pytest.raises(ParameterError, match="values"):
        dc_sweep(net, "V1", [])
    with pytest.raises(ParameterError, match="step"):
        sweep_values(0, 1, -0.1)
    with pytest.raises(ParameterError, match="source2"):
        dc_sweep(net, "V1", [0.0], source2="V1", values2=[1.0])


# ------------------------------------------------------------------------------------------ SPICE
DECK = """elements
V1 in 0 DC 1 AC 0.5 45
I1 0 n2 dc 0 ac 1m
R1 in a 1k
L1 a n2 1m IC=1u
G1 n2 0 a 0 2m
Vsense n2 n3 0
R2 n3 0 500
F1 0 f vsense 2
Rf f 0 1k
H1 h 0 VSENSE 100
Rh h 0 1k
E1 e 0 h 0 2
Re e 0 1k
.ac oct 3 1k 1meg
.dc V1 0 1 0.5 I1 0 1m 1m
.end
"""


def test_spice_reads_and_round_trips_new_elements():
    d = read_spice(DECK)
    net = d.netlist
    assert d.analyses == [AC("oct", 3, 1e3, 1e6), DCSweep("V1", 0.0, 1.0, 0.5, "I1", 0.0, 1e-3, 1e-3)]
    assert net.element("V1")["params"] == {"dc": 1.0, "ac_mag": 0.5, "ac_phase": 45.0}
    assert net.element("L1")["params"] == {"inductance": 1e-3, "ic": 1e-6}
    assert net.element("F1")["control"] == "Vsense" and net.element("H1")["control"] == "Vsense"
    assert net.element("G1")["kind"] == "vccs"
    back = read_spice(write_spice(net, d.analysis))
    for name in ["V1", "Vsense", "I1", "L1", "G1", "F1", "H1", "E1"]:
        assert back.netlist.element(name) == net.element(name)
    f = d.analysis.frequencies()
    a, b = ac(net, f), ac(back.netlist, d.analysis)
    np.testing.assert_array_equal(a.x, b.x)
    assert back.analysis == d.analysis


@pytest.mark.parametrize(
    "line,match",
    [
        (".ac dec 10 0 1k", "f_start must be"),
        (".ac dec 0 1 1k", "points must be"),
        (".ac dec 2.5 1 1k", "points must be"),
        (".ac log 10 1 1k", ".ac needs"),
        (".ac dec 10 1k 1", "f_stop must be"),
        (".dc V1 0 1 0", "step must be"),
        (".dc V1 0 1 0.1 V1 0 1 0.5", "source2 must differ"),
        (".dc V1 0 1", ".dc needs"),
        ("F1 a 0 Vnone 2", "does not exist"),
        ("H1 a 0 R1 2", "is a resistor"),
        ("F1 a 0 2", "too few fields"),
        ("G1 a 0 b", "too few fields"),
        ("L1 a 0 0", "inductance must be"),
    ],
)
def test_spice_errors_name_file_and_line(line, match):
    deck = f"t\nV1 a 0 1\nR1 a 0 1k\n{line}\n.end\n"
    with pytest.raises(SpiceSyntaxError, match=match) as info:
        read_spice(deck)
    assert info.value.line == 4 and info.value.path == "<string>"


def test_dc_sweep_sources_are_resolved_and_renamed():
    d = read_spice("t\nVin a 0 1\nR1 a 0 1k\n.dc VIN 0 1 0.5\n.end\n")
    assert d.analysis.source == "Vin"  # spelled as in the netlist: dc_sweep(d.netlist, d.analysis.source, ...)
    assert dc_sweep(d.netlist, d.analysis.source, d.analysis.values()).i("Vin").tolist() == [0.0, -5e-4, -1e-3]
    with pytest.raises(SpiceSyntaxError, match="(?i)r1.* not an independent") as info:
        read_spice("t\nVin a 0 1\nR1 a 0 1k\n.dc R1 0 1 0.5\n.end\n")
    assert info.value.line == 4
    net = Netlist()
    net.add_vsource("in", "a", "0", 1.0)  # written as "Vin": the .dc line must say so too
    net.add_resistor("R1", "a", "0", 1e3)
    assert write_spice(net, DCSweep("in", 0, 1, 0.5)).splitlines()[-2] == ".dc Vin 0 1 0.5"
