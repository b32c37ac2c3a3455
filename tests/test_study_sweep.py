"""Studies: study files checked before anything runs, runs seeded by their coordinates, identical
result tables from every executor, resume after SIGKILL, failed runs recorded, exports and plots.

Independent references: the comparison of one run recomputed directly with `compare` on the same
hardware configuration; statistics recomputed with numpy; SQLite read back with the standard library.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from neurosim.analog import HardwareConfig
from neurosim.errors import ParameterError
from neurosim.study.spec import load_study
from neurosim.study.sweep import StudyResult, estimate, run_study

STUDY = """\
[study]
name = "small"
seed = 3

[network]
cell = "rnn"
hidden = 12

[task]
name = "mackey_glass"
steps = 80
train_steps = 300

[hardware]
device = "rram_softbounds_gong2018"
read_mode = "device"
dac_bits = 8

[[hardware.nonidealities]]
type = "ReadNoise"
sigma = 0.02

[sweep]
adc_bits = [4, 8]
"crossbar_options.levels" = [16, 64]

[monte_carlo]
repeats = 3
"""


def _table(result: StudyResult):
    return result.table()


# ------------------------------------------------------------------------------------- study files
def test_runs_coordinates_and_seeds():
    s = load_study(STUDY)
    runs = s.runs()
    assert s.n_runs == len(runs) == 12
    assert len({r.key for r in runs}) == 12 and len({r.seed for r in runs}) == 12
    assert runs[0].coords == {"adc_bits": 4, "crossbar_options.levels": 16, "repeat": 0}
    hw = s.hardware_config(runs[-1])
    assert hw.adc_bits == 8 and hw.crossbar_options["levels"] == 64 and hw.dac_bits == 8
    assert hw.nonidealities[0].sigma == 0.02 and hw.seed == runs[-1].seed
    # a run's seed is a function of the study seed and its coordinates only: reordering the axes in
    # the file, or adding another axis value, leaves the other runs' seeds unchanged
    reordered = STUDY.replace('adc_bits = [4, 8]\n"crossbar_options.levels" = [16, 64]',
                              '"crossbar_options.levels" = [16, 64]\nadc_bits = [8, 4, 6]')
    other = {r.key: r.seed for r in load_study(reordered).runs()}
    assert all(other[r.key] == r.seed for r in runs)
    assert load_study(STUDY.replace("seed = 3", "seed = 4")).runs()[0].seed != runs[0].seed


def test_every_kind_of_axis():
    text = STUDY.replace('"crossbar_options.levels" = [16, 64]',
                         '"nonidealities.read_noise.sigma" = [0.0, 0.05]\n"device.G_max" = [5e-5]\n"network.hidden" = [6]')
    s = load_study(text)
    run = s.runs()[-1]
    hw = s.hardware_config(run)
    assert hw.nonidealities[0].sigma == 0.05 and hw.device.G_max == 5e-5 and run.network["hidden"] == 6
    sampled = load_study(STUDY.replace("[monte_carlo]", '[sample]\nn = 4\nadc_noise = {low = 0.001, high = 0.1, log = true}\n'
                                                        '"crossbar_options.r_wire" = {choices = [0.5, 1.0]}\n[monte_carlo]'))
    assert sampled.n_runs == 2 * 2 * 4 * 3
    vals = [r.coords["adc_noise"] for r in sampled.runs()]
    assert all(0.001 <= v <= 0.1 for v in vals) and len(set(vals)) == 4
    assert {r.coords["crossbar_options.r_wire"] for r in sampled.runs()} <= {0.5, 1.0}


@pytest.mark.parametrize("edit, message", [
    (("[network]", "[netwrk]"), r"small.toml:5: unknown table \[netwrk\] \(did you mean 'network'\?\)"),
    (("hidden = 12", "hiden = 12"), r"small.toml:7: unknown key network.hiden \(did you mean 'hidden'\?\)"),
    (("hidden = 12", 'hidden = "twelve"'), r"small.toml:7: .*hidden must be an integer"),
    (("adc_bits = [4, 8]", "adc_bits = []"), r"small.toml:24: sweep axis 'adc_bits' must be a non-empty list"),
    (("adc_bits = [4, 8]", "adc_bitz = [4, 8]"), r"small.toml:24: axis 'adc_bitz' names no field \(did you mean 'adc_bits'\?\)"),
    (('"crossbar_options.levels"', '"crossbar_options.levls"'),
     r"small.toml:25: axis 'crossbar_options.levls' names no crossbar option \(did you mean 'levels'\?\)"),
    (('"crossbar_options.levels"', '"nonidealities.ReadNoise.sigmma"'),
     r"small.toml:25: .*ReadNoise has no field 'sigmma' \(did you mean 'sigma'\?\)"),
    (("adc_bits = [4, 8]", "adc_bits = [1, 8]"), r"small.toml:24: run .*adc_bits must be an integer in \[2, 24\]"),
    (('read_mode = "device"', 'read_mode = "devise"'), r"small.toml:16: \[hardware\]: .*read_mode must be one of"),
    (("repeats = 3", "repeats = 1000000000"), r"small.toml:\d+: the study has 4,000,000,000 runs, more than max_runs"),
    (("steps = 80", "steps = = 80"), r"small.toml: .*line 11"),
])
def test_malformed_study_files_are_refused_before_anything_runs(tmp_path, edit, message):
    path = tmp_path / "small.toml"
    path.write_text(STUDY.replace(*edit))
    with pytest.raises(ParameterError, match=message):
        run_study(path, tmp_path / "r.sqlite", executor="serial", progress=False)
    assert not (tmp_path / "r.sqlite").exists() or not sqlite3.connect(tmp_path / "r.sqlite").execute(
        "SELECT name FROM sqlite_master WHERE name = 'runs'").fetchall()


def test_a_huge_study_needs_yes():
    text = STUDY.replace("repeats = 3", "repeats = 1000000000")
    with pytest.raises(ParameterError, match="pass yes=True"):
        load_study(text)
    assert load_study(text, yes=True).n_runs == 4 * 10**9  # counted, not expanded


# ------------------------------------------------------------------------------------- running
def test_a_run_equals_compare_on_its_hardware(tmp_path):
    from neurosim.study import compare
    from neurosim.study.pipeline import make_cell, make_task, train_network

    res = run_study(STUDY, tmp_path / "r.sqlite", executor="serial", progress=False)
    assert len(res.rows) == 12 and all(r["status"] == "ok" for r in res.rows)
    s = load_study(STUDY)
    run = s.runs()[5]
    train, test = make_task("mackey_glass", 300, seed=3), make_task("mackey_glass", 80, seed=4)
    net = train_network(make_cell("rnn", 1, 12, seed=3), train, alpha=1e-2)
    input_range = float(max(np.abs(train.inputs).max(), np.abs(test.inputs).max()))
    hw = s.hardware_config(run).replace(input_range=input_range)
    direct = compare(net.cell, hw, test.inputs, test.targets, readout=net.readout, mask=test.mask).summary()
    row = next(r for r in res.rows if r["key"] == run.key)
    assert row["nrmse_analog"] == direct["nrmse_analog"] and row["hidden_rmse_mean"] == direct["hidden_rmse_mean"]
    # the axes act: 4-bit ADCs are worse than 8-bit ones on every seed and level count
    s4, s8 = res.summary("nrmse_analog", "adc_bits")[4], res.summary("nrmse_analog", "adc_bits")[8]
    assert s4["min"] > 2 * s8["max"]
    # the summary by hand
    vals = [r["nrmse_analog"] for r in res.rows if r["adc_bits"] == 8]
    assert s8["mean"] == pytest.approx(np.mean(vals), rel=1e-12) and s8["std"] == pytest.approx(np.std(vals, ddof=1), rel=1e-12)


def test_serial_process_pool_and_dask_give_identical_tables(tmp_path):
    from conftest import require

    dd = require("dask.distributed")
    serial = run_study(STUDY, tmp_path / "a.sqlite", executor="serial", progress=False)
    pool = run_study(STUDY, tmp_path / "b.sqlite", executor="process", workers=2, progress=False)
    with dd.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            dd.Client(cluster) as client:
        dask = run_study(STUDY, tmp_path / "c.sqlite", executor="dask", scheduler=client, progress=False)
    assert _table(serial) == _table(pool) == _table(dask)
    assert len(_table(serial)) == 12


def test_resume_skips_finished_runs_and_a_changed_study_is_refused(tmp_path):
    db = tmp_path / "r.sqlite"
    small = STUDY.replace("adc_bits = [4, 8]", "adc_bits = [4]")
    run_study(small, db, executor="serial", progress=False)
    with pytest.raises(ParameterError, match="holds study 'small' from a different study file"):
        run_study(STUDY, db, executor="serial", progress=False)
    first = sqlite3.connect(db).execute("SELECT key, finished FROM runs").fetchall()
    assert len(first) == 6
    # the same file again: nothing re-run
    again = run_study(small, db, executor="serial", progress=False)
    assert sqlite3.connect(db).execute("SELECT key, finished FROM runs").fetchall() == first
    assert len(again.rows) == 6
    # a changed file under another name is another study in the same database
    renamed = run_study(STUDY.replace('name = "small"', 'name = "bigger"'), db, executor="serial", progress=False)
    assert len(renamed.rows) == 12


def test_a_failing_run_is_recorded_and_the_study_goes_on(tmp_path):
    # read disturb needs devices with dynamics: with an ideal device the crossbar refuses at build time
    text = STUDY.replace('device = "rram_softbounds_gong2018"\n', "").replace(
        "[[hardware.nonidealities]]\ntype = \"ReadNoise\"\nsigma = 0.02\n", "").replace(
        '"crossbar_options.levels" = [16, 64]', "read_disturb = [false, true]")
    res = run_study(text, tmp_path / "r.sqlite", executor="serial", progress=False)
    bad = [r for r in res.rows if r["status"] == "failed"]
    assert len(bad) == 6 and all(r["read_disturb"] for r in bad)
    assert all("ParameterError: Crossbar: read_disturb needs" in r["error"] for r in bad)
    assert all(r["status"] == "ok" for r in res.rows if not r["read_disturb"])


def test_exports_plots_and_estimate(tmp_path):
    res = run_study(STUDY, tmp_path / "r.sqlite", executor="serial", progress=False)
    path = res.to_csv(tmp_path / "r.csv")
    lines = path.read_text().splitlines()
    assert len(lines) == 13 and lines[0].startswith("key,adc_bits,crossbar_options.levels,repeat,seed,status")
    try:
        import pandas  # noqa: F401 - optional
    except ImportError:
        from neurosim.errors import OptionalDependencyError

        with pytest.raises(OptionalDependencyError, match="needs pandas"):
            res.to_pandas()
    else:
        df = res.to_pandas()
        assert len(df) == 12 and list(df["nrmse_analog"]) == [r["nrmse_analog"] for r in res.table()]
    paths = res.plot("nrmse_analog", tmp_path / "plots")
    assert set(paths) == {"adc_bits", "crossbar_options.levels", "heatmap"}
    assert all(p.stat().st_size > 5000 and p.read_bytes()[:4] == b"\x89PNG" for p in paths.values())
    with pytest.raises(ParameterError, match="metric must be one of"):
        res.plot("nrmse", tmp_path)
    e = estimate(load_study(STUDY), tmp_path / "r.sqlite", workers=2)
    assert e["runs"] == 12 and e["pending"] == 0 and e["estimated_seconds"] == 0
    e = estimate(load_study(STUDY), None, workers=2)
    assert e["pending"] == 12 and e["estimated_seconds"] == pytest.approx(6 * e["seconds_per_run"])


def test_cli_sweep(tmp_path):
    from neurosim.cli import main

    path = tmp_path / "small.toml"
    path.write_text(STUDY)
    assert main(["sweep", str(path), "--dry-run"]) == 0
    assert not (tmp_path / "small.sqlite").exists()
    assert main(["sweep", str(path), "--executor", "serial", "--csv", str(tmp_path / "out.csv"),
                 "--plot", "nrmse_analog"]) == 0
    assert (tmp_path / "small.sqlite").exists() and (tmp_path / "out.csv").exists()
    assert (tmp_path / "small_plots" / "nrmse_analog_heatmap.png").exists()
    path.write_text(STUDY.replace("hidden = 12", "hiden = 12"))
    assert main(["sweep", str(path)]) == 2


_KILL_STUDY = STUDY.replace('name = "small"', 'name = "killed"').replace("repeats = 3", "repeats = 25")


def _count(db):
    try:
        return sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_gives_the_uninterrupted_table(tmp_path):
    path = tmp_path / "killed.toml"
    path.write_text(_KILL_STUDY)
    db = tmp_path / "killed.sqlite"
    cmd = [sys.executable, "-m", "neurosim", "sweep", str(path), "--db", str(db), "--executor", "serial"]
    rng = np.random.default_rng(7)
    counts = []
    for _ in range(10):
        before = _count(db)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while _count(db) == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)  # wait until this process writes, then kill it at a random point after
        time.sleep(float(rng.uniform(0.0, 0.15)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        counts.append(_count(db))
    assert 0 < counts[0] and counts[-1] < 100, counts  # killed in the middle, every time
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    resumed = run_study(path, db, executor="serial", progress=False)
    keys = [r["key"] for r in resumed.rows]
    assert len(keys) == len(set(keys)) == 100
    clean = run_study(path, tmp_path / "clean.sqlite", executor="serial", progress=False)
    assert _table(resumed) == _table(clean)
