"""Benchmark of the circuit engine on the N x N crossbar of issue 3 (neurosim.netlist.crossbar_netlist).

Rows driven at one end by sources, 1 ohm wire segments, cross-point conductances U[1e-6, 1e-4] S,
columns read through 0 V sources. For each N it times, best of ``--repeats``:

* netlist build (bulk API), compile (COO stamping), factorize (SuperLU), solve;
* baseline: a bare ``scipy.sparse.linalg.splu(A).solve(b)`` of the same, already assembled matrix
  (scipy defaults), and the ratio ours (compile + factorize + solve) / baseline;
* SuperLU column orderings (fill and factorization time);
* a 1000-vector batch (row voltages -> column currents) through the transfer matrix, against
  per-vector solves with the same factors;
* the largest N solving (build + compile + factorize + solve) in under 60 s, with its peak memory
  (each size in a fresh subprocess, ``ru_maxrss``).

Run: ``python benchmarks/bench_solve.py [--sizes 32 64 128 256] [--repeats 3] [--no-largest]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import scipy.sparse.linalg as sla

from neurosim.netlist import crossbar_netlist
from timing import best_of
from neurosim.solve import LinearSolver, compile


def pipeline(n, repeats):
    t_build, net = best_of(lambda: crossbar_netlist(n, r_wire=1.0, seed=0), repeats)
    t_compile, cc = best_of(lambda: compile(net), repeats)
    t_fact, lin = best_of(lambda: LinearSolver(cc), repeats)
    b = cc.rhs()
    t_solve, x = best_of(lambda: lin.solve(b), repeats)
    A = cc.A.copy()
    t_bare, xb = best_of(lambda: sla.splu(A).solve(b), repeats)
    err = float(np.max(np.abs(x - xb)) / np.max(np.abs(xb)))
    ours = t_compile + t_fact + t_solve
    return dict(n=n, unknowns=cc.size, build=t_build, compile=t_compile, factorize=t_fact, solve=t_solve,
                ours=ours, bare=t_bare, ratio=ours / t_bare, rel_diff=err), cc, lin


def orderings(cc, repeats):
    rows = []
    A = cc.A
    for spec, sym in [("COLAMD", False), ("MMD_ATA", False), ("MMD_AT_PLUS_A", False), ("MMD_AT_PLUS_A", True)]:
        opts = dict(permc_spec=spec, diag_pivot_thresh=0.1 if sym else 1.0, options={"SymmetricMode": sym})
        t, lu = best_of(lambda: sla.splu(A, **opts), repeats)
        rows.append((spec + (" +SymmetricMode" if sym else ""), t, lu.L.nnz + lu.U.nnz))
    return rows


def batch(n, cc, lin, k=1000, per_vector_sample=20):
    rng = np.random.default_rng(1)
    u = rng.uniform(0.0, 1.0, size=(n, k))
    src = [f"Vr{i}" for i in range(n)]
    out = [f"Vc{j}" for j in range(n)]
    fresh = LinearSolver.__new__(LinearSolver)  # same factors, empty transfer-matrix cache
    fresh.__dict__.update(lin.__dict__)
    fresh._cache = {}
    fresh._trailing = None  # include extracting the port block of the factors
    t0 = time.perf_counter()
    y = fresh.solve_sources(u, sources=src, outputs=out)
    t_batch = time.perf_counter() - t0
    # baseline: one solve per vector with the same LU (no transfer matrix)
    B = cc.source_matrix(src)
    C = fresh.output_matrix(out)
    t0 = time.perf_counter()
    ys = [C @ lin.lu.solve(B @ u[:, j]) for j in range(per_vector_sample)]
    t_each = (time.perf_counter() - t0) / per_vector_sample
    err = float(np.max(np.abs(np.array(ys).T - y[:, :per_vector_sample])) / np.max(np.abs(y)))
    return dict(n=n, k=k, batch_ms_per_vector=1e3 * t_batch / k, single_ms_per_vector=1e3 * t_each,
                ratio=(t_batch / k) / t_each, rel_diff=err)


def one_size(n):
    """Run in a subprocess: the whole pipeline at size n, wall time and peak memory."""
    base = peak_mb()
    t0 = time.perf_counter()
    net = crossbar_netlist(n, r_wire=1.0, seed=0)
    cc = compile(net)
    del net
    lin = LinearSolver(cc)
    x = lin.solve(cc.rhs())
    wall = time.perf_counter() - t0
    print(json.dumps(dict(n=n, wall=wall, peak_mb=peak_mb(), base_mb=base, unknowns=cc.size,
                          ok=bool(np.isfinite(x).all()))))


def peak_mb() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss survives exec, so it would show the parent's)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 256])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--no-largest", action="store_true")
    ap.add_argument("--largest", type=int, nargs="+", default=[512, 768, 896, 1024])
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one_size(args.one)
        return
    print("# pipeline: times in s (best of %d); bare = scipy splu(A).solve(b) on the assembled matrix" % args.repeats)
    print(f"{'N':>5} {'unknowns':>9} {'build':>7} {'compile':>8} {'factor':>8} {'solve':>7} "
          f"{'ours':>8} {'bare':>8} {'ratio':>6} {'rel.diff':>9}")
    last = None
    for n in args.sizes:
        r, cc, lin = pipeline(n, args.repeats)
        print(f"{r['n']:>5} {r['unknowns']:>9} {r['build']:>7.3f} {r['compile']:>8.4f} {r['factorize']:>8.4f} "
              f"{r['solve']:>7.4f} {r['ours']:>8.4f} {r['bare']:>8.4f} {r['ratio']:>6.2f} {r['rel_diff']:>9.1e}")
        last = (n, cc, lin)
    n, cc, lin = last
    print(f"\n# SuperLU orderings at N={n}: factorization time (s), nnz(L+U)")
    for name, t, nnz in orderings(cc, args.repeats):
        print(f"{name:>28} {t:>8.3f} {nnz:>11}")
    print(f"\n# batch of {args.batch} row-voltage vectors -> {n} column currents at N={n} (factors reused)")
    b = batch(n, cc, lin, args.batch)
    print(f"transfer-matrix batch: {b['batch_ms_per_vector']:.3f} ms/vector; one solve per vector: "
          f"{b['single_ms_per_vector']:.3f} ms/vector; ratio {b['ratio']:.3f}; rel.diff {b['rel_diff']:.1e}")
    if not args.no_largest:
        print("\n# largest N in < 60 s (build + compile + factorize + solve, fresh process)")
        for n in args.largest:
            out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True,
                                 timeout=600)
            if out.returncode != 0:
                print(f"N={n}: failed ({out.stderr.strip().splitlines()[-1] if out.stderr else out.returncode})")
                break
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"N={r['n']:>5} unknowns={r['unknowns']:>8} wall={r['wall']:.1f} s peak={r['peak_mb']:.0f} MB "
                  f"(after imports {r['base_mb']:.0f} MB)")
            if r["wall"] > 60:
                break


if __name__ == "__main__":
    main()
