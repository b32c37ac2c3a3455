"""Forward-pass speed of neurosim.cells RNN/LSTM/GRU against torch CPU, same weights, same run.

Usage: ``python benchmarks/bench_cells.py [--repeats N] [--sizes small,middle,large] [--threads N] [--clock wall|cpu]``

Prints one row per (size, cell): torch ms, ours ms (best of N repeats each, interleaved), ratio
ours/torch, and the max abs difference of the outputs. torch runs under ``torch.no_grad()`` with
``torch.set_num_threads`` set to the number of threads numpy's OpenBLAS uses (printed).
Targets (issue 2, middle size): LSTM <= 2.0x, GRU and RNN <= 1.0x.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import os
import time

import numpy as np
from timing import best_of

SIZES = {  # (batch, time, input, hidden)
    "small": (1, 1000, 32, 128),
    "middle": (32, 100, 64, 256),
    "large": (64, 200, 128, 512),
}
TARGETS = {"LSTM": 2.0, "GRU": 1.0, "RNN": 1.0}


def _openblas():
    """numpy's bundled OpenBLAS (ctypes handle) or None."""
    libdir = os.path.dirname(np.__file__) + ".libs"
    for path in glob.glob(os.path.join(libdir, "*openblas*")):
        return ctypes.CDLL(path)
    return None


def _blas_fn(suffix: str):
    lib = _openblas()
    if lib is None:
        return None
    for prefix in ("scipy_openblas_", "openblas_"):
        for tail in ("64_", ""):
            name = f"{prefix}{suffix}{tail}"
            if hasattr(lib, name):
                return getattr(lib, name)
    return None


def numpy_blas_threads() -> int | None:
    """Threads of the OpenBLAS bundled with numpy (None if it cannot be asked)."""
    fn = _blas_fn("get_num_threads")
    return None if fn is None else int(fn())


def set_numpy_blas_threads(n: int) -> None:
    fn = _blas_fn("set_num_threads")
    if fn is None:
        raise SystemExit("cannot set numpy's BLAS threads here; run with OPENBLAS_NUM_THREADS instead")
    fn(ctypes.c_int(n))


CLOCK = time.perf_counter


def best_ms(fn, repeats: int) -> float:
    return best_of(fn, repeats, CLOCK)[0] * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--sizes", default="small,middle,large")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for both numpy's OpenBLAS and torch (default: what numpy's OpenBLAS uses)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall: perf_counter; cpu: process_time (robust to a loaded machine with --threads 1)")
    args = ap.parse_args()
    global CLOCK
    CLOCK = time.perf_counter if args.clock == "wall" else time.process_time

    import torch

    import neurosim.cells as cells

    if args.threads is not None:
        set_numpy_blas_threads(args.threads)
    threads = numpy_blas_threads() or os.cpu_count() or 1
    torch.set_num_threads(threads)
    print(f"numpy OpenBLAS threads: {threads}; torch threads: {torch.get_num_threads()}; torch {torch.__version__}; "
          f"clock: {args.clock}; best of {args.repeats}")
    print(f"{'size (B,T,I,H)':>22} {'cell':>5} {'torch ms':>9} {'ours ms':>9} {'ratio':>6} {'target':>6} {'max|diff|':>9}")
    rng = np.random.default_rng(0)
    for size_name in args.sizes.split(","):
        B, T, I, H = SIZES[size_name]
        x = rng.standard_normal((T, B, I)).astype(np.float32)
        xt = torch.from_numpy(x)
        for name in ("RNN", "LSTM", "GRU"):
            ours = getattr(cells, name)(I, H, seed=1)
            ref = getattr(torch.nn, name)(I, H)
            ref.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
            with torch.no_grad():
                ref(xt)
                ours(x)
                t_ref, t_ours = float("inf"), float("inf")
                for _ in range(args.repeats):  # interleave so that machine load hits both alike
                    t_ref = min(t_ref, best_ms(lambda: ref(xt), 1))
                    t_ours = min(t_ours, best_ms(lambda: ours(x), 1))
                diff = float(np.abs(ours(x)[0] - ref(xt)[0].numpy()).max())
            target = f"{TARGETS[name]:.1f}" if size_name == "middle" else "-"
            print(f"{str((B, T, I, H)):>22} {name:>5} {t_ref:9.2f} {t_ours:9.2f} {t_ours / t_ref:6.2f} {target:>6} {diff:9.1e}")


if __name__ == "__main__":
    main()
