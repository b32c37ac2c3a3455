"""Analog execution speed: an LSTM on crossbars vs the same digital LSTM, in the same run.

Size of issue 6: batch 32, input 64, hidden 256, 100 steps, float32. Rows: the digital cell
(baseline), ``device`` mode without and with per-read noise, ``circuit`` mode with linear devices
after the one-time precompute (reported separately) and with a nonlinear device (cost reported).
Best of several repeats, the configurations timed in turn; the machine is shared, so figures are noisy.

Per-read noise, two models: the readout's input-referred noise (TIA + ADC, ``adc_noise``; aihwkit's
``out_noise``) draws one Gaussian per output of every tile per read (9.8 M per sequence here); the
per-device relative read noise (``ReadNoise``, every cell current its own noise) draws as many, and
needs the exact per-output variance sigma^2 x^2 (G+^2 + G-^2) from a second GEMM the size of the read's
own (neurosim.crossbar.readplan). The last rows are the cost of the draws alone. Run with OPENBLAS_NUM_THREADS=2 to compare at two threads each.

BLAS runs single-threaded unless OPENBLAS_NUM_THREADS is set: on this shared 2-core machine a
multi-threaded BLAS is oversubscribed and small GEMMs slow down erratically (up to 100x), for the
digital and the analog cell alike.

Run: python benchmarks/bench_analog.py [--repeats N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads its BLAS

import numpy as np  # noqa: E402

from neurosim.analog import HardwareConfig, to_analog  # noqa: E402
from neurosim.sampling import fill_standard_normal  # noqa: E402
from neurosim.cells import LSTM  # noqa: E402
from neurosim.devices import ReadNoise  # noqa: E402
from timing import best_interleaved  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test)")
    args = ap.parse_args()
    B, I, H, T = (4, 16, 32, 10) if args.quick else (32, 64, 256, 100)
    lstm = LSTM(I, H, seed=0)  # float32
    x = np.random.default_rng(0).uniform(-1, 1, size=(T, B, I)).astype(np.float32)
    configs = [
        ("device, 8-bit DAC/ADC, no noise", HardwareConfig(read_mode="device", dac_bits=8, adc_bits=8), 1.6),
        ("device, 8-bit, readout noise 0.5 LSB (per conversion)",
         HardwareConfig(read_mode="device", dac_bits=8, adc_bits=8, adc_noise=0.5 / 127), 3.0),
        ("device, 8-bit, per-device read noise 2 % (exact)",
         HardwareConfig(read_mode="device", dac_bits=8, adc_bits=8, nonidealities=(ReadNoise(0.02),)), 3.5),
        ("circuit, linear devices, r_wire 1 ohm", HardwareConfig(read_mode="circuit", crossbar_options={"r_wire": 1.0}), 1.4),
    ]
    analogs, setups = [], []
    for _, hw, _ in configs:
        analog = to_analog(lstm, hw)
        t0 = time.perf_counter()
        analog(x[:1])  # programs every crossbar (and precomputes the circuit maps)
        setups.append(time.perf_counter() - t0)
        analogs.append(analog)
    timings = best_interleaved([lambda: lstm(x)] + [lambda a=a: a(x) for a in analogs], args.repeats)
    t_dig = timings[0]
    rows = [("digital LSTM (numpy)", t_dig, None, "")]
    for (label, _, limit), t, t_setup in zip(configs, timings[1:], setups):
        rows.append((label, t, limit, f"one-time programming/precompute {t_setup:.2f} s"))

    # the transposed read (W^T y, column-driven; associative memories) against the forward read of
    # the same crossbar, both through the compiled plan, per-device read noise on
    xb = analogs[2].ops.crossbars["weight_hh_l0"]  # (4H, H)
    Xf = np.random.default_rng(1).uniform(-1, 1, size=(T * B, xb.n_in)).astype(np.float32)
    Xt = np.random.default_rng(2).uniform(-1, 1, size=(T * B, xb.n_out)).astype(np.float32)
    xb.matmul(Xf), xb.matmul_transposed(Xt)
    t_fwd, t_tr = best_interleaved([lambda: xb.matmul(Xf), lambda: xb.matmul_transposed(Xt)], args.repeats)
    # Same multiply-accumulates, but not the same conversions: every tile converts its own partial
    # sums, and a differential tile of R rows x C/2 weight columns converts C/2 outputs read forward
    # but R outputs read transposed. The limit is on the time per ADC conversion (the work the
    # physics requires); the raw ratio is printed too.
    conv_f = len(xb.plan(None, False, np.float32).blocks) * xb.n_out
    conv_t = len(xb.plan(None, True, np.float32).blocks) * xb.n_in
    rows_tr = [(f"forward read of weight_hh ({xb.n_out}x{xb.n_in}), {T * B} vectors, read noise", t_fwd, conv_f),
               (f"transposed read of the same array, {T * B} vectors", t_tr, conv_t)]

    # nonlinear device: circuit mode solves per read (Newton); a short sequence, reported as cost
    try:
        hw_nl = HardwareConfig(read_mode="circuit", device="yakopcic_oblea2011", tile_rows=64, tile_cols=64)
        small = LSTM(I, 32, seed=0)
        analog = to_analog(small, hw_nl)
        analog(x[:1, :1])
        t_nl_dig, t_nl = best_interleaved([lambda: small(x[:5, :4]), lambda: analog(x[:5, :4])], 1)
        rows.append(("circuit, nonlinear device (hidden 32, 5 steps, batch 4)", t_nl, None,
                     f"digital same size {t_nl_dig * 1e3:.2f} ms -> ratio {t_nl / t_nl_dig:.0f}x"))
    except Exception as exc:  # report, do not hide: the nonlinear row is informational
        rows.append(("circuit, nonlinear device", float("nan"), None, f"failed: {type(exc).__name__}: {exc}"))

    # the noisy read's floor: one Gaussian per output, per tile-row block, per read
    n_normals = T * B * 4 * H * (-(-I // 128)) + T * B * 4 * H * (-(-H // 128))
    gen = np.random.default_rng(0)
    buf = np.empty(n_normals, dtype=np.float32)
    t_zig, t_bm = best_interleaved([lambda: gen.standard_normal(out=buf, dtype=np.float32),
                                    lambda: fill_standard_normal(gen, buf)], args.repeats)
    rows.append((f"  ({n_normals / 1e6:.1f} M float32 draws: numpy ziggurat)", t_zig, None, ""))
    rows.append((f"  ({n_normals / 1e6:.1f} M float32 draws: Box-Muller, as used)", t_bm, None, ""))

    print(f"LSTM batch {B}, input {I}, hidden {H}, {T} steps, float32, best of {args.repeats}, "
          f"BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"{'configuration':<58} {'time':>10} {'ratio':>7} {'limit':>6}  note")
    for label, t, limit, note in rows:
        ratio = t / t_dig
        lim = f"{limit:.1f}x" if limit else ""
        flag = "" if limit is None or ratio <= limit else "  OVER"
        print(f"{label:<58} {t * 1e3:>8.1f}ms {ratio:>6.2f}x {lim:>6}  {note}{flag}")
    print()
    print(f"{'read direction':<58} {'time':>10} {'ratio':>7} {'conversions/vector':>19} {'ratio per conversion':>21} {'limit':>6}")
    (lf, tf, cf), (lt, tt, ct) = rows_tr
    per = (tt / ct) / (tf / cf)
    print(f"{lf:<58} {tf * 1e3:>8.1f}ms {1.0:>6.2f}x {cf:>19d} {1.0:>20.2f}x")
    print(f"{lt:<58} {tt * 1e3:>8.1f}ms {tt / tf:>6.2f}x {ct:>19d} {per:>20.2f}x {'1.2x':>6}{'' if per <= 1.2 else '  OVER'}")


if __name__ == "__main__":
    main()
