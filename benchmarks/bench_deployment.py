"""Deployment-time evaluation: one crossbar tile at many times x device seeds, vectorized vs a loop.

Size of issue 15: a 256x256 tile (128 outputs x 256 inputs, differential pairs) of the PCM card
(``pcm_joshi2020``: programming noise, drift with a per-device exponent, 1/f read noise) read at
8 deployment times (1 s .. 1 year) for 100 device seeds, a batch of 16 input vectors.

* baseline (the issue's): 800 independent ``device``-mode reads, each ``Crossbar(W, cfg,
  seed=s).matmul(X, t=t)`` on a freshly programmed crossbar (what a study of one (time, seed) point
  at a time does);
* second baseline: the 100 crossbars programmed once and each read at the 8 times (800 reads;
  every new time compiles its read);
* ours: ``neurosim.crossbar.deployment_reads`` (100 programmings, the card parsed once, the reads of
  all seeds at one time as one batched product with the time-independent parts of drift and
  1/f noise computed once). Best of several repeats, timed in turn. BLAS single-threaded
(set OPENBLAS_NUM_THREADS to change). The last column checks the two agree: the largest difference
of the noise-free reads (read noise off), relative to the largest output.

Run: python benchmarks/bench_deployment.py [--repeats N] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads its BLAS

import numpy as np  # noqa: E402

from neurosim.crossbar import Crossbar, CrossbarConfig, deployment_reads  # noqa: E402
from neurosim.devices import read_card  # noqa: E402
from timing import best_interleaved  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="10 seeds instead of 100")
    args = ap.parse_args()
    n_seeds = 10 if args.quick else 100
    card = read_card("pcm_joshi2020")
    rng = np.random.default_rng(0)
    W = rng.uniform(-1, 1, (128, 256))
    X = rng.uniform(-1, 1, (16, 256))
    times = [1.0, 60.0, 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0, 182 * 86400.0, 365 * 86400.0]
    seeds = list(range(n_seeds))
    cfg = CrossbarConfig(device=card.name, mode="device", nonidealities=card.nonidealities, tile_rows=256, tile_cols=256)

    def independent(config=cfg):
        out = np.empty((len(times), len(seeds), X.shape[0], W.shape[0]))
        for j, s in enumerate(seeds):
            for i, t in enumerate(times):
                out[i, j] = Crossbar(W, config, seed=s).matmul(X, t=t)
        return out

    def loop(config=cfg):
        out = np.empty((len(times), len(seeds), X.shape[0], W.shape[0]))
        for j, s in enumerate(seeds):
            xb = Crossbar(W, config, seed=s)
            for i, t in enumerate(times):
                out[i, j] = xb.matmul(X, t=t)
        return out

    def vectorized(config=cfg):
        return deployment_reads(W, config, X, times, seeds)

    t_ind, t_loop, t_vec = best_interleaved([independent, loop, vectorized], args.repeats)
    quiet = dataclasses.replace(cfg, nonidealities=card.nonidealities[:2])  # no read noise: comparable exactly
    a, b = loop(quiet), vectorized(quiet)
    agree = float(np.max(np.abs(a - b)) / np.max(np.abs(a)))
    n = len(times) * len(seeds)
    print(f"256x256 PCM tile, {len(times)} times x {len(seeds)} seeds = {n} reads of a batch of {X.shape[0]}")
    w = 58
    print(f"{'method':<{w}}{'time (s)':>10}{'per read (ms)':>15}{'ours faster by':>16}")
    rows = [("baseline: 800 independent reads (program + read each)", t_ind),
            ("baseline 2: 100 programmings x 8 reads (Crossbar.matmul)", t_loop),
            ("ours: deployment_reads (vectorized over times x seeds)", t_vec)]
    for name, tm in rows:
        print(f"{name:<{w}}{tm:>10.3f}{1e3 * tm / n:>15.3f}{tm / t_vec:>15.2f}x")
    print(f"noise-free agreement: max |diff| / max |y| = {agree:.2e}")


if __name__ == "__main__":
    main()
