r"""Run a study: every run of a study file through :func:`~neurosim.study.compare`, results in SQLite.

Each run trains nothing new: the network (a reservoir with a ridge readout, built and trained from
the study seed exactly as ``neurosim compare`` does) and the task data are made once per process and
shared by every run with the same network and task tables; a run is one analog-vs-digital
comparison on its own hardware configuration and device seed.

Executors (``executor=``):

``"serial"``
    in this process, one run after the other;
``"process"`` (default)
    a local process pool of ``workers`` processes, forked from a clean server process that imported
    neurosim once (``forkserver``; nothing inherited from the caller), ``spawn`` where that is missing;
``"dask"``
    a ``dask.distributed`` cluster: ``scheduler`` is its address (``"tcp://host:8786"``) or a
    ``Client``; the study description is broadcast once to the workers.

Results do not depend on the executor, the number of workers or the order runs finish in: every
run's randomness comes from its own coordinates (:mod:`neurosim.study.spec`). Runs are written to
the store as they finish; running a study again skips the runs already recorded, so a killed study
resumes where it stopped. A run that raises is recorded as failed with its error text.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Param, check_params
from neurosim.study.spec import Run, Study, _plain_hardware, load_study
from neurosim.study.store import ResultStore

__all__ = ["run_study", "StudyResult", "estimate", "evaluate_run"]

_PARAMS = {
    "executor": Param("choice", choices=("serial", "process", "dask")),
    "workers": Param("int", low=1, high=4096, optional=True),
}

# per process: the prepared network and data of each (network, task) table, and the study payload
_PREPARED: dict = {}
_PAYLOAD: dict | None = None


def _payload(study: Study) -> dict:
    """What a worker needs besides the run: plain data only (weights loaded here, not on the worker)."""
    weights = None
    if study.network.get("weights"):
        from neurosim.cells.io import load_npz_state_dict

        path = Path(study.network["weights"])
        weights = dict(load_npz_state_dict(path if path.is_absolute() else Path(study.base_dir) / path))
    return {"seed": study.seed, "weights": weights}


def _prepare(payload: dict, network: dict, task: dict):
    """The trained network and test data of one (network, task) table pair, built once per process."""
    key = json.dumps([network, task, payload["seed"]], sort_keys=True)
    hit = _PREPARED.get(key)
    if hit is not None:
        return hit
    from neurosim.study.pipeline import make_cell, make_task, train_network

    seed = payload["seed"]
    regression_like = task["name"] in ("narma10", "mackey_glass", "sine")
    steps = task["steps"]
    n_train = task.get("train_steps", max(steps, 1000) if regression_like else steps)
    train = make_task(task["name"], n_train, seed=seed, batch_size=256 if task["name"] in ("adding", "copy") else None)
    test = make_task(task["name"], steps, seed=seed + 1)
    cell = make_cell(network["cell"], train.n_inputs, network["hidden"], output_size=train.n_outputs,
                     spectral_radius=network["spectral_radius"], seed=seed)
    if payload.get("weights") is not None:
        cell.load_state_dict(payload["weights"])
    net = train_network(cell, train, alpha=network["alpha"])
    input_range = float(max(np.max(np.abs(train.inputs)), np.max(np.abs(test.inputs)), 1e-12))
    _PREPARED[key] = (net, test, input_range)
    return _PREPARED[key]


def evaluate_run(payload: dict, run: Run) -> dict:
    """One run: the comparison's summary figures, or the error that stopped it.

    Returns
    -------
    dict
        ``{"status": "ok" | "failed", "metrics": dict | None, "error": str | None, "t_run": seconds}``.
    """
    from neurosim.analog.hardware import HardwareConfig
    from neurosim.study.compare import compare

    t0 = time.perf_counter()
    try:
        net, test, input_range = _prepare(payload, run.network, run.task)
        plain = _plain_hardware(run.hardware)
        plain.setdefault("input_range", input_range)
        hw = HardwareConfig.from_dict(plain)
        result = compare(net.cell, hw, test.inputs, test.targets, readout=net.readout, mask=test.mask, kind=test.kind)
        metrics = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in result.summary().items()}
        return {"status": "ok", "metrics": metrics, "error": None, "t_run": time.perf_counter() - t0}
    except Exception as exc:  # noqa: BLE001 - a failing run is recorded, the study goes on
        return {"status": "failed", "metrics": None, "error": f"{type(exc).__name__}: {exc}"[:2000],
                "t_run": time.perf_counter() - t0}


def _evaluate_chunk(payload: dict, runs: list[Run]) -> list[dict]:
    return [evaluate_run(payload, run) for run in runs]


def _init_worker(payload: dict) -> None:
    global _PAYLOAD
    _PAYLOAD = payload


def _evaluate_in_worker(run: Run) -> dict:
    return evaluate_run(_PAYLOAD, run)


class StudyResult:
    """The recorded runs of a study (a plain table; CSV, pandas and plots from it).

    Attributes
    ----------
    study : Study
    rows : list of dict
        One dict per recorded run: coordinates, ``seed``, ``status``, metrics, ``error``, ``t_run``.
    """

    def __init__(self, study: Study, rows: list[dict]):
        self.study = study
        self.rows = rows

    @property
    def axes(self) -> list[str]:
        """The swept and sampled axes."""
        return list(self.study.grid) + [k for k in self.study.sample if k != "n"]

    def table(self, columns: list[str] | None = None, sort: bool = True) -> list[dict]:
        """Rows restricted to ``columns`` (default all but ``t_run``), sorted by run key.

        The default columns hold nothing that depends on the machine or the executor, so tables of
        the same study compare equal across executors.
        """
        rows = sorted(self.rows, key=lambda r: r["key"]) if sort else list(self.rows)
        if columns is None:
            return [{k: v for k, v in r.items() if k != "t_run"} for r in rows]
        return [{k: r.get(k) for k in columns} for r in rows]

    def to_csv(self, path) -> Path:
        """Write every row (all columns) as CSV; returns the path."""
        path = Path(path)
        cols: list[str] = []
        for r in self.rows:
            cols += [k for k in r if k not in cols]
        with path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            for r in self.table(sort=True):
                w.writerow({k: r.get(k) for k in cols})
        return path

    def to_pandas(self):
        """The rows as a ``pandas.DataFrame`` (pandas is optional).

        Raises
        ------
        OptionalDependencyError
            pandas is not installed.
        """
        try:
            import pandas as pd
        except ImportError:
            from neurosim.errors import OptionalDependencyError

            raise OptionalDependencyError("StudyResult.to_pandas needs pandas (pip install pandas); "
                                          "StudyResult.table() gives the same rows as dicts") from None
        return pd.DataFrame(self.table())

    def metric_names(self) -> list[str]:
        """Numeric result columns."""
        skip = set(self.axes) | {"key", "seed", "status", "error", "t_run", "repeat", "sample"}
        names: list[str] = []
        for r in self.rows:
            names += [k for k, v in r.items() if k not in skip and k not in names and isinstance(v, (int, float))]
        return names

    def summary(self, metric: str, axis: str) -> dict:
        """Mean, standard deviation, min and max of ``metric`` per value of ``axis`` (over all other
        axes and the repeats; failed runs left out)."""
        groups: dict = {}
        for r in self.rows:
            v = r.get(metric)
            if r["status"] == "ok" and v is not None:
                groups.setdefault(r[axis], []).append(float(v))
        out = {}
        for value in sorted(groups, key=lambda x: (isinstance(x, str), x)):
            a = np.array(groups[value])
            out[value] = {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if a.size > 1 else 0.0,
                          "min": float(a.min()), "max": float(a.max()), "n": int(a.size)}
        return out

    def save_html(self, metric: str, directory) -> Path:
        """A self-contained HTML report of ``metric`` (tables, plots inline, the study file)."""
        return save_study_html(self, metric, directory)

    def plot(self, metric: str, directory) -> dict:
        """PNG figures of ``metric``: against each axis (mean with the spread over seeds and the other
        axes as a band, min-max as dots) and, for two grid axes, a heat map of the mean.

        Returns
        -------
        dict of str to pathlib.Path
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        if metric not in self.metric_names():
            raise ParameterError(f"StudyResult.plot: metric must be one of {self.metric_names()}, got {metric!r}")
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = {}
        for axis in self.axes:
            s = self.summary(metric, axis)
            x = np.array([float(v) if not isinstance(v, str) else i for i, v in enumerate(s)])
            mean = np.array([d["mean"] for d in s.values()])
            std = np.array([d["std"] for d in s.values()])
            fig, ax = plt.subplots(figsize=(5, 3.5))
            ax.plot(x, mean, "o-", label="mean")
            ax.fill_between(x, mean - std, mean + std, alpha=0.25, label="± 1 std (seeds, other axes)")
            ax.plot(x, [d["min"] for d in s.values()], "k.", ms=3)
            ax.plot(x, [d["max"] for d in s.values()], "k.", ms=3, label="min / max")
            ax.set(xlabel=axis, ylabel=metric, title=f"{self.study.name}: {metric} vs {axis}")
            ax.legend(fontsize=7)
            fig.tight_layout()
            paths[axis] = out / f"{metric}_vs_{axis.replace('.', '_')}.png"
            fig.savefig(paths[axis], dpi=110)
            plt.close(fig)
        grid = list(self.study.grid)
        if len(grid) == 2:
            a, b = grid
            va, vb = self.study.grid[a], self.study.grid[b]
            M = np.full((len(va), len(vb)), np.nan)
            for i, x in enumerate(va):
                for j, y in enumerate(vb):
                    vals = [r[metric] for r in self.rows if r["status"] == "ok" and r.get(a) == x and r.get(b) == y
                            and r.get(metric) is not None]
                    if vals:
                        M[i, j] = float(np.mean(vals))
            fig, ax = plt.subplots(figsize=(5, 4))
            im = ax.imshow(M, origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(len(vb)), [str(v) for v in vb])
            ax.set_yticks(range(len(va)), [str(v) for v in va])
            ax.set(xlabel=b, ylabel=a, title=f"mean {metric}")
            fig.colorbar(im, ax=ax)
            fig.tight_layout()
            paths["heatmap"] = out / f"{metric}_heatmap.png"
            fig.savefig(paths["heatmap"], dpi=110)
            plt.close(fig)
        return paths


