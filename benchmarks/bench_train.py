"""Training speed: BPTT forward + backward against torch CPU autograd, and the GA's vectorized population.

Run: ``PYTHONPATH=. python benchmarks/bench_train.py``. Shape (batch, time, input, hidden) =
(32, 100, 64, 256), float32, loss sum(output * C) so both sides do the same work.
"""

from __future__ import annotations

import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from timing import best_interleaved  # noqa: E402

from neurosim.cells import GRU, LSTM, RNN  # noqa: E402
from neurosim.train import backward, forward  # noqa: E402

LIMITS = {"LSTM": 2.0, "GRU": 1.5, "RNN": 1.5}


def bench_bptt(repeats=5):
    import torch

    B, T, I, H = 32, 100, 64, 256
    rows = []
    for kind, cls in (("LSTM", LSTM), ("GRU", GRU), ("RNN", RNN)):
        cell = cls(I, H, seed=0)
        r = np.random.default_rng(0)
        x = r.normal(size=(T, B, I)).astype(np.float32)
        C = r.normal(size=(T, B, H)).astype(np.float32)
        m = getattr(torch.nn, kind)(I, H)
        m.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in cell.params.items()})
        xt, Ct = torch.from_numpy(x), torch.from_numpy(C)

        def ours():
            tr = forward(cell, x)
            return backward(tr, C)

        def theirs():
            m.zero_grad()
            (m(xt)[0] * Ct).sum().backward()

        t_ours, t_torch = best_interleaved([ours, theirs], repeats)
        rows.append((kind, t_torch, t_ours, t_ours / t_torch, LIMITS[kind]))
    return rows


def bench_ga(repeats=3):
    from neurosim.cells import Elman
    from neurosim.train.globalopt import population_mse
    from neurosim.tasks import sine_generation

    task = sine_generation(n_steps=500, batch_size=1, seed=0)
    cell = Elman(1, 8, 1, dtype=np.float64, seed=0)
    from neurosim.train.globalopt import flat_params, set_flat

    theta = flat_params(cell)
    pop = theta + np.random.default_rng(0).normal(size=(64, theta.size)) * 0.1

    def vectorized():
        return population_mse(cell, pop, task.inputs, task.targets, task.mask)

    def loop():
        out = np.empty(len(pop))
        for k, th in enumerate(pop):
            set_flat(cell, th)
            y = cell(task.inputs)[0][0]
            e = (y - task.targets)[task.mask]
            out[k] = np.mean(e ** 2)
        set_flat(cell, theta)
        return out

    np.testing.assert_allclose(vectorized(), loop(), rtol=1e-9)
    t_vec, t_loop = best_interleaved([vectorized, loop], repeats)
    return t_loop, t_vec


def main():
    print("BPTT forward + backward, (batch, time, input, hidden) = (32, 100, 64, 256), float32")
    print(f"{'cell':6s} {'torch (ms)':>11s} {'neurosim (ms)':>14s} {'ratio':>7s} {'limit':>6s}")
    for kind, tt, to, ratio, lim in bench_bptt():
        print(f"{kind:6s} {tt * 1e3:11.1f} {to * 1e3:14.1f} {ratio:7.2f} {lim:6.1f}  {'ok' if ratio <= lim else 'OVER'}")
    try:
        t_loop, t_vec = bench_ga()
    except ImportError:
        return
    print()
    print("GA fitness of a population of 64 Elman(1, 8, 1) networks, sine generation (500 steps, one sequence)")
    print(f"{'loop (ms)':>10s} {'vectorized (ms)':>16s} {'speed-up':>9s} {'limit':>6s}")
    s = t_loop / t_vec
    print(f"{t_loop * 1e3:10.1f} {t_vec * 1e3:16.1f} {s:9.1f} {'>=10':>6s}  {'ok' if s >= 10 else 'UNDER'}")


if __name__ == "__main__":
    main()
