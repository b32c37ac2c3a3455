"""Tasks, metrics and the ridge readout against independent references.

References: NARMA-10 and Mackey-Glass re-implemented here as plain loops from the equations;
the Mackey-Glass Hopf bifurcation of the linearised delay equation worked out by hand; the
literature's statements (tau = 17 chaotic, tau below the Hopf point converges to x* = 1);
metrics and ridge regression by hand / numpy least squares on the augmented system.
"""

import math

import numpy as np
import pytest

from neurosim.errors import ParameterError
from neurosim.tasks import (
    OptionalDependencyError,
    accuracy,
    adding_problem,
    copy_task,
    digits_rows,
    fit_ridge,
    mackey_glass,
    mackey_glass_series,
    narma10,
    narma10_series,
    nrmse,
    rmse,
    sine_generation,
)


# ---------------------------------------------------------------- NARMA-10
def _narma_loop(u):
    y = [0.0] * len(u)
    for t in range(9, len(u) - 1):
        s = sum(y[t - i] for i in range(10))
        y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * s + 1.5 * u[t - 9] * u[t] + 0.1
    return np.array(y)


def test_narma10_matches_plain_loop(rng):
    u = rng.uniform(0, 0.5, size=(400, 3))
    y = narma10_series(u)
    for b in range(3):
        np.testing.assert_allclose(y[:, b], _narma_loop(list(u[:, b])), rtol=1e-12, atol=1e-14)


def test_narma10_task_layout_and_seed():
    a, b = narma10(300, 2, washout=20, seed=5), narma10(300, 2, washout=20, seed=5)
    assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.targets, b.targets)
    assert a.inputs.shape == (300, 2, 1) and a.mask[:20].sum() == 0 and a.mask[20:].all()
    assert 0 <= a.inputs.min() and a.inputs.max() <= 0.5
    np.testing.assert_allclose(a.targets[:, 0, 0], _narma_loop(list(a.inputs[:, 0, 0])), rtol=1e-12)
    assert not np.array_equal(narma10(300, seed=6).inputs, narma10(300, seed=5).inputs[:, :1])


def test_narma10_divergence_is_reported():
    with pytest.raises(ParameterError, match="diverged"):
        narma10_series(np.full(200, 3.0))


# ---------------------------------------------------------------- Mackey-Glass
def _mg_euler(t_end, dt, tau=17.0, x0=1.2):
    """Plain forward Euler with a history list: an independent, first-order reference."""
    m = round(tau / dt)
    hist = [x0] * (m + 1)
    x = x0
    for _ in range(round(t_end / dt)):
        xd = hist[-m - 1]
        x = x + dt * (0.2 * xd / (1 + xd**10) - 0.1 * x)
        hist.append(x)
    return np.array(hist[m:])


def test_mackey_glass_against_fine_euler():
    ref = _mg_euler(60.0, 1e-3)[::1000]
    ours = mackey_glass_series(61, dt=0.1, sample_step=1.0)
    # Euler's global error is O(dt) = O(1e-3); RK4 at dt = 0.1 is far more accurate than that
    assert np.max(np.abs(ours - ref)) < 5e-3
    assert np.max(np.abs(ours - ref)) > 0  # not the same computation


def test_mackey_glass_fourth_order_convergence():
    # errors against a much finer run shrink ~16x per halving of dt (order 4), past the kinks
    # of the solution at t = 0 and t = tau that a naive centred stencil would degrade to order 2
    x = {dt: mackey_glass_series(1201, dt=dt, sample_step=0.1, x0=0.9) for dt in (0.1, 0.05, 0.025, 0.0125)}
    e = [np.max(np.abs(x[dt] - x[0.0125])) for dt in (0.1, 0.05, 0.025)]
    assert e[0] / e[1] > 12.0 and e[1] / e[2] > 12.0


