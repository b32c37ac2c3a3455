"""DC sweeps with warm starts and small-signal AC, against their baselines and ngspice-39 (same run).

* ``.dc`` on an N x N 1S1R tile (diode selector + resistor per cross-point, rows driven, columns
  read through 0 V sources) sweeping one row source over ``--points`` values:
  baseline = one cold :func:`neurosim.dc` per point; ours = :func:`neurosim.solve.dc_sweep` (warm
  starts); ngspice = ``ngspice -b`` wall time on the exported deck with the same ``.dc`` line
  (process start and raw-file output included). Newton iterations of both ours and the baseline,
  and the largest difference to ngspice (V) as a correctness check.
* ``.ac`` on an M-section RLC ladder over ``dec 20`` from 1 kHz to 1 GHz: ours =
  :func:`neurosim.solve.ac` (one complex sparse LU per frequency); ngspice wall time on the same deck;
  largest relative difference of the output phasor (floored at 1e-12 of its peak).

Run: ``python benchmarks/bench_spice_analyses.py [--sizes 8 16] [--points 41] [--sections 50 200]``
"""

from __future__ import annotations

import argparse

import numpy as np

from neurosim.netlist import Netlist
from neurosim.solve import ac, compile, dc, dc_sweep
from neurosim.spice import AC, TIGHT_OPTIONS, DCSweep, run_ngspice
from timing import best_of


def tile(n: int, seed: int = 0) -> Netlist:
    rng = np.random.default_rng(seed)
    net = Netlist(f"1S1R {n}x{n}")
    net.add_vsources([f"Vr{i}" for i in range(n)], [f"r{i}" for i in range(n)], "0", rng.uniform(0.5, 1.5, n))
    net.add_vsources([f"Vc{j}" for j in range(n)], [f"c{j}" for j in range(n)], "0", 0.0)
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    mid = [f"m{i}_{j}" for i, j in zip(ii, jj)]
    net.add_diodes([f"D{i}_{j}" for i, j in zip(ii, jj)], [f"r{i}" for i in ii], mid, i_s=1e-12, n=1.5)
    net.add_resistors([f"R{i}_{j}" for i, j in zip(ii, jj)], mid, [f"c{j}" for j in jj], rng.uniform(1e4, 1e6, n * n))
    return net


def ladder(m: int) -> Netlist:
    net = Netlist(f"RLC ladder {m}")
    net.add_vsource("V1", "n0", "0", 0.0, ac_mag=1.0)
    net.add_resistors([f"R{k}" for k in range(m)], [f"n{k}" for k in range(m)], [f"x{k}" for k in range(m)], 1.0)
    net.add_inductors([f"L{k}" for k in range(m)], [f"x{k}" for k in range(m)], [f"n{k + 1}" for k in range(m)], 1e-7)
    net.add_capacitors([f"C{k}" for k in range(m)], [f"n{k + 1}" for k in range(m)], "0", 1e-11)
    net.add_resistor("Rload", f"n{m}", "0", 100.0)
    return net


def bench_dc(sizes, points, repeats):
    print(f"\n.dc sweep of Vr0 over {points} points, N x N 1S1R tile (gmin = 1e-12 S as ngspice)")
    print(f"{'N':>4} {'cold dc (s)':>12} {'iters':>6} {'dc_sweep (s)':>13} {'iters':>6} {'ratio':>6} "
          f"{'ngspice (s)':>12} {'ngspice/ours':>13} {'max |dV| (V)':>13}")
    for n in sizes:
        net = tile(n)
        sweep = DCSweep("Vr0", 0.0, 2.0, 2.0 / (points - 1))
        vals = sweep.values()
        cc = compile(net)

        def cold():
            out, it = [], 0
            for v in vals:
                u = cc.source_values()
                u[0] = v
                cc.vs_dc[0] = v
                op = dc(cc, gmin=1e-12)
                out.append(op.x)
                it += op.iterations
            cc.vs_dc[0] = net.element("Vr0")["params"]["dc"]
            return np.array(out), it

        t_cold, (x_cold, it_cold) = best_of(cold, repeats)
        t_ours, res = best_of(lambda: dc_sweep(cc, "Vr0", vals, gmin=1e-12), repeats)
        assert np.max(np.abs(res.x - x_cold)) < 1e-9
        ref = run_ngspice(net, sweep, options=TIGHT_OPTIONS)
        t_ng = ref.elapsed
        dv = max(float(np.max(np.abs(res.v(f"m0_{j}") - ref.voltage(f"m0_{j}")))) for j in range(n))
        print(f"{n:>4} {t_cold:>12.4f} {it_cold:>6} {t_ours:>13.4f} {res.iterations:>6} {t_cold / t_ours:>6.2f} "
              f"{t_ng:>12.4f} {t_ng / t_ours:>13.2f} {dv:>13.2e}")


def bench_ac(sections, repeats):
    an = AC("dec", 20, 1e3, 1e9)
    f = an.frequencies()
    print(f"\n.ac dec 20 1k 1g ({f.size} frequencies), RLC ladder")
    print(f"{'sections':>8} {'unknowns':>9} {'ours (s)':>9} {'ngspice (s)':>12} {'ngspice/ours':>13} {'max rel diff':>13}")
    for m in sections:
        net = ladder(m)
        t_ours, res = best_of(lambda: ac(net, f), repeats)
        ref = run_ngspice(net, an, options=TIGHT_OPTIONS)
        out = f"n{m}"
        v_ref = ref.voltage(out)
        # relative, floored at 1e-12 of the largest output (far above cutoff the phasor falls to
        # ~1e-315, subnormal numbers where both solvers keep no relative precision)
        err = float(np.max(np.abs(res.v(out) - v_ref) / np.maximum(np.abs(v_ref), 1e-12 * np.abs(v_ref).max())))
        print(f"{m:>8} {compile(net).size:>9} {t_ours:>9.4f} {ref.elapsed:>12.4f} {ref.elapsed / t_ours:>13.2f} {err:>13.2e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 16])
    ap.add_argument("--points", type=int, default=41)
    ap.add_argument("--sections", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    bench_dc(args.sizes, args.points, args.repeats)
    bench_ac(args.sections, args.repeats)


if __name__ == "__main__":
    main()
