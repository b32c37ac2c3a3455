"""Nonlinear circuit reads (issue 16): the batched Newton vs the one-vector Newton, in the same run.

Rows:

* a 128x128 1S1R tile (r_wire 1 ohm, v_read 1 V, inputs uniform in [-1, 1] V: selectors forward and
  reverse biased), a batch of 64 input vectors: ``TileCircuit.solve`` batched (Newton + block
  Gauss-Seidel PCG over all vectors) vs ``method="direct"`` (one vector at a time, factorized Jacobian);
  target <= 20 ms per vector and >= 13x;
* the same tile read again with other inputs (warm start from the previous solution);
* an analog LSTM (batch 8, input 32, hidden 64, 20 steps) on 1S1R crossbars in circuit mode vs the
  digital cell (target <= 300x), with the one-vector path beside it (fewer steps, scaled);
* a sequence with device state evolving (read disturb, one vector per step): cost per step;
* ngspice-39 on the same 64x64 and 128x128 1S1R decks: time of one ``.op`` with its default options
  (with the tolerances the tests use, reltol 1e-12, ngspice did not finish the 64x64 deck in 400 s).

The machine is shared (2 cores); the load average is printed. BLAS single-threaded.

Run: python benchmarks/bench_nonlinear.py [--quick]
"""

from __future__ import annotations

import argparse
import functools
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from neurosim.crossbar import DAC, Crossbar, CrossbarConfig  # noqa: E402
from neurosim.crossbar.circuit import TileCircuit  # noqa: E402
from timing import best_of  # noqa: E402


def tile_of(n, seed=0):
    rng = np.random.default_rng(seed)
    cfg = CrossbarConfig(cell="1S1R", mode="circuit", dac=DAC(v_read=1.0), tile_rows=n, tile_cols=n)
    return Crossbar(rng.normal(size=(n // 2, n)), cfg)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test)")
    ap.add_argument("--no-ngspice", action="store_true")
    args = ap.parse_args()
    n, B = (32, 16) if args.quick else (128, 64)
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores, shared)")
    rows = []

    xb = tile_of(n)
    tile = xb.tiles[0]
    circ = tile.circuit()
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(B, n))
    X2 = rng.uniform(-1, 1, size=(B, n))
    k = 2 if not args.quick else 4
    t_dir, ref = best_of(lambda: circ.solve(tile._cells(tile.G), X[:k], method="direct"), 1)
    t_dir /= k

    def batched(V, warm):
        circ.warm_start = warm
        return circ.solve(tile._cells(tile.G), V, method="batched")

    t_b, got = best_of(lambda: batched(X, False), 2)
    t_b /= B
    batched(X, False)
    t_w, _ = best_of(lambda: batched(X2, True), 1)
    circ.warm_start = False
    t_w /= B
    err = float(np.max(np.abs(got[0][:k] - ref[0])) / np.max(np.abs(ref[0])))
    rows.append((f"{n}x{n} 1S1R tile, one-vector Newton (direct)", t_dir, 1.0, ""))
    rows.append((f"{n}x{n} 1S1R tile, batched, {B} vectors, cold start", t_b, t_dir / t_b,
                 f"max rel. diff to direct {err:.1e}; target <= 20 ms, >= 13x"))
    rows.append((f"{n}x{n} 1S1R tile, batched, {B} new vectors, warm start", t_w, t_dir / t_w, ""))

    # read disturb: the state changes after every vector; per step one nonlinear solve of one vector
    from neurosim.devices import load_device

    dev = load_device("hp_tio2_strukov2008")
    cfg = CrossbarConfig(device=dev, mode="circuit", r_wire=1.0, read_disturb=True, dac=DAC(v_read=0.2),
                         tile_rows=n, tile_cols=n)
    xd = Crossbar(np.abs(np.random.default_rng(2).normal(size=(n // 2, n))), cfg)
    seq = np.random.default_rng(3).uniform(0, 1, size=(8, n))
    xd.matvec(seq[0])
    t_seq, _ = best_of(lambda: xd.matmul(seq), 1)
    rows.append((f"read disturb, {n}x{n}, one vector per step (per step)", t_seq / seq.shape[0], None,
                 "state update + batched Newton, wiring and warm start reused"))

    # analog LSTM in nonlinear circuit mode
    from neurosim.analog import HardwareConfig, to_analog
    from neurosim.cells import LSTM

    Bl, I, H, T = (2, 8, 16, 4) if args.quick else (8, 32, 64, 20)
    lstm = LSTM(I, H, seed=0)
    x = np.random.default_rng(4).uniform(-1, 1, size=(T, Bl, I)).astype(np.float32)
    hw = HardwareConfig(read_mode="circuit", crossbar_options={"cell": "1S1R", "r_wire": 1.0})
    analog = to_analog(lstm, hw)
    analog(x[:1, :1])
    t_dig, _ = best_of(lambda: lstm(x), 3)
    t_an, _ = best_of(lambda: analog(x), 1)
    rows.append((f"digital LSTM batch {Bl}, hidden {H}, {T} steps", t_dig, None, ""))
    rows.append((f"analog LSTM, 1S1R circuit mode, batched Newton", t_an, t_an / t_dig, "ratio to digital; target <= 300x"))
    Ts = 2
    orig = TileCircuit.solve
    TileCircuit.solve = functools.partialmethod(orig, method="direct")
    try:
        t_one, _ = best_of(lambda: analog(x[:Ts]), 1)
    finally:
        TileCircuit.solve = orig
    rows.append((f"analog LSTM, one-vector Newton ({Ts} steps, x{T // Ts})", t_one * T / Ts, t_one * T / Ts / t_dig,
                 "ratio to digital"))

    if not args.no_ngspice:
        from neurosim.spice import run_ngspice

        for m in (64, 128) if not args.quick else (16,):
            xm = tile_of(m)
            v = np.random.default_rng(5).uniform(-1, 1, size=m)
            net = xm.netlist(v)
            try:
                t_sp, _ = best_of(lambda: run_ngspice(net, "op", timeout=1200.0), 1)
                rows.append((f"ngspice .op, {m}x{m} 1S1R deck, default options", t_sp, None, "one operating point"))
            except Exception as exc:  # report, do not hide
                rows.append((f"ngspice .op, {m}x{m} 1S1R deck, default options", float("nan"), None, f"failed: {exc}"))

    print(f"{'case':<62} {'time':>12} {'ratio':>8}  note")
    for label, t, ratio, note in rows:
        r = f"{ratio:.1f}x" if ratio is not None else ""
        print(f"{label:<62} {t * 1e3:>10.1f}ms {r:>8}  {note}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
