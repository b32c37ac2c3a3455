"""The models' equation text runs in brian2 and gives the waveforms of the Python functions (within 1%)."""

import numpy as np
import pytest

from neurosim.devices import TEAM, VTEAM, LinearIonDrift, Yakopcic, simulate

# brian2 is imported inside the fixture, not at module level: importing brian2 imports brian2.tests,
# which monkey-patches pytest's doctest collector and breaks the collection of every __init__.py
# doctest collected after it (brian2 2.9.0).

pytestmark = pytest.mark.brian2

CASES = {
    "HP-joglekar": (LinearIonDrift(window="joglekar"), "x", 1.0, 1.0),
    "HP-biolek": (LinearIonDrift(window="biolek", initial_state=0.3), "x", 1.0, 1.0),
    "VTEAM-kvatinsky": (
        VTEAM(k_off=0.05, k_on=-0.05, v_off=0.3, v_on=-0.3, R_off=5e3, window="kvatinsky", a_on=0.3e-9,
              a_off=2.7e-9, w_c=0.1e-9, iv="exponential"),
        "w", 1.0, 1e8,
    ),
    "TEAM": (TEAM(R_off=1e4, i_off=5e-5, i_on=-5e-5, k_off=1e-8, k_on=-1e-8, alpha_off=2, alpha_on=2), "w", 1.0, 10.0),
    "Yakopcic": (Yakopcic(), "x", 1.0, 1e3),
}


@pytest.fixture
def brian2():
    """brian2 with numpy code generation for these short runs (no compiler), restored afterwards."""
    import brian2 as b2  # a core dependency
    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = "numpy"
    yield b2
    b2.prefs.codegen.target = old


@pytest.mark.parametrize("case", list(CASES))
def test_brian2_equations_match_python_model(case, brian2):
    model, var, amp, freq = CASES[case]
    eqs, ns = model.brian2_model()
    eqs += "\nv = V0*sin(2*pi*f_drive*t) : volt"
    ns.update(V0=amp * brian2.volt, f_drive=freq * brian2.hertz)
    t_stop = 1.0 / freq
    dt = t_stop / 1000
    group = brian2.NeuronGroup(1, eqs, method="rk4", namespace=ns, dt=dt * brian2.second)
    setattr(group, var, model.initial_state * (brian2.meter if var == "w" else 1))
    mon = brian2.StateMonitor(group, [var, "I"], record=0, dt=dt * brian2.second)
    net = brian2.Network(group, mon)
    net.run(t_stop * brian2.second, namespace=ns)
    t = np.asarray(mon.t / brian2.second)
    x_b2 = np.asarray(getattr(mon, var)[0])
    i_b2 = np.asarray(mon.I[0])
    tr = simulate(model, t, lambda tt: amp * np.sin(2 * np.pi * freq * tt), method="LSODA", rtol=1e-9, max_step=t_stop / 500)
    lo, hi = model.state_bounds
    assert np.ptp(tr.state) > 0.05 * (hi - lo)
    assert np.abs(x_b2 - tr.state).max() <= 0.01 * (hi - lo)
    assert np.abs(i_b2 - tr.current).max() <= 0.01 * np.abs(tr.current).max()