def test_mackey_glass_hopf_bifurcation_by_hand():
    # Linearise at the fixed point x* = ((a/b) - 1)^(1/n) = 1: y' = -b y + c y(t - tau),
    # c = a (1 - (n - 1) x*^n) / (1 + x*^n)^2 = -0.4. Purely imaginary roots lambda = i w need
    # cos(w tau) = b / c and w = sqrt(c^2 - b^2): tau_c = arccos(b/c) / w, period 2 pi / w.
    a, b, n = 0.2, 0.1, 10
    c = a * (1 - (n - 1)) / 4
    w = math.sqrt(c * c - b * b)
    tau_c = math.acos(b / c) / w
    period = 2 * math.pi / w
    assert 4.70 < tau_c < 4.72  # sanity of the hand derivation itself
    tau_below, tau_above = 4.55, 4.8  # multiples of dt = 0.05 bracketing tau_c
    assert tau_below < tau_c < tau_above
    below = mackey_glass_series(2000, tau=tau_below, dt=0.05, sample_step=0.05, discard=3000)
    assert np.max(np.abs(below - 1.0)) < 1e-4  # converges to x* = 1
    above = mackey_glass_series(4000, tau=tau_above, dt=0.05, sample_step=0.05, discard=3000)
    assert above.max() - above.min() > 0.05  # sustained oscillation (limit cycle)
    c_ = above - above.mean()
    ups = np.where((c_[:-1] < 0) & (c_[1:] >= 0))[0]
    measured = np.mean(np.diff(ups)) * 0.05
    assert abs(measured / period - 1) < 0.04


def test_mackey_glass_tau17_is_chaotic_on_the_known_attractor():
    # Literature: tau = 17 is chaotic (onset ~16.8, Farmer 1982) on an attractor within about
    # [0.4, 1.35]; nearby histories separate exponentially.
    x = mackey_glass_series(3000, discard=500, x0=np.array([1.2, 1.2 + 1e-6]))
    assert 0.38 < x.min() < 0.46 and 1.28 < x.max() < 1.36
    sep = np.abs(x[:, 0] - x[:, 1])
    assert sep[:50].max() < 1e-4 and sep.max() > 0.1
    # contrast: tau = 8 is periodic (a limit cycle), the same perturbation does not grow
    p = mackey_glass_series(3000, tau=8.0, discard=500, x0=np.array([1.2, 1.2 + 1e-6]))
    assert np.abs(p[:, 0] - p[:, 1]).max() < 1e-5
    # and with a short delay two histories both converge to the same fixed point
    y = mackey_glass_series(10, tau=3.0, discard=1500, x0=np.array([0.5, 1.4]))
    np.testing.assert_allclose(y, 1.0, atol=1e-6)


def test_mackey_glass_task_and_errors():
    t = mackey_glass(200, 3, horizon=5, washout=10, seed=2)
    assert np.array_equal(t.inputs[5:], t.targets[:-5])
    assert np.array_equal(t.inputs, mackey_glass(200, 3, horizon=5, washout=10, seed=2).inputs)
    with pytest.raises(ParameterError, match="mackey_glass_series: dt must divide tau"):
        mackey_glass_series(10, tau=17.05, dt=0.1)
    with pytest.raises(ParameterError, match="mackey_glass_series: tau must be a real number > 0"):
        mackey_glass_series(10, tau=-1)


# ---------------------------------------------------------------- other generators
def test_sine_generation_by_hand():
    t = sine_generation(n_steps=300, batch_size=2, f_min=0.01, f_max=0.04, switch_every=50, seed=1)
    f = 0.01 + 0.03 * t.inputs[:, :, 0]
    phase = np.zeros(2)
    for k in range(300):
        phase = phase + 2 * np.pi * f[k]
        np.testing.assert_allclose(t.targets[k, :, 0], np.sin(phase), atol=1e-9)
    assert np.all(f[:50] == f[0]) and not np.all(f[50] == f[0])


def test_adding_problem_structure_and_baseline():
    t = adding_problem(n_steps=50, batch_size=4000, seed=0)
    v, m = t.inputs[..., 0], t.inputs[..., 1]
    assert np.all(m.sum(0) == 2) and np.all(m[:25].sum(0) == 1)
    np.testing.assert_allclose(t.targets[-1, :, 0], (v * m).sum(0))
    # the literature's baseline: always answering 1 gives MSE 1/6
    assert abs(np.mean((t.targets[-1, :, 0] - 1.0) ** 2) - 1 / 6) < 0.01
    assert t.mask.sum() == 4000 and t.mask[-1].all()


