"""Device models against values worked out by hand from the papers, closed forms and finite differences."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from neurosim.devices import (
    TEAM,
    VTEAM,
    LinearIonDrift,
    SoftBoundsDevice,
    Yakopcic,
    load_device,
    simulate,
)
from neurosim.devices.windows import biolek, joglekar, kvatinsky_off, kvatinsky_on, prodromakis
from neurosim.errors import ParameterError

HP = dict(R_on=100.0, R_off=16e3, D=10e-9, mu_v=1e-14)


# ----------------------------------------------------------------------------- windows by hand
def test_joglekar_window_hand_values():
    # f = 1 - (2x - 1)^(2p)
    assert joglekar(0.25, 1) == pytest.approx(0.75)  # 1 - (-0.5)^2 = 1 - 0.25
    assert joglekar(0.25, 2) == pytest.approx(0.9375)  # 1 - (-0.5)^4 = 1 - 0.0625
    assert joglekar(0.9, 1) == pytest.approx(0.36)  # 1 - (0.8)^2 = 1 - 0.64
    assert joglekar(np.array([0.0, 0.5, 1.0]), 3) == pytest.approx([0.0, 1.0, 0.0])


def test_biolek_window_hand_values():
    # f = 1 - (x - stp(-i))^(2p); stp(-i) = 0 for i > 0, 1 for i <= 0
    assert biolek(0.25, +1e-3, 1) == pytest.approx(0.9375)  # 1 - 0.25^2
    assert biolek(0.25, -1e-3, 1) == pytest.approx(0.4375)  # 1 - (0.25 - 1)^2 = 1 - 0.5625
    assert biolek(0.75, +1e-3, 2) == pytest.approx(1 - 0.31640625)  # 0.75^4 = 0.31640625
    assert biolek(1.0, +1e-3, 1) == 0.0  # cannot grow past 1 ...
    assert biolek(1.0, -1e-3, 1) == 1.0  # ... but can leave it
    assert biolek(0.0, -1e-3, 1) == 0.0
    assert biolek(0.0, +1e-3, 1) == 1.0


def test_prodromakis_window_hand_values():
    # f = j (1 - ((x - 0.5)^2 + 0.75)^p)
    assert prodromakis(0.25, 1, 1.0) == pytest.approx(0.1875)  # 1 - (0.0625 + 0.75)
    assert prodromakis(0.5, 7, 1.0) == pytest.approx(1 - 0.13348388671875)  # 0.75^7 = 0.13348388671875
    assert prodromakis(0.5, 7, 2.0) == pytest.approx(2 * (1 - 0.13348388671875))
    assert prodromakis(np.array([0.0, 1.0]), 3, 1.0) == pytest.approx([0.0, 0.0], abs=1e-15)  # 0.25 + 0.75 = 1


def test_kvatinsky_windows_hand_values():
    a_off, a_on, wc = 2e-9, 1e-9, 0.1e-9
    assert kvatinsky_off(a_off, a_off, wc) == pytest.approx(math.exp(-1))  # exp(-exp(0))
    assert kvatinsky_on(a_on, a_on, wc) == pytest.approx(math.exp(-1))
    assert kvatinsky_on(a_on + wc, a_on, wc) == pytest.approx(math.exp(-math.exp(-1)))  # 0.6922006275553464
    assert kvatinsky_off(a_off - wc, a_off, wc) == pytest.approx(math.exp(-math.exp(-1)))
    assert kvatinsky_off(1.0, a_off, wc) == 0.0  # far past the window: no overflow warning, exactly 0


def test_model_window_matches_function():
    m = LinearIonDrift(**HP, window="prodromakis", p=2, j=1.5)
    x = np.linspace(0, 1, 7)
    k = 1e-14 * 100 / (10e-9) ** 2  # mu_v R_on / D^2 = 1e4
    i = m.current(x, 0.7)
    assert m.dstate_dt(x, 0.7) == pytest.approx(k * i * 1.5 * (1 - ((x - 0.5) ** 2 + 0.75) ** 2))


# ----------------------------------------------------------------------------- Yakopcic by hand
def test_yakopcic_g_and_f_hand_values():
    m = Yakopcic()  # Oblea fit: Vp 0.16, Vn 0.15, Ap = An = 4000, xp 0.3, xn 0.5, alphap 1, alphan 5
    assert m.g(0.5) == pytest.approx(4000 * (math.exp(0.5) - math.exp(0.16)))
    assert m.g(-0.5) == pytest.approx(-4000 * (math.exp(0.5) - math.exp(0.15)))
    assert m.g(np.array([0.16, -0.15, 0.0])) == pytest.approx([0.0, 0.0, 0.0])  # thresholds are strict
    # V > 0, x = 0.5 >= xp: exp(-1*(0.5 - 0.3)) * ((0.3 - 0.5)/(1 - 0.3) + 1)
    assert m.f(0.5, 1.0) == pytest.approx(math.exp(-0.2) * (1 - 0.2 / 0.7))
    assert m.f(0.2, 1.0) == 1.0  # x < xp
    # V < 0, x = 0.25 <= 1 - xn: exp(5*(0.25 + 0.5 - 1)) * 0.25/(1 - 0.5)
    assert m.f(0.25, -1.0) == pytest.approx(math.exp(-1.25) * 0.5)
    assert m.f(0.75, -1.0) == 1.0  # x > 1 - xn
    # current: a x sinh(bV)
    assert m.current(0.4, -2.0) == pytest.approx(0.17 * 0.4 * math.sinh(0.05 * -2.0))
    x, v = 0.6, 0.9
    assert m.dstate_dt(x, v) == pytest.approx(
        4000 * (math.exp(0.9) - math.exp(0.16)) * math.exp(-(0.6 - 0.3)) * ((0.3 - 0.6) / 0.7 + 1)
    )


def test_yakopcic_eta_reverses_motion():
    pos, neg = Yakopcic(eta=1), Yakopcic(eta=-1)
    assert pos.dstate_dt(0.5, 1.0) > 0
    assert neg.dstate_dt(0.5, 1.0) < 0


# ----------------------------------------------------------------------------- TEAM / VTEAM by hand
def test_vteam_rate_hand_values():
    m = VTEAM(k_off=2e-3, k_on=-3e-3, alpha_off=2, alpha_on=3, v_off=0.5, v_on=-0.4)
    w = 1.5e-9
    assert m.dstate_dt(w, 1.5) == pytest.approx(2e-3 * (1.5 / 0.5 - 1) ** 2)  # 2e-3 * 4
    assert m.dstate_dt(w, -1.2) == pytest.approx(-3e-3 * (-1.2 / -0.4 - 1) ** 3)  # -3e-3 * 8
    # linear I-V: R = R_on + (R_off - R_on) (w - x_on)/(x_off - x_on) = 50 + 950 * 0.5
    assert m.current(w, 1.0) == pytest.approx(1.0 / 525.0)
    e = m.replace(iv="exponential")  # R = R_on exp(ln(R_off/R_on) * 0.5) = 50 * sqrt(20)
    assert e.current(w, 1.0) == pytest.approx(1.0 / (50 * math.sqrt(20)))


def test_team_rate_uses_current_thresholds():
    m = TEAM(R_on=100.0, R_off=1100.0, i_off=1e-3, i_on=-1e-3, k_off=1.0, k_on=-2.0, alpha_off=1, alpha_on=2)
    w = 1.5e-9  # R = 100 + 1000 * 0.5 = 600 ohm
    assert m.dstate_dt(w, 1.2) == pytest.approx(1.0 * (1.2 / 600 / 1e-3 - 1))  # i = 2 mA
    assert m.dstate_dt(w, -1.8) == pytest.approx(-2.0 * (-1.8 / 600 / -1e-3 - 1) ** 2)  # i = -3 mA
    assert m.dstate_dt(w, 0.5) == 0.0  # i = 0.83 mA < i_off


@pytest.mark.parametrize("model", [VTEAM(), load_device("vteam_kvatinsky2015"), VTEAM(window="kvatinsky")])
def test_vteam_no_state_change_between_thresholds(model):
    amp = 0.999 * min(model.v_off, -model.v_on)
    t = np.linspace(0, 1e-6, 2001)
    v = amp * np.sin(2 * np.pi * 3e6 * t)
    x = np.full(5, model.initial_state)
    for vk in v:  # explicit steps: exactly no motion
        x = model.step(x, vk, t[1] - t[0])
    assert np.all(x == model.initial_state)
    tr = simulate(model, t, v, method="LSODA")
    assert np.all(tr.state == model.initial_state)


def test_team_no_state_change_between_thresholds():
    m = load_device("team_kvatinsky2013")
    # |v| small enough that |i| = |v|/R stays below both thresholds at every state
    v = 0.99 * min(m.i_off, -m.i_on) * m.R_on
    assert np.all(m.dstate_dt(np.linspace(m.x_on, m.x_off, 11), np.array([[v], [-v]])) == 0.0)


# ----------------------------------------------------------------------------- closed form
def test_linear_drift_matches_closed_form_charge_solution():
    """Without a window, M(q) = R_off - (R_off - R_on)(x0 + k q) exactly, and M(t)^2 = M0^2 - 2 dR k phi(t)."""
    m = LinearIonDrift(**HP, window="none", initial_state=0.5)
    k = 1e-14 * 100.0 / (10e-9) ** 2  # mu_v R_on / D^2 = 1e4 / (A s)
    V0, f = 1.0, 2.0
    w = 2 * np.pi * f

    def rhs(t, y):
        v = V0 * np.sin(w * t)
        return [m.dstate_dt(y[0], v), m.current(y[0], v)]  # x and the charge q

    t = np.linspace(0, 1.0 / f, 401)
    sol = solve_ivp(rhs, (0, t[-1]), [0.5, 0.0], method="Radau", t_eval=t, rtol=1e-12, atol=1e-15)
    assert sol.success
    x, q = sol.y
    assert 0 < x.min() and x.max() < 1  # never at a bound: the unwindowed law holds everywhere
    assert x.max() > 0.7  # and the state really moves
    M = m.memristance(x)
    M_q = 16e3 - (16e3 - 100.0) * (0.5 + k * q)  # Strukov: M(q) for w0 = D/2
    assert np.max(np.abs(M - M_q) / M_q) <= 1e-6
    phi = V0 / w * (1 - np.cos(w * t))  # flux
    M_phi = np.sqrt(8050.0**2 - 2 * (16e3 - 100.0) * k * phi)
    assert np.max(np.abs(M - M_phi) / M_phi) <= 1e-6


# ----------------------------------------------------------------------------- derivatives
ALL_MODELS = [
    LinearIonDrift(**HP),
    LinearIonDrift(**HP, window="biolek", p=2),
    TEAM(R_off=1e4),
    TEAM(iv="exponential", window="kvatinsky", a_on=0.5e-9, a_off=2.5e-9),
    VTEAM(),
    VTEAM(iv="exponential"),
    Yakopcic(),
    Yakopcic(a1=0.2, a2=0.05, b=2.0),
    SoftBoundsDevice(),
    SoftBoundsDevice(read_iv="sinh", v_nl=0.2),
]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: type(m).__name__)
def test_dcurrent_dv_matches_finite_differences(model):
    lo, hi = model.state_bounds
    x = lo + (hi - lo) * np.array([0.05, 0.3, 0.5, 0.8, 0.97])
    v = np.array([-1.3, -0.2, 0.07, 0.6, 1.7])[:, None]
    h = 1e-6
    fd = (model.current(x, v + h) - model.current(x, v - h)) / (2 * h)
    assert model.dcurrent_dv(x, v) == pytest.approx(fd, rel=1e-7, abs=1e-15)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: type(m).__name__)
def test_conductance_is_slope_at_zero_and_chord_elsewhere(model):
    x = np.full(3, model.initial_state)
    assert model.conductance(x) == pytest.approx(model.dcurrent_dv(x, 0.0))
    assert model.conductance(x, 0.5) == pytest.approx(model.current(x, 0.5) / 0.5)


# ----------------------------------------------------------------------------- bounds and stiffness
BOUNDED = [
    LinearIonDrift(**HP),
    LinearIonDrift(**HP, window="joglekar"),
    LinearIonDrift(**HP, window="biolek"),
    LinearIonDrift(**HP, window="prodromakis", p=3),
    load_device("vteam_kvatinsky2015"),
    VTEAM(window="kvatinsky", a_on=0.5e-9, a_off=2.5e-9, k_off=1.0, k_on=-1.0),
    TEAM(k_off=1e-3, k_on=-1e-3, R_off=1e4),
    Yakopcic(),
]


@pytest.mark.parametrize("model", BOUNDED, ids=lambda m: f"{type(m).__name__}-{getattr(m, 'window', '')}")
def test_explicit_steps_keep_state_in_bounds_under_any_drive(model, rng):
    lo, hi = model.state_bounds
    x = lo + (hi - lo) * rng.random(1000)
    for v in (50.0, -50.0, 1e3, -1e3):
        for dt in (1e-12, 1e-6, 1.0):
            x = model.step(x, v, dt)
            assert np.all(np.isfinite(x)) and x.min() >= lo and x.max() <= hi


@pytest.mark.parametrize("method", ["BDF", "Radau"])
@pytest.mark.parametrize("model", BOUNDED, ids=lambda m: f"{type(m).__name__}-{getattr(m, 'window', '')}")
def test_implicit_integrators_survive_a_drive_into_the_bound(model, method):
    """A constant drive that pushes the state into its upper bound for a long time: no failure."""
    lo, hi = model.state_bounds
    v = 5.0 if not isinstance(model, TEAM) else 50.0  # OFF direction for TEAM/VTEAM, ON for the others
    t_end = 10.0
    tr = simulate(model, np.array([0.0, t_end]), lambda t: v, method=method, rtol=1e-6)
    span = hi - lo
    # the hard stop is a kink in the rate: the integrator may step past it by its error, not more
    assert lo - 1e-4 * span <= tr.state[-1] <= hi + 1e-4 * span
    assert tr.state[-1] >= hi - 0.05 * span  # it did get (close to) the bound


def test_per_device_parameter_arrays_are_elementwise():
    r_on = np.array([50.0, 100.0, 200.0])
    group = LinearIonDrift(**{**HP, "R_on": r_on}, window="joglekar")
    x, v = np.array([0.2, 0.5, 0.9]), np.array([0.3, -0.4, 1.0])
    for k in range(3):
        single = LinearIonDrift(**{**HP, "R_on": r_on[k]}, window="joglekar")
        assert group.current(x, v)[k] == single.current(x[k], v[k])
        assert group.dstate_dt(x, v)[k] == pytest.approx(single.dstate_dt(x[k], v[k]), rel=1e-15)


# ----------------------------------------------------------------------------- pinched hysteresis
def _lobe_area(model, freq, amp, n=4000):
    T = 1.0 / freq
    t = np.linspace(0.0, T, n + 1)
    tr = simulate(model, t, lambda tt: amp * np.sin(2 * np.pi * freq * tt), method="LSODA", rtol=1e-9, max_step=T / 200)
    half = n // 2
    area = abs(np.trapezoid(tr.current[: half + 1], tr.v[: half + 1]))  # positive lobe: rise and return
    zero_idx = [0, half, n]  # sin(2 pi f t) = 0 exactly at t = 0, T/2, T
    return area, tr, zero_idx


@pytest.mark.parametrize(
    "model, amp, freqs",
    [
        (LinearIonDrift(**HP, window="joglekar"), 1.0, [1.0, 10.0, 100.0, 1000.0]),
        (VTEAM(k_off=0.05, k_on=-0.05, v_off=0.3, v_on=-0.3, alpha_off=3, alpha_on=3, R_off=5000.0), 1.0, [1e9, 1e10, 1e11, 1e12]),
        (Yakopcic(initial_state=0.5), 0.6, [100.0, 1e3, 1e4, 1e5]),
    ],
    ids=["HP-joglekar", "VTEAM", "Yakopcic"],
)
def test_pinched_hysteresis_loop_shrinks_with_frequency(model, amp, freqs):
    # frequencies above the device's switching rate (below it the state saturates early in each
    # half period and the lobe first grows with frequency)
    areas = []
    for f in freqs:
        area, tr, zeros = _lobe_area(model, f, amp)
        # the loop is pinched: where v crosses 0, i = 0 (v = 0 up to sin rounding, ~1e-13 V)
        assert np.all(np.abs(tr.current[zeros]) <= 1e-12 * np.abs(tr.current).max() + 1e-15)
        areas.append(area)
    areas = np.array(areas)
    assert areas[0] > 0
    assert np.all(np.diff(areas) < 0), areas  # strictly shrinking over 3 decades
    assert areas[-1] < 0.2 * areas[0]


# ----------------------------------------------------------------------------- soft bounds
def test_soft_bounds_pulses_hand_values_and_asymmetry():
    d = SoftBoundsDevice(G_min=1e-6, G_max=11e-6, alpha_up=0.1, alpha_down=0.2)
    g = d.apply_pulses(np.array([1e-6, 6e-6]), 1, np.array([+1, -1]))
    assert g == pytest.approx([1e-6 + 0.1 * 10e-6, 6e-6 - 0.2 * 5e-6])  # alpha (G_max - G), alpha (G - G_min)
    g3 = d.apply_pulses(1e-6, 3, +1)  # G_max - 10e-6 * 0.9^3
    assert g3 == pytest.approx(11e-6 - 10e-6 * 0.729)


def test_soft_bounds_closed_form_equals_pulse_by_pulse(rng):
    from neurosim.devices import CycleToCycleNoise

    d = SoftBoundsDevice(G_min=1e-6, G_max=1e-5, alpha_up=0.03, alpha_down=0.05)
    g0 = rng.uniform(1e-6, 1e-5, 50)
    n = rng.integers(0, 40, 50)
    pol = rng.choice([-1, 0, 1], 50)
    closed = d.apply_pulses(g0, n, pol)
    stepped = d.apply_pulses(g0, n, pol, rng=rng, noise=CycleToCycleNoise(0.0))  # forces the pulse loop
    assert closed == pytest.approx(stepped, rel=1e-12)


def test_soft_bounds_levels_nonlinearity_and_bounds():
    d = SoftBoundsDevice(G_min=0.0 + 1e-6, G_max=5e-6, alpha_up=0.3, alpha_down=0.3, n_levels=5)
    g = d.apply_pulses(np.array([1e-6]), 50, +1)
    levels = 1e-6 + np.arange(5) * 1e-6
    assert np.min(np.abs(levels - g[0])) < 1e-18
    lin = SoftBoundsDevice(G_min=1e-6, G_max=5e-6, alpha_up=0.25, alpha_down=0.25, gamma_up=0.0, gamma_down=0.0)
    # gamma = 0: constant steps of 0.25 * 4e-6 = 1e-6, clipped at G_max
    assert lin.apply_pulses(1e-6, 2, +1) == pytest.approx(3e-6)
    assert lin.apply_pulses(1e-6, 10, +1) == pytest.approx(5e-6)


def test_soft_bounds_bad_pulse_input():
    d = SoftBoundsDevice()
    with pytest.raises(ParameterError, match="n_pulses"):
        d.apply_pulses(1e-6, -1, 1)
    with pytest.raises(ParameterError, match="polarity"):
        d.apply_pulses(1e-6, 1, 2)


# ----------------------------------------------------------------------------- parameter errors
def test_parameter_errors_name_parameter_range_and_value():
    with pytest.raises(ParameterError, match=r"^LinearIonDrift: R_on must be a real number > 0 ohm, got -5.0$"):
        LinearIonDrift(R_on=-5.0)
    with pytest.raises(ParameterError, match="R_off must be > R_on"):
        LinearIonDrift(R_on=10.0, R_off=5.0)
    with pytest.raises(ParameterError, match="p must be a positive integer"):
        LinearIonDrift(window="joglekar", p=1.5)
    with pytest.raises(ParameterError, match=r"VTEAM: k_on must be a real number < 0 m/s"):
        VTEAM(k_on=1.0)
    with pytest.raises(ParameterError, match=r"every element"):
        VTEAM(R_on=np.array([10.0, -1.0]))
    with pytest.raises(ParameterError, match="initial_state must be in"):
        TEAM(initial_state=1e-6)
    with pytest.raises(ParameterError, match="window must be one of"):
        LinearIonDrift(window="hann")


def test_equations_text_for_every_model():
    for m in ALL_MODELS:
        eq = m.equations()
        assert "state" in eq and "current" in eq and "/dt" in eq["state"]


# ----------------------------------------------------------------------------- properties (hypothesis)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PROPERTY_MODELS = BOUNDED + [VTEAM(iv="exponential"), SoftBoundsDevice(read_iv="sinh", v_nl=0.3)]


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(0, len(_PROPERTY_MODELS) - 1),
    s=st.floats(0.0, 1.0),
    v=st.floats(-20.0, 20.0, allow_nan=False),
    dt=st.floats(1e-15, 1e3),
)
def test_passive_monotone_and_bounded(k, s, v, dt):
    """Every model is passive (i v >= 0), its I-V rises with v, and a step never leaves the bounds."""
    m = _PROPERTY_MODELS[k]
    lo, hi = m.state_bounds
    x = lo + s * (hi - lo)
    i = float(m.current(x, v))
    assert i * v >= 0.0
    assert float(m.dcurrent_dv(x, v)) >= 0.0
    x1 = float(m.step(np.array([x]), v, dt)[0])
    assert lo <= x1 <= hi


# ----------------------------------------------------------------------------- exact partials
PARTIAL_MODELS = [
    LinearIonDrift(**HP),
    LinearIonDrift(**HP, window="joglekar", p=2),
    LinearIonDrift(**HP, window="biolek", p=1),
    LinearIonDrift(**HP, window="prodromakis", p=0.7, j=1.3),
    TEAM(R_off=1e4, i_off=5e-5, i_on=-5e-5, k_off=1e-8, k_on=-1e-8, alpha_off=2, alpha_on=3),
    TEAM(R_off=1e4, i_off=5e-5, i_on=-5e-5, k_off=1e-8, k_on=-1e-8, iv="exponential", window="kvatinsky",
         a_on=0.5e-9, a_off=2.5e-9, w_c=0.3e-9, alpha_off=1.5, alpha_on=2.5),
    VTEAM(),
    VTEAM(iv="exponential", window="kvatinsky", a_on=0.5e-9, a_off=2.5e-9, w_c=0.3e-9, alpha_off=2.5),
    Yakopcic(),
    Yakopcic(eta=-1, a2=0.05),
    SoftBoundsDevice(read_iv="sinh", v_nl=0.3),
]


@pytest.mark.parametrize("model", PARTIAL_MODELS, ids=lambda m: f"{type(m).__name__}-{getattr(m, 'window', '')}")
def test_exact_partials_match_finite_differences(model):
    lo, hi = model.state_bounds
    span = hi - lo
    x = lo + span * np.array([0.13, 0.37, 0.52, 0.71, 0.88])[:, None]
    v = np.array([-1.9, -0.7, 0.45, 1.1, 2.3])  # away from every threshold and from v = 0
    rate, d_x, d_v = model.dstate_partials(x, v)
    assert rate == pytest.approx(model.dstate_dt(x, v), rel=1e-12, abs=0)
    hx, hv = 1e-7 * span, 1e-7
    fd_x = (model.dstate_dt(x + hx, v) - model.dstate_dt(x - hx, v)) / (2 * hx)
    fd_v = (model.dstate_dt(x, v + hv) - model.dstate_dt(x, v - hv)) / (2 * hv)
    scale_x = np.abs(fd_x).max() + 1e-300
    scale_v = np.abs(fd_v).max() + 1e-300
    assert np.abs(d_x - fd_x).max() <= 1e-5 * scale_x
    assert np.abs(d_v - fd_v).max() <= 1e-5 * scale_v
    fd_i = (model.current(x + hx, v) - model.current(x - hx, v)) / (2 * hx)
    assert model.dcurrent_dstate(x, v) == pytest.approx(fd_i, rel=1e-6, abs=1e-12 * np.abs(fd_i).max())
