"""Liquid state machine: a 1000-neuron liquid (20x10x5) for 1 s through neurosim vs a hand-written brian2 script.

Both simulate the same network (the hand script reads neurosim's drawn connectivity and parameters
and writes the brian2 objects itself, with the same equations), the same 10 Hz Poisson input on
4 channels, the same target and dt = 0.1 ms. Reported: the first run (build + code generation /
compilation + 1 s), the best steady-state per-stimulus run (restore + run 1 s) of ``--repeats``,
interleaved, and ten stimuli through ``run_many`` with the number of builds it took.

Run: python benchmarks/bench_lsm.py [--target auto|cython|numpy] [--repeats N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from neurosim.dynamics._brian import brian2_prefs, resolve_target
from neurosim.dynamics.lsm import LiquidStateMachine, poisson_encode
from timing import best_interleaved

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from brian2_reference import hand_written_liquid  # noqa: E402  (the tests' hand-written liquid)

SHAPE, N_IN, DUR = (20, 10, 5), 4, 1.0


def hand_script(lsm, idx, times, target):
    """A plain brian2 script of the same network (returns a callable that runs one stimulus)."""
    import brian2 as b2
    from brian2 import second

    b2.prefs.codegen.target = target
    net, mon = hand_written_liquid(b2, lsm, idx, times)
    net.store()
    net.run(DUR * second)
    n_first = mon.num_spikes

    def again():
        net.restore()
        net.run(DUR * second)
        return mon.num_spikes

    return again, n_first


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="auto")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    target = resolve_target(args.target)
    idx, times = poisson_encode(np.full((int(DUR / 1e-3), N_IN), 10.0), 1e-3, seed=0)
    stim = (idx, times)

    lsm = LiquidStateMachine(shape=SHAPE, n_inputs=N_IN, seed=0, target=target)
    t0 = time.perf_counter()
    r = lsm.run(stim, DUR)
    first_ours = time.perf_counter() - t0
    with brian2_prefs(target):  # same cache dir, prefs restored afterwards
        t0 = time.perf_counter()
        again, n_hand = hand_script(lsm, idx, times, target)
        first_hand = time.perf_counter() - t0
        ours, hand = best_interleaved([lambda: lsm.run(stim, DUR), again], args.repeats)
    assert n_hand == len(r.t), (n_hand, len(r.t))

    stimuli = [poisson_encode(np.full((int(DUR / 1e-3), N_IN), 10.0), 1e-3, seed=k) for k in range(10)]
    lsm10 = LiquidStateMachine(shape=SHAPE, n_inputs=N_IN, seed=0, target=target)
    t0 = time.perf_counter()
    lsm10.run_many(stimuli, DUR)
    ten = time.perf_counter() - t0

    print(f"LSM {lsm.n_neurons} neurons, {len(lsm.pre)} synapses, {DUR} s, target {target}, "
          f"{len(r.t)} liquid spikes (hand script: {n_hand})")
    print(f"{'':34s} {'hand brian2':>12s} {'neurosim':>10s} {'ratio':>7s}")
    print(f"{'first run (build+compile+run), s':34s} {first_hand:12.3f} {first_ours:10.3f} {first_ours / first_hand:7.2f}")
    print(f"{'per stimulus (restore+run), s':34s} {hand:12.3f} {ours:10.3f} {ours / hand:7.2f}")
    print(f"ten stimuli through run_many: {ten:.3f} s, builds: {lsm10.n_builds}")


if __name__ == "__main__":
    main()
