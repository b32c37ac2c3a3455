"""A liquid state machine written directly in brian2 with the paper's equations, no netlist: the
reference of tests/test_dynamics_spiking.py and of benchmarks/bench_lsm.py (the liquid as it was built
before it became a netlist)."""

import numpy as np


def hand_written_liquid(b2, lsm, idx, times):
    """brian2 ``(network, spike monitor)`` of the liquid ``lsm`` (its drawn structure and parameters)
    driven by input spikes ``(idx, times)``, on the current code-generation target."""
    from brian2 import amp, ohm, second, volt

    clock = b2.Clock(dt=lsm.dt * second)
    G = b2.NeuronGroup(lsm.n_neurons, """
        dv/dt = (-v + r_in*(i_b + I_e + I_i))/tau_m : volt (unless refractory)
        dI_e/dt = -I_e/tau_e : amp
        dI_i/dt = -I_i/tau_i : amp
        i_b : amp
        ref : second
        """, threshold="v > v_th", reset="v = v_re", refractory="ref", method="exact", clock=clock,
        namespace=dict(r_in=lsm.r_in * ohm, tau_m=lsm.tau_m * second, tau_e=lsm.tau_e * second,
                       tau_i=lsm.tau_i * second, v_th=lsm.v_thresh * volt, v_re=lsm.v_reset * volt))
    G.v = lsm.v0 * volt
    G.i_b = lsm.i_b * amp
    G.ref = np.where(lsm.inhibitory, lsm.refractory_i, lsm.refractory_e) * second
    S = b2.Synapses(G, G, """
        A : amp (constant)
        U : 1 (constant)
        D : second (constant)
        F : second (constant)
        exc : 1 (constant)
        u : 1
        R : 1
        tlast : second
        """, on_pre="""
        R = 1 + (R - u*R - 1)*exp(-(t - tlast)/D)
        u = U + u*(1 - U)*exp(-(t - tlast)/F)
        I_e_post += exc*A*u*R
        I_i_post += (1 - exc)*A*u*R
        tlast = t
        """, clock=clock)
    S.connect(i=lsm.pre, j=lsm.post)
    S.A = lsm.A * amp
    S.U, S.D, S.F = lsm.U, lsm.D * second, lsm.F * second
    S.exc = (~lsm.inhibitory[lsm.pre]).astype(float)
    S.u, S.R, S.tlast = lsm.U, 1.0, -1e4 * second
    S.delay = lsm.delay * second
    inp = b2.SpikeGeneratorGroup(lsm.n_inputs, idx, times * second, clock=clock)
    Sin = b2.Synapses(inp, G, "A : amp (constant)", on_pre="I_e_post += A", clock=clock)
    Sin.connect(i=lsm.in_pre, j=lsm.in_post)
    Sin.A = lsm.A_in * amp
    mon = b2.SpikeMonitor(G)
    return b2.Network(G, S, inp, Sin, mon), mon
