"""Transients against closed forms (RC, RC ladder by matrix exponential, memristive ODE) and the
quasi-static solve_ivp path against the joint implicit integration."""

import dataclasses

import numpy as np
import pytest
from scipy.linalg import expm

from neurosim.errors import NetlistError, ParameterError
from neurosim.netlist import PWL, Netlist, Pulse, Sine
from neurosim.solve import quasistatic, transient

TAU = 1e-3  # 1 kohm * 1 uF


def exact_rc_pwl(times, values, tau, v0, t):
    """RC low-pass driven by a piecewise-linear u(t): closed form per linear segment.

    On a segment u = u0 + k (t - t0): v(t) = u(t) - k tau + (v(t0) - u0 + k tau) exp(-(t - t0)/tau).
    """
    knots = np.concatenate([[0.0], np.asarray(times, float)[np.asarray(times) > 0], [np.inf]])
    u_at = lambda s: np.interp(s, times, values)  # noqa: E731
    out = np.empty_like(t)
    v_start = v0
    for a, b in zip(knots[:-1], knots[1:]):
        u0 = u_at(a)
        k = 0.0 if not np.isfinite(b) else (u_at(b) - u0) / (b - a)
        sel = (t >= a) & (t <= b)
        dt = t[sel] - a
        out[sel] = u0 + k * dt - k * tau + (v_start - u0 + k * tau) * np.exp(-dt / tau)
        if np.isfinite(b):
            v_start = u_at(b) - k * tau + (v_start - u0 + k * tau) * np.exp(-(b - a) / tau)
    return out


def rc(waveform=None, ic=None):
    net = Netlist()
    net.add_vsource("V", "in", "0", 0.0, waveform=waveform)
    net.add_resistor("R", "in", "a", 1e3)
    net.add_capacitor("C", "a", "0", 1e-6, ic=ic)
    return net


# BE is first order: reaching 1e-4 needs a tight per-step LTE tolerance; trap gets there easily
SETTINGS = {"be": dict(reltol=2e-8, vntol=1e-10), "trap": dict(reltol=1e-5, vntol=1e-7)}


@pytest.mark.parametrize("method", ["be", "trap"])
def test_rc_discharge_from_initial_condition(method):
    res = transient(rc(ic=1.0), 3 * TAU, method=method, uic=True, progress=False, dt_max=3 * TAU, **SETTINGS[method])
    assert res.t[0] == 0.0 and res.t[-1] == pytest.approx(3 * TAU, rel=1e-12)
    assert np.max(np.abs(res.v("a") - np.exp(-res.t / TAU))) <= 1e-4
    # the capacitor current flows out through R: i(R) = v(a)/R with sign a -> in
    np.testing.assert_allclose(res.i("R"), -res.v("a") / 1e3, rtol=1e-12)
    np.testing.assert_allclose(res.i("C"), res.i("R"), rtol=1e-9, atol=1e-15)  # KCL at node a: in->a->0


@pytest.mark.parametrize("method", ["be", "trap"])
def test_rc_pwl_ramp_and_hold_with_breakpoints(method):
    times, values = [0.0, 0.5 * TAU, 2 * TAU, 2.2 * TAU], [0.0, 1.0, 1.0, -0.5]
    res = transient(rc(PWL(times, values)), 4 * TAU, method=method, progress=False, dt_max=4 * TAU, **SETTINGS[method])
    for corner in times[1:]:
        assert np.min(np.abs(res.t - corner)) <= 1e-15  # steps land on every corner
    ref = exact_rc_pwl(times, values, TAU, 0.0, res.t)
    assert np.max(np.abs(res.v("a") - ref)) <= 1e-4 * np.max(np.abs(values))


@pytest.mark.parametrize("method", ["be", "trap"])
def test_rc_pulse_train_from_operating_point(method):
    p = Pulse(v1=0.2, v2=1.0, delay=0.5 * TAU, rise=0.1 * TAU, fall=0.2 * TAU, width=1.0 * TAU, period=2.5 * TAU)
    res = transient(rc(p), 5 * TAU, method=method, progress=False, dt_max=5 * TAU, **SETTINGS[method])
    corners = np.concatenate([[0.0], p.breakpoints(5 * TAU)])
    ref = exact_rc_pwl(corners, p.value(corners), TAU, 0.2, res.t)  # the OP starts at v1 = 0.2 V
    assert res.v("a")[0] == pytest.approx(0.2, rel=1e-12)
    assert np.max(np.abs(res.v("a") - ref)) <= 1e-4


