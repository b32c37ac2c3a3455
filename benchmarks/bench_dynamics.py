"""Continuous-time networks: a 1000-neuron CTRNN on solve_ivp vs a fixed-step Euler loop of the same accuracy.

CTRNN (Beer), N = 1000, dense random weights N(0, 1.5^2 / N) and a 10 % sparse variant, tau
uniform in [10, 100] ms, gains 1, random theta, a constant random input, 1 s. The reference is
solve_ivp DOP853 at rtol 1e-12. Each solve_ivp path is run at its tolerance and its maximum error
(relative to the trajectory's largest value) measured against the reference at 101 output times;
the Euler loop (numpy, one GEMV per step) takes the step that reaches that error (Euler's error
is first order: its constant is measured once at dt = 1 ms), and that run is timed (beyond 200 000 steps a 20 000-step part is timed and scaled, error "nan"). Best of ``--repeats`` runs.

Run: python benchmarks/bench_dynamics.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from neurosim.dynamics import CTRNN  # noqa: E402
from timing import best_of  # noqa: E402


MAX_STEPS = 200_000


def _err(y, ref):
    return float(np.abs(y - ref).max() / np.abs(ref).max())


def ctrnn_rows(repeats: int, sparse: bool):
    N, T = 1000, 1.0
    r = np.random.default_rng(0)
    W = r.normal(0, 1.5 / np.sqrt(N), (N, N))
    if sparse:
        W = sp.random(N, N, density=0.1, random_state=1, data_rvs=lambda k: r.normal(0, 1.5 / np.sqrt(0.1 * N), k)).tocsr()
    net = CTRNN(W, tau=r.uniform(0.01, 0.1, N), theta=r.normal(0, 1, N))
    u, y0 = r.normal(0, 1, N), r.normal(0, 1, N)
    t = np.linspace(0, T, 101)
    ref = net.simulate(t, y0, u, method="DOP853", rtol=1e-11, atol=1e-12).y
    # Euler is first order: error = c dt; measure c once, then pick the step that reaches a target
    probe = 1e-3
    c_euler = _err(net.euler(probe, int(round(T / probe)), y0, u, record_every=10).y, ref) / probe
    rows = []
    for method, rtol in (("RK45", 1e-6), ("LSODA", 1e-6), ("RK45", 1e-4)):
        sec, tr = best_of(lambda: net.simulate(t, y0, u, method=method, rtol=rtol, atol=1e-9), repeats)
        err = _err(tr.y, ref)
        steps = 100 * int(np.ceil(T / (0.9 * err / c_euler) / 100))   # the Euler loop reaching the same accuracy
        dt = T / steps
        if steps <= MAX_STEPS:
            sec_e, e = best_of(lambda: net.euler(dt, steps, y0, u, record_every=steps // 100), repeats)
            err_e = _err(e.y, ref)
        else:  # too long to run: time MAX_STEPS // 10 steps and scale (error not measured: nan)
            part = MAX_STEPS // 10
            sec_p, _ = best_of(lambda: net.euler(dt, part, y0, u, record_every=part), repeats)
            sec_e, err_e = sec_p * steps / part, float("nan")
        rows.append((f"{'sparse' if sparse else 'dense'} {method} rtol={rtol:g}", sec, err, tr.stats["nfev"],
                     f"Euler dt={dt:.3g} s ({steps} steps)", sec_e, err_e))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print("CTRNN, N = 1000, 1 s: solve_ivp vs a fixed-step Euler loop at the same accuracy")
    print(f"{'solve_ivp path':34s} {'time s':>8s} {'error':>9s} {'nfev':>6s} | {'Euler loop':28s} {'time s':>8s} {'error':>9s} {'Euler/ivp':>9s}")
    for sparse in (False, True):
        for name, sec, err, nfev, ename, sec_e, err_e in ctrnn_rows(args.repeats, sparse):
            print(f"{name:34s} {sec:8.3f} {err:9.2e} {nfev:6d} | {ename:28s} {sec_e:8.3f} {err_e:9.2e} {sec_e / sec:9.2f}")


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"(total {time.time() - t0:.1f} s)")
