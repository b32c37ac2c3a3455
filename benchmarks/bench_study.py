"""Study throughput: a Monte Carlo study of 200 short runs on 1 and 2 workers, and its bookkeeping.

Rows (all in the same run, wall-clock time of `run_study` into a fresh database, so pool start-up,
network preparation on each worker, result shipping and the SQLite writes all count):

* serial, in-process (one worker): the baseline;
* local process pool, 1 worker and 2 workers: throughput ratio 2 vs 1 (target >= 1.7x); the pool's
  fork server, started once per session, is warmed up first and its start-up reported separately;
* Dask LocalCluster with 2 worker processes against the in-process worker (target >= 1.5x), the
  cluster started and neurosim imported on its workers beforehand (as on a user's running cluster),
  that start-up reported separately;
* bookkeeping per run (database write, seed derivation, scheduling): the serial wall time minus
  the runs' own compute time, per run, as a fraction of a run (target <= 5 %).

Each worker process uses one BLAS thread. Run: python benchmarks/bench_study.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads its BLAS; inherited by the workers

from neurosim.study.spec import load_study  # noqa: E402
from neurosim.study.sweep import run_study  # noqa: E402

STUDY = """\
[study]
name = "bench"
seed = 0
[network]
cell = "lstm"
hidden = 32
[task]
name = "mackey_glass"
steps = 300
[hardware]
device = "rram_softbounds_gong2018"
read_mode = "device"
dac_bits = 8
[[hardware.nonidealities]]
type = "ReadNoise"
sigma = 0.02
[sweep]
adc_bits = [4, 5, 6, 7, 8]
[monte_carlo]
repeats = {repeats}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs in the study (a multiple of 5)")
    args = ap.parse_args()
    study = load_study(STUDY.format(repeats=max(1, args.runs // 5)))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        def timed(name, **kw):
            t0 = time.perf_counter()
            res = run_study(study, os.path.join(tmp, f"{name}.sqlite"), progress=False, **kw)
            return time.perf_counter() - t0, res

        # the process pool's fork server (it imports neurosim once per session) is started by a
        # one-run warm-up, so that neither pool row pays it: it is reported on its own
        t0 = time.perf_counter()
        run_study(load_study(STUDY.format(repeats=1).replace("[4, 5, 6, 7, 8]", "[8]")), os.path.join(tmp, "warm.sqlite"),
                  executor="process", workers=1, progress=False)
        t_fork = time.perf_counter() - t0
        t_serial, res = timed("serial", executor="serial")
        compute = sum(r["t_run"] for r in res.rows)
        t_p1, _ = timed("p1", executor="process", workers=1)
        t_p2, _ = timed("p2", executor="process", workers=2)
        try:
            from dask.distributed import Client, LocalCluster

            t0 = time.perf_counter()
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
            client.run(__import__, "neurosim.study.sweep")  # a running cluster has imported neurosim already
            t_start = time.perf_counter() - t0
            t_dask, _ = timed("dask", executor="dask", scheduler=client)
            client.close()
            cluster.close()
        except ImportError:
            t_dask = t_start = float("nan")
    n = study.n_runs
    per_run = compute / n
    overhead = (t_serial - compute) / n
    print(f"Monte Carlo study: {n} runs (LSTM hidden 32, 300 steps, device mode), one BLAS thread per worker")
    print(f"{'executor':<44} {'wall time':>10} {'runs/s':>8} {'ratio':>7} {'target':>7}")
    rows = [
        ("serial, in-process (baseline)", t_serial, None, None),
        ("process pool, 1 worker", t_p1, None, None),
        ("process pool, 2 workers (vs 1 worker)", t_p2, t_p1 / t_p2, 1.7),
        ("Dask LocalCluster, 2 workers (vs in-process)", t_dask, t_serial / t_dask, 1.5),
    ]
    for label, t, ratio, target in rows:
        r = f"{ratio:.2f}x" if ratio is not None else ""
        flag = "" if target is None or ratio >= target else "  BELOW"
        print(f"{label:<44} {t:>9.2f}s {n / t:>8.1f} {r:>7} {('>=' + str(target) + 'x') if target else '':>7}{flag}")
    print(f"one-time start-up, not counted above: process pool fork server + first run {t_fork:.2f} s, "
          f"Dask cluster {t_start:.2f} s")
    print(f"bookkeeping per run: {overhead * 1e3:.2f} ms = {100 * overhead / per_run:.1f} % of a run "
          f"({per_run * 1e3:.1f} ms compute; target <= 5 %)")


if __name__ == "__main__":
    main()
