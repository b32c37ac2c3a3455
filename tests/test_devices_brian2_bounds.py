"""brian2 export keeps the device state bounds (it used to drop them)."""

import numpy as np
import pytest

from neurosim.devices import LinearIonDrift, simulate

pytestmark = pytest.mark.brian2


@pytest.fixture
def brian2():
    import brian2 as b2

    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = "numpy"
    yield b2
    b2.prefs.codegen.target = old


@pytest.mark.parametrize("clip", [True, False])
def test_unwindowed_state_stays_in_bounds(brian2, clip):
    """No window: only the bounds stop the state. A sine drive pushes x into x = 1, holds it there,
    then pulls it back; brian2 follows the Python model (which clips) within 1 % of the range."""
    model = LinearIonDrift(window="none", initial_state=0.5, mu_v=1e-14)
    eqs, ns = model.brian2_model()
    assert "rate_x" in eqs and model.brian2_clip() == "x = clip(x, 0, 1)"
    eqs += "\nv = V0*sin(2*pi*f_drive*t) : volt"
    ns.update(V0=1.0 * brian2.volt, f_drive=1.0 * brian2.hertz)
    dt = 1e-3
    group = brian2.NeuronGroup(1, eqs, method="rk4", namespace=ns, dt=1e-4 * brian2.second)
    group.x = 0.5
    objs = [group]
    if clip:
        objs.append(group.run_regularly(model.brian2_clip(), when="after_groups"))
    mon = brian2.StateMonitor(group, "x", record=0, dt=dt * brian2.second)
    net = brian2.Network(*objs, mon)
    net.run(1.0 * brian2.second, namespace=ns)
    x_b2 = np.asarray(mon.x[0])
    t = np.asarray(mon.t / brian2.second)
    tr = simulate(model, t, lambda tt: np.sin(2 * np.pi * tt), method="LSODA", rtol=1e-9, max_step=1e-3)
    assert (tr.state > 1.0 - 1e-6).sum() > 50        # the bound is reached and held
    assert np.abs(x_b2 - tr.state).max() <= 0.01
    # at most one step of overshoot without the clip statement, none with it
    over = x_b2.max() - 1.0
    assert over <= 0.0 if clip else over < 0.01