@pytest.mark.parametrize("method", ["be", "trap"])
def test_rc_ladder_matches_matrix_exponential(method):
    n, r, c = 6, 1e3, np.array([1.0, 0.5, 2.0, 1.0, 0.3, 1.5]) * 1e-7
    net = Netlist()
    net.add_vsource("V", "n0", "0", 1.0)
    for k in range(n):
        net.add_resistor(f"R{k}", f"n{k}", f"n{k + 1}", r)
        net.add_capacitor(f"C{k}", f"n{k + 1}", "0", c[k], ic=0.0)
    net.add_resistor("Rend", f"n{n}", "0", 4 * r)
    # state-space form C dv/dt = -G v + b, closed form v(t) = v_inf + expm(-C^-1 G t)(v0 - v_inf)
    g = np.zeros((n, n))
    for k in range(n):
        g[k, k] += 1 / r
        if k + 1 < n:
            g[k, k] += 1 / r
            g[k, k + 1] -= 1 / r
            g[k + 1, k] -= 1 / r
    g[n - 1, n - 1] += 1 / (4 * r)
    b = np.zeros(n)
    b[0] = 1.0 / r
    a = -g / c[:, None]
    v_inf = np.linalg.solve(g, b)
    t_stop = 2e-3
    res = transient(net, t_stop, method=method, uic=True, progress=False, dt_max=t_stop, **SETTINGS[method])
    got = res.v([f"n{k + 1}" for k in range(n)])
    idx = np.linspace(0, res.t.size - 1, 40).astype(int)
    ref = np.array([v_inf + expm(a * res.t[i]) @ (-v_inf) for i in idx])
    assert np.max(np.abs(got[idx] - ref)) <= 1e-4 * np.max(np.abs(v_inf))


@dataclasses.dataclass(frozen=True)
class DriftDevice:
    """i = s v (state = conductance, S); ds/dt = rate * v."""

    rate: float = 2e-3
    state_bounds = (0.0, 1.0)

    def current(self, s, v):
        return s * v

    def dstate_dt(self, s, v):
        return self.rate * v


def drift_exact(t, s0, r, v, rate):
    """s' = rate * V / (1 + R s)  =>  s + R s^2 / 2 = s0 + R s0^2 / 2 + rate V t."""
    c = s0 + r * s0**2 / 2 + rate * v * t
    return (-1.0 + np.sqrt(1.0 + 2.0 * r * c)) / r


def drift_circuit(v=1.0, r=500.0, s0=1e-3):
    net = Netlist()
    net.add_vsource("V", "a", "0", v)
    net.add_resistor("R", "a", "m", r)
    net.add_device("M", "m", "0", DriftDevice(), state=s0)
    return net


@pytest.mark.parametrize("method", ["be", "trap"])
def test_device_state_joint_integration_closed_form(method):
    res = transient(drift_circuit(), 1.0, method=method, progress=False, dt_max=1.0, state_tol=1e-10,
                    reltol=SETTINGS[method]["reltol"])
    ref = drift_exact(res.t, 1e-3, 500.0, 1.0, 2e-3)
    assert np.max(np.abs(res.state("M") - ref)) <= 1e-4 * ref.max()
    i_ref = 1.0 / (500.0 + 1.0 / ref)
    assert np.max(np.abs(res.i("M") - i_ref)) <= 1e-4 * i_ref.max()


def test_quasistatic_closed_form():
    t = np.linspace(0, 1.0, 11)
    res = quasistatic(drift_circuit(), 1.0, t_eval=t, rtol=1e-10, state_tol=1e-12, progress=False)
    ref = drift_exact(t, 1e-3, 500.0, 1.0, 2e-3)
    np.testing.assert_allclose(res.state("M"), ref, rtol=1e-7)
    np.testing.assert_allclose(res.v("m"), 1.0 / (1.0 + 500.0 * ref), rtol=1e-7)