def save_study_html(result: "StudyResult", metric: str, directory) -> Path:
    """``<study name>.html`` in ``directory``: the runs' summary per axis, the plots of ``metric``
    inline, failed runs with their errors, and the study file, in one self-contained page."""
    from neurosim.study.html import html_page, png_tag, table_html

    out = Path(directory)
    plots = result.plot(metric, out)
    sections = []
    for axis in result.axes:
        s = result.summary(metric, axis)
        rows = [[str(v), d["mean"], d["std"], d["min"], d["max"], d["n"]] for v, d in s.items()]
        sections.append((f"{metric} vs {axis}", table_html(rows, [axis, "mean", "std", "min", "max", "runs"])
                         + png_tag(plots[axis], f"{metric} vs {axis}")))
    if "heatmap" in plots:
        sections.append(("Heat map", png_tag(plots["heatmap"], f"mean {metric}")))
    failed = [[r["key"], r["error"]] for r in result.rows if r["status"] == "failed"]
    if failed:
        sections.append((f"Failed runs ({len(failed)})", table_html(failed, ["run", "error"])))
    import html as _html

    sections.append(("Study file", f"<pre>{_html.escape(result.study.text)}</pre>"))
    path = out / f"{result.study.name}.html"
    title = f"neurosim study {result.study.name}: {len(result.rows)} runs"
    path.write_text(html_page(title, sections), encoding="utf-8")
    return path


