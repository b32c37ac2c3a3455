"""Device-state update speed: one explicit Euler step of 1,000,000 devices, ours vs plain numpy.

For each model, ``model.step(x, v, dt)`` (window and clipping included) is timed against a plain
numpy expression of the same update written out below, in the same run, on the same arrays
(per-device voltages). The results are checked to be equal before timing. Best of several repeats;
the machine is shared, so figures are noisy. Target of issue 4: ours <= 2x the plain expression.

Run: python benchmarks/bench_devices.py [--n N] [--repeats R]
"""

from __future__ import annotations

import argparse

import numpy as np

from neurosim.devices import LinearIonDrift, SoftBoundsDevice, load_device
from timing import best_interleaved


def plain_hp_joglekar(x, v, dt, R_on, R_off, k, p):
    i = v / (R_on * x + R_off * (1.0 - x))
    return np.clip(x + dt * k * i * (1.0 - (2.0 * x - 1.0) ** (2 * p)), 0.0, 1.0)


def plain_vteam(w, v, dt, m):
    a_off, a_on = int(m.alpha_off), int(m.alpha_on)  # integer powers (numpy's fastest plain form)
    rate = m.k_off * np.maximum(v / m.v_off - 1.0, 0.0) ** a_off + m.k_on * np.maximum(v / m.v_on - 1.0, 0.0) ** a_on
    return np.clip(w + dt * rate, m.x_on, m.x_off)


def plain_yakopcic(x, v, dt, m):
    g = np.where(v > m.Vp, m.Ap * (np.exp(v) - np.exp(m.Vp)), np.where(v < -m.Vn, -m.An * (np.exp(-v) - np.exp(m.Vn)), 0.0))
    f_pos = np.where(x >= m.xp, np.exp(-m.alphap * (x - m.xp)) * ((m.xp - x) / (1 - m.xp) + 1), 1.0)
    f_neg = np.where(x <= 1 - m.xn, np.exp(m.alphan * (x + m.xn - 1)) * (x / (1 - m.xn)), 1.0)
    f = np.where(m.eta * v >= 0, f_pos, f_neg)
    return np.clip(x + dt * m.eta * g * f, 0.0, 1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.n

    hp = LinearIonDrift(window="joglekar", p=1)
    vt = load_device("vteam_kvatinsky2015")
    yk = load_device("yakopcic_oblea2011")
    cases = [
        (
            "HP TiO2, Joglekar p=1",
            hp,
            rng.uniform(0, 1, n),
            rng.uniform(-1, 1, n),
            1e-4,
            lambda x, v, dt: plain_hp_joglekar(x, v, dt, hp.R_on, hp.R_off, hp.k, hp.p),
        ),
        (
            "VTEAM card",
            vt,
            rng.uniform(vt.x_on, vt.x_off, n),
            rng.uniform(-0.5, 0.5, n),
            1e-12,
            lambda x, v, dt: plain_vteam(x, v, dt, vt),
        ),
        (
            "Yakopcic card",
            yk,
            rng.uniform(0, 1, n),
            rng.uniform(-1, 1, n),
            1e-6,
            lambda x, v, dt: plain_yakopcic(x, v, dt, yk),
        ),
    ]
    rows = []
    for label, model, x, v, dt, plain in cases:
        ours_out = model.step(x, v, dt)
        ref_out = plain(x, v, dt)
        err = np.abs(ours_out - ref_out).max() / (np.ptp(np.asarray(model.state_bounds)) or 1.0)
        assert err < 1e-12, f"{label}: ours and the plain expression differ by {err:.3g}"
        t_plain, t_ours = best_interleaved([lambda: plain(x, v, dt), lambda: model.step(x, v, dt)], args.repeats)
        rows.append((label, t_plain, t_ours))
    # pulse programming of the conductance device (closed form), for information
    sb = SoftBoundsDevice(G_min=1e-6, G_max=1e-5, alpha_up=0.01, alpha_down=0.02)
    g = rng.uniform(1e-6, 1e-5, n)
    npulse = rng.integers(0, 20, n)
    pol = rng.choice(np.array([-1, 1]), n)

    def plain_pulses():
        up = sb.G_max - (sb.G_max - g) * (1 - sb.alpha_up) ** npulse
        dn = sb.G_min + (g - sb.G_min) * (1 - sb.alpha_down) ** npulse
        return np.where(pol > 0, up, dn)

    assert np.allclose(sb.apply_pulses(g, npulse, pol), plain_pulses(), rtol=1e-14, atol=0)
    rows.append(("SoftBounds, n pulses (closed form)", *best_interleaved([plain_pulses, lambda: sb.apply_pulses(g, npulse, pol)], args.repeats)))

    print(f"one explicit Euler step of {n:,} devices (best of {args.repeats}), per-device voltages")
    print(f"{'model':38s} {'plain numpy (ms)':>17s} {'ours (ms)':>10s} {'ratio':>7s}  target")
    worst = 0.0
    for label, tp, to in rows:
        ratio = to / tp
        worst = max(worst, ratio)
        print(f"{label:38s} {tp * 1e3:17.2f} {to * 1e3:10.2f} {ratio:7.2f}  <= 2")
    print(f"worst ratio {worst:.2f} ({'OK' if worst <= 2.0 else 'ABOVE TARGET'})")


if __name__ == "__main__":
    main()
