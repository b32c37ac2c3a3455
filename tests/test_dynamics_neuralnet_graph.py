"""Neuron circuits as a neurosim.netlist.Netlist: recognised, grouped, compiled to scipy and brian2."""

import numpy as np
import pytest

from neurosim.dynamics import CTRNN
from neurosim.dynamics.neuralnet import (NeuralNetlist, compile_brian2, ctrnn_netlist, lif_netlist, rate_netlist,
                                         simulate_scipy)
from neurosim.errors import NetlistError
from neurosim.netlist import Netlist, Pulse

W = np.array([[4.5, -1.0, 0.5], [1.0, 4.5, -0.7], [0.3, -0.4, 2.0]])
NET = CTRNN(W, [0.01, 0.02, 0.015], gain=1.0, theta=[-2.0, -2.5, -1.0], bias=[0.3, -0.2, 0.1])
T = np.linspace(0, 0.05, 51)


def test_ctrnn_netlist_is_a_graph_and_equals_ctrnn_solve():
    net = ctrnn_netlist(NET, C=1e-6)
    kinds = {g.kind for g in net.groups}
    assert kinds == {"capacitor", "resistor", "isource", "amplifier"}
    assert net.graph.has_edge("n1.m", "n0") and not net.graph.has_edge("n1.p", "n0")  # W[0, 1] < 0: - rail
    y, _ = simulate_scipy(net, T)
    ref = NET.simulate(T, rtol=1e-11, atol=1e-13).y
    assert np.abs(y - ref).max() / np.abs(ref).max() < 3e-9     # measured 2.4e-10
    # weights-and-parameters constructor: the same circuit
    y2, _ = simulate_scipy(rate_netlist(W, NET.tau, gain=1.0, theta=NET.theta, bias=NET.bias, C=1e-6), T)
    assert np.array_equal(y, y2)


def test_hand_placed_two_neuron_circuit_equals_its_ctrnn():
    """Elements placed by hand (one of them a negative-rail synapse, a self-loop and a sink source);
    expected CTRNN written from the circuit equations by hand."""
    C, GL, R01, R10, R11, va = 2e-9, 1e-7, 2e7, 1e7, 4e7, 5.0
    net = Netlist()
    for i in "ab":
        net.add_capacitor(f"C{i}", i, "0", C)
        net.add_resistor(f"RL{i}", "0", i, 1 / GL)                 # either orientation
    net.add_amplifiers(["Aa", "Bm"], ["ra", "0"], ["0", "rbm"], ["a", "b"], "0", [1.5, 0.8], [-0.5, 0.2], va)
    net.add_resistor("Sab", "ra", "b", R01)        # a -> b, + rail
    net.add_resistor("Sba", "a", "rbm", R10)       # b -> a, - rail (resistor orientation irrelevant)
    net.add_resistor("Saa", "ra", "a", R11)        # a -> a
    net.add_isource("Ia", "a", "0", 3e-9)          # drawn out of a
    net.add_isource("Ib", "0", "b", 1e-9)
    GT = np.array([GL + 1 / R10 + 1 / R11, GL + 1 / R01])
    Wm = va * np.array([[1 / R11, -1 / R10], [1 / R01, 0.0]]) / GT[:, None]
    ref = CTRNN(Wm, C / GT, gain=[1.5, 0.8], theta=[-0.5, 0.2], bias=np.array([-3e-9, 1e-9]) / GT)
    t = np.linspace(0, 0.2, 41)
    y, _ = simulate_scipy(net, t, y0=[0.3, -0.1])
    yr = ref.simulate(t, y0=[0.3, -0.1], rtol=1e-11, atol=1e-13).y
    assert np.abs(y - yr).max() / np.abs(yr).max() < 1e-10     # measured 1.3e-11
    assert NeuralNetlist.from_netlist(net).node_names == ("a", "b")


def test_round_trip_grouped_form():
    d = NeuralNetlist.from_ctrnn(NET, C=1e-6)
    e = NeuralNetlist.from_netlist(d.to_netlist())
    order = np.lexsort((e.pre, e.post)), np.lexsort((d.pre, d.post))
    for k in ("C", "G_leak", "gain", "theta", "I_bias"):
        np.testing.assert_allclose(getattr(e, k), getattr(d, k), rtol=1e-15)
    for k in ("pre", "post", "rail", "G"):
        np.testing.assert_allclose(getattr(e, k)[order[0]], getattr(d, k)[order[1]], rtol=1e-15)


