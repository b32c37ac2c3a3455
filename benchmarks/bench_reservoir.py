"""Reservoir and associative-memory speed, ours vs the baseline in the same run.

1. ESN fit+predict on Mackey-Glass (500 units, rho 1.25, leak 0.3, ridge 1e-7, 2000 train / 1000
   test, one step ahead, raw series): neurosim.reservoir.ESN vs ReservoirPy (optional; its
   Reservoir >> Ridge with the same setting) and vs a plain numpy ESN loop; NRMSE of each.
2. Hopfield at N = 1024 on a crossbar in ``circuit`` mode (linear devices, r_wire 1 ohm, compiled read
   plan, factorized once at programming): time of one synchronous update sweep of a batch of 32 states
   (one batched read) vs the digital sweep.
3. BAM (1024 x 1024 crossbar, circuit mode): transposed reads (W^T y) vs forward reads (W x), batch 32.

BLAS single-threaded (shared 2-core machine), best of several repeats, timed in turn.
Run: python benchmarks/bench_reservoir.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from neurosim.crossbar import CrossbarConfig  # noqa: E402
from neurosim.memory import BAM, Hopfield  # noqa: E402
from neurosim.reservoir import ESN  # noqa: E402
from neurosim.tasks import mackey_glass_series, nrmse  # noqa: E402
from timing import best_interleaved  # noqa: E402

def plain_esn(esn_like, u, y):
    """The same ESN as a plain numpy loop (dense W, same weights), fit by normal equations."""
    W, Win = esn_like.W_.toarray(), esn_like.W_in_
    x = np.zeros(W.shape[0])
    S = np.empty((u.shape[0], W.shape[0]))
    for t in range(u.shape[0]):
        x = 0.7 * x + 0.3 * np.tanh(W @ x + Win @ u[t])
        S[t] = x
    H = np.hstack([S[100:2000], np.ones((1900, 1))])
    A = H.T @ H + 1e-7 * np.diag(np.r_[np.ones(W.shape[0]), 0.0])
    w = np.linalg.solve(A, H.T @ y[100:2000])
    return np.hstack([S[2000:], np.ones((1000, 1))]) @ w

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    s = mackey_glass_series(3001, discard=500)
    u, y = s[:-1, None], s[1:, None]
    rows = []

    def ours():
        e = ESN(500, spectral_radius=1.25, leak_rate=0.3, ridge=1e-7, warmup=100, seed=0)
        return e.fit(u[:2000], y[:2000]).predict(u[2000:]), e

    ref = ours()[1]
    fns, names, preds = [lambda: ours()[0]], ["neurosim ESN"], {}
    fns.append(lambda: plain_esn(ref, u, y))
    names.append("plain numpy ESN loop")
    try:
        import reservoirpy
        from reservoirpy.nodes import Reservoir, Ridge


        def rpy():
            res = Reservoir(500, sr=1.25, lr=0.3, seed=0)
            model = res >> Ridge(ridge=1e-7)
            model.fit(u[:2000], y[:2000], warmup=100)
            return model.run(u[2000:])

        fns.append(rpy)
        names.append(f"ReservoirPy {reservoirpy.__version__}")
    except ImportError:
        print("ReservoirPy not installed: baseline is the plain numpy loop only")
    times = best_interleaved([lambda f=f, n=n: preds.__setitem__(n, f()) for f, n in zip(fns, names)], args.repeats)
    print(f"{'ESN Mackey-Glass (fit + predict)':<40} {'time (s)':>10} {'ours / it':>10} {'NRMSE':>10}")
    for n, t in zip(names, times):
        print(f"{n:<40} {t:>10.3f} {times[0] / t:>10.2f} {nrmse(np.asarray(preds[n]).reshape(-1, 1), y[2000:]):>10.2e}")

    # Hopfield N = 1024, circuit mode, one synchronous sweep of 32 states
    N, B = 1024, 32
    g = np.random.default_rng(0)
    xi = np.where(g.random((40, N)) < 0.5, -1.0, 1.0)
    cfg = CrossbarConfig(mode="circuit", r_wire=1.0)
    t0 = time.perf_counter()
    hop = Hopfield(xi, hardware=cfg)
    V = np.where(g.random((B, N)) < 0.5, -1.0, 1.0)
    hop.sweep(V, "sync")  # builds the compiled read plan (factorization) once
    setup = time.perf_counter() - t0
    t_dig, t_xb = best_interleaved([lambda: hop.sweep(V, "sync", analog=False), lambda: hop.sweep(V, "sync")],
                                   max(args.repeats, 20))
    print(f"\nHopfield N={N}, batch {B}, one synchronous sweep (programming + factorization once: {setup:.2f} s)")
    print(f"{'digital sweep':<40} {t_dig * 1e3:>10.3f} ms")
    print(f"{'crossbar circuit sweep (compiled read)':<40} {t_xb * 1e3:>10.3f} ms   ratio {t_xb / t_dig:.2f}x (target <= 2x)")

    # BAM forward vs transposed reads of the same crossbar
    X = np.where(g.random((8, N)) < 0.5, -1.0, 1.0)
    Y = np.where(g.random((8, N)) < 0.5, -1.0, 1.0)
    bam = BAM(X, Y, hardware=cfg)
    Xb, Yb = X[np.arange(B) % 8], Y[np.arange(B) % 8]
    bam.forward(Xb), bam.backward(Yb)
    t_f, t_t = best_interleaved([lambda: bam.forward(Xb), lambda: bam.backward(Yb)], max(args.repeats, 20))
    print(f"\nBAM {N}x{N} circuit crossbar, batch {B}")
    print(f"{'forward read W x':<40} {t_f * 1e3:>10.3f} ms")
    print(f"{'transposed read W^T y':<40} {t_t * 1e3:>10.3f} ms   ratio {t_t / t_f:.2f}x (target <= 1.2x)")

if __name__ == "__main__":
    main()
