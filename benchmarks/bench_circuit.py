"""neurosim's whole circuit pipeline against ngspice-39 on the N x N crossbar of issue 3.

The crossbar (``neurosim.netlist.crossbar_netlist``): rows driven at one end by sources, 1 ohm wire
segments between adjacent cross-points, cross-point conductances U[1e-6, 1e-4] S, columns read
through 0 V sources. For each N, best of ``--repeats``:

* ours: netlist build (bulk API), compile (vectorised MNA stamping), factorize (SuperLU), solve,
  each best of repeats, and the whole pipeline timed end to end (column ``ours``, best of repeats);
* ngspice: wall time of ``ngspice -b`` on the deck exported by ``write_spice`` with ``.op`` and
  ngspice's default options (process start, parse, setup, solve, raw-file output); the deck export
  time is reported in its own column and not counted on either side;
* ratio = ngspice / ours (whole pipeline), and the largest relative difference of the column
  currents between the two (a correctness check of the run).

ngspice is not run at N >= ``--ngspice-max`` (default 128): its time there is *estimated* by
extrapolating the measured growth between the two largest measured sizes (marked ``est.``).

Run: ``python benchmarks/bench_circuit.py [--sizes 32 64 128 256] [--repeats 3] [--ngspice-max 128]``
"""

from __future__ import annotations

import argparse

import numpy as np

from neurosim.netlist import crossbar_netlist
from timing import best_of
from neurosim.solve import LinearSolver, compile
from neurosim.spice import run_ngspice, write_spice


def ours(n, repeats):
    t_build, net = best_of(lambda: crossbar_netlist(n, r_wire=1.0, seed=0), repeats)
    t_compile, cc = best_of(lambda: compile(net), repeats)
    t_fact, lin = best_of(lambda: LinearSolver(cc), repeats)
    b = cc.rhs()
    t_solve, x = best_of(lambda: lin.solve(b), repeats)
    t_write, _ = best_of(lambda: write_spice(net, "op"), repeats)

    def whole():
        cc2 = compile(crossbar_netlist(n, r_wire=1.0, seed=0))
        return LinearSolver(cc2).solve(cc2.rhs())

    t_total, x2 = best_of(whole, repeats)
    assert np.array_equal(x, x2)
    return dict(n=n, elements=len(net), build=t_build, compile=t_compile, factorize=t_fact, solve=t_solve,
                total=t_total, write=t_write), net


def column_currents_ours(net, n):
    from neurosim.solve import dc

    op = dc(net)
    return np.array([float(op.i(f"Vc{j}")) for j in range(n)])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 256])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ngspice-max", type=int, default=128, help="largest N run in ngspice (larger: estimated)")
    ap.add_argument("--ngspice-repeats", type=int, default=2, help="ngspice runs per N below 128 (one at >= 128)")
    args = ap.parse_args(argv)

    print("N x N crossbar, 1 ohm wires, g ~ U[1e-6, 1e-4] S; times in s (best of repeats)")
    head = f"{'N':>5} {'elements':>9} {'build':>8} {'compile':>8} {'factor':>8} {'solve':>8} {'ours':>8} " \
           f"{'ngspice':>10} {'ratio':>9} {'rel.diff':>9} {'export':>8}"
    print(head)
    print("-" * len(head))
    measured: list[tuple[int, float]] = []
    for n in args.sizes:
        row, net = ours(n, args.repeats)
        ng_text, ratio_text, diff_text = "skipped", "", ""
        if n <= args.ngspice_max:
            reps = 1 if n >= 128 else args.ngspice_repeats
            best, res = np.inf, None
            for _ in range(reps):
                res = run_ngspice(net, "op", timeout=3600)
                best = min(best, res.elapsed)
            measured.append((n, best))
            ref = np.array([res.current(f"Vc{j}") for j in range(n)])
            mine = column_currents_ours(net, n)
            diff = float(np.max(np.abs(mine - ref) / np.abs(ref)))
            ng_text, ratio_text, diff_text = f"{best:10.3f}", f"{best / row['total']:8.0f}x", f"{diff:9.1e}"
        elif len(measured) >= 2:
            (n1, t1), (n2, t2) = measured[-2], measured[-1]
            slope = np.log(t2 / t1) / np.log(n2 / n1)
            est = t2 * (n / n2) ** slope
            ng_text, ratio_text = f"{est:6.0f} est.", f"{est / row['total']:7.0f}x*"
        print(f"{n:5d} {row['elements']:9d} {row['build']:8.3f} {row['compile']:8.3f} {row['factorize']:8.3f} "
              f"{row['solve']:8.4f} {row['total']:8.3f} {ng_text:>10} {ratio_text:>9} {diff_text:>9} "
              f"{row['write']:8.3f}", flush=True)
    if any(n > args.ngspice_max for n in args.sizes):
        print(f"* est.: ngspice not run above N={args.ngspice_max}; time extrapolated with the growth exponent "
              "measured between the two largest run sizes")
    print("ratio = ngspice wall time / ours (whole pipeline build -> solve, end to end); rel.diff = max relative "
          "difference of the N column currents, ours vs ngspice; export = write_spice time (not counted)")


if __name__ == "__main__":
    main()