@pytest.mark.brian2
def test_brian2_compiles_the_netlist():
    from neurosim.dynamics._brian import brian2_prefs

    net = ctrnn_netlist(NET, C=1e-6)
    y, _ = simulate_scipy(net, T)
    with brian2_prefs("numpy", "test") as b2:
        N, S, objs = compile_brian2(net, b2, 2e-6)
        mon = b2.StateMonitor(N, "y", record=True, dt=1e-3 * b2.second)
        b2.Network(*objs, mon).run((T[-1] + 0.5e-3) * b2.second, namespace={})
        yb = np.asarray(mon.y / b2.volt).T[: T.size]
    assert np.abs(yb - y).max() / np.abs(y).max() < 1e-4     # measured 4.4e-5, as the grouped form


def _neuron(net, i="a"):
    net.add_capacitor(f"C{i}", i, "0", 1e-9)
    net.add_resistor(f"RL{i}", i, "0", 1e7)


@pytest.mark.parametrize("build, match", [
    (lambda n: n.add_resistor("R1", "a", "0", 1e6), "no capacitor"),
    (lambda n: (n.add_capacitor("Ca", "a", "0", 1e-9), n.add_isource("I", "0", "a", 1e-9)), "'a' .*'Ca'.* no leak"),
    (lambda n: (_neuron(n), n.add_capacitor("Cx", "a", "b", 1e-9)), "'Cx'"),
    (lambda n: (_neuron(n), n.add_resistor("Rx", "a", "x", 1e6)), "'Rx'.*neither"),
    (lambda n: (_neuron(n), n.add_vsource("V1", "a", "0", 1.0)), "'V1' is a vsource"),
    (lambda n: (_neuron(n), n.add_amplifiers(["A"], "r", "0", "x", "0", 1.0, 0.0, 1.0)), "'A'.*controlled"),
    (lambda n: (_neuron(n), n.add_amplifiers(["A"], "a", "0", "a", "0", 1.0, 0.0, 1.0)), "'A'.*rail"),
    (lambda n: (_neuron(n), n.add_lifs(["L"], "a", "0", 0.01, 0.02, 0.0)), "'L'.*v_reset < v_th"),
    (lambda n: (_neuron(n), n.add_isource("I", "0", "a", 0.0, Pulse(0, 1e-9, 0, 1e-6, 1e-6, 1e-3, 2e-3))), "constant"),
])
def test_malformed_netlist_names_the_element(build, match):
    net = Netlist()
    build(net)
    with pytest.raises(NetlistError, match=match):
        simulate_scipy(net, [0.0, 1e-3])


# ---------------------------------------------------------------------- threshold-and-reset neurons
C_M, G_L, V_TH, V_RESET, T_REF = 2e-10, 1e-8, 0.015, 0.005, 2e-3     # tau = 20 ms


def _isi(I):
    """Analytic interspike interval of a LIF neuron under constant current I (rest 0 V)."""
    RI, tau = I / G_L, C_M / G_L
    return T_REF + tau * np.log((RI - V_RESET) / (RI - V_TH))


def test_lif_single_neuron_rate_is_analytic():
    I = 2e-10
    net = lif_netlist(C_M, G_L, V_TH, V_RESET, T_REF, I_bias=I)
    assert {g.kind for g in net.groups} == {"capacitor", "resistor", "isource", "lif"}
    y, _, (i, t) = simulate_scipy(net, np.linspace(0, 0.5, 501), return_spikes=True)
    tau, RI = C_M / G_L, I / G_L
    first = tau * np.log(RI / (RI - V_TH))          # from y(0) = 0
    assert t.size == 20 and np.all(i == 0)
    assert abs(t[0] - first) < 1e-11                # measured 1.4e-12 s
    np.testing.assert_allclose(np.diff(t), _isi(I), rtol=1e-9, atol=0)   # measured 6.6e-11 relative
    assert y.max() <= V_TH + 1e-12                 # reset, never above threshold
    # refractory: held at v_reset for t_ref after each spike
    tt = np.linspace(0, 0.5, 501)
    held = (tt[:, None] > t[None, :]) & (tt[:, None] < t[None, :] + T_REF)
    np.testing.assert_allclose(y[held.any(1), 0], V_RESET, atol=1e-15)


NET_I = np.array([2e-10, 2.6e-10, 3.3e-10, 2.4e-10])
NET_GAP = np.zeros((4, 4))
NET_GAP[[0, 1, 1, 2], [1, 0, 2, 1]] = [2e-9, 2e-9, 1e-9, 1e-9]   # neuron 3 alone