@dataclasses.dataclass(frozen=True)
class CubicWindow:
    """i = g0 (0.2 + s) v + k v^3 (no dcurrent_dv: finite differences); ds/dt = a v s (1 - s)."""

    g0: float = 1e-3
    k: float = 5e-4
    a: float = 200.0
    state_bounds = (0.0, 1.0)

    def current(self, s, v):
        return self.g0 * (0.2 + s) * v + self.k * v**3

    def dstate_dt(self, s, v):
        return self.a * v * s * (1 - s)


def test_quasistatic_agrees_with_joint_transient():
    net = Netlist()
    net.add_vsource("V", "in", "0", 0.0, waveform=Sine(0.0, 1.0, 50.0))
    net.add_resistor("R1", "in", "a", 300.0)
    net.add_devices(["M1", "M2"], ["a", "a"], ["0", "b"], CubicWindow(), [0.3, 0.6])
    net.add_resistor("R2", "b", "0", 700.0)
    full = transient(net, 0.03, method="trap", reltol=1e-6, state_tol=1e-8, dt_max=2e-4, progress=False)
    qs = quasistatic(net, 0.03, t_eval=full.t, rtol=1e-9, state_tol=1e-10, progress=False)
    assert np.ptp(full.state("M1")) > 0.05  # the states really move
    np.testing.assert_allclose(qs.s, full.s, atol=1e-4)
    np.testing.assert_allclose(qs.v(["a", "b"]), full.v(["a", "b"]), atol=1e-4)
    np.testing.assert_allclose(qs.device_currents(), full.device_currents(), atol=1e-4 * 1e-3)


def test_quasistatic_refuses_capacitors_and_transient_bad_input():
    with pytest.raises(NetlistError, match="capacitors"):
        quasistatic(rc(ic=1.0), 1e-3, progress=False)
    with pytest.raises(ParameterError, match="method must be one of"):
        transient(rc(), 1e-3, method="gear")
    with pytest.raises(ParameterError, match="t_stop must be a real number in \\[1e-15, 3200000000\\] s, got 0.0"):
        transient(rc(), 0.0)
    with pytest.raises(NetlistError, match="no capacitors"):
        transient(drift_circuit(), 1e-3, uic=True, progress=False)


@dataclasses.dataclass(frozen=True)
class BoundedDrift:
    """i = s v (S); ds/dt = rate v, state in [0, 1] (the solver holds it at the bounds)."""

    rate: float = 4.0
    state_bounds = (0.0, 1.0)

    def current(self, s, v):
        return s * v

    def dstate_dt(self, s, v):
        return self.rate * v


def bounded_exact(t):
    """s0 = 0.2, ds/dt = 4 V(t), V = +1 V until 0.5 s, linear to -1 V at 0.52 s, then -1 V.

    The state reaches 1 at t = 0.2 s, is held there while V > 0, and leaves when V changes sign at
    0.51 s: s = 1 + 4 * integral_{0.51}^{t} V.
    """
    def integral_v(a):  # integral of V from 0 to a
        a = np.asarray(a, float)
        ramp = np.clip(a - 0.5, 0.0, 0.02)
        return np.minimum(a, 0.5) + ramp - ramp**2 / 0.02 - np.maximum(a - 0.52, 0.0)

    rising = np.minimum(0.2 + 4.0 * integral_v(t), 1.0)
    falling = 1.0 + 4.0 * (integral_v(t) - integral_v(0.51))
    return np.where(t <= 0.51, rising, falling)


@pytest.mark.parametrize("method", ["be", "trap"])
def test_state_held_at_bound_and_released(method):
    net = Netlist()
    net.add_vsource("V", "a", "0", 1.0, waveform=PWL([0.0, 0.5, 0.52], [1.0, 1.0, -1.0]))
    net.add_device("M", "a", "0", BoundedDrift(), state=0.2)
    res = transient(net, 0.6, method=method, progress=False, state_tol=1e-9, reltol=1e-6)
    assert np.all((res.s >= 0.0) & (res.s <= 1.0))
    np.testing.assert_allclose(res.state("M"), bounded_exact(res.t), atol=2e-4)
    qs = quasistatic(net, 0.6, t_eval=np.linspace(0, 0.6, 61), rtol=1e-9, state_tol=1e-10, progress=False)
    np.testing.assert_allclose(qs.state("M"), bounded_exact(qs.t), atol=2e-4)


def test_progress_bar_runs(capsys):
    res = transient(rc(ic=1.0), 1e-4, uic=True, progress=True)
    assert res.t[-1] == pytest.approx(1e-4)