def estimate(study: Study, db=None, workers: int | None = None) -> dict:
    """What a run of the study would do: runs in total, runs still to do, and an estimated time.

    The time is one run measured in this process (its network prepared first, not counted) times
    the pending runs, divided by the workers.

    Returns
    -------
    dict
        ``{"runs", "pending", "seconds_per_run", "estimated_seconds", "workers"}``.
    """
    runs = study.runs()
    done: set = set()
    if db is not None and Path(db).exists():
        store = ResultStore(db)
        try:
            done = store.finished(store.study_id(study))
        finally:
            store.close()
    pending = [r for r in runs if r.key not in done]
    workers = workers or _default_workers()
    payload = _payload(study)
    t_run = 0.0
    if pending:
        _prepare(payload, pending[0].network, pending[0].task)
        t_run = evaluate_run(payload, pending[0])["t_run"]
    return {"runs": len(runs), "pending": len(pending), "seconds_per_run": t_run,
            "estimated_seconds": t_run * len(pending) / workers, "workers": workers}


def _default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def run_study(study, db="study.sqlite", *, executor: str = "process", workers: int | None = None, scheduler=None,
              yes: bool = False, progress: bool | None = None) -> StudyResult:
    r"""Run every run of a study not yet in the result store, and return all recorded runs.

    .. math:: \text{runs} = \text{grid} \times \text{samples} \times \text{repeats}, \qquad
              \text{seed}_{run} = \mathrm{derive}(\text{seed}, \text{"run"}, \text{coordinates})

    Parameters
    ----------
    study : Study, str or path-like
        A :class:`~neurosim.study.spec.Study`, a study file or its TOML text (checked first).
    db : str or path-like
        SQLite result file (created if missing; re-running resumes).
    executor : {"serial", "process", "dask"}
    workers : int, optional
        Processes of the pool (default: the CPUs available); ignored by ``serial`` and ``dask``.
    scheduler : str or dask.distributed.Client, optional
        The Dask cluster (``executor="dask"``).
    yes : bool
        Accept a study of more than ``max_runs`` runs.
    progress : bool, optional
        A tqdm progress bar with the estimated time left; default: when stderr is a terminal.

    Returns
    -------
    StudyResult

    Raises
    ------
    ParameterError
        A bad study file or argument, or a database holding another version of the study.
    OptionalDependencyError
        ``executor="dask"`` without dask.distributed installed.

    Examples
    --------
    >>> import tempfile, os
    >>> text = '[study]\nname = "doc"\n[network]\nhidden = 8\n[task]\nsteps = 50\n[sweep]\nadc_bits = [4, 8]\n'
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     res = run_study(text, os.path.join(tmp, "r.sqlite"), executor="serial", progress=False)
    >>> [(r["adc_bits"], r["status"]) for r in res.table()]
    [(4, 'ok'), (8, 'ok')]
    """
    p = check_params("run_study", _PARAMS, dict(executor=executor, workers=workers))
    if not isinstance(study, Study):
        study = load_study(study, yes=yes)
    store = ResultStore(db)
    try:
        sid = store.study_id(study)
        done = store.finished(sid)
        pending = [r for r in study.runs() if r.key not in done]
        payload = _payload(study)
        bar = _progress(len(pending), study.name, progress)
        try:
            for run, outcome in _execute(p["executor"], p["workers"], scheduler, payload, pending):
                store.record(sid, run, outcome)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return StudyResult(study, store.rows(sid))
    finally:
        store.close()


