"""The CTRNN's circuit realisation through the transient engine: equal to the equations when ideal,
and the size of the wire-resistance and device-drift effects."""

import numpy as np
import pytest

from neurosim.devices import LinearIonDrift
from neurosim.dynamics import CTRNN, ctrnn_circuit
from neurosim.errors import ParameterError

BEER = CTRNN(np.array([[4.5, 1.0], [-1.0, 4.5]]), tau=1e-3, theta=[-2.75, -1.75])


def _rel(tr, net, y0):
    ref = net.simulate(tr.t, y0=y0, rtol=1e-10, atol=1e-12)
    return np.abs(tr.y - ref.y).max() / np.abs(ref.y).max()


def test_ideal_circuit_equals_ctrnn_beer_oscillator():
    c = ctrnn_circuit(BEER, y0=[0.0, 0.0])
    tr = c.run(20e-3)
    assert np.ptp(tr.y[len(tr.y) // 2:, 0]) > 2.5      # it oscillates as the equations do
    assert _rel(tr, BEER, [0.0, 0.0]) <= 1e-3          # measured 6e-5


def test_ideal_circuit_equals_ctrnn_random_network():
    r = np.random.default_rng(0)
    N = 4
    net = CTRNN(r.normal(0, 2, (N, N)), tau=r.uniform(0.5e-3, 2e-3, N), gain=r.uniform(0.5, 1.5, N),
                theta=r.normal(0, 1, N), bias=r.normal(0, 1, N))
    y0 = r.normal(0, 1, N)
    c = ctrnn_circuit(net, y0=y0)
    assert _rel(c.run(10e-3), net, y0) <= 1e-3


@pytest.mark.slow
def test_wire_resistance_effect_grows():
    errs = [_rel(ctrnn_circuit(BEER, y0=[0.0, 0.0], r_wire=rw).run(20e-3), BEER, [0.0, 0.0]) for rw in (1.0, 100.0)]
    assert 2e-4 < errs[0] < 5e-3 and errs[1] > 0.05 and errs[1] > 20 * errs[0]   # measured 1.3e-3, 0.12


@pytest.mark.slow
def test_device_states_moving_under_circuit_voltages():
    """Memristive crosspoints (HP linear drift): nearly immobile ions give the equations; a mobility
    of 1e-14 m^2/(V s) lets the circuit's own voltages reprogram the weights within 20 ms."""
    frozen = LinearIonDrift(R_on=1e4, R_off=1e6, mu_v=1e-20, D=10e-9, window="joglekar")
    c = ctrnn_circuit(BEER, y0=[0.0, 0.0], device=frozen)
    tr = c.run(20e-3)
    assert _rel(tr, BEER, [0.0, 0.0]) <= 1e-3
    mobile = frozen.replace(mu_v=1e-14)
    c2 = ctrnn_circuit(BEER, y0=[0.0, 0.0], device=mobile)
    tr2 = c2.run(20e-3)
    res = tr2.stats["result"]
    drift = max(abs(res.state(n)[-1] - res.state(n)[0]) for n in c2.devices)
    assert drift > 0.1 and _rel(tr2, BEER, [0.0, 0.0]) > 0.1


def test_bad_input():
    with pytest.raises(ParameterError, match="v_amp must exceed"):
        ctrnn_circuit(BEER, v_amp=2.0)
    with pytest.raises(ParameterError, match="logistic"):
        ctrnn_circuit(CTRNN(np.eye(2), 1e-3, activation="tanh"))
    with pytest.raises(ParameterError, match="y0 must have shape"):
        ctrnn_circuit(BEER, y0=[0.0])
    with pytest.raises(ParameterError, match="r_wire"):
        ctrnn_circuit(BEER, r_wire=-1.0)
