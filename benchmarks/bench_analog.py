"""Analog execution speed: an LSTM on crossbars vs the same digital LSTM, in the same run.

Size of issue 6: batch 32, input 64, hidden 256, 100 steps, float32. Rows: the digital cell
(baseline), ``device`` mode without and with per-read noise, ``circuit`` mode with linear devices
after the one-time precompute (reported separately) and with a nonlinear device (cost reported).
Best of several repeats, the configurations timed in turn; the machine is shared, so figures are noisy.

The noisy read uses a second core when there is one (neurosim.analog.fastread: a helper thread computes
the noise while the read's GEMMs run; the draws are prefetched at idle priority). The row
``THREADS=False`` is the same read on one thread, i.e. its cost when the other core is busy.
Measured on this 2-core machine (best of 15, second core otherwise idle, several runs): digital
29-30 ms, noise-free device 43 ms (1.45x), noisy 73-84 ms (2.5-2.8x), noisy with THREADS=False 110 ms
(3.7-3.8x); before the second-core work the noisy read took 130 ms (4.3x). With a busy loop on the
other core the noisy read takes ~103-108 ms (3.4-3.6x): the 3x limit needs the spare core.

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
from neurosim.analog.fastread import FrozenRead  # noqa: E402
from neurosim.cells import LSTM  # noqa: E402
from neurosim.devices import ReadNoise  # noqa: E402


def best_interleaved(fns, repeats):
    """Best time of each function, timing them in turn (the machine's load hits all alike)."""
    times = [[] for _ in fns]
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return [min(t) for t in times]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test)")
    args = ap.parse_args()
    B, I, H, T = (4, 16, 32, 10) if args.quick else (32, 64, 256, 100)
    lstm = LSTM(I, H, seed=0)  # float32
    x = np.random.default_rng(0).uniform(-1, 1, size=(T, B, I)).astype(np.float32)
    configs = [
        ("device, 8-bit DAC/ADC, no noise", HardwareConfig(read_mode="device", dac_bits=8, adc_bits=8), 2.0),
        ("device, 8-bit, read noise 2 %", HardwareConfig(read_mode="device", dac_bits=8, adc_bits=8,
                                                          nonidealities=(ReadNoise(0.02),)), 3.0),
        ("circuit, linear devices, r_wire 1 ohm", HardwareConfig(read_mode="circuit", crossbar_options={"r_wire": 1.0}), 1.5),
    ]
    # the noisy read again, all on one thread: what it costs when the second core is busy
    configs.append(("device, 8-bit, read noise 2 %, THREADS=False", configs[1][1], None))
    analogs, setups = [], []
    for k, (_, hw, _) in enumerate(configs):
        FrozenRead.THREADS = k != len(configs) - 1  # read at programming time
        analog = to_analog(lstm, hw)
        t0 = time.perf_counter()
        analog(x[:1])  # programs every crossbar (and precomputes the circuit maps)
        setups.append(time.perf_counter() - t0)
        analogs.append(analog)
    FrozenRead.THREADS = True
    timings = best_interleaved([lambda: lstm(x)] + [lambda a=a: a(x) for a in analogs], args.repeats)
    t_dig = timings[0]
    rows = [("digital LSTM (numpy)", t_dig, None, "")]
    for (label, _, limit), t, t_setup in zip(configs, timings[1:], setups):
        rows.append((label, t, limit, f"one-time programming/precompute {t_setup:.2f} s"))

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
    (t_rng,) = best_interleaved([lambda: gen.standard_normal(n_normals, dtype=np.float32)], args.repeats)
    rows.append((f"  (floor of the noisy read: {n_normals / 1e6:.1f} M float32 Gaussian draws)", t_rng, None, ""))

    print(f"LSTM batch {B}, input {I}, hidden {H}, {T} steps, float32, best of {args.repeats}, "
          f"BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"{'configuration':<58} {'time':>10} {'ratio':>7} {'limit':>6}  note")
    for label, t, limit, note in rows:
        ratio = t / t_dig
        lim = f"{limit:.1f}x" if limit else ""
        flag = "" if limit is None or ratio <= limit else "  OVER"
        print(f"{label:<58} {t * 1e3:>8.1f}ms {ratio:>6.2f}x {lim:>6}  {note}{flag}")


if __name__ == "__main__":
    main()
