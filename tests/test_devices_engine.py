"""The same device in the circuit engine, in ngspice (behavioural export) and in solve_ivp: waveforms within 1%.

Circuit: a sine source, a series resistor and the device. Three independent integrations:
``neurosim.solve.transient`` (MNA + Newton, the model's Python functions), ngspice on the exported
``spice_subckt`` (B-sources, its own integrator) and scipy's ``solve_ivp`` on the ODE with the
series-resistor loop solved at every evaluation.
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from neurosim.devices import TEAM, VTEAM, LinearIonDrift, SoftBoundsDevice, load_device
from neurosim.netlist import Netlist
from neurosim.netlist.waveforms import Sine
from neurosim.solve import transient
from neurosim.spice.analysis import Tran
from neurosim.spice.runner import run_ngspice

pytestmark = pytest.mark.ngspice

CASES = {
    # model, amplitude (V), frequency (Hz), series resistance (ohm), periods
    "HP-joglekar": (LinearIonDrift(window="joglekar"), 1.0, 1.0, 1e3, 2),
    "HP-biolek": (load_device("hp_tio2_strukov2008").replace(window="biolek", p=1, initial_state=0.3), 1.2, 1.0, 1e3, 2),
    "HP-card-no-window": (load_device("hp_tio2_strukov2008"), 1.2, 1.0, 1e3, 2),  # runs into the hard stop
    "HP-prodromakis": (LinearIonDrift(window="prodromakis", p=2, j=1.0), 1.0, 1.0, 1e3, 2),
    "VTEAM": (VTEAM(k_off=0.05, k_on=-0.05, v_off=0.3, v_on=-0.3, alpha_off=3, alpha_on=3, R_off=5e3), 1.0, 1e8, 100.0, 2),
    "VTEAM-kvatinsky-exp": (
        VTEAM(k_off=0.05, k_on=-0.05, v_off=0.3, v_on=-0.3, alpha_off=3, alpha_on=3, R_off=5e3, window="kvatinsky",
              a_on=0.3e-9, a_off=2.7e-9, w_c=0.1e-9, iv="exponential"),
        1.0, 1e8, 100.0, 2,
    ),
    "TEAM": (TEAM(R_off=1e4, i_off=5e-5, i_on=-5e-5, k_off=1e-8, k_on=-1e-8, alpha_off=2, alpha_on=2), 1.0, 10.0, 1e3, 2),
    "Yakopcic-oblea": (load_device("yakopcic_oblea2011"), 1.0, 1e3, 100.0, 2),
}


def _circuit(model, amp, freq, rs):
    net = Netlist()
    net.add_vsource("V1", "in", "0", waveform=Sine(0.0, amp, freq))
    net.add_resistor("R1", "in", "a", rs)
    net.add_device("M1", "a", "0", model)
    return net


def _reference(model, amp, freq, rs, t):
    """solve_ivp on dx/dt = f(x, v_dev) with v_dev + rs * i(x, v_dev) = v_src solved by bracketing."""

    def v_dev(x, vs):
        if vs == 0.0:
            return 0.0
        return brentq(lambda v: v + rs * model.current(x, v) - vs, min(0.0, vs), max(0.0, vs), xtol=1e-15, rtol=1e-14)

    def rhs(tt, y):
        vs = amp * np.sin(2 * np.pi * freq * tt)
        return [float(model.dstate_dt(y[0], v_dev(y[0], vs)))]

    sol = solve_ivp(rhs, (t[0], t[-1]), [model.initial_state], method="LSODA", t_eval=t, rtol=1e-9,
                    atol=1e-12 * (model.state_bounds[1] - model.state_bounds[0]), max_step=0.002 / freq)
    assert sol.success, sol.message
    x = sol.y[0]
    vs = amp * np.sin(2 * np.pi * freq * t)
    i = np.array([model.current(xk, v_dev(xk, vk)) for xk, vk in zip(x, vs)])
    return x, i


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_engine_ngspice_and_solve_ivp_agree_within_1_percent(case, ngspice_path):
    model, amp, freq, rs, periods = CASES[case]
    t_stop = periods / freq
    net = _circuit(model, amp, freq, rs)
    t = np.linspace(0.0, t_stop, 801)

    eng = transient(net, t_stop, dt_max=t_stop / 500, reltol=1e-6, state_tol=1e-7, progress=False)
    i_eng = np.interp(t, eng.t, eng.i("M1"))
    x_eng = np.interp(t, eng.t, eng.state("M1"))

    sp = run_ngspice(net, Tran(t_stop / 500, t_stop, tmax=t_stop / 1000), options={"reltol": 1e-6})
    tsp = sp.vectors["time"]
    i_sp = np.interp(t, tsp, -sp.vectors["i(v1)"])  # the loop current leaves V1's + terminal
    x_sp = np.interp(t, tsp, sp.vectors["v(xm1.x)"] * model.spice_state_scale)

    x_ref, i_ref = _reference(model, amp, freq, rs, t)

    lo, hi = model.state_bounds
    span = hi - lo
    scale = np.abs(i_ref).max()
    assert np.ptp(x_ref) > 0.05 * span  # the state really moves: the comparison is not trivial
    for name, i_w, x_w in (("engine", i_eng, x_eng), ("ngspice", i_sp, x_sp)):
        err_i = np.abs(i_w - i_ref).max() / scale
        err_x = np.abs(x_w - x_ref).max() / span
        assert err_i <= 0.01, f"{name}: current differs by {err_i:.2%} of its peak"
        assert err_x <= 0.01, f"{name}: state differs by {err_x:.2%} of its range"
    # and the two circuit simulators against each other
    assert np.abs(i_eng - i_sp).max() / scale <= 0.01
    assert np.abs(x_eng - x_sp).max() / span <= 0.01


def test_soft_bounds_sinh_read_in_ngspice_and_engine(ngspice_path):
    """A programmed conductance with the sinh read I-V: ngspice, the engine's DC solve and the formula."""
    from neurosim.solve import dc

    dev = SoftBoundsDevice(G_min=1e-6, G_max=1e-4, initial_state=3.7e-5, read_iv="sinh", v_nl=0.2)
    net = Netlist()
    net.add_vsource("V1", "in", "0", dc=0.5)
    net.add_resistor("R1", "in", "a", 1e3)
    net.add_device("M1", "a", "0", dev)
    va = brentq(lambda v: v + 1e3 * 3.7e-5 * 0.2 * np.sinh(v / 0.2) - 0.5, 0.0, 0.5, xtol=1e-15)
    i_ref = 3.7e-5 * 0.2 * np.sinh(va / 0.2)
    sp = run_ngspice(net, "op")
    assert -float(np.ravel(sp.vectors["i(v1)"])[0]) == pytest.approx(i_ref, rel=1e-6)
    op = dc(net)
    assert float(op.i("M1")) == pytest.approx(i_ref, rel=1e-9)