@pytest.mark.brian2
@pytest.mark.slow  # about 10 s: 3*10^4 brian2 steps (numpy target)
def test_lif_network_spike_times_scipy_vs_brian2():
    from neurosim.dynamics._brian import brian2_prefs

    net = lif_netlist(C_M, G_L, V_TH, V_RESET, T_REF, I_bias=NET_I, G_gap=NET_GAP)
    _, _, (si, st) = simulate_scipy(net, [0.0, 0.3], return_spikes=True)
    dt = 1e-5
    with brian2_prefs("numpy", "test") as b2:
        N, _, objs = compile_brian2(net, b2, dt)
        mon = b2.SpikeMonitor(N, variables=["t_cross"])
        b2.Network(*objs, mon).run(0.3 * b2.second, namespace={})
        bi, bt = np.asarray(mon.i), np.asarray(mon.t_cross / b2.second)
    assert si.size > 60
    err = []
    for n in range(4):
        a, b = st[si == n], bt[bi == n]
        assert a.size == b.size
        err.append(np.abs(a - b).max())
    print("LIF spike times brian2 - scipy, in dt:", np.array(err) / dt)
    assert max(err) < dt                      # measured 0.32 dt (gap-coupled), 0.003 dt (neuron 3 alone)
    isi = np.diff(bt[bi == 3])
    np.testing.assert_allclose(isi, _isi(NET_I[3]), rtol=0, atol=0.05 * dt)   # analytic, alone
    # the coupling matters: neuron 0's spikes differ from an uncoupled neuron's
    _, _, (ui, ut) = simulate_scipy(lif_netlist(C_M, G_L, V_TH, V_RESET, T_REF, I_bias=NET_I), [0.0, 0.3],
                                    return_spikes=True)
    assert abs(ut[ui == 0][-1] - st[si == 0][-1]) > 100 * dt


def test_lif_netlist_bad_input():
    from neurosim.errors import ParameterError

    with pytest.raises(ParameterError, match="G_gap must be a symmetric"):
        lif_netlist(C_M, G_L, V_TH, V_RESET, T_REF, I_bias=[1e-10, 1e-10], G_gap=[[0, 1e-9], [0, 0]])
    with pytest.raises(ParameterError, match="v_reset must be finite and < v_th"):
        lif_netlist(C_M, G_L, V_TH, 0.02, T_REF)
    with pytest.raises(ParameterError, match="t_ref must be"):
        lif_netlist(C_M, G_L, V_TH, V_RESET, -1e-3)


def test_identical_lif_neurons_spike_together():
    """Two identical neurons reach threshold at the same instant: both spike (an event at the start of
    an integration interval would not be seen by solve_ivp)."""
    net = lif_netlist(C_M, G_L, V_TH, V_RESET, T_REF, I_bias=[2e-10, 2e-10, 3e-10])
    _, _, (i, t) = simulate_scipy(net, [0.0, 0.2], return_spikes=True)
    np.testing.assert_array_equal(t[i == 0], t[i == 1])
    assert (i == 0).sum() == 8


def test_memristive_netlist_equals_grouped_form():
    from neurosim.devices import LinearIonDrift

    dev = LinearIonDrift(R_on=1e4, R_off=1.6e5, window="joglekar", mu_v=5e-16)
    net = ctrnn_netlist(NET, C=1e-6, device=dev, x0=0.5)
    assert {g.kind for g in net.groups} == {"capacitor", "resistor", "isource", "amplifier", "device"}
    d = NeuralNetlist.from_ctrnn(NET, C=1e-6)
    ref = NeuralNetlist(C=d.C, G_leak=d.G_leak, gain=d.gain, theta=d.theta, v_amp=d.v_amp, pre=d.pre, post=d.post,
                        rail=d.rail, device=dev, x0=0.5, I_bias=d.I_bias)
    y, x = simulate_scipy(net, T)
    yr, xr = simulate_scipy(ref, T)
    np.testing.assert_allclose(y, yr, rtol=0, atol=1e-9)
    assert np.ptp(x, axis=0).max() > 0.1


def test_circuit_engine_and_spice_writer_refuse_neuron_elements():
    """The neuron-circuit elements are reduced to ODEs here; the MNA engine and the SPICE writer name
    them instead of leaving them out."""
    from neurosim.errors import NetlistError
    from neurosim.solve import dc
    from neurosim.spice import write_spice

    net = lif_netlist(2e-10, 1e-8, v_th=0.015, v_reset=0.005, t_ref=2e-3, I_bias=[2e-10, 3e-10])
    with pytest.raises(NetlistError, match=r"compile: element 'n0.LIF' is a 'lif' element"):
        dc(net)
    with pytest.raises(NetlistError, match=r"write_spice: element .* is a '(lif|amplifier)' element"):
        write_spice(net)