def _progress(total: int, name: str, progress: bool | None):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="run")


def _execute(executor: str, workers: int | None, scheduler, payload: dict, runs: list[Run]):
    """Yield ``(run, outcome)`` as runs finish."""
    if not runs:
        return
    if executor == "serial":
        for run in runs:
            yield run, evaluate_run(payload, run)
        return
    if executor == "process":
        import concurrent.futures
        import multiprocessing

        n = min(workers or _default_workers(), len(runs))
        # forkserver: workers fork from a clean server process that imported neurosim once (fast
        # start, no threads or state inherited from the caller); spawn where it does not exist
        if "forkserver" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["neurosim.study.sweep"])
        else:  # pragma: no cover - Windows
            ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker,
                                                    initargs=(payload,)) as pool:
            futures = {pool.submit(_evaluate_in_worker, run): run for run in runs}
            for fut in concurrent.futures.as_completed(futures):
                yield futures[fut], fut.result()
        return
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        from neurosim.errors import OptionalDependencyError

        raise OptionalDependencyError("run_study: executor='dask' needs dask.distributed "
                                      "(pip install 'dask[distributed]')") from None
    if scheduler is None:
        raise ParameterError("run_study: executor='dask' needs scheduler (an address such as 'tcp://host:8786' or a "
                             "dask.distributed.Client)")
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        shared = client.scatter(payload, broadcast=True)
        # runs go out in small chunks: a task per run costs the scheduler and the network more than
        # a short run itself; ~8 chunks per worker keep the load balanced
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        size = max(1, min(16, len(runs) // (8 * n_workers)))
        chunks = [runs[i : i + size] for i in range(0, len(runs), size)]
        futures = client.map(_evaluate_chunk, [shared] * len(chunks), chunks, pure=False)
        index = {f.key: chunk for f, chunk in zip(futures, chunks)}
        for fut, outcomes in as_completed(futures, with_results=True):
            yield from zip(index[fut.key], outcomes)
    finally:
        if client is not scheduler:
            client.close()
