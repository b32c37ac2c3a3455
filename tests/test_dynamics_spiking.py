"""Spiking netlists (issue 12): a liquid is a netlist; brian2 and the event-driven scipy engine agree.

References: a hand-written brian2 network of the liquid's equations (the liquid state machine as it
was built before it became a netlist), the closed-form firing period of a leaky integrate-and-fire
neuron under a constant current, and the two engines against each other.
"""

import warnings

import numpy as np
import pytest

from neurosim.dynamics import LiquidStateMachine, poisson_encode
from neurosim.dynamics.spiking import SpikingNetlist, SpikingNetwork
from neurosim.errors import NetlistError, ParameterError
from neurosim.netlist import Netlist

from brian2_reference import hand_written_liquid

pytestmark = pytest.mark.brian2


def hand_written(lsm, idx, times, duration):
    import brian2 as b2

    b2.prefs.codegen.target = "numpy"
    net, mon = hand_written_liquid(b2, lsm, idx, times)
    net.run(duration * b2.second, namespace={})
    i, t = np.asarray(mon.i[:]), np.asarray(mon.t[:] / b2.second)
    order = np.lexsort((i, t))
    return i[order], t[order]


def test_liquid_netlist_on_brian2_equals_hand_written_network():
    lsm = LiquidStateMachine(shape=(5, 3, 3), n_inputs=2, seed=4, target="numpy")
    idx, times = poisson_encode(np.full((3000, 2), 20.0), 1e-4, seed=1)
    r = lsm.run((idx, times), 0.3)
    i, t = hand_written(lsm, idx, times, 0.3)
    assert r.i.size > 50  # the liquid is active
    print("spikes", r.i.size, "hand-written", i.size)
    assert np.array_equal(r.i, i) and np.allclose(r.t, t, rtol=0, atol=1e-12)


def neuron_netlist(I_b, C=3e-8, R=1e6, v_th=0.015, v_reset=0.0, t_ref=2e-3):
    net = Netlist("one neuron")
    net.add_capacitor("C0", "a", "0", C)
    net.add_resistor("RL0", "a", "0", R)
    net.add_isource("IB0", "0", "a", dc=I_b)
    net.add_lifs(["L0"], "a", "0", v_th, v_reset, t_ref)
    return net