def test_copy_task_structure():
    t = copy_task(delay=7, batch_size=5, n_symbols=8, length=10, seed=3)
    assert t.inputs.shape == (27, 5, 10)
    lab = t.inputs.argmax(-1)
    assert np.array_equal(lab[:10], t.labels()[-10:])
    assert np.all((lab[:10] >= 1) & (lab[:10] <= 8))
    assert np.all(lab[16] == 9) and np.all(lab[10:16] == 0) and np.all(lab[17:] == 0)
    assert np.all(t.labels()[:17] == 0)


def test_digits_without_scikit_learn_is_a_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn -> ImportError
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(OptionalDependencyError, match="needs scikit-learn, which is not installed"):
        digits_rows(10)


def test_digits_rows_read_row_by_row():
    from conftest import require

    datasets = require("sklearn.datasets")
    t = digits_rows(20, seed=0)
    assert t.inputs.shape == (8, 20, 8) and t.targets.shape == (8, 20, 10)
    data = datasets.load_digits()
    # each sequence is one image, step t = pixel row t, scaled to [0, 1]; its label is scored last
    k = int(np.nonzero([np.array_equal(img / 16.0, t.inputs[:, 0, :]) for img in data.images])[0][0])
    assert t.labels()[-1, 0] == data.target[k] and t.mask[-1].all() and not t.mask[:-1].any()


# ---------------------------------------------------------------- metrics
def test_metrics_by_hand():
    p, y = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 1.0, 5.0, 5.0])
    assert rmse(p, y) == pytest.approx(math.sqrt((0 + 1 + 4 + 1) / 4))
    assert nrmse(p, y) == pytest.approx(math.sqrt(6 / 4) / 2.0)  # population std of y is 2
    assert nrmse(np.full(4, 3.0), y) == pytest.approx(1.0)
    mask = np.array([True, False, True, False])
    assert rmse(p, y, mask) == pytest.approx(math.sqrt(2.0))
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert accuracy(scores, np.array([1, 0, 0, 0])) == 0.75
    assert accuracy(scores, np.eye(2)[[1, 0, 0, 0]]) == 0.75
    assert accuracy(scores, np.array([1, 0, 0, 0]), mask=np.array([False, False, True, True])) == 0.5
    with pytest.raises(ParameterError, match="nrmse: target must not be constant"):
        nrmse(p, np.ones(4))
    with pytest.raises(ParameterError, match="same shape"):
        rmse(p, y[:3])
    with pytest.raises(ParameterError, match="must be finite"):
        rmse([np.nan], [1.0])


# ---------------------------------------------------------------- ridge readout
def test_ridge_matches_augmented_least_squares(rng):
    H = rng.normal(size=(200, 6))
    Y = H @ rng.normal(size=(6, 2)) + 0.5 + 0.1 * rng.normal(size=(200, 2))
    alpha = 3.0
    r = fit_ridge(H, Y, alpha=alpha)
    # independent: minimise |[H 1] w - Y|^2 + alpha |W|^2 as an augmented least-squares problem
    Ha = np.hstack([H, np.ones((200, 1))])
    reg = np.hstack([math.sqrt(alpha) * np.eye(6), np.zeros((6, 1))])
    sol = np.linalg.lstsq(np.vstack([Ha, reg]), np.vstack([Y, np.zeros((6, 2))]), rcond=None)[0]
    np.testing.assert_allclose(r.weight, sol[:6].T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r.bias, sol[6], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r.predict(H), Ha @ sol, rtol=1e-10, atol=1e-12)


def test_ridge_mask_and_errors(rng):
    H = rng.normal(size=(10, 4, 3))
    Y = H.sum(-1, keepdims=True)
    mask = np.zeros((10, 4), bool)
    mask[5:] = True
    r = fit_ridge(H, Y, alpha=0.0, mask=mask)
    np.testing.assert_allclose(r.weight, [[1.0, 1.0, 1.0]], atol=1e-10)
    with pytest.raises(ParameterError, match="fit_ridge: alpha must be a real number >= 0"):
        fit_ridge(H, Y, alpha=-1)
    with pytest.raises(ParameterError, match="leading shape"):
        fit_ridge(H, Y[:5])
    with pytest.raises(ParameterError, match="RidgeReadout: states must have shape"):
        r.predict(np.zeros((2, 5)))