@pytest.mark.parametrize("engine, tol", [("scipy", 1e-9), ("brian2", 1e-4)])
def test_constant_current_fires_with_the_closed_form_period(engine, tol):
    """tau dv/dt = -v + R I from v_reset reaches v_th after tau ln((RI - v_reset)/(RI - v_th)), then
    waits t_ref: the period is t_ref + that time (brian2: spike times on its grid of dt = 1e-5 s)."""
    I_b, C, R, v_th, t_ref = 2e-8, 3e-8, 1e6, 0.015, 2e-3
    tau, v_inf = R * C, R * I_b
    first = tau * np.log(v_inf / (v_inf - v_th))
    period = t_ref + first
    r = SpikingNetwork(neuron_netlist(I_b), dt=1e-5, target="numpy").run(([], []), 0.5, engine=engine)
    expected = first + period * np.arange(r.t.size)
    assert r.t.size == int((0.5 - first) // period) + 1
    assert np.max(np.abs(r.t - expected)) <= tol


def test_brian2_converges_to_the_event_driven_scipy_liquid():
    """The same liquid netlist (dynamic synapses, delays, inhibition) on brian2 at shrinking dt against
    the event-driven scipy engine (exact spike times): the same spikes, and brian2's timing error
    (a spike is timed at the start of the step that crosses threshold) falls at least linearly with
    dt (measured 9.1e-4, 2.4e-4, 3.2e-5 s)."""
    stim = (np.zeros(6, np.int64), np.array([1.0, 4.0, 9.0, 15.0, 22.0, 30.0]) * 1e-3)
    ref, errs = None, []
    for dt in (4e-5, 1e-5, 2.5e-6):
        lsm = LiquidStateMachine(shape=(3, 3, 2), n_inputs=1, seed=2, dt=dt, weight_scale=0.5, target="numpy")
        if ref is None:
            ref = lsm.run(stim, 0.05, engine="scipy")
            assert ref.i.size > 20 and np.unique(ref.i).size > 5  # recurrent activity, not only input-driven
        b = lsm.run(stim, 0.05)
        assert np.array_equal(np.sort(b.i), np.sort(ref.i))
        errs.append(max(np.max(np.abs(b.t[b.i == j] - ref.t[ref.i == j])) for j in np.unique(ref.i)))
    assert errs[1] < errs[0] / 2 and errs[2] < errs[1] / 2 and errs[2] < 1e-4, errs


def test_spiking_netlist_errors_name_the_element():
    base = neuron_netlist(1e-9)
    bad = []
    n = neuron_netlist(1e-9)
    n.add_resistor("Rx", "a", "b", 1e3)
    bad.append((n, "Rx", "leak"))
    n = neuron_netlist(1e-9)
    n.add_spike_sources(["P0"], ["a"], "0", 0)
    bad.append((n, "P0", "input node of its own"))
    n = neuron_netlist(1e-9)
    n.add_spike_sources(["P0"], ["in0"], "0", 0.5)
    bad.append((n, "P0", "integer"))
    n = neuron_netlist(1e-9)
    n.add_spike_sources(["P0"], ["in0"], "0", 0)
    n.add_synapses(["S0"], ["a"], ["in0"], 1e-9, 3e-3)
    bad.append((n, "S0", "to a neuron node"))
    n = neuron_netlist(1e-9)
    n.add_diode("D0", "a", "0")
    bad.append((n, "D0", "a spiking netlist has only"))
    n = Netlist("no lif")
    n.add_capacitor("C0", "a", "0", 1e-9)
    n.add_resistor("R0", "a", "0", 1e6)
    bad.append((n, "'a'", "exactly one lif"))
    for net, name, why in bad:
        with pytest.raises(NetlistError, match=why) as e:
            SpikingNetlist.from_netlist(net)
        assert name in str(e.value)
    with pytest.raises(ParameterError, match="tau must be a real number > 0"):
        base.add_synapses(["S1"], ["a"], ["a"], 1e-9, 0.0)
    with pytest.raises(ParameterError, match="U must be"):
        base.add_synapses(["S1"], ["a"], ["a"], 1e-9, 1e-3, U=1.5)
    net = SpikingNetwork(base, target="numpy")
    with pytest.raises(ParameterError, match="engine"):
        net.run(([], []), 0.01, engine="spice")
    with pytest.raises(ParameterError, match="indices must be integers"):
        net.run(([0], [0.001]), 0.01)  # no input channels
    with pytest.raises(ParameterError, match="v0"):
        SpikingNetwork(base, v0=[0.0, 0.0])


def test_circuit_engine_and_spice_writer_refuse_spiking_elements():
    from neurosim.solve.dc import dc
    from neurosim.spice import write_spice

    for kind, add in (("spikes", lambda n: n.add_spike_sources(["X0"], ["in0"], "0", 0)),
                      ("synapse", lambda n: n.add_synapses(["X0"], ["a"], ["a"], 1e-9, 3e-3))):
        net = Netlist("RC")
        net.add_capacitor("C0", "a", "0", 1e-9)
        net.add_resistor("R0", "a", "0", 1e3)
        add(net)
        with pytest.raises(NetlistError, match=f"'X0' is a '{kind}' element, which the circuit engine does not"):
            dc(net)
        with pytest.raises(NetlistError, match=f"'X0' is a '{kind}' element, which has no SPICE"):
            write_spice(net)


@pytest.mark.parametrize("U, D, F, tau, A", [(0.2, 0.0, 0.05, 1e-3, 1.0e-6), (0.5, 0.02, 0.0, 3e-3, 1.22e-6),
                                              (1.0, 0.0, 0.0, 3e-3, 3.7e-7)])
def test_facilitating_depressing_and_static_synapses_on_both_engines(U, D, F, tau, A):
    """Facilitation only (D = 0: the first inputs are below threshold, later ones fire), depression only
    (F = 0: the first input fires, later ones fade) and static, a 500 Hz input train through one
    synapse into a fast neuron (tau_m = 3 ms; for the last two equal to the synapse's, where brian2's
    exact integrator breaks down and RK4 is used). brian2 gives scipy's spikes with a timing error
    that shrinks with its step (first order: within 10 steps at dt = 10 us and at 2.5 us)."""
    net = neuron_netlist(0.0, C=3e-8, R=1e5, v_reset=0.0, t_ref=1e-3)
    net.add_spike_sources(["P0"], ["in0"], "0", 0)
    net.add_synapses(["S0"], ["in0"], ["a"], A, tau, delay=5e-4, U=U, D=D, F=F)
    stim = (np.zeros(20, np.int64), np.arange(20) * 2e-3)
    s = SpikingNetwork(net, target="numpy").run(stim, 0.045, engine="scipy")
    assert 3 <= s.t.size <= 20  # at most one spike per input: timing set by the inputs, errors do not pile up
    if D > 0:  # depression: fires at the first input, then fades
        assert s.t[0] < 2e-3 and s.t.size < 12
    if F > 0:  # facilitation: silent at first
        assert s.t[0] > 4e-3
    for dt in (1e-5, 2.5e-6):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # no overflow or division warnings from D = 0 / F = 0
            b = SpikingNetwork(net, dt=dt, target="numpy").run(stim, 0.045)
        assert b.t.size == s.t.size
        assert np.max(np.abs(b.t - s.t)) <= 10 * dt, (dt, np.max(np.abs(b.t - s.t)))
